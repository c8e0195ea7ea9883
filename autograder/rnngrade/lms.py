"""A batch's class gradebook: ``OUT/grades.csv`` merged from every student's (:func:`merge_grades`), and beside it
the imports for learning management systems.

One row per student, one column per notebook (automatic points plus written answers graded by hand so far) and the
total:

- ``OUT/canvas_grades.csv`` for Canvas (Grades > Import): the columns Canvas's own gradebook export has, ``Student``,
  ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per notebook and ``Total``, and a second row
  ``Points Possible`` with each column's maximum. Canvas matches a row to a student by ``ID`` or ``SIS User ID`` (or
  ``SIS Login ID``) and creates an assignment for a column it does not know. Without a roster, ``SIS User ID`` and
  ``SIS Login ID`` hold the grader's student id (the submission's name) and ``ID`` stays empty; with ``roster`` (the
  CSV Canvas exports from its gradebook), ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID`` and ``Section``
  are copied from the roster row whose ``ID``, ``SIS User ID`` or ``SIS Login ID`` equals the student id (or, as
  Canvas names bulk-downloaded submissions ``name_<ID>_...``, appears in it as a ``_``-separated part).
- ``OUT/moodle_grades.csv`` for Moodle (Grades > Import > CSV file): an identifier column ``Username`` (the
  student id) and ``Email address`` (the id when it is one), then one grade column per notebook and ``Total``. In
  Moodle's import, map ``Username`` (or ``Email address``) to the matching user field and each grade column to a
  grade item (or a new one).
"""
from __future__ import annotations

import csv
from pathlib import Path

from .report import STATE_FILE, load_result

CANVAS_FILE = "canvas_grades.csv"
MOODLE_FILE = "moodle_grades.csv"
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def notebook_totals(result) -> tuple[dict[str, float], dict[str, float]]:
    """(points, maximum) per notebook: automatic tests plus written answers (hand-graded points; every question's
    maximum)."""
    points: dict[str, float] = {}
    top: dict[str, float] = {}
    for t in result.tests:
        top[t.notebook] = top.get(t.notebook, 0.0) + t.max_score
        got = t.score if (not t.manual or t.hand_graded) else 0.0
        points[t.notebook] = points.get(t.notebook, 0.0) + got
    return points, top


def _roster_lookup(roster: Path | None):
    if roster is None:
        return lambda student: None
    with open(roster, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f) if (r.get("Student") or "").strip() != "Points Possible"]

    def find(student: str):
        for key in ("SIS User ID", "SIS Login ID", "ID"):
            for r in rows:
                if (r.get(key) or "").strip() == student:
                    return r
        parts = set(student.split("_"))
        matches = [r for r in rows if (r.get("ID") or "").strip() in parts]
        return matches[0] if len(matches) == 1 else None
    return find


def write_exports(out_dir: Path, students: list[str] | None = None, roster: Path | None = None) -> list[Path]:
    """Write the Canvas and Moodle imports for the graded students of ``out_dir`` (default: every folder holding a
    graded.json); returns their paths."""
    out_dir = Path(out_dir)
    if students is None:
        students = sorted(p.parent.name for p in out_dir.glob(f"*/{STATE_FILE}"))
    results = [load_result(out_dir / s) for s in students if (out_dir / s / STATE_FILE).exists()]
    notebooks: list[str] = []
    maxima: dict[str, float] = {}
    per_student = []
    for r in results:
        points, top = notebook_totals(r)
        for nb in points:
            if nb not in notebooks:
                notebooks.append(nb)
            maxima[nb] = max(maxima.get(nb, 0.0), top[nb])
        per_student.append((r.student, points))
    total_max = sum(maxima.values())
    find = _roster_lookup(roster)

    canvas = out_dir / CANVAS_FILE
    with open(canvas, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(CANVAS_IDENTITY + notebooks + ["Total"])
        w.writerow(["Points Possible", "", "", "", ""] + [f"{maxima[nb]:g}" for nb in notebooks] + [f"{total_max:g}"])
        for student, points in per_student:
            row = find(student)
            ident = ([(row.get(k) or "") for k in CANVAS_IDENTITY] if row is not None
                     else [student, "", student, student, ""])
            w.writerow(ident + [f"{points.get(nb, 0.0):g}" for nb in notebooks] + [f"{sum(points.values()):g}"])

    moodle = out_dir / MOODLE_FILE
    with open(moodle, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Username", "Email address"] + notebooks + ["Total"])
        for student, points in per_student:
            w.writerow([student, student if "@" in student else ""]
                       + [f"{points.get(nb, 0.0):g}" for nb in notebooks] + [f"{sum(points.values()):g}"])
    return [canvas, moodle]


def merge_grades(out_dir: Path, students: list[str]) -> Path:
    """OUT/grades.csv from every OUT/<student>/grades.csv (header union, rows sorted by student), then the LMS
    imports beside it."""
    header: list[str] = ["student", "score", "max_score"]
    rows = {}
    for s in students:
        path = out_dir / s / "grades.csv"
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            for col in reader.fieldnames or []:
                if col not in header:
                    header.append(col)
            for row in reader:
                rows[row["student"]] = row
    out = out_dir / "grades.csv"
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header, restval="", extrasaction="ignore")
        w.writeheader()
        for s in sorted(rows):
            w.writerow(rows[s])
    write_exports(out_dir, students=sorted(rows))
    return out
