"""Notebook 07 (code LM, interpretable cells): the solution passes its tests, and plausible wrong answers of each
graded function fail both of that function's tests (visible and hidden) with a message that names the cause.

The test cells run in this process after the notebook's set-up and test-helper cells (fast); one wrong answer is
also graded with the real grader, which must take exactly that function's points."""
import nbformat
import numpy as np
import pytest

from rnngrade.course import Course
from rnngrade.grading import grade_submission
from submissions import make_submission, solution_sources

COURSE = Course.here()
SOLUTION = COURSE.solutions / "07_code_lm" / "code_lm.ipynb"
RELEASE = COURSE.release_dir / "07_code_lm" / "code_lm.ipynb"

NOT_CENTRED = '''
def unit_correlations(acts, features):
    a = np.asarray(acts, dtype=np.float64)
    f = np.asarray(features, dtype=np.float64)
    denom = np.outer(np.linalg.norm(a, axis=0), np.linalg.norm(f, axis=0))
    return np.divide(a.T @ f, denom, out=np.zeros(denom.shape), where=denom > 0)
'''
MIXED_COUNTS = '''
def unit_correlations(acts, features):
    a = np.asarray(acts, dtype=np.float64)
    f = np.asarray(features, dtype=np.float64)
    cov = (a - a.mean(0)).T @ (f - f.mean(0)) / (len(a) - 1)      # sample covariance ...
    denom = np.outer(a.std(0), f.std(0))                         # ... over population spreads
    return np.divide(cov, denom, out=np.zeros(denom.shape), where=denom > 0)
'''
ONE_PASS = '''
def unit_correlations(acts, features):
    a = np.asarray(acts, dtype=np.float64)
    f = np.asarray(features, dtype=np.float64)
    cov = a.T @ f / len(a) - np.outer(a.mean(0), f.mean(0))
    var_a = np.maximum((a * a).mean(0) - a.mean(0) ** 2, 0.0)
    var_f = np.maximum((f * f).mean(0) - f.mean(0) ** 2, 0.0)
    denom = np.sqrt(np.outer(var_a, var_f))
    return np.divide(cov, denom, out=np.zeros(denom.shape), where=denom > 1e-300)
'''
TRANSPOSED = '''
def unit_correlations(acts, features):
    a = np.asarray(acts, dtype=np.float64)
    f = np.asarray(features, dtype=np.float64)
    a, f = a - a.mean(0), f - f.mean(0)
    denom = np.outer(np.linalg.norm(f, axis=0), np.linalg.norm(a, axis=0))
    return np.divide(f.T @ a, denom, out=np.zeros(denom.shape), where=denom > 0)
'''
SIGNED = '''
def best_units(R):
    R = np.asarray(R)
    units = np.argmax(R, axis=0)
    return units, R[units, np.arange(R.shape[1])]
'''
WRONG_AXIS = '''
def best_units(R):
    R = np.asarray(R)
    units = np.argmax(np.abs(R), axis=1)
    return units, R[np.arange(R.shape[0]), units]
'''
ABSOLUTE = '''
def best_units(R):
    R = np.asarray(R)
    units = np.argmax(np.abs(R), axis=0)
    return units, np.abs(R[units, np.arange(R.shape[1])])
'''
WRONG = {
    "unit_correlations": {"not centred": (NOT_CENTRED, "subtract each column's mean"),
                          "T-1 and T mixed": (MIXED_COUNTS, "off by the same factor"),
                          "one-pass formula": (ONE_PASS, "means of 1e6"),
                          "transposed": (TRANSPOSED, "transposed")},
    "best_units": {"signed argmax": (SIGNED, "compare sizes, |r|"),
                   "wrong axis": (WRONG_AXIS, "one unit per feature"),
                   "absolute r": (ABSOLUTE, "with its sign")},
}


def _cells():
    nb = nbformat.read(str(SOLUTION), as_version=4)
    return [(c.metadata.get("nbgrader", {}), c.source) for c in nb.cells if c.cell_type == "code"]


@pytest.fixture(scope="module")
def namespace():
    ns = {}
    for meta, src in _cells():
        if meta.get("grade_id") in ("setup", "test_helpers"):
            exec("\n".join(ln for ln in src.splitlines() if not ln.startswith("%")), ns)
    return ns


def _run_tests(ns, name, answer_src):
    """Exec the answer, then each of the function's test cells: {grade_id: None or the error message}."""
    exec(answer_src, ns)
    out = {}
    for meta, src in _cells():
        if meta.get("grade_id") in (f"test_{name}", f"test_{name}_hidden"):
            try:
                exec(src, ns)
                out[meta["grade_id"]] = None
            except AssertionError as exc:
                out[meta["grade_id"]] = str(exc)
    return out


@pytest.mark.parametrize("name", sorted(WRONG))
def test_solution_passes(namespace, name):
    result = _run_tests(namespace, name, solution_sources(SOLUTION)[name])
    assert len(result) == 2 and all(v is None for v in result.values()), result


@pytest.mark.parametrize("name,label", [(n, w) for n in sorted(WRONG) for w in sorted(WRONG[n])])
def test_wrong_answer_fails_both_tests_with_a_teaching_message(namespace, name, label):
    src, words = WRONG[name][label]
    result = _run_tests(namespace, name, src)
    assert len(result) == 2 and all(result.values()), f"{label}: a test passed: {result}"
    visible = result[f"test_{name}"]
    assert words in visible, f"{label}: the visible message does not name the cause: {visible}"


def test_the_one_pass_formula_is_wrong_only_at_large_means():
    """The mutant is a fair one: right for ordinary data, wrong only where the stated accuracy rule bites."""
    wrong, right = {"np": np}, {"np": np}
    exec(ONE_PASS, wrong)
    exec(solution_sources(SOLUTION)["unit_correlations"], right)
    rng = np.random.default_rng(0)
    a, f = rng.standard_normal((40, 3)), rng.standard_normal((40, 2))
    assert np.allclose(wrong["unit_correlations"](a, f), right["unit_correlations"](a, f), atol=1e-12)
    assert np.allclose(right["unit_correlations"](a + 1e6, f + 1e6), right["unit_correlations"](a, f), atol=1e-8)
    assert not np.allclose(wrong["unit_correlations"](a + 1e6, f + 1e6), right["unit_correlations"](a, f),
                           atol=1e-8)


@pytest.mark.skipif(not RELEASE.exists(), reason="run `make release` first")
def test_grader_takes_exactly_the_points_of_the_wrong_function(tmp_path):
    sub = make_submission(RELEASE, SOLUTION, tmp_path / "sub" / "code_lm.ipynb",
                          answers={"unit_correlations": NOT_CENTRED})
    r = grade_submission(COURSE, sub.parent, "notcentred", feedback=False)
    scores = {t.grade_id: (t.score, t.max_score) for t in r.auto_tests if t.notebook == "code_lm"}
    assert scores["test_unit_correlations"][0] == 0 and scores["test_unit_correlations_hidden"][0] == 0, scores
    assert scores["test_best_units"] == (1, 1) and scores["test_best_units_hidden"] == (2, 2), scores
