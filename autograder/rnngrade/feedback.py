"""Feedback HTML for one graded notebook: the student's notebook as graded, with a score table on top.

Hidden tests show their visible comment and the failure message, never their code or traceback.
"""
from __future__ import annotations

import copy
import html
from pathlib import Path

import nbformat

from .course import HIDDEN_BEGIN, Course


def _visible_part(source: str) -> str:
    head = source.split(HIDDEN_BEGIN, 1)[0].rstrip()
    return (head + "\n" if head else "") + "# (the hidden test code is not shown)"


def sanitize_for_feedback(nb, hidden_ids: set[str]):
    """A copy of the autograded notebook with hidden-test code and tracebacks removed."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid not in hidden_ids:
            continue
        cell.source = _visible_part(cell.source)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
    return nb


def _summary_cell(notebook: str, tests) -> nbformat.NotebookNode:
    auto = [t for t in tests if t.notebook == notebook and not t.manual]
    manual = [t for t in tests if t.notebook == notebook and t.manual]
    lines = [f"# Feedback: {html.escape(notebook)}", "",
             f"**Automatic score: {sum(t.score for t in auto):g} / {sum(t.max_score for t in auto):g}**", "",
             "| test | score | |", "|---|---|---|"]
    for t in auto:
        mark = "passed" if t.score >= t.max_score else "**failed**"
        lines.append(f"| `{t.grade_id}`{' (hidden)' if t.hidden else ''} | {t.score:g} / {t.max_score:g} | {mark} |")
    if manual:
        lines += ["", "Graded by hand: " + ", ".join(f"`{t.grade_id}` ({t.max_score:g} pt)" for t in manual)]
    lines += ["", "Each failed test shows its message below, where the test cell stands."]
    return nbformat.v4.new_markdown_cell("\n".join(lines))


def feedback_html(course: Course, assignment: str, notebook: str, autograded: Path, result) -> str:
    from nbconvert import HTMLExporter

    from .grading import source_grade_cells

    hidden = {c.grade_id for c in source_grade_cells(course, assignment, notebook) if c.hidden}
    nb = sanitize_for_feedback(nbformat.read(str(autograded), as_version=4), hidden)
    nb.cells.insert(0, _summary_cell(notebook, result.tests))
    exporter = HTMLExporter(template_name="lab")
    exporter.sanitize_html = True
    body, _ = exporter.from_notebook_node(nb)
    return body
