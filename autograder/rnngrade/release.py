"""Build the student release (notebooks/) from the solution notebooks (solutions/)."""
from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from .course import Course
from .workspace import Workspace


def build_release(course: Course, dest: Path, assignments: list[str] | None = None) -> list[Path]:
    """Write ``dest/<assignment>/<notebook>.ipynb`` for each assignment: solutions replaced by stubs that raise
    NotImplementedError, hidden tests removed, outputs cleared, cells locked. Returns the files written."""
    written = []
    with Workspace(course, assignments) as ws:
        ws.generate()
        for a in ws.assignments:
            out = Path(dest) / a
            if out.exists():
                shutil.rmtree(out)
            shutil.copytree(ws.release_path(a), out)
            written += sorted(out.rglob("*.ipynb"))
    return written


def stale_release_files(course: Course) -> list[str]:
    """Files of notebooks/ that differ from a fresh release (missing, extra or changed); empty when current."""
    with tempfile.TemporaryDirectory(prefix="rnngrade-release-") as tmp:
        fresh = Path(tmp)
        build_release(course, fresh)
        committed = course.release_dir
        rel = lambda root: {str(p.relative_to(root)) for p in root.rglob("*")
                            if p.suffix == ".ipynb" and ".ipynb_checkpoints" not in p.parts}
        want, have = rel(fresh), rel(committed) if committed.exists() else set()
        stale = sorted(want ^ have)
        stale += sorted(f for f in want & have if not filecmp.cmp(fresh / f, committed / f, shallow=False))
        return stale
