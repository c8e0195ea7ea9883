"""Grading notebooks whose cells lost (or damaged) their nbgrader metadata: the student's functions found by name
(rnngrade.by_name). Unit tests on hand-made cells and on the toy course, then the real notebook 01, graded as a
small parallel batch: an honest notebook without metadata (with it, it earns full marks: the "honest" student of
tests/test_hostile_corpus.py), the stub without metadata, a notebook that mixes copied cells, moved tests, cells
without metadata and a wrong answer, and one with damaged metadata."""
import copy
import json
from pathlib import Path

import nbformat
import pytest

from rnngrade.batch import grade_batch
from rnngrade.by_name import defined_names, read_names, repair
from rnngrade.course import Course
from rnngrade.grading import grade_submission
from submissions import make_submission, make_toy_course, solution_sources

ROOT = Path(__file__).resolve().parents[1]
NB01 = ("01_vanilla_rnn", "vanilla_rnn")


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _strip(nb, ids=None):
    """Remove the nbgrader metadata of the cells with these grade ids (all cells when ids is None)."""
    for cell in nb.cells:
        if ids is None or _gid(cell) in ids:
            cell.metadata.pop("nbgrader", None)
    return nb


def _code(cell):
    return nbformat.v4.new_code_cell(cell if isinstance(cell, str) else cell.source)


# -- names -----------------------------------------------------------------------------------------------------
def test_defined_names_reads_top_level_definitions():
    src = ("%matplotlib inline\nimport numpy as np, os.path\nfrom math import sqrt as root\n"
           "def f(x):\n    inner = 1\n    return x\nclass Model:\n    pass\n"
           "a, (b, *c) = 1, (2, 3)\nd: int = 4\ntry:\n    import torch\nexcept ImportError:\n    torch = None\n"
           "for i in range(2):\n    e = i\n")
    assert defined_names(src) == ["np", "os", "root", "f", "Model", "a", "b", "c", "d", "torch", "i", "e"]


def test_defined_names_of_a_cell_with_a_syntax_error_come_from_its_lines():
    src = "def rnn_forward(x, h0)\n    return x\n\nclass Cell:\n    pass\nscale = 2\n    nested = 3\n"
    assert defined_names(src) == ["rnn_forward", "Cell", "scale"]


def test_read_names_are_the_globals_a_cell_needs():
    src = ("import math\ndef f(a):\n    b = helper(a) + math.pi + sum(q for q in range(3))\n    return np.sum(b)\n"
           "class C:\n    w = K\n    def m(self):\n        return f(self) + g(self)\nv = f(1) + TABLE\n")
    assert read_names(src) == {"helper", "np", "K", "g", "TABLE"}
    assert read_names("def broken(:\n") == set()


# -- the toy course --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_course(tmp_path_factory.mktemp("toycourse"))


def _toy_nbs(course):
    rel = nbformat.read(str(course.release_dir / "00_toy" / "toy.ipynb"), as_version=4)
    src = nbformat.read(str(course.solutions / "00_toy" / "toy.ipynb"), as_version=4)
    return rel, src


def _honest_toy(course, tmp_path):
    path = make_submission(course.release_dir / "00_toy" / "toy.ipynb", course.solutions / "00_toy" / "toy.ipynb",
                           tmp_path / "toy.ipynb", answers={"q_commutative": "Because a + b counts the same things."})
    return nbformat.read(str(path), as_version=4)


def _by_id(nb):
    return {_gid(c): c for c in nb.cells if _gid(c)}


def test_a_notebook_with_its_metadata_is_left_alone(toy, tmp_path):
    rel, src = _toy_nbs(toy)
    nb = _honest_toy(toy, tmp_path)
    out, notes = repair(nb, src, rel)
    assert notes == [] and out == nb


def test_the_last_definition_wins_helpers_run_first_and_scratch_is_left_out(toy):
    rel, src = _toy_nbs(toy)
    student = nbformat.v4.new_notebook(cells=[
        _code("import numpy as np"),
        _code("def square(x):\n    return x + x\n"),                     # a first try ...
        _code("def _twice(v):\n    return v * TIMES\n"),                # a helper, which needs a constant
        _code("TIMES = 2\nprint('defining TIMES')"),
        _code("def add(a, b):\n    return _twice(a + b) / 2\n"),
        _code("raise SystemExit('scratch work')"),
        _code("def square(x):\n    return x * x\n"),                     # ... and the right one, later
        nbformat.v4.new_markdown_cell("Why is addition commutative?"),
        nbformat.v4.new_markdown_cell("Counting a then b is counting b then a."),
    ])
    out, notes = repair(student, src, rel)
    ids, want = [_gid(c) for c in out.cells], [_gid(c) for c in rel.cells]
    k = want.index("add")
    assert ids == want[:k] + [None, None] + want[k:], ids
    cells = out.cells
    # the helpers, in the student's order, just before the exercise that needs them
    assert [c.source for c in cells[k:k + 2]] == ["def _twice(v):\n    return v * TIMES\n",
                                             "TIMES = 2\nprint('defining TIMES')"]
    got = _by_id(out)
    assert got["add"].source.startswith("def add(a, b):\n    return _twice")
    assert got["square"].source == "def square(x):\n    return x * x\n"
    assert got["q_commutative"].source == "Counting a then b is counting b then a."
    assert got["test_square"].source == _by_id(rel)["test_square"].source      # the course's own tests
    assert not any("scratch" in c.source or "x + x" in c.source for c in cells)
    assert any("no grading metadata" in n and "found by name (add, square)" in n for n in notes), notes
    assert any("2 cell(s) of yours that your functions use" in n for n in notes), notes


