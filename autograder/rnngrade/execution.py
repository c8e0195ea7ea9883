"""How student notebooks run when graded: a kernel with a memory cap, and survival of a dead kernel.

nbgrader's own Execute gives up on the whole notebook when the kernel dies (``os._exit``, a segfault, the memory
cap): every test, even those that had already passed, would score 0. ``SafeExecute`` instead records the death
in the cell that caused it and marks every later code cell as not run (an error output, so a test cell that never
ran can never score), and the tests that passed before keep their points.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

from . import timings
from .demo_cells import DemoCells, is_demo_source_cell

KERNEL_NAME = "rnngrade-python3"          # the student's kernel
JUDGE_KERNEL_NAME = "rnngrade-judge"       # the kernel that runs the tests of separately judged notebooks
MEMORY_ENV = "RNNGRADE_MEMORY_MB"
DEFAULT_MEMORY_MB = 6144


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _not_run(dead_at: int) -> list[NotebookNode]:
    """The outputs of a cell that never ran because the student's kernel died (it scores 0)."""
    return [_error("KernelDied", f"Not run: the kernel died earlier, in code cell {dead_at}.")]


def _notebook_name(resources) -> str:
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
        self._timed_nb = _notebook_name(resources)
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
            cell.outputs = _not_run(self._dead_at)
            return cell, resources
        try:
            result = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead_at = index
            cell.outputs.append(_error(
                "KernelDied", "The kernel died while running this cell (os._exit, a crash, or more memory than the "
                f"grader allows, {memory_limit_mb()} MB). Later cells were not run."))
            return cell, resources
        except CellTimeoutError as exc:
            # the kernel stopped sending output (code that broke the kernel's own machinery, e.g. builtins):
            # this cell fails; after the second time in a row, the kernel is given up like a dead one
            self._unresponsive += 1
            cell.outputs.append(_error("KernelUnresponsive", f"The kernel stopped answering: {str(exc)[:200]}"))
            if self._unresponsive >= 2:
                self._dead_at = index
            return cell, resources
        self._unresponsive = 0
        return result


def memory_limit_mb() -> int:
    return int(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB))


def install_kernelspec(folder: Path, sandbox_env: dict | None = None) -> str:
    """Write the kernelspecs of the student kernel (memory-capped; sandboxed as ``sandbox_env`` says, from
    ``rnngrade.sandbox.kernel_env``) and of the judge kernel (memory-capped) under ``folder/kernels``; return the
    folder to put on JUPYTER_PATH."""
    for name, role in ((KERNEL_NAME, "student"), (JUDGE_KERNEL_NAME, "judge")):
        spec = Path(folder) / "kernels" / name
        spec.mkdir(parents=True, exist_ok=True)
        env = {MEMORY_ENV: str(memory_limit_mb()), "RNNGRADE_KERNEL_ROLE": role}
        if role == "student" and sandbox_env:
            env.update(sandbox_env)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "rnngrade.limited_kernel", "-f", "{connection_file}"],
            "display_name": f"Python 3 (graded, {role})",
            "language": "python",
            # bwrap does not pass signals on: interrupts travel as messages (ipykernel signals itself)
            "interrupt_mode": "message" if role == "student" and sandbox_env else "signal",
            "env": env,
        }))
    return str(folder)


# -- judging in a separate process (see rnngrade.judge) ---------------------------------------------------


JUDGE_ENV = "RNNGRADE_JUDGE"


def judge_mode(nb) -> str:
    """'separate' when a (source) notebook asks for its tests to run outside the student's process, else
    'kernel'. RNNGRADE_JUDGE=kernel forces nbgrader's way for every notebook (to compare, or to debug a test)."""
    if os.environ.get(JUDGE_ENV, "") == "kernel":
        return "kernel"
    return str(nb.get("metadata", {}).get("rnngrade", {}).get("judge", "kernel"))


def solution_names(nb) -> list[str]:
    """Names the source notebook's solution cells define at top level (functions, classes, assignments)."""
    import ast

    names: list[str] = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        src = "\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!")))
        for node in ast.parse(src).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, ast.Assign):
                names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))


