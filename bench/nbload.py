"""Load the reference implementations out of a solution notebook, for benchmarks.

Executes the notebook's set-up cell and the solution cells (``nbgrader.solution == true``) whose grade_id is
asked for, in a fresh namespace, without running any test, plot or training cell.
"""
from __future__ import annotations

from pathlib import Path

import nbformat


def load_solution_functions(notebook: str | Path, grade_ids: list[str], setup_ids=("setup",)) -> dict:
    nb = nbformat.read(str(notebook), as_version=4)
    wanted = set(setup_ids) | set(grade_ids)
    ns: dict = {"__name__": "solution_notebook"}
    found = set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if cell.cell_type != "code" or gid not in wanted:
            continue
        src = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        exec(compile(src, f"{notebook}:{gid}", "exec"), ns)
        found.add(gid)
    missing = set(grade_ids) - found
    if missing:
        raise KeyError(f"{notebook}: no solution cells with grade_id {sorted(missing)}")
    return ns
