"""Grade one student's submission into per-test scores, with nbgrader doing the execution and bookkeeping.

:func:`grade_submission` runs the pipeline's named steps, each in its own module:

1. **locate** (``rnngrade.submission``): open the folder or zip and find the course's notebooks in it, by name or,
   for a renamed file, by its cells;
2. **repair** (``rnngrade.by_name``, ``rnngrade.normalize``): find cells that lost their grading metadata by the
   names they define, then undo copied and moved cells against the source notebook;
3. **stage** (``rnngrade.workspace``): copy each notebook into a fresh nbgrader course folder with its own
   gradebook, so no score from an earlier run can leak in;
4. **execute** (``rnngrade.execution``): nbgrader's autograde runs the notebook in a capped, sandboxed kernel
   that survives a dead kernel; a graded cell the student deleted is restored from the source
   (``add_missing_cells``) and scores 0;
5. **judge** (``rnngrade.judged_execution``, ``rnngrade.judge``): for notebooks that ask for it, the tests run in
   a second kernel that never runs the student's code;
6. **collect** (``rnngrade.collect``): per-test scores and messages from the gradebook and the graded notebooks;
7. **render** (``rnngrade.feedback``): one feedback page per notebook.

Each solution notebook is parsed once (``rnngrade.source_notebook``) and shared by the steps. Only the selected
assignments are graded (``rnngrade.assignments``); written answers are kept for grading by hand
(``rnngrade.handgrading``). ``rnngrade.report`` writes the results out.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from . import source_notebook, student_ids
from .by_name import repair as by_name
from .collect import collect
from .course import Course
from .feedback import feedback_html
from .normalize import normalize
from .results import StudentResult, TestResult  # noqa: F401 -- the results' classes, imported from here too
from .sandbox import describe
from .submission import Located, Submission
from .timings import current as current_timings
from .timings import start as start_timings
from .workspace import Workspace


def grade_submission(course: Course, submission_path: str | Path, student: str = "student",
                     workspace: Workspace | None = None, feedback: bool = True,
                     assignments: list[str] | None = None) -> StudentResult:
    """Grade the notebooks of ``assignments`` found in ``submission_path`` (a folder, a .zip or one .ipynb).

    ``assignments``: names from ``course.assignments()``; None grades the assignments the submission contains
    (the whole course when it contains none). Notebooks of other assignments are listed in the notes, not graded.
    Notebooks that are missing or unreadable score 0 on all their tests, with a note saying why.
    Raises SubmissionError only when the submission itself is unusable (not a folder/zip, corrupt zip).
    """
    from .assignments import resolve

    student_ids.check(student)
    clock = start_timings()            # seconds per step (rnngrade.timings; written out with --timings)
    result = StudentResult(student)
    selected = resolve(course, assignments) if assignments else None
    ws = workspace
    try:
        with Submission(submission_path) as sub:
            located = locate(course, sub, selected, result)
            with clock.phase("workspace"):
                if ws is None:
                    ws = Workspace(course, result.assignments)
                ws.generate()
            result.notes.append(describe(*ws.sandbox_level))
            graded: dict[str, Path] = {}
            for a in result.assignments:
                staged = [nb for nb in course.notebooks(a) if nb in located.found
                          and repair_and_stage(course, ws, student, a, nb, located.found[nb], result)]
                if staged:
                    graded.update(execute(ws, student, a, staged, result))
            attempted = set(located.found)
        with clock.phase("collect"):
            collect(course, ws, student, graded, attempted, result)
        render(course, graded, feedback, result)
    finally:
        if workspace is None and ws is not None:
            ws.close()
    result.timings = clock.finish().as_dict()
    return result


def locate(course: Course, sub: Submission, selected: list[str] | None, result: StudentResult) -> Located:
    """Step 1: the course's notebooks in the submission; sets ``result.assignments`` and notes what was found."""
    from .assignments import contained, not_selected_notes

    index = course.notebook_index()
    located = sub.locate(index, course.cell_ids)
    result.assignments = selected or contained(course, located.found) or course.assignments()
    result.notes += not_selected_notes(course, located.found, result.assignments)
    if not located.found:
        result.notes.append("No notebook of the course was found in the submission "
                            f"(expected any of: {', '.join(n + '.ipynb' for n in index)}).")
    for nb, name in located.renamed.items():
        result.notes.append(f"Graded {name} as {nb}.ipynb: the file has another name, but its cells are "
                            f"those of {nb}.ipynb. Keep the original file names.")
    for name in located.ignored:
        result.notes.append(f"Ignored {name}: not a notebook of this course.")
    for name in located.duplicates:
        result.notes.append(f"Ignored {name}: another copy of the same notebook was graded.")
    return located


