"""Write grading results: results.json in Gradescope's autograder format, and grades.csv."""
from __future__ import annotations

import csv
import json
from pathlib import Path


def results_json(result) -> dict:
    """Gradescope's format: score, tests[] (name, score, max_score, output, visibility), output."""
    tests = [{"name": t.name, "score": t.score, "max_score": t.max_score, "output": t.output,
              "visibility": "visible"} for t in result.auto_tests]
    manual = [t for t in result.tests if t.manual]
    notes = list(result.notes)
    if manual:
        notes.append("Graded by hand later: " + ", ".join(f"{t.name} ({t.max_score:g} pt)" for t in manual))
    out = {"score": result.score, "tests": tests}
    if notes:
        out["output"] = "\n".join(notes)
    return out


def write_results(result, out_dir: Path) -> dict:
    """Write results.json, grades.csv and feedback/<notebook>.html under out_dir; returns the results dict."""
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
    return data


def write_grades_csv(results, path: Path) -> None:
    """One row per student: id, total, max, then one column per automatic test (``<notebook>: <grade_id>``)."""
    results = sorted(results, key=lambda r: r.student)
    columns = []
    for r in results:
        for t in r.auto_tests:
            if t.name not in columns:
                columns.append(t.name)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "score", "max_score"] + columns)
        for r in results:
            scores = {t.name: t.score for t in r.auto_tests}
            w.writerow([r.student, f"{r.score:g}", f"{r.max_score:g}"] + [f"{scores.get(c, 0):g}" for c in columns])
