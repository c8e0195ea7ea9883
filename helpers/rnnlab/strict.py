"""The warnings rule of every test cell: numerical warnings fail, other warnings are noted and cost nothing.

A graded test cell scores 0 if anything reaches stderr, and a warning printed the usual way goes to stderr. So every
test cell runs its checks inside :func:`strict_numerics`:

- a **numerical** ``RuntimeWarning`` from NumPy or PyTorch (overflow, invalid value, divide by zero) is a real
  problem in the code under test (``np.exp`` of a large number, ``0 * inf``, ``log(0)``): it fails the check, with
  the warning's text and what it usually means;
- **any other warning** (your own ``warnings.warn``, a library's ``DeprecationWarning`` or ``UserWarning``) is
  printed to stdout as a note after the checks and costs nothing.

Usage in a test cell::

    with strict_numerics():
        out = rnn_step_forward(x, prev_h, Wx, Wh, b)
        check_close("next_h", out[0], expected, tol=1e-10)
"""
from __future__ import annotations

import contextlib
import warnings

__all__ = ["strict_numerics", "NUMERICAL_WARNING_PATTERN", "NumericalWarningError"]

# warnings.filterwarnings matches its message pattern at the start of the message (case-insensitive).
NUMERICAL_WARNING_PATTERN = r".*(overflow encountered|invalid value encountered|divide by zero encountered)"

_MEANINGS = (
    ("overflow", "a value grew past the largest float: typically np.exp (or cosh, or a power) of a large number. "
                 "Rewrite the formula so it never exponentiates a large positive number (for example, subtract the "
                 "row maximum before a softmax, or use np.tanh instead of building tanh from np.exp)."),
    ("invalid value", "an operation had no numeric answer (inf - inf, 0 * inf, 0 / 0, log of a negative number), "
                      "so NaN appeared. Usually an earlier overflow or a division by a count that can be zero."),
    ("divide by zero", "a division by zero or a log of zero: check denominators that can be 0 (for example a mask "
                       "that selects nothing) and probabilities that can underflow to 0 before a log."),
)


class NumericalWarningError(AssertionError):
    """A numerical RuntimeWarning raised by the code under test, turned into a failed check."""


def _explain(message: str) -> str:
    for key, meaning in _MEANINGS:
        if key in message.lower():
            return meaning
    return "a numerical problem in the computation."


@contextlib.contextmanager
def strict_numerics():
    """Run checks with the workbook's warnings rule (see the module docstring).

    A numerical RuntimeWarning inside the block raises :class:`NumericalWarningError` (an ``AssertionError``)
    whose message quotes the warning and says what it usually means; a block that catches ``RuntimeWarning`` itself
    (to give a more specific hint) still can. Other warnings are printed to stdout when the block ends, as notes.
    """
    notes: list[str] = []

    def _note(message, category, filename, lineno, file=None, line=None):
        notes.append(f"{category.__name__}: {message}")

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.filterwarnings("error", message=NUMERICAL_WARNING_PATTERN, category=RuntimeWarning)
        warnings.showwarning = _note
        try:
            yield
        except RuntimeWarning as exc:
            text = str(exc)
            if not any(key in text.lower() for key, _ in _MEANINGS):
                raise
            raise NumericalWarningError(f"Your code raised a numerical warning: {text!r}. This usually means "
                                        f"{_explain(text)}") from None
        finally:
            for note in dict.fromkeys(notes):      # each distinct note once, in order
                print(f"Note (costs no points): your code raised a warning, {note}")
