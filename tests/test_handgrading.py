"""Written answers graded by question, end to end on a small toy batch (toy notebook: 4 automatic points and one
written question, q_commutative, 1 point): review pages, the CSV, merge (and refusal of bad rows, changing
nothing), hand grades kept by a resumed run and a regrade, and the LMS exports."""
import csv
import hashlib
import shutil

import pytest

from rnngrade.batch import grade_batch
from rnngrade.handgrading import HandGradingError, labels, merge_review, write_review
from submissions import make_submission, make_toy_course

ATTACK = 'Because <script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'"> $a+b=b+a$'


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = make_toy_course(tmp_path_factory.mktemp("toy"))
    folder = tmp_path_factory.mktemp("subs")
    rel, sol = course.release_dir / "00_toy" / "toy.ipynb", course.solutions / "00_toy" / "toy.ipynb"
    make_submission(rel, sol, folder / "amy" / "toy.ipynb", answers={"q_commutative": "Order does not *matter*."})
    make_submission(rel, sol, folder / "bo" / "toy.ipynb", solve={"add"}, answers={"q_commutative": ATTACK})
    make_submission(rel, sol, folder / "cy" / "toy.ipynb", solve=set())
    out = tmp_path_factory.mktemp("out")
    grade_batch(course, folder, out, log=lambda *_: None)
    return course, folder, out


def _snapshot(out):
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and "review" not in p.parts}


def _write(path, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_review_pages_and_sheet(graded):
    course, _, out = graded
    pages, sheet = write_review(course, out)
    assert [p.name for p in pages] == ["toy__q_commutative.html"]
    page = pages[0].read_text()
    assert "Why is addition commutative?" in page and "Because it is." in page          # question, mark scheme
    assert "Order does not <em>matter</em>." in page and "(no answer)" in page          # cy left it empty
    assert "<script>document.title" not in page and "onerror" not in page and "$a+b=b+a$" in page
    rows = list(csv.reader(open(sheet)))
    assert rows == [["student", "question", "max_points", "points", "comment"],
                    ["amy", "toy: q_commutative", "1", "", ""], ["bo", "toy: q_commutative", "1", "", ""],
                    ["cy", "toy: q_commutative", "1", "", ""]]


def test_anonymous_labels_are_stable_and_hide_ids(graded):
    course, _, out = graded
    pages, sheet = write_review(course, out, anonymous=True)
    names = labels(out, ["amy", "bo", "cy"])
    assert names == labels(out, ["amy", "bo", "cy"]) and len(set(names.values())) == 3
    page, text = pages[0].read_text(), sheet.read_text()
    assert all(v in page and v in text for v in names.values())
    assert not any(s in text.split("\n", 1)[1] for s in ("amy", "bo,", "cy"))


def test_bad_rows_are_refused_and_nothing_changes(graded, tmp_path):
    course, _, out = graded
    before = _snapshot(out)
    bad = _write(tmp_path / "bad.csv", [
        ["student", "question", "points", "comment"],
        ["amy", "toy: q_commutative", "1", "ok"],
        ["zed", "toy: q_commutative", "1", ""],           # unknown student
        ["bo", "toy: q_nope", "1", ""],                   # unknown question
        ["cy", "toy: q_commutative", "1.5", ""],          # over the maximum
        ["amy", "q_commutative", "0", "again"],           # the same student and question twice
    ])
    with pytest.raises(HandGradingError) as err:
        merge_review(course, out, bad)
    msg = str(err.value)
    assert "unknown student 'zed'" in msg and "unknown question 'toy: q_nope'" in msg
    assert "out of range (0 to 1)" in msg and "given twice" in msg
    assert _snapshot(out) == before


def test_merge_then_resume_and_regrade_keep_the_hand_grades(graded, tmp_path):
    course, folder, out = graded
    names = labels(out, ["amy", "bo", "cy"])
    sheet = _write(tmp_path / "filled.csv", [
        ["label", "question", "max_points", "points", "comment"],
        [names["amy"], "toy: q_commutative", "1", "1", "Right: the order of the operands does not matter."],
        [names["bo"], "toy: q_commutative", "1", "0.5", "Half: <b>say why</b>."],
        [names["cy"], "toy: q_commutative", "1", "", ""],       # not graded yet: skipped
    ])
    assert set(merge_review(course, out, sheet)) == {"amy", "bo"}

    def check():
        merged = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
        # amy: 4 automatic + 1 written; bo: add solved (1 + 2 hidden) + 0.5; cy: nothing; max 4 + 1
        assert {s: (r["score"], r["toy: q_commutative"], r["total"], r["max_total"]) for s, r in merged.items()} == {
            "amy": ("4", "1", "5", "5"), "bo": ("3", "0.5", "3.5", "5"), "cy": ("0", "", "0", "5")}
        import json
        bo = json.loads((out / "bo" / "results.json").read_text())
        q = next(t for t in bo["tests"] if t["name"] == "toy: q_commutative")
        assert (q["score"], q["max_score"]) == (0.5, 1) and "say why" in q["output"] and bo["score"] == 3.5
        fb = (out / "bo" / "feedback" / "toy.html").read_text()
        assert "q_commutative</code>: 0.5 / 1" in fb and "<b>say why</b>" in fb
        canvas = list(csv.reader(open(out / "canvas_grades.csv")))
        assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "toy", "Total"]
        assert canvas[1] == ["Points Possible", "", "", "", "", "5", "5"]
        assert canvas[3] == ["bo", "", "bo", "bo", "", "3.5", "3.5"]
        moodle = list(csv.reader(open(out / "moodle_grades.csv")))
        assert moodle[0] == ["Username", "Email address", "toy", "Total"] and moodle[1] == ["amy", "", "5", "5"]

    check()
    shutil.rmtree(out / "bo")                             # a run killed before bo finished: resume
    grade_batch(course, folder, out, log=lambda *_: None)
    check()
    (out / "amy" / ".graded").unlink()                    # a regrade (after a fix to the tests, say)
    logs = []
    grade_batch(course, folder, out, log=logs.append)
    assert "1 to grade" in logs[0]
    check()