def repair_and_stage(course: Course, ws: Workspace, student: str, assignment: str, notebook: str, found: Path,
                     result: StudentResult) -> bool:
    """Steps 2 and 3: read the student's notebook, copy it into the workspace and repair it there: cells that lost
    their grading metadata are found by the names they define (``rnngrade.by_name``), then copied and moved cells
    are put back (``rnngrade.normalize``). False (with a note) when it cannot be read as a notebook: all its tests
    then score 0."""
    try:
        node = nbformat.read(str(found), as_version=4)
    except Exception as exc:  # invalid JSON, wrong format, not UTF-8 ...
        result.notes.append(f"{notebook}.ipynb could not be read as a notebook ({type(exc).__name__}: "
                            f"{str(exc)[:200]}); all its tests score 0.")
        return False
    path = ws.submit(student, assignment, notebook, found)
    try:
        with current_timings().phase("repair", notebook):
            _repair(course, ws, assignment, notebook, node, path, result)
    except Exception as exc:  # noqa: BLE001 -- a notebook too odd to repair is graded as it is
        result.notes.append(f"{notebook}.ipynb: its cells could not be checked for copies and moves "
                            f"({type(exc).__name__}); graded as submitted.")
    return True


def _repair(course: Course, ws: Workspace, assignment: str, notebook: str, node, path: Path,
            result: StudentResult) -> None:
    """Step 2 on a staged copy: cells found by name, then copies and moves undone; notes what it changed."""
    release = nbformat.read(str(ws.release_path(assignment) / f"{notebook}.ipynb"), as_version=4)
    source = source_notebook.of_course(course, assignment, notebook).nb
    node, found_by_name = by_name(node, source, release)
    repaired, repairs = normalize(node, source)
    repairs = found_by_name + repairs
    if repairs:
        nbformat.write(repaired, str(path))
        result.notes += [f"{notebook}.ipynb: {line}" for line in repairs]


def execute(ws: Workspace, student: str, assignment: str, notebooks: list[str],
            result: StudentResult) -> dict[str, Path]:
    """Steps 4 and 5: nbgrader's autograde of one staged assignment (executing, and judging where the source asks
    for it: ``shared_config`` puts ``JudgedExecute`` in nbgrader's pipeline). The autograded notebooks by name;
    none (with a note) when nbgrader failed."""
    with current_timings().autograde(assignment, notebooks):
        res = ws.autograde(student, assignment)
    if not res.get("success"):
        err = (res.get("error") or res.get("log") or "").strip().splitlines()
        result.notes.append(f"Autograding {assignment} failed: {err[-1] if err else 'unknown error'}; "
                            "its tests score 0.")
        return {}
    return {nb: ws.autograded_path(student, assignment, nb) for nb in notebooks}


def render(course: Course, graded: dict[str, Path], feedback: bool, result: StudentResult) -> None:
    """Step 7: keep each autograded notebook and, if ``feedback``, render its feedback page."""
    index = course.notebook_index()
    for nb, path in graded.items():
        if path.exists():
            result.autograded[nb] = path.read_text(encoding="utf-8")
            if feedback:
                with current_timings().phase("feedback", nb):
                    result.feedback[nb] = feedback_html(course, index[nb], nb, path, result)
