"""rnnlab.captions: the generated shapes dataset (determinism, held-out combinations, captions), the COCO-format
loader on a fixture written here, the word vocabulary, padding and masks, and BLEU on hand-computed cases."""
import json
import math

import numpy as np
import pytest

from rnnlab import captions as C
from rnnlab.captions import (COLOURS, HELDOUT_COLOUR_PAIRS, HELDOUT_OBJECTS, SHAPES, SIZES, CaptionSet, Vocabulary,
                             bleu, describe, load_coco_captions, make_shapes_captions, pad_sequences, tokenize,
                             write_coco_captions)

SMALL = dict(image_size=32, n_train=60, n_val=10, n_heldout=20)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(d))
    return d


def _obj_combos(objects):
    names = list(COLOURS)
    return {(SIZES[o[2]], names[o[0]], SHAPES[o[1]]) for objs in objects for o in objs if o[0] >= 0}


# --- the generated dataset ------------------------------------------------------------------------------------
def test_same_seed_same_bytes_different_seed_different_bytes():
    a = make_shapes_captions(seed=3, cache=False, **SMALL)
    b = make_shapes_captions(seed=3, cache=False, **SMALL)
    c = make_shapes_captions(seed=4, cache=False, **SMALL)
    for split in ("train", "val", "heldout"):
        assert a[split].images.tobytes() == b[split].images.tobytes()
        assert a[split].objects.tobytes() == b[split].objects.tobytes()
        assert a[split].captions == b[split].captions
        assert a[split].images.tobytes() != c[split].images.tobytes()
    assert a["train"].images.dtype == np.uint8 and a["train"].images.shape == (60, 32, 32, 3)
    # the splits are drawn from different streams: no image of val is a copy of a training image
    assert not any((v == t).all() for v in a["val"].images for t in a["train"].images)


def test_cache_round_trip_is_identical_and_keyed_by_parameters(cache):
    fresh = make_shapes_captions(seed=5, cache=False, **SMALL)
    first = make_shapes_captions(seed=5, **SMALL)                 # generates and writes the cache
    files = sorted(cache.glob("shapes_captions_*.npz"))
    assert len(files) == 1
    again = make_shapes_captions(seed=5, **SMALL)                 # reads it
    for split in fresh:
        assert fresh[split].images.tobytes() == first[split].images.tobytes() == again[split].images.tobytes()
        assert fresh[split].captions == again[split].captions
    make_shapes_captions(seed=6, **SMALL)
    make_shapes_captions(seed=5, **{**SMALL, "n_val": 11})
    assert len(list(cache.glob("shapes_captions_*.npz"))) == 3   # other parameters, other files
    files[0].write_bytes(b"not a zip file")                       # a damaged cache file is rebuilt
    rebuilt = make_shapes_captions(seed=5, **SMALL)
    assert rebuilt["train"].images.tobytes() == fresh["train"].images.tobytes()


def _colours(objs):
    return {list(COLOURS)[o[0]] for o in objs if o[0] >= 0}


def test_heldout_colour_pairs_never_occur_together_in_train_or_val():
    data = make_shapes_captions(seed=0, cache=False, image_size=32, n_train=600, n_val=100, n_heldout=100)
    pairs = [set(p) for p in HELDOUT_COLOUR_PAIRS]
    for split in ("train", "val"):
        for objs, caps in zip(data[split].objects, data[split].captions):
            assert not any(p <= _colours(objs) for p in pairs)
            assert not any(all(c in caps[0].split() for c in p) for p in pairs)
    for objs, caps in zip(data["heldout"].objects, data["heldout"].captions):
        assert any(p <= _colours(objs) for p in pairs)             # every held-out image shows a withheld pair
        assert any(all(c in caps[0].split() for c in p) for p in pairs)
        assert 2 <= (objs[:, 0] >= 0).sum() <= 3
    # ... while every colour, and every other pair of colours, occurs in training; every word of the held-out
    # captions is a training word
    seen_pairs = set()
    for objs in data["train"].objects:
        cs = sorted(_colours(objs))
        seen_pairs |= {(a, b) for a in cs for b in cs if a < b}
    all_pairs = {(a, b) for a in COLOURS for b in COLOURS if a < b}
    assert seen_pairs == all_pairs - {tuple(sorted(p)) for p in HELDOUT_COLOUR_PAIRS}
    train_words = set(" ".join(data["train"].all_captions()).split())
    assert set(" ".join(data["heldout"].all_captions()).split()) <= train_words


