"""Sequence-to-sequence data: dates in many human forms to ISO, a tiny reordering grammar, tab-separated pair files.

>>> data = make_dates(seed=0)                       # {"train", "val", "heldout"} -> PairSet
>>> data["train"][0]                                # (source, target, kind)
>>> src_vocab = Vocabulary.build(data["train"].sources, level="char")
>>> batch = encode_pairs(data["train"].sources[:4], data["train"].targets[:4], src_vocab, tgt_vocab)
>>> pairs = load_pairs_tsv("fra.txt", max_pairs=20000)   # "source<TAB>target[<TAB>attribution]" per line

Everything here is offline and deterministic: the same seed gives the same data, byte for byte.

* **Dates** (``make_dates``): a calendar date between 1950-01-01 and 2049-12-31 written in one of ``len(DATE_FORMATS)``
  human forms ("3rd of March 1999", "Mar 3, 99", "03/03/1999" (US: month first), "03.03.1999" (day first),
  "Wednesday, March 3, 1999", "the third of march, 1999", ...) and its ISO form "1999-03-03". Two-digit years are
  read in the window 1950-2049 ("49" is 2049, "50" is 1950), so every source has exactly one right answer. The
  ``heldout`` split holds *dates* that never occur in ``train`` or ``val``, in any form: a model that scores well on
  it has learned to read dates, not memorised them.
* **Reordering** (``make_reorder``): English-like subject-verb-object sentences ("the big dog quickly sees a small
  red cat") into an invented verb-final language with case particles, where adjectives follow their noun and
  the determiner closes the noun phrase ("inu dai ta ga neko sho aka na o haya miru"). The words translate
  one to one, but the order changes: the verb moves from the middle to the end, across the object.
* **Real pairs** (``load_pairs_tsv``): the format of the Tatoeba-derived files (for example those of
  manythings.org/anki): one pair per line, "source<TAB>target", optionally a third column (the attribution).

Vocabularies are ``rnnlab.vocab.Vocabulary`` (the captioning notebook's too) at the level "char" (dates) or "token"
(words and punctuation marks, for sentence pairs), with four special tokens at fixed ids: ``<NULL>`` = 0
(padding), ``<START>`` = 1, ``<END>`` = 2, ``<UNK>`` = 3. Nothing here is the answer to a graded exercise: the
notebook's students write the encoder, the decoder, the loss, the decoding and the metrics.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .vocab import Vocabulary, level_rules, pad_sequences, tokenize_words  # noqa: F401 -- part of this module's API

__all__ = [
    "PairSet", "Vocabulary", "DATE_FORMATS", "DATE_MIN", "DATE_MAX", "format_date", "make_dates", "make_reorder",
    "reorder_sentence", "REORDER_LEXICON", "load_pairs_tsv", "encode_pairs", "Batch", "iterate_batches",
    "tokenize_words",
]

# --------------------------------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------------------------------


def _pair_level(level: str):
    """(split, joiner) for sentence pairs: "char" or "token" (a pair's words keep their case and punctuation)."""
    if level not in ("char", "token"):
        raise ValueError(f"level must be 'char' or 'token', not {level!r}")
    return level_rules(level)


@dataclass
class PairSet:
    """Aligned source and target texts, with an optional label per pair (``kinds``: the date format's name, ...).

    Indexing gives ``(source, target, kind)``; ``subset(index)`` a new PairSet.
    """

    sources: list[str]
    targets: list[str]
    kinds: list[str] = field(default_factory=list)
    name: str = ""

    def __post_init__(self):
        if len(self.sources) != len(self.targets):
            raise ValueError(f"PairSet: {len(self.sources)} sources but {len(self.targets)} targets")
        if not self.kinds:
            self.kinds = [""] * len(self.sources)
        if len(self.kinds) != len(self.sources):
            raise ValueError("PairSet: one kind per pair")

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, i):
        return self.sources[i], self.targets[i], self.kinds[i]

    def __repr__(self) -> str:
        kinds = sorted(set(self.kinds) - {""})
        extra = f", {len(kinds)} kinds" if kinds else ""
        first = f"; e.g. {self.sources[0]!r} -> {self.targets[0]!r}" if len(self) else ""
        return f"PairSet({self.name or 'pairs'}: {len(self)} pairs{extra}{first})"

    def subset(self, index) -> "PairSet":
        idx = np.arange(len(self))[index] if not isinstance(index, (list, np.ndarray)) else np.asarray(index)
        idx = np.atleast_1d(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return PairSet([self.sources[i] for i in idx], [self.targets[i] for i in idx],
                       [self.kinds[i] for i in idx], self.name)

    def reversed_sources(self, level: str = "char") -> "PairSet":
        """The same pairs with every source read backwards (characters, or words and punctuation marks for
        ``level="token"``)."""
        split, joiner = _pair_level(level)
        rev = [joiner.join(split(s)[::-1]) for s in self.sources]
        return PairSet(rev, list(self.targets), list(self.kinds), self.name)


# --------------------------------------------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------------------------------------------
@dataclass
class Batch:
    """Padded id arrays (NumPy int64) for a batch of pairs.

    src (N, S): source ids, no <START>/<END>, padded with <NULL> on the right; src_len (N,): true lengths (>= 1);
    tgt (N, T): <START> target <END>, padded with <NULL>. The decoder reads tgt[:, :-1] and predicts tgt[:, 1:].
    """

    src: np.ndarray
    src_len: np.ndarray
    tgt: np.ndarray

    def __len__(self) -> int:
        return len(self.src)

    def to_torch(self, device=None):
        """(src, src_len, tgt) as torch tensors (src_len stays on the CPU, as pack_padded_sequence wants)."""
        import torch

        return (torch.as_tensor(self.src, device=device), torch.as_tensor(self.src_len),
                torch.as_tensor(self.tgt, device=device))


def _pad(seqs: Sequence[Sequence[int]]) -> np.ndarray:
    """Right-padded with <NULL> (= 0), at least one column wide."""
    return pad_sequences(seqs, pad=0, max_length=max(max((len(s) for s in seqs), default=0), 1))[0]


def encode_pairs(sources: Sequence[str], targets: Sequence[str] | None, src_vocab: Vocabulary,
                 tgt_vocab: Vocabulary | None = None, max_src_len: int | None = None,
                 max_tgt_len: int | None = None) -> Batch:
    """Encode and pad a batch. Sources are cut to ``max_src_len`` tokens, targets to ``max_tgt_len`` tokens (the
    cut target still ends with <END>); an empty source becomes a single <UNK> (the encoder needs one step).
    Without targets, ``tgt`` is a column of <START> ids."""
    src = []
    for s in sources:
        ids = src_vocab.encode(s, add_special=False)[:max_src_len]
        src.append(ids or [src_vocab.unk_idx])
    if targets is None:
        tgt = np.full((len(src), 1), Vocabulary.start_idx, dtype=np.int64)
    else:
        if tgt_vocab is None:
            raise ValueError("encode_pairs: targets given without tgt_vocab")
        if len(targets) != len(sources):
            raise ValueError("encode_pairs: as many targets as sources")
        rows = [[Vocabulary.start_idx, *tgt_vocab.encode(t, add_special=False)[:max_tgt_len], Vocabulary.end_idx]
                for t in targets]
        tgt = _pad(rows)
    return Batch(_pad(src), np.array([len(s) for s in src], dtype=np.int64), tgt)


def iterate_batches(pairs: PairSet, src_vocab: Vocabulary, tgt_vocab: Vocabulary, batch_size: int,
                    rng: np.random.Generator | None = None, drop_last: bool = False, **kwargs):
    """One pass over ``pairs`` in batches (shuffled with ``rng`` when given), each a ``Batch``."""
    order = rng.permutation(len(pairs)) if rng is not None else np.arange(len(pairs))
    stop = len(order) - (len(order) % batch_size if drop_last else 0)
    for k in range(0, stop, batch_size):
        idx = order[k:k + batch_size]
        yield encode_pairs([pairs.sources[i] for i in idx], [pairs.targets[i] for i in idx], src_vocab,
                           tgt_vocab, **kwargs)


# --------------------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------------------
DATE_MIN, DATE_MAX = dt.date(1950, 1, 1), dt.date(2049, 12, 31)
DATES_VERSION = 1
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_ONES = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
         "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
         "nineteenth"]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _ordinal_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n % 10 == 0:
        return {20: "twentieth", 30: "thirtieth"}[n]
    return {2: "twenty", 3: "thirty"}[n // 10] + "-" + _ONES[n % 10]


def _yy(d: dt.date) -> str:
    return f"{d.year % 100:02d}"


# name -> function of the date. Separators tell the day-first and month-first numeric forms apart.
DATE_FORMATS: dict[str, Callable[[dt.date], str]] = {
    "3rd of March 1999": lambda d: f"{_ordinal(d.day)} of {_MONTHS[d.month - 1]} {d.year}",
    "3 March 1999": lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",
    "March 3, 1999": lambda d: f"{_MONTHS[d.month - 1]} {d.day}, {d.year}",
    "Mar 3, 99": lambda d: f"{_MONTHS[d.month - 1][:3]} {d.day}, {_yy(d)}",
    "3-Mar-1999": lambda d: f"{d.day}-{_MONTHS[d.month - 1][:3]}-{d.year}",
    "MARCH 3RD 1999": lambda d: f"{_MONTHS[d.month - 1]} {_ordinal(d.day)} {d.year}".upper(),
    "Wednesday, March 3, 1999": lambda d: f"{_DAYS[d.weekday()]}, {_MONTHS[d.month - 1]} {d.day}, {d.year}",
    "Wed 3 Mar 99": lambda d: f"{_DAYS[d.weekday()][:3]} {d.day} {_MONTHS[d.month - 1][:3]} {_yy(d)}",
    "the third of march, 1999": lambda d: f"the {_ordinal_words(d.day)} of {_MONTHS[d.month - 1].lower()}, "
                                          f"{d.year}",
    "03/03/1999 (US)": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",
    "3/3/99 (US)": lambda d: f"{d.month}/{d.day}/{_yy(d)}",
    "03.03.1999 (day first)": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "3.3.99 (day first)": lambda d: f"{d.day}.{d.month}.{_yy(d)}",
    "1999/03/03": lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    "19990303": lambda d: f"{d.year}{d.month:02d}{d.day:02d}",
    "march 1999, 3rd": lambda d: f"{_MONTHS[d.month - 1].lower()} {d.year}, {_ordinal(d.day)}",
}


def format_date(d: dt.date, kind: str) -> str:
    """The date ``d`` written in the form ``kind`` (a key of DATE_FORMATS)."""
    return DATE_FORMATS[kind](d)


def _all_dates() -> list[dt.date]:
    n = (DATE_MAX - DATE_MIN).days + 1
    return [DATE_MIN + dt.timedelta(days=k) for k in range(n)]


def make_dates(seed: int = 0, n_train: int = 20000, n_val: int = 1000, n_heldout: int = 2000,
               heldout_frac: float = 0.1, formats: Sequence[str] | None = None) -> dict[str, PairSet]:
    """Date translation pairs: {"train", "val", "heldout"} -> PairSet of (human form, ISO form, format name).

    The 36,525 days of 1950-2049 are shuffled with ``seed``; the first ``heldout_frac`` of them are the held-out
    dates, which never appear in ``train`` or ``val``. Each pair draws a date from its pool and a format uniformly
    from ``formats`` (default: all of DATE_FORMATS). Deterministic: the same arguments give the same pairs.
    """
    formats = list(DATE_FORMATS) if formats is None else list(formats)
    unknown = set(formats) - set(DATE_FORMATS)
    if unknown:
        raise KeyError(f"unknown date formats {sorted(unknown)}; choose from {list(DATE_FORMATS)}")
    if not 0 < heldout_frac < 1:
        raise ValueError("heldout_frac must be between 0 and 1")
    days = _all_dates()
    rng = np.random.default_rng([seed, DATES_VERSION, 9021])
    order = rng.permutation(len(days))
    n_held = int(round(heldout_frac * len(days)))
    pools = {"heldout": order[:n_held], "train": order[n_held:], "val": order[n_held:]}
    out = {}
    for k, (split, n) in enumerate([("train", n_train), ("val", n_val), ("heldout", n_heldout)]):
        r = np.random.default_rng([seed, DATES_VERSION, k])
        pick_days = r.choice(pools[split], size=n, replace=True)
        pick_fmts = r.integers(0, len(formats), size=n)
        src, tgt, kinds = [], [], []
        for di, fi in zip(pick_days.tolist(), pick_fmts.tolist()):
            d = days[di]
            src.append(format_date(d, formats[fi]))
            tgt.append(d.isoformat())
            kinds.append(formats[fi])
        out[split] = PairSet(src, tgt, kinds, name=f"dates/{split}")
    return out


# --------------------------------------------------------------------------------------------------------------
# A reordering grammar
# --------------------------------------------------------------------------------------------------------------
# English word -> word of the invented target language (verb-final, particles ga (subject) and o (object),
# adjectives after the noun, the determiner last in its noun phrase).
REORDER_LEXICON = {
    "det": {"the": "ta", "a": "na", "this": "ko", "every": "zen"},
    "adj": {"big": "dai", "small": "sho", "red": "aka", "tall": "taka", "happy": "raku", "blue": "ao",
            "quiet": "shizu", "young": "waka"},
    "noun": {"dog": "inu", "cat": "neko", "bird": "tori", "child": "ko", "teacher": "sensei", "fish": "sakana",
             "farmer": "noka", "horse": "uma", "friend": "tomo", "king": "osama"},
    "verb": {"sees": "miru", "likes": "suku", "follows": "tsuku", "helps": "tasu", "finds": "mitsu",
             "calls": "yobu", "feeds": "kuwa", "paints": "egaku"},
    "adv": {"quickly": "haya", "often": "yoku", "never": "zutsu", "slowly": "yuku"},
}
REORDER_VERSION = 1


def _noun_phrase(rng, max_adj: int):
    det = rng.choice(list(REORDER_LEXICON["det"]))
    n_adj = int(rng.integers(0, max_adj + 1))
    adjs = list(rng.choice(list(REORDER_LEXICON["adj"]), size=n_adj, replace=False)) if n_adj else []
    noun = rng.choice(list(REORDER_LEXICON["noun"]))
    return [str(det), *map(str, adjs), str(noun)]


def _np_target(np_words: list[str]) -> list[str]:
    det, *adjs, noun = np_words
    lex = REORDER_LEXICON
    return [lex["noun"][noun], *[lex["adj"][a] for a in adjs], lex["det"][det]]


def reorder_sentence(source: str) -> str:
    """The target of a grammar sentence "DET ADJ* NOUN [ADV] VERB DET ADJ* NOUN": subject + ga, object + o,
    [adverb], verb; inside a noun phrase: noun, adjectives in the same order, determiner."""
    words = source.split()
    lex = REORDER_LEXICON
    vi = next(i for i, w in enumerate(words) if w in lex["verb"])
    subj, obj = words[:vi], words[vi + 1:]
    adv = []
    if subj and subj[-1] in lex["adv"]:
        adv = [lex["adv"][subj[-1]]]
        subj = subj[:-1]
    return " ".join(_np_target(subj) + ["ga"] + _np_target(obj) + ["o"] + adv + [lex["verb"][words[vi]]])


def make_reorder(seed: int = 0, n_train: int = 20000, n_val: int = 1000, n_heldout: int = 1000,
                 max_adj: int = 2, adverb_prob: float = 0.3) -> dict[str, PairSet]:
    """Reordering pairs {"train", "val", "heldout"} -> PairSet of (English-like sentence, verb-final sentence,
    kind). Kind names the structure ("2 adj + adv", ...). Held-out sentences never occur in train or val."""
    rng = np.random.default_rng([seed, REORDER_VERSION, 77])
    seen: set[str] = set()
    out = {}
    for split, n in [("heldout", n_heldout), ("train", n_train), ("val", n_val)]:
        src, tgt, kinds = [], [], []
        tries = 0
        while len(src) < n:
            tries += 1
            if tries > 50 * n + 1000:
                raise ValueError("make_reorder: not enough distinct sentences; lower n or raise max_adj")
            subj, obj = _noun_phrase(rng, max_adj), _noun_phrase(rng, max_adj)
            verb = str(rng.choice(list(REORDER_LEXICON["verb"])))
            adv = [str(rng.choice(list(REORDER_LEXICON["adv"])))] if rng.random() < adverb_prob else []
            s = " ".join(subj + adv + [verb] + obj)
            if split == "heldout" and s in seen:
                continue
            if split != "heldout" and s in held:
                continue
            seen.add(s)
            src.append(s)
            tgt.append(reorder_sentence(s))
            n_adj = len(subj) + len(obj) - 4
            kinds.append(f"{n_adj} adj" + (" + adv" if adv else ""))
        out[split] = PairSet(src, tgt, kinds, name=f"reorder/{split}")
        if split == "heldout":
            held = set(src)
    return {k: out[k] for k in ("train", "val", "heldout")}


# --------------------------------------------------------------------------------------------------------------
# Tab-separated pair files (Tatoeba / manythings.org format)
# --------------------------------------------------------------------------------------------------------------
def load_pairs_tsv(path: str | os.PathLike, max_pairs: int | None = None, max_len: int | None = None,
                   lowercase: bool = False, swap: bool = False, level: str = "char",
                   encoding: str = "utf-8") -> PairSet:
    """Sentence pairs from a tab-separated file: "source<TAB>target" per line; a third column (the attribution of
    the Tatoeba-derived files) and anything after it is ignored, as are blank lines and lines without a tab.

    max_pairs: keep the first so many pairs; max_len: skip pairs where either side has more tokens (characters,
    or words and punctuation marks with ``level="token"``); lowercase: lower-case both sides; swap: translate
    target -> source instead.
    Kinds are the line numbers (1-based) the pairs came from, so a result can be traced back to the file.
    """
    split = _pair_level(level)[0]
    src, tgt, kinds = [], [], []
    with open(path, encoding=encoding) as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if lineno == 1:
                line = line.lstrip("\ufeff")
            cols = line.split("\t")
            if len(cols) < 2:
                continue
            a, b = cols[0].strip(), cols[1].strip()
            if not a or not b:
                continue
            if lowercase:
                a, b = a.lower(), b.lower()
            if swap:
                a, b = b, a
            if max_len is not None and max(len(split(a)), len(split(b))) > max_len:
                continue
            src.append(a)
            tgt.append(b)
            kinds.append(str(lineno))
            if max_pairs is not None and len(src) >= max_pairs:
                break
    if not src:
        raise ValueError(f"{path}: no 'source<TAB>target' pairs found")
    return PairSet(src, tgt, kinds, name=os.path.basename(str(path)))
