"""One assignment at a time, on a toy course of two assignments (00_toy/toy and 01_other/other, 4 automatic points
each): what is graded, what is listed, totals, the one line for a missing notebook, the summary, check, batch and
the Gradescope bundle."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from rnngrade.assignments import resolve
from rnngrade.batch import grade_batch
from rnngrade.cli import check_course
from rnngrade.gradescope import build_bundle
from rnngrade.grading import grade_submission
from submissions import make_submission, make_toy_course


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_toy_course(tmp_path_factory.mktemp("two"), second_assignment=True)


def _solved(course, folder, *notebooks):
    for a, nb in notebooks:
        make_submission(course.release_dir / a / f"{nb}.ipynb", course.solutions / a / f"{nb}.ipynb",
                        folder / f"{nb}.ipynb")
    return folder


def _cli(course, *args):
    env = {**os.environ, "RNNGRADE_ROOT": str(course.root)}
    return subprocess.run([sys.executable, "-m", "rnngrade", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_resolve_names(course):
    assert resolve(course, ["01_other", "toy", "00_toy/"]) == ["00_toy", "01_other"]
    with pytest.raises(ValueError, match="unknown assignment 'nope'.*00_toy, 01_other"):
        resolve(course, ["nope"])


def test_default_grades_what_the_submission_holds(course, tmp_path):
    r = grade_submission(course, _solved(course, tmp_path, ("00_toy", "toy")), "ann", feedback=False)
    assert r.assignments == ["00_toy"]
    assert {t.notebook for t in r.tests} == {"toy"} and (r.score, r.max_score) == (4, 4)


def test_a_notebook_of_another_assignment_is_listed_not_graded(course, tmp_path):
    sub = _solved(course, tmp_path, ("00_toy", "toy"), ("01_other", "other"))
    r = grade_submission(course, sub, "ben", feedback=True, assignments=["00_toy"])
    assert {t.notebook for t in r.tests} == {"toy"} and (r.score, r.max_score) == (4, 4)
    assert [n for n in r.notes if "other.ipynb" in n] == [
        "Not graded: other.ipynb belongs to assignment 01_other, which this run does not grade "
        "(add --assignment 01_other to grade it)."]
    assert set(r.feedback) == {"toy"}


def test_a_missing_notebook_is_one_line_and_the_report_ends_with_a_summary(course, tmp_path):
    sub = _solved(course, tmp_path / "in", ("00_toy", "toy"))
    p = _cli(course, "grade", str(sub), "--student", "cat", "--out", str(tmp_path / "out"),
             "--assignment", "00_toy", "--assignment", "01_other")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert [ln for ln in lines if "other" in ln and "FAIL" in ln] == ["FAIL    0/4    other: whole notebook"]
    assert sum("Notebook not submitted" in ln for ln in lines[:-4]) == 1
    assert [" ".join(ln.split()) for ln in lines[-4:]] == [
        "Summary by assignment:",
        "00_toy 4 / 4 (written answers worth 1 pt still to grade by hand)",
        "01_other 0 / 4 (other.ipynb: Notebook not submitted; written answers worth 1 pt still to grade by hand)",
        "total 4 / 8"]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["score"] == 4 and sum(t["max_score"] for t in data["tests"]) == 8
    assert [t["name"] for t in data["tests"] if t["name"].startswith("other")] == ["other: whole notebook"]
    header = (tmp_path / "out" / "grades.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["student", "score", "max_score"] and "other: test_add" in header


def test_unknown_assignment_is_a_clear_error(course, tmp_path):
    p = _cli(course, "grade", str(course.release_dir), "--out", str(tmp_path), "--assignment", "02_nope")
    assert p.returncode == 2 and "unknown assignment '02_nope'" in p.stderr


def test_check_one_assignment(course):
    assert check_course(course, verbose=False, assignments=["01_other"]) == []


def test_batch_grades_every_student_on_the_same_assignments(course, tmp_path):
    folder = tmp_path / "batch"
    _solved(course, folder / "dan", ("00_toy", "toy"))
    _solved(course, folder / "eva", ("00_toy", "toy"), ("01_other", "other"))
    logs = []
    grade_batch(course, folder, tmp_path / "all", feedback=False, log=logs.append)
    assert "(assignments: 00_toy, 01_other)" in logs[0]      # what any submission holds
    merged = (tmp_path / "all" / "grades.csv").read_text().splitlines()
    assert [row.split(",")[:3] for row in merged[1:]] == [["dan", "4", "8"], ["eva", "8", "8"]]
    grade_batch(course, folder, tmp_path / "one", feedback=False, log=logs.append, assignments=["01_other"])
    merged = (tmp_path / "one" / "grades.csv").read_text().splitlines()
    assert [row.split(",")[:3] for row in merged[1:]] == [["dan", "0", "4"], ["eva", "4", "4"]]
    assert not any(c.startswith("toy:") for c in merged[0].split(","))


def test_gradescope_bundle_for_one_assignment(course, tmp_path):
    bundle = build_bundle(course, tmp_path / "ag.zip", ["01_other"])
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        run = zf.read("run_autograder").decode()
    assert "workbook/solutions/01_other/other.ipynb" in names
    assert not any(n.startswith("workbook/solutions/00_toy") for n in names)
    assert run.rstrip().endswith('gradescope-run "$ROOT" --assignment 01_other')
