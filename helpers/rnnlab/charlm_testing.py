"""Helpers for notebook 03's test cells: call a student's function and compare, and small stand-in models.

Nothing here computes an exercise's answer. The expected values the visible tests compare with are stored in
``rnnlab/expected/char_lm.npz`` (see :mod:`rnnlab.expected`); the oracles that computed them live on the grader's
side. What is here:

- :func:`call_lstm_step` runs the student's ``lstm_step`` on NumPy inputs and backpropagates a given linear
  function of its outputs; :func:`load_weights` loads stored weights into a student's model;
- :func:`check_detached`, :func:`check_step_params`: checks of a recurrent state and of parameters after a training
  step, with messages that name the likely cause (:func:`state_tensors` and :func:`check_state` are
  ``rnnlab.states``', re-exported here);
- stand-in models whose predictions are simple and known: :class:`DecayLM` (a tiny differentiable model of a kind
  no exercise asks for, with a tensor state or a pair of tensors, for ``train_step``), :class:`TableLM` and
  :class:`FixedLM` (for ``sample``), and :func:`frequencies`.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .compare import check_close, check_failure
from .states import check_state, state_tensors  # noqa: F401 - re-exported: the one implementation (rnnlab.states)

__all__ = ["STEP_INPUTS", "call_lstm_step", "load_weights", "split_params", "stored_step", "state_tensors",
           "check_state", "check_detached", "check_step_params", "DecayLM", "TableLM", "FixedLM", "frequencies"]

STEP_INPUTS = ("x", "prev_h", "prev_c", "Wx", "Wh", "b")


def call_lstm_step(lstm_step, args, dnext_h=None, dnext_c=None, dtype=torch.float64) -> dict:
    """Call ``lstm_step`` (the student's) on tensors of ``dtype`` made from ``args`` (six arrays, in the order of
    STEP_INPUTS: x (N, D), prev_h (N, H), prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)); given dnext_h and
    dnext_c (N, H), backpropagate sum(next_h * dnext_h + next_c * dnext_c) through it.

    Returns NumPy arrays: next_h, next_c and, with dnext_h, the gradients dx, dprev_h, dprev_c, dWx, dWh, db (zeros
    for an input the outputs do not depend on). Raises AssertionError naming the problem when the call fails, the
    result is not a pair of tensors of ``dtype``, or the graph was cut.
    """
    leaves = [torch.tensor(np.asarray(a), dtype=dtype, requires_grad=dnext_h is not None) for a in args]
    try:
        result = lstm_step(*leaves)
    except NotImplementedError:
        raise
    except RuntimeError as exc:
        shapes = ", ".join(f"{n} {tuple(v.shape)}" for n, v in zip(STEP_INPUTS, leaves))
        raise check_failure(f"lstm_step raised RuntimeError: {exc} (inputs: {shapes}). Likely cause: the 4H axis "
                             "cut into blocks of the wrong width (the width of a block is the hidden size, read from "
                             "prev_h, not from x), or an in-place change of a tensor autograd needs.") from None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise check_failure("lstm_step must return a pair (next_h, next_c).")
    for name, v in zip(["next_h", "next_c"], result):
        if not isinstance(v, torch.Tensor):
            raise check_failure(f"{name} is a {v.__class__.__name__}, not a torch.Tensor: stay in PyTorch (no NumPy), "
                                 "so that autograd can follow the computation.")
        if v.dtype != dtype:
            raise check_failure(f"{name} has dtype {v.dtype} for {dtype} inputs: do not convert; build every "
                                 "intermediate from the inputs so that their dtype carries through.")
    next_h, next_c = result
    out = {"next_h": next_h.detach().numpy(), "next_c": next_c.detach().numpy()}
    if dnext_h is not None:
        if not (next_h.requires_grad and next_c.requires_grad):
            raise check_failure("next_h or next_c does not require grad although the inputs do: the graph was cut "
                                 "(.detach(), .data, .item(), NumPy or torch.no_grad inside lstm_step).")
        ((next_h * torch.tensor(np.asarray(dnext_h), dtype=dtype)).sum()
         + (next_c * torch.tensor(np.asarray(dnext_c), dtype=dtype)).sum()).backward()
        for name, leaf in zip(STEP_INPUTS, leaves):
            grad = leaf.grad
            out["d" + name] = np.zeros(leaf.shape) if grad is None else grad.numpy()
    return out


def load_weights(model, stored: dict, prefix: str = "") -> None:
    """Load the arrays of ``stored`` whose keys start with ``prefix`` into ``model`` (keys: parameter names such as
    ``embed.weight``, ``rnn.weight_ih_l0``), with a message that names the problem when they do not fit."""
    weights = {k[len(prefix):]: torch.tensor(v) for k, v in stored.items() if k.startswith(prefix)}
    try:
        model.load_state_dict(weights)
    except (RuntimeError, KeyError) as exc:
        names = [n for n, _ in model.named_parameters()]
        raise check_failure(f"the test could not load its weights into your model ({str(exc).strip()[:300]}). "
                             f"Your model's parameters: {names}; the test expects exactly {sorted(weights)}: three "
                             "layers named embed, rnn and readout, the recurrent layer one of RNN_LAYERS.") from None


def split_params(model, flat) -> dict:
    """A flat vector of parameter values (in the order of ``model.named_parameters()``) as {name: array}."""
    flat, out, start = np.asarray(flat), {}, 0
    for name, p in model.named_parameters():
        size = int(np.prod(p.shape))
        out[name] = flat[start:start + size].reshape(tuple(p.shape))
        start += size
    if start != flat.size:
        raise ValueError(f"{flat.size} stored values for {start} parameters")
    return out


def stored_step(model, case: dict, step: int) -> dict:
    """The expected values of training step ``step`` of a stored train_step case (keys before<step>,
    params<step>, unclipped<step>: flat vectors; norm<step>; max_norm), in the form check_step_params takes."""
    out = {part: split_params(model, case[f"{part}{step}"]) for part in ("before", "params", "unclipped")}
    out.update(norm=float(case[f"norm{step}"]), max_norm=float(case["max_norm"]))
    return out


def check_detached(state) -> None:
    """Raise AssertionError if a tensor of the returned state is still attached to a computation graph."""
    for k, s in enumerate(state_tensors(state, "the returned state")):
        if s.requires_grad or s.grad_fn is not None:
            raise check_failure(f"the returned state is still attached to the graph (tensor {k} has grad_fn "
                                 f"{s.grad_fn.__class__.__name__}): the next batch's backward pass would run into "
                                 "this batch's graph. Every tensor of the state you return must be detached.")


def check_step_params(model, expected: dict, tol: float = 1e-8, hint: str = "") -> float:
    """Compare the model's parameters after a training step with the expected ones.

    expected: "before" (the parameters before the step), "params" (after a correct step) and, to recognise a step
    that skipped the clipping, "unclipped" (after a step with the raw gradient), "norm" (the raw gradient's global
    norm) and "max_norm"; each of the first three a dict {parameter name: array}. Returns the largest relative error.
    """
    now = {n: p.detach().numpy() for n, p in model.named_parameters()}
    if all(np.array_equal(now[n], np.asarray(expected["before"][n])) for n in now):
        raise check_failure("the parameters did not change: the optimizer never made its step after the backward "
                             "pass.")
    if "unclipped" in expected and float(expected["norm"]) > 1.01 * float(expected["max_norm"]) and all(
            np.allclose(now[n], expected["unclipped"][n], rtol=1e-9, atol=1e-12) for n in now):
        raise check_failure("the parameters moved by the UNCLIPPED gradient: the gradient's global norm must be "
                             "clipped to max_norm after the backward pass and before the optimizer's step.")
    worst = 0.0
    for n in now:
        worst = max(worst, check_close(f"parameter {n} after the step", now[n], expected["params"][n], tol,
                                       hint=hint or "one step is: forward from the given state, the mean loss, "
                                       "gradients zeroed, backward, gradient norm clipped to max_norm, optimizer "
                                       "step."))
    return worst


class DecayLM(nn.Module):
    """A tiny language model of a kind no exercise asks for, in float64, for testing ``train_step``.

    It keeps a vector s (N, K) that decays and adds the embedding of every character read,
    s <- sigmoid(decay) * s + emb[x_t], and scores the next character as tanh(s) @ out + bias. With
    ``pair_state=True`` it also keeps a running mean u of tanh(s) that adds u @ mix to the scores, and its state is a
    pair (s, u) like an LSTM's (h, c); otherwise the state is s alone, like a GRU's. Each state tensor has shape
    (1, N, K). forward(x (N, T) int64, state=None) -> (logits (N, T, vocab_size), state). Its weights depend only
    on ``seed`` (NumPy's generator, so they are the same on every platform and PyTorch version).
    """

    def __init__(self, vocab_size: int = 6, size: int = 5, pair_state: bool = False, seed: int = 0):
        super().__init__()
        self.vocab_size, self.size, self.pair_state = vocab_size, size, pair_state
        rng = np.random.default_rng(seed)

        def param(scale, *shape):
            return nn.Parameter(torch.tensor(scale * rng.standard_normal(shape), dtype=torch.float64))

        self.emb, self.decay = param(0.8, vocab_size, size), param(1.0, size)
        self.out, self.bias = param(0.8, size, vocab_size), param(0.1, vocab_size)
        self.mix = param(0.8, size, vocab_size) if pair_state else None

    def forward(self, x, state=None):
        N, T = x.shape
        if state is None:
            zeros = torch.zeros(1, N, self.size, dtype=torch.float64)
            state = (zeros, zeros) if self.pair_state else zeros
        s, u = (state[0][0], state[1][0]) if self.pair_state else (state[0], None)
        keep = torch.sigmoid(self.decay)
        logits = []
        for t in range(T):
            s = keep * s + self.emb[x[:, t]]
            z = torch.tanh(s) @ self.out + self.bias
            if self.pair_state:
                u = 0.5 * u + 0.5 * torch.tanh(s)
                z = z + u @ self.mix
            logits.append(z)
        return torch.stack(logits, dim=1), ((s[None], u[None]) if self.pair_state else s[None])


class TableLM(nn.Module):
    """A model whose predictions are known exactly: the scores of the next character are
    table[current character] + bonus[k % len(bonus)], where k counts the characters read so far (k is the state).
    table: (V, V), bonus: (B, V). It records every id it is fed (self.seen) and whether it was in training mode
    (self.modes). forward(x (1, T), state=None) -> (scores (1, T, V), k)."""

    def __init__(self, table, bonus):
        super().__init__()
        self.table = nn.Parameter(torch.tensor(np.asarray(table), dtype=torch.float32))
        self.bonus = nn.Parameter(torch.tensor(np.asarray(bonus), dtype=torch.float32))
        self.seen, self.modes = [], []

    def forward(self, x, state=None):
        if x.dim() != 2 or x.shape[0] != 1:
            raise check_failure(f"sample must feed the model a batch of one sequence, ids of shape (1, T); "
                                 f"got shape {tuple(x.shape)}.")
        count = 0 if state is None else int(state)
        scores = []
        for t in range(x.shape[1]):
            i = int(x[0, t])
            self.seen.append(i)
            self.modes.append(self.training)
            scores.append(self.table[i] + self.bonus[count % self.bonus.shape[0]])
            count += 1
        return torch.stack(scores)[None], torch.tensor(count)


class FixedLM(nn.Module):
    """Predicts the same scores z (V,) after every input: a sampler's output then depends only on its temperature,
    its top-k and its random numbers. forward(x (N, T), state=None) -> (scores (N, T, V), state)."""

    def __init__(self, z):
        super().__init__()
        self.z = nn.Parameter(torch.tensor(np.asarray(z), dtype=torch.float32))

    def forward(self, x, state=None):
        return self.z.expand(x.shape[0], x.shape[1], -1), state


def frequencies(text: str, vocab) -> np.ndarray:
    """The relative frequency of each of the vocabulary's characters in ``text``: (len(vocab),)."""
    return np.bincount(vocab.encode(text), minlength=len(vocab)) / max(1, len(text))
