"""bench/gpu_check.py, the script run on a borrowed GPU machine that has no Jupyter: CI has no GPU, so this checks
on the CPU that its plain notebook runner and its stand-in IPython still work, with the smallest notebook."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_runs_a_notebook_with_the_stand_in_ipython(tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--out", str(out), "--notebooks", "06",
                        "--benches", "none", "--fake-ipython"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    results = json.loads((out / "gpu_results.json").read_text())
    (name, r), = results["notebooks"].items()
    nb = json.loads((ROOT / "solutions" / name).read_text())
    n_code = sum(c["cell_type"] == "code" for c in nb["cells"])
    assert name.startswith("06_") and r["result"].startswith(f"ok, {n_code} code cells"), r
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


def test_gpu_check_full_mode_runs_notebooks_with_quick_mode_off(tmp_path, monkeypatch):
    """--full: RNNLAB_QUICK=0 in the notebook's process, the table says so, and the notebook's whole output is kept
    in the output folder. A two-cell notebook stands in for the solutions (a full run takes minutes)."""
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "from rnnlab import is_quick\n"},
                    {"cell_type": "code", "metadata": {}, "source": "print('quick mode:', is_quick())\n"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "07_tiny").mkdir()
    path = tmp_path / "07_tiny" / "tiny.ipynb"
    path.write_text(json.dumps(nb))
    sys.path.insert(0, str(ROOT / "bench"))
    import gpu_check

    out = tmp_path / "out"
    monkeypatch.setattr(gpu_check, "NOTEBOOKS", [str(path)])    # an absolute path: ROOT / "solutions" / it is it
    monkeypatch.setattr(sys, "argv", ["gpu_check.py", "--out", str(out), "--notebooks", str(tmp_path),
                                      "--benches", "none", "--fake-ipython", "--full", "--deadline-s", "120"])
    assert gpu_check.main() == 0
    results = json.loads((out / "gpu_results.json").read_text())
    assert results["mode"] == "full" and results["notebooks"][str(path)]["result"].startswith("ok, 2 code cells")
    assert "| notebook (full mode, plain runner) |" in (out / "gpu_results.md").read_text()
    assert "quick mode: False" in (out / "nb_07_tiny.log").read_text()


def test_bench_charlm_takes_a_recipe_change_for_one_run_and_refuses_unknown_keys(monkeypatch):
    """A session on a lent GPU can try a second setting of the GPU recipe without editing code
    (RNNLAB_CHARLM_SET); a misspelt key stops the run before any training, naming the keys there are."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import bench_charlm

    recipe = {"dropout": 0.25, "weight_decay": 0.0, "hidden_size": 768}
    monkeypatch.delenv("RNNLAB_CHARLM_SET", raising=False)
    assert bench_charlm.recipe_overrides(recipe) == {}
    monkeypatch.setenv("RNNLAB_CHARLM_SET", '{"dropout": 0.4, "weight_decay": 0.1}')
    assert bench_charlm.recipe_overrides(recipe) == {"dropout": 0.4, "weight_decay": 0.1}
    for bad in ('{"dropuot": 0.4}', '[0.4]'):
        monkeypatch.setenv("RNNLAB_CHARLM_SET", bad)
        with pytest.raises(ValueError, match="keys among"):
            bench_charlm.recipe_overrides(recipe)


def test_bench_charlm_gpu_goal_path_runs_on_a_cpu(monkeypatch):
    """The path that measures issue 15's GPU goal (the candidate's changes, the curve along the way, the verdict on
    the last weights), walked on the CPU with a tiny model and a 2 s budget, so that a lent GPU's few minutes are not
    lost to a bug in it."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import bench_charlm
    import torch

    monkeypatch.setenv("RNNLAB_CHARLM_SET", '{"hidden_size": 32}')
    threads = torch.get_num_threads()
    try:
        r = bench_charlm.run(budget_s=2.0, gpu_goal=True)
    finally:
        torch.set_num_threads(threads)          # the recipe tunes threads; leave the worker as it was
    assert r["changes"] == {**bench_charlm.GPU_CANDIDATE, "hidden_size": 32}, r["changes"]
    assert len(r["checkpoints"]) == 10 and r["checkpoints"][-1][2] == round(r["val_loss"], 4), r["checkpoints"]
    assert r["gpu_goal_met"] is False and "goal (below it in at most 180 s): **NOT met**" in r["markdown"]
    assert "measurements along the way" in r["markdown"] and '"dropout": 0.5' in r["markdown"]


def test_gpu_check_runs_bench_charlm_once_per_variant(tmp_path):
    """--charlm-variants: one bench_charlm run per recipe change, each reported under its change, so that a lent
    GPU's session tries two settings in one call. Here on the CPU, with 1 s budgets and tiny models."""
    out = tmp_path / "out"
    variants = [{"budget_s": 1, "hidden_size": 16}, {"budget_s": 1, "hidden_size": 8}]
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--out", str(out), "--notebooks", "none",
                        "--benches", "bench_charlm", "--charlm-variants", json.dumps(variants)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    benches = json.loads((out / "gpu_results.json").read_text())["benches"]
    assert list(benches) == [f"bench_charlm {json.dumps(v)}" for v in variants], list(benches)
    for v, r in zip(variants, benches.values()):
        assert "error" not in r, r
        assert r["changes"] == v and f"H={v['hidden_size']}," in r["markdown"], r.get("markdown")
    bad = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--out", str(tmp_path / "bad"),
                          "--notebooks", "none", "--charlm-variants", '{"dropout": 0.4}'],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode != 0 and "JSON list of objects" in bad.stderr, bad.stderr[-500:]
