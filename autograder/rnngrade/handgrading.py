"""Grading written answers by question across a graded batch, and keeping those grades.

Written answers are markdown cells with ``grade_id`` ``q_*`` (``solution: true, grade: true``); autograding gives them
no points. Over the output folder of ``rnngrade grade --batch`` (OUT):

- ``write_review`` (``rnngrade review OUT [--anonymous]``) writes ``OUT/review/<notebook>__<grade_id>.html`` per
  question: the question, its mark scheme (the solution's model answer) and every student's answer, rendered and
  sanitised (``rnngrade.sanitize``); and ``OUT/review/hand_grades.csv`` to fill in, one row per student and question:
  ``student`` (or ``label``), ``question``, ``max_points``, ``points``, ``comment``, pre-filled with the grades
  already given. With ``anonymous``, students appear as stable labels (a keyed hash of the id; the key is made once,
  in ``OUT/review/.label_key``), and the CSV has a ``label`` column instead of ``student``.
- ``merge_review`` (``rnngrade merge-review OUT CSV``) checks every row first: an unknown student or label, an unknown
  question (or one of an assignment that student was not graded on), points that are not a number or outside
  0..max, points missing where a comment is given, or a student and question given twice, are all reported at once
  and NOTHING is changed. Otherwise the grades go into ``OUT/hand_grades.json`` and, for every affected student,
  into results.json, grades.csv and the feedback pages; then the merged ``OUT/grades.csv`` and the LMS exports are
  rewritten. A row with neither points nor comment is skipped (not graded yet).
- ``OUT/hand_grades.json`` (student -> ``"<notebook>: <grade_id>"`` -> points and comment) is read back by every
  batch grading (``apply_saved_hand_grades``), so a resumed run or a regrade after a fix keeps the hand grades.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import json
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import source_notebook
from .course import Course
from .lms import merge_grades
from .report import STATE_FILE, load_result, write_results

HAND_GRADES = "hand_grades.json"
REVIEW_DIR = "review"
SHEET = "hand_grades.csv"
LABEL_KEY = ".label_key"
UNANSWERED = "YOUR ANSWER HERE"


class HandGradingError(ValueError):
    """A review or merge that cannot proceed; the message says why (every bad row, for a merge)."""


@dataclass
class Question:
    assignment: str
    notebook: str
    grade_id: str
    points: float
    prompt: str     # the markdown cell before the answer cell (from its "**Question" on, if it has one)
    scheme: str     # the model answer (the solution cell without its BEGIN/END SOLUTION lines)

    @property
    def name(self) -> str:
        return f"{self.notebook}: {self.grade_id}"


def course_questions(course: Course, assignments: list[str] | None = None) -> list[Question]:
    """The written questions of the course (or of ``assignments``), in course and notebook order."""
    out = []
    for a in assignments or course.assignments():
        for nb in course.notebooks(a):
            cells = source_notebook.of_course(course, a, nb).nb.cells
            for i, cell in enumerate(cells):
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if meta.get("grade") and cell.cell_type == "markdown":
                    prompt = next((c.source for c in reversed(cells[:i]) if c.cell_type == "markdown"), "")
                    if "**Question" in prompt:      # the workbook's questions: the paragraph that asks
                        prompt = prompt[prompt.rfind("**Question"):]
                    scheme = "\n".join(line for line in cell.source.splitlines()
                                       if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
                    out.append(Question(a, nb, meta["grade_id"], float(meta.get("points", 0)), prompt, scheme))
    return out


# -- the batch folder -----------------------------------------------------------------------------------------
def graded_students(out_dir: Path) -> dict:
    """student -> StudentResult, for every student of the batch folder that was graded."""
    return {p.parent.name: load_result(p.parent) for p in sorted(Path(out_dir).glob(f"*/{STATE_FILE}"))}


def load_hand_grades(out_dir: Path) -> dict[str, dict[str, dict]]:
    path = Path(out_dir) / HAND_GRADES
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def apply_hand_grades(result, grades: dict[str, dict]) -> list[str]:
    """Put ``grades`` (``"<notebook>: <grade_id>"`` -> {points, comment}) into the result's written answers;
    returns the names of the answers changed."""
    changed = []
    for t in result.manual_tests:
        g = grades.get(t.name)
        if g is not None:
            t.score, t.comment, t.hand_graded = float(g["points"]), str(g.get("comment", "")), True
            changed.append(t.name)
    return changed


def _rebuild_feedback(course: Course, result) -> None:
    from .feedback import feedback_html

    index = course.notebook_index()
    for nb, text in result.autograded.items():
        result.feedback[nb] = feedback_html(course, index[nb], nb, nbformat.reads(text, as_version=4), result)


def apply_saved_hand_grades(course: Course, out_dir: Path, result, feedback: bool = True) -> None:
    """Used by batch grading: the hand grades saved in ``out_dir`` for this student, back into a fresh result."""
    grades = load_hand_grades(out_dir).get(result.student)
    if grades and apply_hand_grades(result, grades) and feedback:
        _rebuild_feedback(course, result)


# -- anonymous labels ----------------------------------------------------------------------------------------
def labels(out_dir: Path, students) -> dict[str, str]:
    """student -> a stable anonymous label (``anon-`` and 8 hex digits of an HMAC of the id under a key kept in the
    batch folder: the same label every time, and not guessable from the id without the key)."""
    key_path = Path(out_dir) / REVIEW_DIR / LABEL_KEY
    if not key_path.exists():
        key_path.parent.mkdir(parents=True, exist_ok=True)
        key_path.write_text(secrets.token_hex(32) + "\n")
    key = bytes.fromhex(key_path.read_text().strip())
    out: dict[str, str] = {}
    for s in sorted(students):
        digest = hmac.new(key, s.encode("utf-8"), hashlib.sha256).hexdigest()
        n = 8
        while f"anon-{digest[:n]}" in out.values():
            n += 2
        out[s] = f"anon-{digest[:n]}"
    return out


# -- review ------------------------------------------------------------------------------------------------
def _select(questions: list[Question], wanted: list[str] | None) -> list[Question]:
    if not wanted:
        return questions
    chosen = []
    for w in wanted:
        hits = [q for q in questions if w in (q.grade_id, q.name)]
        if not hits:
            raise HandGradingError(f"no written question {w!r} (the batch has: "
                                   f"{', '.join(q.name for q in questions)})")
        chosen += [q for q in hits if q not in chosen]
    return chosen


def _answer_text(t) -> str:
    text = (t.answer or "").strip()
    return "*(no answer)*" if not text or text == UNANSWERED else t.answer


def write_review(course: Course, out_dir: Path, anonymous: bool = False,
                 questions: list[str] | None = None) -> tuple[list[Path], Path]:
    """The review pages and the CSV to fill in (see the module docstring); returns (pages, csv)."""
    from .sanitize import SafeHTMLExporter

    out_dir = Path(out_dir)
    students = graded_students(out_dir)
    if not students:
        raise HandGradingError(f"no graded students in {out_dir} (run rnngrade grade --batch ... --out {out_dir})")
    graded_assignments = [a for a in course.assignments() if any(a in r.assignments for r in students.values())]
    qs = _select(course_questions(course, graded_assignments), questions)
    if not qs:
        raise HandGradingError(f"the assignments graded in {out_dir} ({', '.join(graded_assignments)}) have no "
                               "written questions")
    names = labels(out_dir, students) if anonymous else {s: s for s in students}
    saved = load_hand_grades(out_dir)
    review = out_dir / REVIEW_DIR
    review.mkdir(parents=True, exist_ok=True)
    pages, rows = [], []
    exporter = SafeHTMLExporter()
    for q in qs:
        cells = [f"# Written answers: `{q.name}` ({q.points:g} pt)", "## Question", q.prompt,
                 "## Mark scheme (the model answer)", q.scheme,
                 f"## Answers\n\nFill in `{SHEET}`: one row per {'label' if anonymous else 'student'}, "
                 f"question `{q.name}`, points from 0 to {q.points:g}, and a comment for the student."]
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(c) for c in cells])
        answered = []
        for s, r in students.items():
            t = next((t for t in r.manual_tests if t.name == q.name), None)
            if t is not None:
                answered.append((names[s], s, t))
        for who, s, t in sorted(answered):
            g = saved.get(s, {}).get(q.name)
            status = (f"graded: {float(g['points']):g} / {q.points:g}" if g else "not graded yet")
            nb.cells.append(nbformat.v4.new_markdown_cell(f"### `{who}` ({status})"))
            nb.cells.append(nbformat.v4.new_markdown_cell(_answer_text(t)))
            rows.append([who, q.name, f"{q.points:g}", f"{float(g['points']):g}" if g else "",
                         g.get("comment", "") if g else ""])
        page = review / f"{q.notebook}__{q.grade_id}.html"
        body, _ = exporter.from_notebook_node(nb)
        page.write_text(body, encoding="utf-8")
        pages.append(page)
    sheet = review / SHEET
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["label" if anonymous else "student", "question", "max_points", "points", "comment"])
        w.writerows(rows)
    return pages, sheet


# -- merge -------------------------------------------------------------------------------------------------
def read_sheet(course: Course, out_dir: Path, csv_path: Path, students: dict) -> dict[str, dict[str, dict]]:
    """The grades of a filled-in review CSV, student -> question -> {points, comment}; raises HandGradingError
    listing every bad row."""
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            rows = [{(k or "").strip(): (v or "") for k, v in r.items()} for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise HandGradingError(f"{csv_path}: cannot read it as CSV ({exc})") from None
    who_col = "label" if "label" in header else "student"
    missing = [c for c in (who_col, "question", "points") if c not in header]
    if missing:
        raise HandGradingError(f"{csv_path}: missing column(s) {', '.join(missing)} (have: {', '.join(header)})")
    to_student = ({v: k for k, v in labels(out_dir, students).items()} if who_col == "label"
                  else {s: s for s in students})
    questions = {q.name: q for q in course_questions(course)}
    by_id: dict[str, list[Question]] = {}
    for q in questions.values():
        by_id.setdefault(q.grade_id, []).append(q)
    errors, grades, seen = [], {}, {}
    for line, r in enumerate(rows, start=2):
        who, qname = r.get(who_col, "").strip(), r.get("question", "").strip()
        points, comment = r.get("points", "").strip(), r.get("comment", "").strip()
        if not who and not qname and not points and not comment:
            continue
        student = to_student.get(who)
        if student is None:
            errors.append(f"line {line}: unknown {who_col} {who!r} (not a graded student of this batch)")
            continue
        q = questions.get(qname) or (by_id[qname][0] if len(by_id.get(qname, [])) == 1 else None)
        if q is None:
            errors.append(f"line {line}: unknown question {qname!r} (write it as '<notebook>: <grade_id>', "
                          f"e.g. {next(iter(questions), 'lstm: q_clipping')!r})")
            continue
        if not any(t.name == q.name for t in students[student].manual_tests):
            errors.append(f"line {line}: {who} was not graded on {q.assignment}, which holds {q.name}")
            continue
        if (student, q.name) in seen:
            errors.append(f"line {line}: {who} / {q.name} is given twice (also on line {seen[student, q.name]})")
            continue
        seen[student, q.name] = line
        if not points:
            if comment:
                errors.append(f"line {line}: {who} / {q.name} has a comment but no points")
            continue
        try:
            value = float(points)
        except ValueError:
            errors.append(f"line {line}: points {points!r} for {who} / {q.name} is not a number")
            continue
        if not math.isfinite(value) or not 0 <= value <= q.points:
            errors.append(f"line {line}: points {points} for {who} / {q.name} out of range (0 to {q.points:g})")
            continue
        grades.setdefault(student, {})[q.name] = {"points": value, "comment": comment}
    if errors:
        raise HandGradingError("\n".join(f"  {csv_path.name} {e}" for e in errors))
    return grades


def merge_review(course: Course, out_dir: Path, csv_path: Path) -> dict[str, list[str]]:
    """Merge a filled-in review CSV into the batch (see the module docstring); returns student -> one line per
    question changed. Raises HandGradingError, having changed nothing, when any row is bad."""
    out_dir, csv_path = Path(out_dir), Path(csv_path)
    students = graded_students(out_dir)
    if not students:
        raise HandGradingError(f"no graded students in {out_dir}")
    new = read_sheet(course, out_dir, csv_path, students)
    saved = load_hand_grades(out_dir)
    for student, grades in new.items():
        saved.setdefault(student, {}).update(grades)
    _write_atomically(out_dir / HAND_GRADES, json.dumps(saved, indent=1, sort_keys=True) + "\n")
    changed = {}
    for student, grades in sorted(new.items()):
        result = students[student]
        apply_hand_grades(result, saved[student])
        if (out_dir / student / "feedback").is_dir():
            _rebuild_feedback(course, result)
        write_results(result, out_dir / student)
        changed[student] = [f"{name} {g['points']:g}" for name, g in sorted(grades.items())]
    merge_grades(out_dir, sorted(students))
    return changed

