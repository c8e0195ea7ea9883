"""A Gradescope autograder bundle: ``rnngrade gradescope-bundle`` builds it, ``run_autograder`` grades with it.

Gradescope unzips the bundle into /autograder/source, runs setup.sh once when the image is built, then
run_autograder for each submission (files in /autograder/submission); the score is read from
/autograder/results/results.json. Our results.json is already in Gradescope's format.

``build_bundle(..., assignments=["01_vanilla_rnn"])`` makes the autograder of one workbook assignment: it carries only
that assignment's solutions, and run_autograder grades only it (maximum: that assignment's points).
"""
from __future__ import annotations

import json
import os
import stat
import sys
import zipfile
from pathlib import Path

from .course import Course

# What the bundle carries: the code (to install rnnlab + rnngrade) from this checkout, and the course's solutions.
CODE = ["pyproject.toml", "requirements.txt", "README.md", "helpers", "autograder"]
CODE_ROOT = Path(__file__).resolve().parents[2]
EXCLUDE_PARTS = {"__pycache__", ".ipynb_checkpoints", "grading"}

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
cd /autograder/source
PY="${PYTHON:-python3.11}"
if ! command -v "$PY" >/dev/null 2>&1; then
  apt-get update
  apt-get install -y software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update
  apt-get install -y python3.11 python3.11-venv
fi
"$PY" -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
# The CPU build of PyTorch: Gradescope has no GPU, and the CUDA build is several GB.
/autograder/venv/bin/python -m pip install --extra-index-url https://download.pytorch.org/whl/cpu \\
    -r workbook/requirements.txt
/autograder/venv/bin/python -m pip install --no-deps --no-build-isolation -e workbook
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. It always leaves a results.json behind.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PY="${RNNGRADE_PYTHON:-$ROOT/venv/bin/python}"
export RNNGRADE_ROOT="$ROOT/source/workbook"
exec "$PY" -m rnngrade gradescope-run "$ROOT"{assignment_args}
"""


def build_bundle(course: Course, out_zip: Path, assignments: list[str] | None = None) -> Path:
    """The autograder zip for ``assignments`` (default: the whole course)."""
    out_zip = Path(out_zip)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    solutions = ["solutions/" + a for a in assignments] if assignments else ["solutions"]
    run_script = RUN_AUTOGRADER.replace("{assignment_args}",
                                        "".join(f" --assignment {a}" for a in assignments or []))
    with zipfile.ZipFile(out_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in [("setup.sh", SETUP_SH), ("run_autograder", run_script)]:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            zf.writestr(info, text)
        for base, item in [(CODE_ROOT, c) for c in CODE] + [(course.root, s) for s in solutions]:
            src = base / item
            if src.is_file():
                zf.write(src, f"workbook/{item}")
            elif src.is_dir():
                for f in sorted(src.rglob("*")):
                    rel = f.relative_to(base)
                    if f.is_file() and not EXCLUDE_PARTS & set(rel.parts) and f.suffix != ".pyc":
                        zf.write(f, f"workbook/{rel.as_posix()}")
    return out_zip


def run(autograder_root: Path, assignments: list[str] | None = None) -> int:
    """Grade /autograder/submission into /autograder/results/results.json; never exits without a results.json."""
    from .grading import grade_submission
    from .report import write_results

    root = Path(autograder_root)
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    from .sandbox import hide_also

    hide_also(results)          # unreadable to student code at the permissions level (Docker)
    student = "gradescope"
    try:
        meta = json.loads((root / "submission_metadata.json").read_text())
        student = str(meta.get("id") or student)
    except (OSError, ValueError, AttributeError):
        pass
    try:
        result = grade_submission(Course.here(), root / "submission", f"gs-{student}"[:100], feedback=False,
                                  assignments=assignments)
        data = write_results(result, results / "rnngrade")
    except Exception as exc:  # the submission (or the bundle) is unusable: say so, score 0
        data = {"score": 0, "tests": [], "output": f"Your submission could not be graded: {exc}"}
    (results / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    print(f"score {data['score']:g}; results in {results / 'results.json'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))))