def test_heldout_objects_mode_withholds_size_colour_shape_triples():
    data = make_shapes_captions(seed=0, cache=False, image_size=32, n_train=400, n_val=50, n_heldout=100,
                                heldout="objects")
    withheld = set(HELDOUT_OBJECTS)
    for split in ("train", "val"):
        assert not (_obj_combos(data[split].objects) & withheld)
        text = " ".join(data[split].all_captions())
        assert not any(" ".join(combo) in text for combo in withheld)
    for objs, caps in zip(data["heldout"].objects, data["heldout"].captions):
        assert _obj_combos([objs]) & withheld
        assert any(" ".join(combo) in caps[0] for combo in withheld)
    # only the triples are new: every (colour, shape) pair and every size occurs in training
    seen = _obj_combos(data["train"].objects)
    assert {(c, s) for _, c, s in seen} == {(c, s) for c in COLOURS for s in SHAPES}
    assert len(seen) == len(SIZES) * len(COLOURS) * len(SHAPES) - len(withheld)
    with pytest.raises(ValueError, match="heldout"):
        make_shapes_captions(cache=False, heldout="nonsense", **SMALL)
    with pytest.raises(ValueError, match="max_objects"):
        make_shapes_captions(cache=False, max_objects=1, **SMALL)


def test_captions_follow_the_objects_in_reading_order():
    data = make_shapes_captions(seed=1, cache=False, image_size=48, n_train=300, n_val=1, n_heldout=1)
    counts = set()
    for objs, caps in zip(data["train"].objects, data["train"].captions):
        present = objs[objs[:, 0] >= 0]
        counts.add(len(present))
        assert len(caps) == 5 and len(set(caps)) == 5
        cells = [3 * o[3] + o[4] for o in present]
        assert cells == sorted(cells) and len(set(cells)) == len(cells)   # reading order, one object per cell
        phrases = [f"{SIZES[o[2]]} {list(COLOURS)[o[0]]} {SHAPES[o[1]]}" for o in present]
        canonical = caps[0]
        start = 0
        for p in phrases:                                          # the canonical caption names them in order
            start = canonical.index(p, start) + len(p)
        for cap in caps:                                           # every reference names every object
            assert all(p in cap for p in phrases), cap
            assert tokenize(cap) == cap.split()                    # already lowercase, no punctuation
        for a, b in zip(present, present[1:]):                    # the relation of consecutive objects
            rel = "above" if a[3] < b[3] else "to the left of"
            assert f"{SIZES[a[2]]} {list(COLOURS)[a[0]]} {SHAPES[a[1]]} {rel}" in canonical
    assert counts == {1, 2, 3}


def test_rendered_objects_have_their_colour_and_relative_size():
    objs = np.array([[0, 0, 1, 0, 0, 10, 10], [2, 1, 0, 2, 2, 54, 54], [-1] * 7], dtype=np.int16)
    img = C.render_shapes(objs, 64)
    assert tuple(img[10, 10]) == COLOURS["red"] and tuple(img[54, 54]) == COLOURS["blue"]
    red = np.all(img == COLOURS["red"], axis=-1).sum()
    blue = np.all(img == COLOURS["blue"], axis=-1).sum()
    assert red > 2 * blue > 0                                      # large circle vs small square
    assert tuple(img[32, 32]) == C._BACKGROUND


