"""Demonstration cells: the instructor's experiments, training runs and plots, not run when grading.

A locked, non-graded code cell of a **source** notebook tagged ``rnngrade-demo`` (cell ``metadata.tags``) is one
that no test cell and no later untagged cell depends on (``docs/AUTHORING.md``). Students run it as usual; when
grading, neither the student's kernel nor the judge kernel runs it, and its place in the graded notebook says so.

Only the source notebook decides. A cell of a submission is skipped when its nbgrader ``grade_id`` is that of a
tagged cell of the source **and** its code is the source's, character for character (nbgrader has already put the
locked cells' code back by then, so this holds for every honest notebook). Tags in the submission count for
nothing: a student who tags their own cell, or copies a demo cell's metadata onto it, still has it run.

``rnngrade check`` grades the solutions this way, so it proves that no test needs a skipped cell.
"""
from __future__ import annotations

import nbformat

DEMO_TAG = "rnngrade-demo"
SKIPPED_TEXT = ("(Not run by the grader: a demonstration cell, which no test needs. It runs as usual when you "
                "run the notebook.)\n")


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_demo_source_cell(cell) -> bool:
    """A cell of a source notebook that the grader skips: a code cell tagged ``rnngrade-demo``, locked, neither a
    solution nor a test, with a grade id."""
    meta = _nbgrader(cell)
    tags = cell.get("metadata", {}).get("tags", [])
    return (cell.get("cell_type") == "code" and isinstance(tags, list) and DEMO_TAG in tags
            and bool(meta.get("locked")) and not meta.get("solution") and not meta.get("grade")
            and isinstance(meta.get("grade_id"), str))


class DemoCells:
    """The demonstration cells of one source notebook, by grade id (their code, to compare with)."""

    def __init__(self, source_nb=None):
        self.source: dict[str, str] = {}
        for cell in (source_nb.cells if source_nb is not None else []):
            if is_demo_source_cell(cell):
                self.source[_nbgrader(cell)["grade_id"]] = cell.source

    def __len__(self) -> int:
        return len(self.source)

    def skips(self, cell) -> bool:
        """Whether the grader skips this cell of a submission (see the module docstring)."""
        if cell.get("cell_type") != "code" or not self.source:
            return False
        meta = _nbgrader(cell)
        gid = meta.get("grade_id")
        return (isinstance(gid, str) and gid in self.source and bool(meta.get("locked"))
                and not meta.get("solution") and not meta.get("grade") and cell.get("source") == self.source[gid])

    def skip(self, cell):
        """Mark a skipped cell in the graded notebook (one line of output, no execution count)."""
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=SKIPPED_TEXT)]
        cell.execution_count = None
        return cell
