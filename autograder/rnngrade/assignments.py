"""Which assignments a run grades, and the per-assignment summary that ends its report.

Courses release the notebooks one assignment at a time (nbgrader's unit is the assignment: one folder of
``solutions/``). ``rnngrade grade``, ``grade --batch``, ``check`` and ``gradescope-bundle`` take ``--assignment NAME``
(repeatable); a run grades exactly those, and totals, columns and feedback cover only them. Without it, ``check``
takes the whole course and ``grade`` the assignments the submission contains.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Iterable

from .course import Course


def resolve(course: Course, names: Iterable[str]) -> list[str]:
    """The assignments named (by folder name, ``01_vanilla_rnn``, or by notebook name, ``vanilla_rnn``), in course
    order and without repeats. Raises ValueError naming the valid choices for an unknown name."""
    known = course.assignments()
    index = course.notebook_index()
    chosen = set()
    for name in names:
        name = str(name).strip().rstrip("/").removesuffix(".ipynb")
        if name in known:
            chosen.add(name)
        elif name in index:
            chosen.add(index[name])
        else:
            raise ValueError(f"unknown assignment {name!r} (the course has: {', '.join(known)})")
    return [a for a in known if a in chosen]


def contained(course: Course, notebooks: Iterable[str]) -> list[str]:
    """The assignments, in course order, of the given notebook names (those a submission holds)."""
    index = course.notebook_index()
    found = {index[nb] for nb in notebooks if nb in index}
    return [a for a in course.assignments() if a in found]


def not_selected_notes(course: Course, found: dict[str, Path], selected: list[str]) -> list[str]:
    """One note per notebook of the submission that belongs to an assignment not being graded."""
    index = course.notebook_index()
    return [f"Not graded: {nb}.ipynb belongs to assignment {index[nb]}, which this run does not grade "
            f"(add --assignment {index[nb]} to grade it)." for nb in sorted(found) if index[nb] not in selected]


def notebooks_named_in(paths: Iterable[Path], notebook_names: Iterable[str]) -> set[str]:
    """Course notebooks whose file names appear in these submission entries (folders, zips, or notebook files
    named ``<student>_<notebook>.ipynb``). A quick look by name only: it opens no notebook."""
    names = sorted(notebook_names, key=len, reverse=True)
    seen: set[str] = set()

    def look(filename: str) -> None:
        stem = Path(filename.replace("\\", "/")).name
        if not stem.lower().endswith(".ipynb"):
            return
        stem = stem[:-len(".ipynb")]
        for nb in names:
            if stem == nb or stem.endswith(("_" + nb, "-" + nb)) or stem.rsplit("-", 1)[0].endswith(nb):
                seen.add(nb)
                return

    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in p.rglob("*.ipynb"):
                look(f.name)
        elif p.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(p) as zf:
                    for n in zf.namelist():
                        look(n)
            except (zipfile.BadZipFile, OSError):
                continue
        else:
            look(p.name)
    return seen


def summary_lines(course: Course, result) -> list[str]:
    """The per-assignment summary that ends ``rnngrade grade``'s report: automatic points per assignment, written
    answers (graded by hand, or still to grade), and the total."""
    index = course.notebook_index()
    lines = ["Summary by assignment:"]
    width = max([len(a) for a in result.assignments] + [5])
    for a in result.assignments:
        tests = [t for t in result.tests if index.get(t.notebook) == a]
        auto = [t for t in tests if not t.manual]
        manual = [t for t in tests if t.manual]
        done = [t for t in manual if t.hand_graded]
        score = sum(t.score for t in auto + done)
        top = sum(t.max_score for t in auto + done)
        extra = []
        missing = sorted({t.notebook for t in tests if t.missing})
        if missing:
            extra.append("; ".join(f"{nb}.ipynb: {next(t.missing for t in tests if t.notebook == nb).rstrip('.')}"
                                   for nb in missing))
        if done:
            extra.append(f"with written answers {sum(t.score for t in done):g} / {sum(t.max_score for t in done):g}")
        if len(done) < len(manual):
            extra.append(f"written answers worth {sum(t.max_score for t in manual if not t.hand_graded):g} pt "
                         "still to grade by hand")
        lines.append(f"  {a:{width}s}  {score:5g} / {top:g}" + (f"  ({'; '.join(extra)})" if extra else ""))
    lines.append(f"  {'total':{width}s}  {result.score + result.hand_score:5g} / "
                 f"{result.max_score + sum(t.max_score for t in result.manual_tests if t.hand_graded):g}")
    return lines
