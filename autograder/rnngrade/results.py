"""What grading produces: one :class:`TestResult` per graded cell, gathered in a :class:`StudentResult` with the
student's notes, feedback pages and autograded notebooks (``rnngrade.report`` writes them out)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TestResult:
    notebook: str
    grade_id: str
    score: float
    max_score: float
    output: str = ""
    hidden: bool = False   # the test's code is hidden from students
    manual: bool = False   # graded by hand (written answers); not part of the automatic score
    missing: str = ""      # why the whole notebook scored 0 (not submitted, unreadable); empty when it was graded
    answer: str = ""       # manual cells: the student's written answer (markdown)
    hand_graded: bool = False   # manual cells: points given by hand (rnngrade merge-review)
    comment: str = ""      # manual cells: the grader's comment

    @property
    def name(self) -> str:
        return f"{self.notebook}: {self.grade_id}"


@dataclass
class StudentResult:
    student: str
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    feedback: dict[str, str] = field(default_factory=dict)  # notebook -> HTML
    assignments: list[str] = field(default_factory=list)    # the assignments graded, in course order
    autograded: dict[str, str] = field(default_factory=dict)  # notebook -> the autograded notebook (JSON text)
    timings: dict = field(default_factory=dict)     # seconds per phase of this run (rnngrade.timings)

    @property
    def auto_tests(self) -> list[TestResult]:
        return [t for t in self.tests if not t.manual]

    @property
    def manual_tests(self) -> list[TestResult]:
        return [t for t in self.tests if t.manual]

    @property
    def hand_score(self) -> float:
        """Points given by hand so far (written answers)."""
        return sum(t.score for t in self.manual_tests if t.hand_graded)

    @property
    def score(self) -> float:
        return sum(t.score for t in self.auto_tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.auto_tests)
