"""Generated scenes for classifying an image from a sequence of glimpses (notebook 08, section 1).

>>> scenes = make_pair_scenes(4000, seed=0)   # PairScenes: images (N, 30, 30) float32, labels (N,) ...
>>> order = glimpse_orders(len(scenes), seed=0)        # (N, 9): a random order of the nine cells per scene

**The scenes.** A 30 x 30 grey image is divided into a 3 x 3 grid of 10 x 10 cells. Two small glyphs (6 x 6, one of
GLYPHS: plus, cross, ring, block) sit at the centres of two different cells (``jitter=1`` moves each up to a pixel
off), with random brightness and a little noise everywhere. The label is whether the two glyphs are the SAME (1) or
DIFFERENT (0); classes are balanced. A glimpse of 12 x 12 pixels centred on a cell (``CELL_CENTRES``) sees that cell
whole and never a pixel of another cell's glyph, so no single glimpse can answer: the model has to see both glyphs and
remember the first while it looks for the second.

Deterministic: the same arguments give the same bytes on every machine with the same NumPy (the generator is
seeded with ``[seed, GLIMPSE_DATA_VERSION]``).

Nothing here extracts glimpses or classifies: that is the notebook's exercise. ``show_glimpse_path`` draws where
glimpses were taken (the boxes), from centres it is given.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GLIMPSE_DATA_VERSION", "GLYPHS", "PAIR_CLASSES", "IMAGE_SIZE", "CELL", "GLIMPSE_SIZE", "CELL_CENTRES",
           "PairScenes", "glyph_bitmaps", "make_pair_scenes", "glimpse_orders", "normalised_locations",
           "show_glimpse_path"]

GLIMPSE_DATA_VERSION = 1      # bump when the generator's output changes
GLYPHS = ("plus", "cross", "ring", "block")
PAIR_CLASSES = ("different", "same")
IMAGE_SIZE = 30
CELL = 10                     # the grid's cell side: a 3 x 3 grid
GLIMPSE_SIZE = 12             # a glimpse centred on a cell sees the cell and one pixel around it
GLYPH = 6
# (row, col) pixel centres of the nine cells, row-major: the glimpse locations the notebook uses
CELL_CENTRES = np.array([[CELL * r + CELL // 2, CELL * c + CELL // 2] for r in range(3) for c in range(3)],
                        dtype=np.int64)


def glyph_bitmaps() -> np.ndarray:
    """float32 (len(GLYPHS), 6, 6): the four glyphs, 1 on the strokes, 0 elsewhere."""
    i, j = np.mgrid[:GLYPH, :GLYPH]
    plus = (i == 2) | (i == 3) | (j == 2) | (j == 3)
    cross = (i == j) | (i + j == GLYPH - 1)
    ring = (i == 0) | (i == GLYPH - 1) | (j == 0) | (j == GLYPH - 1)
    block = (i >= 1) & (i <= 4) & (j >= 1) & (j <= 4) & ~((i == 1) & (j == 1)) & ~((i == 4) & (j == 4))
    return np.stack([plus, cross, ring, block]).astype(np.float32)


@dataclass
class PairScenes:
    """Scenes of two glyphs.

    images: float32 (N, 30, 30), values in [0, 1]
    labels: int64 (N,), an index into PAIR_CLASSES: 1 when both glyphs are the same
    glyphs: int64 (N, 2), each glyph's index into GLYPHS
    cells:  int64 (N, 2), the cell (0..8, row-major) of each glyph; the two differ
    """

    images: np.ndarray
    labels: np.ndarray
    glyphs: np.ndarray
    cells: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return (f"PairScenes({len(self)} images of {self.images.shape[1]}x{self.images.shape[2]}, "
                f"classes {np.bincount(self.labels, minlength=2).tolist()})")


def make_pair_scenes(n: int = 4000, seed: int = 0, noise: float = 0.05, jitter: int = 0) -> PairScenes:
    """``n`` scenes (see the module docstring); balanced labels; each glyph up to ``jitter`` (0 or 1) pixels off
    its cell's centre in each direction; deterministic for given arguments."""
    rng = np.random.default_rng([int(seed), GLIMPSE_DATA_VERSION])
    bitmaps = glyph_bitmaps()
    k = len(GLYPHS)
    labels = rng.permutation(np.arange(n) % 2).astype(np.int64)
    first = rng.integers(k, size=n)
    other = (first + rng.integers(1, k, size=n)) % k            # a different glyph, uniformly
    glyphs = np.stack([first, np.where(labels == 1, first, other)], axis=1).astype(np.int64)
    cells = np.stack([rng.choice(9, size=2, replace=False) for _ in range(n)]).astype(np.int64)
    offset = rng.integers(-1, 2, size=(n, 2, 2)) * min(max(int(jitter), 0), 1)   # -1, 0 or +1 pixel each way
    brightness = rng.uniform(0.6, 1.0, size=(n, 2))
    images = np.clip(rng.normal(0.0, noise, size=(n, IMAGE_SIZE, IMAGE_SIZE)), 0.0, 1.0).astype(np.float32)
    for i in range(n):
        for j in range(2):
            top, left = CELL_CENTRES[cells[i, j]] - GLYPH // 2 + offset[i, j]
            patch = images[i, top:top + GLYPH, left:left + GLYPH]
            np.maximum(patch, brightness[i, j] * bitmaps[glyphs[i, j]], out=patch)
    return PairScenes(images, labels, glyphs, cells)


def glimpse_orders(n: int, seed: int = 0) -> np.ndarray:
    """int64 (n, 9): for every scene a random order in which to visit the nine cells (a permutation of 0..8);
    ``CELL_CENTRES[order[:, :K]]`` are the centres of K glimpses at K different random cells."""
    rng = np.random.default_rng([int(seed), GLIMPSE_DATA_VERSION, 7])
    return np.argsort(rng.random((n, 9)), axis=1).astype(np.int64)


def normalised_locations(centres, image_size: int = IMAGE_SIZE):
    """Pixel centres (row, col), any shape (..., 2), to locations in [-1, 1]: -1 at the first pixel, +1 at the
    last. Works on NumPy arrays and torch tensors (returns float32 / the tensor's floating type)."""
    half = (image_size - 1) / 2.0
    if hasattr(centres, "float") and not isinstance(centres, np.ndarray):
        return (centres.float() - half) / half
    return ((np.asarray(centres, dtype=np.float32) - half) / half).astype(np.float32)


def show_glimpse_path(image, centres, size: int = GLIMPSE_SIZE, ax=None, title: str = "", notes=None):
    """Draw ``image`` (H, W) with a numbered box for each glimpse (centres: (K, 2) pixel (row, col), in order;
    a box spans rows r - size // 2 .. r - size // 2 + size - 1). ``notes``: optional K strings written beside
    the numbers (e.g. the model's P(same) after that glimpse). Returns the axes."""
    import matplotlib.patches as patches
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(np.asarray(image), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    colours = plt.cm.viridis(np.linspace(0.1, 0.95, max(len(centres), 1)))
    for k, (r, c) in enumerate(np.asarray(centres)):
        top, left = r - size // 2, c - size // 2
        ax.add_patch(patches.Rectangle((left - 0.5, top - 0.5), size, size, fill=False, lw=1.5, ec=colours[k]))
        label = str(k + 1) + (f" {notes[k]}" if notes is not None else "")
        ax.text(left + 0.5, top + 1.5, label, color=colours[k], fontsize=7, va="top",
                bbox={"facecolor": "black", "alpha": 0.5, "pad": 0.5, "lw": 0})
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)
    return ax
