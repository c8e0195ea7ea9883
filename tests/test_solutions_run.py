"""Every solution notebook runs top to bottom in quick mode, demonstration cells included, as a student runs it.

Grading skips the cells the source marks as demonstrations (rnngrade.demo_cells); this test is what proves those
cells run too. A file of its own so that pytest-xdist can run it beside tests/test_course.py's grading.
"""
import os
import subprocess
import sys

from rnngrade.course import Course

COURSE = Course.here()


def test_solution_notebooks_run_end_to_end_in_quick_mode():
    """nbval (lax: outputs are not compared) runs every solution notebook top to bottom, in one process of its own
    (``-o addopts=``: without this suite's parallel workers, which would only compete for the same cores)."""
    env = {**os.environ, "RNNLAB_QUICK": "1", "MPLBACKEND": "Agg"}
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                        "--nbval-lax", "--nbval-cell-timeout=300",
                        *[str(x) for x in sorted(COURSE.solutions.glob("*/*.ipynb"))]],
                       cwd=COURSE.root, env=env, capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
