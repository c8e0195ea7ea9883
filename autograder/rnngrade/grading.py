"""Grade one student's submission into per-test scores, with nbgrader doing the execution and bookkeeping.

Every call grades in a fresh workspace with its own gradebook, so no score from an earlier run can leak in; a
graded cell the student deleted is restored from the source (``add_missing_cells``) and scores 0. Only the selected
assignments are graded (``rnngrade.assignments``); written answers are kept for grading by hand
(``rnngrade.handgrading``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course import HIDDEN_BEGIN, Course
from .normalize import normalize
from .sandbox import describe
from .submission import Submission
from .timings import start as start_timings
from .workspace import Workspace

STUDENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")
MAX_TEST_OUTPUT_CHARS = 4000
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class TestResult:
    notebook: str
    grade_id: str
    score: float
    max_score: float
    output: str = ""
    hidden: bool = False   # the test's code is hidden from students
    manual: bool = False   # graded by hand (written answers); not part of the automatic score
    missing: str = ""      # why the whole notebook scored 0 (not submitted, unreadable); empty when it was graded
    answer: str = ""       # manual cells: the student's written answer (markdown)
    hand_graded: bool = False   # manual cells: points given by hand (rnngrade merge-review)
    comment: str = ""      # manual cells: the grader's comment

    @property
    def name(self) -> str:
        return f"{self.notebook}: {self.grade_id}"


@dataclass
class StudentResult:
    student: str
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    feedback: dict[str, str] = field(default_factory=dict)  # notebook -> HTML
    assignments: list[str] = field(default_factory=list)    # the assignments graded, in course order
    autograded: dict[str, str] = field(default_factory=dict)  # notebook -> the autograded notebook (JSON text)
    timings: dict = field(default_factory=dict)     # seconds per phase of this run (rnngrade.timings)

    @property
    def auto_tests(self) -> list[TestResult]:
        return [t for t in self.tests if not t.manual]

    @property
    def manual_tests(self) -> list[TestResult]:
        return [t for t in self.tests if t.manual]

    @property
    def hand_score(self) -> float:
        """Points given by hand so far (written answers)."""
        return sum(t.score for t in self.manual_tests if t.hand_graded)

    @property
    def score(self) -> float:
        return sum(t.score for t in self.auto_tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.auto_tests)


@dataclass
class GradeCell:
    notebook: str
    grade_id: str
    points: float
    hidden: bool
    manual: bool


def source_grade_cells(course: Course, assignment: str, notebook: str) -> list[GradeCell]:
    """The graded cells of a solution notebook, in notebook order."""
    nb = nbformat.read(str(course.solutions / assignment / f"{notebook}.ipynb"), as_version=4)
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            cells.append(GradeCell(notebook, meta["grade_id"], float(meta.get("points", 0)),
                                   hidden=HIDDEN_BEGIN in cell.source, manual=cell.cell_type != "code"))
    return cells


def check_student_id(student: str) -> str:
    if not STUDENT_ID_RE.match(student):
        raise ValueError(f"student id {student!r} must be 1-100 characters from letters, digits and _.@+- "
                         "and start with a letter or digit")
    return student


def _cell_output_text(cell, hidden: bool) -> str:
    """What a test cell printed and, if it failed, the error (always kept, even when the printout is cut).
    For hidden tests, only the error's message: no traceback, which would show hidden code."""
    printed, errors = [], []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            printed.append(out.get("text", ""))
        elif kind == "error":
            if hidden:
                errors.append(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}")
            else:
                errors.append("\n".join(out.get("traceback", [])) or f"{out.get('ename')}: {out.get('evalue')}")
        elif kind in ("execute_result", "display_data"):
            text = out.get("data", {}).get("text/plain")
            if text:
                printed.append(text if isinstance(text, str) else "".join(text))
    clean = lambda parts: ANSI_RE.sub("", "\n".join(p.rstrip("\n") for p in parts if p)).strip()
    err = clean(errors)[-MAX_TEST_OUTPUT_CHARS // 2:]
    text = clean(printed)
    budget = MAX_TEST_OUTPUT_CHARS - len(err)
    if len(text) > budget:
        text = text[:max(budget - 30, 0)] + "\n... (output truncated)"
    return "\n".join(p for p in (text, err) if p)


def _failure_hint(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error" and out.get("ename") == "NotImplementedError":
            return "Not implemented yet (the function still raises NotImplementedError)."
        if out.get("output_type") == "error" and out.get("ename") == "NameError":
            return ("A name this test uses is not defined: did an earlier cell fail (a syntax error, an "
                    "exception) or was it never run?")
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            return ("This test cell wrote to stderr (a warning?), which nbgrader scores as a failure.")
    return ""


def grade_submission(course: Course, submission_path: str | Path, student: str = "student",
                     workspace: Workspace | None = None, feedback: bool = True,
                     assignments: list[str] | None = None) -> StudentResult:
    """Grade the notebooks of ``assignments`` found in ``submission_path`` (a folder, a .zip or one .ipynb).

    ``assignments``: names from ``course.assignments()``; None grades the assignments the submission contains
    (the whole course when it contains none). Notebooks of other assignments are listed in the notes, not graded.
    Notebooks that are missing or unreadable score 0 on all their tests, with a note saying why.
    Raises SubmissionError only when the submission itself is unusable (not a folder/zip, corrupt zip).
    """
    from .assignments import contained, not_selected_notes, resolve
    from .feedback import feedback_html

    check_student_id(student)
    clock = start_timings()
    result = StudentResult(student)
    index = course.notebook_index()
    selected = resolve(course, assignments) if assignments else None
    own_ws = workspace is None
    ws = workspace
    try:
        with Submission(submission_path) as sub:
            located = sub.locate(index, course.cell_ids)
            result.assignments = selected or contained(course, located.found) or course.assignments()
            result.notes += not_selected_notes(course, located.found, result.assignments)
            if ws is None:
                with clock.phase("workspace"):
                    ws = Workspace(course, result.assignments)
            if not located.found:
                result.notes.append("No notebook of the course was found in the submission "
                                    f"(expected any of: {', '.join(n + '.ipynb' for n in index)}).")
            for nb, name in located.renamed.items():
                result.notes.append(f"Graded {name} as {nb}.ipynb: the file has another name, but its cells are "
                                    f"those of {nb}.ipynb. Keep the original file names.")
            for name in located.ignored:
                result.notes.append(f"Ignored {name}: not a notebook of this course.")
            for name in located.duplicates:
                result.notes.append(f"Ignored {name}: another copy of the same notebook was graded.")
            with clock.phase("workspace"):
                ws.generate()
            result.notes.append(describe(*ws.sandbox_level))
            graded: dict[str, Path] = {}
            for a in result.assignments:
                nbs = [nb for nb in course.notebooks(a) if nb in located.found]
                readable = []
                for nb in nbs:
                    try:
                        node = nbformat.read(str(located.found[nb]), as_version=4)
                    except Exception as exc:  # invalid JSON, wrong format, not UTF-8 ...
                        result.notes.append(f"{nb}.ipynb could not be read as a notebook ({type(exc).__name__}: "
                                            f"{str(exc)[:200]}); all its tests score 0.")
                        continue
                    path = ws.submit(student, a, nb, located.found[nb])
                    try:
                        with clock.phase("repair", nb):
                            source = nbformat.read(str(course.solutions / a / f"{nb}.ipynb"), as_version=4)
                            repaired, repairs = normalize(node, source)
                            if repairs:
                                nbformat.write(repaired, str(path))
                                result.notes += [f"{nb}.ipynb: {line}" for line in repairs]
                    except Exception as exc:  # noqa: BLE001 -- a notebook too odd to repair is graded as it is
                        result.notes.append(f"{nb}.ipynb: its cells could not be checked for copies and moves "
                                            f"({type(exc).__name__}); graded as submitted.")
                    readable.append(nb)
                if not readable:
                    continue
                with clock.autograde(a, readable):
                    res = ws.autograde(student, a)
                if not res.get("success"):
                    err = (res.get("error") or res.get("log") or "").strip().splitlines()
                    result.notes.append(f"Autograding {a} failed: {err[-1] if err else 'unknown error'}; "
                                        "its tests score 0.")
                    continue
                for nb in readable:
                    graded[nb] = ws.autograded_path(student, a, nb)
            attempted = set(located.found)
        with clock.phase("collect"):
            _collect(course, ws, student, graded, attempted, result)
        for nb, path in graded.items():
            if path.exists():
                result.autograded[nb] = path.read_text(encoding="utf-8")
                if feedback:
                    with clock.phase("feedback", nb):
                        result.feedback[nb] = feedback_html(course, index[nb], nb, path, result)
    finally:
        if own_ws and ws is not None:
            ws.close()
    result.timings = clock.finish().as_dict()
    return result


def _collect(course: Course, ws: Workspace, student: str, graded: dict[str, Path], attempted: set[str],
             result: StudentResult) -> None:
    index = course.notebook_index()
    with ws.gradebook() as gb:
        for nb, a in index.items():
            if a not in result.assignments:
                continue
            cells = source_grade_cells(course, a, nb)
            nbnode = nbformat.read(str(graded[nb]), as_version=4) if nb in graded and graded[nb].exists() else None
            by_id = {}
            if nbnode is not None:
                for cell in nbnode.cells:
                    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                    if gid:
                        by_id.setdefault(gid, cell)
            for gc in cells:
                t = TestResult(nb, gc.grade_id, 0.0, gc.points, hidden=gc.hidden, manual=gc.manual)
                if nbnode is None:
                    t.missing = ("Notebook not submitted." if nb not in attempted
                                 else "Notebook could not be graded (see the notes).")
                    t.output = t.missing
                else:
                    grade = gb.find_grade(gc.grade_id, nb, a, student)
                    if gc.manual:
                        t.score = float(grade.manual_score or 0.0)
                        t.output = "Graded by hand by your instructor."
                        cell = by_id.get(gc.grade_id)
                        t.answer = cell.source if cell is not None else ""
                    else:
                        t.score = float(grade.score or 0.0)
                        cell = by_id.get(gc.grade_id)
                        t.output = _cell_output_text(cell, gc.hidden) if cell is not None else ""
                        if t.score < t.max_score and cell is not None:
                            hint = _failure_hint(cell)
                            if hint and hint not in t.output:
                                t.output = (hint + "\n" + t.output).strip()
                        if t.score >= t.max_score and not t.output:
                            t.output = "Passed."
                result.tests.append(t)
