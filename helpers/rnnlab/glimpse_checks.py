"""Small problems and checks for testing a glimpse classifier (notebook 08, section 1).

Each tiny problem is one a recurrent glimpse classifier solves in a few hundred steps and a model missing one
ingredient cannot solve at all:

- ``memory_problem``: the class is whether the FIRST glimpse is bright or dark; the later glimpses are one noise
  patch shared by every scene. A model that keeps only the last glimpse (or whose state forgets) stays at chance.
- ``location_problem``: every glimpse is the same noise, and the class is on which side of the image (given by
  ``axis``: 0 = top/bottom, 1 = left/right) the first glimpse was taken. A model that ignores the locations, or
  reads only one of the two coordinates, stays at chance.

``fit_tiny`` trains a model on one with Adam (the optimizer built where the model lives,
``rnnlab.testing.optimizer_for``) and returns its training accuracy. ``compare_glimpses`` compares glimpses with a
stored case (``rnnlab.load_expected("images_as_sequences", ...)``: the right answer and the answers of the usual
mistakes) and names the mistake. Nothing here extracts or classifies glimpses itself.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .compare import check_failure
from .testing import optimizer_for

__all__ = ["GLIMPSE_MISTAKES", "memory_problem", "location_problem", "fit_tiny", "call_glimpse_model",
           "compare_glimpses"]

# The usual mistakes of a glimpse extractor, and what each means in words (keys: fields of a stored case).
GLIMPSE_MISTAKES = {
    "transposed": "your glimpses are taken at (column, row) instead of (row, column): centres[n, k] = (r, c) is "
                  "row r, column c (y first, like image[r, c]).",
    "shifted": "your glimpse windows are one pixel off: a window of size s centred at r spans rows r - s // 2 to "
               "r - s // 2 + s - 1 (for an even s, one more row above the centre than below).",
    "clamped": "near the border your window was moved (or cut) to stay inside the image: the rule is zero padding, "
               "the window stays centred on the given pixel and the pixels outside the image are 0.",
}


def memory_problem(n: int = 64, k: int = 3, size: int = 4, seed: int = 0):
    """(glimpses (n, k, size, size) float32, locs (n, k, 2) float32 in [-1, 1], labels (n,) int64). The first
    glimpse is +1 or -1 (the label) plus noise; the later glimpses and all the locations are the same for every
    scene, so that nothing else can be memorised."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    glimpses = (0.3 * torch.randn(1, k, size, size, generator=g)).expand(n, k, size, size).clone()
    glimpses[:, 0] = (2.0 * labels.float() - 1.0)[:, None, None] + 0.3 * torch.randn(n, size, size, generator=g)
    locs = (2 * torch.rand(1, k, 2, generator=g) - 1).expand(n, k, 2).clone()
    return glimpses, locs, labels


def location_problem(n: int = 64, k: int = 3, size: int = 4, seed: int = 0, axis: int = 1):
    """(glimpses, locs, labels) as ``memory_problem``; the label is whether the first glimpse's coordinate
    ``axis`` is positive. Every glimpse of every scene is the same noise patch, and every other coordinate is the
    same for every scene: only that one coordinate tells the scenes apart."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    glimpses = (0.3 * torch.randn(1, 1, size, size, generator=g)).expand(n, k, size, size).clone()
    locs = (2 * torch.rand(1, k, 2, generator=g) - 1).expand(n, k, 2).clone()
    side = 0.2 + 0.8 * torch.rand(n, generator=g)
    locs[:, 0, axis] = torch.where(labels == 1, side, -side)
    return glimpses, locs, labels


def call_glimpse_model(model, glimpses, locs, what: str = "your GlimpseRNN"):
    """model(glimpses, locs), with a message in words when it fails or returns something other than a tensor."""
    try:
        out = model(glimpses, locs)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any error is the student's to read
        raise check_failure(f"{what} raised {exc.__class__.__name__}: {exc} (glimpses {tuple(glimpses.shape)}, "
                             f"locs {tuple(locs.shape)}). Likely cause: the shapes inside forward; a glimpse of "
                             "size g x g flattens to g * g numbers, and K (the number of glimpses) can be any "
                             "number from 1 up.") from None
    if not isinstance(out, torch.Tensor):
        raise check_failure(f"{what} returned a {out.__class__.__name__}; it must return the logits, one tensor "
                             "(N, num_classes).")
    return out


def fit_tiny(model, problem, steps: int = 200, lr: float = 1e-2) -> float:
    """Train ``model`` on ``problem`` = (glimpses, locs, labels) with full-batch Adam for ``steps`` steps; return
    its accuracy on the same data afterwards (a float in [0, 1])."""
    glimpses, locs, labels = problem
    opt = optimizer_for(model, torch.optim.Adam, lr=lr)
    for _ in range(steps):
        loss = F.cross_entropy(call_glimpse_model(model, glimpses, locs), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float((call_glimpse_model(model, glimpses, locs).argmax(1) == labels).float().mean())


def compare_glimpses(actual, case: dict, label: str = "") -> None:
    """Compare ``actual`` (N, K, s, s) with ``case["right"]`` (up to float rounding); when it matches one of the
    stored mistakes instead, say which. Raises AssertionError with a message in words."""
    expected = np.asarray(case["right"])
    if not isinstance(actual, torch.Tensor):
        raise check_failure(f"extract_glimpses{label} returned a {actual.__class__.__name__}, not a tensor.")
    if tuple(actual.shape) != expected.shape:
        raise check_failure(f"extract_glimpses{label} returned shape {tuple(actual.shape)}, expected "
                             f"{expected.shape} (N, K, size, size).")
    got = actual.detach().cpu().double().numpy()
    bad = ~np.isclose(got, expected, rtol=1e-6, atol=1e-7)
    if not bad.any():
        return
    for variant, message in GLIMPSE_MISTAKES.items():
        if variant in case and np.allclose(got, case[variant], rtol=1e-6, atol=1e-7):
            raise check_failure(f"extract_glimpses{label}: {message}")
    n, k, i, j = np.argwhere(bad)[0].tolist()
    centre = np.asarray(case["centres"])[n, k].tolist()
    raise check_failure(f"extract_glimpses{label}: glimpse [{n}, {k}] (centre {centre}) is wrong at pixel ({i}, {j}): "
                         f"{got[n, k, i, j]:.4g} instead of "
                         f"{expected[n, k, i, j]:.4g}; {bad.sum()} of {bad.size} pixels are wrong. Pixel (i, j) of "
                         "a glimpse is image[r - s // 2 + i, c - s // 2 + j], or 0 where that lies outside the "
                         "image.")
