"""rnnlab.rnn_recipes: the character model of notebook 01 assembled from the (solution's) layers."""
import numpy as np
import pytest
import torch

from nb_solutions import vanilla_rnn
from rnnlab import CharVocab, numerical_gradient, rel_error
from rnnlab import rnn_recipes as recipes


@pytest.fixture(scope="module")
def layers():
    ns = vanilla_rnn()
    return recipes.CharRNNLayers(**{name: ns[name] for name in recipes.CharRNNLayers.__dataclass_fields__})


def test_char_rnn_loss_gradients_match_numerical(layers):
    rng = np.random.default_rng(0)
    params = recipes.init_char_rnn(V=5, D=3, H=4, seed=2)
    params["h0"] = rng.normal(size=4)
    x, y = rng.integers(5, size=(2, 4)), rng.integers(5, size=(2, 4))
    mask = np.array([[True, True, True, True], [True, True, False, False]])
    for h_start in (None, rng.normal(size=(2, 4))):
        _, grads, h_last = recipes.char_rnn_loss(layers, params, x, y, mask, h_start=h_start)
        assert h_last.shape == (2, 4)
        for name in params:
            num = numerical_gradient(
                lambda v, name=name: recipes.char_rnn_loss(layers, {**params, name: v}, x, y, mask, h_start)[0],
                params[name])
            assert rel_error(grads[name], num) < 1e-6, name
    # a carried state is a constant: h0 gets no gradient
    assert np.all(grads["h0"] == 0)


def test_make_chunks_cover_the_stream_once():
    ids = np.arange(1, 60)
    chunks = recipes.make_chunks(ids, T=25)
    xs = np.concatenate([x[m] for x, _, m in chunks])
    ys = np.concatenate([y[m] for _, y, m in chunks])
    np.testing.assert_array_equal(xs, ids[:-1])
    np.testing.assert_array_equal(ys, ids[1:])
    assert all(x.shape == (1, 25) for x, _, _ in chunks)
    assert chunks[-1][2].sum() == (len(ids) - 1) % 25


@pytest.mark.parametrize("max_norm", [None, 0.5])
def test_adam_matches_torch(max_norm):
    rng = np.random.default_rng(1)
    params = {"a": rng.normal(size=(3, 2)), "b": rng.normal(size=4)}
    tparams = [torch.tensor(params[k].copy(), requires_grad=True) for k in params]
    opt_t = torch.optim.Adam(tparams, lr=0.01)
    opt = recipes.Adam(params, lr=0.01, max_grad_norm=max_norm)
    for _ in range(5):
        grads = {k: 3 * params[k] + 1 for k in params}          # gradient of a quadratic
        norm = opt.step(params, grads)
        opt_t.zero_grad()
        for t in tparams:
            t.grad = 3 * t.detach() + 1
        torch_norm = torch.nn.utils.clip_grad_norm_(tparams, max_norm if max_norm else float("inf"))
        opt_t.step()
        assert norm == pytest.approx(float(torch_norm), rel=1e-10)
    for k, t in zip(params, tparams):
        np.testing.assert_allclose(params[k], t.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_training_lowers_the_loss_and_greedy_sampling_is_deterministic(layers):
    text = recipes.POEM[:120]
    vocab = CharVocab(text)
    params = recipes.init_char_rnn(len(vocab), 8, 24, seed=0)
    chunks = recipes.make_chunks(vocab.encode(text), 20)
    losses = recipes.train_char_rnn(layers, params, chunks, 15, recipes.Adam(params, lr=1e-2))
    assert len(losses) == 15 and losses[-1] < 0.5 * losses[0]
    a = recipes.sample_text(layers, params, vocab, "T", 30, temperature=0)
    b = recipes.sample_text(layers, params, vocab, "T", 30, temperature=0, seed=5)
    assert a == b and len(a) == 31 and set(a) <= set(vocab.chars)
    per_step = recipes.first_step_losses(layers, params, *chunks[0][:2], params["h0"][None], 5)
    total, _, _ = recipes.char_rnn_loss(layers, params, chunks[0][0], chunks[0][1],
                                        np.arange(20)[None] < 5)
    assert sum(per_step) == pytest.approx(total)


def test_gradient_norms_back_in_time_match_autograd(layers):
    rng = np.random.default_rng(3)
    T, D, H = 7, 3, 5
    x, Wx, Wh = rng.normal(size=(1, T, D)), rng.normal(size=(D, H)), rng.normal(size=(H, H))
    b, g = rng.normal(size=H), rng.normal(size=(1, H))
    norms = recipes.gradient_norms_back_in_time(layers.rnn_step_forward, vanilla_rnn()["rnn_step_backward"],
                                                x, Wx, Wh, b, g)
    # oracle: autograd through an unrolled tanh RNN, gradient of <g, h_T> with respect to each h_t
    hs, h = [], torch.zeros(1, H, dtype=torch.float64, requires_grad=True)
    for t in range(T):
        h = torch.tanh(torch.tensor(x[:, t]) @ torch.tensor(Wx) + h @ torch.tensor(Wh) + torch.tensor(b))
        h.retain_grad()
        hs.append(h)
    (hs[-1] * torch.tensor(g)).sum().backward()
    expected = [hs[t].grad.norm().item() for t in reversed(range(T))]
    np.testing.assert_allclose(norms, expected, rtol=1e-10)
