"""Repair the structure of a submitted notebook against its source before grading: duplicated and moved cells.

Students copy cells (Jupyter keeps a copied cell's metadata, so the copy carries the same nbgrader grade id) and
drag them around. nbgrader refuses a notebook with a repeated grade id (the whole notebook then scores 0), and a
test cell dragged above the code it tests fails with a NameError. Neither says anything about the student's
code, and a copy of a test cell edited to pass must not count either. So, before grading:

- **Duplicated grade ids.** The first cell with a grade id keeps it. A later copy of a *test* cell is removed
  (its source comes back from the gradebook anyway, and a copy can only add a way to cheat). A later copy of any
  other cell (a solution or a set-up cell) stays, without its nbgrader metadata, so its code still runs where the
  student put it.
- **Test cells moved above the code they test.** Each test cell of the source follows a cell with a grade id (its
  anchor: the solution cell it tests, or the test before it). If the student's notebook has the test *before* its
  anchor, the test goes back to just after the anchor. Tests moved further down still run after their code and
  are left where they are.

``normalize(student_nb, source_nb)`` returns the repaired notebook and one line per kind of repair, for the notes.
It is the repair step of ``rnngrade.grading`` (``repair_and_stage``), run before nbgrader rather than as a
preprocessor in nbgrader's pipeline: there it would have to come before nbgrader's own ``DeduplicateIds`` (which
keeps the *last* copy of a repeated id, not the first), and its notes, which the student must read, would have no
way back: nbgrader's autograde API returns no resources, and the autograded notebook's metadata is cleared.
"""
from __future__ import annotations

import copy


def _gid(cell) -> str | None:
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return gid if isinstance(gid, str) else None


def _is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution") and cell.get("cell_type") == "code"


def normalize(student_nb, source_nb) -> tuple[object, list[str]]:
    """The repaired copy of ``student_nb`` (an nbformat notebook) and notes on what was repaired."""
    nb = copy.deepcopy(student_nb)
    notes: list[str] = []
    source_tests = {_gid(c) for c in source_nb.cells if _is_test(c) and _gid(c)}

    # 1) duplicated grade ids
    seen: set[str] = set()
    cells, removed, unmarked = [], [], []
    for cell in nb.cells:
        gid = _gid(cell)
        if gid is None or gid not in seen:
            if gid is not None:
                seen.add(gid)
            cells.append(cell)
        elif gid in source_tests:
            removed.append(gid)
        else:
            cell.metadata.pop("nbgrader", None)
            unmarked.append(gid)
            cells.append(cell)
    nb.cells = cells
    if removed:
        notes.append(f"{len(removed)} copied test cell(s) removed ({', '.join(sorted(set(removed)))}): each test "
                     "runs once, from the course's version.")
    if unmarked:
        notes.append(f"{len(unmarked)} copied cell(s) with a repeated id ({', '.join(sorted(set(unmarked)))}) run as "
                     "ordinary cells; the first copy keeps the id.")

    # 2) test cells above the code they test
    anchors: list[tuple[str, str]] = []            # (test, anchor), in the source's order
    previous = None
    for cell in source_nb.cells:
        gid = _gid(cell)
        if gid is None:
            continue
        if _is_test(cell) and previous is not None:
            anchors.append((gid, previous))
        previous = gid
    moved = []
    for test, anchor in anchors:
        ids = [_gid(c) for c in nb.cells]
        if test not in ids or anchor not in ids:
            continue
        t, a = ids.index(test), ids.index(anchor)
        if t < a:
            cell = nb.cells.pop(t)
            nb.cells.insert(a, cell)               # a shifted down by one: this is just after the anchor
            moved.append(test)
    if moved:
        notes.append(f"{len(moved)} test cell(s) were above the code they test ({', '.join(moved)}) and were moved "
                     "back after it.")
    return nb, notes
