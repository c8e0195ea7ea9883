"""Nothing a student receives computes a graded answer (issue 13's leak test).

``tests/leak_screen.py`` tries every function and class that the release notebooks' non-solution cells and
``rnnlab`` expose, whose signature fits, in place of every graded function, and runs that function's visible and
hidden tests: none may pass. A planted leak (the reference answer of ``rnn_step_forward`` offered as a candidate)
proves the screen finds one, and grading a submission built on it with the real grader proves the screen agrees
with the grader.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnngrade.course import Course
from rnngrade.grading import grade_submission
from submissions import make_submission, solution_sources

ROOT = Path(__file__).resolve().parents[1]
SCREEN = ROOT / "tests" / "leak_screen.py"
PLANTED = "rnn_step_forward"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("leak-screen")          # cells may write files: not into the checkout
    env = {**os.environ, "RNNLAB_QUICK": "1", "MPLBACKEND": "Agg"}
    run = subprocess.run([sys.executable, str(SCREEN), "--plant", PLANTED], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def _leaks(entry):
    return [leak for leak in entry["leaks"] if not leak["candidate"].startswith("planted reference")]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_callable_students_receive_answers_a_graded_function(screened, assignment):
    functions = screened["assignments"][assignment]["functions"]
    assert functions, f"{assignment}: the screen found no graded function with tests"
    found = {name: _leaks(entry) for name, entry in functions.items() if _leaks(entry)}
    assert not found, f"{assignment}: callables students receive pass graded tests:\n" + json.dumps(found, indent=1)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_test_fails_a_stub(screened, assignment):
    functions = screened["assignments"][assignment]["functions"]
    passing = {name: entry["stub_passes"] for name, entry in functions.items() if entry["stub_passes"]}
    assert not passing, f"{assignment}: test cells pass with a stub that raises NotImplementedError: {passing}"


def test_the_screen_finds_a_planted_leak(screened):
    entry = screened["assignments"]["01_vanilla_rnn"]["functions"][PLANTED]
    planted = [leak for leak in entry["leaks"] if leak["candidate"].startswith("planted reference")]
    assert planted and set(planted[0]["passed"]) == {f"test_{PLANTED}", f"test_{PLANTED}_hidden"}, entry
    assert entry["candidates"] > 10, "the screen tried suspiciously few candidates"


def test_the_grader_awards_the_planted_leak_as_the_screen_says(tmp_path):
    """The cheat a student would build from a leak: the solution cell calls the leaked code. Graded for real."""
    course = Course.here()
    release = ROOT / "notebooks" / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
    solution = ROOT / "solutions" / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
    leaked = solution_sources(solution)[PLANTED].replace(f"def {PLANTED}(", "def _leaked_code(")
    cheat = leaked + f"\n\ndef {PLANTED}(*args, **kwargs):\n    return _leaked_code(*args, **kwargs)\n"
    make_submission(release, solution, tmp_path / "sub" / "vanilla_rnn.ipynb", solve=False,
                    answers={PLANTED: cheat})
    result = grade_submission(course, tmp_path / "sub", feedback=False)
    scores = {t.grade_id: t.score for t in result.auto_tests if t.notebook == "vanilla_rnn"}
    assert scores[f"test_{PLANTED}"] > 0 and scores[f"test_{PLANTED}_hidden"] > 0, scores
    assert sum(scores.values()) == scores[f"test_{PLANTED}"] + scores[f"test_{PLANTED}_hidden"], scores