def test_one_cell_defining_two_exercises_goes_to_the_first(toy):
    rel, src = _toy_nbs(toy)
    both = "def add(a, b):\n    return a + b\n\ndef square(x):\n    return x * x\n"
    out, notes = repair(nbformat.v4.new_notebook(cells=[_code(both)]), src, rel)
    got = _by_id(out)
    assert got["add"].source == both
    assert "def square" not in got["square"].source and "raise NotImplementedError" not in got["square"].source
    assert any("written answer(s) could not be found" in n for n in notes), notes


def test_an_exercise_not_found_keeps_its_stub(toy):
    rel, src = _toy_nbs(toy)
    out, notes = repair(nbformat.v4.new_notebook(cells=[_code("def add(a, b):\n    return a + b\n")]), src, rel)
    assert _by_id(out)["square"].source == _by_id(rel)["square"].source
    assert any("not found: square (their tests score 0)" in n for n in notes), notes


def test_damaged_metadata_is_mended_or_removed(toy, tmp_path):
    rel, src = _toy_nbs(toy)
    nb = _honest_toy(toy, tmp_path)
    at = _by_id(nb)
    at["test_add"].metadata["nbgrader"] = {"grade_id": "test_add"}              # keys missing
    at["test_square"].metadata["nbgrader"]["solution"] = True                 # a test posing as an exercise
    at["intro"].metadata["nbgrader"] = "junk"                                 # not a dict
    out, notes = repair(nb, src, rel)
    got, want = _by_id(out), _by_id(rel)
    assert got["test_add"].metadata["nbgrader"] == want["test_add"].metadata["nbgrader"]
    assert got["test_square"].metadata["nbgrader"] == want["test_square"].metadata["nbgrader"]
    assert "intro" not in got and len(out.cells) == len(nb.cells)            # every exercise is there: no rebuild
    assert any("damaged grading metadata (test_add, test_square)" in n for n in notes), notes
    assert any("grading metadata this notebook does not have (no grade id)" in n for n in notes), notes


def test_toy_without_metadata_earns_what_its_code_earns(toy, tmp_path):
    honest = _strip(_honest_toy(toy, tmp_path / "a"))
    (tmp_path / "honest").mkdir()
    nbformat.write(honest, str(tmp_path / "honest" / "toy.ipynb"))
    r = grade_submission(toy, tmp_path / "honest", "ann", feedback=False)
    assert {t.grade_id: t.score for t in r.auto_tests} == {"test_add": 1, "test_add_hidden": 2, "test_square": 1}
    assert r.manual_tests[0].answer == "Because a + b counts the same things."
    assert any("no grading metadata" in n for n in r.notes), r.notes
    stub = _strip(nbformat.read(str(toy.release_dir / "00_toy" / "toy.ipynb"), as_version=4))
    (tmp_path / "stub").mkdir()
    nbformat.write(stub, str(tmp_path / "stub" / "toy.ipynb"))
    r = grade_submission(toy, tmp_path / "stub", "bob", feedback=False)
    assert r.score == 0 and r.max_score == 4


# -- notebook 01 ------------------------------------------------------------------------------------------------
WRONG_LOSS = "def temporal_softmax_loss(x, y, mask):\n    return 0.0, np.zeros_like(x)   # wrong\n"
LOSS_TESTS = ["test_temporal_softmax_loss", "test_temporal_softmax_loss_hidden"]


def _nb01(kind):
    base = ROOT / ("solutions" if kind == "solution" else "notebooks")
    return base / NB01[0] / f"{NB01[1]}.ipynb"


def _write(nb, folder: Path) -> None:
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / f"{NB01[1]}.ipynb"))


