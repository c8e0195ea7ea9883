"""Image-captioning data: a generated shapes dataset, a COCO-format loader, a word vocabulary, padding, BLEU.

>>> data = make_shapes_captions(seed=0)            # {"train", "val", "heldout"} -> CaptionSet; cached
>>> vocab = Vocabulary.build(data["train"].all_captions())
>>> ids, mask = vocab.encode_batch(["a small red circle above a large blue square"])
>>> coco = load_coco_captions("annotations/captions_val2017.json", "val2017", image_size=64)

The shapes dataset is offline and deterministic: RGB images (64 x 64 by default) of one to three objects, each
with a colour, a shape, a size and a place on a 3 x 3 grid, and five reference captions per image written from
varied templates ("a small red circle above a large blue square", "there is a large blue square below a small red
circle", ...). Objects are always mentioned in a canonical order (reading order: top row first, then left to
right), so the caption is a function of the image up to the choice of template. The ``heldout`` split holds images
with attribute combinations that never occur in ``train`` or ``val`` (by default, pairs of colours never seen in
the same image, such as a red object next to a green one): scores on it measure generalisation, not memorisation.

Nothing here is the answer to a graded exercise: the notebooks' students write the models, losses and samplers.
Notebook 04's training recipe and evaluation (BLEU and exact match of a model's captions) are in
``rnnlab.captioning``.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .corpora import data_dir
from .vocab import Vocabulary, pad_sequences, tokenize  # noqa: F401 -- part of this module's API

__all__ = [
    "COLOURS", "SHAPES", "SIZES", "HELDOUT_COLOUR_PAIRS", "HELDOUT_OBJECTS", "HELDOUT_MODES", "SHAPES_VERSION",
    "CaptionSet", "make_shapes_captions",
    "render_shapes", "describe", "load_coco_captions", "write_coco_captions", "tokenize", "Vocabulary",
    "pad_sequences", "bleu", "show_captions",
]

SHAPES_VERSION = 3  # bump when the generator's output changes: it is part of the cache key

# name -> RGB. Distinct hues, so that a small network can tell them apart from a few pixels.
COLOURS = {
    "red": (220, 45, 45),
    "green": (50, 185, 70),
    "blue": (50, 100, 235),
    "yellow": (235, 215, 50),
    "purple": (160, 70, 210),
}
SHAPES = ("circle", "square", "triangle", "diamond")
SIZES = ("small", "large")
# What the held-out split holds that train and val never show (see make_shapes_captions's ``heldout``):
# "colour_pairs": two colours in the same image. No training image shows a red object together with a green one,
# or a blue one with a yellow one; every held-out image does (and has two or three objects).
HELDOUT_COLOUR_PAIRS = (("red", "green"), ("blue", "yellow"))
# "objects": a (size, colour, shape) object. Each is seen in training at the other size, and every colour + shape
# pair and every size is seen; only these triples are new. (Much harder for a CNN + RNN captioner: see notebook 04.)
HELDOUT_OBJECTS = (("large", "red", "triangle"), ("small", "green", "square"), ("large", "blue", "circle"),
                   ("small", "yellow", "diamond"), ("large", "purple", "square"), ("small", "red", "circle"))
HELDOUT_MODES = ("colour_pairs", "objects")

GRID = 3                      # objects sit in the cells of a GRID x GRID layout, one object per cell
_SIZE_FRAC = (0.085, 0.14)    # half-size of small / large objects, as a fraction of the image side
_BACKGROUND = (28, 28, 34)
# objects[n, k] holds these fields (-1 where image n has fewer than k + 1 objects)
OBJECT_FIELDS = ("colour", "shape", "size", "row", "col", "cx", "cy")


# --------------------------------------------------------------------------------------------------------------
# Data container
# --------------------------------------------------------------------------------------------------------------
@dataclass
class CaptionSet:
    """Images and their reference captions; the shapes generator and the COCO loader both return one.

    images:   uint8 (N, S, S, 3), RGB
    captions: list of N lists of strings, the reference captions of each image (at least one each)
    ids:      int64 (N,), an id per image (COCO's image id; the index for generated data)
    objects:  generated data only: int16 (N, 3, 7) with the fields OBJECT_FIELDS of each object, -1 if absent
    """

    images: np.ndarray
    captions: list
    ids: np.ndarray
    objects: np.ndarray | None = None
    name: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if len(self.images) != len(self.captions) or len(self.images) != len(self.ids):
            raise ValueError(f"{self.name}: {len(self.images)} images, {len(self.captions)} caption lists, "
                             f"{len(self.ids)} ids")

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        refs = sum(len(c) for c in self.captions)
        shape = "x".join(map(str, self.images.shape[1:])) if len(self.images) else "-"
        return f"CaptionSet({self.name!r}: {len(self)} images of {shape}, {refs} captions)"

    def subset(self, index) -> "CaptionSet":
        """The images at ``index`` (an int array, a slice or a boolean mask), with their captions."""
        idx = np.arange(len(self))[index]
        return CaptionSet(self.images[idx], [self.captions[i] for i in idx], self.ids[idx],
                          None if self.objects is None else self.objects[idx], self.name, dict(self.info))

    def all_captions(self) -> list[str]:
        """Every reference caption, image by image."""
        return [c for caps in self.captions for c in caps]

    def pairs(self) -> tuple[np.ndarray, list[str]]:
        """One (image index, caption) pair per reference caption: (int64 array, list of strings)."""
        idx = np.array([i for i, caps in enumerate(self.captions) for _ in caps], dtype=np.int64)
        return idx, self.all_captions()


# --------------------------------------------------------------------------------------------------------------
# The generated shapes dataset
# --------------------------------------------------------------------------------------------------------------
def _coverage(shape: str, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Boolean inside-test for a shape centred at 0 with half-size 1, at offsets dx, dy (y grows downwards)."""
    if shape == "circle":
        return dx * dx + dy * dy <= 1.0
    if shape == "square":
        return (np.abs(dx) <= 0.86) & (np.abs(dy) <= 0.86)
    if shape == "diamond":
        return np.abs(dx) + np.abs(dy) <= 1.12
    if shape == "triangle":  # apex up
        return (dy <= 0.8) & (np.abs(dx) <= 0.62 * (dy + 1.0))
    raise ValueError(f"unknown shape {shape!r}")


def render_shapes(objects: np.ndarray, image_size: int, background=_BACKGROUND, supersample: int = 3) -> np.ndarray:
    """Draw one image. objects: int (K, 7) rows (colour, shape, size, row, col, cx, cy); rows with colour -1 are
    skipped. Edges are anti-aliased by ``supersample`` x ``supersample`` sub-pixels. Returns uint8 (S, S, 3)."""
    S = image_size
    img = np.empty((S, S, 3), dtype=np.float64)
    img[:] = np.asarray(background, dtype=np.float64)
    colour_rgb = np.array(list(COLOURS.values()), dtype=np.float64)
    sub = (np.arange(supersample) + 0.5) / supersample - 0.5          # sub-pixel offsets
    for colour, shape, size, _, _, cx, cy in objects:
        if colour < 0:
            continue
        r = _SIZE_FRAC[size] * S
        x0, x1 = max(int(cx - r - 2), 0), min(int(cx + r + 3), S)
        y0, y1 = max(int(cy - r - 2), 0), min(int(cy + r + 3), S)
        ys = (np.arange(y0, y1)[:, None] + 0.5 + sub[None, :]).reshape(-1)   # sub-pixel centres
        xs = (np.arange(x0, x1)[:, None] + 0.5 + sub[None, :]).reshape(-1)
        inside = _coverage(SHAPES[shape], (xs[None, :] - cx - 0.5) / r, (ys[:, None] - cy - 0.5) / r)
        cov = inside.reshape(y1 - y0, supersample, x1 - x0, supersample).mean(axis=(1, 3))[..., None]
        patch = img[y0:y1, x0:x1]
        patch *= 1.0 - cov
        patch += cov * colour_rgb[colour]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _noun_phrase(obj) -> str:
    return f"{SIZES[obj[2]]} {list(COLOURS)[obj[0]]} {SHAPES[obj[1]]}"


def _relation(a, b) -> tuple[str, str]:
    """Where a is relative to b, and the inverse; a comes first in reading order."""
    if a[3] < b[3]:
        return "above", "below"
    return "to the left of", "to the right of"


def describe(objects: np.ndarray) -> list[str]:
    """The five reference captions of an image from its object rows (already in reading order).

    The first one is the canonical caption: "a A rel a B rel a C" with the objects in reading order.
    """
    objs = [o for o in objects if o[0] >= 0]
    np_ = [_noun_phrase(o) for o in objs]
    if len(objs) == 1:
        (A,) = np_
        return [f"a {A}", f"there is a {A}", f"a picture of a {A}", f"a single {A}", f"one {A} and nothing else"]
    if len(objs) == 2:
        A, B = np_
        rel, inv = _relation(objs[0], objs[1])
        return [f"a {A} {rel} a {B}", f"there is a {B} {inv} a {A}", f"a {A} is {rel} a {B}",
                f"a picture of a {A} {rel} a {B}", f"the {B} is {inv} the {A}"]
    if len(objs) == 3:
        A, B, C = np_
        rel1, inv1 = _relation(objs[0], objs[1])
        rel2, inv2 = _relation(objs[1], objs[2])
        return [f"a {A} {rel1} a {B} {rel2} a {C}", f"there is a {C} {inv2} a {B} {inv1} a {A}",
                f"a {A} is {rel1} a {B} which is {rel2} a {C}", f"a picture of a {A} {rel1} a {B} {rel2} a {C}",
                f"the {C} is {inv2} the {B} which is {inv1} the {A}"]
    raise ValueError(f"an image holds one to three objects, not {len(objs)}")


def _draw_objects(rng: np.random.Generator, image_size: int, max_objects: int, mode: str,
                  heldout: bool) -> np.ndarray:
    """Random object rows (max_objects, 7) in reading order; -1 rows for absent objects.

    Training images (heldout=False) never contain what ``mode`` withholds; held-out images always do."""
    S, cell = image_size, image_size / GRID
    names = list(COLOURS)
    lo = 2 if heldout and mode == "colour_pairs" else 1
    k = int(rng.integers(lo, max_objects + 1))
    cells = np.sort(rng.choice(GRID * GRID, size=k, replace=False))     # sorted = reading order
    sizes = rng.integers(len(SIZES), size=k)
    colours = rng.integers(len(COLOURS), size=k)
    shapes = rng.integers(len(SHAPES), size=k)
    if mode == "colour_pairs":
        pairs = [{names.index(a), names.index(b)} for a, b in HELDOUT_COLOUR_PAIRS]
        if heldout:                                    # two of the objects get a withheld pair of colours
            a, b = HELDOUT_COLOUR_PAIRS[int(rng.integers(len(pairs)))]
            i, j = rng.choice(k, size=2, replace=False)
            colours[i], colours[j] = names.index(a), names.index(b)
        else:
            while any(p <= set(colours.tolist()) for p in pairs):
                colours = rng.integers(len(COLOURS), size=k)
    elif mode == "objects":
        withheld = {(SIZES.index(z), names.index(c), SHAPES.index(s)) for z, c, s in HELDOUT_OBJECTS}
        if heldout:                                    # one of the objects is a withheld triple
            z, c, s = HELDOUT_OBJECTS[int(rng.integers(len(HELDOUT_OBJECTS)))]
            i = int(rng.integers(k))
            sizes[i], colours[i], shapes[i] = SIZES.index(z), names.index(c), SHAPES.index(s)
        else:
            for i in range(k):
                while (sizes[i], colours[i], shapes[i]) in withheld:
                    sizes[i], colours[i], shapes[i] = (rng.integers(len(SIZES)), rng.integers(len(COLOURS)),
                                                       rng.integers(len(SHAPES)))
    else:
        raise ValueError(f"heldout must be one of {HELDOUT_MODES}, not {mode!r}")
    out = np.full((max_objects, 7), -1, dtype=np.int16)
    for j in range(k):
        size = int(sizes[j])
        row, col = divmod(int(cells[j]), GRID)
        slack = max(cell / 2 - _SIZE_FRAC[size] * S - 1.5, 0.0)
        cx = (col + 0.5) * cell + rng.uniform(-slack, slack)
        cy = (row + 0.5) * cell + rng.uniform(-slack, slack)
        out[j] = (colours[j], shapes[j], size, row, col, int(round(cx)), int(round(cy)))
    return out


def _generate_split(seed: int, split_index: int, n: int, image_size: int, heldout: bool, max_objects: int,
                    mode: str):
    rng = np.random.default_rng([seed, split_index, SHAPES_VERSION])
    images = np.empty((n, image_size, image_size, 3), dtype=np.uint8)
    objects = np.empty((n, max_objects, 7), dtype=np.int16)
    for i in range(n):
        objs = _draw_objects(rng, image_size, max_objects, mode, heldout)
        tint = rng.integers(-6, 7, size=3)
        images[i] = render_shapes(objs, image_size, background=np.add(_BACKGROUND, tint))
        objects[i] = objs
    return images, objects


def _generator_fingerprint() -> str:
    """The generator's constants, so that editing any of them invalidates cached datasets."""
    consts = dict(colours=COLOURS, shapes=SHAPES, sizes=SIZES, pairs=HELDOUT_COLOUR_PAIRS, objects=HELDOUT_OBJECTS,
                  grid=GRID,
                  size_frac=_SIZE_FRAC, background=_BACKGROUND)
    return hashlib.sha256(json.dumps(consts, sort_keys=True).encode()).hexdigest()[:12]


def _shapes_cache_path(params: dict) -> Path:
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return data_dir() / f"shapes_captions_v{SHAPES_VERSION}_{key}.npz"


def make_shapes_captions(seed: int = 0, image_size: int = 64, n_train: int = 10000, n_val: int = 500,
                         n_heldout: int = 1000, max_objects: int = 3, heldout: str = "colour_pairs",
                         cache: bool = True, verbose: bool = False) -> dict[str, CaptionSet]:
    """The generated shapes-captioning dataset: {"train", "val", "heldout"} -> CaptionSet.

    heldout: what ``train`` and ``val`` never show and every ``heldout`` image does.
    - "colour_pairs" (default): two colours of HELDOUT_COLOUR_PAIRS in the same image (e.g. a red object and a green
      one). Every object, word and phrase of the held-out captions occurs in training; the scene does not.
    - "objects": one of the (size, colour, shape) objects of HELDOUT_OBJECTS (e.g. a large red triangle), never
      seen in training although its colour + shape and its size are. Much harder for a CNN + RNN captioner.

    Deterministic: the same arguments give the same bytes on every machine with the same NumPy. Cached as an
    ``.npz`` file in ``rnnlab.corpora.data_dir()`` keyed by the arguments, SHAPES_VERSION and the generator's
    constants (``cache=False`` generates without reading or writing the cache). About 1 s per 4,000 images.
    """
    if heldout not in HELDOUT_MODES:
        raise ValueError(f"heldout must be one of {HELDOUT_MODES}, not {heldout!r}")
    if not (1 if heldout == "objects" else 2) <= max_objects <= 3:
        raise ValueError("max_objects must be 2 or 3 (1, 2 or 3 with heldout='objects')")
    if image_size < 16:
        raise ValueError("image_size must be at least 16")
    params = dict(seed=int(seed), image_size=int(image_size), n_train=int(n_train), n_val=int(n_val),
                  n_heldout=int(n_heldout), max_objects=int(max_objects), heldout=heldout, version=SHAPES_VERSION,
                  generator=_generator_fingerprint())
    path = _shapes_cache_path(params)
    arrays = None
    if cache and path.exists():
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
            if json.loads(str(arrays.pop("params"))) != params:
                arrays = None
        except (OSError, ValueError, KeyError):
            arrays = None                                  # damaged cache file: build again
    if arrays is None:
        arrays = {}
        for index, (split, n) in enumerate([("train", n_train), ("val", n_val), ("heldout", n_heldout)]):
            images, objects = _generate_split(seed, index, n, image_size, split == "heldout", max_objects, heldout)
            arrays[f"{split}_images"], arrays[f"{split}_objects"] = images, objects
        if cache:
            fd, tmp = tempfile.mkstemp(prefix=".shapes_captions.", suffix=".npz", dir=path.parent)
            os.close(fd)
            try:
                np.savez_compressed(tmp, params=np.array(json.dumps(params, sort_keys=True)), **arrays)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        if verbose:
            print(f"generated the shapes dataset ({n_train} + {n_val} + {n_heldout} images)"
                  + (f", cached in {path}" if cache else ""))
    elif verbose:
        print(f"loaded the shapes dataset from {path}")
    out = {}
    for split in ("train", "val", "heldout"):
        objects = arrays[f"{split}_objects"]
        out[split] = CaptionSet(images=arrays[f"{split}_images"], captions=[describe(o) for o in objects],
                                ids=np.arange(len(objects), dtype=np.int64), objects=objects, name=split,
                                info=dict(params))
    return out


# --------------------------------------------------------------------------------------------------------------
# COCO captions format
# --------------------------------------------------------------------------------------------------------------
def _square_resize(img, image_size: int) -> np.ndarray:
    """PIL image -> uint8 (S, S, 3): centre crop to a square, then resize (keeps the aspect ratio)."""
    from PIL import Image

    img = img.convert("RGB")
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side))
    if side != image_size:
        img = img.resize((image_size, image_size), Image.BILINEAR, reducing_gap=3.0 if side > 3 * image_size else None)
    return np.asarray(img, dtype=np.uint8)


