"""A correct submission that prints a debug line to stderr at every call of its function: the score is unchanged
(the calls run in the student's kernel, not in the test cells) and what the grader keeps of the printout is capped."""
import shutil
from pathlib import Path

import nbformat

from rnngrade.course import MAX_OUTPUT_LINES, Course
from rnngrade.grading import grade_submission
from rnngrade.release import build_release
from submissions import make_submission

TOY = Path(__file__).parent / "fixtures" / "toycourse"
NOISY_SQUARE = ("import sys\n\ndef square(x):\n    for k in range(50):\n"
                "        print('debug: square called, line', k, file=sys.stderr)\n    return x * x\n")
OWN_LOOP = "for i in range(400):\n    square(i)\nprint('done')\n"      # 20,000 lines to stderr, in the student's cell


def test_debug_printing_to_stderr_costs_no_points_and_is_capped(tmp_path):
    shutil.copytree(TOY / "solutions", tmp_path / "course" / "solutions")
    path = tmp_path / "course" / "solutions" / "00_toy" / "toy.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata["rnngrade"] = {"judge": "separate"}            # as every notebook of the course
    nbformat.write(nb, str(path))
    course = Course(tmp_path / "course")
    build_release(course, course.release_dir)
    rel, sol = course.release_dir / "00_toy" / "toy.ipynb", course.solutions / "00_toy" / "toy.ipynb"
    sub = make_submission(rel, sol, tmp_path / "sub" / "toy.ipynb", answers={"square": NOISY_SQUARE + OWN_LOOP})
    r = grade_submission(course, sub.parent, "noisy", feedback=True)
    assert {t.grade_id: t.score for t in r.auto_tests} == {"test_add": 1, "test_add_hidden": 2, "test_square": 1}, \
        {t.grade_id: t.output for t in r.auto_tests}
    graded = nbformat.reads(r.autograded["toy"], as_version=4)
    square = next(c for c in graded.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "square")
    streams = [o for o in square.outputs if o.output_type == "stream"]
    assert streams and "debug: square called" in "".join(o.text for o in streams)      # kept, up to the cap
    assert len([o for o in streams if o.name == "stderr"]) == 1                          # one stream, not thousands
    assert sum(o.text.count("\n") + 1 for o in streams) <= MAX_OUTPUT_LINES + 1
    assert len(r.autograded["toy"]) < 100_000 and len(r.feedback["toy"]) < 500_000