def _mixed(tmp: Path):
    """Copied cells, a moved test, cells without metadata, a helper and an import in cells of their own, scratch
    work, and one wrong answer (temporal_softmax_loss): everything else is the instructor's code."""
    path = make_submission(_nb01("release"), _nb01("solution"), tmp / "mixed.ipynb",
                           answers={"temporal_softmax_loss": WRONG_LOSS})
    nb = nbformat.read(str(path), as_version=4)
    sols = solution_sources(_nb01("solution"))
    cells, at = nb.cells, lambda gid: next(i for i, c in enumerate(nb.cells) if _gid(c) == gid)
    # a copied exercise cell (same grade id), first a wrong try, then the right code
    first_try = copy.deepcopy(cells[at("rnn_step_forward")])
    first_try.source, first_try.id = "def rnn_step_forward(x, prev_h, Wx, Wh, b):\n    return prev_h, None\n", "try1"
    cells.insert(at("rnn_step_forward"), first_try)
    # a test dragged above the code it tests
    cells.insert(0, cells.pop(at("test_rnn_step_backward")))
    # rnn_forward rewritten on a helper in a cell of its own, which needs an import of its own
    cells[at("rnn_forward")].source = (
        "def rnn_forward(x, h0, Wx, Wh, b):\n    return _unroll(x, h0, Wx, Wh, b)\n")
    helper = sols["rnn_forward"].replace("def rnn_forward(", "def _unroll(")
    cells.insert(at("rnn_forward"), _code("import numpy as numeric_python\nnumeric_python.zeros(1)"))
    cells.insert(at("rnn_forward"), _code(helper + "\n_unused = numeric_python.zeros(1)\n"))
    # scratch work that would kill the kernel if it ran
    cells.insert(at("rnn_backward"), _code("import os\nos._exit(1)  # scratch"))
    # and the metadata of these cells lost
    _strip(nb, {"rnn_forward", "rnn_backward", "word_embedding_forward", "temporal_softmax_loss", "setup",
                "test_rnn_forward"})
    return nb


def _damaged(tmp: Path):
    path = make_submission(_nb01("release"), _nb01("solution"), tmp / "damaged.ipynb")
    nb = nbformat.read(str(path), as_version=4)
    got = _by_id(nb)
    got["rnn_step_forward"].metadata["nbgrader"]["grade_id"] = "rnn_step_forward_v2"   # unknown here
    got["test_rnn_forward"].metadata["nbgrader"] = {"grade_id": "test_rnn_forward", "grade": True}
    got["setup"].metadata["nbgrader"] = "junk"
    return nb


@pytest.fixture(scope="module")
def nb01_graded(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("RNNGRADE_CELL_TIMEOUT", "60")
    folder = tmp_path_factory.mktemp("subs")
    honest = nbformat.read(str(make_submission(_nb01("release"), _nb01("solution"),
                                               folder / "src" / "honest.ipynb")), as_version=4)
    _write(_strip(copy.deepcopy(honest)), folder / "batch" / "honest_stripped")
    _write(_strip(nbformat.read(str(_nb01("release")), as_version=4)), folder / "batch" / "stub_stripped")
    _write(_mixed(folder / "src"), folder / "batch" / "mixed")
    _write(_damaged(folder / "src"), folder / "batch" / "damaged")
    out = tmp_path_factory.mktemp("graded")
    try:
        summary = grade_batch(Course(ROOT), folder / "batch", out, workers=2, feedback=False, log=lambda *_: None,
                              assignments=[NB01[0]])
    finally:
        mp.undo()
    results = {s: json.loads((out / s / "results.json").read_text()) for s, _, _ in summary}
    return summary, results


def _lost(result):
    tests = [t for t in result["tests"] if t["name"].startswith(f"{NB01[1]}: ")]
    assert len(tests) == 18
    return sorted(t["name"].split(": ", 1)[1] for t in tests if t["score"] < t["max_score"])


def test_nb01_honest_without_metadata_earns_what_it_earns_with_it(nb01_graded):
    summary, results = nb01_graded
    assert dict((s, score) for s, score, _ in summary)["honest_stripped"] == 33, summary   # full marks
    assert _lost(results["honest_stripped"]) == []
    assert "This notebook has no grading metadata" in results["honest_stripped"]["output"]
    assert "found by name" in results["honest_stripped"]["output"]


def test_nb01_stub_without_metadata_earns_nothing(nb01_graded):
    summary, results = nb01_graded
    assert dict((s, score) for s, score, _ in summary)["stub_stripped"] == 0, summary
    assert len(_lost(results["stub_stripped"])) == 18


def test_nb01_mixed_notebook_earns_what_its_code_earns(nb01_graded):
    _, results = nb01_graded
    r = results["mixed"]
    assert _lost(r) == LOSS_TESTS, r["output"]
    assert r["score"] == 28
    assert "4 exercise cell(s) had no grading metadata" in r["output"], r["output"]
    assert "2 cell(s) of yours that your functions use were run before them" in r["output"], r["output"]


def test_nb01_damaged_metadata_does_not_stop_the_grader(nb01_graded):
    _, results = nb01_graded
    r = results["damaged"]
    assert r["score"] == 33 and _lost(r) == [], r["output"]
    assert "damaged grading metadata (test_rnn_forward)" in r["output"], r["output"]
    assert "1 exercise cell(s) had no grading metadata (rnn_step_forward)" in r["output"], r["output"]
