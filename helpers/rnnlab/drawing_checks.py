"""Stand-in row models for testing a sampling loop (notebook 08, section 2), and the checks that read them.

A stand-in behaves like ``rnnlab.drawing.RowDrawer`` (``step(prev_row, state)`` and ``forward(rows_in, state)``)
but its next-row probabilities are known, and it records every row it is fed, the state it was given and whether
gradients were being tracked:

- ``ShiftDrawer(first)``: the first row is ``first`` for sure; every later row is the previous row moved one pixel
  to the right (wrapping around), for sure (logits of +-40). Its rows are known in advance.
- ``CoinDrawer(p_first, p_after_0, p_after_1)``: every pixel of the first row is 1 with probability p_first; a
  later pixel is 1 with probability p_after_1 when the pixel above it is 1, p_after_0 when it is 0.

Its state is a float tensor (N, 1) counting the rows read (``None`` before the first). Neither samples: drawing
the samples is the exercise.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn

from .compare import check_failure

__all__ = ["ShiftDrawer", "CoinDrawer", "check_feedback", "transition_rates"]


class _Recorder(nn.Module):
    """The shared machinery of the stand-ins: per-row logic in ``_probs``; records what it is fed."""

    def __init__(self, width: int):
        super().__init__()
        self.width = width
        self.scale = nn.Parameter(torch.ones(()))      # so that outputs would track gradients if enabled
        self.fed, self.states, self.grad_enabled = [], [], []

    def _probs(self, prev_row, first: bool):
        raise NotImplementedError

    def step(self, prev_row, state=None):
        if prev_row.dim() != 2 or prev_row.shape[1] != self.width:
            raise ValueError(f"step expects prev_row of shape (N, {self.width}), got {tuple(prev_row.shape)}")
        self.fed.append(prev_row.detach().clone().float())
        self.states.append(None if state is None else state.detach().clone())
        self.grad_enabled.append(torch.is_grad_enabled())
        p = self._probs(prev_row.detach().float(), state is None).clamp(1e-12, 1 - 1e-12)
        logits = self.scale * torch.log(p / (1 - p))
        count = torch.ones(len(prev_row), 1) if state is None else state + 1
        return logits, count

    def forward(self, rows_in, state=None):
        logits = []
        for t in range(rows_in.shape[1]):
            z, state = self.step(rows_in[:, t], state)
            logits.append(z)
        return torch.stack(logits, dim=1), state


class ShiftDrawer(_Recorder):
    """See the module docstring. first: sequence of 0/1, the first row (its length is the width)."""

    def __init__(self, first):
        super().__init__(len(first))
        self.first = torch.tensor([float(v) for v in first])

    def _probs(self, prev_row, first):
        if first:
            return self.first.expand(len(prev_row), -1).clone()
        return torch.roll(prev_row, 1, dims=1)


class CoinDrawer(_Recorder):
    """See the module docstring."""

    def __init__(self, width: int = 5, p_first: float = 0.5, p_after_0: float = 0.25, p_after_1: float = 0.75):
        super().__init__(width)
        self.p_first, self.p_after_0, self.p_after_1 = p_first, p_after_0, p_after_1

    def _probs(self, prev_row, first):
        if first:
            return torch.full(prev_row.shape, self.p_first)
        return self.p_after_0 + (self.p_after_1 - self.p_after_0) * prev_row


def transition_rates(samples) -> tuple[float, float, float]:
    """From samples (n, rows, W) of 0/1: (share of 1s in the first row, share of 1s below a 0, share below a 1)."""
    x = np.asarray(samples, dtype=np.float64)
    above, below = x[:, :-1], x[:, 1:]
    return (float(x[:, 0].mean()), float(below[above == 0].mean()) if (above == 0).any() else math.nan,
            float(below[above == 1].mean()) if (above == 1).any() else math.nan)


def check_feedback(drawer, samples, prefix=None, what: str = "sample_rows") -> None:
    """Check, from what ``drawer`` recorded, that the loop behind ``samples`` (n, rows, W) fed the model the
    start row (zeros), then each row of the result in turn (the prefix rows as given), passed back the state the
    model returned, and tracked no gradients. Raises AssertionError with a message in words."""
    x = torch.as_tensor(np.asarray(samples, dtype=np.float32))
    n, rows, _ = x.shape
    fed, states, grads = list(drawer.fed), list(drawer.states), list(drawer.grad_enabled)
    if any(grads):
        raise check_failure(f"{what} called the model with gradient tracking on: sampling needs no gradients; "
                             "run the loop under torch.no_grad() (it saves memory and time).")
    if len(fed) < rows:
        raise check_failure(f"{what} fed the model {len(fed)} rows for an image of {rows} rows: the model must "
                             "read the start row and then every row but the last, one at a time, to give the "
                             "probabilities of each next row.")
    if len(fed) > rows + 1:
        raise check_failure(f"{what} fed the model {len(fed)} rows for an image of {rows} rows: each row is read "
                             "once (did you run the prefix through the model twice, or restart for every row?).")
    if torch.any(fed[0] != 0):
        raise check_failure(f"{what}: the first row fed to the model must be the start row, all zeros (what the "
                             "model was trained with); it was not.")
    for t in range(1, len(fed)):
        if states[t] is None:
            raise check_failure(f"{what}: the model was called with state=None at row {t}: pass back the state it "
                                 "returned at the previous row, or it forgets everything it has drawn"
                                 + (" (including the prefix)." if prefix is not None else "."))
        if not torch.all(states[t] == t):
            raise check_failure(f"{what}: at row {t} the model was given a state other than the one it returned "
                                 "at the previous row.")
        if not torch.equal(fed[t], x[:, t - 1]):
            fed_binary = bool(torch.all((fed[t] == 0) | (fed[t] == 1)))
            cause = ("it is not even made of 0s and 1s: it looks like the model's probabilities (or logits) were "
                     "fed back instead of the SAMPLED row" if not fed_binary else
                     "it differs from the row your function returned there: feed back exactly the row you keep "
                     "(the prefix row where there is a prefix, the sampled row after it)")
            raise check_failure(f"{what}: the row fed to the model at step {t} should be row {t - 1} of the result; "
                                 f"{cause}.")
