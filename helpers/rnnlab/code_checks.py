"""Test-cell helpers of notebook 07: what a wrong result most likely got wrong, in words.

They compare the result of your function with an expected value the test already has (a stored one); they never
compute the answer themselves.

- :func:`correlation_hint`: the likely cause of a wrong correlation matrix (not centred, transposed, normalised
  with different counts, a sign lost);
- :func:`best_units_hint`: the likely cause of a wrong choice of best units.
"""
from __future__ import annotations

import numpy as np

__all__ = ["correlation_hint", "best_units_hint"]


def correlation_hint(actual, expected, acts, features) -> str:
    """actual, expected: (U, K) correlation matrices; acts (T, U), features (T, K): the inputs. A sentence."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    acts = np.asarray(acts, dtype=np.float64)
    features = np.asarray(features, dtype=np.float64)
    if actual.shape == expected.shape[::-1] and actual.shape != expected.shape:
        return ("the result is transposed: row u must belong to unit u (a column of acts) and column k to "
                "feature k (a column of features).")
    if actual.shape != expected.shape:
        return (f"the result must have one row per unit and one column per feature, {expected.shape}; "
                "reduce over the time axis (axis 0) only.")
    if not np.all(np.isfinite(actual)):
        return ("some entries are not finite: a column whose values are all equal has zero spread, and its "
                "correlations must be set to 0 instead of dividing by zero.")
    norms = np.linalg.norm(acts, axis=0)[:, None] * np.linalg.norm(features, axis=0)[None, :]
    raw = np.divide(acts.T @ features, norms, out=np.zeros_like(actual), where=norms > 0)
    if np.allclose(actual, raw, atol=1e-6) and not np.allclose(raw, expected, atol=1e-6):
        return ("these are the cosines between the raw columns: a correlation measures how the two vary around "
                "their means, so subtract each column's mean (over time) first.")
    live = np.abs(expected) > 1e-3
    if live.any():
        ratio = actual[live] / expected[live]
        if np.allclose(ratio, ratio[0], rtol=1e-6) and not np.isclose(ratio[0], 1.0):
            return (f"every correlation is off by the same factor {ratio[0]:.4f}: the covariance and the two "
                    "spreads must be normalised the same way (all by T, or all by T - 1), so that the counts "
                    "cancel.")
        if np.allclose(np.abs(actual[live]), np.abs(expected[live]), rtol=1e-6):
            return "the sizes are right but some signs are not: do not take absolute values in the correlation."
    if np.allclose(actual[~live], 0) and live.any():
        return ("the values are close but not within the tolerance: compute in float64 and centre each column "
                "before multiplying (sum(x*y)/T - mean(x) mean(y) loses the digits when the means are large).")
    return ("compare one entry by hand: r = cov(a, f) / (std(a) std(f)) over the T time steps, with the means "
            "subtracted first; columns whose values are all equal give 0.")


def best_units_hint(units, r, R, expected_units) -> str:
    """units, r: what the function returned; R (U, K): its input; expected_units (K,): the right units."""
    units = np.asarray(units)
    R = np.asarray(R, dtype=np.float64)
    K = R.shape[1]
    if units.shape != (K,):
        return (f"there must be one unit per feature, shape ({K},): pick the best row within each column of R "
                "(the units are the rows).")
    signed = np.argmax(R, axis=0)
    if np.array_equal(units, signed) and not np.array_equal(units, expected_units):
        return ("you picked the largest signed correlation; a unit whose activation goes DOWN when the feature "
                "is on (a strongly negative correlation) tracks it just as well, so compare sizes, |r|.")
    if np.array_equal(units, expected_units):
        return ("the units are right, so the returned correlations are not: return R[unit, k] with its sign, "
                "not its absolute value.")
    return ("for each column k, the unit u of largest |R[u, k]|; on a tie the smallest u (what np.argmax "
            "does).")
