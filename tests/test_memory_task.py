"""rnnlab.memory_task: the recall task and the three kinds of cell trained on it."""
import numpy as np
import pytest

from nb_solutions import lstm
from rnn_oracles import tanh_rnn_numpy
from rnnlab import memory_task, numerical_gradient, rel_error
from rnngrade.oracles.lstm import clip_reference


def test_recall_batch_layout():
    x, y = memory_task.recall_batch(np.random.default_rng(0), 8, gap=5, K=4)
    assert x.shape == (8, 7, 5) and y.shape == (8,)
    np.testing.assert_array_equal(x.sum(axis=2), np.ones((8, 7)))        # one active unit per step
    np.testing.assert_array_equal(x[:, 0, :4].argmax(axis=1), y)
    assert np.all(x[:, -1, 4] == 1) and np.all(x[:, :-1, 4] == 0)        # the recall flag, last step only


def _cells():
    ns = lstm()
    return {"rnn": memory_task.TorchRNNCell(),
            "lstm": memory_task.SequenceCell(ns["lstm_forward"], ns["lstm_backward"], 4, gate_block=1),
            "gru": memory_task.StepCell(ns["gru_step_forward"], ns["gru_step_backward"], 3, gate_block=1)}


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cell_gradients_match_numerical(kind):
    cell = _cells()[kind]
    rng = np.random.default_rng(1)
    N, T, D, H, K = 3, 4, 5, 3, 4
    p = {"Wx": rng.normal(size=(D, cell.n_blocks * H)), "Wh": rng.normal(size=(H, cell.n_blocks * H)),
         "b": rng.normal(size=cell.n_blocks * H), "Wy": rng.normal(size=(H, K)), "by": rng.normal(size=K)}
    x, y = rng.normal(size=(N, T, D)), rng.integers(K, size=N)
    _, _, grads = memory_task._loss_and_grads(cell, p, x, y)
    for name in p:
        num = numerical_gradient(lambda v, name=name: memory_task._loss_and_grads(cell, {**p, name: v}, x, y)[0],
                                 p[name])
        assert rel_error(grads[name], num) < 1e-6, (kind, name)


def test_torch_rnn_cell_runs_the_course_recurrence():
    rng = np.random.default_rng(2)
    p = {"Wx": rng.normal(size=(3, 4)), "Wh": rng.normal(size=(4, 4)), "b": rng.normal(size=4)}
    x = rng.normal(size=(2, 5, 3))
    h_last, _ = memory_task.TorchRNNCell().run(p, x)
    np.testing.assert_allclose(h_last, tanh_rnn_numpy(x, np.zeros((2, 4)), p["Wx"], p["Wh"], p["b"])[:, -1],
                               rtol=1e-12)


def test_train_recall_uses_clip_fn_and_gate_bias():
    calls = []

    def spy(grads, max_norm):
        calls.append(max_norm)
        return clip_reference(grads, max_norm)

    losses, acc = memory_task.train_recall(_cells()["gru"], gap=2, iters=5, seed=0, clip_fn=spy, hidden=8,
                                           max_norm=0.7, n_test=50)
    assert len(losses) == 5 and calls == [0.7] * 5 and 0.0 <= acc <= 1.0
    # a short gap is learnable: the LSTM beats chance clearly after a modest budget
    _, acc = memory_task.train_recall(_cells()["lstm"], gap=2, iters=150, seed=0, clip_fn=clip_reference,
                                      hidden=16, n_test=200)
    assert acc > 0.6
