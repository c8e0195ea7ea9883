"""Test fixtures for the sequence-to-sequence notebook (05): test batches and hand-built stand-in models.

The visible tests of notebook 05 call your code with these objects; they are here (not in the notebook) so that the
grader can rebuild them by name in the process that runs your code. None of them is an answer to an exercise:

- ``make_src_batch(rng, vocab_size, lengths)``: a right-padded source batch whose padding holds random ids, so that
  reading past a sequence's end shows;
- ``ToyEncoder`` and ``ToyDecoder``: tiny float64 models with fixed, seeded weights and the interfaces of
  ``Encoder`` and ``Decoder``, but no GRU inside (a bag of embeddings, a one-line tanh recurrence), so that a loss or
  a decoding loop can be tested on its own. ``ToyDecoder`` records the arguments of every call in ``calls``;
- ``ScriptEncoder`` and ``ScriptDecoder``: hand-built models whose greedy output is known in advance (row ``n``
  of the batch predicts the tokens of ``scripts[n]``, one per call, then ``FILLER`` forever); ``ScriptDecoder``
  records the tokens it was fed in ``fed``;
- ``as_id_lists``: a decoder's output as plain lists of ints, with a clear error when it is not a list of rows;
- ``returned_pair(result, what)``: check that a call returned a pair, with a clear message if not;
- ``LOSS_MISTAKES`` and ``loss_mistake(value, expected, wrong_values)``: the words for a teacher-forced loss whose
  value is that of a common mistake (the values themselves are stored expected values, not computed here);
- ``load_weights(module, arrays, prefix)``: copy stored arrays into a module's parameters (for tests that compare
  with stored expected values, ``rnnlab.expected``).

Shapes: src (N, S) int64 padded with <NULL> (0) on the right; src_len (N,); a decoder state (1, N, H).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .compare import check_failure
from .vocab import Vocabulary

__all__ = ["make_src_batch", "ToyEncoder", "ToyDecoder", "ScriptEncoder", "ScriptDecoder", "as_id_lists",
           "load_weights", "returned_pair", "LOSS_MISTAKES", "loss_mistake"]

NULL, START, END = Vocabulary.null_idx, Vocabulary.start_idx, Vocabulary.end_idx


def make_src_batch(rng: np.random.Generator, vocab_size: int, lengths, pad_with_noise: bool = True):
    """(src (N, S) int64 tensor, src_len (N,) tensor), S = max(lengths); ids drawn from 4 .. vocab_size - 1.
    The padding holds random ids (not <NULL>) unless ``pad_with_noise`` is False."""
    S = max(lengths)
    src = rng.integers(4, vocab_size, size=(len(lengths), S))
    if not pad_with_noise:
        for n, L in enumerate(lengths):
            src[n, L:] = NULL
    return torch.tensor(src), torch.tensor(list(lengths))


def _seeded(shape, seed: int, scale: float = 0.7) -> nn.Parameter:
    """A float64 parameter drawn from NumPy's generator (the same numbers on every machine)."""
    return nn.Parameter(torch.tensor(scale * np.random.default_rng(seed).standard_normal(shape)))


class ToyEncoder(nn.Module):
    """A stand-in encoder with the ``Encoder`` interface and no recurrent layer: ``table`` (V, H) float64.

    forward(src (N, S), src_len (N,)) -> outputs (N, S, H) = tanh of the running sum of table[src] (zero at the
    padding), h (1, N, H) = tanh of the sum of table[src] over each sequence's real tokens.
    """

    def __init__(self, *, vocab_size: int = 9, hidden_size: int = 4, seed: int = 0):
        super().__init__()
        self.table = _seeded((vocab_size, hidden_size), seed)

    def forward(self, src, src_len):
        lengths = torch.as_tensor(src_len).to(src.device)
        real = (torch.arange(src.shape[1], device=src.device)[None, :] < lengths[:, None]).unsqueeze(-1)
        vectors = self.table[src] * real
        return torch.tanh(torch.cumsum(vectors, dim=1)) * real, torch.tanh(vectors.sum(dim=1))[None]


class ToyDecoder(nn.Module):
    """A stand-in decoder with the ``Decoder`` interface and no GRU: float64 ``embed`` (V, H), ``out`` (V, H),
    ``bias`` (V,). Step t: s = tanh(s + embed[y_in[:, t]]), logits = s @ out.T + bias; it starts from ``state``
    (zeros when None). forward(y_in (N, T), state (1, N, H), enc_out=None, src_mask=None) -> (logits (N, T, V),
    state (1, N, H)). Every call is recorded in ``calls`` as (y_in, state, enc_out given?, src_mask), copies."""

    def __init__(self, *, vocab_size: int = 7, hidden_size: int = 4, seed: int = 1):
        super().__init__()
        self.embed = _seeded((vocab_size, hidden_size), seed)
        self.out = _seeded((vocab_size, hidden_size), seed + 1000)
        self.bias = _seeded((vocab_size,), seed + 2000, scale=0.3)
        self.calls = []

    def forward(self, y_in, state, enc_out=None, src_mask=None):
        self.calls.append((y_in.detach().clone(), None if state is None else state.detach().clone(),
                           enc_out is not None, None if src_mask is None else src_mask.detach().clone()))
        s = torch.zeros(y_in.shape[0], self.embed.shape[1], dtype=self.embed.dtype) if state is None else state[0]
        logits = []
        for t in range(y_in.shape[1]):
            s = torch.tanh(s + self.embed[y_in[:, t]])
            logits.append(s @ self.out.T + self.bias)
        return torch.stack(logits, dim=1), s[None]


