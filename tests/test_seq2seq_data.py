"""rnnlab.seq2seq_data: the date and reordering generators (determinism, held-out splits, correct targets checked
against the standard library and by hand), the vocabulary, padding, and the tab-separated pair loader on a fixture
written here."""
import datetime as dt

import numpy as np
import pytest

from rnnlab.seq2seq_data import (DATE_FORMATS, DATE_MAX, DATE_MIN, REORDER_LEXICON, PairSet, Vocabulary, encode_pairs,
                                 format_date, iterate_batches, load_pairs_tsv, make_dates, make_reorder,
                                 reorder_sentence, tokenize_words)

SMALL = dict(n_train=500, n_val=50, n_heldout=100)


# --- dates ----------------------------------------------------------------------------------------------------
def test_dates_same_seed_same_data_other_seed_other_data():
    a, b, c = make_dates(seed=1, **SMALL), make_dates(seed=1, **SMALL), make_dates(seed=2, **SMALL)
    for split in ("train", "val", "heldout"):
        assert (a[split].sources, a[split].targets, a[split].kinds) == (b[split].sources, b[split].targets,
                                                                        b[split].kinds)
        assert a[split].sources != c[split].sources
    assert [len(a[s]) for s in ("train", "val", "heldout")] == [500, 50, 100]


def test_heldout_dates_never_seen_in_training_in_any_form():
    d = make_dates(seed=0, n_train=5000, n_val=500, n_heldout=500)
    train_dates = set(d["train"].targets) | set(d["val"].targets)
    assert not train_dates & set(d["heldout"].targets)
    # the held-out pool is ~10 % of the 36,525 days; the training pool is the rest
    assert len(set(d["heldout"].targets)) > 400


def test_targets_are_iso_and_sources_name_the_same_day():
    d = make_dates(seed=3, n_train=800, n_val=10, n_heldout=10)
    seen_kinds = set()
    for src, tgt, kind in zip(d["train"].sources, d["train"].targets, d["train"].kinds):
        day = dt.date.fromisoformat(tgt)
        assert DATE_MIN <= day <= DATE_MAX
        assert format_date(day, kind) == src
        seen_kinds.add(kind)
    assert seen_kinds == set(DATE_FORMATS)                 # 800 draws cover all formats


@pytest.mark.parametrize("kind, expected", [
    ("3rd of March 1999", "3rd of March 1999"),
    ("Mar 3, 99", "Mar 3, 99"),
    ("03/03/1999 (US)", "03/03/1999"),
    ("Wednesday, March 3, 1999", "Wednesday, March 3, 1999"),
    ("the third of march, 1999", "the third of march, 1999"),
    ("19990303", "19990303"),
])
def test_formats_written_by_hand(kind, expected):
    assert format_date(dt.date(1999, 3, 3), kind) == expected


def test_formats_by_hand_harder_days():
    d = dt.date(2011, 12, 22)                              # a Thursday
    assert format_date(d, "Wednesday, March 3, 1999") == "Thursday, December 22, 2011"
    assert format_date(d, "3rd of March 1999") == "22nd of December 2011"
    assert format_date(d, "the third of march, 1999") == "the twenty-second of december, 2011"
    assert format_date(d, "03/03/1999 (US)") == "12/22/2011"
    assert format_date(d, "03.03.1999 (day first)") == "22.12.2011"
    assert format_date(d, "3/3/99 (US)") == "12/22/11"
    assert format_date(dt.date(2000, 1, 11), "MARCH 3RD 1999") == "JANUARY 11TH 2000"
    assert format_date(dt.date(2000, 1, 13), "3rd of March 1999") == "13th of January 2000"
    assert format_date(dt.date(2000, 1, 30), "the third of march, 1999") == "the thirtieth of january, 2000"


def test_two_digit_years_are_unambiguous_in_the_window():
    # every short form with a two-digit year must decode to one day: 50..99 -> 19xx, 00..49 -> 20xx
    for year in (1950, 1999, 2000, 2049):
        src = format_date(dt.date(year, 7, 4), "Mar 3, 99")
        yy = int(src.split()[-1])
        assert (1900 + yy if yy >= 50 else 2000 + yy) == year


def test_unknown_format_is_refused():
    with pytest.raises(KeyError):
        make_dates(formats=["3rd of March 1999", "next tuesday"])


# --- reordering grammar ---------------------------------------------------------------------------------------
def test_reorder_by_hand():
    assert reorder_sentence("the big dog sees a small red cat") == "inu dai ta ga neko sho aka na o miru"
    assert reorder_sentence("every child quickly helps this teacher") == "ko zen ga sensei ko o haya tasu"


def test_reorder_is_deterministic_heldout_disjoint_and_word_order_changes():
    a, b = make_reorder(seed=0, **SMALL), make_reorder(seed=0, **SMALL)
    assert a["train"].sources == b["train"].sources and a["heldout"].targets == b["heldout"].targets
    assert make_reorder(seed=1, **SMALL)["train"].sources != a["train"].sources
    assert not set(a["heldout"].sources) & (set(a["train"].sources) | set(a["val"].sources))
    lex = REORDER_LEXICON
    for src, tgt, _ in zip(*[a["train"].sources, a["train"].targets, a["train"].kinds]):
        s, t = src.split(), tgt.split()
        assert t[-1] in lex["verb"].values()               # verb-final
        assert s.index(next(w for w in s if w in lex["verb"])) < len(s) - 1   # not verb-final in the source
        assert t.count("ga") == 1 and t.count("o") == 1 and t.index("ga") < t.index("o")
        assert len(t) == len(s) + 2                         # one word per word, plus the two particles


