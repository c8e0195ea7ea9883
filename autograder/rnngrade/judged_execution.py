"""Judging outside the student's process: the execute step for notebooks whose source asks for it.

A notebook whose source says ``"rnngrade": {"judge": "separate"}`` in its metadata runs in two kernels
(``rnngrade.judge`` describes the protocol between them):

- the **student kernel** runs the student's notebook without its test cells; before the student's first cell
  a bootstrap cell starts the judge's call server in it (``rnngrade.judge.serve``);
- the **judge kernel** (:class:`JudgeKernel`) runs only the instructor's code taken from the source notebook:
  each test cell when the submission reaches it, after the locked non-graded code cells (imports, helpers) that
  precede it in the source, with the solution cells' names bound to proxies that call the student kernel
  (``rnngrade.judge.install``). A test cell's outputs in the graded notebook are the judge's.

The two kernels start side by side: the judge's is launched first and connected once the student's answers; it
then imports the heavy modules its cells name while the student's first cells run (on the other core). A judge
that cannot be connected costs that notebook's tests, each saying why; grading goes on.

Notebooks without the metadata run as in nbgrader (``SafeExecute``). ``RNNGRADE_JUDGE=kernel`` forces that for
every notebook (``rnngrade.settings``).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbclient.exceptions import DeadKernelError
from nbgrader.preprocessors import Execute

from . import settings, source_notebook, timings
from .execution import SafeExecute, error_output, not_run, notebook_name, run_cell_aside
from .judge import transport
from .kernelspecs import JUDGE_KERNEL_NAME, KERNEL_NAME


def judge_mode(source: source_notebook.SourceNotebook) -> str:
    """'separate' when a source notebook asks for its tests to run outside the student's process, else
    'kernel'. RNNGRADE_JUDGE=kernel forces nbgrader's way for every notebook (to compare, or to debug a test)."""
    if settings.JUDGE.value() == "kernel":
        return "kernel"
    return source.judge_mode


class JudgeKernel:
    """The judge kernel of one notebook, with ``names`` bound to the student's code behind ``sock``, running the
    source's cells one at a time.

    Started in two halves so that its start overlaps the student kernel's: the constructor only launches the
    process; :meth:`connect` (after the student's kernel is up) waits until it answers, binds the names and starts
    importing ``modules`` (:meth:`warm_up`). Stopped by :meth:`close`, connected or not."""

    def __init__(self, config, kernel_name: str, resources, cwd: str, sock: str, names: list[str],
                 modules: list[str] = (), timed_nb: str = ""):
        self.timed_nb = timed_nb              # the notebook its time is recorded for (rnngrade.timings)
        self.client = Execute(config=config)
        self.client.kernel_name = kernel_name
        self.client.nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell()])   # a scratch notebook
        self.client.resources = resources
        self.dead: bool | str = False         # True, or why it never started
        self.connected = False
        self._cwd, self._sock, self._names, self._modules = cwd, sock, list(names), list(modules)
        self._stack = contextlib.ExitStack()
        with timings.current().phase("kernel_start", timed_nb):
            self.client.create_kernel_manager()
            self.client.start_new_kernel(cwd=cwd)       # launched; setup_kernel (in connect) waits for it

    def connect(self) -> None:
        """Wait for the judge kernel, bind the student's names to proxies and start the warm-up imports."""
        self.connected = True
        with timings.current().phase("kernel_start", self.timed_nb):
            self._stack.enter_context(self.client.setup_kernel(cwd=self._cwd))
        boot = self._execute(nbformat.v4.new_code_cell(
            f"from rnngrade.judge import install as _rnngrade_install\n"
            f"_rnngrade_install(globals(), {self._sock!r}, {self._names!r})\n"
            f"del _rnngrade_install"))
        if any(o.get("output_type") == "error" for o in boot.outputs):
            raise RuntimeError(f"the judge kernel did not start: {boot.outputs}")
        self.warm_up(self._modules)

    def warm_up(self, modules: list[str]) -> None:
        """Start importing ``modules`` in the judge without waiting: the kernel works on it while the student's
        kernel starts and runs its first cells (on another core), and the judge's first cell waits for it as the
        kernel runs requests in order. nbclient ignores the replies of requests it did not send. Importing binds no
        name in the judge's namespace, so its cells run as before."""
        if modules:
            self.client.kc.execute(f"def _rnngrade_warm():\n"
                                   f"    import importlib\n"
                                   f"    for m in {modules!r}:\n"
                                   f"        try:\n"
                                   f"            importlib.import_module(m)\n"
                                   f"        except Exception:\n"
                                   f"            pass\n"
                                   f"_rnngrade_warm()\n"
                                   f"del _rnngrade_warm", silent=True, store_history=False)

    def _execute(self, cell):
        run_cell_aside(self.client.execute_cell, self.client.nb, cell, 0)
        return cell

    def run(self, source_cell, phase: str = "judge_tests"):
        """A new cell with ``source_cell``'s code, run in the judge (its outputs say so if the judge died); its
        time counts to ``phase``."""
        with timings.current().phase(phase, self.timed_nb):
            return self._run(source_cell)

    def _run(self, source_cell):
        cell = nbformat.v4.new_code_cell(source_cell.source)
        if self.dead:
            why = self.dead if isinstance(self.dead, str) else "Not run: the judge kernel died earlier."
            cell.outputs = [error_output("JudgeDied", why)]
            return cell
        try:
            self._execute(cell)
        except DeadKernelError:
            self.dead = True
            cell.outputs.append(error_output("JudgeDied", "The judge kernel died while running this test."))
        return cell

    def round_trips(self) -> None:
        """Ask the judge how many calls it made to the student's kernel and how long they took (timings only)."""
        import json

        if self.dead:
            return
        cell = self._run(nbformat.v4.new_code_cell("import json as _j, rnngrade.judge as _rj\n"
                                                   "print(_j.dumps(_rj.ROUND_TRIPS)); del _j, _rj"))
        try:
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
            stats = json.loads(text.strip().splitlines()[-1])
            timings.current().count("round_trips", int(stats["calls"]), self.timed_nb)
            timings.current().add("round_trip_s", float(stats["seconds"]), self.timed_nb)
        except Exception:  # noqa: BLE001 -- timings are information; a judge that cannot say costs nothing
            pass

    def close(self) -> None:
        """Stop the judge kernel, whatever state it is in: connected (setup_kernel's exit shuts it down), launched
        but never connected (the student's kernel did not start), or launched and never ready (``connect`` failed
        half-way, before setup_kernel's clean-up was armed). Never waits for a kernel to become ready."""
        with timings.current().phase("kernel_stop", self.timed_nb):
            try:
                self._stack.close()
            except Exception:  # noqa: BLE001 -- a kernel that is already gone
                pass
            try:
                if self.client.km is not None:      # not cleaned up by setup_kernel: shut down (or kill) it here
                    self.client._cleanup_kernel()   # nbclient's own clean-up (what setup_kernel's exit calls)
            except Exception:  # noqa: BLE001 -- a kernel that is already gone
                pass