def test_describe_templates_by_hand():
    one = np.array([[1, 2, 0, 1, 1, 32, 32], [-1] * 7, [-1] * 7])
    assert describe(one)[0] == "a small green triangle"
    two = np.array([[0, 0, 1, 0, 2, 50, 10], [2, 1, 0, 1, 0, 10, 30], [-1] * 7])   # first row above
    assert describe(two)[:2] == ["a large red circle above a small blue square",
                                 "there is a small blue square below a large red circle"]
    three = np.array([[0, 0, 1, 0, 0, 10, 10], [2, 1, 0, 0, 2, 50, 10], [3, 3, 1, 2, 1, 30, 50]])
    assert describe(three)[0] == ("a large red circle to the left of a small blue square above a large yellow "
                                  "diamond")
    assert describe(three)[4] == ("the large yellow diamond is below the small blue square which is to the right "
                                  "of the large red circle")


def test_caption_set_subset_and_pairs():
    data = make_shapes_captions(seed=0, cache=False, **SMALL)["train"]
    sub = data.subset(np.array([3, 1]))
    assert len(sub) == 2 and sub.captions == [data.captions[3], data.captions[1]]
    assert (sub.images[0] == data.images[3]).all() and list(sub.ids) == [3, 1]
    idx, caps = sub.pairs()
    assert list(idx) == [0] * 5 + [1] * 5 and caps == data.captions[3] + data.captions[1]
    with pytest.raises(ValueError):
        CaptionSet(np.zeros((2, 4, 4, 3), np.uint8), [["a"]], np.arange(2))


# --- vocabulary and padding ------------------------------------------------------------------------------------
def test_tokenize_lowercases_and_strips_punctuation():
    assert tokenize("A dog, running.  On the BEACH!") == ["a", "dog", "running", "on", "the", "beach"]
    assert tokenize("well-known (x_y)") == ["well", "known", "x", "y"]
    assert tokenize("") == []


def test_vocabulary_special_tokens_order_and_round_trip():
    v = Vocabulary.build(["A red circle.", "a blue circle", "a red square", "zebra"], min_count=1)
    assert v.itos[:4] == ["<NULL>", "<START>", "<END>", "<UNK>"]
    assert (v.null_idx, v.start_idx, v.end_idx, v.unk_idx) == (0, 1, 2, 3)
    # by count (a: 3, circle: 2, red: 2), ties alphabetical (blue, square, zebra)
    assert v.itos[4:] == ["a", "circle", "red", "blue", "square", "zebra"]
    ids = v.encode("a red circle")
    assert ids == [1, 4, 6, 5, 2]
    assert v.decode(ids) == "a red circle"
    assert v.encode("a purple circle") == [1, 4, 3, 5, 2]          # unknown word -> <UNK>
    assert v.decode([1, 4, 6, 2, 5, 5, 0]) == "a red"              # stops at <END>
    assert v.decode(np.array([4, 0, 0])) == "a"                    # <NULL> dropped
    assert v.decode([4, 2, 5], stop_at_end=False) == "a circle"
    rare = Vocabulary.build(["a red circle", "a blue circle", "a red square"], min_count=2)
    assert rare.itos[4:] == ["a", "circle", "red"]
    assert len(Vocabulary.build(["a b c d"], max_size=2)) == 6
    for cap in ["a large red circle above a small blue square", "there is a small green diamond"]:
        vv = Vocabulary.build([cap])
        assert vv.decode(vv.encode(cap)) == cap


def test_vocabulary_on_the_dataset_covers_every_word():
    data = make_shapes_captions(seed=0, cache=False, **SMALL)
    v = Vocabulary.build(data["train"].all_captions())
    for cap in data["heldout"].all_captions():                     # held-out uses only known words
        assert v.unk_idx not in v.encode(cap)
        assert v.decode(v.encode(cap)) == cap


def test_padding_and_masks():
    ids, mask = pad_sequences([[5, 6, 7], [8], []], pad=0)
    assert ids.dtype == np.int64 and mask.dtype == bool
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]]
    assert mask.tolist() == [[True] * 3, [True, False, False], [False] * 3]
    ids, mask = pad_sequences([[1, 2, 3, 4]], max_length=2)
    assert ids.tolist() == [[1, 2]] and mask.all()
    v = Vocabulary.build(["a b c", "a b"])
    ids, mask = v.encode_batch(["a b c", "a", "c c c c c"], max_length=3)
    assert ids.shape == (3, 5)
    a, b, c = v.stoi["a"], v.stoi["b"], v.stoi["c"]
    assert ids.tolist() == [[1, a, b, c, 2], [1, a, 2, 0, 0], [1, c, c, c, 2]]
    assert (mask == (ids != v.null_idx)).all()


