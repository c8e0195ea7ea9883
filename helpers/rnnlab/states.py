"""Recurrent states in test cells: the one ``check_state`` of the workbook (notebooks 03 and 04 use it).

A recurrent layer's state is one tensor (``nn.GRU``, ``nn.RNN``: h of shape (layers, N, H)) or a pair of tensors
(``nn.LSTM``: (h, c), each (layers, N, H)). A function that returns a state must return it in that structure.

- ``state_tensors(state, what)``: the tensors of a state as a list, or an AssertionError that says what a state is;
- ``check_state(name, actual, expected, tol, hint)``: compare a returned state with the expected one, part by part
  (how many parts, then each part's shape and values with ``rnnlab.check_close``).
"""
from __future__ import annotations

import numpy as np
import torch

from .compare import check_close, check_failure

__all__ = ["state_tensors", "check_state"]


def state_tensors(state, what: str = "the state") -> list:
    """The tensors of a recurrent state: [h] for one tensor (GRU, RNN), [h, c] for a tuple or list (LSTM).
    Raises AssertionError naming ``what`` if a part is not a tensor."""
    tensors = list(state) if isinstance(state, (tuple, list)) else [state]
    for t in tensors:
        if not isinstance(t, torch.Tensor):
            raise check_failure(f"{what} must be a tensor (GRU, vanilla RNN) or a tuple (h, c) of tensors (LSTM), "
                                 f"got {t.__class__.__name__}.")
    return tensors


def check_state(name: str, actual, expected, tol: float, hint: str = "") -> float:
    """Compare a returned state (a tensor, or a tuple of tensors such as (h, c)) with the expected one (tensors or
    arrays, in the same structure): the number of parts, then each part's shape and values, in float64, with
    ``check_close`` (relative error ``tol``; ``hint`` in words). Returns the largest relative error."""
    actual = state_tensors(actual, name)
    expected = list(expected) if isinstance(expected, (tuple, list)) else [expected]
    if len(actual) != len(expected):
        raise check_failure(f"{name} holds {len(actual)} tensor(s), expected {len(expected)}: return the state "
                             "exactly as the recurrent layer returns it (the pair (h, c) for an LSTM, one tensor h for "
                             "a GRU or a vanilla RNN).")
    worst = 0.0
    for k, (a, e) in enumerate(zip(actual, expected)):
        e = e.detach().cpu().numpy() if isinstance(e, torch.Tensor) else np.asarray(e)
        label = f"{name}[{k}]" if len(expected) > 1 else name
        worst = max(worst, check_close(label, a.detach().double().cpu().numpy(), e, tol, hint=hint))
    return worst
