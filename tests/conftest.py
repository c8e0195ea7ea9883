import sys
from pathlib import Path

# tests/ holds shared helpers (submissions.py) imported by the test modules.
sys.path.insert(0, str(Path(__file__).parent))

# `make test` runs the suite on pytest-xdist's workers, one test file per unit of work (pyproject.toml: --dist
# loadfile, so a module's fixtures, such as the hostile corpus's batch or the leak screen, run once), handed out in
# collection order (--no-loadscope-reorder). These files take the longest (seconds on 2 cores, measured in a
# parallel run): they go first, so no worker starts one of them when the others are nearly done. A file missing
# here just keeps its place after them.
SLOW_FIRST = [
    "test_pythons.py",            # 110: a venv per other Python, rnnlab's tests and notebook 01 in each
    "test_course.py",             # 100: rnngrade check (solutions and release graded) and partial credit
    "test_hostile_corpus.py",     # 100: a batch of hostile submissions
    "test_solutions_run.py",      # 97: nbval over every solution notebook
    "test_leaks.py",              # 75: the leak screen
    "test_judge.py",              # 55
    "test_hostile.py",
    "test_sandbox.py",
    "test_grader.py",
    "test_by_name.py",
    "test_nbgrader_workflow.py",
]


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))   # stable: order within a file is kept
