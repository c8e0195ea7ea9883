"""Character vocabularies: text <-> integer ids."""
from __future__ import annotations

from typing import Iterable

import numpy as np

__all__ = ["CharVocab"]


class CharVocab:
    """A character vocabulary built from a text; ids follow sorted character order (deterministic).

    >>> v = CharVocab("hello"); v.decode(v.encode("hole"))
    'hole'
    """

    def __init__(self, text: str | Iterable[str]):
        self.chars = sorted(set(text))
        if not self.chars:
            raise ValueError("CharVocab needs a non-empty text")
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """text -> int64 array of ids, (len(text),). Unknown characters raise KeyError naming them."""
        missing = sorted(set(text) - self.stoi.keys())
        if missing:
            raise KeyError(f"characters not in the vocabulary: {missing!r}")
        return np.array([self.stoi[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:
        """ids (any int sequence) -> text."""
        return "".join(self.chars[int(i)] for i in np.asarray(ids).reshape(-1))

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} chars)"
