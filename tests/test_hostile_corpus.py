"""The hostile corpus (tests/hostile_corpus.py): broken and hostile submissions of the real notebook 01 and one
honest student, graded together in one parallel batch. Every submission must end with exactly the points its
honest code earns, the grader must finish, and the honest student must keep full marks."""
import json

import pytest

from hostile_corpus import write_corpus
from rnngrade import sandbox
from rnngrade.batch import grade_batch
from rnngrade.course import Course

COURSE = Course.here()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("RNNGRADE_CELL_TIMEOUT", "40")
    mp.setenv("RNNGRADE_CALL_TIMEOUT", "10")
    mp.setenv("RNNGRADE_MEMORY_MB", "2500")
    mp.setenv("RNNGRADE_MAX_PROCESSES", "64")
    folder = tmp_path_factory.mktemp("corpus")
    expected = write_corpus(folder, sandbox.available()[0])
    out = tmp_path_factory.mktemp("graded")
    try:
        summary = grade_batch(COURSE, folder, out, workers=2, feedback=False, log=lambda *_: None)
    finally:
        mp.undo()
    return expected, summary, out


def test_the_grader_finished_every_student(graded):
    expected, summary, _ = graded
    assert sorted(s for s, score, _ in summary) == sorted(expected)
    assert all(score is not None for _, score, _ in summary), summary


def test_every_student_gets_exactly_what_the_honest_code_earns(graded):
    expected, _, out = graded
    wrong = {}
    for student, lost in expected.items():
        tests = [t for t in json.loads((out / student / "results.json").read_text())["tests"]
                 if t["name"].startswith("vanilla_rnn: ")]
        assert len(tests) == 18, (student, len(tests))
        got = {t["name"].split(": ", 1)[1] for t in tests if t["score"] < t["max_score"]}
        partial = [t["name"] for t in tests if 0 < t["score"] < t["max_score"]]
        if got != set(lost) or partial:
            wrong[student] = {"lost": sorted(got), "expected": lost,
                              "outputs": {t["name"]: t["output"][-300:] for t in tests if t["score"] < t["max_score"]}}
    assert not wrong, json.dumps(wrong, indent=1)
