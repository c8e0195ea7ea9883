"""A solution (source) notebook, parsed once and shared by every grading step.

The steps each need something of the source notebook: the repair step its test cells and their anchors
(``rnngrade.normalize``), the judge its locked set-up cells, test cells and solution names
(``rnngrade.judged_execution``), the collect step its graded cells and points (``rnngrade.collect``), the render
step which tests are hidden (``rnngrade.feedback``). :func:`load` parses a notebook once per content (the course's
file and the grading workspace's copy of it share one object) and hands every step the same
:class:`SourceNotebook`. The object and its ``nb`` are read-only: a step that needs to change cells copies them.
"""
from __future__ import annotations

import ast
import hashlib
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import nbformat

from .demo_cells import DemoCells, is_demo_source_cell

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"     # a test cell's hidden part starts here (nbgrader's marker)
WARM_PACKAGES = ("numpy", "torch", "rnnlab", "rnngrade")   # imported by the judge ahead of its first cell


@dataclass(frozen=True)
class GradeCell:
    """A graded cell of a source notebook: a test (``manual`` False) or a written answer."""

    notebook: str
    grade_id: str
    points: float
    hidden: bool
    manual: bool


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


@dataclass(eq=False)
class SourceNotebook:
    """One parsed solution notebook. ``name``: the notebook's file stem; ``nb``: the nbformat v4 notebook."""

    path: Path
    nb: nbformat.NotebookNode = field(repr=False)

    @property
    def name(self) -> str:
        return self.path.stem

    @cached_property
    def grade_cells(self) -> list[GradeCell]:
        """The graded cells, in notebook order."""
        cells = []
        for cell in self.nb.cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade"):
                cells.append(GradeCell(self.name, meta["grade_id"], float(meta.get("points", 0)),
                                       hidden=HIDDEN_BEGIN in cell.source, manual=cell.cell_type != "code"))
        return cells

    @cached_property
    def hidden_ids(self) -> frozenset[str]:
        return frozenset(c.grade_id for c in self.grade_cells if c.hidden)

    @property
    def judge_mode(self) -> str:
        """What the notebook's metadata asks for: 'separate' (tests outside the student's process) or 'kernel'."""
        return str(self.nb.get("metadata", {}).get("rnngrade", {}).get("judge", "kernel"))

    @cached_property
    def solution_names(self) -> list[str]:
        """Names the solution cells define at top level (functions, classes, assignments)."""
        names: list[str] = []
        for cell in self.nb.cells:
            if cell.cell_type != "code" or not nbgrader_meta(cell).get("solution"):
                continue
            src = "\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!")))
            for node in ast.parse(src).body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.append(node.name)
                elif isinstance(node, ast.Assign):
                    names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        return list(dict.fromkeys(names))

    @cached_property
    def judge_cells(self) -> tuple[dict, list]:
        """What the judge runs: {grade_id: (position, test cell)} and [(position, locked set-up cell)]."""
        tests, setup = {}, []
        for pos, cell in enumerate(self.nb.cells):
            meta = nbgrader_meta(cell)
            if cell.cell_type != "code" or meta.get("solution"):
                continue
            if meta.get("grade"):
                tests[meta.get("grade_id")] = (pos, cell)
            elif meta.get("locked") and not is_demo_source_cell(cell):   # the judge skips demonstrations too
                setup.append((pos, cell))
        return tests, setup

    @cached_property
    def judge_imports(self) -> list[str]:
        """The heavy modules (numpy, torch, rnnlab, rnngrade) that the judge's cells import, in order of first
        import: the judge imports them ahead of time, while the student's first cells run."""
        tests, setup = self.judge_cells
        cells = sorted([*tests.values(), *setup], key=lambda pair: pair[0])
        modules: list[str] = []
        for _, cell in cells:
            src = "\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules += [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.append(node.module)
        return [m for m in dict.fromkeys(modules) if m.split(".")[0] in WARM_PACKAGES]

    @cached_property
    def demo_cells(self) -> DemoCells:
        """The cells the grader does not run (``rnngrade.demo_cells``)."""
        return DemoCells(self.nb)


_CACHE: dict[tuple[str, bytes], SourceNotebook] = {}
_LOCK = threading.Lock()


def of_course(course, assignment: str, notebook: str) -> SourceNotebook:
    """The course's solution notebook ``notebook`` of ``assignment``."""
    return load(course.solutions / assignment / f"{notebook}.ipynb")


def load(path: str | Path) -> SourceNotebook:
    """The parsed notebook at ``path``. Parsed once per content: the course's file and the grading workspace's
    copy of it (which nbgrader and the judge read) share one object; a changed file is parsed again."""
    path = Path(path)
    data = path.read_bytes()
    key = (path.name, hashlib.sha256(data).digest())
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    source = SourceNotebook(path, nbformat.reads(data.decode("utf-8"), as_version=4))
    with _LOCK:
        return _CACHE.setdefault(key, source)
