"""bench/gpu_check.py, the script run on a borrowed GPU machine that has no Jupyter: CI has no GPU, so this checks
on the CPU that its plain notebook runner and its stand-in IPython still work, with the smallest notebook."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_runs_a_notebook_with_the_stand_in_ipython(tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--out", str(out), "--notebooks", "06",
                        "--benches", "none", "--fake-ipython"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    results = json.loads((out / "gpu_results.json").read_text())
    (name, r), = results["notebooks"].items()
    assert name.startswith("06_") and r["result"].startswith("ok, 24 code cells"), r
    assert "06_sequence_classification" in (out / "gpu_results.md").read_text()
    log = (out / "notebooks.log").read_text()
    assert "Traceback" not in log and "[cell test_FrameTagger]" in log, log[-2000:]


def test_gpu_check_reports_a_failing_cell_without_stopping(tmp_path):
    """A notebook whose cell raises: the run goes on with the next cell and the failure is in the results."""
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1\n"},
                    {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "broken"}}, "source": "1 / 0\n"},
                    {"cell_type": "code", "metadata": {}, "source": "print('after', x)\n"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    sys.path.insert(0, str(ROOT / "bench"))
    import gpu_check

    runner = tmp_path / "runner.py"
    runner.write_text(gpu_check.RUNNER)
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    p = subprocess.run([sys.executable, str(runner), str(path), str(ROOT / "bench")], capture_output=True, text=True,
                       timeout=120)
    result = json.loads(p.stdout.split("RUNNER-RESULT ", 1)[1])
    assert result["cells"] == 3 and result["errors"] == ["broken: ZeroDivisionError: division by zero"], result
    assert "after 1" in p.stdout