def load_coco_captions(annotations: str | os.PathLike, image_dir: str | os.PathLike, image_size: int = 64,
                       max_images: int | None = None, name: str = "coco") -> CaptionSet:
    """Load captions in the COCO format: an annotations JSON plus a folder of images.

    The JSON holds ``{"images": [{"id": 1, "file_name": "x.jpg", ...}, ...],
    "annotations": [{"image_id": 1, "caption": "A dog ...", ...}, ...]}`` (COCO's captions_*.json). Images with
    no caption are skipped; images are taken in increasing id order (``max_images`` keeps the first ones), centre
    cropped to a square and resized to ``image_size``. Returns a CaptionSet like ``make_shapes_captions``'s
    splits (without ``objects``). Captions are kept as written; ``tokenize`` lowercases them and drops punctuation.
    """
    from PIL import Image

    annotations, image_dir = Path(annotations), Path(image_dir)
    meta = json.loads(annotations.read_text(encoding="utf-8"))
    for key in ("images", "annotations"):
        if key not in meta:
            raise ValueError(f"{annotations}: not a COCO captions file (no {key!r} list)")
    caps: dict[int, list[str]] = {}
    for ann in meta["annotations"]:
        caps.setdefault(int(ann["image_id"]), []).append(str(ann["caption"]).strip())
    entries = sorted((int(im["id"]), im["file_name"]) for im in meta["images"] if int(im["id"]) in caps)
    if max_images is not None:
        entries = entries[:max_images]
    images = np.empty((len(entries), image_size, image_size, 3), dtype=np.uint8)
    for i, (_, file_name) in enumerate(entries):
        path = image_dir / file_name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: listed in {annotations.name} but not in {image_dir}")
        with Image.open(path) as img:
            images[i] = _square_resize(img, image_size)
    return CaptionSet(images=images, captions=[caps[i] for i, _ in entries],
                      ids=np.array([i for i, _ in entries], dtype=np.int64), name=name,
                      info=dict(annotations=str(annotations), image_dir=str(image_dir), image_size=image_size))


