"""The course on disk, and the nbgrader settings every grading path shares."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from . import settings

# Per-cell limits for autograding. nbgrader's default timeout (30 s) is too tight for a slow laptop running
# a training cell in quick mode; a notebook stuck in a loop still ends. RNNGRADE_CELL_TIMEOUT (rnngrade.settings).
CELL_TIMEOUT_S = int(settings.CELL_TIMEOUT.default)
# Output kept per graded cell in the autograded notebook.
MAX_OUTPUT_LINES = 200


def shared_config() -> Config:
    """nbgrader configuration shared by rnngrade and by instructors running nbgrader directly."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                        SaveAutoGrades)

    from .judged_execution import JudgedExecute

    c = Config()
    # nbgrader's autograde pipeline, with JudgedExecute in place of Execute: a dead kernel costs only later cells,
    # and notebooks that ask for it are judged outside the student's process (rnngrade.judge).
    c.Autograde.autograde_preprocessors = [JudgedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                           SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    c.Execute.timeout = settings.CELL_TIMEOUT.as_int()
    c.Execute.interrupt_on_timeout = True
    # A graded kernel is thrown away: stop it at once instead of waiting for it to shut down politely (seconds per
    # kernel); what it leaves behind is killed anyway (rnngrade.sandbox.clean_up).
    c.Execute.shutdown_kernel = "immediate"
    # A student who deletes a graded cell gets it back (and a 0 for it), never a missing score.
    c.OverwriteCells.add_missing_cells = True
    c.LimitOutput.max_lines = MAX_OUTPUT_LINES
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    # Keep the nbgrader metadata in autograded notebooks so results can be matched to grade ids.
    c.ClearMetadataPreprocessor.preserve_cell_metadata_mask = [("nbgrader",)]
    c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = [("language_info", "name"), ("kernelspec",)]
    return c


def find_root() -> Path:
    """The workbook's root folder: $RNNGRADE_ROOT, else the checkout this package is installed from."""
    env = settings.ROOT.value()
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Course:
    root: Path

    @classmethod
    def here(cls) -> "Course":
        root = find_root()
        if not (root / "solutions").is_dir():
            raise SystemExit(f"rnngrade: no solutions/ folder under {root} (set RNNGRADE_ROOT to the workbook)")
        return cls(root)

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def release_dir(self) -> Path:
        return self.root / "notebooks"

    def assignments(self) -> list[str]:
        """Assignment names, in order: the folders of solutions/ that hold a notebook."""
        return sorted(p.name for p in self.solutions.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb")))

    def notebooks(self, assignment: str) -> list[str]:
        """Notebook names (without .ipynb) of one assignment."""
        return sorted(p.stem for p in (self.solutions / assignment).glob("*.ipynb"))

    def notebook_index(self) -> dict[str, str]:
        """notebook name -> assignment, across the course (notebook names are unique)."""
        index: dict[str, str] = {}
        for a in self.assignments():
            for nb in self.notebooks(a):
                if nb in index:
                    raise ValueError(f"notebook name {nb!r} is used by two assignments: {index[nb]} and {a}")
                index[nb] = a
        return index

    def cell_ids(self) -> dict[str, set[str]]:
        """notebook name -> the nbgrader grade ids of its cells (to recognise a renamed notebook by its content)."""
        return {nb: notebook_grade_ids(self.solutions / a / f"{nb}.ipynb") for nb, a in self.notebook_index().items()}


def notebook_grade_ids(path: Path, max_bytes: int | None = None) -> set[str]:
    """The nbgrader grade ids of a notebook file's cells; empty if the file is larger than ``max_bytes`` or is not
    a readable notebook (a student's file may be anything)."""
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            return set()
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        metas = [c.get("metadata", {}).get("nbgrader", {}) for c in cells if isinstance(c, dict)]
        return {m["grade_id"] for m in metas if isinstance(m, dict) and isinstance(m.get("grade_id"), str)}
    except Exception:  # noqa: BLE001 -- not JSON, not UTF-8, not a notebook: no ids
        return set()
