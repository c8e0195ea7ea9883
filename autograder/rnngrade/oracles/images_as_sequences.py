"""Grader-side oracles of notebook 08 (images as sequences), for its hidden tests and its stored expected values.

``glimpses_oracle`` cuts glimpses out of images one pixel at a time in a NumPy loop (an independent route to
``extract_glimpses``); with ``variant`` it also gives the answers of the plausible mistakes (coordinates swapped,
the window one pixel off, the window clamped inside the image instead of zero-padded), which the checks use to name
the mistake. ``check_glimpses`` compares a student's glimpses with the oracle. Hidden test cells import this module
inside ``### BEGIN HIDDEN TESTS``.

The producer ``images_as_sequences`` writes ``rnnlab/expected/images_as_sequences.npz``: fixed images, centres and
the glimpses of the visible test, with the mistakes' answers for its messages.
"""
from __future__ import annotations

import numpy as np
import torch

from rnnlab.glimpse_checks import GLIMPSE_MISTAKES

from .expected import producer

VARIANTS = ("right", "transposed", "shifted", "clamped")
MISTAKES = GLIMPSE_MISTAKES


def glimpses_oracle(images, centres, size: int, variant: str = "right") -> np.ndarray:
    """images (N, H, W), centres (N, K, 2) int (row, col), size s -> (N, K, s, s) float64 by a pixel loop.
    variant: "right", or one of the mistakes in MISTAKES."""
    images = np.asarray(images, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.int64)
    N, H, W = images.shape
    K = centres.shape[1]
    out = np.zeros((N, K, size, size))
    for n in range(N):
        for k in range(K):
            r, c = centres[n, k]
            if variant == "transposed":
                r, c = c, r
            top, left = r - size // 2, c - size // 2
            if variant == "shifted":
                top, left = top + 1, left + 1
            if variant == "clamped":
                top, left = min(max(top, 0), max(H - size, 0)), min(max(left, 0), max(W - size, 0))
            for i in range(size):
                for j in range(size):
                    y, x = top + i, left + j
                    if 0 <= y < H and 0 <= x < W:
                        out[n, k, i, j] = images[n, y, x]
    return out


def diagnose_glimpses(actual, images, centres, size) -> str | None:
    """The message of the mistake whose answer ``actual`` matches, if any."""
    actual = np.asarray(actual, dtype=np.float64)
    for variant, message in MISTAKES.items():
        wrong = glimpses_oracle(images, centres, size, variant)
        if wrong.shape == actual.shape and np.allclose(actual, wrong, rtol=1e-6, atol=1e-9) \
                and not np.allclose(wrong, glimpses_oracle(images, centres, size)):
            return message
    return None


def check_glimpses(extract, images, centres, size: int, label: str = "") -> None:
    """Call the student's ``extract(images, centres, size)`` and compare with the oracle (exact up to float
    rounding); raise AssertionError naming the likely mistake."""
    out = extract(images, centres, size)
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"extract_glimpses{label} returned a {out.__class__.__name__}, not a tensor.")
    N, K = centres.shape[:2]
    if tuple(out.shape) != (N, K, size, size):
        raise AssertionError(f"extract_glimpses{label} returned shape {tuple(out.shape)}, expected "
                             f"{(N, K, size, size)} (N, K, size, size).")
    if out.dtype != images.dtype:
        raise AssertionError(f"extract_glimpses{label} returned {out.dtype} for {images.dtype} images: keep the "
                             "images' dtype.")
    expected = glimpses_oracle(images.numpy(), centres.numpy(), size)
    actual = out.detach().double().numpy()
    if not np.allclose(actual, expected, rtol=1e-6, atol=1e-7):
        cause = diagnose_glimpses(actual, images.numpy(), centres.numpy(), size)
        where = np.argwhere(~np.isclose(actual, expected, rtol=1e-6, atol=1e-7))[0].tolist()
        raise AssertionError(f"extract_glimpses{label}: glimpse {where[:2]} is wrong at pixel {where[2:]} "
                             f"({actual[tuple(where)]:.4g} instead of {expected[tuple(where)]:.4g}). "
                             + (cause or "Each glimpse pixel (i, j) is image[r - s // 2 + i, c - s // 2 + j], or 0 "
                                         "where that lies outside the image."))


@producer("images_as_sequences")
def _expected():
    out = {}
    rng = np.random.default_rng(8001)
    cases = {
        # an even size (4) and an odd size (5) on a non-square image; centres at corners, edges and inside
        "glimpse_even": (4, [[[0, 0], [6, 10], [3, 5], [0, 9]], [[6, 0], [2, 7], [5, 1], [1, 3]]]),
        "glimpse_odd": (5, [[[0, 10], [3, 2], [6, 6]], [[4, 0], [1, 1], [6, 10]]]),
    }
    for case, (size, centres) in cases.items():
        images = rng.uniform(0.1, 1.0, size=(2, 7, 11))
        centres = np.array(centres, dtype=np.int64)
        out[f"{case}/images"] = images
        out[f"{case}/centres"] = centres
        out[f"{case}/size"] = np.array(size)
        for variant in VARIANTS:
            out[f"{case}/{variant}"] = glimpses_oracle(images, centres, size, variant)
    return out
