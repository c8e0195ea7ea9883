"""Batch grading on the toy course: discovery of folders, zips and flat LMS files; parallel = serial; resume."""
import shutil
import zipfile
from pathlib import Path

import pytest

from rnngrade.batch import discover, grade_batch
from rnngrade.course import Course
from rnngrade.release import build_release
from submissions import make_submission

TOY = Path(__file__).parent / "fixtures" / "toycourse"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toycourse")
    shutil.copytree(TOY / "solutions", root / "solutions")
    course = Course(root)
    build_release(course, course.release_dir)
    return course


@pytest.fixture(scope="module")
def batch(toy, tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    rel, sol = toy.release_dir / "00_toy" / "toy.ipynb", toy.solutions / "00_toy" / "toy.ipynb"
    make_submission(rel, sol, folder / "alice" / "00_toy" / "toy.ipynb")                       # 4 points
    nb = make_submission(rel, sol, folder.parent / "tmp_bob" / "toy.ipynb", solve={"add"})        # 3 points
    with zipfile.ZipFile(folder / "bob.zip", "w") as zf:
        zf.write(nb, "bob/toy.ipynb")
    make_submission(rel, sol, folder / "carol_12345_toy-1.ipynb", solve={"square"})              # 1 point
    (folder / "dave").mkdir()
    (folder / "dave" / "toy.ipynb").write_text("not json")                                       # 0 points
    (folder / "eve.zip").write_bytes(b"corrupt")                                                # cannot grade
    (folder / "readme.txt").write_text("ignored")
    return folder


def test_discover(batch, toy):
    entries = discover(batch, list(toy.notebook_index()))
    assert [e.student for e in entries] == ["alice", "bob", "carol_12345", "dave", "eve"]


@pytest.fixture(scope="module")
def serial(batch, toy, tmp_path_factory):
    """The batch graded once with one worker: the reference the other runs are compared with."""
    out = tmp_path_factory.mktemp("serial")
    logs = []
    return grade_batch(toy, batch, out, workers=1, feedback=False, log=logs.append), out


def test_parallel_equals_serial_and_resume(batch, toy, serial, tmp_path):
    r1, serial_out = serial
    logs2 = []
    r2 = grade_batch(toy, batch, tmp_path / "parallel", workers=2, feedback=False, log=logs2.append)
    assert [(s, score) for s, score, _ in r1] == [(s, score) for s, score, _ in r2]
    assert dict((s, score) for s, score, _ in r1) == {"alice": 4, "bob": 3, "carol_12345": 1, "dave": 0, "eve": None}
    csv1 = (serial_out / "grades.csv").read_bytes()
    assert csv1 == (tmp_path / "parallel" / "grades.csv").read_bytes()
    lines = csv1.decode().splitlines()
    assert lines[0].startswith("student,score,max_score,toy: test_add") and len(lines) == 5   # eve has no row
    assert "zip" in (serial_out / "eve" / "error.txt").read_text()

    # resume (on a copy of the serial run): a run killed before bob finished, and carol resubmitted meanwhile
    resumed = tmp_path / "resumed"
    shutil.copytree(serial_out, resumed)
    shutil.rmtree(resumed / "bob")
    logs3 = []
    r3 = grade_batch(toy, batch, resumed, workers=1, feedback=False, log=logs3.append)
    assert logs3[0].startswith("5 submissions: 3 already graded, 2 to grade")   # bob, and eve (never finished)
    assert dict((s, sc) for s, sc, _ in r3) == dict((s, sc) for s, sc, _ in r1)
    assert (resumed / "grades.csv").read_bytes() == csv1


def test_dask_cluster_gives_the_same_grades(batch, toy, serial, tmp_path):
    """A real Dask distributed cluster on loopback: a scheduler and two worker processes."""
    from distributed import LocalCluster

    _, serial_out = serial
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        r = grade_batch(toy, batch, tmp_path / "dask", feedback=False, log=lambda *_: None,
                        scheduler=cluster.scheduler_address)
    assert dict((s, sc) for s, sc, _ in r) == {"alice": 4, "bob": 3, "carol_12345": 1, "dave": 0, "eve": None}
    assert (tmp_path / "dask" / "grades.csv").read_bytes() == (serial_out / "grades.csv").read_bytes()
