"""Where one grading run's seconds go: a per-phase record, cheap enough to be always on.

``grade_submission`` starts a fresh :class:`Timings` (:func:`start`) and the steps add to it through
:func:`current`: a handful of ``perf_counter`` calls per cell, nothing else. ``rnngrade grade --timings`` (or
``RNNGRADE_TIMINGS=1``) writes it as ``OUT/timings.json`` beside results.json; ``bench/bench_grading_phases.py``
prints it as a table. Phases, in the order a submission meets them:

- ``workspace``: copying the sources and nbgrader's ``generate_assignment`` (its database and release)
- ``repair``: reading and repairing the submitted notebooks (``rnngrade.normalize``)
- ``kernel_start``: starting the student's kernel and the judge's, up to their first answer
- ``student_cells``: the cells run in the student's kernel (the student's code and the locked set-up cells)
- ``judge_setup``: the locked cells the judge kernel runs before the tests
- ``judge_tests``: the test cells, run in the judge (each proxy call is a round trip to the student's kernel;
  their number and time are ``round_trips`` / ``round_trip_s``, measured judge-side)
- ``kernel_stop``: shutting both kernels down
- ``nbgrader_other``: the rest of nbgrader's autograde (sanitizing, checksums, restoring cells, the gradebook,
  writing the notebook): the autograde's wall time minus the phases above
- ``collect``: reading scores and outputs back from the gradebook and the autograded notebooks
- ``feedback``: rendering the feedback pages

``skipped_demo_cells`` counts the demonstration cells not run (``rnngrade.demo_cells``).
"""
from __future__ import annotations

import contextlib
import time
from collections import defaultdict

from . import settings

PHASES = ("workspace", "repair", "kernel_start", "student_cells", "judge_setup", "judge_tests", "kernel_stop",
          "nbgrader_other", "collect", "feedback")
_INSIDE_AUTOGRADE = ("kernel_start", "student_cells", "judge_setup", "judge_tests", "kernel_stop")


class Timings:
    """Seconds per phase, per notebook (``""`` for work that is not one notebook's), and counters."""

    def __init__(self):
        self.seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.autograde_s: dict[str, float] = defaultdict(float)   # assignment -> nbgrader autograde wall time
        self._assignment_notebooks: dict[str, list[str]] = {}
        self.started = time.perf_counter()
        self.total_s = 0.0

    def add(self, phase: str, seconds: float, notebook: str = "") -> None:
        self.seconds[phase][notebook] += seconds

    def count(self, what: str, n: int = 1, notebook: str = "") -> None:
        self.counts[what][notebook] += n

    @contextlib.contextmanager
    def phase(self, name: str, notebook: str = ""):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t0, notebook)

    @contextlib.contextmanager
    def autograde(self, assignment: str, notebooks: list[str]):
        """nbgrader's autograde of one assignment; what the execution phases do not explain is nbgrader's own."""
        self._assignment_notebooks[assignment] = list(notebooks)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.autograde_s[assignment] += time.perf_counter() - t0

    def finish(self) -> "Timings":
        self.total_s = time.perf_counter() - self.started
        for a, wall in self.autograde_s.items():
            nbs = self._assignment_notebooks.get(a, [])
            inside = sum(self.seconds[p].get(nb, 0.0) for p in _INSIDE_AUTOGRADE for nb in nbs)
            self.seconds["nbgrader_other"][nbs[0] if len(nbs) == 1 else a] += max(wall - inside, 0.0)
        return self

    def as_dict(self) -> dict:
        """{"total_s", "phases": {phase: {"total_s", "by_notebook": {nb: s}}}, "counts": {what: {nb: n}}}."""
        phases = {}
        for p in list(PHASES) + sorted(set(self.seconds) - set(PHASES)):
            by_nb = {nb: round(s, 3) for nb, s in sorted(self.seconds.get(p, {}).items())}
            phases[p] = {"total_s": round(sum(by_nb.values()), 3), "by_notebook": by_nb}
        counts = {k: dict(sorted(v.items())) for k, v in sorted(self.counts.items())}
        return {"total_s": round(self.total_s, 3), "phases": phases, "counts": counts}


_current = Timings()


def start() -> Timings:
    """A fresh record for one grading run; the steps below add to it through :func:`current`."""
    global _current
    _current = Timings()
    return _current


def current() -> Timings:
    return _current


def wanted() -> bool:
    """Whether timings.json is written (RNNGRADE_TIMINGS=1, or ``rnngrade grade --timings``, which sets it)."""
    return settings.TIMINGS.value() not in ("", "0")


def table(data: dict) -> str:
    """A markdown table of :meth:`Timings.as_dict` (one row per phase, the notebooks' share in the last column)."""
    total = data.get("total_s") or 0.0
    rows = ["| phase | seconds | share | largest notebooks |", "|---|---:|---:|---|"]
    for p, d in data["phases"].items():
        if not d["by_notebook"] and p not in PHASES:
            continue
        top = sorted(((s, nb) for nb, s in d["by_notebook"].items() if nb), reverse=True)[:3]
        share = f"{100 * d['total_s'] / total:.0f} %" if total else ""
        rows.append(f"| {p} | {d['total_s']:.1f} | {share} | {', '.join(f'{nb} {s:.1f}' for s, nb in top)} |")
    phased = sum(d["total_s"] for d in data["phases"].values())
    rows.append(f"| other (between phases) | {max(total - phased, 0):.1f} | | |")
    rows.append(f"| **total** | **{total:.1f}** | | |")
    for what, by_nb in data.get("counts", {}).items():
        rows.append(f"| ({what}) | {sum(by_nb.values())} | | |")
    return "\n".join(rows)
