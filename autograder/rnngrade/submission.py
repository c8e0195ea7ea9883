"""Open a student's submission (a folder or a .zip) and find the course's notebooks in it."""
from __future__ import annotations

import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from .course import notebook_grade_ids

MAX_UNZIPPED_BYTES = 200 * 2**20  # refuse zip bombs
MAX_ZIP_MEMBERS = 5000
MAX_NOTEBOOK_BYTES = 50 * 2**20      # larger .ipynb files are not opened to recognise them
RENAMED_MIN_SHARE = 0.5              # a renamed notebook must hold at least this share of a course notebook's cells


class SubmissionError(ValueError):
    """The submission cannot be graded at all (not a folder or zip, unreadable, unsafe)."""


@dataclass
class Located:
    """Which notebooks of the course a submission holds. found: notebook name -> path."""
    found: dict[str, Path] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)   # .ipynb files that match no notebook of the course
    duplicates: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)   # notebook name -> the file (renamed) graded as it


def _safe_extract(zpath: Path, dest: Path) -> None:
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{zpath.name}: not a readable zip file ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise SubmissionError(f"{zpath.name}: too many files in the zip ({len(infos)})")
        total = sum(i.file_size for i in infos)
        if total > MAX_UNZIPPED_BYTES:
            raise SubmissionError(f"{zpath.name}: unzips to {total / 2**20:.0f} MiB, over the "
                                  f"{MAX_UNZIPPED_BYTES // 2**20} MiB limit")
        for info in infos:
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir() or name.is_absolute() or ".." in name.parts:
                continue
            target = dest.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > MAX_UNZIPPED_BYTES:
                        raise SubmissionError(f"{zpath.name}: a member unzips past the size limit")
                    out.write(chunk)


class Submission:
    """A submission as a folder on disk. Zips are unpacked into a temporary folder, removed by close()."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._tmp: Path | None = None
        if self.path.is_dir():
            self.folder = self.path
        elif self.path.is_file() and self.path.suffix.lower() == ".zip":
            self._tmp = Path(tempfile.mkdtemp(prefix="rnngrade-zip-"))
            try:
                _safe_extract(self.path, self._tmp)
            except BaseException:
                self.close()
                raise
            self.folder = self._tmp
        elif self.path.is_file() and self.path.suffix.lower() == ".ipynb":
            self._tmp = Path(tempfile.mkdtemp(prefix="rnngrade-nb-"))
            shutil.copyfile(self.path, self._tmp / self.path.name)
            self.folder = self._tmp
        elif not self.path.exists():
            raise SubmissionError(f"{self.path}: no such file or folder")
        else:
            raise SubmissionError(f"{self.path}: not a folder, a .zip or an .ipynb file")

    def locate(self, notebook_index: dict[str, str],
               cell_ids: Callable[[], dict[str, set[str]]] | None = None) -> Located:
        """Find each course notebook by file name anywhere in the submission (checkpoints ignored).

        When a name appears more than once, the copy inside a folder named after its assignment wins, then the
        shallowest path; the others are reported as duplicates. With ``cell_ids`` (called only when a notebook is
        missing and another .ipynb file is there; returns notebook name -> its grade ids), a course notebook not
        found by name is recognised by its content: a file under another name ("toy (1)",
        "toy-Copy1", "Toy") whose cells carry at least half of that notebook's grade ids, and more of them than any
        other file does, is graded as that notebook (reported in ``renamed``).
        """
        loc = Located()
        candidates: dict[str, list[Path]] = {}
        for p in sorted(self.folder.rglob("*.ipynb")):
            rel = p.relative_to(self.folder)
            if any(part.startswith(".") or part == "__MACOSX" for part in rel.parts):
                continue
            if p.stem in notebook_index:
                candidates.setdefault(p.stem, []).append(p)
            else:
                loc.ignored.append(str(rel))
        for nb, paths in candidates.items():
            assignment = notebook_index[nb]
            paths.sort(key=lambda p: (assignment not in p.parts, len(p.parts), str(p)))
            loc.found[nb] = paths[0]
            loc.duplicates += [str(p.relative_to(self.folder)) for p in paths[1:]]
        if cell_ids is not None and loc.ignored and len(loc.found) < len(notebook_index):
            self._recognise_renamed(loc, cell_ids())
        return loc

    def _recognise_renamed(self, loc: Located, cell_ids: dict[str, set[str]]) -> None:
        missing = {nb: ids for nb, ids in cell_ids.items() if nb not in loc.found and ids}
        if not missing:
            return
        best: dict[str, tuple[float, int, str]] = {}         # notebook -> (share, -depth, file)
        for rel in loc.ignored:
            ids = notebook_grade_ids(self.folder / rel, MAX_NOTEBOOK_BYTES)
            if not ids:
                continue
            shares = {nb: len(ids & want) / len(want) for nb, want in missing.items()}
            nb = max(shares, key=shares.get)
            if shares[nb] >= RENAMED_MIN_SHARE:
                key = (shares[nb], -len(Path(rel).parts), rel)
                if nb not in best or key[:2] > best[nb][:2]:
                    best[nb] = key
        for nb, (_, _, rel) in sorted(best.items()):
            loc.found[nb] = self.folder / rel
            loc.renamed[nb] = rel
            loc.ignored.remove(rel)

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "Submission":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
