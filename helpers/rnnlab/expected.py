"""Stored expected values for the visible tests: fixed inputs and the outputs a correct answer gives on them.

A visible test may not run code that computes the answer it checks (students receive everything a visible test
imports). Where no independent check of another kind exists (a numerical gradient, a PyTorch built-in for a NumPy
exercise), the test compares with values stored here, as arrays in ``rnnlab/expected/<notebook>.npz``. They are
computed on the grader's side by ``rnngrade.oracles`` (``python -m rnngrade.oracles.expected`` writes them) and a
test in ``tests/`` recomputes them and checks the stored files agree.

Keys are ``"<case>/<field>"``, for example ``"lstm_cell/x"``, ``"lstm_cell/next_h"``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["EXPECTED_DIR", "load_expected"]

EXPECTED_DIR = Path(__file__).resolve().parent / "expected"


def load_expected(notebook: str, case: str) -> dict[str, np.ndarray]:
    """The stored arrays of one case: ``{field: array}`` for every key ``"<case>/<field>"`` of
    ``expected/<notebook>.npz`` (notebook: e.g. ``"char_lm"``)."""
    path = EXPECTED_DIR / f"{notebook}.npz"
    if not path.exists():
        raise FileNotFoundError(f"no stored expected values for notebook {notebook!r} ({path})")
    prefix = f"{case}/"
    with np.load(path, allow_pickle=False) as data:
        found = {key[len(prefix):]: data[key] for key in data.files if key.startswith(prefix)}
    if not found:
        raise KeyError(f"{path.name} has no case {case!r}")
    return found
