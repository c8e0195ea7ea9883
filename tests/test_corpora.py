"""Corpus loading: cache, checksum, mirror folder, a real HTTP download (local server), offline fallback;
vocabulary round trip; contiguous TBPTT batches."""
import functools
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from rnnlab import StreamBatcher, corpora
from rnnlab.corpora import ChecksumError, Corpus, fetch, load_text, split_text

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(d))
    monkeypatch.delenv("RNNLAB_DATA_MIRROR", raising=False)
    return d


@pytest.fixture
def served(tmp_path):
    """A generated corpus served over HTTP on loopback; yields (base_url, content, folder)."""
    folder = tmp_path / "www"
    folder.mkdir()
    content = ("".join(f"line {i}: the quick brown fox\n" for i in range(2000))).encode()
    (folder / "gen.txt").write_bytes(content)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", content, folder
    server.shutdown()


def _register(monkeypatch, url, content, sha=None):
    c = Corpus("gen", "gen.txt", url, len(content), sha or hashlib.sha256(content).hexdigest(), "generated")
    monkeypatch.setitem(corpora.CORPORA, "gen", c)
    return c


def test_download_verifies_and_caches(cache, served, monkeypatch):
    base, content, folder = served
    _register(monkeypatch, f"{base}/gen.txt", content)
    path = fetch("gen")
    assert path == cache / "gen.txt" and path.read_bytes() == content
    (folder / "gen.txt").unlink()            # second call reads the cache: the server no longer has it
    text, desc = load_text("gen")
    assert text == content.decode() and desc == "generated"


def test_corrupted_download_raises_and_leaves_nothing(cache, served, monkeypatch):
    base, content, folder = served
    _register(monkeypatch, f"{base}/gen.txt", content, sha="0" * 64)
    with pytest.raises(ChecksumError, match="sha256"):
        load_text("gen")                     # a mismatch is never replaced by the fallback
    assert list(cache.iterdir()) == []       # no cached file, no .part leftovers


def test_truncated_download_raises(cache, served, monkeypatch):
    base, content, folder = served
    _register(monkeypatch, f"{base}/gen.txt", content + b"more")
    with pytest.raises(ChecksumError, match="bytes"):
        fetch("gen")
    assert list(cache.iterdir()) == []


def test_mirror_url_and_folder(cache, served, monkeypatch, tmp_path):
    base, content, folder = served
    _register(monkeypatch, "http://127.0.0.1:9/unreachable/gen.txt", content)
    monkeypatch.setenv("RNNLAB_DATA_MIRROR", base)
    assert fetch("gen").read_bytes() == content
    (cache / "gen.txt").unlink()
    monkeypatch.setenv("RNNLAB_DATA_MIRROR", str(folder))
    assert fetch("gen").read_bytes() == content


def test_damaged_cache_is_refetched(cache, served, monkeypatch):
    base, content, folder = served
    _register(monkeypatch, f"{base}/gen.txt", content)
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "gen.txt").write_bytes(b"half a file")
    assert fetch("gen").read_bytes() == content


def test_offline_falls_back_to_stdlib_source_and_says_so(cache, monkeypatch, capsys):
    _register(monkeypatch, "http://127.0.0.1:9/nothing-listens-here.txt", b"x" * 10)
    text, desc = load_text("gen")
    assert "Python standard library" in desc and "import" in text and len(text) > 100_000
    assert "NOTE: using Python standard library" in capsys.readouterr().out
    with pytest.raises(OSError):
        load_text("gen", fallback=False)


@pytest.mark.skipif(not SHARED.exists(), reason="shared Shakespeare mirror not present")
def test_shakespeare_from_the_shared_mirror(cache, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA_MIRROR", str(SHARED.parent))
    text, desc = load_text("shakespeare")
    assert len(text) == 1_115_394 and len(set(text)) == 65 and text.startswith("First Citizen:")
    train, val = split_text(text)
    assert train + val == text and len(val) == len(text) - int(len(text) * 0.9)


def test_local_file_and_unknown_name(tmp_path):
    p = tmp_path / "mine.txt"
    p.write_text("abc")
    assert load_text(str(p))[0] == "abc"
    with pytest.raises(FileNotFoundError):
        load_text("no-such-corpus")


def test_stream_batcher_is_contiguous_across_batches():
    ids = np.arange(103)
    b = StreamBatcher(ids, batch_size=4, seq_len=5)
    batches = list(b)
    assert len(batches) == len(b) == 5                  # streams of (103-1)//4 = 25 -> 5 chunks of 5
    for x, y in batches:
        assert x.shape == y.shape == (4, 5) and np.array_equal(y, x + 1)
    for (x0, _), (x1, _) in zip(batches, batches[1:]):
        assert np.array_equal(x1[:, 0], x0[:, -1] + 1)  # each row continues where it stopped
    assert np.array_equal(batches[0][0][:, 0], [0, 25, 50, 75])
    with pytest.raises(ValueError):
        StreamBatcher(np.arange(10), 4, 5)