class ScriptEncoder(nn.Module):
    """Hand-built: its final state only tells the decoder which row it is on (h[0, n, 0] = n) and the step (0)."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, src, src_len):
        N, S = src.shape
        h = torch.zeros(1, N, 2)
        h[0, :, 0] = torch.arange(N, dtype=torch.float32)
        return torch.zeros(N, S, 2), h


class ScriptDecoder(nn.Module):
    """Hand-built: at step k, row n predicts scripts[n][k] (then FILLER forever). Records what it was fed in
    ``fed`` (one list of ids per call); raises a clear error when fed anything but (N, 1) ids and a state."""
    FILLER = 5

    def __init__(self, scripts, vocab_size: int = 8):
        super().__init__()
        self.scripts, self.V = scripts, vocab_size
        self.dummy = nn.Parameter(torch.zeros(1))
        self.fed = []

    def forward(self, y_in, state, enc_out=None, src_mask=None):
        if y_in.dim() != 2 or y_in.shape[1] != 1:
            raise check_failure(f"greedy_decode must feed the decoder one token per sequence per call, ids of shape "
                                 f"(N, 1); got shape {tuple(y_in.shape)}.")
        if state is None:
            raise check_failure("greedy_decode called the decoder with state None: start it from the encoder's "
                                 "final state, then pass back the state each call returns.")
        self.fed.append(y_in[:, 0].tolist())
        rows, steps = state[0, :, 0].long().tolist(), state[0, :, 1].long().tolist()
        logits = torch.full((y_in.shape[0], 1, self.V), -3.0)
        for i, (n, k) in enumerate(zip(rows, steps)):
            script = self.scripts[n]
            logits[i, 0, script[k] if k < len(script) else self.FILLER] = 4.0
        new_state = state.clone()
        new_state[0, :, 1] += 1
        return logits, new_state


def as_id_lists(result, name: str = "greedy_decode") -> list[list[int]]:
    """``result`` (a list of rows: lists, tuples or 1-d tensors of ids) as a list of lists of ints."""
    if not isinstance(result, (list, tuple)):
        raise check_failure(f"{name} must return a list (one list of ids per sequence), got "
                             f"{result.__class__.__name__}.")
    out = []
    for row in result:
        if isinstance(row, torch.Tensor):
            row = row.tolist()
        out.append([int(i) for i in row])
    return out


def load_weights(module, arrays: dict, prefix: str, dtype=torch.float64) -> None:
    """Copy the arrays ``arrays[prefix + name]`` into ``module``'s parameters of that name (every parameter of the
    module must be there). For a module built by a student: it must have the parameters the text asks for."""
    names = [name for name, _ in module.named_parameters()]
    state = {}
    for name in names:
        key = prefix + name
        if key not in arrays:
            expected = sorted(k[len(prefix):] for k in arrays if k.startswith(prefix))
            raise check_failure(f"{module.__class__.__name__} has a parameter `{name}` that the text does not ask "
                                 f"for (expected only {expected}).")
        state[name] = torch.tensor(arrays[key], dtype=dtype)
    module.load_state_dict(state, strict=False)


def returned_pair(result, what: str):
    """``result`` if it is a pair (tuple or list of two), else an AssertionError naming ``what``."""
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise check_failure(f"{what} must return a pair, got {result.__class__.__name__}.")
    return result


LOSS_MISTAKES = {
    "unmasked": "the padding was not masked out: the <NULL> targets take part in the mean, in its sum or its count",
    "no_shift": "the decoder's inputs and the targets are the same tokens: the targets must be the inputs shifted "
                "by one step (the token that comes next)",
    "summed": "the losses of the tokens were summed; the loss is their mean over the real target tokens",
    "no_state": "the decoder did not start from the encoder's final state, so the source has no influence",
}


def loss_mistake(value: float, expected: float, wrong_values: dict) -> str:
    """The sentence for the common mistake whose (stored) value ``value`` equals, or "" if none does.
    wrong_values: {key of LOSS_MISTAKES: the loss that mistake gives}."""
    for key, wrong in wrong_values.items():
        wrong = float(wrong)
        if abs(value - wrong) < 1e-9 * max(1.0, abs(wrong)) and abs(wrong - expected) > 1e-6:
            return f"the loss is {value:.6f} (expected {expected:.6f}), the value you get when {LOSS_MISTAKES[key]}."
    return ""
