"""Grader-side oracles of notebook 06 (sequence classification), for its hidden tests and its stored expected values.

Everything here computes a graded answer by an independent route: the last real step picked in a Python loop, the
masked cross-entropy as ``F.cross_entropy`` on the real steps gathered in a loop (and the values of the two common
mistakes, for hints), and a short training run whose loss is the oracle's masked cross-entropy. Hidden test cells
import it inside ``### BEGIN HIDDEN TESTS``.

The producer ``sequence_classification`` writes ``rnnlab/expected/sequence_classification.npz``: the fixed inputs
of the visible test of ``masked_cross_entropy``, the loss and its gradient, and the values of the common mistakes.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from rnnlab.testing import optimizer_for

from .expected import producer

__all__ = ["pad_mask", "last_step_oracle", "masked_ce_oracle", "masked_ce_mistakes", "masked_ce_hint",
           "tiny_learning_run"]


def pad_mask(lengths, T):
    """bool (N, T): True at the real steps; built with a Python loop."""
    mask = torch.zeros(len(lengths), T, dtype=torch.bool)
    for n, L in enumerate(lengths.tolist()):
        mask[n, :L] = True
    return mask


def last_step_oracle(outputs, lengths):
    """(N, H) array: row n is outputs[n, lengths[n] - 1], picked one sequence at a time."""
    return np.stack([outputs[n, L - 1] for n, L in enumerate(lengths.tolist())])


def masked_ce_oracle(logits, targets, lengths):
    """F.cross_entropy (float64) over the real steps only, gathered with a Python loop; and its gradient."""
    z = logits.detach().double().clone().requires_grad_(True)
    rows = [z[n, :L] for n, L in enumerate(lengths.tolist())]
    ys = [targets[n, :L] for n, L in enumerate(lengths.tolist())]
    loss = F.cross_entropy(torch.cat(rows), torch.cat(ys))
    loss.backward()
    return loss.item(), z.grad.numpy()


def masked_ce_mistakes(logits, targets, lengths) -> dict:
    """The values of the two common mistakes: {"divided_by_NT": ..., "mean_of_means": ...}."""
    z = logits.detach().double()
    N, T, C = z.shape
    mask = pad_mask(lengths, T)
    safe = torch.where(mask, targets, torch.zeros_like(targets))
    per_step = F.cross_entropy(z.reshape(-1, C), safe.reshape(-1), reduction="none").view(N, T) * mask
    return {"divided_by_NT": (per_step.sum() / (N * T)).item(),
            "mean_of_means": (per_step.sum(1) / lengths).mean().item()}


MISTAKE_WORDS = {
    "divided_by_NT": "the sum was divided by N * T: divide the sum over the real steps by the NUMBER of real steps.",
    "mean_of_means": "the per-sequence means were averaged: every real step must count equally.",
}


def masked_ce_hint(logits, targets, lengths, actual):
    """Name the likely mistake of a wrong masked loss."""
    for key, value in masked_ce_mistakes(logits, targets, lengths).items():
        if abs(actual - value) < 1e-9:
            return MISTAKE_WORDS[key]
    return "the mean, over the real steps only, of the per-step cross-entropy."


def tiny_learning_run(model, x, lengths, y, per_step, steps=60, lr=0.02):
    """Train the student's model for a few Adam steps on one tiny batch; (first loss, last loss), the loss computed
    here (masked cross-entropy for per-step outputs), not by the student's code."""
    opt = optimizer_for(model, torch.optim.Adam, lr=lr)
    losses = []
    mask = pad_mask(lengths, x.shape[1])
    for _ in range(steps):
        out = model(x, lengths)
        loss = F.cross_entropy(out[mask], y[mask]) if per_step else F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses[0], losses[-1]


@producer("sequence_classification")
def _expected():
    g = torch.Generator().manual_seed(700)
    N, T, C = 3, 5, 4
    logits = torch.randn(N, T, C, generator=g, dtype=torch.float64)
    lengths = torch.tensor([5, 2, 3])
    targets = torch.randint(0, C, (N, T), generator=g)
    targets[~pad_mask(lengths, T)] = -1
    loss, grad = masked_ce_oracle(logits, targets, lengths)
    out = {"masked_ce/logits": logits.numpy(), "masked_ce/targets": targets.numpy(), "masked_ce/lengths": lengths.numpy(),
           "masked_ce/loss": np.array(loss), "masked_ce/grad": grad}
    for key, value in masked_ce_mistakes(logits, targets, lengths).items():
        out[f"masked_ce/wrong_{key}"] = np.array(value)
    return out
