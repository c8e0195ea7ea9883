"""Locked non-test code per notebook (issue 13's measure): how much code a student must read but cannot change.

    python bench/notebook_stats.py [--rev REV] [NOTEBOOK ...]

For every solution notebook (default: ``solutions/*/*.ipynb``; with ``--rev``, as committed at that git revision),
prints one row:

- ``locked``: lines of the locked, non-graded code cells (nbgrader ``locked: true``, neither ``grade`` nor
  ``solution``: set-up, helpers, given classes), the number the issue's target (< 25 per cell, < 300 in all) is about;
- ``largest``: the longest such cell, and its ``grade_id``;
- ``open``: lines of the code cells without nbgrader metadata (experiments, training runs, plots: students may edit
  them), of which ``demo`` are tagged ``rnngrade-demo`` (skipped when grading);
- ``tests``: lines of the test cells (visible and hidden), for scale.

Lines are counted as in the notebook's source, blank lines included.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _source(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def notebook_stats(nb: dict) -> dict:
    """{"locked", "largest", "largest_id", "open", "demo", "tests"} for one notebook's JSON."""
    out = {"locked": 0, "largest": 0, "largest_id": "", "open": 0, "demo": 0, "tests": 0}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        meta = cell.get("metadata", {})
        nbg = meta.get("nbgrader", {})
        n = len(_source(cell).splitlines())
        if nbg.get("grade"):
            out["tests"] += n
        elif nbg.get("solution"):
            continue
        elif nbg.get("locked"):
            out["locked"] += n
            if n > out["largest"]:
                out["largest"], out["largest_id"] = n, nbg.get("grade_id", "?")
        else:
            out["open"] += n
            if "rnngrade-demo" in meta.get("tags", []):
                out["demo"] += n
    return out


def _read(path: Path, rev: str | None) -> dict:
    if rev is None:
        return json.loads(path.read_text(encoding="utf-8"))
    rel = path.resolve().relative_to(ROOT).as_posix()
    text = subprocess.run(["git", "show", f"{rev}:{rel}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--rev", help="read the notebooks as committed at this git revision")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "solutions").glob("*/*.ipynb"))
    print(f"{'notebook':34s} {'locked':>6s} {'largest':>8s} {'(grade_id)':18s} {'open':>5s} {'demo':>5s} {'tests':>6s}")
    total = {"locked": 0, "open": 0, "demo": 0, "tests": 0}
    for path in paths:
        try:
            s = notebook_stats(_read(path, args.rev))
        except (subprocess.CalledProcessError, FileNotFoundError):
            print(f"{path.parent.name:34s} (not present)")
            continue
        for k in total:
            total[k] += s[k]
        print(f"{path.parent.name:34s} {s['locked']:6d} {s['largest']:8d} {'(' + s['largest_id'] + ')':18s} "
              f"{s['open']:5d} {s['demo']:5d} {s['tests']:6d}")
    print(f"{'total':34s} {total['locked']:6d} {'':8s} {'':18s} {total['open']:5d} {total['demo']:5d} "
          f"{total['tests']:6d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
