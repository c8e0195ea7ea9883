"""Grade a notebook whose cells lost their nbgrader metadata: the student's functions are found by name.

nbgrader finds a notebook's exercises and tests by the metadata Jupyter keeps with each cell (``grade_id`` and
its flags). A student who copies their solutions into a fresh notebook, or saves with a tool that drops cell
metadata, hands in correct code that nbgrader cannot place (every test then scores 0), and a cell whose metadata
was damaged (an unknown ``grade_id``, a ``nbgrader`` entry that is not a dict or lacks keys) can make nbgrader
refuse the whole notebook. The judge only needs the student's functions by name, so ``repair`` does, before the
copy-and-move repairs of ``rnngrade.normalize``:

1. **Damaged metadata.** A cell whose ``nbgrader`` entry names a grade id of the course's notebook, for a cell of
   the same type, but is malformed or has other flags (grade, solution, locked) gets that cell's metadata from the
   released notebook; an entry that names no grade id of this notebook, or one of a cell of another type, is
   removed (the cell becomes an ordinary cell).
2. **Exercise cells without metadata.** If an exercise (solution) code cell of the course's notebook is still
   missing, the notebook is rebuilt on the released notebook (the cells the student received: locked cells,
   visible tests, stubs; never a solution). Each exercise cell gets the student's cell that carries its grade id
   and the student's cells that define, at top level (``def``, ``class``, an assignment, an import), a name the
   exercise's stub defines; for each name the last definition in the student's notebook wins, as it would when
   the cells run in order. A cell that defines the names of several exercises goes into the first of them. A
   student's cell of their own that these cells read a global name from (a helper function, an import, a
   constant the released notebook does not define) runs just before the first exercise that needs it, again the
   last definition of the name, and so on for what those helpers read. The student's other cells without
   metadata (copies of the notebook's own cells, experiments, scratch work) are not run: the released notebook's
   versions run in their place. Written answers without metadata are found after the question's markdown cell.
   An exercise none of whose names the student defines keeps the released stub (its tests score 0).

Only cell sources move: everything still runs in the student's kernel in the sandbox, and the tests are the
course's. ``repair(student_nb, source_nb, release_nb)`` returns the notebook to grade and lines for the notes.
"""
from __future__ import annotations

import ast
import builtins
import copy
import re
import symtable

import nbformat

FLAGS = ("grade", "solution", "locked")
_DEF_RE = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)", re.M)
_BUILTINS = set(dir(builtins)) | {"__name__", "__file__", "__doc__", "get_ipython", "display", "In", "Out"}


def _nbgrader(cell):
    meta = cell.get("metadata")
    return meta.get("nbgrader") if isinstance(meta, dict) else None


def _gid(cell) -> str | None:
    meta = _nbgrader(cell)
    gid = meta.get("grade_id") if isinstance(meta, dict) else None
    return gid if isinstance(gid, str) else None


def _python(source: str) -> str:
    """A cell's code without IPython's magics and shell escapes (``%matplotlib``, ``!pip``), which are not Python."""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())


def _targets(node) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for elt in node.elts for n in _targets(elt)]
    if isinstance(node, ast.Starred):
        return _targets(node.value)
    return []


