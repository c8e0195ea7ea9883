"""The memory race of notebook 02: recall the symbol seen at step 0 after a gap of distractors.

Three kinds of recurrent cell are trained the same way (softmax read-out on the last hidden state, Adam, gradients
clipped by YOUR ``clip_fn``); only the cell differs:

- :class:`SequenceCell` -- a cell given by a forward/backward pair with the course's sequence API (your
  ``lstm_forward``/``lstm_backward``);
- :class:`StepCell`     -- a cell given by its one-step functions (your ``gru_step_forward``/``gru_step_backward``),
  unrolled here;
- :class:`TorchRNNCell` -- PyTorch's vanilla ``nn.RNN`` (autograd gives its gradients).

Nothing here computes a graded answer.

- :func:`recall_batch`  -- x: (n, gap + 2, K + 1) one-hot inputs; y: (n,) the symbol to recall
- :func:`train_recall`  -- train one cell at one gap; returns (losses, test accuracy)
- :func:`stream_batch`  -- the running version (section 5): x: (n, T, K + 1), y: (n, T) the symbol of the latest
  store step, -1 before the first one
"""
from __future__ import annotations

import numpy as np
import torch

from .rnn_recipes import Adam

__all__ = ["recall_batch", "stream_batch", "SequenceCell", "StepCell", "TorchRNNCell", "train_recall"]


def recall_batch(rng: np.random.Generator, n: int, gap: int, K: int = 4):
    """x: (n, gap + 2, K + 1) one-hot inputs: the symbol at step 0, ``gap`` random distractor symbols, then the
    recall flag (the last input unit) at the last step; y: (n,) int, the symbol shown at step 0."""
    T = gap + 2
    x = np.zeros((n, T, K + 1))
    y = rng.integers(K, size=n)
    x[np.arange(n), 0, y] = 1
    distractors = rng.integers(K, size=(n, gap))
    x[np.arange(n)[:, None], np.arange(1, gap + 1)[None, :], distractors] = 1
    x[:, -1, K] = 1
    return x, y


def stream_batch(rng: np.random.Generator, n: int, T: int, K: int = 4, p_store: float = 0.1):
    """The running memory task: at every step one of K symbols is shown (one-hot); with probability ``p_store`` the
    step is a *store* step (the last input unit is 1). At every step the target is the symbol of the latest store
    step so far, so a store step overwrites what was kept: the cell must forget as well as remember. Step 0 is
    always a store step.

    x: (n, T, K + 1) float; y: (n, T) int in [0, K).
    """
    symbols = rng.integers(K, size=(n, T))
    store = rng.random((n, T)) < p_store
    store[:, 0] = True
    x = np.zeros((n, T, K + 1))
    x[np.arange(n)[:, None], np.arange(T)[None, :], symbols] = 1
    x[..., K] = store
    last_store = np.maximum.accumulate(np.where(store, np.arange(T)[None, :], 0), axis=1)
    y = np.take_along_axis(symbols, last_store, axis=1)
    return x, y


class SequenceCell:
    """A cell given by ``forward(x, h0, Wx, Wh, b) -> (h (N, T, H), cache)`` and
    ``backward(dh, cache) -> (dx, dh0, dWx, dWh, db)``; ``n_blocks`` gate blocks of width H along the weights'
    last axis; ``gate_block``: the block whose bias starts at the gate bias (None: no such block)."""

    def __init__(self, forward, backward, n_blocks: int, gate_block: int | None = None):
        self.forward, self.backward, self.n_blocks, self.gate_block = forward, backward, n_blocks, gate_block

    def run(self, p: dict, x):
        """Returns h_last (N, H) and a function dh_last -> {"Wx", "Wh", "b"} gradients."""
        N, H = x.shape[0], p["Wh"].shape[0]
        h, cache = self.forward(x, np.zeros((N, H)), p["Wx"], p["Wh"], p["b"])

        def back(dh_last):
            dh = np.zeros_like(h)
            dh[:, -1] = dh_last
            _, _, dWx, dWh, db = self.backward(dh, cache)
            return {"Wx": dWx, "Wh": dWh, "b": db}
        return h[:, -1], back


