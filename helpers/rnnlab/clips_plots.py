"""Plots and summaries of the sequence-classification notebook (06), from predictions your models made.

- ``confusion(true, pred, C)``: the confusion matrix, counts (C, C), row = true class, column = predicted;
- ``plot_confusion(m, names, ax, title)``: draw one, rows coloured by share, counts written in;
- ``plot_clip_classifier(losses, true, pred, lengths, names)``: training loss, confusion matrix, accuracy by length;
- ``plot_frame_tagger(losses, true, pred, mask, names)``: training loss, accuracy at every frame index, confusion
  matrix over the real frames;
- ``rows_until_settled(probs, true, first_row)``: how many rows past an object's first row a row-by-row reader
  needs until its prediction is right and stays right;
- ``plot_row_reading(images, probs, true, rows, names)``: a row-by-row reader's confidence against rows read.

Nothing here is a model or a loss; every number comes from the predictions passed in.
"""
from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np

from .plotting import plot_losses

__all__ = ["confusion", "plot_confusion", "plot_clip_classifier", "plot_frame_tagger", "rows_until_settled",
           "plot_row_reading"]


def confusion(true, pred, C: int) -> np.ndarray:
    """int64 (C, C): entry (i, j) counts the examples of true class i predicted as j. true, pred: int arrays of
    the same shape, values in 0 .. C - 1."""
    true, pred = np.asarray(true).ravel(), np.asarray(pred).ravel()
    if true.shape != pred.shape:
        raise ValueError(f"true and pred differ in size: {true.shape} vs {pred.shape}")
    if true.size and (min(true.min(), pred.min()) < 0 or max(true.max(), pred.max()) >= C):
        raise ValueError(f"classes must lie in 0 .. {C - 1}")
    m = np.zeros((C, C), dtype=np.int64)
    np.add.at(m, (true, pred), 1)
    return m


