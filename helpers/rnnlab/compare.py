"""Comparing arrays: the one ``rel_error`` of the workbook, and checks with messages a student can act on.

Every notebook, test and the grader use these, so "relative error" means the same number everywhere.

**A failed check shows its message, not rnnlab's code.** The checks raise an ordinary ``AssertionError`` made by
:func:`check_failure`, which carries IPython's ``_render_traceback_`` hook: when a notebook (or the grader's kernel)
displays the error, the traceback keeps the student's cell and the student's own functions but leaves out the
frames of ``rnnlab``'s modules, which only say where the message was built. Outside IPython (pytest, a script)
nothing changes. rnnlab's other checks can raise their failures with ``check_failure`` too (``rnnlab.clips_checks``
does).
"""
from __future__ import annotations

import functools
import traceback
import types

import numpy as np

__all__ = ["rel_error", "scaled_error", "check_close", "check_close_f32", "check_shape", "check_failure",
           "without_internal_frames", "Tolerance", "TOL"]


class Tolerance(float):
    """A tolerance with a name and the reason for its size. It is a float everywhere (``err <= TOL.SEQUENCE``), and
    a failed :func:`check_close` quotes its name and reason, so a student sees why the bar is where it is."""

    def __new__(cls, value: float, name: str, why: str):
        self = super().__new__(cls, value)
        self.name, self.why = name, why
        return self

    def __reduce__(self):                  # pickled whole (the judge sends values between kernels)
        return (Tolerance, (float(self), self.name, self.why))

    def __repr__(self) -> str:
        return f"TOL.{self.name} = {short_number(self)}"

    def __str__(self) -> str:                # f"below {TOL.STEP}" -> "below 1e-10", as the prose writes it
        return short_number(self)

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else format(float(self), spec)


def short_number(value: float) -> str:
    """A tolerance as the workbook's prose writes it, exactly: 1e-08 -> '1e-8', 2.5e-05 -> '2.5e-5', 0 -> '0'."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{float(value):.12e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


class TOL:
    """The workbook's named tolerances, from strictest to loosest. Test cells name one instead of writing a number,
    and a failed check says which one it was and why it has that size. Each bounds the error its check measures:
    :func:`rel_error` in ``check_close``, :func:`scaled_error` in ``check_close_f32``."""

    IDENTICAL = Tolerance(0.0, "IDENTICAL", "a value that is copied, selected or left unchanged: it must be "
                                            "the same number, bit for bit")
    EXACT = Tolerance(1e-12, "EXACT", "a value with one right answer, computed in float64 (a count, a ratio, a copy)")
    STEP = Tolerance(1e-10, "STEP", "one float64 formula against a float64 reference; only the rounding of a "
                                    "different order of operations can differ")
    SUM = Tolerance(1e-9, "SUM", "a float64 loss or gradient summed over many terms, against a float64 reference")
    SEQUENCE = Tolerance(1e-8, "SEQUENCE", "float64 through many steps (a sequence, a backward pass, a network), "
                                           "where rounding accumulates")
    NUMERICAL = Tolerance(1e-7, "NUMERICAL", "an analytic gradient against centred differences, whose own error "
                                             "is about this size")
    LOOSE = Tolerance(1e-6, "LOOSE", "a float64 result that correct code may compute another way: an epsilon "
                                     "added to a denominator, saturated gates, float32 steps inside a model")
    FLOAT32 = Tolerance(1e-5, "FLOAT32", "float32 arithmetic against a float64 reference (float32 keeps about 7 "
                                         "significant digits)")
    FLOAT32_GRADIENT = Tolerance(1e-4, "FLOAT32_GRADIENT", "a float32 backward pass against a float64 reference: "
                                                           "each step loses a few float32 digits")


def _internal(frame) -> bool:
    """A frame of rnnlab's own code, or one that asks to be hidden (``__tracebackhide__``, IPython's convention)."""
    name = frame.f_globals.get("__name__", "") or ""
    return name == "rnnlab" or name.startswith("rnnlab.") or bool(frame.f_locals.get("__tracebackhide__", False))


def without_internal_frames(tb):
    """A copy of the traceback chain ``tb`` without rnnlab's frames (see :func:`_internal`); None if none is left."""
    kept = []
    while tb is not None:
        if not _internal(tb.tb_frame):
            kept.append(tb)
        tb = tb.tb_next
    new = None
    for entry in reversed(kept):
        new = types.TracebackType(new, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return new


def _render_without_internals(exc: BaseException) -> list[str]:
    """IPython's ``_render_traceback_`` for a failed check: its usual formatting of ``exc`` without rnnlab's frames."""
    tb = without_internal_frames(exc.__traceback__)
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            return shell.InteractiveTB.structured_traceback(type(exc), exc, tb)
    except Exception:   # noqa: BLE001 - never let the display of a failure fail; fall back to the plain format
        pass
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip("\n").split("\n")


def check_failure(message: str, exc_type=AssertionError) -> BaseException:
    """The exception a failed check raises: ``exc_type(message)`` (an AssertionError unless told otherwise), shown
    in IPython without rnnlab's frames. Use: ``raise check_failure("h has shape ..., expected ...")``."""
    exc = exc_type(message)
    exc._render_traceback_ = functools.partial(_render_without_internals, exc)
    return exc


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
        raise check_failure(f"{name} is None: did the function forget to return it?")
    shape = np.shape(actual)
    if tuple(shape) != tuple(expected_shape):
        raise check_failure(f"{name} has shape {tuple(shape)}, expected {tuple(expected_shape)}.")


def check_close(name: str, actual, expected, tol: float = TOL.NUMERICAL, hint: str = "",
                relative_to: str = "elementwise") -> float:
    """Check ``rel_error(actual, expected) <= tol``; raise AssertionError with a useful message if not.

    relative_to: "elementwise" compares with ``rel_error``; "max" with ``scaled_error`` (for float32 results).
    The message names the output, its worst element (index, value, expected value, error)
    and, when given, the ``hint``: the most likely cause in words a student can act on. A named tolerance
    (:class:`TOL`) is quoted with its name and reason. Returns the error so a notebook can print it.
    """
    if relative_to not in ("elementwise", "max"):
        raise ValueError(f"relative_to must be 'elementwise' or 'max', not {relative_to!r}")
    expected = np.asarray(expected, dtype=np.float64)
    check_shape(name, actual, expected.shape)
    try:
        a = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise check_failure(f"{name} is not a numeric array ({type(actual).__name__}): {exc}") from None
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise check_failure(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)}). {hint}".strip())
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
        named = isinstance(tol, Tolerance)
        bar = repr(tol) if named else short_number(tol)
        msg = (f"{name} is wrong{where}: got {a[idx]:.6g}, expected {expected[idx]:.6g} "
               f"({kind} {err:.2e}, tolerance {bar}).")
        if hint:
            msg += f" Likely cause: {hint}"
        if named:
            msg += f" (TOL.{tol.name} allows for {tol.why}.)"
        raise check_failure(msg)
    return err


def check_close_f32(name: str, actual, expected, tol: float = TOL.FLOAT32, hint: str = "") -> float:
    """``check_close`` for a result computed from float32 inputs against a float64 oracle: the error is
    measured against the largest expected entry (``scaled_error``), with a float32-sized tolerance."""
    return check_close(name, actual, expected, tol=tol, hint=hint, relative_to="max")
