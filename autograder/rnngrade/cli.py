"""The ``rnngrade`` command: release, check, grade, gradescope-bundle, review and merge-review (written answers),
lms-export."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .course import Course
from .submission import SubmissionError


def cmd_release(args) -> int:
    from .release import build_release, stale_release_files

    course = Course.here()
    if args.check:
        stale = stale_release_files(course)
        if stale:
            print("notebooks/ is out of date with solutions/ (run `make release`):")
            for f in stale:
                print("  " + f)
            return 1
        print("notebooks/ is up to date with solutions/.")
        return 0
    files = build_release(course, course.release_dir, args.assignment or None)
    for f in files:
        print(f"wrote {f.relative_to(course.root)}")
    return 0


def check_course(course: Course, verbose: bool = True, assignments: list[str] | None = None) -> list[str]:
    """Grade the solutions (must score full marks) and the release (must grade and score 0), of ``assignments``
    (default: the whole course). Returns problems."""
    from .assignments import resolve
    from .grading import grade_submission
    from .workspace import Workspace

    problems = []
    selected = resolve(course, assignments) if assignments else course.assignments()
    with Workspace(course, selected) as ws:
        t0 = time.perf_counter()
        sol = grade_submission(course, course.solutions, "solutions", workspace=ws, feedback=False,
                               assignments=selected)
        t1 = time.perf_counter()
        rel = grade_submission(course, course.release_dir, "release", workspace=ws, feedback=False,
                               assignments=selected)
        t2 = time.perf_counter()
    informational = ("Not graded:", "Sandbox:")        # notes every grading run may carry; not problems
    for note in sol.notes:
        if not note.startswith(informational):
            problems.append(f"solutions: {note}")
    for note in rel.notes:
        if not note.startswith(informational):
            problems.append(f"release: {note}")
    rel_scores = {t.name: t for t in rel.tests}
    if verbose:
        print(f"{'test':60s} {'solution':>9s} {'release':>8s}")
    for t in sol.tests:
        r = rel_scores.get(t.name)
        if t.manual:
            if verbose:
                print(f"{t.name:60s} {'manual':>9s} {'manual':>8s}   ({t.max_score:g} pt, graded by hand)")
            continue
        if verbose:
            print(f"{t.name:60s} {t.score:4g}/{t.max_score:<4g} {r.score if r else float('nan'):8g}")
        if t.max_score <= 0:
            problems.append(f"{t.name}: a graded test worth 0 points")
        if t.score < t.max_score:
            problems.append(f"{t.name}: the solution scores {t.score:g}/{t.max_score:g}\n    {t.output[:600]}")
        if r is None:
            problems.append(f"{t.name}: missing from the graded release")
        elif r.score != 0:
            problems.append(f"{t.name}: the unsolved release scores {r.score:g} (must be 0)")
    if verbose:
        print(f"\nsolutions: {sol.score:g}/{sol.max_score:g} in {t1 - t0:.1f} s;  "
              f"release: {rel.score:g}/{rel.max_score:g} in {t2 - t1:.1f} s")
    return problems


def _selected(course: Course, names: list[str] | None) -> list[str] | None:
    """The assignments named on the command line (None when none are); exits with status 2 on an unknown name."""
    from .assignments import resolve

    try:
        return resolve(course, names) if names else None
    except ValueError as exc:
        print(f"rnngrade: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_check(args) -> int:
    course = Course.here()
    problems = check_course(course, assignments=_selected(course, args.assignment))
    if problems:
        print("\nrnngrade check FAILED:")
        for p in problems:
            print(" - " + p)
        return 1
    print("rnngrade check passed: every solution scores full marks, every released notebook scores 0.")
    return 0


def cmd_grade(args) -> int:
    from .assignments import summary_lines
    from .grading import grade_submission
    from .report import write_results

    from .sandbox import hide_also, refuse_batch

    course = Course.here()
    assignments = _selected(course, args.assignment)
    if args.timings:
        import os

        from .settings import TIMINGS

        os.environ[TIMINGS.name] = "1"       # batch workers inherit it
    _report_sandbox()
    hide_also(Path(args.out))
    if args.batch and refuse_batch(args.unsafe_no_sandbox):
        return 2
    if args.batch:
        from .batch import grade_batch

        if not Path(args.submission).is_dir():
            print(f"rnngrade: --batch needs a folder of submissions, not {args.submission}", file=sys.stderr)
            return 2
        results = grade_batch(course, Path(args.submission), Path(args.out), workers=args.workers,
                              feedback=not args.no_feedback, scheduler=args.scheduler, assignments=assignments)
        failed = [r for r in results if r[1] is None]
        print(f"\n{len(results)} students graded into {args.out}/ (grades.csv merges them)"
              + (f"; {len(failed)} could not be graded, see {args.out}/<student>/error.txt" if failed else ""))
        return 0
    student = args.student or _default_student(Path(args.submission))
    try:
        result = grade_submission(course, args.submission, student, feedback=not args.no_feedback,
                                  assignments=assignments)
    except (SubmissionError, ValueError) as exc:
        print(f"rnngrade: cannot grade {args.submission}: {exc}", file=sys.stderr)
        return 2
    data = write_results(result, Path(args.out))
    for t in data["tests"]:
        status = "ok  " if t["score"] >= t["max_score"] else "FAIL"
        print(f"{status} {t['score']:4g}/{t['max_score']:<4g} {t['name']}")
        if t["score"] < t["max_score"] and t["output"]:
            first = t["output"].strip().splitlines()[-1]
            print(f"            {first[:160]}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"\n{student}: {data['score']:g} / {result.max_score:g} points.  Results in {args.out}/results.json, "
          f"grades.csv{', feedback/*.html' if result.feedback else ''}")
    print("\n".join(summary_lines(course, result)))
    return 0


def _report_sandbox() -> None:
    """Say so when student code will run without the sandbox (README, "Sandbox")."""
    from . import sandbox

    lvl, why = sandbox.level()
    if lvl == "none":
        print(f"rnngrade: student code runs WITHOUT the sandbox here ({why}): it can read and write what this user "
              "can and open network connections. The memory cap and time limits still apply. Grade as root on Linux "
              "to sandbox it.", file=sys.stderr)
    elif lvl == "permissions":
        print(f"rnngrade: student code runs in the weaker permissions-only sandbox ({why}); see docs/SANDBOX.md.",
              file=sys.stderr)


def cmd_gradescope_bundle(args) -> int:
    from .gradescope import build_bundle

    course = Course.here()
    assignments = _selected(course, args.assignment)
    out = build_bundle(course, Path(args.out), assignments)
    print(f"wrote {out}: upload it as the autograder of a Gradescope programming assignment"
          + (f" for {', '.join(assignments)}" if assignments else ""))
    return 0


def cmd_gradescope_run(args) -> int:
    from .gradescope import run

    return run(Path(args.root), args.assignment)


def cmd_review(args) -> int:
    from .handgrading import HandGradingError, write_review

    try:
        pages, sheet = write_review(Course.here(), Path(args.out), anonymous=args.anonymous,
                                    questions=args.question)
    except HandGradingError as exc:
        print(f"rnngrade review: {exc}", file=sys.stderr)
        return 2
    for page in pages:
        print(f"wrote {page}")
    print(f"wrote {sheet}: fill in points (and comments), then run rnngrade merge-review {args.out} {sheet}")
    return 0


def cmd_merge_review(args) -> int:
    from .handgrading import HandGradingError, merge_review

    try:
        changed = merge_review(Course.here(), Path(args.out), Path(args.csv))
    except HandGradingError as exc:
        print(f"rnngrade merge-review: nothing was changed:\n{exc}", file=sys.stderr)
        return 2
    for student, lines in changed.items():
        print(f"{student}: " + "; ".join(lines))
    print(f"merged hand grades of {len(changed)} student(s) into {args.out}/ (results.json, grades.csv, feedback, "
          "the merged grades.csv and the LMS exports)")
    return 0


def cmd_lms_export(args) -> int:
    from .lms import write_exports

    for path in write_exports(Path(args.out), roster=Path(args.roster) if args.roster else None):
        print(f"wrote {path}")
    return 0


ASSIGNMENT_HELP = "grade only this assignment, e.g. 01_vanilla_rnn (repeatable)"


def _default_student(path: Path) -> str:
    """The id of a submission graded without ``--student``: from its folder's or zip's name."""
    from .student_ids import from_name

    return from_name(path.resolve().stem if path.suffix.lower() == ".zip" else path.resolve().name)


def main(argv=None) -> int:
    import warnings

    # nbgrader's gradebook triggers harmless SQLAlchemy session warnings; keep the console readable.
    warnings.filterwarnings("ignore", message=".*not in session.*")
    p = argparse.ArgumentParser(prog="rnngrade", description="Release and grade the RNN workbook's notebooks.")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("release", help="build notebooks/ (the student release) from solutions/")
    r.add_argument("--check", action="store_true", help="only report whether notebooks/ is up to date")
    r.add_argument("--assignment", action="append", help="release only this assignment (repeatable)")
    r.set_defaults(func=cmd_release)

    c = sub.add_parser("check", help="solutions score full marks; the release grades and scores 0")
    c.add_argument("--assignment", action="append", help=ASSIGNMENT_HELP + " (default: the whole course)")
    c.set_defaults(func=cmd_check)

    g = sub.add_parser("grade", help="grade one student's submission (a folder, .zip or .ipynb), or with "
                                     "--batch a folder of many")
    g.add_argument("submission")
    g.add_argument("--batch", action="store_true",
                   help="SUBMISSION is a folder of submissions: one folder or .zip per student, or flat "
                        "<student>_<notebook>.ipynb files (LMS bulk download)")
    g.add_argument("--workers", type=int, default=1, help="with --batch: students graded in parallel")
    g.add_argument("--scheduler", help="with --batch: address of a Dask distributed scheduler (tcp://host:8786) "
                                       "whose workers grade the students (shared file system required)")
    g.add_argument("--student", help="student id (default: the submission's file or folder name)")
    g.add_argument("--out", default="grading", help="output folder (default: grading/)")
    g.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    g.add_argument("--timings", action="store_true",
                   help="also write OUT/timings.json: seconds per grading phase (also RNNGRADE_TIMINGS=1)")
    g.add_argument("--assignment", action="append",
                   help=ASSIGNMENT_HELP + " (default: the assignments the submission contains; with --batch, those "
                                          "any submission of the batch contains)")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="with --batch: grade even where student code cannot be sandboxed (docs/SANDBOX.md)")
    g.set_defaults(func=cmd_grade)

    b = sub.add_parser("gradescope-bundle", help="build the Gradescope autograder zip (setup.sh, run_autograder)")
    b.add_argument("--out", default="gradescope-autograder.zip")
    b.add_argument("--assignment", action="append",
                   help=ASSIGNMENT_HELP + " (default: the whole course): one Gradescope assignment per workbook one")
    b.set_defaults(func=cmd_gradescope_bundle)

    gr = sub.add_parser("gradescope-run", help="(used by run_autograder inside Gradescope)")
    gr.add_argument("root", nargs="?", default="/autograder")
    gr.add_argument("--assignment", action="append", help=ASSIGNMENT_HELP)
    gr.set_defaults(func=cmd_gradescope_run)

    rv = sub.add_parser("review", help="written answers of a graded batch: one HTML page per question with every "
                                       "student's answer, and a CSV to fill in")
    rv.add_argument("out", help="the output folder of rnngrade grade --batch")
    rv.add_argument("--anonymous", action="store_true",
                    help="show stable anonymous labels instead of student ids (pages and CSV)")
    rv.add_argument("--question", action="append",
                    help="only this question (grade id such as q_clipping, or 'lstm: q_clipping'; repeatable)")
    rv.set_defaults(func=cmd_review)

    mr = sub.add_parser("merge-review", help="put the points and comments of a filled-in review CSV into the batch's "
                                             "results.json, grades.csv and feedback (all rows checked first)")
    mr.add_argument("out", help="the output folder of rnngrade grade --batch")
    mr.add_argument("csv", help="the filled-in CSV (from rnngrade review)")
    mr.set_defaults(func=cmd_merge_review)

    lx = sub.add_parser("lms-export", help="(re)write the Canvas and Moodle gradebook imports of a graded batch")
    lx.add_argument("out", help="the output folder of rnngrade grade --batch")
    lx.add_argument("--roster", help="Canvas's own gradebook export (CSV): fills in ID, SIS User ID and Section")
    lx.set_defaults(func=cmd_lms_export)

    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
