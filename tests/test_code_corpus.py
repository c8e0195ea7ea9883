"""rnnlab.code_corpus, rnnlab.code_features and rnnlab.code_lm (notebook 07's infrastructure)."""
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab import CharVocab
from rnnlab.code_corpus import FILE_SEPARATOR, file_corpus, stdlib_code_corpus
from rnnlab.code_features import FEATURES, code_features
from rnnlab.code_lm import CodeLSTM, code_samples, train_code_lm


# ----------------------------------------------------------------------------------------------- the corpus
@pytest.fixture(scope="module")
def small():
    return stdlib_code_corpus(target_chars=300_000)


def test_stdlib_corpus_is_deterministic_and_its_checksum_is_the_texts(small):
    again = stdlib_code_corpus(target_chars=300_000)
    assert again == small
    assert small.sha256 == hashlib.sha256((small.train_text + small.val_text).encode()).hexdigest()
    assert 300_000 <= small.size <= 300_000 + 120_000 + 1          # stops at the first file past the target


def test_stdlib_corpus_is_split_by_file(small):
    root = Path(small.root)
    assert small.train_files and small.val_files and not set(small.train_files) & set(small.val_files)
    read = [(root / rel).read_text(encoding="ascii") for rel in small.val_files]
    assert small.val_text == FILE_SEPARATOR.join(read)              # the validation text is exactly those files
    read = [(root / rel).read_text(encoding="ascii") for rel in small.train_files]
    assert small.train_text == FILE_SEPARATOR.join(read)
    chosen = len(small.train_files) + len(small.val_files)
    assert len(small.val_files) == chosen // 10                      # every tenth chosen file
    assert not any("test" in Path(rel).parts[:-1] or Path(rel).name.startswith("test_")
                   for rel in small.train_files + small.val_files)
    assert (small.train_text + small.val_text).isascii()


def test_full_stdlib_corpus_size():
    corpus = stdlib_code_corpus()
    assert 1_500_000 <= corpus.size <= 1_650_000
    assert len(corpus.val_text) > 50_000


def test_file_corpus_one_file_and_a_folder(tmp_path):
    f = tmp_path / "notes.tex"
    f.write_text("\\section{A}\n" * 100, encoding="utf-8")
    c = file_corpus(f)
    assert c.train_text + c.val_text == f.read_text() and len(c.val_text) == 120
    folder = tmp_path / "proj"
    folder.mkdir()
    for k in range(20):
        (folder / f"m{k:02d}.py").write_text(f"x = {k}\n")
    (folder / "readme.txt").write_text("not code\n")
    c = file_corpus(folder, suffix=".py")
    assert c.val_files == ("m09.py", "m19.py") and len(c.train_files) == 18
    assert "not code" not in c.train_text + c.val_text
    with pytest.raises(FileNotFoundError):
        file_corpus(tmp_path / "missing.txt")
    (tmp_path / "tiny.txt").write_text("ab")
    with pytest.raises(ValueError, match="too few"):
        file_corpus(tmp_path / "tiny.txt")


# ----------------------------------------------------------------------------------------------- the features
def _bits(s):
    return np.array([float(c) for c in s.replace(" ", "")])


def test_strings_comments_and_position():
    src = 'x = "a#(" # c(\n'
    f = code_features(src)
    assert set(f) == set(FEATURES) and all(v.shape == (len(src),) for v in f.values())
    np.testing.assert_array_equal(f["in string"], _bits("0000 11111 000000"))
    np.testing.assert_array_equal(f["in comment"], _bits("0000 00000 011110"))
    np.testing.assert_array_equal(f["bracket depth"], np.zeros(len(src)))     # brackets in strings/comments
    np.testing.assert_array_equal(f["position in line"], np.arange(len(src)))


def test_bracket_depth_counts_the_opening_and_the_closing_bracket_as_inside():
    src = "f(a[1],\n  {2})\n"
    np.testing.assert_array_equal(code_features(src)["bracket depth"], _bits("01122211 1122210"))
    np.testing.assert_array_equal(code_features(src)["position in line"], list(range(8)) + list(range(7)))


def test_if_blocks_and_indentation():
    src = "if a:\n    if b:\n        c\nelif d:\n    e\nelse:\n    f\n"
    f = code_features(src)
    lengths = [6, 10, 10, 8, 6, 6, 6]
    np.testing.assert_array_equal(f["in if"], np.repeat([1, 1, 1, 1, 1, 0, 0], lengths))
    np.testing.assert_array_equal(f["indent level"], np.repeat([0, 1, 2, 0, 1, 0, 1], lengths))
    one_line = code_features("if a: b\nc\n")["in if"]
    np.testing.assert_array_equal(one_line, _bits("11111111 00"))
    np.testing.assert_array_equal(code_features("y = [i for i in x if i]\n# if x:\n")["in if"], np.zeros(32))


def test_multiline_and_f_strings():
    f = code_features('s = """a\nb"""\nt = f"{a(1)}"\n')
    np.testing.assert_array_equal(f["in string"], _bits("0000 111111111 0 0000 111111111 0"))
    np.testing.assert_array_equal(f["bracket depth"], np.zeros(28))           # same on every Python version


def test_text_the_tokenizer_refuses_is_a_clear_error():
    with pytest.raises(ValueError, match="tokenizer"):
        code_features("x = (\n")


def test_features_of_the_stdlib_corpus(small):
    f = code_features(small.val_text)
    assert all(v.shape == (len(small.val_text),) for v in f.values())
    for name in ["in string", "in comment", "in if"]:
        assert 0.01 < f[name].mean() < 0.9 and set(np.unique(f[name])) == {0.0, 1.0}
    assert f["bracket depth"].min() == 0 and f["indent level"].min() == 0 and f["indent level"].max() >= 2


# ----------------------------------------------------------------------------------------------- the model
def test_code_lstm_trains_and_samples():
    text = "def f(x):\n    return x\n" * 200
    vocab = CharVocab(text)
    torch.manual_seed(0)
    model = CodeLSTM(len(vocab), hidden_size=32, table_dim=8)
    logits, (h, c) = model(torch.zeros(3, 5, dtype=torch.long))
    assert logits.shape == (3, 5, len(vocab)) and h.shape == c.shape == (1, 3, 32)
    hist = train_code_lm(model, vocab.encode(text), max_iters=80, batch_size=8, seq_len=32, progress_bar=False)
    assert hist["iters"] == 80 and len(hist["loss"]) == 80
    assert np.mean(hist["loss"][-10:]) < 0.5 * hist["loss"][0]
    model.train()
    out = code_samples(model, vocab, "def ", 30, n_samples=3, seed=4)
    assert isinstance(out, list) and len(out) == 3 and all(s.startswith("def ") and len(s) == 34 for s in out)
    assert out == code_samples(model, vocab, "def ", 30, n_samples=3, seed=4) and model.training
    with pytest.raises(ValueError):
        code_samples(model, vocab, "def ", 5, temperature=0)
    with pytest.raises(ValueError):
        train_code_lm(model, vocab.encode(text))
