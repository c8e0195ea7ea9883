"""Plots the notebooks share: loss curves and heat maps."""
from __future__ import annotations

import numpy as np

__all__ = ["plot_losses", "smooth"]


def smooth(values, weight: float = 0.9) -> np.ndarray:
    """Exponential moving average (bias-corrected), to read a noisy loss curve."""
    values = np.asarray(values, dtype=np.float64)
    out, avg = np.empty_like(values), 0.0
    for i, v in enumerate(values):
        avg = weight * avg + (1 - weight) * v
        out[i] = avg / (1 - weight ** (i + 1))
    return out


def plot_losses(curves: dict, xlabel: str = "iteration", ylabel: str = "loss", title: str = "",
                logy: bool = False, smooth_weight: float = 0.0, ax=None):
    """Plot one or more loss curves. curves: name -> sequence of values (or (x, y) pair). Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, vals in curves.items():
        if isinstance(vals, tuple) and len(vals) == 2:
            x, y = vals
        else:
            y = vals
            x = np.arange(len(y))
        y = smooth(y, smooth_weight) if smooth_weight else np.asarray(y)
        ax.plot(x, y, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax
