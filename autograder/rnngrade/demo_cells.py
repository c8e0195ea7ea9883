"""Demonstration cells: the instructor's experiments, training runs and plots, not run when grading.

A code cell of a **source** notebook tagged ``rnngrade-demo`` (cell ``metadata.tags``) that is neither a solution
nor a test is one that no test cell and no later untagged cell depends on (``docs/AUTHORING.md``). Students run it
as usual; when grading, neither the student's kernel nor the judge kernel runs it, and its place in the graded
notebook says so in one line.

Only the source notebook decides, and only for the instructor's own code. A cell of a submission is skipped when

- it carries the nbgrader ``grade_id`` of a tagged **locked** cell of the source and its code is that cell's
  (nbgrader has already put the locked cells' code back by then, so this holds for every honest notebook), or
- it has no nbgrader grade id and its code is, character for character, that of a tagged cell of the source
  without one (an experiment cell the student may edit: an edited copy runs), and no untagged code cell of the
  source has that same code.

Tags in the submission count for nothing: a student who tags their own cell, or copies a demo cell's metadata onto
it, still has it run unless its code is the instructor's demonstration itself. ``rnngrade check`` grades the
solutions this way, so it proves that no test needs a skipped cell.
"""
from __future__ import annotations

import nbformat

DEMO_TAG = "rnngrade-demo"
SKIPPED_TEXT = ("(Not run by the grader: a demonstration cell, which no test needs. It runs as usual when you "
                "run the notebook.)\n")


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _tagged(cell) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return isinstance(tags, list) and DEMO_TAG in tags


def is_demo_source_cell(cell) -> bool:
    """A cell of a source notebook that the grader skips: a code cell tagged ``rnngrade-demo`` that is neither a
    solution nor a test."""
    meta = _nbgrader(cell)
    return (cell.get("cell_type") == "code" and _tagged(cell) and not meta.get("solution")
            and not meta.get("grade"))


class DemoCells:
    """The demonstration cells of one source notebook: locked ones by grade id, the others by their code."""

    def __init__(self, source_nb=None):
        self.locked: dict[str, str] = {}      # grade id -> code
        self.unlocked: set[str] = set()       # code of tagged cells without a grade id
        untagged: set[str] = set()
        for cell in (source_nb.cells if source_nb is not None else []):
            if cell.get("cell_type") != "code":
                continue
            gid = _nbgrader(cell).get("grade_id")
            if not is_demo_source_cell(cell):
                untagged.add(cell.source)
            elif isinstance(gid, str) and _nbgrader(cell).get("locked"):
                self.locked[gid] = cell.source
            elif gid is None:
                self.unlocked.add(cell.source)
        self.unlocked -= untagged             # the same code also in an untagged cell: never skipped

    def __len__(self) -> int:
        return len(self.locked) + len(self.unlocked)

    def skips(self, cell) -> bool:
        """Whether the grader skips this cell of a submission (see the module docstring)."""
        if cell.get("cell_type") != "code" or not len(self):
            return False
        meta = _nbgrader(cell)
        gid = meta.get("grade_id")
        if meta.get("solution") or meta.get("grade"):
            return False
        if gid is None:
            return cell.get("source") in self.unlocked
        return (isinstance(gid, str) and gid in self.locked and bool(meta.get("locked"))
                and cell.get("source") == self.locked[gid])

    def skip(self, cell):
        """Mark a skipped cell in the graded notebook (one line of output, no execution count)."""
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=SKIPPED_TEXT)]
        cell.execution_count = None
        return cell
