"""Numerical gradients by centred differences, the oracle for every backward pass in the workbook.

Both functions work in float64 on a private copy of the input, so the caller's array is left exactly
as it was, and they return float64 arrays of the input's shape.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["numerical_gradient", "numerical_gradient_array"]


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-5) -> np.ndarray:
    """Gradient of a scalar function ``f`` at ``x`` by centred differences.

    df/dx_i ~= (f(x + h e_i) - f(x - h e_i)) / (2h); the error is O(h^2).

    f: called with a float64 array shaped like x; must return a scalar.
    x: array of any shape. Returns grad: float64 array, x.shape.
    """
    x = np.array(x, dtype=np.float64)  # private float64 copy
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = float(f(x))
        flat[i] = old - h
        fm = float(f(x))
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return grad


def numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x, dout, h: float = 1e-5) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x``: the backward pass of an array-valued ``f``.

    This is what a layer's ``*_backward`` must return for input ``x`` given the upstream gradient ``dout``.

    f: called with a float64 array shaped like x; returns an array shaped like dout.
    x: array of any shape; dout: upstream gradient, f(x).shape. Returns float64 array, x.shape.
    """
    dout = np.asarray(dout, dtype=np.float64)
    return numerical_gradient(lambda z: np.sum(np.asarray(f(z), dtype=np.float64) * dout), x, h)
