"""rnngrade: the workbook's grading tool, built on nbgrader's Python API. docs/ARCHITECTURE.md follows one
submission through it.

The grading pipeline, in the order its steps run (``rnngrade.grading`` runs them):

- ``rnngrade.grading``          -- grade one student's submission: the named steps below, in order
- ``rnngrade.submission``       -- locate: open a submission (folder or zip) and find the notebooks in it
- ``rnngrade.by_name``          -- repair: a notebook that lost its grading metadata, its cells found by name
- ``rnngrade.normalize``        -- repair: copied and moved cells, against the source notebook
- ``rnngrade.workspace``        -- stage: a throw-away nbgrader course folder and gradebook per run
- ``rnngrade.alembic_head``     -- stage: nbgrader's gradebook schema version, asked once per process
- ``rnngrade.execution``        -- execute: nbgrader's Execute, surviving a dead kernel
- ``rnngrade.demo_cells``       -- execute: the source's demonstration cells, which grading does not run
- ``rnngrade.judged_execution`` -- judge: tests run in a second kernel for notebooks that ask for it
- ``rnngrade.judge``            -- the protocol between the student's kernel and the judge's (a package)
- ``rnngrade.collect``          -- collect: per-test scores and messages from the gradebook
- ``rnngrade.feedback``         -- render: feedback HTML that shows what failed but not hidden-test source
- ``rnngrade.source_notebook``  -- a solution notebook parsed once, shared by every step
- ``rnngrade.results``          -- what grading produces (TestResult, StudentResult)
- ``rnngrade.timings``          -- where one grading run's seconds go, per step and notebook

Kernels, limits and the sandbox:

- ``rnngrade.settings``         -- every ``RNNGRADE_*`` environment variable: default, meaning, read once
- ``rnngrade.kernelspecs``      -- the kernelspecs of the student and judge kernels
- ``rnngrade.limited_kernel``   -- the kernels' entry point: memory cap, then the sandbox, then IPython
- ``rnngrade.sandbox``          -- the sandbox seen from the grader: level, user id, clean-up (docs/SANDBOX.md)
- ``rnngrade.sandbox_root``     -- the bubblewrap command line of the namespace sandbox
- ``rnngrade.sandbox_kernel``   -- what a sandboxed kernel does to itself before student code runs
- ``rnngrade.sandbox_modes``    -- the permissions level's chmods, shared by a batch and undone by its last run

Around grading:

- ``rnngrade.course``           -- where the course lives (solutions/, notebooks/) and the shared nbgrader settings
- ``rnngrade.assignments``      -- which assignments a run grades; the per-assignment summary
- ``rnngrade.student_ids``      -- the one rule for student ids
- ``rnngrade.batch``            -- a class's submissions, in parallel or on Dask
- ``rnngrade.report``           -- results.json (Gradescope format), grades.csv, graded.json
- ``rnngrade.lms``              -- a batch's grades.csv, Canvas and Moodle gradebook imports
- ``rnngrade.handgrading``      -- written answers: review pages by question, merging hand grades, keeping them
- ``rnngrade.sanitize``         -- HTML pages of student-written markdown that render and run nothing
- ``rnngrade.gradescope``       -- the Gradescope autograder bundle and its run script
- ``rnngrade.release``          -- build the student release from the solution notebooks
- ``rnngrade.setup_cell``       -- the release notebooks' set-up cell and "Open in Colab" links
- ``rnngrade.oracles``          -- grader-side reference code the hidden tests compare with (a package)
- ``rnngrade.cli``              -- the ``rnngrade`` command (``python -m rnngrade``: ``rnngrade.__main__``)

Students never import this package.
"""
__version__ = "0.1.0"
