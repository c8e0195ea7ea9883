"""The GPU check: run the PyTorch notebooks and the training benchmarks on a machine with a GPU, in one go.

    python bench/gpu_check.py --out DIR [--deadline-s 540] [--full] [--notebooks 03,04] [--benches bench_charlm]
                              [--charlm-variants '[{}, {"dropout": 0.4}]']

Meant for a borrowed GPU machine that has numpy, torch, matplotlib and tqdm but no Jupyter: each solution notebook
of 03-08 runs in its own process in quick mode (the mode grading uses; with --full, in full mode, each one until
the deadline at most), its code cells executed in order in one namespace by a plain runner (magics skipped, figures
drawn with the Agg backend and discarded); then the benchmarks bench_captioning, bench_charlm and bench_seq2seq run
one after the other, each in its own process. Every step writes its result as soon as it ends (DIR/gpu_results.json,
DIR/gpu_results.md, the whole output of each notebook in DIR/nb_<folder>.log, their tails together in
DIR/notebooks.log, and one log per benchmark), and a step that fails or would not fit in the deadline is reported,
not fatal. The data cache must already hold Tiny Shakespeare or ``RNNLAB_DATA_MIRROR`` must point to a folder with
it; the other datasets are generated.
"""
from __future__ import annotations

import argparse
import atexit
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
from bench_charlm import OVERRIDES_ENV  # noqa: E402 -- the variable bench_charlm reads its recipe changes from
from run_bench import run_bench_module  # noqa: E402

NOTEBOOKS = ["03_char_lm/char_lm.ipynb", "04_captioning/captioning.ipynb", "05_seq2seq/seq2seq.ipynb",
             "06_sequence_classification/sequence_classification.ipynb", "07_code_lm/code_lm.ipynb",
             "08_images_as_sequences/images_as_sequences.ipynb"]
# (module, rough seconds on a GPU, to skip what cannot fit)
BENCHES = [("bench_captioning", 150), ("bench_charlm", 200), ("bench_seq2seq", 140)]

RUNNER = r'''
import json, sys, time, traceback
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.show = lambda *a, **k: plt.close("all")
sys.path.insert(0, sys.argv[2])
from nbload import code_cells
ns = {"__name__": "__main__"}
cells = code_cells(sys.argv[1])
errors = []
for k, (gid, src) in enumerate(cells):
    gid = gid or f"cell {k}"
    t = time.perf_counter()
    try:
        exec(compile(src, f"{sys.argv[1]}:{gid}", "exec"), ns)
    except Exception as e:
        errors.append(f"{gid}: {type(e).__name__}: {e}")
        traceback.print_exc()
    plt.close("all")
    print(f"[cell {gid}] {time.perf_counter() - t:.1f} s", flush=True)
print("RUNNER-RESULT " + json.dumps({"cells": len(cells), "errors": errors, "device": str(ns.get("device"))}))
'''


def charlm_variants(text: str) -> list[dict]:
    """The --charlm-variants argument: a JSON list of objects (recipe changes; {} is the recipe as it is)."""
    variants = json.loads(text)
    if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
        raise SystemExit(f"--charlm-variants must be a JSON list of objects, not {text!r}")
    return variants