def _bound(body: list) -> list[str]:
    """Names a module-level block binds, in order (descending into if/try/with/for, not into functions)."""
    names: list[str] = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [n for t in node.targets for n in _targets(t)]
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            names += _targets(node.target)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [a.asname or a.name.split(".")[0] for a in node.names if a.name != "*"]
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            names += _targets(node.target) + _bound(node.body) + _bound(node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            names += [n for item in node.items if item.optional_vars for n in _targets(item.optional_vars)]
            names += _bound(node.body)
        elif isinstance(node, (ast.If, ast.While)):
            names += _bound(node.body) + _bound(node.orelse)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            names += _bound(node.body) + _bound(node.orelse) + _bound(node.finalbody)
            for handler in node.handlers:
                names += _bound(handler.body)
    return names


def defined_names(source: str) -> list[str]:
    """Names a cell defines at top level. A cell that does not parse (a syntax error) is read line by line: its
    ``def``/``class`` lines and assignments at the start of a line still say what the student meant to define."""
    try:
        return list(dict.fromkeys(_bound(ast.parse(_python(source)).body)))
    except (SyntaxError, ValueError):
        return list(dict.fromkeys(a or b for a, b in _DEF_RE.findall(source)))


def read_names(source: str) -> set[str]:
    """Global names a cell reads (also inside its functions and classes) that it does not define itself and that
    are not built-ins: what must come from other cells. Empty for a cell that does not parse."""
    try:
        table = symtable.symtable(_python(source), "<cell>", "exec")
    except (SyntaxError, ValueError):
        return set()
    found = {s.get_name() for s in table.get_symbols()
             if s.is_referenced() and not (s.is_assigned() or s.is_imported() or s.is_namespace())}
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        found |= {s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced()}
        stack += child.get_children()
    return found - set(defined_names(source)) - _BUILTINS


# -- 1) damaged metadata ---------------------------------------------------------------------------------------
def _mend_metadata(nb, canonical: dict[str, tuple[str, dict]]) -> tuple[list[str], list[str]]:
    """Give each cell with damaged nbgrader metadata the released metadata of its grade id, or remove it.
    Returns (grade ids repaired, descriptions of the entries removed)."""
    repaired, removed = [], []
    for cell in nb.cells:
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.NotebookNode()
        if "nbgrader" not in cell.metadata:
            continue
        meta, gid = cell.metadata["nbgrader"], _gid(cell)
        if gid not in canonical or canonical[gid][0] != cell.get("cell_type"):
            del cell.metadata["nbgrader"]
            removed.append(repr(gid[:40]) if gid else "no grade id")
            continue
        want = canonical[gid][1]
        if not isinstance(meta, dict) or any(k in want and meta.get(k) != want[k] for k in FLAGS + ("grade_id",)) \
                or any(k not in meta for k in want if k in FLAGS + ("grade_id", "points")):
            cell.metadata["nbgrader"] = copy.deepcopy(want)
            repaired.append(gid)
    return repaired, removed


# -- 2) exercise cells found by name -----------------------------------------------------------------------------
def _exercise_names(release_cell, source_cell) -> list[str]:
    """What an exercise asks the student to define: the names its released stub defines (the instructor's own
    helpers inside the solution stay private), or the solution's names when the stub defines none."""
    return defined_names(release_cell.source) or (defined_names(source_cell.source) if source_cell else [])


def _written_answer(student_cells, release_cells, slot: int, release_md: set[str]):
    """The student's markdown cell right after the markdown cell that precedes the answer cell ``slot`` in the
    release, when it is not a cell of the release itself (the student's answer, which lost its metadata)."""
    before = next((c for c in reversed(release_cells[:slot]) if c.cell_type == "markdown"), None)
    if before is None:
        return None
    for i, cell in enumerate(student_cells[:-1]):
        after = student_cells[i + 1]
        if cell.cell_type == "markdown" and cell.source.strip() == before.source.strip() \
                and after.cell_type == "markdown" and after.source.strip() not in release_md:
            return after
    return None


def repair(student_nb, source_nb, release_nb) -> tuple[object, list[str]]:
    """The notebook to grade for ``student_nb`` (nbformat notebooks: the student's, the course's solution notebook
    for the exercises' names, the released notebook as the skeleton) and lines for the notes. The student's
    notebook is returned as it is (with damaged metadata mended) when every exercise cell is there."""
    nb = copy.deepcopy(student_nb)
    release = copy.deepcopy(release_nb)
    canonical = {gid: (c.cell_type, c.metadata["nbgrader"]) for c in release.cells if (gid := _gid(c))}
    notes = []
    repaired, removed = _mend_metadata(nb, canonical)
    if repaired:
        notes.append(f"{len(repaired)} cell(s) had damaged grading metadata ({', '.join(sorted(set(repaired)))}); "
                     "it was restored from the course's notebook.")
    if removed:
        notes.append(f"{len(removed)} cell(s) had grading metadata this notebook does not have "
                     f"({', '.join(sorted(set(removed)))}); they were graded as ordinary cells.")

    flags = lambda c: _nbgrader(c) or {}  # noqa: E731
    present = {g for c in nb.cells if (g := _gid(c))}
    exercises = [i for i, c in enumerate(release.cells)
                 if c.cell_type == "code" and flags(c).get("solution") and _gid(c)]
    lost = [_gid(release.cells[i]) for i in exercises if _gid(release.cells[i]) not in present]
    if not lost:
        return nb, notes

    source_by_id = {g: c for c in source_nb.cells if (g := _gid(c))}
    # the student's code cells that may hold their code: ordinary cells and exercise cells (locked cells and test
    # cells come from the release, whatever the student's copies say)
    candidates = [c for c in nb.cells if c.get("cell_type") == "code"
                  and (_gid(c) is None or flags(c).get("solution"))]
    order = {id(c): k for k, c in enumerate(candidates)}
    defs = {id(c): defined_names(c.source) for c in candidates}
    last_def: dict[str, object] = {}
    for cell in candidates:
        for name in defs[id(cell)]:
            last_def[name] = cell

    placed: dict[int, list] = {}        # release position of an exercise -> the student's cells for it
    taken: set[int] = set()
    found, not_found, elsewhere = [], [], []
    for i in exercises:
        gid = _gid(release.cells[i])
        names = _exercise_names(release.cells[i], source_by_id.get(gid))
        mine = [c for c in candidates if _gid(c) == gid] + [last_def[n] for n in names if n in last_def]
        cells = sorted({id(c): c for c in mine if id(c) not in taken}.values(), key=lambda c: order[id(c)])
        taken |= {id(c) for c in cells}
        placed[i] = cells
        if gid in lost:
            found += [n for n in names if n in last_def]
            not_found += [n for n in names if n not in last_def]
        if not cells and any(n in last_def for n in names):
            elsewhere.append(i)

    # helpers: the student's cells that define a global name the placed cells read (and what those read)
    provided = {n for c in release.cells if c.cell_type == "code" and not flags(c).get("solution")
                for n in defined_names(c.source)}
    helpers: dict[int, list] = {i: [] for i in exercises}
    for i in exercises:
        queue = list(placed[i])
        while queue:
            cell = queue.pop()
            for name in sorted(read_names(cell.source) - provided):
                helper = last_def.get(name)
                if helper is not None and id(helper) not in taken:
                    taken.add(id(helper))
                    helpers[i].append(helper)
                    queue.append(helper)

    # answers to written questions (markdown exercise cells) that lost their metadata
    release_md = {c.source.strip() for c in release.cells if c.cell_type == "markdown"}
    answers = {}
    for i, c in enumerate(release.cells):
        if c.cell_type == "markdown" and flags(c).get("solution") and _gid(c) not in present:
            answers[i] = _written_answer(nb.cells, release.cells, i, release_md)

    student_answers = {g: c for c in reversed(nb.cells) if c.get("cell_type") == "markdown" and (g := _gid(c))}
    cells = []
    for i, rc in enumerate(release.cells):
        if i in exercises:
            cells += [nbformat.v4.new_code_cell(h.source) for h in sorted(helpers[i], key=lambda c: order[id(c)])]
            if placed[i]:
                rc.source = placed[i][0].source
                cells.append(rc)
                cells += [nbformat.v4.new_code_cell(c.source) for c in placed[i][1:]]
                continue
            if i in elsewhere:
                rc.source = ("# rnngrade: the names of this exercise are defined in an earlier cell of your "
                             "notebook (found by name)")
        elif rc.cell_type == "markdown" and flags(rc).get("solution"):
            # kept its metadata, or found after the question
            answer = student_answers.get(_gid(rc)) or answers.get(i)
            if answer is not None:
                rc.source = answer.source
        cells.append(rc)
    release.cells = cells

    whole = not present
    ids = ", ".join(lost)
    head = ("This notebook has no grading metadata (the nbgrader information Jupyter keeps with each cell)"
            if whole else f"{len(lost)} exercise cell(s) had no grading metadata ({ids})")
    line = f"{head}: your functions were found by name"
    line += f" ({', '.join(dict.fromkeys(found))})" if found else " (none of them was found)"
    if not_found:
        line += f"; not found: {', '.join(dict.fromkeys(not_found))} (their tests score 0)"
    line += (". The notebook was graded as the course's notebook with your cells in the exercises' places. "
             "Keep the original notebook next time (write your code in the notebook you received).")
    notes.append(line)
    n_helpers = sum(len(h) for h in helpers.values())
    if n_helpers:
        notes.append(f"{n_helpers} cell(s) of yours that your functions use were run before them; your other "
                     "cells without grading metadata were not run (the course's own cells ran in their place).")
    else:
        notes.append("Your other cells without grading metadata were not run (the course's own cells ran in "
                     "their place).")
    unanswered = sum(a is None for a in answers.values())
    if unanswered:
        notes.append(f"{unanswered} written answer(s) could not be found without their metadata; they are "
                     "graded as not answered.")
    return release, notes
