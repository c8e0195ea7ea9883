"""rnngrade.student_ids: the one rule for student ids, used by `rnngrade grade` (--student or the submission's
name), batches (file and folder names) and grade_submission (which refuses anything else)."""
import random
import string
from pathlib import Path

import pytest

from rnngrade import student_ids
from rnngrade.batch import discover
from rnngrade.cli import _default_student
from rnngrade.grading import grade_submission


@pytest.mark.parametrize("name, expected", [
    ("alice", "alice"),
    ("Bob Smith", "Bob_Smith"),               # a space is not allowed
    ("../etc/passwd", "etc_passwd"),          # never a path: '/' becomes '_', the leading '._' go
    ("__init", "init"),
    ("+@-._", "student"),                     # nothing left
    ("", "student"),
    ("é1", "1"),                              # non-ASCII letters are replaced, then stripped as leading '_'
    ("a" * 150, "a" * 100),
    ("x.y@uni.edu+2", "x.y@uni.edu+2"),
])
def test_names_become_ids_by_the_rule(name, expected):
    assert student_ids.from_name(name) == expected


@pytest.mark.parametrize("good", ["a", "9", "a" * 100, "x.y@uni.edu+2", "A_b-c"])
def test_valid_ids_are_accepted_unchanged(good):
    assert student_ids.check(good) == good


@pytest.mark.parametrize("bad", ["", "_a", ".hidden", "a/b", "a b", "a" * 101, "..", "é"])
def test_invalid_ids_are_refused_with_the_rule(bad):
    with pytest.raises(ValueError, match="1-100 characters"):
        student_ids.check(bad)


def test_every_name_becomes_a_valid_id():
    rng = random.Random(0)
    alphabet = string.printable + "éü/\\\0"
    for _ in range(2000):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 130)))
        assert student_ids.check(student_ids.from_name(name))


def test_cli_batch_and_grading_share_the_rule(tmp_path):
    (tmp_path / "Bob Smith").mkdir()
    (tmp_path / "_carol.zip").write_bytes(b"")
    assert [e.student for e in discover(tmp_path, [])] == ["Bob_Smith", "carol"]
    assert _default_student(tmp_path / "Bob Smith") == "Bob_Smith"
    assert _default_student(tmp_path / "_carol.zip") == "carol"
    with pytest.raises(ValueError, match="1-100 characters"):
        grade_submission(None, tmp_path, "../x")
