"""rnngrade: the workbook's grading tool, built on nbgrader's Python API.

- ``rnngrade.course``     -- where the course lives (solutions/, notebooks/) and the shared nbgrader settings
- ``rnngrade.release``    -- build the student release from the solution notebooks
- ``rnngrade.submission`` -- open a submission (folder or zip) and find the notebooks in it
- ``rnngrade.assignments`` -- which assignments a run grades; the per-assignment summary
- ``rnngrade.grading``    -- grade one student's submission into per-test scores
- ``rnngrade.feedback``   -- feedback HTML that shows what failed but not hidden-test source
- ``rnngrade.sanitize``   -- HTML pages of student-written markdown that render and run nothing
- ``rnngrade.report``     -- results.json (Gradescope format), grades.csv, graded.json
- ``rnngrade.handgrading`` -- written answers: review pages by question, merging hand grades, keeping them
- ``rnngrade.lms``        -- Canvas and Moodle gradebook imports
- ``rnngrade.cli``        -- the ``rnngrade`` command

Students never import this package.
"""
__version__ = "0.1.0"
