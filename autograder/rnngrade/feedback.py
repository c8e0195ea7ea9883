"""The render step: feedback HTML for one graded notebook: the student's notebook as graded, with a score table on top.

Hidden tests show their visible comment and the failure message, never their code or traceback. Written answers show
the points and comment given by hand once merged (``rnngrade merge-review``). The page is rendered by
``rnngrade.sanitize.SafeHTMLExporter``: markdown and maths render, and nothing the student wrote can run in the
reader's browser.
"""
from __future__ import annotations

import copy
import html
from pathlib import Path

import nbformat

from . import source_notebook
from .course import Course
from .source_notebook import HIDDEN_BEGIN


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
        lines += ["", "**Written answers** (graded by hand):", ""]
        for t in manual:
            if t.hand_graded:
                comment = " ".join(t.comment.split())
                lines.append(f"- `{t.grade_id}`: {t.score:g} / {t.max_score:g}" + (f" ({comment})" if comment else ""))
            else:
                lines.append(f"- `{t.grade_id}`: not graded yet ({t.max_score:g} pt)")
    lines += ["", "Each failed test shows its message below, where the test cell stands."]
    return nbformat.v4.new_markdown_cell("\n".join(lines))


def feedback_html(course: Course, assignment: str, notebook: str, autograded: Path | nbformat.NotebookNode,
                  result) -> str:
    """The feedback page of one notebook; ``autograded`` is the autograded notebook (a path or the notebook)."""
    from .sanitize import SafeHTMLExporter

    hidden = set(source_notebook.of_course(course, assignment, notebook).hidden_ids)
    if not isinstance(autograded, nbformat.NotebookNode):
        autograded = nbformat.read(str(autograded), as_version=4)
    nb = sanitize_for_feedback(autograded, hidden)
    nb.cells.insert(0, _summary_cell(notebook, result.tests))
    body, _ = SafeHTMLExporter().from_notebook_node(nb)
    return body
