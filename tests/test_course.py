"""The real course: the release is current, solutions earn full marks, the release earns zero, and partial work earns
partial credit. (Every solution notebook running end to end: tests/test_solutions_run.py.)"""
import textwrap

from rnngrade.cli import check_course
from rnngrade.course import Course
from rnngrade.grading import grade_submission
from rnngrade.release import stale_release_files
from submissions import make_submission

COURSE = Course.here()


def test_release_is_up_to_date():
    stale = stale_release_files(COURSE)
    assert stale == [], f"notebooks/ is out of date, run `make release`: {stale}"


def test_solutions_score_full_marks_and_release_scores_zero():
    problems = check_course(COURSE, verbose=False)
    assert problems == [], "\n".join(problems)


# rnn_step_backward without the tanh derivative: forward passes are right, the backward pass is wrong.
WRONG_STEP_BACKWARD = textwrap.dedent('''
    def rnn_step_backward(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h                      # BUG: forgot tanh'(a) = 1 - next_h**2
        return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)
''')


def test_forward_right_backward_wrong_earns_exactly_the_forward_points(tmp_path):
    release = COURSE.release_dir / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
    solution = COURSE.solutions / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
    # The student's own (right) step forward defines the cache layout their (wrong) step backward reads, so the
    # test does not depend on the instructor's cache. rnn_forward/rnn_backward are the instructor's solutions.
    own_forward = textwrap.dedent('''
        def rnn_step_forward(x, prev_h, Wx, Wh, b):
            next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
            return next_h, (x, prev_h, Wx, Wh, next_h)
    ''')
    sub = make_submission(release, solution, tmp_path / "sub" / "vanilla_rnn.ipynb",
                          answers={"rnn_step_forward": own_forward, "rnn_step_backward": WRONG_STEP_BACKWARD})
    r = grade_submission(COURSE, sub.parent, "partial", feedback=False)
    nb01 = [t for t in r.auto_tests if t.notebook == "vanilla_rnn"]
    failed = {t.grade_id for t in nb01 if t.score < t.max_score}
    expected = {"test_rnn_step_backward", "test_rnn_step_backward_hidden", "test_rnn_backward",
                "test_rnn_backward_hidden"}
    assert failed == expected, {t.grade_id: t.output[-300:] for t in nb01 if t.grade_id in failed ^ expected}
    assert all(t.score == 0 for t in nb01 if t.grade_id in expected)
    passed = sum(t.max_score for t in nb01 if t.grade_id not in expected)
    assert sum(t.score for t in nb01) == passed > 0
    step = next(t for t in nb01 if t.grade_id == "test_rnn_step_backward")
    assert "tanh" in step.output.lower(), step.output   # the hint names the likely mistake