class JudgedExecute(SafeExecute):
    """SafeExecute, plus judging outside the student's process for notebooks whose source asks for it.

    The student's notebook runs in the (capped) student kernel without its test cells. The tests run in a second
    kernel, the judge, which executes only the instructor's code taken from the source notebook: each test cell
    when the submission reaches it, after the locked non-graded code cells (imports, helpers) that precede it in
    the source, with the solution cells' names bound to proxies that call the student kernel (``rnngrade.judge``).
    A test cell's outputs in the graded notebook are the judge's. Notebooks without the metadata run as in nbgrader.
    """

    def preprocess(self, nb, resources=None, km=None):
        self._judge = None
        self._judge_dead = True
        self._timed_nb = _notebook_name(resources)
        source = self._source_notebook(resources)
        self._demo = DemoCells(source)
        if source is None or judge_mode(source) != "separate":
            return super().preprocess(nb, resources, km)
        import tempfile

        from .sandbox import SCRATCH_ENV, spec_env

        scratch = spec_env(self.kernel_name).get(SCRATCH_ENV)   # sandboxed: the folder bound into the sandbox
        self._sockdir = tempfile.mkdtemp(prefix="rnnjudge-", dir=os.path.join(scratch, "sockets") if scratch else None)
        self._sock = os.path.join(self._sockdir, "s")
        self._bootstrapped = False
        self._tests, self._setup = {}, []      # grade_id -> (position, cell); [(position, cell)] still to run
        for pos, cell in enumerate(source.cells):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type != "code" or meta.get("solution"):
                continue
            if meta.get("grade"):
                self._tests[meta.get("grade_id")] = (pos, cell)
            elif meta.get("locked") and not is_demo_source_cell(cell):   # the judge skips demonstrations too
                self._setup.append((pos, cell))
        self._start_judge(resources, solution_names(source))
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._stop_judge()

    def _source_notebook(self, resources):
        import nbformat
        from nbgrader.coursedir import CourseDirectory

        info = (resources or {}).get("nbgrader", {})
        if not info.get("assignment") or not info.get("notebook"):
            return None
        cd = CourseDirectory(config=self.config)
        path = Path(cd.format_path(cd.source_directory, ".", info["assignment"])) / f"{info['notebook']}.ipynb"
        return nbformat.read(str(path), as_version=4) if path.exists() else None

    def _start_judge(self, resources, names: list[str]) -> None:
        import nbformat

        judge = Execute(config=self.config)
        if self.kernel_name == KERNEL_NAME:
            judge.kernel_name = JUDGE_KERNEL_NAME
        judge.nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell()])   # nbclient stores each run cell at index 0
        judge.resources = resources
        judge.km = judge.create_kernel_manager()
        cwd = (resources or {}).get("metadata", {}).get("path") or self._sockdir
        with timings.current().phase("kernel_start", self._timed_nb):
            judge.start_new_kernel(cwd=cwd)
            judge.start_new_kernel_client()
        self._judge = judge
        boot = nbformat.v4.new_code_cell(
            f"from rnngrade.judge import install as _rnngrade_install\n"
            f"_rnngrade_install(globals(), {self._sock!r}, {names!r})\n"
            f"del _rnngrade_install")
        judge.execute_cell(boot, 0)
        if any(o.get("output_type") == "error" for o in boot.outputs):
            raise RuntimeError(f"the judge kernel did not start: {boot.outputs}")
        self._judge_dead = False

    def _stop_judge(self) -> None:
        import shutil

        if self._judge is not None:
            self._record_round_trips()
            try:
                with timings.current().phase("kernel_stop", self._timed_nb):
                    self._judge._cleanup_kernel()
            except Exception:  # noqa: BLE001
                pass
            self._judge = None
        shutil.rmtree(self._sockdir, ignore_errors=True)

    def _record_round_trips(self) -> None:
        """Ask the judge how many calls it made to the student's kernel and how long they took (timings only)."""
        import json

        import nbformat

        if self._judge_dead:
            return
        cell = nbformat.v4.new_code_cell("import json as _j, rnngrade.judge as _rj\n"
                                         "print(_j.dumps(_rj.ROUND_TRIPS)); del _j, _rj")
        try:
            self._judge.execute_cell(cell, 0)
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
            stats = json.loads(text.strip().splitlines()[-1])
            timings.current().count("round_trips", int(stats["calls"]), self._timed_nb)
            timings.current().add("round_trip_s", float(stats["seconds"]), self._timed_nb)
        except Exception:  # noqa: BLE001 -- timings are information; a judge that cannot say costs nothing
            pass

    def _run_in_judge(self, source_cell, phase: str = "judge_tests"):
        with timings.current().phase(phase, self._timed_nb):
            return self._execute_in_judge(source_cell)

    def _execute_in_judge(self, source_cell):
        import nbformat

        cell = nbformat.v4.new_code_cell(source_cell.source)
        if self._judge_dead:
            cell.outputs = [_error("JudgeDied", "Not run: the judge kernel died earlier.")]
            return cell
        try:
            self._judge.execute_cell(cell, 0)
        except DeadKernelError:
            self._judge_dead = True
            cell.outputs.append(_error("JudgeDied", "The judge kernel died while running this test."))
        return cell

    def preprocess_cell(self, cell, resources, index):
        if self._judge is None or cell.cell_type != "code":
            return super().preprocess_cell(cell, resources, index)
        import nbformat

        if not self._bootstrapped:          # the call server starts before any of the student's code
            self._bootstrapped = True
            uid = (getattr(self.km.kernel_spec, "env", None) or {}).get("RNNGRADE_SANDBOX_UID")
            if uid:
                os.chown(self._sockdir, int(uid), int(uid))   # posix-only: guarded (the sandbox's uid, Linux only)
            boot = nbformat.v4.new_code_cell(
                f"from rnngrade.judge import serve as _rnngrade_serve\n_rnngrade_serve({self._sock!r})\n"
                f"del _rnngrade_serve")
            super().preprocess_cell(boot, resources, index)
            self.nb.cells[index] = cell          # nbclient stored the bootstrap cell in this cell's place
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("grade") and not meta.get("solution")):
            return super().preprocess_cell(cell, resources, index)      # the student's kernel
        gid = meta.get("grade_id")
        if self._dead_at is not None:
            cell.outputs = _not_run(self._dead_at)
        elif gid not in self._tests:
            cell.outputs = [_error("UnknownTest", f"No test with grade_id {gid!r} in the source notebook.")]
        else:
            pos, source = self._tests[gid]
            # the instructor's locked set-up cells that come before this test in the source, once each
            while self._setup and self._setup[0][0] < pos:
                self._run_in_judge(self._setup.pop(0)[1], "judge_setup")
            cell.outputs = self._run_in_judge(source).outputs
        return cell, resources
