"""Write grading results: results.json in Gradescope's autograder format, grades.csv, feedback, and what a later
step needs (graded.json and the autograded notebooks, read by ``rnngrade.handgrading``)."""
from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

from .timings import wanted as timings_wanted

STATE_FILE = "graded.json"          # the StudentResult as data (tests, notes, written answers)
AUTOGRADED_DIR = "autograded"       # the autograded notebooks, to rebuild feedback after hand grading
TIMINGS_FILE = "timings.json"       # seconds per phase (rnngrade.timings), when RNNGRADE_TIMINGS=1 or --timings


def _by_notebook(tests):
    groups: dict[str, list] = {}
    for t in tests:
        groups.setdefault(t.notebook, []).append(t)
    return groups


def results_json(result) -> dict:
    """Gradescope's format: score, tests[] (name, score, max_score, output, visibility), output.

    A notebook that was not submitted (or could not be graded) is one entry, ``"<notebook>: whole notebook"``,
    worth all its automatic points. Written answers appear as tests once graded by hand; until then ``output``
    lists them as graded by hand later. ``score`` is the sum of the tests' scores."""
    tests = []
    for nb, group in _by_notebook(result.tests).items():
        auto = [t for t in group if not t.manual]
        if auto and all(t.missing for t in auto):
            tests.append({"name": f"{nb}: whole notebook", "score": 0.0,
                          "max_score": sum(t.max_score for t in auto), "output": auto[0].missing,
                          "visibility": "visible"})
        else:
            tests += [{"name": t.name, "score": t.score, "max_score": t.max_score, "output": t.output,
                       "visibility": "visible"} for t in auto]
        for t in group:
            if t.manual and t.hand_graded:
                tests.append({"name": t.name, "score": t.score, "max_score": t.max_score,
                              "output": "Graded by hand." + (f"\n{t.comment}" if t.comment else ""),
                              "visibility": "visible"})
    pending = [t for t in result.manual_tests if not t.hand_graded]
    notes = list(result.notes)
    if pending:
        notes.append("Graded by hand later: " + ", ".join(f"{t.name} ({t.max_score:g} pt)" for t in pending))
    out = {"score": sum(t["score"] for t in tests), "tests": tests}
    if notes:
        out["output"] = "\n".join(notes)
    return out


def write_results(result, out_dir: Path) -> dict:
    """Write results.json, grades.csv, feedback/<notebook>.html, graded.json and autograded/<notebook>.ipynb under
    out_dir; returns the results dict."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = results_json(result)
    (out_dir / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    write_grades_csv([result], out_dir / "grades.csv")
    if result.feedback:
        fb = out_dir / "feedback"
        fb.mkdir(exist_ok=True)
        for nb, body in result.feedback.items():
            (fb / f"{nb}.html").write_text(body, encoding="utf-8")
    state = {"student": result.student, "assignments": result.assignments, "notes": result.notes,
             "tests": [asdict(t) for t in result.tests]}
    (out_dir / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    if result.timings and timings_wanted():
        (out_dir / TIMINGS_FILE).write_text(json.dumps(result.timings, indent=1) + "\n", encoding="utf-8")
    if result.autograded:
        ag = out_dir / AUTOGRADED_DIR
        ag.mkdir(exist_ok=True)
        for nb, text in result.autograded.items():
            (ag / f"{nb}.ipynb").write_text(text, encoding="utf-8")
    return data


def load_result(out_dir: Path):
    """The StudentResult saved by write_results in out_dir (feedback not included; autograded notebooks are)."""
    from .results import StudentResult, TestResult

    out_dir = Path(out_dir)
    state = json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
    result = StudentResult(state["student"], [TestResult(**t) for t in state["tests"]], list(state["notes"]),
                           assignments=list(state["assignments"]))
    for f in sorted((out_dir / AUTOGRADED_DIR).glob("*.ipynb")):
        result.autograded[f.stem] = f.read_text(encoding="utf-8")
    return result


def write_grades_csv(results, path: Path) -> None:
    """One row per student: id, automatic total and maximum, one column per automatic test
    (``<notebook>: <grade_id>``); then, where there are written answers, one column per written question (empty
    until graded by hand), ``written`` (the points given by hand), and ``total`` / ``max_total`` (automatic plus
    written, over every question)."""
    results = sorted(results, key=lambda r: r.student)
    columns, written = [], []
    for r in results:
        for t in r.tests:
            target = written if t.manual else columns
            if t.name not in target:
                target.append(t.name)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "score", "max_score"] + columns
                   + (written + ["written", "total", "max_total"] if written else []))
        for r in results:
            scores = {t.name: t.score for t in r.auto_tests}
            row = [r.student, f"{r.score:g}", f"{r.max_score:g}"] + [f"{scores.get(c, 0):g}" for c in columns]
            if written:
                hand = {t.name: f"{t.score:g}" for t in r.manual_tests if t.hand_graded}
                max_total = r.max_score + sum(t.max_score for t in r.manual_tests)
                row += [hand.get(c, "") for c in written]
                row += [f"{r.hand_score:g}", f"{r.score + r.hand_score:g}", f"{max_total:g}"]
            w.writerow(row)
