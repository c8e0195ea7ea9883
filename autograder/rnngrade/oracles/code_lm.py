"""Grader-side oracles of notebook 07 (a character model of source code, interpretable cells found by search).

Imported only by the hidden tests of ``solutions/07_code_lm`` (and by the producer of the stored expected values
of its visible tests); never part of what students receive.

- :func:`correlation_oracle`: Pearson correlations of every unit with every feature, one pair at a time with
  ``np.corrcoef`` in float64 (constant columns: 0);
- :func:`best_units_oracle`: the unit of largest |correlation| per feature (the first on ties) and its signed value;
- :func:`correlation_diagnosis`: what a wrong correlation matrix most likely got wrong, in words.
"""
from __future__ import annotations

import numpy as np

from .expected import producer

__all__ = ["correlation_oracle", "best_units_oracle", "correlation_diagnosis"]


def correlation_oracle(acts, features) -> np.ndarray:
    """acts (T, U), features (T, K) -> (U, K) float64; 0 where either column has all its values equal."""
    acts = np.asarray(acts, dtype=np.float64)
    features = np.asarray(features, dtype=np.float64)
    U, K = acts.shape[1], features.shape[1]
    out = np.zeros((U, K))
    for u in range(U):
        for k in range(K):
            a, f = acts[:, u], features[:, k]
            if np.ptp(a) == 0 or np.ptp(f) == 0:
                continue
            out[u, k] = np.corrcoef(a, f)[0, 1]
    return out


def best_units_oracle(R):
    """R (U, K) -> (units int64 (K,), r float64 (K,)): per column, the row of largest |R| (the first on ties)."""
    R = np.asarray(R, dtype=np.float64)
    units = np.array([max(range(R.shape[0]), key=lambda u: (abs(R[u, k]), -u)) for k in range(R.shape[1])],
                     dtype=np.int64)
    return units, R[units, np.arange(R.shape[1])]


def correlation_diagnosis(actual, acts, features) -> str:
    """A sentence on the likely cause of a wrong correlation matrix (the hidden tests' hint)."""
    acts = np.asarray(acts, dtype=np.float64)
    features = np.asarray(features, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    norms = np.linalg.norm(acts, axis=0)[:, None] * np.linalg.norm(features, axis=0)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = np.where(norms > 0, acts.T @ features / norms, 0.0)
    if actual.shape == cosine.shape and np.allclose(actual, cosine, atol=1e-6):
        return "these are cosine similarities of the raw columns: subtract each column's mean first."
    return ("r = sum((a - mean a)(f - mean f)) / sqrt(sum((a - mean a)^2) sum((f - mean f)^2)) per pair, computed "
            "in float64 after centring; columns with all values equal give 0.")


@producer("code_lm")
def _expected() -> dict:
    rng = np.random.default_rng(700)
    T = 40
    acts = rng.standard_normal((T, 5))
    acts[:, 2] = 0.5                                              # a constant unit
    acts[:, 4] = 3.0 * acts[:, 0] - 1.0 + 0.3 * rng.standard_normal(T)
    features = np.stack([rng.integers(0, 2, T), np.arange(T) % 7, np.full(T, 2)], axis=1)   # binary, count, constant
    shifted = 1e6 + rng.standard_normal((T, 3))                   # large means, spread 1
    feats2 = np.stack([1e6 + rng.standard_normal(T), rng.integers(0, 4, T)], axis=1)   # a large mean, a count
    return {"corr/acts": acts, "corr/features": features.astype(np.int64),
            "corr/R": correlation_oracle(acts, features),
            "shifted/acts": shifted, "shifted/features": feats2, "shifted/R": correlation_oracle(shifted, feats2)}
