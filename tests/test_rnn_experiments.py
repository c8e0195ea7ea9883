"""rnnlab.rnn_experiments: gradient-flow measurements, the delayed-copy clipping run, stacking and timing."""
import numpy as np
import pytest

from nb_solutions import lstm
from rnnlab import numerical_gradient, rel_error
from rnnlab import rnn_experiments as rx
from rnn_oracles import tanh_rnn_numpy
from rnngrade.oracles.lstm import clip_reference as clip_by_norm_oracle


def test_orthogonal_has_unit_singular_values():
    q = rx.orthogonal(6, np.random.default_rng(0))
    np.testing.assert_allclose(np.linalg.svd(q, compute_uv=False), np.ones(6), atol=1e-12)


def test_torch_rnn_grad_norms_match_numerical_gradient():
    rng = np.random.default_rng(1)
    N, T, D, H = 2, 5, 3, 4
    x, h0, v = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    Wx, Wh, b = rng.normal(size=(D, H)), rng.normal(size=(H, H)) * 0.7, rng.normal(size=H)
    lengths = [1, 3, 5]
    norms = rx.torch_rnn_grad_norm_vs_length((Wx, Wh, b), x, h0, lengths, v)
    for T_, got in zip(lengths, norms):
        dh0 = numerical_gradient(lambda h: np.sum(tanh_rnn_numpy(x[:, :T_], h, Wx, Wh, b)[:, -1] * v), h0)
        assert got == pytest.approx(np.linalg.norm(dh0, axis=1).mean(), rel=1e-7)


def test_grad_norm_vs_length_with_the_solution_lstm_agrees_with_numerical():
    ns = lstm()
    rng = np.random.default_rng(2)
    N, T, D, H = 2, 4, 3, 3
    x, h0, v = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    params = (rng.normal(size=(D, 4 * H)), rng.normal(size=(H, 4 * H)), rng.normal(size=4 * H))
    got = rx.grad_norm_vs_length(ns["lstm_forward"], ns["lstm_backward"], params, x, h0, [2, 4], v)
    for T_, g in zip([2, 4], got):
        dh0 = numerical_gradient(lambda h: np.sum(ns["lstm_forward"](x[:, :T_], h, *params)[0][:, -1] * v), h0)
        assert g == pytest.approx(np.linalg.norm(dh0, axis=1).mean(), rel=1e-6)


def test_delayed_copy_hands_course_layout_gradients_to_clip_fn():
    H, T, delay, batch = 6, 8, 2, 4
    seen = []

    def spy(grads, max_norm):
        seen.append({k: v.copy() for k, v in grads.items()})
        return clip_by_norm_oracle(grads, max_norm)

    losses, norms = rx.train_delayed_copy(spy, 0.1, 1.0, 3, H=H, T=T, delay=delay, batch=batch, seed=4)
    assert len(losses) == len(norms) == 3
    first = seen[0]
    assert {k: v.shape for k, v in first.items()} == {"Wx": (1, H), "Wh": (H, H), "b": (H,), "Wy": (H, 1),
                                                     "by": (1,)}
    # oracle: the same initial weights and first batch, drawn in the documented order, and a NumPy loss
    rng = np.random.default_rng(4)
    p = {"Wx": rng.standard_normal((1, H)), "Wh": rx.orthogonal(H, rng), "b": np.zeros(H)}
    p["Wy"], p["by"] = rng.standard_normal((1, H)).T / np.sqrt(H), np.zeros(1)
    x, y = rx.delayed_copy_batch(rng, batch, T, delay)

    def loss(**changed):
        q = {**p, **changed}
        h = tanh_rnn_numpy(x, np.zeros((batch, H)), q["Wx"], q["Wh"], q["b"])
        return np.mean(((h @ q["Wy"] + q["by"] - y)[:, delay:]) ** 2)

    assert losses[0] == pytest.approx(loss(), rel=1e-12)
    for k in p:
        assert rel_error(first[k], numerical_gradient(lambda v, k=k: loss(**{k: v}), p[k])) < 1e-6, k
    assert norms[0] == pytest.approx(np.sqrt(sum(np.sum(g ** 2) for g in first.values())))


def test_delayed_copy_clipping_rescues_a_diverging_run(capsys):
    free, _ = rx.train_delayed_copy(clip_by_norm_oracle, 0.3, None, 60)
    clipped, norms = rx.train_delayed_copy(clip_by_norm_oracle, 0.3, 1.0, 60)
    assert len(free) < 60 and "diverged" in capsys.readouterr().out
    assert len(clipped) == 60 and np.isfinite(clipped).all()


def test_stacked_gradient_check_passes_the_solution_and_catches_a_wrong_backward():
    ns = lstm()
    errors = rx.stacked_gradient_check(ns["lstm_forward"], ns["lstm_backward"])
    assert len(errors) == 1 + 3 * 4 and max(errors.values()) < 1e-5

    def wrong_backward(dh, cache):
        dx, dh0, dWx, dWh, db = ns["lstm_backward"](dh, cache)
        return dx, dh0, dWx, 2 * dWh, db
    errors = rx.stacked_gradient_check(ns["lstm_forward"], wrong_backward)
    assert errors["layer 0 dWh"] > 0.1 and errors["dx"] < 1e-5


def test_time_against_torch_lstm_reports_positive_times():
    ns = lstm()
    out = rx.time_against_torch_lstm(ns["lstm_forward"], ns["lstm_backward"], N=2, T=3, D=4, H=4, repeats=1)
    assert out["numpy_s"] > 0 and out["torch_s"] > 0 and out["grad_dtype"] == "float32"
