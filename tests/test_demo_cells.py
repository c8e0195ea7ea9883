"""Demonstration cells (rnngrade.demo_cells): the source notebook's tagged cells are not run when grading; a
student's own cells always run, whatever tags the submission carries."""
import copy
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from rnngrade.cli import check_course
from rnngrade.course import Course
from rnngrade.demo_cells import DEMO_TAG, SKIPPED_TEXT, DemoCells
from rnngrade.grading import grade_submission
from rnngrade.release import build_release
from submissions import make_submission

TOY = Path(__file__).parent / "fixtures" / "toycourse"
KILL = "import os\nos._exit(3)   # a demonstration: if the grader ran it, the kernel would die\n"


def _code(source, gid=None, locked=False, tags=None, **flags):
    cell = nbformat.v4.new_code_cell(source)
    if gid is not None:
        cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": locked, "grade_id": gid,
                                     "schema_version": 3, "task": False, **flags}
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def test_which_cells_are_skipped():
    source = nbformat.v4.new_notebook(cells=[
        _code("import numpy as np", "setup", locked=True),
        _code("train()", "demo_train", locked=True, tags=[DEMO_TAG]),
        _code("plot(history)", tags=[DEMO_TAG]),                      # an unlocked experiment cell
        _code("plt.show()", tags=[DEMO_TAG]),                         # ... whose code is also an untagged cell's
        _code("plt.show()"),
        _code("def f(x):\n    return x", "f", solution=True, tags=[DEMO_TAG]),           # never: a solution
        _code("assert f(1) == 1", "test_f", locked=True, grade=True, points=1, tags=[DEMO_TAG]),   # never: a test
    ])
    demo = DemoCells(source)
    assert len(demo) == 2
    cells = copy.deepcopy(source.cells)
    assert [demo.skips(c) for c in cells] == [False, True, True, False, False, False, False]
    # what the submission says does not count: its tags, or a demo's id on other code
    own = _code("plot(history)  # my change")
    tagged_own = _code("x = 1", tags=[DEMO_TAG])
    tagged_setup = _code("import numpy as np", "setup", locked=True, tags=[DEMO_TAG])
    fake_id = _code("my_training()", "demo_train", locked=True)
    unlocked_id = _code("train()", "demo_train", locked=False)
    assert not any(demo.skips(c) for c in (own, tagged_own, tagged_setup, fake_id, unlocked_id))
    assert not DemoCells(None).skips(cells[1])
    skipped = demo.skip(copy.deepcopy(cells[1]))
    assert skipped.outputs[0]["text"] == SKIPPED_TEXT and skipped.execution_count is None


def _toy_with_demos(root: Path, judge: str) -> Course:
    """The toy course with two demonstration cells that kill the kernel if run: a locked one after the set-up
    cell, an unlocked one after `square`."""
    shutil.copytree(TOY / "solutions", root / "solutions")
    path = root / "solutions" / "00_toy" / "toy.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    if judge == "separate":
        nb.metadata["rnngrade"] = {"judge": "separate"}
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    nb.cells.insert(ids.index("square") + 1, _code(KILL + "# unlocked", tags=[DEMO_TAG]))
    nb.cells.insert(ids.index("setup") + 1, _code(KILL, "demo_locked", locked=True, tags=[DEMO_TAG]))
    nbformat.write(nb, str(path))
    course = Course(root)
    build_release(course, course.release_dir)
    return course


@pytest.mark.parametrize("judge", ["kernel", "separate"])
def test_demo_cells_are_skipped_and_a_students_own_tagged_cells_run(tmp_path, judge):
    """The demonstration cells would kill the kernel: full marks prove they were skipped (in the student's kernel
    and, for a separately judged notebook, in the judge). The student tagged their own cells and the set-up cell
    `rnngrade-demo`: `square` needs the helper the student's tagged cell defines, and the hidden test of `add`
    needs the set-up cell's numpy, so full marks also prove that those cells ran."""
    course = _toy_with_demos(tmp_path / "course", judge)
    rel, sol = course.release_dir / "00_toy" / "toy.ipynb", course.solutions / "00_toy" / "toy.ipynb"
    out = make_submission(rel, sol, tmp_path / "sub" / "toy.ipynb",
                          answers={"square": "def square(x):\n    return _times(x, x)\n"})
    nb = json.loads(out.read_text())
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in ("square", "setup"):
            cell["metadata"]["tags"] = [DEMO_TAG]
    at = next(i for i, c in enumerate(nb["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id") == "square")
    nb["cells"].insert(at, {"cell_type": "code", "id": "own-helper", "metadata": {"tags": [DEMO_TAG]},
                            "execution_count": None,
                            "outputs": [], "source": "def _times(a, b):\n    return a * b\n"})
    out.write_text(json.dumps(nb))
    r = grade_submission(course, out.parent, "demo", feedback=False)
    assert {t.grade_id: t.score for t in r.auto_tests} == {"test_add": 1, "test_add_hidden": 2, "test_square": 1}, \
        {t.grade_id: t.output for t in r.auto_tests}
    graded = nbformat.reads(r.autograded["toy"], as_version=4)
    skipped = [c for c in graded.cells if c.cell_type == "code"
               and any(o.get("text") == SKIPPED_TEXT for o in c.get("outputs", []))]
    assert len(skipped) == 2 and all("os._exit" in c.source for c in skipped)
    if judge == "kernel":       # rnngrade check: the solutions earn full marks, the release 0, with demos skipped
        assert check_course(course, verbose=False) == []