# --- vocabulary and batches -----------------------------------------------------------------------------------
def test_vocab_specials_and_round_trip():
    v = Vocabulary.build(["1999-03-03", "2001-12-24"], level="char")
    assert v.itos[:4] == ["<NULL>", "<START>", "<END>", "<UNK>"]
    assert (v.null_idx, v.start_idx, v.end_idx, v.unk_idx) == (0, 1, 2, 3)
    ids = v.encode("1999-03-03")
    assert ids[0] == 1 and ids[-1] == 2 and len(ids) == 12
    assert v.decode(ids) == "1999-03-03"
    assert v.decode(v.encode("1999-x3") + [5, 5]) == "1999-<UNK>3"           # nothing after <END>
    assert v.decode(v.encode("12") + [v.stoi["9"]], stop_at_end=False) == "129"
    assert Vocabulary.build(["b a a"], level="token").itos[4:] == ["a", "b"]    # most frequent first
    w = Vocabulary.build(["the dog sees a cat"], level="token")
    assert w.decode(w.encode("the cat sees a dog")) == "the cat sees a dog"


def test_encode_pairs_pads_and_counts():
    sv = Vocabulary.build(["ab", "abc"], level="char")
    tv = Vocabulary.build(["x", "xy"], level="char")
    b = encode_pairs(["abc", "a", ""], ["xy", "x", "y"], sv, tv)
    assert b.src.shape == (3, 3) and b.src_len.tolist() == [3, 1, 1]
    assert b.src[1].tolist() == [sv.stoi["a"], 0, 0] and b.src[2].tolist() == [3, 0, 0]   # empty -> <UNK>
    assert b.tgt.tolist() == [[1, tv.stoi["x"], tv.stoi["y"], 2], [1, tv.stoi["x"], 2, 0], [1, tv.stoi["y"], 2, 0]]
    cut = encode_pairs(["abc"], ["xyxy"], sv, tv, max_src_len=2, max_tgt_len=1)
    assert cut.src.tolist() == [[sv.stoi["a"], sv.stoi["b"]]] and cut.tgt.tolist() == [[1, tv.stoi["x"], 2]]


def test_iterate_batches_covers_every_pair_once():
    d = make_dates(seed=0, n_train=103, n_val=1, n_heldout=1)["train"]
    sv, tv = Vocabulary.build(d.sources, level="char"), Vocabulary.build(d.targets, level="char")
    batches = list(iterate_batches(d, sv, tv, 10, rng=np.random.default_rng(0)))
    assert [len(b) for b in batches] == [10] * 10 + [3]
    got = sorted(tv.decode(row) for b in batches for row in b.tgt)
    assert got == sorted(d.targets)
    assert len(list(iterate_batches(d, sv, tv, 10, drop_last=True))) == 10


def test_pairset_subset_and_reverse():
    p = PairSet(["ab c", "de"], ["x", "y"], ["k1", "k2"])
    assert p.subset([1]).sources == ["de"] and p.subset(np.array([True, False])).kinds == ["k1"]
    assert p.reversed_sources().sources == ["c ba", "ed"]
    assert p.reversed_sources(level="token").sources == ["c ab", "de"]


# --- tab-separated pairs (Tatoeba / manythings.org format) ----------------------------------------------------
def test_load_pairs_tsv_fixture(tmp_path):
    f = tmp_path / "fra.txt"
    f.write_text("\ufeffGo.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #1158250 (W)\n"
                 "Hi.\tSalut !\n"
                 "\n"
                 "a line without a tab\n"
                 "I'm sure it's true.\tJe suis sûr que c'est vrai.\tCC-BY 2.0 (France) Attribution: x\n"
                 "Run!\tCours !\r\n", encoding="utf-8")
    p = load_pairs_tsv(f)
    assert p.sources == ["Go.", "Hi.", "I'm sure it's true.", "Run!"]
    assert p.targets == ["Va !", "Salut !", "Je suis sûr que c'est vrai.", "Cours !"]
    assert p.kinds == ["1", "2", "5", "6"]
    assert load_pairs_tsv(f, max_pairs=2).targets == ["Va !", "Salut !"]
    assert load_pairs_tsv(f, swap=True, lowercase=True).sources[0] == "va !"
    assert load_pairs_tsv(f, max_len=7).sources == ["Go.", "Hi.", "Run!"]                   # characters
    assert load_pairs_tsv(f, max_len=3, level="token").sources == ["Go.", "Hi.", "Run!"]     # words
    # the same code path as the generated data: vocabularies and padded batches
    sv, tv = Vocabulary.build(p.sources, level="token"), Vocabulary.build(p.targets, level="token")
    b = encode_pairs(p.sources, p.targets, sv, tv)
    assert tv.decode(b.tgt[2]) == "Je suis sûr que c'est vrai ."
    assert tokenize_words("I'm sure it's true.") == ["I'm", "sure", "it's", "true", "."]


def test_load_pairs_tsv_empty_file_is_an_error(tmp_path):
    f = tmp_path / "empty.txt"
    f.write_text("no tabs here\n")
    with pytest.raises(ValueError):
        load_pairs_tsv(f)
