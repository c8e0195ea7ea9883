"""Recipes for the NumPy character RNN of notebook 01: the poem, the model built from YOUR layers, truncated BPTT.

Nothing here computes a graded answer. The model's forward and backward pass is assembled from the layer functions
you pass in (:class:`CharRNNLayers`); this module only wires them together, chunks the text, runs the optimiser
and samples.

- :data:`POEM`                 -- the short training text
- :func:`init_char_rnn`        -- parameters of the model (embedding, RNN, output layer, learned initial state)
- :class:`CharRNNLayers`       -- the eight layer functions the model is made of (yours)
- :func:`char_rnn_loss`        -- loss and gradients of one chunk, from your layers
- :func:`make_chunks`          -- a stream of ids cut into (x, y, mask) chunks for truncated BPTT
- :class:`Adam`                -- Adam on a dict of arrays, with the gradient rescaled to a maximum norm first
- :func:`train_char_rnn`       -- epochs of truncated BPTT over the chunks
- :func:`sample_text`          -- generate text one character at a time (temperature 0 is greedy)
- :func:`first_step_losses`    -- the loss of each of the first characters on their own, from a given start state
- :func:`gradient_norms_back_in_time` -- how the norm of a gradient changes as your step backward carries it back
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["POEM", "init_char_rnn", "CharRNNLayers", "char_rnn_loss", "make_chunks", "Adam", "train_char_rnn",
           "sample_text", "first_step_losses", "gradient_norms_back_in_time"]

POEM = """The lamp-maker walks the harbour wall
and counts the boats that never call;
she lights a wick for every one,
then waits for morning, waits for sun.

The tide goes out, the tide comes in,
the gulls complain, the ropes grow thin;
she keeps the flame and keeps the tune
and hums it softly to the moon.

The sailors say her lamps are small,
too weak to reach the sea at all;
but every boat that finds the bay
has followed one of them the way.
"""


def init_char_rnn(V: int, D: int, H: int, seed: int = 0) -> dict:
    """Parameters of the character model: small random weights, zero biases, h0 = 0 (then learned).

    Shapes: W_embed (V, D), Wx (D, H), Wh (H, H), b (H,), W_out (H, V), b_out (V,), h0 (H,); float64.
    """
    rng = np.random.default_rng(seed)
    return {
        "W_embed": rng.normal(0.0, 1.0, (V, D)),
        "Wx": rng.normal(0.0, 1.0 / np.sqrt(D), (D, H)),
        "Wh": rng.normal(0.0, 1.0 / np.sqrt(H), (H, H)),
        "b": np.zeros(H),
        "W_out": rng.normal(0.0, 1.0 / np.sqrt(H), (H, V)),
        "b_out": np.zeros(V),
        "h0": np.zeros(H),
    }


@dataclass(frozen=True)
class CharRNNLayers:
    """The layer functions the model is built from, with notebook 01's signatures (pass your own)."""
    word_embedding_forward: Callable
    word_embedding_backward: Callable
    rnn_forward: Callable
    rnn_backward: Callable
    rnn_step_forward: Callable
    temporal_affine_forward: Callable
    temporal_affine_backward: Callable
    temporal_softmax_loss: Callable


def char_rnn_loss(layers: CharRNNLayers, params: dict, x, y, mask, h_start=None):
    """Loss and gradients of the model on one chunk, computed by ``layers``.

    x, y: int (N, T) input and target ids; mask: bool (N, T). h_start: (N, H) state carried over from the previous
    chunk (a constant: the gradient stops there), or None to start every row from the learned h0.
    Returns (loss, grads, h_last): grads has the keys of ``params``; h_last (N, H) is the state after the last step.
    """
    N = x.shape[0]
    from_h0 = h_start is None
    if from_h0:
        h_start = np.tile(params["h0"], (N, 1))
    emb, emb_cache = layers.word_embedding_forward(x, params["W_embed"])
    h, rnn_cache = layers.rnn_forward(emb, h_start, params["Wx"], params["Wh"], params["b"])
    scores, affine_cache = layers.temporal_affine_forward(h, params["W_out"], params["b_out"])
    loss, dscores = layers.temporal_softmax_loss(scores, y, mask)
    grads = {}
    dh, grads["W_out"], grads["b_out"] = layers.temporal_affine_backward(dscores, affine_cache)
    demb, dh_start, grads["Wx"], grads["Wh"], grads["b"] = layers.rnn_backward(dh, rnn_cache)
    grads["W_embed"] = layers.word_embedding_backward(demb, emb_cache)
    # h0 is copied into every row, so its gradient is the sum over the rows.
    grads["h0"] = dh_start.sum(axis=0) if from_h0 else np.zeros_like(params["h0"])
    return loss, grads, h[:, -1, :]


def make_chunks(ids, T: int) -> list:
    """Cut a stream of ids (L,) into consecutive chunks ``(x, y, mask)``, each (1, T).

    y is x shifted by one character; the last chunk is padded with id 0 and its padding masked (mask False).
    """
    ids = np.asarray(ids)
    inputs, targets = ids[:-1], ids[1:]
    chunks = []
    for start in range(0, len(inputs), T):
        n = len(inputs[start:start + T])
        x, y = np.zeros((1, T), dtype=np.int64), np.zeros((1, T), dtype=np.int64)
        mask = np.zeros((1, T), dtype=bool)
        x[0, :n], y[0, :n], mask[0, :n] = inputs[start:start + T], targets[start:start + T], True
        chunks.append((x, y, mask))
    return chunks


