"""nbgrader configuration for instructors who drive nbgrader directly (formgrader, their own exchange).

Run nbgrader from this folder, e.g. `cd autograder && ../.venv/bin/nbgrader generate_assignment 01_vanilla_rnn`.
It uses the same settings as `rnngrade` (timeouts, restored cells, stubs), reads solutions/ as nbgrader's
"source" folder, writes the student release to notebooks/, and keeps submissions, grades and the gradebook
under grading/ (git-ignored).
"""
import os

from rnngrade.course import shared_config

c = get_config()  # noqa: F821 (provided by nbgrader)
c.merge(shared_config())

_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
c.CourseDirectory.root = _root
c.CourseDirectory.course_id = "rnn-workbook"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join("grading", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("grading", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("grading", "feedback")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_root, "grading", "gradebook.db")
os.makedirs(os.path.join(_root, "grading"), exist_ok=True)
