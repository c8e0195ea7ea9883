"""rnngrade on a tiny toy course whose right scores are known by construction."""
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from rnngrade.cli import check_course
from rnngrade.course import Course
from rnngrade.grading import grade_submission
from rnngrade.release import build_release, stale_release_files
from rnngrade.report import write_results
from rnngrade.submission import SubmissionError
from submissions import make_submission

TOY = Path(__file__).parent / "fixtures" / "toycourse"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toycourse")
    shutil.copytree(TOY / "solutions", root / "solutions")
    course = Course(root)
    build_release(course, course.release_dir)
    return course


def _nb(course, kind):
    base = course.solutions if kind == "solution" else course.release_dir
    return base / "00_toy" / "toy.ipynb"


def _scores(result):
    return {t.grade_id: t.score for t in result.auto_tests}


def test_check_solutions_full_release_zero(toy):
    assert check_course(toy, verbose=False) == []
    assert stale_release_files(toy) == []


def test_release_is_stale_after_a_solution_changes(toy, tmp_path):
    course = Course(tmp_path)
    shutil.copytree(toy.root / "solutions", course.solutions)
    shutil.copytree(toy.release_dir, course.release_dir)
    assert stale_release_files(course) == []
    nb = course.solutions / "00_toy" / "toy.ipynb"
    nb.write_text(nb.read_text().replace("add(1, 2) == 3", "add(2, 2) == 4"))
    assert stale_release_files(course) == ["00_toy/toy.ipynb"]


def test_partial_credit_and_manual_cells(toy, tmp_path):
    sub = make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "toy.ipynb", solve={"add"})
    r = grade_submission(toy, sub.parent, "bob")
    assert _scores(r) == {"test_add": 1, "test_add_hidden": 2, "test_square": 0}
    assert r.score == 3 and r.max_score == 4
    manual = [t for t in r.tests if t.manual]
    assert [t.grade_id for t in manual] == ["q_commutative"]
    square = next(t for t in r.tests if t.grade_id == "test_square")
    assert "NotImplementedError" in square.output


def test_wrong_answer_fails_hidden_test_with_message_but_no_code(toy, tmp_path):
    wrong = 'def add(a, b):\n    return int(a) + int(b)\n'   # passes the visible test, not the broadcast one
    sub = make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "s" / "toy.ipynb",
                          answers={"add": wrong})
    r = grade_submission(toy, sub.parent, "carol")
    assert _scores(r) == {"test_add": 1, "test_add_hidden": 0, "test_square": 1}
    hidden = next(t for t in r.tests if t.grade_id == "test_add_hidden")
    assert "TypeError" in hidden.output and "add(-5, 5)" not in hidden.output
    html = r.feedback["toy"]
    assert "add(-5, 5)" not in html and "hidden test code is not shown" in html
    assert "Automatic score: 2 / 4" in html


def test_deleted_and_edited_test_cells_are_restored(toy, tmp_path):
    wrong = 'def square(x):\n    return x + x\n'
    sub = make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "toy.ipynb",
                          answers={"square": wrong, "add": "def add(a, b):\n    return a - b\n"},
                          drop={"test_add"}, edit={"test_square": "assert True"})
    r = grade_submission(toy, sub.parent, "mallory")
    assert _scores(r) == {"test_add": 0, "test_add_hidden": 0, "test_square": 0}


def test_no_stale_scores_between_runs(toy, tmp_path):
    good = make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "a" / "toy.ipynb")
    assert grade_submission(toy, good.parent, "dave").score == 4
    empty = tmp_path / "b"
    empty.mkdir()
    r = grade_submission(toy, empty, "dave")
    assert r.score == 0 and any("No notebook" in n for n in r.notes)
    assert all(t.output == "Notebook not submitted." for t in r.auto_tests)


def test_unreadable_notebook_scores_zero_with_a_note(toy, tmp_path):
    (tmp_path / "toy.ipynb").write_text("{ this is not json")
    r = grade_submission(toy, tmp_path, "erin")
    assert r.score == 0 and r.max_score == 4
    assert any("could not be read" in n for n in r.notes)


def test_zip_with_nested_folders_and_extra_files(toy, tmp_path):
    nb = make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "nb" / "toy.ipynb")
    z = tmp_path / "frank.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(nb, "frank/work/00_toy/toy.ipynb")
        zf.writestr("frank/work/.ipynb_checkpoints/toy-checkpoint.ipynb", "{}")
        zf.writestr("frank/notes.ipynb", "{}")
        zf.writestr("../evil.txt", "outside")
    r = grade_submission(toy, z, "frank")
    assert r.score == 4
    assert any("notes.ipynb" in n for n in r.notes)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_results_json_and_grades_csv(toy, tmp_path):
    sub = make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "in" / "toy.ipynb", solve={"add"})
    r = grade_submission(toy, sub.parent, "gina")
    data = write_results(r, tmp_path / "out")
    on_disk = json.loads((tmp_path / "out" / "results.json").read_text())
    assert on_disk == data and on_disk["score"] == 3
    names = [t["name"] for t in on_disk["tests"]]
    assert names == ["toy: test_add", "toy: test_add_hidden", "toy: test_square"]
    for t in on_disk["tests"]:
        assert set(t) == {"name", "score", "max_score", "output", "visibility"}
    assert "q_commutative" in on_disk["output"]
    rows = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    # then the written question (empty: not graded by hand yet), the hand-graded points, and the totals over all
    # 5 points (4 automatic + 1 written)
    assert rows[0] == ("student,score,max_score,toy: test_add,toy: test_add_hidden,toy: test_square,"
                       "toy: q_commutative,written,total,max_total")
    assert rows[1] == "gina,3,4,1,2,0,,0,3,5"
    assert (tmp_path / "out" / "feedback" / "toy.html").exists()


