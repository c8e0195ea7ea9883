"""Compute the stored expected values of the visible tests (``helpers/rnnlab/expected/<notebook>.npz``).

An oracle module registers a producer per notebook with :func:`producer`; a producer returns
``{"<case>/<field>": array}`` built from fixed, seeded inputs and the grader-side oracle. ``python -m
rnngrade.oracles.expected`` (re)writes every file; ``tests/test_expected_values.py`` recomputes them and checks
that the stored files agree, so a stored value can never drift from its oracle.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Callable

import numpy as np

PRODUCERS: dict[str, Callable[[], dict[str, np.ndarray]]] = {}


def producer(notebook: str):
    """Register ``fn() -> {"<case>/<field>": array}`` as the producer of ``expected/<notebook>.npz``."""
    def register(fn):
        if notebook in PRODUCERS:
            raise ValueError(f"two producers for notebook {notebook!r}")
        PRODUCERS[notebook] = fn
        return fn
    return register


def load_producers() -> dict[str, Callable[[], dict[str, np.ndarray]]]:
    """Import every module of ``rnngrade.oracles`` so that their producers register; return them."""
    from rnngrade import oracles
    for info in pkgutil.iter_modules(oracles.__path__):
        importlib.import_module(f"rnngrade.oracles.{info.name}")
    return PRODUCERS


def compute(notebook: str) -> dict[str, np.ndarray]:
    values = load_producers()[notebook]()
    for key, value in values.items():
        if key.count("/") != 1:
            raise ValueError(f"expected-value key {key!r} is not '<case>/<field>'")
        if np.asarray(value).dtype == object:
            raise ValueError(f"expected value {key!r} is not a plain array")
    return {key: np.asarray(value) for key, value in values.items()}


def write_all() -> list[str]:
    from rnnlab.expected import EXPECTED_DIR
    EXPECTED_DIR.mkdir(exist_ok=True)
    written = []
    for notebook in sorted(load_producers()):
        path = EXPECTED_DIR / f"{notebook}.npz"
        np.savez_compressed(path, **compute(notebook))
        written.append(str(path))
    return written


if __name__ == "__main__":
    # Run as a script this file is __main__, a second copy of the module: the oracle modules register their
    # producers into ``rnngrade.oracles.expected``, so write through that one.
    from rnngrade.oracles.expected import write_all as _write_all
    for path in _write_all():
        print("wrote", path)
    sys.exit(0)
