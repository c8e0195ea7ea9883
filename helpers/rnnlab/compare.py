"""Comparing arrays: the one ``rel_error`` of the workbook, and checks with messages a student can act on.

Every notebook, test and the grader use these, so "relative error" means the same number everywhere.
"""
from __future__ import annotations

import numpy as np

__all__ = ["rel_error", "scaled_error", "check_close", "check_close_f32", "check_shape"]


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


def scaled_error(actual, expected) -> float:
    """Largest absolute error measured against the largest entry of ``expected``:

    ``scaled_error(a, e) = max_i |a_i - e_i| / max(1e-8, max_i |e_i|)``

    Use it for results computed in float32: float32 keeps about 7 significant digits of the *largest* terms of
    a sum, so an entry that nearly cancels to zero cannot be compared digit by digit with ``rel_error``.
    Non-finite differences count as infinite. Returns a Python float; 0.0 for empty arrays.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise ValueError(f"scaled_error: shapes differ, {a.shape} vs {e.shape}")
    if e.size == 0:
        return 0.0
    diff = np.abs(a - e)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    return float(np.max(diff) / max(float(np.max(np.abs(e))), 1e-8))


def check_shape(name: str, actual, expected_shape) -> None:
    """Raise AssertionError unless ``actual`` is an array-like of ``expected_shape``."""
    if actual is None:
        raise AssertionError(f"{name} is None: did the function forget to return it?")
    shape = np.shape(actual)
    if tuple(shape) != tuple(expected_shape):
        raise AssertionError(f"{name} has shape {tuple(shape)}, expected {tuple(expected_shape)}.")


def check_close(name: str, actual, expected, tol: float = 1e-7, hint: str = "",
                relative_to: str = "elementwise") -> float:
    """Check ``rel_error(actual, expected) <= tol``; raise AssertionError with a useful message if not.

    relative_to: "elementwise" compares with ``rel_error``; "max" with ``scaled_error`` (for float32 results).
    The message names the output, its worst element (index, value, expected value, error)
    and, when given, the ``hint``: the most likely cause in words a student can act on.
    Returns the error so a notebook can print it.
    """
    if relative_to not in ("elementwise", "max"):
        raise ValueError(f"relative_to must be 'elementwise' or 'max', not {relative_to!r}")
    expected = np.asarray(expected, dtype=np.float64)
    check_shape(name, actual, expected.shape)
    try:
        a = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{name} is not a numeric array ({type(actual).__name__}): {exc}") from None
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise AssertionError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)}). {hint}".strip())
    if relative_to == "max":
        err = scaled_error(a, expected)
        worst = np.abs(a - expected)
        kind = "error relative to the largest expected entry"
    else:
        err = rel_error(a, expected)
        worst = np.abs(a - expected) / np.maximum(1e-8, np.abs(a) + np.abs(expected))
        kind = "relative error"
    if not err <= tol:
        idx = np.unravel_index(int(np.argmax(worst)), worst.shape) if worst.ndim else ()
        where = f" at index {tuple(int(i) for i in idx)}" if worst.ndim else ""
        msg = (f"{name} is wrong{where}: got {a[idx]:.6g}, expected {expected[idx]:.6g} "
               f"({kind} {err:.2e}, tolerance {tol:.0e}).")
        if hint:
            msg += f" Likely cause: {hint}"
        raise AssertionError(msg)
    return err


def check_close_f32(name: str, actual, expected, tol: float = 1e-5, hint: str = "") -> float:
    """``check_close`` for a result computed from float32 inputs against a float64 oracle: the error is
    measured against the largest expected entry (``scaled_error``), with a float32-sized tolerance."""
    return check_close(name, actual, expected, tol=tol, hint=hint, relative_to="max")
