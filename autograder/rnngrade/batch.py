"""Grade many submissions: one process per submission, in parallel, resumable.

A batch folder holds one entry per student:
- a folder or a ``.zip`` (the student id is its name), or
- flat notebook files named ``<student>_<notebook>.ipynb`` (as LMS bulk downloads name them; a trailing
  ``-1``, ``-2`` resubmission counter is ignored), grouped by the ``<student>`` prefix.

Each student is graded in its own process with its own workspace and gradebook, and written to
``OUT/<student>/`` (results.json, grades.csv, feedback/). A ``OUT/<student>/.graded`` marker holding the
submission's fingerprint makes a re-run skip students already graded from the same files, so a killed run
resumes where it stopped. ``OUT/grades.csv`` merges every student, sorted by id: the same bytes whatever the
number of workers; the LMS gradebook imports (``rnngrade.lms``) are written beside it.

Every student is graded on the same assignments: those given (``assignments``), else those any submission of the
batch holds (by file name). The marker records them too, so grading other assignments regrades everyone. Hand
grades of written answers (``OUT/hand_grades.json``, ``rnngrade.handgrading``) are applied to every student graded,
so a resumed run or a regrade after a fix keeps them.

Beyond one machine, ``scheduler="tcp://host:8786"`` sends each student's grading to the workers of a Dask
distributed cluster instead of local processes. The workers need this package installed and must see the course,
the submissions and OUT at the same paths (a shared file system), as they read and write them directly.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from . import student_ids
from .course import Course

MARKER = ".graded"


@dataclass
class Entry:
    student: str
    paths: list[Path]   # one folder/zip, or several flat notebooks


def discover(folder: Path, notebook_names: list[str]) -> list[Entry]:
    """The students of a batch folder (see the module docstring), sorted by id."""
    entries: dict[str, Entry] = {}
    pattern = re.compile(r"^(?P<student>.+?)[_-](?P<nb>" + "|".join(map(re.escape, notebook_names))
                         + r")(?:-\d+)?\.ipynb$") if notebook_names else None
    for p in sorted(Path(folder).iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_dir() or p.suffix.lower() == ".zip":
            sid = student_ids.from_name(p.stem if p.is_file() else p.name)
            entries.setdefault(sid, Entry(sid, [])).paths.append(p)
        elif p.suffix.lower() == ".ipynb" and pattern and (m := pattern.match(p.name)):
            sid = student_ids.from_name(m.group("student"))
            entries.setdefault(sid, Entry(sid, [])).paths.append(p)
    return [entries[k] for k in sorted(entries)]


def fingerprint(entry: Entry) -> str:
    h = hashlib.sha256()
    for p in entry.paths:
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(p.parent)).encode("utf-8", "surrogateescape"))
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def _marker(entry: Entry, assignments: list[str]) -> str:
    return fingerprint(entry) + " " + ",".join(assignments)


def _grade_one(root: str, entry: Entry, out_dir: str, feedback: bool,
               assignments: list[str] | None = None) -> tuple[str, float | None, str]:
    """Worker: grade one student; returns (student, score or None, message)."""
    from .grading import grade_submission
    from .handgrading import apply_saved_hand_grades
    from .report import write_results

    course = Course(Path(root))
    dest = Path(out_dir) / entry.student
    try:
        if len(entry.paths) == 1 and entry.paths[0].suffix.lower() != ".ipynb":
            src, tmp = entry.paths[0], None
        else:   # flat LMS files: gather them in a folder, under their notebook names
            tmp = Path(tempfile.mkdtemp(prefix="rnngrade-flat-"))
            index = course.notebook_index()
            for p in entry.paths:
                nb = next((n for n in sorted(index, key=len, reverse=True)
                           if re.search(rf"[_-]{re.escape(n)}(?:-\d+)?\.ipynb$", p.name)), p.stem)
                shutil.copyfile(p, tmp / f"{nb}.ipynb")
            src = tmp
        try:
            result = grade_submission(course, src, entry.student, feedback=feedback, assignments=assignments)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        apply_saved_hand_grades(course, Path(out_dir), result, feedback=feedback)
        if dest.exists():
            shutil.rmtree(dest)
        write_results(result, dest)
        (dest / MARKER).write_text(_marker(entry, result.assignments) + "\n")
        return entry.student, result.score, ""
    except Exception as exc:  # a broken submission never stops the batch
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "error.txt").write_text(traceback.format_exc())
        return entry.student, None, f"{type(exc).__name__}: {exc}"


def grade_batch(course: Course, folder: Path, out_dir: Path, workers: int = 1, feedback: bool = True,
                log=print, scheduler: str | None = None,
                assignments: list[str] | None = None) -> list[tuple[str, float | None, str]]:
    """Grade every student of ``folder`` into ``out_dir`` on ``assignments`` (default: those any submission holds);
    returns (student, score or None, message) per student."""
    from .assignments import contained, notebooks_named_in
    from .lms import merge_grades

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = discover(folder, list(course.notebook_index()))
    if not assignments:
        named = notebooks_named_in([p for e in entries for p in e.paths], course.notebook_index())
        assignments = contained(course, named) or course.assignments()
    todo, done = [], []
    for e in entries:
        marker = out_dir / e.student / MARKER
        if marker.exists() and marker.read_text().strip() == _marker(e, assignments):
            done.append((e.student, _saved_score(out_dir / e.student), "already graded (skipped)"))
        else:
            todo.append(e)
    where = f"the Dask cluster at {scheduler}" if scheduler else f"{workers} worker(s)"
    log(f"{len(entries)} submissions: {len(done)} already graded, {len(todo)} to grade with {where} "
        f"(assignments: {', '.join(assignments)})")
    results = list(done)
    if scheduler:
        from distributed import Client, as_completed as dask_completed

        with Client(scheduler, timeout="30s") as client:
            futures = [client.submit(_grade_one, str(course.root), e, str(out_dir), feedback, assignments,
                                     pure=False,
                                     key=f"rnngrade-{e.student}-{fingerprint(e)[:12]}") for e in todo]
            for f in dask_completed(futures):
                results.append(f.result())
                log(_line(results[-1]))
    elif workers <= 1:
        for e in todo:
            results.append(_grade_one(str(course.root), e, str(out_dir), feedback, assignments))
            log(_line(results[-1]))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_grade_one, str(course.root), e, str(out_dir), feedback, assignments)
                       for e in todo]
            for f in as_completed(futures):
                results.append(f.result())
                log(_line(results[-1]))
    merge_grades(out_dir, [e.student for e in entries])
    return sorted(results)


def _saved_score(dest: Path):
    try:
        return json.loads((dest / "results.json").read_text())["score"]
    except (OSError, ValueError, KeyError):
        return None


def _line(r) -> str:
    student, score, msg = r
    return f"  {student}: {score:g}" if score is not None and not msg else f"  {student}: {msg}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: rnngrade grade --batch FOLDER --out DIR [--workers N]")