def write_coco_captions(data: CaptionSet, out_dir: str | os.PathLike, json_name: str = "captions.json") -> Path:
    """Write a CaptionSet in the COCO captions format (PNG images + JSON) under ``out_dir``; returns the JSON path.

    Handy to try ``load_coco_captions`` without COCO on disk."""
    from PIL import Image

    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for img, image_id, caps in zip(data.images, data.ids, data.captions):
        file_name = f"{int(image_id):012d}.png"
        Image.fromarray(img).save(out_dir / "images" / file_name)
        images.append({"id": int(image_id), "file_name": file_name, "height": img.shape[0], "width": img.shape[1]})
        for cap in caps:
            anns.append({"id": len(anns) + 1, "image_id": int(image_id), "caption": cap})
    path = out_dir / json_name
    path.write_text(json.dumps({"images": images, "annotations": anns}, indent=1), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------------------
def _tokens(x) -> list[str]:
    return tokenize(x) if isinstance(x, str) else [str(w) for w in x]


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu(candidates: Sequence, references: Sequence[Sequence], max_n: int = 4) -> dict:
    """Corpus-level BLEU (Papineni et al., 2002) with several references per candidate.

    candidates: N captions (strings, tokenised with ``tokenize``, or token lists).
    references: N lists of reference captions (same forms), at least one per candidate.

    For n = 1..max_n, the *modified n-gram precision* of the corpus is

        p_n = sum over candidates of sum over the candidate's n-grams g of min(count(g), max_ref count_ref(g))
              / sum over candidates of the number of n-grams of the candidate

    (an n-gram is credited at most as many times as it appears in any single reference: "the the the" against
    "the cat" gets 1/3, not 3/3). Short candidates would get high precision for free, so the *brevity penalty*

        BP = 1 if c > r else exp(1 - r / c),

    with c the total candidate length and r the sum over candidates of the reference length closest to the
    candidate's (the shorter one on a tie), scales the score. Then

        BLEU-n = BP * exp( (1/n) * sum_{k=1..n} log p_k )     (0 if any p_k is 0),

    the geometric mean of the first n precisions, as reported for captioning (BLEU-1 ... BLEU-4). Returns a
    dict: ``bleu1`` ... ``bleu{max_n}``, ``precisions`` (p_1 ... p_max_n), ``brevity_penalty``,
    ``candidate_length`` (c) and ``reference_length`` (r). No smoothing: this matches NLTK's ``corpus_bleu``
    with its default settings.
    """
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} reference lists")
    matched = np.zeros(max_n)
    total = np.zeros(max_n)
    c_len = r_len = 0
    for cand, refs in zip(candidates, references):
        cand = _tokens(cand)
        refs = [_tokens(r) for r in refs]
        if not refs:
            raise ValueError("every candidate needs at least one reference")
        c_len += len(cand)
        r_len += min((abs(len(r) - len(cand)), len(r)) for r in refs)[1]
        for n in range(1, max_n + 1):
            cand_counts = _ngrams(cand, n)
            if not cand_counts:
                continue
            max_ref = Counter()
            for r in refs:
                max_ref |= _ngrams(r, n)                  # elementwise max of the counts
            matched[n - 1] += sum(min(k, max_ref[g]) for g, k in cand_counts.items())
            total[n - 1] += sum(cand_counts.values())
    precisions = [float(m / t) if t > 0 else 0.0 for m, t in zip(matched, total)]
    if c_len == 0:
        bp = 0.0
    else:
        bp = 1.0 if c_len > r_len else math.exp(1.0 - r_len / c_len)
    out = {}
    for n in range(1, max_n + 1):
        ps = precisions[:n]
        out[f"bleu{n}"] = 0.0 if min(ps) == 0 else float(bp * math.exp(sum(math.log(p) for p in ps) / n))
    out.update(precisions=precisions, brevity_penalty=bp, candidate_length=c_len, reference_length=r_len)
    return out