# Where IPython is missing, a stand-in package on PYTHONPATH: display() and HTML() build nothing, and there is no
# running shell (tqdm and matplotlib ask for one and fall back to plain output).
FAKE_IPYTHON = {
    "__init__.py": "version_info = (8, 0, 0)\n__version__ = '8.0.0'\n\n\ndef get_ipython():\n    return None\n",
    "display.py": "def display(*args, **kwargs):\n    return None\n\n\nclass HTML:\n"
                  "    def __init__(self, *args, **kwargs):\n        pass\n",
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--deadline-s", type=float, default=540.0)
    ap.add_argument("--benches", default=",".join(b for b, _ in BENCHES))
    ap.add_argument("--notebooks", default="03,04,05,06,07,08", help="which notebooks to run (prefixes), or none")
    ap.add_argument("--fake-ipython", action="store_true", help="use the stand-in IPython even if one is installed")
    ap.add_argument("--charlm-variants", default="",
                    help="a JSON list of recipe changes (RNNLAB_CHARLM_SET objects): bench_charlm runs once per "
                         "entry, {} being its own setting")
    ap.add_argument("--full", action="store_true",
                    help="run the notebooks in full mode (RNNLAB_QUICK=0), each until the deadline at most")
    args = ap.parse_args()
    variants = charlm_variants(args.charlm_variants) if args.charlm_variants else None   # checked before any run
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="gpu_check."))    # the runner and the stand-in IPython
    atexit.register(shutil.rmtree, scratch, True)
    paths = [str(ROOT / "helpers")]
    try:
        import IPython  # noqa: F401
        have_ipython = not args.fake_ipython
    except ImportError:
        have_ipython = False
    if not have_ipython:
        (scratch / "IPython").mkdir()
        for name, text in FAKE_IPYTHON.items():
            (scratch / "IPython" / name).write_text(text)
        paths.insert(0, str(scratch))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths + [os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1", "TQDM_DISABLE": "1"}
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    mode = "full" if args.full else "quick"
    results = {"machine": f"{gpu}; {os.cpu_count()} CPU cores; Python {platform.python_version()}, torch "
                          f"{torch.__version__}", "date": time.strftime("%Y-%m-%d"), "mode": mode, "notebooks": {},
               "benches": {}}

    def save():
        (out / "gpu_results.json").write_text(json.dumps(results, indent=2))
        lines = ["# GPU check", "", f"Machine: {results['machine']}, {results['date']}.", "",
                 f"| notebook ({mode} mode, plain runner) | seconds | result |", "|---|---:|---|"]
        for nb, r in results["notebooks"].items():
            lines.append(f"| `{nb}` | {r['s']:.1f} | {r['result']} |")
        for name, r in results["benches"].items():
            lines += ["", f"## {name}", "", r.get("markdown") or "```\n" + json.dumps(r, indent=2)[:3000] + "\n```"]
        (out / "gpu_results.md").write_text("\n".join(lines) + "\n")

    # 1) the notebooks, all at once (separate processes); quick mode: 240 s each at most, full mode: the deadline
    limit = args.deadline_s if args.full else 240.0
    runner = scratch / "nb_runner.py"
    runner.write_text(RUNNER)
    procs = {}
    for nb in [nb for nb in NOTEBOOKS if any(nb.startswith(k) for k in args.notebooks.split(","))]:
        log = out / f"nb_{Path(nb).parent.name}.log"
        f = open(log, "w")
        procs[nb] = (subprocess.Popen([sys.executable, str(runner), str(ROOT / "solutions" / nb), str(ROOT / "bench")],
                                      stdout=f, stderr=subprocess.STDOUT, cwd=ROOT,
                                      env={**env, "RNNLAB_QUICK": "0" if args.full else "1"}),
                     time.perf_counter(), log, f)
    finished, killed = {}, set()
    while len(finished) < len(procs):                # note each notebook's own finishing time
        for nb, (p, t0, log, f) in procs.items():
            if nb not in finished and (p.poll() is not None or time.perf_counter() - t0 > limit):
                if p.poll() is None:
                    p.kill()
                    p.wait()
                    killed.add(nb)
                finished[nb] = time.perf_counter() - t0
        time.sleep(0.2)
    for nb, (p, t0, log, f) in procs.items():
        f.close()
        text = log.read_text(errors="replace")
        found = [l for l in text.splitlines() if l.startswith("RUNNER-RESULT ")]
        res = json.loads(found[-1][len("RUNNER-RESULT "):]) if found else {
            "errors": [f"stopped at the {limit:.0f} s limit" if nb in killed else f"exit {p.returncode}"]}
        results["notebooks"][nb] = {"s": finished[nb], "device": res.get("device"),
                                    "result": (f"ok, {res['cells']} code cells on {res['device']}" if not res["errors"]
                                               else "FAILED: " + "; ".join(res["errors"])[:400])}
        print(nb, results["notebooks"][nb], flush=True)
        with open(out / "notebooks.log", "a") as all_logs:
            all_logs.write(f"===== {nb} =====\n{text[-20000:]}\n")
    save()

    # 2) the benchmarks, one at a time (bench_charlm once per --charlm-variants entry)
    runs = []
    for name, rough_s in BENCHES:
        if name not in args.benches.split(","):
            continue
        if name == "bench_charlm" and variants is not None:
            for k, change in enumerate(variants):
                runs.append((f"{name} {json.dumps(change)}", name, rough_s, {OVERRIDES_ENV: json.dumps(change)},
                             f"{name}_{k}"))
        else:
            runs.append((name, name, rough_s, {}, name))
    for key, name, rough_s, extra_env, log_name in runs:
        left = args.deadline_s - (time.perf_counter() - start)
        if left < rough_s:
            results["benches"][key] = {"skipped": f"{left:.0f} s left of the deadline, about {rough_s} s needed"}
            save()
            continue
        results["benches"][key] = run_bench_module(name, env={**env, **extra_env}, timeout=left,
                                                   log=out / f"{log_name}.log")
        print(key, {k: v for k, v in results["benches"][key].items() if k != "markdown"}, flush=True)
        save()
    print((out / "gpu_results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