# --- COCO format -----------------------------------------------------------------------------------------------
def test_coco_loader_on_a_fixture(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    folder = tmp_path / "images"
    folder.mkdir()
    raw = {}
    # non-square images of different sizes, a JPEG and PNGs; an image without captions; ids out of order
    for image_id, (w, h), ext in [(42, (40, 30), "png"), (7, (20, 20), "jpg"), (13, (30, 50), "png"),
                                  (99, (16, 16), "png")]:
        arr = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        if ext == "jpg":
            arr[:] = (200, 30, 30)                                  # flat colour survives JPEG
        Image.fromarray(arr).save(folder / f"img_{image_id}.{ext}")
        raw[image_id] = arr
    meta = {
        "info": {"description": "fixture"},
        "images": [{"id": i, "file_name": f"img_{i}.{'jpg' if i == 7 else 'png'}", "width": a.shape[1],
                    "height": a.shape[0]} for i, a in raw.items()],
        "annotations": [
            {"id": 1, "image_id": 42, "caption": "A Dog running on the beach."},
            {"id": 2, "image_id": 7, "caption": "A red square"},
            {"id": 3, "image_id": 42, "caption": "a dog, at the sea"},
            {"id": 4, "image_id": 13, "caption": "Two cats"},
        ],
    }
    ann = tmp_path / "captions_fixture.json"
    ann.write_text(json.dumps(meta))
    data = load_coco_captions(ann, folder, image_size=8)
    assert list(data.ids) == [7, 13, 42]                          # sorted by id; 99 has no caption
    assert data.images.shape == (3, 8, 8, 3) and data.images.dtype == np.uint8
    assert data.captions == [["A red square"], ["Two cats"], ["A Dog running on the beach.", "a dog, at the sea"]]
    assert data.objects is None
    assert np.abs(data.images[0].astype(int) - (200, 30, 30)).max() <= 3
    # centre crop then resize: image 42 is 40 x 30, its centre 30 x 30 square is what gets resized
    expected = np.asarray(Image.fromarray(raw[42][:, 5:35]).resize((8, 8), Image.BILINEAR))
    assert np.array_equal(data.images[2], expected)
    assert load_coco_captions(ann, folder, image_size=8, max_images=2).ids.tolist() == [7, 13]
    v = Vocabulary.build(data.all_captions())
    assert v.decode(v.encode(data.captions[2][0])) == "a dog running on the beach"
    (folder / "img_13.png").unlink()
    with pytest.raises(FileNotFoundError, match="img_13.png"):
        load_coco_captions(ann, folder, image_size=8)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"images": []}))
    with pytest.raises(ValueError, match="annotations"):
        load_coco_captions(bad, folder)


def test_write_then_load_coco_round_trip(tmp_path):
    data = make_shapes_captions(seed=2, cache=False, **SMALL)["val"]
    path = write_coco_captions(data, tmp_path / "coco")
    back = load_coco_captions(path, tmp_path / "coco" / "images", image_size=32)
    assert np.array_equal(back.images, data.images)                # PNG is lossless, same size: same bytes
    assert back.captions == data.captions and list(back.ids) == list(data.ids)


# --- BLEU ------------------------------------------------------------------------------------------------------
def test_bleu_identical_sentence_is_one():
    s = "a large red circle above a small blue square"
    r = bleu([s], [[s, "something else entirely"]])
    assert r["bleu1"] == r["bleu2"] == r["bleu3"] == r["bleu4"] == 1.0
    assert r["brevity_penalty"] == 1.0


