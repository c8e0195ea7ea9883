"""Survival of a dead kernel: how a student notebook runs when graded (nbgrader's Execute, made robust).

nbgrader's own Execute gives up on the whole notebook when the kernel dies (``os._exit``, a segfault, the memory
cap): every test, even those that had already passed, would score 0. ``SafeExecute`` instead records the death
in the cell that caused it and marks every later code cell as not run (an error output, so a test cell that never
ran can never score), and the tests that passed before keep their points. After the notebook, nothing of the
student's kernel survives (``rnngrade.sandbox.clean_up``).

The kernels' specs are ``rnngrade.kernelspecs``; judging tests outside the student's kernel is
``rnngrade.judged_execution`` (a subclass of ``SafeExecute``).
"""
from __future__ import annotations

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

from . import timings
from .demo_cells import DemoCells
from .kernelspecs import memory_limit_mb


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output (a test cell that has one never scores)."""
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def not_run(dead_at: int) -> list[NotebookNode]:
    """The outputs of a cell that never ran because the student's kernel died (it scores 0)."""
    return [error_output("KernelDied", f"Not run: the kernel died earlier, in code cell {dead_at}.")]


def run_cell_aside(run, nb, cell, index: int):
    """``run(cell, index)`` for a cell that is not ``nb.cells[index]`` (a bootstrap cell, a judge's test cell),
    leaving ``nb.cells[index]`` as it was.

    The one place the grader relies on an nbclient internal: ``NotebookClient.execute_cell(cell, index)`` stores
    the cell it ran at ``nb.cells[index]`` (its last statement, nbclient 0.10 and 0.11); nbclient has no public
    way to run a cell that is not part of the notebook."""
    kept = nb.cells[index]
    try:
        return run(cell, index)
    finally:
        nb.cells[index] = kept


def notebook_name(resources) -> str:
    """The notebook nbgrader is processing, from its ``resources`` ("" when it does not say)."""
    return str((resources or {}).get("nbgrader", {}).get("notebook", ""))


class SafeExecute(Execute):
    """nbgrader's Execute, but a dead kernel costs only the cells from the one that killed it onwards.

    Cells the source notebook marks as demonstrations are not run (``rnngrade.demo_cells``; JudgedExecute reads
    the source), and the time of each step is recorded (``rnngrade.timings``)."""

    _demo = DemoCells()          # none: JudgedExecute sets the source notebook's for each run
    _timed_nb = ""

    def preprocess(self, nb, resources=None, km=None):
        from .sandbox import clean_up, spec_env

        self._dead_at = None
        self._unresponsive = 0
        self._timed_nb = notebook_name(resources)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            clean_up(spec_env(self.kernel_name))    # nothing of the student's kernel outlives its notebook

    # timing hooks (rnngrade.timings): nbclient calls these by name
    def start_new_kernel(self, **kwargs):
        with timings.current().phase("kernel_start", self._timed_nb):
            return super().start_new_kernel(**kwargs)

    def start_new_kernel_client(self):
        with timings.current().phase("kernel_start", self._timed_nb):
            return super().start_new_kernel_client()

    def _cleanup_kernel(self):
        with timings.current().phase("kernel_stop", self._timed_nb):
            return super()._cleanup_kernel()

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._demo.skips(cell):                  # rnngrade.demo_cells: the source marks it as a demonstration
            timings.current().count("skipped_demo_cells", 1, self._timed_nb)
            return self._demo.skip(cell), resources
        with timings.current().phase("student_cells", self._timed_nb):
            return self._run_student_cell(cell, resources, index)

    def _run_student_cell(self, cell, resources, index):
        if self._dead_at is not None:
            cell.outputs = not_run(self._dead_at)
            return cell, resources
        try:
            result = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead_at = index
            cell.outputs.append(error_output(
                "KernelDied", "The kernel died while running this cell (os._exit, a crash, or more memory than the "
                f"grader allows, {memory_limit_mb()} MB). Later cells were not run."))
            return cell, resources
        except CellTimeoutError as exc:
            # the kernel stopped sending output (code that broke the kernel's own machinery, e.g. builtins):
            # this cell fails; after the second time in a row, the kernel is given up like a dead one
            self._unresponsive += 1
            cell.outputs.append(error_output("KernelUnresponsive", f"The kernel stopped answering: {str(exc)[:200]}"))
            if self._unresponsive >= 2:
                self._dead_at = index
            return cell, resources
        self._unresponsive = 0
        return result
