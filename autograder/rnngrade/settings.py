"""Every ``RNNGRADE_*`` environment variable: its default and its meaning, read here and nowhere else.

Set by whoever runs the grader (all optional):

=========================== ============ ==========================================================================
variable                    default      meaning
=========================== ============ ==========================================================================
``RNNGRADE_ROOT``           (checkout)   the workbook's root folder; default: the checkout rnngrade is installed from
``RNNGRADE_CELL_TIMEOUT``   120          seconds one cell may run when autograding; then it is interrupted
``RNNGRADE_CALL_TIMEOUT``   60           seconds one call from the separate judge into the student's code may take
``RNNGRADE_MEMORY_MB``      6144         memory cap of each grading kernel (student and judge), MB; 0: no cap
``RNNGRADE_JUDGE``          (empty)      ``kernel``: run every notebook's tests in the student's kernel, nbgrader's
                                         way (to compare, or to debug a test), even where the source asks for the
                                         separate judge
``RNNGRADE_SANDBOX``        1            ``0``: no sandbox (a student checking their own work)
``RNNGRADE_SANDBOX_LEVEL``  (strongest)  force a weaker sandbox level: ``permissions`` or ``none`` (docs/SANDBOX.md)
``RNNGRADE_HIDE``           (empty)      more folders (``os.pathsep``-separated) the permissions level hides
``RNNGRADE_SCRATCH_MB``     512          size of each of the sandbox's private ``/tmp``, ``/var/tmp``, ``/dev/shm``
``RNNGRADE_MAX_PROCESSES``  512          processes (and threads) the sandbox's user id may have
``RNNGRADE_PYTHON``         (venv)       the Python of the Gradescope ``run_autograder`` script (read by that shell
                                         script, ``rnngrade.gradescope``)
``RNNGRADE_TIMINGS``        0            ``1``: ``rnngrade grade`` also writes ``timings.json`` (seconds per grading
                                         phase, ``rnngrade.timings``); ``--timings`` sets it
=========================== ============ ==========================================================================

Set by the grader itself, in the environment of the kernels it starts (never by hand):

=========================== ==========================================================================================
``RNNGRADE_KERNEL_ROLE``    ``student`` or ``judge``: which kernel ``rnngrade.limited_kernel`` is starting
``RNNGRADE_SANDBOX_UID``    the unprivileged user id the student kernel drops to
``RNNGRADE_SCRATCH``        the grading workspace's host folder for the sandbox (judge sockets, permissions home)
``RNNGRADE_READONLY``       host folders (``os.pathsep``-separated) the namespace sandbox shows read-only
``RNNGRADE_INSIDE_SANDBOX`` ``1`` once the student kernel runs inside ``bwrap``
=========================== ==========================================================================================

Values are read when asked for (``MEMORY_MB.as_int()``), not at import, so a test or a batch can change them.
This module imports nothing of the grader: the grading kernels import it before anything else.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One environment variable: ``name``, ``default`` (a string as the environment holds it; "" when unset means
    no value) and ``meaning`` (one line)."""

    name: str
    default: str
    meaning: str
    internal: bool = False          # set by the grader for its kernels, not by the person who grades

    def value(self, env=None) -> str:
        """The variable in ``env`` (default: this process's environment), or the default if it is unset or empty."""
        return (os.environ if env is None else env).get(self.name) or self.default

    def as_int(self, env=None) -> int:
        return int(self.value(env))

    def as_float(self, env=None) -> float:
        return float(self.value(env))

    def as_paths(self, env=None) -> list[str]:
        """An ``os.pathsep``-separated list, without empty entries."""
        return [p for p in self.value(env).split(os.pathsep) if p]


ROOT = Setting("RNNGRADE_ROOT", "", "the workbook's root folder (default: the checkout rnngrade is installed from)")
CELL_TIMEOUT = Setting("RNNGRADE_CELL_TIMEOUT", "120", "seconds one cell may run when autograding")
CALL_TIMEOUT = Setting("RNNGRADE_CALL_TIMEOUT", "60",
                       "seconds one call from the judge into the student's code may take")
MEMORY_MB = Setting("RNNGRADE_MEMORY_MB", "6144", "memory cap of each grading kernel, MB (0: no cap)")
JUDGE = Setting("RNNGRADE_JUDGE", "", "'kernel': every notebook's tests run in the student's kernel (nbgrader's way)")
SANDBOX = Setting("RNNGRADE_SANDBOX", "1", "'0': no sandbox")
SANDBOX_LEVEL = Setting("RNNGRADE_SANDBOX_LEVEL", "", "force a weaker sandbox level (permissions, none); "
                        "the level chosen, in a student kernel's environment")
HIDE = Setting("RNNGRADE_HIDE", "", "more folders the permissions level hides (os.pathsep-separated)")
SCRATCH_MB = Setting("RNNGRADE_SCRATCH_MB", "512", "size of each of the sandbox's private temporary folders, MB")
MAX_PROCESSES = Setting("RNNGRADE_MAX_PROCESSES", "512", "processes (and threads) the sandbox's user id may have")
PYTHON = Setting("RNNGRADE_PYTHON", "", "the Python of Gradescope's run_autograder script (read by that script)")
TIMINGS = Setting("RNNGRADE_TIMINGS", "0", "'1': rnngrade grade also writes timings.json (seconds per grading phase)")

KERNEL_ROLE = Setting("RNNGRADE_KERNEL_ROLE", "", "student or judge: the kernel being started", internal=True)
SANDBOX_UID = Setting("RNNGRADE_SANDBOX_UID", "", "the user id the student kernel drops to", internal=True)
SCRATCH = Setting("RNNGRADE_SCRATCH", "", "the workspace's host folder for the sandbox", internal=True)
READONLY = Setting("RNNGRADE_READONLY", "", "host folders the namespace sandbox shows read-only", internal=True)
INSIDE_SANDBOX = Setting("RNNGRADE_INSIDE_SANDBOX", "", "'1' once the student kernel runs inside bwrap",
                         internal=True)

ALL = (ROOT, CELL_TIMEOUT, CALL_TIMEOUT, MEMORY_MB, JUDGE, SANDBOX, SANDBOX_LEVEL, HIDE, SCRATCH_MB, MAX_PROCESSES,
       PYTHON, TIMINGS, KERNEL_ROLE, SANDBOX_UID, SCRATCH, READONLY, INSIDE_SANDBOX)