# --------------------------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------------------------
def show_captions(images, captions, ncols: int = 4, width: int = 34, title: str = "", fontsize: float = 7.5,
                  colours=None):
    """A grid of images, each with its caption(s) underneath.

    images: (N, S, S, 3) uint8 (or floats in [0, 1]). captions: N items, each a string or a list of strings (one
    line each, e.g. ``["ref: ...", "model: ..."]``), wrapped at ``width`` characters. colours: optional N items of
    matching shape, the colours of the lines (e.g. green for a correct caption, red for a wrong one).
    Returns the figure.
    """
    import matplotlib.pyplot as plt

    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    items = [[c] if isinstance(c, str) else list(c) for c in captions]
    cols = [None] * n if colours is None else [[c] if isinstance(c, str) or c is None else list(c) for c in colours]
    wrapped = [[textwrap.fill(line, width) for line in lines] for lines in items]
    line_in = fontsize * 1.3 / 72                                 # height of one text line, in inches
    text_lines = max((sum(w.count("\n") + 1 for w in lines) for lines in wrapped), default=1)
    img_in, text_in, title_in = 2.3, text_lines * line_in + 0.1, 0.4 if title else 0.1
    fig_h = nrows * (img_in + text_in) + title_in
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, fig_h), squeeze=False)
    fig.subplots_adjust(left=0.02, right=0.98, top=1 - title_in / fig_h, bottom=text_in / fig_h,
                        hspace=text_in / img_in, wspace=0.08)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(images[k], interpolation="nearest")
        offset = 2.0                                              # points below the image
        for j, line in enumerate(wrapped[k]):
            colour = cols[k][j] if cols[k] is not None and j < len(cols[k]) and cols[k][j] else "black"
            ax.annotate(line, xy=(0.5, 0.0), xycoords="axes fraction", xytext=(0, -offset),
                        textcoords="offset points", ha="center", va="top", fontsize=fontsize, color=colour)
            offset += (line.count("\n") + 1) * fontsize * 1.3
    if title:
        fig.suptitle(title, y=1 - 0.1 / fig_h, va="top")
    return fig