class StepCell(SequenceCell):
    """A cell given by ``step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)`` and
    ``step_backward(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)``, unrolled over the sequence."""

    def __init__(self, step_forward, step_backward, n_blocks: int, gate_block: int | None = None):
        super().__init__(None, None, n_blocks, gate_block)
        self.step_forward, self.step_backward = step_forward, step_backward

    def run(self, p: dict, x):
        N, T, _ = x.shape
        h = np.zeros((N, p["Wh"].shape[0]))
        caches = []
        for t in range(T):
            h, cache = self.step_forward(x[:, t], h, p["Wx"], p["Wh"], p["b"])
            caches.append(cache)

        def back(dh_last):
            grads, dh = {"Wx": 0.0, "Wh": 0.0, "b": 0.0}, dh_last
            for cache in reversed(caches):          # the loss sees only the last state
                _, dh, dWx, dWh, db = self.step_backward(dh, cache)
                grads = {"Wx": grads["Wx"] + dWx, "Wh": grads["Wh"] + dWh, "b": grads["b"] + db}
            return grads
        return h, back


class TorchRNNCell(SequenceCell):
    """PyTorch's vanilla tanh ``nn.RNN`` with the course's weights (Wx (D, H), Wh (H, H), one bias b (H,))."""

    def __init__(self):
        super().__init__(None, None, 1, None)

    def run(self, p: dict, x):
        D, H = p["Wx"].shape
        rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True, dtype=torch.float64)
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(torch.as_tensor(p["Wx"].T))
            rnn.weight_hh_l0.copy_(torch.as_tensor(p["Wh"].T))
            rnn.bias_ih_l0.copy_(torch.as_tensor(p["b"]))
            rnn.bias_hh_l0.zero_()
        out, _ = rnn(torch.as_tensor(x, dtype=torch.float64))
        h_last = out[:, -1]

        def back(dh_last):
            h_last.backward(torch.as_tensor(dh_last))
            return {"Wx": rnn.weight_ih_l0.grad.numpy().T.copy(), "Wh": rnn.weight_hh_l0.grad.numpy().T.copy(),
                    "b": rnn.bias_ih_l0.grad.numpy().copy()}
        return h_last.detach().numpy(), back


def _loss_and_grads(cell: SequenceCell, p: dict, x, y):
    """Softmax cross-entropy of the read-out of the last hidden state. Returns (loss, accuracy, grads)."""
    N = x.shape[0]
    h_last, back = cell.run(p, x)
    scores = h_last @ p["Wy"] + p["by"]
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = float(-np.log(probs[np.arange(N), y]).mean())
    accuracy = float((probs.argmax(axis=1) == y).mean())
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    grads = {"Wy": h_last.T @ dscores, "by": dscores.sum(axis=0)}
    grads.update(back(dscores @ p["Wy"].T))
    return loss, accuracy, grads


def train_recall(cell: SequenceCell, gap: int, iters: int, seed: int, clip_fn, K: int = 4, hidden: int = 32,
                 gate_bias: float = 3.0, lr: float = 1e-2, batch: int = 32, max_norm: float = 1.0,
                 n_test: int = 500):
    """Train ``cell`` on fresh batches of the recall task for ``iters`` Adam steps (gradients clipped by
    ``clip_fn(grads, max_norm) -> (clipped, total_norm)``), then measure its accuracy on ``n_test`` new sequences.
    Returns (training losses, test accuracy)."""
    rng = np.random.default_rng(seed)
    D, H, nb = K + 1, hidden, cell.n_blocks
    p = {"Wx": rng.standard_normal((D, nb * H)) / np.sqrt(D), "Wh": rng.standard_normal((H, nb * H)) / np.sqrt(H),
         "b": np.zeros(nb * H), "Wy": rng.standard_normal((H, K)) / np.sqrt(H), "by": np.zeros(K)}
    if cell.gate_block is not None:
        p["b"][cell.gate_block * H:(cell.gate_block + 1) * H] = gate_bias
    optimizer = Adam(p, lr=lr, max_grad_norm=None)
    losses = []
    for _ in range(iters):
        x, y = recall_batch(rng, batch, gap, K)
        loss, _, grads = _loss_and_grads(cell, p, x, y)
        clipped, _ = clip_fn(grads, max_norm)
        optimizer.step(p, clipped)
        losses.append(loss)
    x_test, y_test = recall_batch(np.random.default_rng(10_000 + seed), n_test, gap, K)
    return losses, _loss_and_grads(cell, p, x_test, y_test)[1]
