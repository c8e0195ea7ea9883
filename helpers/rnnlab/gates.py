"""LSTM gate layouts: the workbook stacks the four gate blocks as (i, f, o, g); PyTorch stacks them as (i, f, g, o).

Tests use these to copy weights between the two layouts and to recognise a result computed with the blocks in
another order. Works on NumPy arrays and torch tensors alike.
"""
from __future__ import annotations

import itertools

import numpy as np

from .compare import rel_error

__all__ = ["WORKBOOK_ORDER", "TORCH_ORDER", "reorder_gates", "gate_order_hint"]

WORKBOOK_ORDER = "ifog"
TORCH_ORDER = "ifgo"


def reorder_gates(W, order_from: str, order_to: str):
    """Permute the gate blocks along the last axis of ``W``.

    W: array or tensor (..., G*H) holding G = len(order_from) blocks of width H, in the order ``order_from``
    (e.g. "ifog"); returns the same blocks in the order ``order_to`` (e.g. "ifgo"), same type and dtype as ``W``.
    """
    if sorted(order_from) != sorted(order_to):
        raise ValueError(f"orders {order_from!r} and {order_to!r} do not name the same gates")
    width = W.shape[-1]
    if width % len(order_from):
        raise ValueError(f"last axis of size {width} does not split into {len(order_from)} gate blocks")
    H = width // len(order_from)
    blocks = {gate: W[..., k * H:(k + 1) * H] for k, gate in enumerate(order_from)}
    ordered = [blocks[gate] for gate in order_to]
    if isinstance(W, np.ndarray):
        return np.concatenate(ordered, axis=-1)
    import torch  # only when given a tensor
    return torch.cat(ordered, dim=-1)


def gate_order_hint(actual, expected_for_order, contract: str, default: str) -> str:
    """Say so when ``actual`` is right except for the order of the gate blocks.

    expected_for_order: a function order -> the expected array when the weights' blocks are read in that order
    (the test's oracle); contract: the order the exercise asks for (e.g. "ifog"); default: the message to return
    when no other order explains ``actual``.
    """
    try:
        actual = np.asarray(actual, dtype=np.float64)
        for perm in itertools.permutations(contract):
            order = "".join(perm)
            if order == contract:
                continue
            expected = np.asarray(expected_for_order(order), dtype=np.float64)
            if actual.shape == expected.shape and rel_error(actual, expected) < 1e-6:
                return (f"your output matches the gate order ({', '.join(order)}), but the blocks along the gate "
                        f"axis must be ({', '.join(contract)}), in that order.")
    except Exception:  # a hint must never turn a failed check into a crash
        pass
    return default
