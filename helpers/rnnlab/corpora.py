"""Text corpora: download once, verify by checksum, read from the cache; a mirror for offline use; a fallback.

>>> text, source = load_text("shakespeare")      # ~1.1 MB; cached under data/cache/
>>> text, source = load_text("/path/to/any.txt")  # any local UTF-8 text file

Where the corpus comes from, in order: the cache; the mirror named by ``RNNLAB_DATA_MIRROR`` (a folder, or a
base URL) if set; the public URL. With no network and no cached copy, ``load_text(..., fallback=True)`` returns
the Python standard library's own source code instead (it exists on every machine) and says so.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sysconfig
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CORPORA", "Corpus", "ChecksumError", "data_dir", "fetch", "load_text", "stdlib_corpus", "split_text"]


@dataclass(frozen=True)
class Corpus:
    name: str
    filename: str
    url: str
    size: int
    sha256: str
    description: str


CORPORA = {
    "shakespeare": Corpus(
        name="shakespeare", filename="tinyshakespeare.txt",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        size=1_115_394, sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        description="Tiny Shakespeare: 40,000 lines of Shakespeare's plays (1,115,394 characters)"),
}


class ChecksumError(RuntimeError):
    """A downloaded or mirrored file is not the expected one (size or sha256 differ)."""


def data_dir() -> Path:
    """Where downloads and generated data are cached: $RNNLAB_DATA_DIR, else data/cache/ in this checkout,
    else ~/.cache/rnnlab. Created if missing."""
    env = os.environ.get("RNNLAB_DATA_DIR")
    if env:
        d = Path(env)
    else:
        repo = Path(__file__).resolve().parents[2]
        d = repo / "data" / "cache" if (repo / "data").is_dir() else Path.home() / ".cache" / "rnnlab"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _verify(path: Path, corpus: Corpus, origin: str) -> None:
    size = path.stat().st_size
    if size != corpus.size:
        raise ChecksumError(f"{corpus.filename} from {origin}: {size} bytes, expected {corpus.size}")
    digest = _sha256(path)
    if digest != corpus.sha256:
        raise ChecksumError(f"{corpus.filename} from {origin}: sha256 {digest}, expected {corpus.sha256}")


def _copy_verified(open_source, corpus: Corpus, dest: Path, origin: str) -> None:
    """Copy into a temporary file beside ``dest``, verify, then rename: nothing half-written is ever left."""
    fd, tmp = tempfile.mkstemp(prefix=f".{corpus.filename}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, open_source() as src:
            shutil.copyfileobj(src, out, 1 << 20)
        _verify(Path(tmp), corpus, origin)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fetch(name: str, timeout: float = 30.0) -> Path:
    """Path of the cached, verified corpus ``name``; fetched from the mirror or the public URL if needed.

    Raises ChecksumError when what arrived is not the expected file, OSError when it could not be fetched.
    """
    if name not in CORPORA:
        raise KeyError(f"unknown corpus {name!r}; known: {', '.join(CORPORA)}")
    corpus = CORPORA[name]
    dest = data_dir() / corpus.filename
    if dest.exists():
        try:
            _verify(dest, corpus, "the cache")
            return dest
        except ChecksumError:
            dest.unlink()  # a stale or damaged cached copy: fetch again
    mirror = os.environ.get("RNNLAB_DATA_MIRROR", "").strip()
    if mirror and "://" not in mirror:
        src = Path(mirror) / corpus.filename
        if src.exists():
            _copy_verified(lambda: open(src, "rb"), corpus, dest, str(src))
            return dest
    url = f"{mirror.rstrip('/')}/{corpus.filename}" if "://" in mirror else corpus.url
    _copy_verified(lambda: urllib.request.urlopen(url, timeout=timeout), corpus, dest, url)
    return dest


def stdlib_corpus(max_chars: int = 1_115_394) -> str:
    """The Python standard library's own source (sorted .py files, concatenated), cut to ``max_chars``."""
    root = Path(sysconfig.get_paths()["stdlib"])
    parts, total = [], 0
    for p in sorted(root.glob("*.py")):
        try:
            s = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        parts.append(s)
        total += len(s)
        if total >= max_chars:
            break
    return "".join(parts)[:max_chars]


def load_text(name_or_path: str | os.PathLike, fallback: bool = True, verbose: bool = True) -> tuple[str, str]:
    """Load a corpus by name (see CORPORA) or any local text file. Returns (text, description of the source).

    With ``fallback=True``, a named corpus that cannot be fetched (no network, no cache, no mirror) is replaced by
    the Python standard library's source code, with a printed explanation. A checksum mismatch is never
    silently replaced: it raises ChecksumError.
    """
    path = Path(name_or_path)
    if str(name_or_path) not in CORPORA:
        if not path.is_file():
            raise FileNotFoundError(f"{name_or_path}: not a known corpus ({', '.join(CORPORA)}) nor a file")
        text = path.read_text(encoding="utf-8")
        return text, f"local file {path} ({len(text):,} characters)"
    corpus = CORPORA[str(name_or_path)]
    try:
        text = fetch(corpus.name).read_text(encoding="utf-8")
        return text, corpus.description
    except ChecksumError:
        raise
    except OSError as exc:
        if not fallback:
            raise
        text = stdlib_corpus()
        desc = (f"Python standard library source ({len(text):,} characters) -- {corpus.name} could not be fetched "
                f"({type(exc).__name__}: {exc}); set RNNLAB_DATA_MIRROR to a folder holding {corpus.filename}, "
                "or connect to the internet, to use it")
        if verbose:
            print(f"NOTE: using {desc}")
        return text, desc


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """(train, validation): the last ``val_fraction`` of the characters is the validation set."""
    if not 0 < val_fraction < 1:
        raise ValueError("val_fraction must be in (0, 1)")
    cut = int(len(text) * (1 - val_fraction))
    return text[:cut], text[cut:]
