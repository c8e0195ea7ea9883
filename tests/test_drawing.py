"""rnnlab.drawing and rnnlab.drawing_checks (notebook 08, section 2) against cases worked out by hand."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlab.captions import SHAPES
from rnnlab.drawing import (RowDrawer, drawing_nll, make_binary_shapes, show_image_grid, start_rows,
                            teacher_forced_inputs, train_drawer)
from rnnlab.drawing_checks import CoinDrawer, ShiftDrawer, check_feedback, transition_rates


def test_binary_shapes_are_deterministic_binary_and_balanced():
    a, la = make_binary_shapes(80, seed=2)
    b, lb = make_binary_shapes(80, seed=2)
    c, _ = make_binary_shapes(80, seed=3)
    assert a.tobytes() == b.tobytes() and np.array_equal(la, lb) and a.tobytes() != c.tobytes()
    assert a.shape == (80, 16, 16) and a.dtype == np.float32 and set(np.unique(a)) <= {0.0, 1.0}
    assert np.bincount(la).tolist() == [20] * len(SHAPES)
    assert np.all(a.sum(axis=(1, 2)) >= 9)                      # every image holds a shape of some size


def test_teacher_forcing_shifts_rows_down_behind_the_start_row():
    x = torch.arange(12.0).reshape(1, 3, 4)
    inputs = teacher_forced_inputs(x)
    assert torch.equal(inputs[0, 0], torch.zeros(4)) and torch.equal(inputs[0, 1:], x[0, :2])
    assert torch.equal(start_rows(2, 4), torch.zeros(2, 4))


def test_step_by_step_equals_the_whole_sequence_and_the_loss_is_per_pixel_bce():
    torch.manual_seed(0)
    model = RowDrawer(width=5, hidden_size=7)
    x = (torch.rand(3, 4, 5) > 0.5).float()
    logits, _ = model(teacher_forced_inputs(x))
    state, prev, steps = None, torch.zeros(3, 5), []
    for t in range(4):
        z, state = model.step(prev, state)
        steps.append(z)
        prev = x[:, t]
    torch.testing.assert_close(torch.stack(steps, 1), logits)
    p = torch.sigmoid(logits)
    by_hand = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).mean()
    torch.testing.assert_close(drawing_nll(model, x), by_hand)


def test_train_drawer_lowers_the_loss():
    images, _ = make_binary_shapes(64, seed=0)
    torch.manual_seed(0)
    model = RowDrawer(width=16, hidden_size=32)
    history = train_drawer(model, images, steps=60, batch_size=16, lr=1e-2, val_images=images[:16], eval_every=30)
    assert len(history["train"]) == 60 and [s for s, _ in history["val"]] == [30, 60]
    assert np.mean(history["train"][-10:]) < 0.7 * np.mean(history["train"][:5])


def test_show_image_grid_returns_a_figure():
    import matplotlib
    matplotlib.use("Agg")
    fig = show_image_grid(np.zeros((5, 4, 4)), ncols=3, titles=list("abcde"), title="t", prefix_rows=2)
    assert len(fig.axes) == 6


def _loop(model, n, rows, generator, prefix=None, feed_probabilities=False, restart_after_prefix=False):
    """A sampling loop written for this test (and its mistakes), to exercise check_feedback."""
    out, prev, state = torch.zeros(n, rows, model.width), torch.zeros(n, model.width), None
    given = 0 if prefix is None else prefix.shape[1]
    with torch.no_grad():
        for t in range(rows):
            if restart_after_prefix and t == given:
                state = None
            logits, state = model.step(prev, state)
            p = torch.sigmoid(logits)
            out[:, t] = prefix[:, t] if t < given else torch.bernoulli(p, generator=generator)
            prev = p if (feed_probabilities and t >= given) else out[:, t]
    return out


def test_stand_ins_behave_as_documented_and_check_feedback_accepts_a_right_loop():
    shift = ShiftDrawer([1, 0, 0])
    out = _loop(shift, 2, 4, torch.Generator().manual_seed(0))
    assert out[0].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
    check_feedback(shift, out)
    coin = CoinDrawer(width=4)
    samples = _loop(coin, 4000, 5, torch.Generator().manual_seed(0))
    check_feedback(coin, samples)
    first, after0, after1 = transition_rates(samples)
    assert abs(first - 0.5) < 0.02 and abs(after0 - 0.25) < 0.02 and abs(after1 - 0.75) < 0.02


def test_check_feedback_names_the_mistakes():
    coin = CoinDrawer(width=4)
    with pytest.raises(AssertionError, match="probabilities"):
        check_feedback(coin, _loop(coin, 50, 4, torch.Generator().manual_seed(0), feed_probabilities=True))
    shift = ShiftDrawer([1, 0, 0])
    prefix = torch.tensor([[[0.0, 1.0, 0.0]]])
    with pytest.raises(AssertionError, match="state=None"):
        check_feedback(shift, _loop(shift, 1, 3, None, prefix=prefix, restart_after_prefix=True), prefix)
    shift = ShiftDrawer([1, 0, 0])
    shift.step(torch.zeros(1, 3))                                   # tracked with gradients on
    with pytest.raises(AssertionError, match="no_grad"):
        check_feedback(shift, torch.zeros(1, 1, 3))


def test_transition_rates_by_hand():
    x = np.array([[[1, 0], [1, 1], [0, 1]]])
    first, after0, after1 = transition_rates(x)
    assert first == 0.5 and after0 == 1.0 and after1 == pytest.approx(2 / 3)


def test_stand_in_logits_give_the_documented_probabilities():
    coin = CoinDrawer(width=2, p_first=0.2, p_after_0=0.6, p_after_1=0.9)
    z, state = coin.step(torch.zeros(1, 2))
    torch.testing.assert_close(torch.sigmoid(z), torch.full((1, 2), 0.2))
    z, state = coin.step(torch.tensor([[0.0, 1.0]]), state)
    torch.testing.assert_close(torch.sigmoid(z), torch.tensor([[0.6, 0.9]]))
    assert state.tolist() == [[2.0]]
    logits, _ = ShiftDrawer([0, 1])(torch.zeros(1, 2, 2))
    assert logits.shape == (1, 2, 2) and F.logsigmoid(logits).shape == (1, 2, 2)
