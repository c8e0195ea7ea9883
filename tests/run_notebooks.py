"""Run notebooks top to bottom with nbclient, as a student's Jupyter would; used by the tests on other Pythons.

    python run_notebooks.py --kernel NAME [--expect-python 3.12] [--workdir DIR] NOTEBOOK...

Runs with this interpreter's nbclient, in kernel NAME, each notebook from ``--workdir`` (default: its own folder).
With ``--expect-python``, a first cell (added to the copy that runs, not to the file) checks that the kernel is that
Python, so a test cannot pass by running in some other environment. Prints one line per notebook with its time;
exits 1 at the first cell that fails, printing the error. Needs only nbformat and nbclient (no pytest, no rnngrade).
"""
import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--expect-python")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = ap.parse_args(argv)
    for path in args.notebooks:
        nb = nbformat.read(str(path), as_version=4)
        if args.expect_python:
            check = ("import sys\nassert '%d.%d' % sys.version_info[:2] == {!r}, sys.version\nprint(sys.executable)"
                     .format(args.expect_python))
            nb.cells.insert(0, nbformat.v4.new_code_cell(check))
        workdir = args.workdir or path.parent
        client = NotebookClient(nb, timeout=args.timeout, kernel_name=args.kernel,
                                resources={"metadata": {"path": str(workdir)}})
        t0 = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError as exc:
            print(f"FAILED {path.name} after {time.perf_counter() - t0:.1f} s:\n{exc}", flush=True)
            return 1
        print(f"ok {path.name} in {time.perf_counter() - t0:.1f} s", flush=True)
        for cell in nb.cells[:2]:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    print(f"   {path.name} [{cell.get('id', '?')}]: {out['text'].strip()[:300]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
