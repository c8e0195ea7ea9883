"""Vocabularies: tokens <-> ids, with four special tokens at fixed ids, for captions, dates and sentence pairs.

>>> v = Vocabulary.build(["A red circle.", "a blue circle"])            # words (captions)
>>> v.encode("a red square")                                           # [START, a, red, UNK, END]
[1, 4, 7, 3, 2]
>>> d = Vocabulary.build(["1999-03-03"], level="char")                 # characters (dates)
>>> d.decode(d.encode("1999-03-03"))
'1999-03-03'
>>> ids, mask = v.encode_batch(["a red circle", "a blue circle"])      # padded with <NULL>, and the mask

The special tokens: ``<NULL>`` = 0 pads batches, ``<START>`` = 1 is a decoder's first input, ``<END>`` = 2 its last
target, ``<UNK>`` = 3 stands for any token not in the vocabulary. The other tokens follow, most frequent first
(ties in sorted order), so building from the same texts always gives the same ids.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

__all__ = ["Vocabulary", "LEVELS", "level_rules", "tokenize", "tokenize_words", "pad_sequences"]

_NON_WORD = re.compile(r"[^\w\s]|_")
_WORD_RE = re.compile(r"\w+(?:'\w+)?|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lowercase, replace punctuation by spaces, split on whitespace: "A dog, running." -> ["a", "dog", "running"]."""
    return _NON_WORD.sub(" ", text.lower()).split()


def tokenize_words(text: str) -> list[str]:
    """Words and punctuation marks, in order: "Va-t'en !" -> ['Va', '-', "t'en", '!']. No case change."""
    return _WORD_RE.findall(text)


# level -> (how a text is cut into tokens, how tokens are joined back)
LEVELS = {
    "word": (tokenize, " "),            # captions: lowercase words, punctuation dropped
    "token": (tokenize_words, " "),     # sentence pairs: words and punctuation marks, as written
    "char": (list, ""),                 # dates: characters
}


def level_rules(level: str):
    """(split, joiner) of a level of LEVELS, or a ValueError naming the levels."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    return LEVELS[level]


def pad_sequences(seqs: Sequence[Sequence[int]], pad: int = 0, max_length: int | None = None):
    """Pad integer sequences into one array. Returns (ids int64 (N, T), mask bool (N, T)).

    T is the longest length (or ``max_length``, which also truncates longer sequences); mask is True at the
    real entries and False at the padding.
    """
    lengths = [len(s) for s in seqs]
    T = max(lengths, default=0) if max_length is None else int(max_length)
    ids = np.full((len(seqs), T), pad, dtype=np.int64)
    mask = np.zeros((len(seqs), T), dtype=bool)
    for i, s in enumerate(seqs):
        s = list(s)[:T]
        ids[i, :len(s)] = s
        mask[i, :len(s)] = True
    return ids, mask


class Vocabulary:
    """Tokens <-> ids at one ``level`` of LEVELS ("word", "token" or "char"), with the four special tokens first.

    Vocabulary(tokens, level="word"): the given tokens after the specials, in the given order.
    Vocabulary.build(texts, level="word", min_count=1, max_size=None): from texts, most frequent first.
    """

    NULL, START, END, UNK = "<NULL>", "<START>", "<END>", "<UNK>"
    SPECIALS = (NULL, START, END, UNK)
    null_idx, start_idx, end_idx, unk_idx = 0, 1, 2, 3

    def __init__(self, tokens: Iterable[str], level: str = "word"):
        self.split, self.joiner = level_rules(level)
        tokens = [t for t in tokens if t not in self.SPECIALS]
        if len(set(tokens)) != len(tokens):
            raise ValueError("Vocabulary: repeated tokens")
        self.level = level
        self.itos = list(self.SPECIALS) + tokens
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, texts: Iterable[str | Sequence[str]], level: str = "word", min_count: int = 1,
              max_size: int | None = None) -> "Vocabulary":
        """Every token seen at least ``min_count`` times in ``texts`` (strings, cut at ``level``, or token lists),
        at most ``max_size`` of them (the most frequent) besides the four specials."""
        split = level_rules(level)[0]
        counts = Counter()
        for text in texts:
            counts.update(split(text) if isinstance(text, str) else text)
        tokens = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return cls(tokens[:max_size] if max_size is not None else tokens, level=level)

    def tokens(self, text: str) -> list[str]:
        """The tokens of a text at this vocabulary's level."""
        return self.split(text)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        shown = " ".join(repr(t) if self.level == "char" else t for t in self.itos[4:24])
        return (f"Vocabulary({self.level}, {len(self)} tokens: <NULL> <START> <END> <UNK> {shown}"
                f"{' ...' if len(self) > 24 else ''})")

    def encode(self, text: str | Sequence[str], add_special: bool = True) -> list[int]:
        """Text (or a list of tokens) -> ids; unknown tokens become <UNK>. With ``add_special``:
        [<START>, tokens..., <END>]."""
        toks = self.tokens(text) if isinstance(text, str) else list(text)
        ids = [self.stoi.get(t, self.unk_idx) for t in toks]
        return [self.start_idx, *ids, self.end_idx] if add_special else ids

    def decode(self, ids, stop_at_end: bool = True) -> str:
        """Ids -> text: <NULL> and <START> are dropped; with ``stop_at_end`` nothing from <END> on is kept (else
        <END> is dropped). Ids outside the vocabulary read as <UNK>. Accepts lists, NumPy arrays and tensors (1-D)."""
        out = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if i == self.end_idx:
                if stop_at_end:
                    break
                continue
            if i in (self.null_idx, self.start_idx):
                continue
            out.append(self.itos[i] if 0 <= i < len(self.itos) else self.UNK)
        return self.joiner.join(out)

    def decode_batch(self, ids) -> list[str]:
        """(N, T) ids -> N texts."""
        return [self.decode(row) for row in np.asarray(ids)]

    def encode_batch(self, texts: Sequence[str | Sequence[str]], max_length: int | None = None):
        """Texts -> (ids int64 (N, T), mask bool (N, T)): each row is <START> tokens <END>, padded with <NULL>.

        ``max_length`` caps the number of tokens (longer texts are cut, and still end with <END>); T is then at
        most max_length + 2. mask is True on the real tokens (<START> to <END>), False on the padding.
        """
        seqs = []
        for text in texts:
            ids = self.encode(text, add_special=False)
            if max_length is not None:
                ids = ids[:max_length]
            seqs.append([self.start_idx, *ids, self.end_idx])
        return pad_sequences(seqs, pad=self.null_idx)
