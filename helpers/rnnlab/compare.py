"""Comparing arrays: the one ``rel_error`` of the workbook, and checks with messages a student can act on.

Every notebook, test and the grader use these, so "relative error" means the same number everywhere.
"""
from __future__ import annotations

import numpy as np

__all__ = ["rel_error", "check_close", "check_shape"]


def rel_error(x, y) -> float:
    """Largest elementwise relative error between ``x`` and ``y``.

    ``rel_error(x, y) = max_i |x_i - y_i| / max(1e-8, |x_i| + |y_i|)``

    The denominator makes the number scale-free (1e-7 means "agrees to about seven significant digits")
    and the floor of 1e-8 keeps entries that are both zero from dividing by zero. Rough guide for
    float64 gradient checks: below 1e-7 is right; 1e-5 to 1e-7 is suspicious unless kinks (max, abs)
    are involved; above 1e-3 is a bug. Float32 values only agree to about 1e-6.

    x, y: arrays (or scalars) of the same shape. Returns a Python float; 0.0 for empty arrays.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: shapes differ, {x.shape} vs {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def check_shape(name: str, actual, expected_shape) -> None:
    """Raise AssertionError unless ``actual`` is an array-like of ``expected_shape``."""
    if actual is None:
        raise AssertionError(f"{name} is None: did the function forget to return it?")
    shape = np.shape(actual)
    if tuple(shape) != tuple(expected_shape):
        raise AssertionError(f"{name} has shape {tuple(shape)}, expected {tuple(expected_shape)}.")


def check_close(name: str, actual, expected, tol: float = 1e-7, hint: str = "") -> float:
    """Check ``rel_error(actual, expected) <= tol``; raise AssertionError with a useful message if not.

    The message names the output, its worst element (index, value, expected value, relative error)
    and, when given, the ``hint``: the most likely cause in words a student can act on.
    Returns the relative error so a notebook can print it.
    """
    expected = np.asarray(expected, dtype=np.float64)
    check_shape(name, actual, expected.shape)
    try:
        a = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{name} is not a numeric array ({type(actual).__name__}): {exc}") from None
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise AssertionError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)}). {hint}".strip())
    err = rel_error(a, expected)
    if not err <= tol:
        denom = np.maximum(1e-8, np.abs(a) + np.abs(expected))
        rel = np.abs(a - expected) / denom
        idx = np.unravel_index(int(np.argmax(rel)), rel.shape) if rel.ndim else ()
        where = f" at index {tuple(int(i) for i in idx)}" if rel.ndim else ""
        msg = (f"{name} is wrong{where}: got {a[idx]:.6g}, expected {expected[idx]:.6g} "
               f"(relative error {err:.2e}, tolerance {tol:.0e}).")
        if hint:
            msg += f" Likely cause: {hint}"
        raise AssertionError(msg)
    return err