def _cli(toy, *args):
    env = {**__import__("os").environ, "RNNGRADE_ROOT": str(toy.root)}
    return subprocess.run([sys.executable, "-m", "rnngrade", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_cli_exit_codes(toy, tmp_path):
    assert _cli(toy, "grade", str(tmp_path / "nope"), "--out", str(tmp_path / "o")).returncode == 2
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK not really a zip")
    p = _cli(toy, "grade", str(bad_zip), "--out", str(tmp_path / "o"))
    assert p.returncode == 2 and "not a readable zip" in p.stderr
    txt = tmp_path / "essay.txt"
    txt.write_text("hello")
    assert _cli(toy, "grade", str(txt), "--out", str(tmp_path / "o")).returncode == 2
    # a release with nothing done still grades (exit 0), whatever the score
    p = _cli(toy, "grade", str(toy.release_dir), "--student", "hank", "--out", str(tmp_path / "o"))
    assert p.returncode == 0, p.stdout + p.stderr
    from rnngrade import sandbox
    assert ("WITHOUT the sandbox" in p.stderr) == (not sandbox.available()[0])    # the instructor is told
    assert json.loads((tmp_path / "o" / "results.json").read_text())["score"] == 0
    assert _cli(toy, "release", "--check").returncode == 0


def test_renamed_notebook_is_recognised_by_its_cells(toy, tmp_path):
    """'toy (1).ipynb' (a browser's second download) holds the toy notebook's cells: it is graded as toy.ipynb, with
    a note; an unrelated notebook beside it is still ignored."""
    make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "gina" / "toy (1).ipynb")
    (tmp_path / "gina" / "scratch.ipynb").write_text(json.dumps(
        {"cells": [{"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "my_own"}}, "source": "",
                    "outputs": [], "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    r = grade_submission(toy, tmp_path / "gina", "gina", feedback=False)
    assert r.score == 4
    assert any("Graded toy (1).ipynb as toy.ipynb" in n for n in r.notes), r.notes
    assert any("Ignored scratch.ipynb" in n for n in r.notes), r.notes


def test_file_with_the_right_name_wins_over_a_renamed_copy(toy, tmp_path):
    make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "hal" / "toy.ipynb", solve={"square"})
    make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "hal" / "toy-Copy1.ipynb")
    r = grade_submission(toy, tmp_path / "hal", "hal", feedback=False)
    assert r.score == 1                                  # toy.ipynb (square only), not the complete copy
    assert any("Ignored toy-Copy1.ipynb" in n for n in r.notes), r.notes


def test_zip_bomb_is_refused_without_unpacking_it(toy, tmp_path):
    """A zip of 300 MiB of zeros (about 300 KiB on disk) is refused with a clear error, and nothing is written."""
    bomb = tmp_path / "ivan.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("toy.ipynb", "w", force_zip64=True) as member:
            chunk = b"\0" * 2**20
            for _ in range(300):
                member.write(chunk)
    assert bomb.stat().st_size < 2 * 2**20
    before = set(Path(tempfile.gettempdir()).glob("rnngrade-zip-*"))
    with pytest.raises(SubmissionError, match="over the 200 MiB limit"):
        grade_submission(toy, bomb, "ivan", feedback=False)
    assert set(Path(tempfile.gettempdir()).glob("rnngrade-zip-*")) == before       # its folder was removed



def _cells_by_id(path):
    nb = json.loads(Path(path).read_text())
    return nb, {c["metadata"].get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(nb["cells"])}


def test_copied_and_moved_cells_cost_nothing(toy, tmp_path):
    """Jupyter keeps a copied cell's metadata: a student who copies the `square` cell to try something (first copy
    wrong, second right) repeats its grade id, which nbgrader refuses for the whole notebook. And a test cell
    dragged above its code would fail with a NameError. Both are repaired against the source, with notes."""
    path = make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "kim" / "toy.ipynb")
    nb, at = _cells_by_id(path)
    wrong = json.loads(json.dumps(nb["cells"][at["square"]]))
    wrong["source"], wrong["id"] = "def square(x):\n    return x + x\n", "square-first-try"
    test_add = nb["cells"].pop(at["test_add"])
    cells = nb["cells"]
    i = next(k for k, c in enumerate(cells) if c["metadata"].get("nbgrader", {}).get("grade_id") == "square")
    cells.insert(i, wrong)                                   # the wrong first try, then the right copy
    cells.insert(0, test_add)                                # the visible test of add, above everything
    path.write_text(json.dumps(nb))
    r = grade_submission(toy, path.parent, "kim", feedback=False)
    assert _scores(r) == {"test_add": 1, "test_add_hidden": 2, "test_square": 1}, r.notes
    assert any("copied cell(s) with a repeated id (square)" in n for n in r.notes), r.notes
    assert any("above the code they test (test_add)" in n for n in r.notes), r.notes


def test_a_copy_of_a_test_cell_edited_to_pass_gains_nothing(toy, tmp_path):
    path = make_submission(_nb(toy, "release"), _nb(toy, "solution"), tmp_path / "lee" / "toy.ipynb",
                           answers={"square": "def square(x):\n    return x + x\n"})
    nb, at = _cells_by_id(path)
    fake = json.loads(json.dumps(nb["cells"][at["test_square"]]))
    fake["source"], fake["id"] = "assert True\n", "test-square-copy"
    nb["cells"].insert(at["test_square"], fake)             # the fake copy first, the real test after it
    path.write_text(json.dumps(nb))
    r = grade_submission(toy, path.parent, "lee", feedback=False)
    assert _scores(r) == {"test_add": 1, "test_add_hidden": 2, "test_square": 0}, r.notes
    assert any("copied test cell(s) removed (test_square)" in n for n in r.notes), r.notes
