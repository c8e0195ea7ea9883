"""`make bench`: time and memory of the workbook's heavy paths; writes BENCHMARKS.md.

Rows: seconds to grade one full submission (the solutions) with rnngrade; seconds and peak memory to run each
solution notebook in quick mode (what grading and CI run) and in full mode (what a student runs); extra rows from
bench_*.py modules (each exposes run() -> dict).

Peak memory is the largest resident set of any process involved (the grader or the notebook's kernel).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

MEASURE = ("import json, resource, subprocess, sys, time\n"
           "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
           "print(json.dumps({'rc': p.returncode, 's': time.perf_counter() - t, "
           "'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, 'err': p.stderr[-2000:]}))")


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Run cmd in a fresh measuring process: wall seconds and peak RSS (MiB) of its process tree."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, cwd=ROOT)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["peak_mib"] = res.pop("maxrss_kb") / 1024
    if res["rc"] != 0:
        print(f"  ! {' '.join(cmd)} exited {res['rc']}:\n{res['err']}", file=sys.stderr)
    return res


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        import psutil

        mem = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except Exception:
        pass
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{cpu}, {os.cpu_count()} cores{mem}, {gpu}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, torch {torch.__version__}")


def run_bench_module(name: str, env: dict | None = None, timeout: float | None = None,
                     log: Path | None = None) -> dict:
    """Run bench/<name>.py's run() in its own process (so that one benchmark's settings, torch threads say, cannot
    leak into the next) and return its dict, with "wall_s"; or {"error": ...} when it fails or times out, so that a
    broken benchmark never loses the other rows. ``log`` receives the process's output."""
    code = (f"import json, sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import {name}; "
            f"print('BENCH-RESULT ' + json.dumps({name}.run()))")
    start = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                           timeout=timeout)
        rc, text = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as exc:     # its partial output may come back as bytes
        rc, text = 124, "".join(x.decode(errors="replace") if isinstance(x, bytes) else x
                                for x in (exc.stdout or "", exc.stderr or ""))
    wall_s = time.perf_counter() - start
    if log is not None:
        Path(log).write_text(text)
    found = [line for line in text.splitlines() if line.startswith("BENCH-RESULT ")]
    if rc == 0 and found:
        return {**json.loads(found[-1][len("BENCH-RESULT "):]), "wall_s": wall_s}
    return {"error": f"exit {rc} after {wall_s:.0f} s", "log_tail": text[-1500:]}


KEEP_MARKER = "<!-- Measured by hand below this line; make bench keeps it. -->"


def kept_sections(path: Path) -> list[str]:
    """The hand-written part of an existing BENCHMARKS.md (from KEEP_MARKER on), kept when make bench rewrites
    the generated part above it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [KEEP_MARKER, "", *text.split(KEEP_MARKER, 1)[1].strip("\n").splitlines(), ""] if KEEP_MARKER in text \
        else [KEEP_MARKER, ""]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-full", action="store_true", help="skip full-mode notebook runs")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()

    bindir = Path(sys.executable).parent
    notebooks = sorted((ROOT / "solutions").glob("*/*.ipynb"))
    rows = []
    print("grading one full submission (the solutions) ...")
    with tempfile.TemporaryDirectory() as tmp:
        g = measure([str(bindir / "rnngrade"), "grade", str(ROOT / "solutions"), "--student", "bench",
                     "--out", tmp])
        score = json.loads((Path(tmp) / "results.json").read_text())["score"] if g["rc"] == 0 else "error"
    rows.append(("Grade one full submission (all notebooks, quick mode, with feedback)", g, f"score {score}"))

    n_students = 2
    with tempfile.TemporaryDirectory() as tmp:
        batch = Path(tmp) / "batch"
        for i in range(n_students):
            shutil.copytree(ROOT / "solutions", batch / f"student{i}")
        for workers in (1, 2):
            print(f"grading a batch of {n_students} full submissions with {workers} worker(s) ...")
            r = measure([str(bindir / "rnngrade"), "grade", "--batch", str(batch), "--workers", str(workers),
                         "--no-feedback", "--out", str(Path(tmp) / f"out{workers}")])
            rate = 60 * n_students / r["s"]
            rows.append((f"Grade a batch of {n_students} submissions, `--workers {workers}`", r,
                         f"{r['s'] / n_students:.1f} s per submission, {rate:.1f} submissions/min"))

    for nb in notebooks:
        for mode, env in [("quick", {"RNNLAB_QUICK": "1"}), ("full", {"RNNLAB_QUICK": "0"})]:
            if mode == "full" and args.skip_full:
                continue
            print(f"running {nb.relative_to(ROOT)} in {mode} mode ...")
            with tempfile.TemporaryDirectory() as tmp:
                r = measure([str(bindir / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                             "--ExecutePreprocessor.timeout=1800", "--output-dir", tmp, str(nb)],
                            env={**env, "MPLBACKEND": "Agg"})
            rows.append((f"Run `{nb.relative_to(ROOT)}` ({mode} mode)", r, "ok" if r["rc"] == 0 else "FAILED"))

    extra = []
    for mod_path in sorted((ROOT / "bench").glob("bench_*.py")):
        print(f"{mod_path.stem} ...")
        extra.append((mod_path.stem, run_bench_module(mod_path.stem)))

    lines = ["# Benchmarks", "",
             f"Measured by `make bench` on {dt.date.today().isoformat()}.", "",
             f"Machine: {machine()}", "",
             "| what | seconds | peak memory (MiB) | result |", "|---|---:|---:|---|"]
    for what, r, result in rows:
        lines.append(f"| {what} | {r['s']:.1f} | {r['peak_mib']:.0f} | {result} |")
    for name, data in extra:
        lines += ["", f"## {name}", ""]
        if "markdown" in data:
            lines.append(data["markdown"])
        else:
            lines += ["```", json.dumps(data, indent=2), "```"]
    if (ROOT / "BENCHMARKS-GPU.md").exists():
        lines += ["", "Measurements on a GPU (the PyTorch notebooks and the training benchmarks, run by "
                  "`bench/gpu_check.py` on a borrowed machine): `BENCHMARKS-GPU.md`."]
    lines += ["", "Peak memory is the largest resident set of any single process of the run (the grader, a grading "
              "worker or a kernel): with `--workers N`, each worker and its kernel stay within it.",
              "Quick mode (`RNNLAB_QUICK=1`, or any nbgrader run) shrinks training loops; full mode is what a "
              "student runs.", ""]
    lines += kept_sections(Path(args.out))
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