def test_bleu_clipping():
    # "the the the" against "the cat": "the" occurs 3 times in the candidate but at most once in a reference,
    # so only 1 of the 3 unigrams is credited: p1 = 1/3. No bigram matches ("the the" is not in the reference).
    r = bleu(["the the the"], [["the cat"]])
    assert r["precisions"][:2] == [1 / 3, 0.0]
    assert r["bleu1"] == pytest.approx(1 / 3) and r["bleu2"] == 0.0


def test_bleu_hand_computed_corpus_with_brevity_penalty():
    # Candidate A = "the cat the cat on the mat" (7 words), references "the cat is on the mat" (6) and
    # "there is a cat on the mat" (7).
    #   unigrams: the x3 (max in one reference: 2), cat x2 (max 1), on (1), mat (1) -> clipped 2+1+1+1 = 5 of 7
    #   bigrams: "the cat" x2 (max 1), "cat the" (0), "cat on" (1, 2nd ref), "on the" (1), "the mat" (1) -> 4 of 6
    #   trigrams: "the cat the", "cat the cat", "the cat on" (0); "cat on the" (1), "on the mat" (1)      -> 2 of 5
    #   4-grams: only "cat on the mat" matches                                                              -> 1 of 4
    #   closest reference length to 7: 7
    # Candidate B = "the mat" (2 words), references "on the mat" (3) and "the cat is on the mat" (6).
    #   unigrams 2 of 2, bigrams 1 of 1 ("the mat"), no trigrams or 4-grams; closest reference length: 3
    # Corpus: p1 = 7/9, p2 = 5/7, p3 = 2/5, p4 = 1/4; c = 9 < r = 10, so BP = exp(1 - 10/9) = exp(-1/9).
    cands = ["the cat the cat on the mat", "the mat"]
    refs = [["the cat is on the mat", "there is a cat on the mat"], ["on the mat", "the cat is on the mat"]]
    r = bleu(cands, refs)
    p = [7 / 9, 5 / 7, 2 / 5, 1 / 4]
    bp = math.exp(-1 / 9)
    assert r["precisions"] == pytest.approx(p, abs=1e-15)
    assert (r["candidate_length"], r["reference_length"]) == (9, 10)
    assert r["brevity_penalty"] == pytest.approx(bp, rel=1e-15)
    assert r["bleu1"] == pytest.approx(bp * 7 / 9, rel=1e-12)
    assert r["bleu2"] == pytest.approx(bp * math.sqrt(7 / 9 * 5 / 7), rel=1e-12)
    assert r["bleu3"] == pytest.approx(bp * (7 / 9 * 5 / 7 * 2 / 5) ** (1 / 3), rel=1e-12)
    assert r["bleu4"] == pytest.approx(bp * (1 / 18) ** (1 / 4), rel=1e-12)     # 7/9 * 5/7 * 2/5 * 1/4 = 1/18
    assert r["bleu4"] == pytest.approx(0.434437, abs=1e-6)
    # token lists give the same numbers as strings
    assert bleu([c.split() for c in cands], [[x.split() for x in rs] for rs in refs])["bleu4"] == r["bleu4"]


def test_bleu_reference_length_ties_take_the_shorter_and_short_candidates_are_penalised():
    # "on the mat" (3) is as close to "the mat" (2) as to "is on the mat" (4): the shorter wins, r = 2 < c = 3,
    # so there is no penalty; every n-gram up to 3 matches; there is no 4-gram, so p4 = 0 and BLEU-4 = 0.
    r = bleu(["on the mat"], [["the mat", "is on the mat"]])
    assert r["reference_length"] == 2 and r["brevity_penalty"] == 1.0
    assert r["bleu3"] == 1.0 and r["bleu4"] == 0.0
    # "the cat" against a 6-word reference: perfect precision, but BP = exp(1 - 6/2) = exp(-2)
    r = bleu(["the cat"], [["the cat is on the mat"]])
    assert r["bleu2"] == pytest.approx(math.exp(-2), rel=1e-12)
    assert bleu([""], [["a b"]])["bleu1"] == 0.0
    with pytest.raises(ValueError):
        bleu(["a"], [])
