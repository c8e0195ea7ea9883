"""Build synthetic student submissions from the release: what a student would hand in."""
from __future__ import annotations

from pathlib import Path

import nbformat


def solution_sources(solution_nb: Path) -> dict[str, str]:
    """grade_id -> source of every solution cell of a solution notebook."""
    nb = nbformat.read(str(solution_nb), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def make_submission(release_nb: Path, solution_nb: Path, out: Path, answers: dict[str, str] | None = None,
                    solve: bool | set[str] = True, drop: set[str] = frozenset(),
                    edit: dict[str, str] | None = None) -> Path:
    """Write a student's notebook to ``out``, starting from the released notebook.

    solve: True fills every solution cell with the instructor's solution; a set fills only those grade ids.
    answers: grade_id -> source to put in that solution cell instead (a student's own, possibly wrong, code).
    drop: grade ids of cells the student deleted. edit: grade_id -> new source for any cell (e.g. a test).
    """
    nb = nbformat.read(str(release_nb), as_version=4)
    sols = solution_sources(solution_nb)
    answers, edit = answers or {}, edit or {}
    cells = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in drop:
            continue
        if gid in answers:
            cell.source = answers[gid]
        elif gid in sols and (solve is True or (solve and gid in solve)):
            cell.source = sols[gid]
        if gid in edit:
            cell.source = edit[gid]
        cells.append(cell)
    nb.cells = cells
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out))
    return out


TOY = Path(__file__).parent / "fixtures" / "toycourse"


def make_toy_course(root: Path, second_assignment: bool = False):
    """A copy of the toy course (assignment 00_toy, notebook toy: 4 automatic points, 1 written) under ``root``,
    released; with ``second_assignment``, also 01_other/other.ipynb, a copy of toy under another name (two
    assignments, as a course that releases one notebook at a time has)."""
    import shutil

    from rnngrade.course import Course
    from rnngrade.release import build_release

    shutil.copytree(TOY / "solutions", root / "solutions")
    if second_assignment:
        (root / "solutions" / "01_other").mkdir()
        shutil.copyfile(TOY / "solutions" / "00_toy" / "toy.ipynb", root / "solutions" / "01_other" / "other.ipynb")
    course = Course(root)
    build_release(course, course.release_dir)
    return course
