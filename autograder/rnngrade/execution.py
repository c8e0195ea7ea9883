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

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

KERNEL_NAME = "rnngrade-python3"
MEMORY_ENV = "RNNGRADE_MEMORY_MB"
DEFAULT_MEMORY_MB = 6144


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class SafeExecute(Execute):
    """nbgrader's Execute, but a dead kernel costs only the cells from the one that killed it onwards."""

    def preprocess(self, nb, resources=None, km=None):
        self._dead_at = None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._dead_at is not None:
            cell.outputs = [_error("KernelDied", f"Not run: the kernel died earlier, in code cell {self._dead_at}.")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead_at = index
            cell.outputs.append(_error(
                "KernelDied", "The kernel died while running this cell (os._exit, a crash, or more memory than the "
                f"grader allows, {memory_limit_mb()} MB). Later cells were not run."))
            return cell, resources


def memory_limit_mb() -> int:
    return int(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB))


def install_kernelspec(folder: Path) -> str:
    """Write the capped kernel's spec under ``folder/kernels`` and return the folder to put on JUPYTER_PATH."""
    spec = Path(folder) / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "rnngrade.limited_kernel", "-f", "{connection_file}"],
        "display_name": "Python 3 (graded, memory-capped)",
        "language": "python",
        "env": {MEMORY_ENV: str(memory_limit_mb())},
    }))
    return str(folder)
