"""Where grading one full submission spends its time: the per-phase table (``rnngrade.timings``).

    python bench/bench_grading_phases.py                       # grade solutions/ once, print the table
    python bench/bench_grading_phases.py --compare OTHER --repeat 2
                                                                # A/B: this checkout against OTHER (another checkout),
                                                                # runs interleaved (A B A B): same load for both

Each run is ``rnngrade grade <root>/solutions --timings`` (all notebooks, quick mode, feedback included) in a fresh
process, with that checkout's ``autograder`` and ``helpers`` first on PYTHONPATH (its kernels inherit it) and
RNNGRADE_ROOT set to it; so OTHER needs no virtual environment of its own, only the ``timings.json`` support. The
table shows the median over the repeats of each phase, the score, and the load average before each run.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def grade_once(root: Path, extra_env: dict | None = None) -> dict:
    """Grade ``root/solutions`` with ``root``'s grader; returns timings.json plus wall seconds, score, load."""
    env = {**os.environ, "RNNGRADE_ROOT": str(root), "RNNGRADE_TIMINGS": "1", **(extra_env or {}),
           "PYTHONPATH": os.pathsep.join([str(root / "autograder"), str(root / "helpers"),
                                          os.environ.get("PYTHONPATH", "")])}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory(prefix="rnngrade-bench-") as out:
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "rnngrade", "grade", str(root / "solutions"), "--student", "bench",
                            "--out", out], env=env, capture_output=True, text=True, cwd=root)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"grading with {root} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        data = json.loads((Path(out) / "timings.json").read_text())
        results = json.loads((Path(out) / "results.json").read_text())
    data.update(wall_s=wall, score=results["score"], max_score=sum(t["max_score"] for t in results["tests"]),
                load=load)
    return data


def median_phases(runs: list[dict]) -> dict:
    phases = {p: statistics.median(r["phases"].get(p, {}).get("total_s", 0.0) for r in runs) for p in runs[0]["phases"]}
    counts = {}
    for what in runs[0].get("counts", {}):
        counts[what] = statistics.median(sum(r["counts"].get(what, {}).values()) for r in runs)
    return {"phases": phases, "counts": counts, "total_s": statistics.median(r["total_s"] for r in runs),
            "wall_s": statistics.median(r["wall_s"] for r in runs), "scores": sorted({r["score"] for r in runs}),
            "max_score": runs[0]["max_score"], "loads": [round(r["load"], 1) for r in runs]}


def table(columns: dict[str, dict]) -> str:
    names = list(columns)
    phases = list(dict.fromkeys(p for c in columns.values() for p in c["phases"]))
    lines = ["| phase | " + " | ".join(f"{n} (s)" for n in names) + " |",
             "|---|" + "---:|" * len(names)]
    for p in phases:
        lines.append(f"| {p} | " + " | ".join(f"{columns[n]['phases'].get(p, 0.0):.1f}" for n in names) + " |")
    for what in dict.fromkeys(w for c in columns.values() for w in c["counts"]):
        lines.append(f"| ({what}) | " + " | ".join(f"{columns[n]['counts'].get(what, 0):g}" for n in names) + " |")
    lines.append("| **grading (grade_submission)** | " + " | ".join(f"**{columns[n]['total_s']:.1f}**" for n in names)
                 + " |")
    lines.append("| whole command (with Python start-up) | " + " | ".join(f"{columns[n]['wall_s']:.1f}" for n in names)
                 + " |")
    lines.append("| score | " + " | ".join(
        "/".join(f"{s:g}" for s in columns[n]["scores"]) + f" of {columns[n]['max_score']:g}" for n in names) + " |")
    lines.append("| load average at each start | " + " | ".join(", ".join(map(str, columns[n]["loads"]))
                                                                  for n in names) + " |")
    return "\n".join(lines)


def run() -> dict:
    """For ``make bench``: one grading of this checkout's solutions, its seconds per phase."""
    r = grade_once(ROOT)
    return {"markdown": "Where grading one full submission (`solutions/`, quick mode, feedback included) spends "
                        "its time, from `rnngrade grade --timings`:\n\n" + table({"this": median_phases([r])}),
            "timings": r}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to time (default: this one)")
    ap.add_argument("--compare", type=Path, help="another checkout, timed in turn with --root")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write every run's timings here")
    args = ap.parse_args(argv)
    roots = {"this": args.root.resolve()}
    if args.compare:
        roots = {"other": args.compare.resolve(), "this": args.root.resolve()}   # the other first: A B A B
    runs: dict[str, list[dict]] = {n: [] for n in roots}
    for i in range(args.repeat):
        for name, root in roots.items():
            r = grade_once(root)
            runs[name].append(r)
            print(f"run {i + 1} {name} ({root}): {r['total_s']:.1f} s, score {r['score']:g}", file=sys.stderr,
                  flush=True)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    print(table({f"{n} ({roots[n].name})": median_phases(rs) for n, rs in runs.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