class Adam:
    """Adam (Kingma and Ba, 2015) on a dict of NumPy arrays, updated in place.

    ``step(params, grads)`` first rescales the whole set of gradients so that their joint L2 norm is at most
    ``max_grad_norm`` (None: no limit), then takes one Adam step. It returns the norm measured before rescaling.
    """

    def __init__(self, params: dict, lr: float = 1e-3, max_grad_norm: float | None = 5.0,
                 betas: tuple = (0.9, 0.999), eps: float = 1e-8):
        self.lr, self.max_grad_norm, self.eps = lr, max_grad_norm, eps
        self.beta1, self.beta2 = betas
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, params: dict, grads: dict) -> float:
        norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))
        factor = 1.0
        if self.max_grad_norm is not None and norm > self.max_grad_norm:
            factor = self.max_grad_norm / norm
        self.t += 1
        for k in params:
            g = grads[k] * factor
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * g
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * g ** 2
            m_hat = self.m[k] / (1 - self.beta1 ** self.t)
            v_hat = self.v[k] / (1 - self.beta2 ** self.t)
            params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return norm


def train_char_rnn(layers: CharRNNLayers, params: dict, chunks: list, num_epochs: int, optimizer: Adam,
                   progress=None) -> list:
    """Truncated BPTT: every epoch starts from the learned h0 and carries the state from chunk to chunk.

    Updates ``params`` in place; returns the mean loss per target character of every epoch (N = 1 chunks).
    ``progress``: optional wrapper for the epoch range (e.g. ``rnnlab.progress``).
    """
    num_targets = sum(int(mask.sum()) for _, _, mask in chunks)
    epochs = range(num_epochs) if progress is None else progress(range(num_epochs), desc="epochs")
    losses = []
    for _ in epochs:
        h, total = None, 0.0
        for x, y, mask in chunks:
            loss, grads, h = char_rnn_loss(layers, params, x, y, mask, h_start=h)
            optimizer.step(params, grads)
            total += float(loss)
        losses.append(total / num_targets)
    return losses


def sample_text(layers: CharRNNLayers, params: dict, vocab, first_char: str, length: int,
                temperature: float = 1.0, seed: int = 0, h=None) -> str:
    """Generate ``length`` characters after ``first_char``, one step at a time with ``layers.rnn_step_forward``.

    temperature > 0 divides the scores before the softmax; 0 takes the most likely character (greedy).
    h: (1, H) start state, None for the learned h0. Returns the text, first_char included.
    """
    rng = np.random.default_rng(seed)
    h = params["h0"][None, :] if h is None else h
    idx, out = vocab.stoi[first_char], [first_char]
    for _ in range(length):
        emb, _ = layers.word_embedding_forward(np.array([[idx]]), params["W_embed"])
        h, _ = layers.rnn_step_forward(emb[:, 0, :], h, params["Wx"], params["Wh"], params["b"])
        scores, _ = layers.temporal_affine_forward(h[:, None, :], params["W_out"], params["b_out"])
        scores = scores[0, 0]
        if temperature == 0:
            idx = int(np.argmax(scores))
        else:
            z = scores / temperature
            p = np.exp(z - z.max())
            idx = int(rng.choice(len(p), p=p / p.sum()))
        out.append(vocab.chars[idx])
    return "".join(out)


def first_step_losses(layers: CharRNNLayers, params: dict, x, y, h_start, n_first: int) -> list:
    """The loss of each of the first ``n_first`` targets of the chunk (x, y: (1, T)) on its own, from ``h_start``
    (1, H), using a mask with a single True per call to ``layers.temporal_softmax_loss``."""
    emb, _ = layers.word_embedding_forward(x, params["W_embed"])
    h_seq, _ = layers.rnn_forward(emb, h_start, params["Wx"], params["Wh"], params["b"])
    scores, _ = layers.temporal_affine_forward(h_seq, params["W_out"], params["b_out"])
    losses = []
    for t in range(n_first):
        step_mask = np.zeros(x.shape, dtype=bool)
        step_mask[0, t] = True
        losses.append(float(layers.temporal_softmax_loss(scores, y, step_mask)[0]))
    return losses


def gradient_norms_back_in_time(step_forward, step_backward, x, Wx, Wh, b, g_last) -> list:
    """Run ``step_forward`` over x (1, T, D) from a zero state, put the gradient ``g_last`` (1, H) on the last
    hidden state only, and carry it back with ``step_backward``. Returns [||g_last||, ||dL/dh_{T-1}||, ...] down to
    the first hidden state (T entries)."""
    h, caches = np.zeros((x.shape[0], Wh.shape[0])), []
    for t in range(x.shape[1]):
        h, cache = step_forward(x[:, t], h, Wx, Wh, b)
        caches.append(cache)
    g, norms = g_last, [float(np.linalg.norm(g_last))]
    for t in reversed(range(1, x.shape[1])):
        g = step_backward(g, caches[t])[1]
        norms.append(float(np.linalg.norm(g)))
    return norms
