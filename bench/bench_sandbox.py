"""The sandbox's cost: seconds to grade one submission with the student kernel sandboxed and without.

    python bench/bench_sandbox.py [--rounds 3] [--all] [--levels namespaces,none]

Grades the solution of notebook 01 (``--all``: every notebook of the course, one full submission) with
``rnngrade grade --no-feedback``, once per isolation level per round, the levels interleaved (A B A B ...: on a
shared machine the load drifts, and interleaving spreads the drift over both arms), and reports each level's
median, its spread (min to max) and the median's ratio to the unsandboxed run. Levels: ``namespaces`` (bubblewrap,
the default as root on Linux), ``permissions`` (``RNNGRADE_SANDBOX_LEVEL=permissions``; it changes permissions on
the machine, see docs/SANDBOX.md, so it is not measured unless asked for), ``none`` (``RNNGRADE_SANDBOX=0``).
Where the grader cannot sandbox (not root), every level runs as ``none`` and the report says so.
``make bench`` runs it with its defaults (``run()``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "autograder"))

ENVS = {"namespaces": {"RNNGRADE_SANDBOX": "1", "RNNGRADE_SANDBOX_LEVEL": ""},
        "permissions": {"RNNGRADE_SANDBOX": "1", "RNNGRADE_SANDBOX_LEVEL": "permissions"},
        "none": {"RNNGRADE_SANDBOX": "0", "RNNGRADE_SANDBOX_LEVEL": ""}}


def grade_once(level: str, all_notebooks: bool) -> dict:
    """One timed ``rnngrade grade`` of the solutions at ``level``: seconds, score and the level the notes report."""
    from run_bench import measure

    rnngrade = str(Path(sys.executable).parent / "rnngrade")
    with tempfile.TemporaryDirectory() as tmp:
        sub = ROOT / "solutions" if all_notebooks else ROOT / "solutions" / "01_vanilla_rnn"
        cmd = [rnngrade, "grade", str(sub), "--student", "bench", "--no-feedback", "--out", tmp]
        if not all_notebooks:
            cmd += ["--assignment", "01_vanilla_rnn"]
        r = measure(cmd, env=ENVS[level])
        try:
            res = json.loads((Path(tmp) / "results.json").read_text())
            score = res["score"]
            used = next((ln.split(":", 2)[1].strip() for ln in res.get("output", "").splitlines()
                         if ln.startswith("Sandbox:")), "?")
        except (OSError, ValueError, KeyError):
            score, used = None, "?"
    return {"s": r["s"], "rc": r["rc"], "score": score, "used": used}


def measure_levels(levels: list[str], rounds: int, all_notebooks: bool, log=print) -> dict:
    runs: dict[str, list[dict]] = {lv: [] for lv in levels}
    for k in range(rounds):
        for lv in levels:
            r = grade_once(lv, all_notebooks)
            runs[lv].append(r)
            log(f"round {k + 1}/{rounds} {lv}: {r['s']:.1f} s, score {r['score']}, sandbox: {r['used']}")
    return runs


def markdown(runs: dict, all_notebooks: bool) -> str:
    from run_bench import machine

    what = "one full submission (all notebooks)" if all_notebooks else "notebook 01's solution"
    base = statistics.median(r["s"] for r in runs["none"]) if "none" in runs else None
    lines = [f"Seconds to grade {what} with `rnngrade grade --no-feedback`, each isolation level run "
             f"{len(next(iter(runs.values())))} times, interleaved; machine: {machine()}; load average at the end "
             f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}.", "",
             "| sandbox level (what the notes said) | median (s) | min - max (s) | median vs none | scores |",
             "|---|---:|---:|---:|---|"]
    for lv, rs in runs.items():
        secs = [r["s"] for r in rs]
        med = statistics.median(secs)
        ratio = f"{100 * (med / base - 1):+.0f} %" if base else ""
        used = ", ".join(sorted({r["used"].split(" (")[0] for r in rs}))
        scores = ", ".join(sorted({str(r["score"]) for r in rs}))
        lines.append(f"| {lv} ({used}) | {med:.1f} | {min(secs):.1f} - {max(secs):.1f} | {ratio} | {scores} |")
    return "\n".join(lines)


def run() -> dict:
    """For ``make bench``: notebook 01, namespaces against none, 3 rounds."""
    runs = measure_levels(["namespaces", "none"], 3, False, log=lambda *_: None)
    return {"markdown": markdown(runs, False), "runs": runs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--all", action="store_true", help="grade every notebook (one full submission)")
    ap.add_argument("--levels", default="namespaces,none")
    ap.add_argument("--json", help="also write the runs to this file")
    args = ap.parse_args()
    levels = args.levels.split(",")
    unknown = [lv for lv in levels if lv not in ENVS]
    if unknown:
        ap.error(f"unknown level(s) {unknown}; use {', '.join(ENVS)}")
    runs = measure_levels(levels, args.rounds, args.all)
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))
    print(markdown(runs, args.all))
    return 0


if __name__ == "__main__":
    sys.exit(main())
