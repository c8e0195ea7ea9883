"""Load the reference implementations out of a solution notebook, for benchmarks.

Executes the notebook's set-up cell and the solution cells (``nbgrader.solution == true``) whose grade_id is
asked for, in a fresh namespace, without running any test, plot or training cell. Reads the notebook as plain
JSON (no Jupyter package needed), so that the benchmarks also run where only numpy and torch are installed (the GPU
machine of bench/gpu_check.py).
"""
from __future__ import annotations

import json
from pathlib import Path


def code_cells(notebook: str | Path) -> list[tuple[str | None, str]]:
    """(grade_id or None, Python source) of every code cell, in order; IPython magics and shell lines removed."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        src = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        cells.append((cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"), src))
    return cells


def load_solution_functions(notebook: str | Path, grade_ids: list[str], setup_ids=("setup",),
                            namespace: dict | None = None) -> dict:
    """Run the cells ``setup_ids`` and ``grade_ids`` in ``namespace`` (a fresh one by default); return it."""
    wanted = set(setup_ids) | set(grade_ids)
    ns: dict = {"__name__": "solution_notebook", **(namespace or {})}
    found = set()
    for gid, src in code_cells(notebook):
        if gid in wanted:
            exec(compile(src, f"{notebook}:{gid}", "exec"), ns)
            found.add(gid)
    missing = set(grade_ids) - found
    if missing:
        raise KeyError(f"{notebook}: no solution cells with grade_id {sorted(missing)}")
    return ns
