"""A throw-away nbgrader course folder with its own gradebook, so no run ever sees another run's scores."""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .course import Course, shared_config


class NbgraderError(RuntimeError):
    """nbgrader itself failed (not a student's code): the message carries nbgrader's log."""


class Workspace:
    """``root/source/<assignment>/`` holds the solutions; ``root/gradebook.db`` the cells, points and checksums.

    Use as a context manager; the folder is deleted on exit unless ``keep=True``.
    """

    def __init__(self, course: Course, assignments: list[str] | None = None, keep: bool = False,
                 parent: Path | None = None):
        self.course = course
        self.assignments = list(assignments or course.assignments())
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="rnngrade-", dir=parent))
        for a in self.assignments:
            src = course.solutions / a
            if not src.is_dir():
                raise ValueError(f"unknown assignment {a!r} (have: {', '.join(course.assignments())})")
            shutil.copytree(src, self.root / "source" / a,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        self._api = None
        self._scratch = None
        self._generated = False
        self.sandbox_level = ("none", "not started yet")
        self.opened: list[str] = []       # folders opened for traversal so the sandbox user reaches Python
        self._modes: str | None = None    # this workspace's hold on the permissions level's chmods (sandbox_modes)

    # -- nbgrader ---------------------------------------------------------------------------------
    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def api(self):
        if self._api is None:
            from nbgrader.apps import NbGraderAPI

            from .alembic_head import install as read_alembic_head_once

            _venv_on_path()
            read_alembic_head_once()
            config = shared_config()
            config.CourseDirectory.root = str(self.root)
            config.CourseDirectory.db_url = self.db_url
            (self.root / "exchange").mkdir(exist_ok=True)
            config.Exchange.root = str(self.root / "exchange")   # never the machine-wide exchange
            # Student code runs in a memory-capped kernel whose spec lives in this workspace.
            from .kernelspecs import KERNEL_NAME, install_kernelspec

            from . import sandbox

            self._scratch, env = None, None
            self.sandbox_level = sandbox.level()
            lvl = self.sandbox_level[0]
            if lvl != "none":
                uid = sandbox.pick_uid()
                self._scratch = sandbox.make_scratch(uid)
                env = sandbox.kernel_env(lvl, uid, self._scratch, sandbox.readonly_paths(self.course.root))
                if lvl == "permissions":
                    from . import sandbox_modes

                    self._modes, self.opened = sandbox_modes.apply(
                        sandbox.protected_paths(self.course.root, self.root), sandbox.interpreter_folders())
                    if self.opened:      # said in every student's notes (sandbox.describe)
                        self.sandbox_level = (lvl, f"{self.sandbox_level[1]}; {', '.join(self.opened)} opened for "
                                                   "others to pass through (o+x) so that they reach Python")
            paths = [install_kernelspec(self.root / "jupyter", env)] + [p for p in os.environ.get(
                "JUPYTER_PATH", "").split(os.pathsep) if p]
            os.environ["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(paths))
            config.Execute.kernel_name = KERNEL_NAME
            config.NbGraderAPI.log_level = logging.WARNING
            self._api = NbGraderAPI(config=config)
        return self._api

    def _run(self, what: str, result: dict) -> None:
        if not result.get("success"):
            raise NbgraderError(f"nbgrader {what} failed:\n{result.get('error') or ''}\n{result.get('log') or ''}")

    def generate(self) -> None:
        """Run generate_assignment for every assignment (fills the gradebook and release/)."""
        if self._generated:
            return
        for a in self.assignments:
            self._run(f"generate_assignment {a}", self.api().generate_assignment(a))
        self._generated = True

    def release_path(self, assignment: str) -> Path:
        return self.root / "release" / assignment

    def submit(self, student: str, assignment: str, notebook: str, path: Path) -> Path:
        dest = self.root / "submitted" / student / assignment / f"{notebook}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        return dest

    def autograde(self, student: str, assignment: str) -> dict:
        """Autograde one submitted assignment; returns nbgrader's result dict (success, log, error)."""
        self.generate()
        return self.api().autograde(assignment, student)

    def autograded_path(self, student: str, assignment: str, notebook: str) -> Path:
        return self.root / "autograded" / student / assignment / f"{notebook}.ipynb"

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url)

    # -- context manager --------------------------------------------------------------------------
    def close(self) -> None:
        from .sandbox import remove_scratch

        remove_scratch(self._scratch)
        if self._modes:                  # the permissions level's chmods, undone by the last workspace to close
            from . import sandbox_modes

            sandbox_modes.undo(self._modes)
            self._modes = None
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _venv_on_path() -> None:
    """nbgrader runs the ``alembic`` command by name: make this interpreter's scripts folder visible."""
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + path