class JudgedExecute(SafeExecute):
    """SafeExecute, plus judging outside the student's process for notebooks whose source asks for it (see the
    module docstring)."""

    def preprocess(self, nb, resources=None, km=None):
        self._judge = None
        self._timed_nb = notebook_name(resources)
        source = self._source_notebook(resources)
        self._demo = source.demo_cells if source is not None else SafeExecute._demo
        if source is None or judge_mode(source) != "separate":
            return super().preprocess(nb, resources, km)
        from .sandbox import spec_env

        scratch = settings.SCRATCH.value(spec_env(self.kernel_name))   # sandboxed: the folder bound into it
        self._sockdir = tempfile.mkdtemp(prefix="rnnjudge-", dir=os.path.join(scratch, "sockets") if scratch else None)
        self._sock = os.path.join(self._sockdir, "s")
        self._bootstrapped = False
        tests, setup = source.judge_cells
        self._tests, self._setup = tests, list(setup)   # grade_id -> (position, cell); [(position, cell)] to run
        try:
            kernel = JUDGE_KERNEL_NAME if self.kernel_name == KERNEL_NAME else self.kernel_name
            cwd = (resources or {}).get("metadata", {}).get("path") or self._sockdir
            self._judge = JudgeKernel(self.config, kernel, resources, cwd, self._sock, source.solution_names,
                                      source.judge_imports, self._timed_nb)
            return super().preprocess(nb, resources, km)
        finally:
            if self._judge is not None:
                self._judge.round_trips()
                self._judge.close()
                self._judge = None
            shutil.rmtree(self._sockdir, ignore_errors=True)

    def start_new_kernel_client(self):
        """The student's kernel is up: now wait for the judge kernel, launched just before it (their starts
        overlap), and connect it."""
        result = super().start_new_kernel_client()
        if self._judge is not None and not self._judge.connected:
            try:
                self._judge.connect()
            except Exception as exc:  # noqa: BLE001 -- every test then says why it did not run (and scores 0)
                self._judge.dead = (f"Not run: the judge kernel did not start ({type(exc).__name__}: "
                                    f"{str(exc)[:200]}).")
        return result

    def _source_notebook(self, resources):
        from nbgrader.coursedir import CourseDirectory

        info = (resources or {}).get("nbgrader", {})
        if not info.get("assignment") or not info.get("notebook"):
            return None
        cd = CourseDirectory(config=self.config)
        path = Path(cd.format_path(cd.source_directory, ".", info["assignment"])) / f"{info['notebook']}.ipynb"
        return source_notebook.load(path) if path.exists() else None

    def _start_server(self, resources, index: int) -> None:
        """The judge's call server starts in the student's kernel before any of the student's code."""
        uid = settings.SANDBOX_UID.value(getattr(self.km.kernel_spec, "env", None) or {})
        if uid:
            os.chown(self._sockdir, int(uid), int(uid))   # posix-only: guarded (the sandbox's uid, Linux only)
        boot = nbformat.v4.new_code_cell(
            f"from rnngrade.judge import serve as _rnngrade_serve\n"
            f"_rnngrade_serve({self._sock!r}, kind={transport.default_kind()!r})\n"
            f"del _rnngrade_serve")
        run_cell_aside(lambda c, i: SafeExecute.preprocess_cell(self, c, resources, i), self.nb, boot, index)

    def preprocess_cell(self, cell, resources, index):
        if self._judge is None or cell.cell_type != "code":
            return super().preprocess_cell(cell, resources, index)
        if not self._bootstrapped:
            self._bootstrapped = True
            self._start_server(resources, index)
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("grade") and not meta.get("solution")):
            return super().preprocess_cell(cell, resources, index)      # the student's kernel
        gid = meta.get("grade_id")
        if self._dead_at is not None:
            cell.outputs = not_run(self._dead_at)
        elif gid not in self._tests:
            cell.outputs = [error_output("UnknownTest", f"No test with grade_id {gid!r} in the source notebook.")]
        else:
            pos, source = self._tests[gid]
            # the instructor's locked set-up cells that come before this test in the source, once each
            while self._setup and self._setup[0][0] < pos:
                self._judge.run(self._setup.pop(0)[1], "judge_setup")
            cell.outputs = self._judge.run(source).outputs
        return cell, resources
