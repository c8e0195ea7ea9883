"""The Gradescope bundle, run against a fake /autograder tree."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rnngrade.course import Course
from rnngrade.gradescope import build_bundle
from rnngrade.release import build_release
from submissions import make_submission

TOY = Path(__file__).parent / "fixtures" / "toycourse"


@pytest.fixture(scope="module")
def fake_autograder(tmp_path_factory):
    root = tmp_path_factory.mktemp("toycourse")
    shutil.copytree(TOY / "solutions", root / "solutions")
    course = Course(root)
    build_release(course, course.release_dir)
    bundle = build_bundle(course, tmp_path_factory.mktemp("bundle") / "autograder.zip")
    ag = tmp_path_factory.mktemp("autograder")
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(ag / "source")
        names = zf.namelist()
    for script in ["setup.sh", "run_autograder"]:
        os.chmod(ag / "source" / script, 0o755)
    return course, ag, names


def _run(ag):
    env = {**os.environ, "AUTOGRADER_ROOT": str(ag), "RNNGRADE_PYTHON": sys.executable}
    env.pop("RNNGRADE_ROOT", None)
    p = subprocess.run(["bash", str(ag / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads((ag / "results" / "results.json").read_text())


def test_bundle_contents(fake_autograder):
    _, _, names = fake_autograder
    assert {"setup.sh", "run_autograder", "workbook/pyproject.toml", "workbook/requirements.txt",
            "workbook/solutions/00_toy/toy.ipynb", "workbook/autograder/rnngrade/grading.py"} <= set(names)
    assert not any("notebooks/" in n or "__pycache__" in n for n in names)


def test_run_autograder_scores_a_submission(fake_autograder):
    course, ag, _ = fake_autograder
    sub = ag / "submission"
    if sub.exists():
        shutil.rmtree(sub)
    make_submission(course.release_dir / "00_toy" / "toy.ipynb", course.solutions / "00_toy" / "toy.ipynb",
                    sub / "toy.ipynb", solve={"add"})
    (ag / "submission_metadata.json").write_text(json.dumps({"id": 123456, "users": [{"email": "s@x.edu"}]}))
    data = _run(ag)
    assert data["score"] == 3
    assert [(t["name"], t["score"], t["max_score"]) for t in data["tests"]] == [
        ("toy: test_add", 1, 1), ("toy: test_add_hidden", 2, 2), ("toy: test_square", 0, 1)]


def test_run_autograder_on_an_unusable_submission_still_writes_results(fake_autograder):
    _, ag, _ = fake_autograder
    shutil.rmtree(ag / "submission", ignore_errors=True)
    (ag / "submission").mkdir()
    (ag / "submission" / "toy.ipynb").write_text("{ broken")
    data = _run(ag)
    assert data["score"] == 0 and "could not be read" in data["output"]


def test_bundle_for_notebook_01_alone_has_a_maximum_of_33(tmp_path):
    """The real course: a Gradescope assignment for notebook 01 only. Its 33 points are the sum of the points of
    notebook 01's graded cells in solutions/ (counted here from the notebook, not from the grader)."""
    import nbformat

    real = Course(Path(__file__).resolve().parents[1])
    nb01 = real.solutions / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
    points = sum(c.metadata["nbgrader"].get("points", 0) for c in nbformat.read(str(nb01), as_version=4).cells
                 if c.metadata.get("nbgrader", {}).get("grade"))
    assert points == 33
    bundle = build_bundle(real, tmp_path / "nb01.zip", ["01_vanilla_rnn"])
    ag = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(ag / "source")
        assert not any(n.startswith("workbook/solutions/02_lstm") for n in zf.namelist())
    # the student hands in the unsolved notebook 01 and (by mistake) notebook 02: only 01 is graded
    (ag / "submission").mkdir()
    shutil.copy(real.release_dir / "01_vanilla_rnn" / "vanilla_rnn.ipynb", ag / "submission")
    shutil.copy(real.release_dir / "02_lstm" / "lstm.ipynb", ag / "submission")
    data = _run(ag)
    assert sum(t["max_score"] for t in data["tests"]) == points and data["score"] == 0
    assert all(t["name"].startswith("vanilla_rnn: ") for t in data["tests"])
    assert "lstm.ipynb" in data["output"]     # listed (the bundle carries notebook 01 only), not graded
