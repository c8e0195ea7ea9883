"""Corpora of source code for notebook 07: the running Python's standard library, or any file or folder you name.

>>> corpus = stdlib_code_corpus()                 # ~1.5 MB of real Python code, offline, split by file
>>> corpus = file_corpus("thesis.tex")            # your own text: one file, split by position
>>> corpus = file_corpus("my_project", suffix=".py")   # a folder: its files, split by file

Every installation of Python carries the source of its standard library. :func:`stdlib_code_corpus` picks files from
it in a fixed order (sorted by a hash of the path), skips what is not ordinary hand-written code (tests, generated
tables, files that are not ASCII, very large files), and sends every ``val_every``-th chosen file to the validation
split, so that no file is shared between training and validation. It records the sha256 of the assembled text: two
runs on the same Python version give the same text and checksum. **The text differs between Python versions** (3.10,
3.11, 3.12 and 3.13 ship different source), so the checksum, the sizes and every number measured on the corpus hold
for one version only.
"""
from __future__ import annotations

import hashlib
import os
import platform
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CodeCorpus", "stdlib_code_corpus", "file_corpus", "FILE_SEPARATOR"]

FILE_SEPARATOR = "\n"          # files are joined with one blank line between them (each ends with a newline)
_SKIP_PARTS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__", "lib2to3",
               "pydoc_data", "encodings", "turtledemo", "idlelib", "ensurepip", "venv"}


@dataclass(frozen=True)
class CodeCorpus:
    """A text corpus split by file (or, for one file, by position).

    train_text, val_text: the assembled texts (str); train_files, val_files: the files' paths relative to
    ``root``, in the order they were joined; sha256: the hex digest of ``train_text + val_text`` (UTF-8);
    source: where it came from, in words.
    """
    train_text: str
    val_text: str
    train_files: tuple = field(default_factory=tuple)
    val_files: tuple = field(default_factory=tuple)
    sha256: str = ""
    source: str = ""
    root: str = ""

    @property
    def size(self) -> int:
        """The number of characters, training and validation together."""
        return len(self.train_text) + len(self.val_text)


def _digest(train_text: str, val_text: str) -> str:
    return hashlib.sha256((train_text + val_text).encode("utf-8")).hexdigest()


def _shuffle_key(rel: str) -> str:
    """A fixed pseudo-random order of paths (a hash of the path), so that the files taken come from all over the
    library rather than from the first letters of the alphabet; the same on every machine and version."""
    return hashlib.sha256(rel.encode("utf-8")).hexdigest()


def _read_code(path: Path, max_file_chars: int) -> str | None:
    """The file's text if it is plain ASCII code of a sensible size, with a final newline; else None."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if not raw.strip() or len(raw) > max_file_chars or not raw.isascii() or b"\r" in raw or b"\t" in raw:
        return None
    text = raw.decode("ascii")
    return text if text.endswith("\n") else text + "\n"


def _assemble(root: Path, paths: list[Path], target_chars: int, val_every: int, max_file_chars: int,
              source: str) -> CodeCorpus:
    train, val, train_files, val_files, total, chosen = [], [], [], [], 0, 0
    for path in paths:
        text = _read_code(path, max_file_chars)
        if text is None:
            continue
        chosen += 1
        rel = path.relative_to(root).as_posix()
        if val_every and chosen % val_every == 0:
            val.append(text)
            val_files.append(rel)
        else:
            train.append(text)
            train_files.append(rel)
        total += len(text) + len(FILE_SEPARATOR)
        if total >= target_chars:
            break
    if not train or not val:
        raise ValueError(f"{source}: found too few usable files ({len(train)} for training, {len(val)} for "
                         "validation); lower val_every or name another folder")
    train_text, val_text = FILE_SEPARATOR.join(train), FILE_SEPARATOR.join(val)
    return CodeCorpus(train_text, val_text, tuple(train_files), tuple(val_files), _digest(train_text, val_text),
                      source, str(root))


def stdlib_code_corpus(target_chars: int = 1_500_000, val_every: int = 10,
                       max_file_chars: int = 120_000) -> CodeCorpus:
    """Python code from the running interpreter's standard library: about ``target_chars`` characters.

    Files: every ``*.py`` under the stdlib folder, in a fixed pseudo-random order (sorted by the sha256 of the
    relative path, so that every part of the library is represented), without tests, generated data and
    bundled third-party folders; only ASCII files without tabs, at most ``max_file_chars`` bytes each. Files are
    taken in order until the total reaches ``target_chars``; every ``val_every``-th of them goes to validation.
    Deterministic for one Python version; the text (and ``sha256``) differ between versions.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_PARTS)      # prune: site-packages can be huge
        paths += [Path(folder) / f for f in files if f.endswith(".py") and not f.startswith("test_")]
    paths.sort(key=lambda p: _shuffle_key(p.relative_to(root).as_posix()))
    source = f"Python {platform.python_version()} standard library source at {root}"
    return _assemble(root, paths, target_chars, val_every, max_file_chars, source)


def file_corpus(path, suffix: str = "", val_fraction: float = 0.1, val_every: int = 10,
                max_file_chars: int = 2_000_000, target_chars: int = 5_000_000) -> CodeCorpus:
    """Any text of your own: a file (the last ``val_fraction`` of its characters is validation) or a folder (its
    files ending in ``suffix``, sorted, every ``val_every``-th to validation, up to ``target_chars``).

    Files must be UTF-8 text; a folder's files must be ASCII (others are skipped). Raises FileNotFoundError for a
    path that does not exist and ValueError for a text too short to split.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        paths = sorted((p for p in path.rglob(f"*{suffix}") if p.is_file()),
                       key=lambda p: p.relative_to(path).as_posix())
        return _assemble(path, paths, target_chars, val_every, max_file_chars, f"the files *{suffix} in {path}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if not 0 < val_fraction < 1:
        raise ValueError("val_fraction must be in (0, 1)")
    text = path.read_text(encoding="utf-8")
    cut = int(len(text) * (1 - val_fraction))
    if cut < 2 or len(text) - cut < 2:
        raise ValueError(f"{path}: {len(text)} characters are too few to split into training and validation")
    train_text, val_text = text[:cut], text[cut:]
    return CodeCorpus(train_text, val_text, (path.name,), (path.name,), _digest(train_text, val_text),
                      f"local file {path} ({len(text):,} characters; the last {val_fraction:.0%} for validation)",
                      str(path.parent))