def plot_confusion(m, names, ax, title: str = "") -> None:
    """Draw the confusion matrix ``m`` (C, C) on ``ax``: colour = share of the row, text = count."""
    m = np.asarray(m)
    shares = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, str(m[i, j]), ha="center", va="center", color="white" if shares[i, j] > 0.5 else "black")
    ax.set(xticks=range(len(names)), yticks=range(len(names)), xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_yticklabels(names)


def plot_clip_classifier(losses, true, pred, lengths, names, title: str = "Clip classifier"):
    """Three panels: the training loss (smoothed), the confusion matrix of ``pred`` against ``true`` (N,), and the
    accuracy for every clip length (``lengths`` (N,)). Returns the figure."""
    true, pred, lengths = np.asarray(true), np.asarray(pred), np.asarray(lengths)
    right = pred == true
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    plot_losses({"training loss": losses}, smooth_weight=0.9, ax=axes[0], title=f"{title}: training")
    plot_confusion(confusion(true, pred, len(names)), names, axes[1], f"validation: {right.mean():.1%} right")
    lens = np.arange(lengths.min(), lengths.max() + 1)
    axes[2].bar(lens, [right[lengths == L].mean() if (lengths == L).any() else 0.0 for L in lens], color="tab:blue")
    axes[2].set(xlabel="clip length (frames)", ylabel="validation accuracy", ylim=(0, 1),
                title="Accuracy by clip length")
    axes[2].grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def plot_frame_tagger(losses, true, pred, mask, names, title: str = "Frame tagger"):
    """Three panels: the training loss, the accuracy at every frame index t over the real frames, and the confusion
    matrix over all real frames. true, pred: int (N, T); mask: bool (N, T), True at the real frames. Returns the
    figure."""
    true, pred, mask = np.asarray(true), np.asarray(pred), np.asarray(mask, dtype=bool)
    right = (pred == true) & mask
    by_frame = right.sum(axis=0) / np.maximum(mask.sum(axis=0), 1)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    plot_losses({"training loss": losses}, smooth_weight=0.9, ax=axes[0], title=f"{title}: training")
    axes[1].bar(np.arange(true.shape[1]), by_frame, color="tab:blue")
    axes[1].axhline(1 / len(names), color="gray", ls="--", label="chance")
    axes[1].set(xlabel="frame index t", ylabel="validation accuracy", ylim=(0, 1.02), title="Accuracy at every frame")
    axes[1].legend(loc="lower right")
    axes[1].grid(alpha=0.3, axis="y")
    plot_confusion(confusion(true[mask], pred[mask], len(names)), names, axes[2],
                   f"all real frames: {right.sum() / max(mask.sum(), 1):.1%} right")
    fig.tight_layout()
    return fig


def rows_until_settled(probs, true, first_row) -> np.ndarray:
    """int (N,): for every image, the number of rows read, counted from the object's first row, after which the
    prediction is right and stays right to the last row (S - first_row when it never settles).
    probs: (N, S, C), the prediction after reading t = 1 .. S rows; true: (N,); first_row: (N,), 0-based."""
    probs, true, first_row = np.asarray(probs), np.asarray(true), np.asarray(first_row)
    S = probs.shape[1]
    right = probs.argmax(2) == true[:, None]                                            # (N, S)
    stays = np.flip(np.cumprod(np.flip(right, axis=1), axis=1), axis=1).astype(bool)   # right from row t on
    settled = np.where(stays.any(axis=1), stays.argmax(axis=1) + 1, S + 1)             # rows read when it settles
    return settled - (first_row + 1)


def plot_row_reading(images, probs, true, rows, names, offsets=range(-8, 17)):
    """A row-by-row reader's confidence. images: uint8 (N, S, S, 3); probs: (N, S, C), the class probabilities
    after reading t = 1 .. S rows; true: (N,); rows: (N, 2), the first and last row the object covers.

    Top: one image of each class and its probabilities against rows read (the object's rows shaded). Bottom left:
    the probability of the true class, aligned at the object's first row (median, 10th to 90th percentile).
    Bottom right: ``rows_until_settled`` per class, with the object's height. Returns the figure."""
    probs, true, rows = np.asarray(probs), np.asarray(true), np.asarray(rows)
    N, S, C = probs.shape
    fig = plt.figure(figsize=(15, 7.5))
    grid = fig.add_gridspec(2, 2 * C, height_ratios=[1, 1.1], hspace=0.45, wspace=0.6)
    for j, k in enumerate(range(C)):
        if not (true == k).any():
            continue
        i = int(np.argmax(true == k))
        ax_img = fig.add_subplot(grid[0, 2 * j])
        ax_img.imshow(images[i], interpolation="nearest")
        ax_img.set_title(names[k], fontsize=9)
        ax_img.axis("off")
        ax = fig.add_subplot(grid[0, 2 * j + 1])
        ax.axhspan(rows[i, 0] + 0.5, rows[i, 1] + 1.5, color="tab:orange", alpha=0.25)
        for c in range(C):
            ax.plot(probs[i, :, c], np.arange(1, S + 1), lw=2 if c == k else 1, color="black" if c == k else None,
                    alpha=1 if c == k else 0.5, label=names[c])
        ax.set(ylim=(S + 0.5, 0.5), xlim=(0, 1), xlabel="probability", ylabel="rows read")
        ax.tick_params(labelsize=7)
        if j == 0:
            ax.legend(fontsize=6, loc="lower left")

    ax = fig.add_subplot(grid[1, :C])
    offsets = np.asarray(list(offsets))
    p_true = probs[np.arange(N), :, true]                                               # (N, S)
    aligned = np.full((N, len(offsets)), np.nan)
    for i in range(N):
        rows_read = rows[i, 0] + offsets + 1
        ok = (rows_read >= 1) & (rows_read <= S)
        aligned[i, ok] = p_true[i, rows_read[ok] - 1]
    with warnings.catch_warnings():            # offsets no image reaches are all-NaN columns: left blank
        warnings.simplefilter("ignore", RuntimeWarning)
        ax.plot(offsets, np.nanmedian(aligned, axis=0), color="black", label="median")
        ax.fill_between(offsets, np.nanpercentile(aligned, 10, axis=0), np.nanpercentile(aligned, 90, axis=0),
                        alpha=0.3, label="10th to 90th percentile")
    ax.axvline(0, color="tab:orange", ls="--", label="object's first row read")
    ax.set(xlabel="rows read past the object's first row", ylabel="P(true shape)", ylim=(0, 1.02),
           title="Confidence against rows read (validation)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)

    ax = fig.add_subplot(grid[1, C + 1:])
    needed = rows_until_settled(probs, true, rows[:, 0])
    height = rows[:, 1] - rows[:, 0] + 1
    for k in range(C):
        sel = true == k
        if sel.any():
            ax.boxplot(needed[sel], positions=[k], widths=0.5, showfliers=False, medianprops={"color": "black"})
            ax.plot([k - 0.3, k + 0.3], [np.median(height[sel]) - 1] * 2, color="tab:orange", lw=2, ls="--")
    ax.set(xticks=range(C), xticklabels=names, ylabel="rows past the object's first row",
           title="Rows needed until the prediction is right for good\n(orange: the object's last row, median)")
    ax.grid(alpha=0.3, axis="y")
    return fig
