"""The collect step: per-test results from nbgrader's gradebook and the autograded notebooks.

Every graded cell of each selected source notebook becomes one :class:`~rnngrade.results.TestResult`: its score
from the gradebook, and what the test printed and, if it failed, its error (for hidden tests only the error's
message, no traceback that would show hidden code), with a hint for the common causes of a 0. Notebooks that were
not submitted or could not be graded score 0 with the reason.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from . import source_notebook
from .results import StudentResult, TestResult

MAX_TEST_OUTPUT_CHARS = 4000
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def cell_output_text(cell, hidden: bool) -> str:
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


def failure_hint(cell) -> str:
    """A line on the likely cause of a failed test, or ""."""
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


def collect(course, ws, student: str, graded: dict[str, Path], attempted: set[str], result: StudentResult) -> None:
    """Append to ``result.tests`` one result per graded cell of every notebook of ``result.assignments``.
    ``graded``: notebook -> its autograded notebook; ``attempted``: the notebooks found in the submission."""
    index = course.notebook_index()
    with ws.gradebook() as gb:
        for nb, a in index.items():
            if a not in result.assignments:
                continue
            cells = source_notebook.of_course(course, a, nb).grade_cells
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
                        t.output = cell_output_text(cell, gc.hidden) if cell is not None else ""
                        if t.score < t.max_score and cell is not None:
                            hint = failure_hint(cell)
                            if hint and hint not in t.output:
                                t.output = (hint + "\n" + t.output).strip()
                        if t.score >= t.max_score and not t.output:
                            t.output = "Passed."
                result.tests.append(t)
