"""nbgrader's own course workflow on autograder/nbgrader_config.py: generate_assignment writes the same release
as rnngrade, and autograde grades a submission placed where nbgrader expects it."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from nbgrader.api import Gradebook

from rnngrade.setup_cell import CELL_ID as SETUP_CELL_ID

ROOT = Path(__file__).resolve().parents[1]


def _nbgrader(cwd, *args):
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    p = subprocess.run([str(bindir / "nbgrader"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return p


def test_generate_assignment_and_autograde(tmp_path):
    copy = tmp_path / "workbook"
    for item in ["autograder", "solutions", "notebooks"]:
        shutil.copytree(ROOT / item, copy / item, ignore=shutil.ignore_patterns("__pycache__", "grading"))
    released = copy / "notebooks" / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
    committed = json.loads(released.read_text(encoding="utf-8"))
    _nbgrader(copy / "autograder", "generate_assignment", "01_vanilla_rnn", "--force")
    generated = json.loads(released.read_text(encoding="utf-8"))
    # rnngrade release adds one thing nbgrader does not: the Colab set-up cell at the top (rnngrade.setup_cell)
    assert committed["cells"][0]["id"] == SETUP_CELL_ID
    assert committed["cells"][1:] == generated["cells"]

    # a student hands in the solutions: nbgrader autograde gives full marks, recorded in grading/gradebook.db
    sub = copy / "grading" / "submitted" / "alice" / "01_vanilla_rnn"
    sub.mkdir(parents=True)
    shutil.copy(copy / "solutions" / "01_vanilla_rnn" / "vanilla_rnn.ipynb", sub / "vanilla_rnn.ipynb")
    _nbgrader(copy / "autograder", "autograde", "01_vanilla_rnn", "--student", "alice", "--force")
    with Gradebook(f"sqlite:///{copy / 'grading' / 'gradebook.db'}", "rnn-workbook") as gb:
        s = gb.find_submission("01_vanilla_rnn", "alice")
        assert s.max_score > 0 and s.score == s.max_score
    assert (copy / "grading" / "autograded" / "alice" / "01_vanilla_rnn" / "vanilla_rnn.ipynb").exists()
