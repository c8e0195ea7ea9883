"""Checks with teaching messages for the NumPy recurrent-cell exercises (notebooks 01 and 02).

None of them computes an answer: each compares what your code returned with a value the test already has.

- :func:`check_gradient`  -- ``check_close`` that, on a mismatch, tells a wrong backward pass from a wrong forward
  pass (by a numerical gradient of YOUR forward pass, which the test supplies)
- :func:`check_unchanged` -- fail when a function wrote into an argument it must not change
- :func:`note_if_changed` -- print a note (costs nothing) when a function wrote into an argument
- :func:`loss_normalisation_hint` -- name a masked loss's likely normalisation mistake
- :func:`tensor_values`   -- a returned torch tensor as a NumPy array, or a message saying what came back instead
"""
from __future__ import annotations

import numpy as np

from .compare import check_close, check_failure, rel_error

__all__ = ["check_gradient", "check_unchanged", "note_if_changed", "loss_normalisation_hint", "tensor_values"]

_FORWARD_TO_BLAME = ("your backward pass agrees with a numerical gradient of your own forward pass, so the FORWARD "
                     "pass is probably wrong: fix it first (see its tests).")


def check_gradient(name: str, actual, expected, *, tol: float, hint: str, own_numerical) -> float:
    """``check_close(name, actual, expected, tol, hint)``; on a mismatch, ``own_numerical()`` (a numerical gradient
    of your forward pass, same shape as ``actual``) decides the message: if your backward agrees with it, the
    forward pass is to blame; otherwise ``hint`` (about the backward pass) is given. Returns the error."""
    try:
        return check_close(name, actual, expected, tol)
    except AssertionError:
        pass
    try:
        numerical = own_numerical()
        consistent = np.shape(actual) == np.shape(numerical) and rel_error(actual, numerical) < 1e-6
    except Exception:  # a hint must never turn a failed check into a crash
        consistent = False
    return check_close(name, actual, expected, tol, hint=_FORWARD_TO_BLAME if consistent else hint)


def check_unchanged(name: str, actual, original, *, function: str = "the function") -> None:
    """Raise AssertionError unless ``actual`` still equals ``original`` (a copy taken before the call)."""
    if not np.array_equal(actual, original):
        raise check_failure(f"{function} modified its argument {name}. The docstring asks you not to write into "
                             f"an input array: compute new arrays (a = a + b rather than a += b when a is an "
                             f"argument or a slice of one).")


def note_if_changed(name: str, actual, original, *, function: str = "the function") -> None:
    """Print a note (no failure) when ``actual`` no longer equals ``original``."""
    if not np.array_equal(actual, original):
        print(f"Note (costs no points): {function} wrote into its argument {name}. That is allowed here, but a "
              f"caller that reuses the array afterwards would see the changed values.")


def loss_normalisation_hint(loss, *, per_step, mask) -> str:
    """Name the likely mistake in a masked loss by comparing ``loss`` with common wrong normalisations of the
    per-step losses ``per_step`` (N, T) the test already has (mask: bool (N, T))."""
    per_step, mask = np.asarray(per_step, dtype=np.float64), np.asarray(mask, dtype=bool)
    N, T = mask.shape
    masked_sum = float((per_step * mask).sum())
    wrong = {
        "did not apply the mask: padding steps (mask False) must add nothing.": per_step.sum() / N,
        "divided by the number of unmasked steps; divide the masked sum by N, the batch size.":
            masked_sum / max(int(mask.sum()), 1),
        "averaged over all N*T steps; divide the masked sum by N, the batch size.": masked_sum / (N * T),
        "forgot to divide by N, the batch size.": masked_sum,
    }
    try:
        loss = float(loss)
        for why, value in wrong.items():
            if np.isclose(loss, value, rtol=1e-6) and not np.isclose(value, masked_sum / N, rtol=1e-6):
                return why
    except (TypeError, ValueError):
        pass
    return ("check the per-step negative log-probabilities of the targets (a softmax over the V scores of each "
            "step), the mask and the division by the batch size N.")


def tensor_values(name: str, value) -> np.ndarray:
    """``value.detach().numpy()`` for a torch tensor (any shape); AssertionError naming what came back otherwise."""
    import torch  # only the torch exercises need it
    if not isinstance(value, torch.Tensor):
        raise check_failure(f"{name} is a {value.__class__.__name__}, not a torch tensor: build it from torch "
                             f"operations on the input tensors (no NumPy) so that autograd can train the cell.")
    return value.detach().numpy()
