"""Build the student release (notebooks/) from the solution notebooks (solutions/): nbgrader's release, with the
set-up cell of ``rnngrade.setup_cell`` (installs the package on Colab; does nothing in the checkout) first."""
from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from .course import Course
from .setup_cell import with_setup_cell
from .workspace import Workspace


def build_release(course: Course, dest: Path, assignments: list[str] | None = None) -> list[Path]:
    """Write ``dest/<assignment>/<notebook>.ipynb`` for each assignment: solutions replaced by stubs that raise
    NotImplementedError, hidden tests removed, outputs cleared, cells locked, and the set-up cell first. Returns
    the files written."""
    import nbformat

    written = []
    with Workspace(course, assignments) as ws:
        ws.generate()
        for a in ws.assignments:
            out = Path(dest) / a
            if out.exists():
                shutil.rmtree(out)
            shutil.copytree(ws.release_path(a), out)
            for nb_path in sorted(out.rglob("*.ipynb")):
                nb = nbformat.read(str(nb_path), as_version=nbformat.NO_CONVERT)
                nbformat.write(with_setup_cell(nb), str(nb_path))
                written.append(nb_path)
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
