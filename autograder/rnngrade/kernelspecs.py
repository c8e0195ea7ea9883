"""The kernelspecs of the grader's two kernels, written into each grading workspace.

- ``rnngrade-python3`` (``KERNEL_NAME``): the student's kernel, memory-capped and sandboxed at the level the
  grader chose (``rnngrade.sandbox.kernel_env``);
- ``rnngrade-judge`` (``JUDGE_KERNEL_NAME``): the kernel that runs the tests of separately judged notebooks
  (``rnngrade.judged_execution``), memory-capped.

Both start ``python -m rnngrade.limited_kernel``, which reads its role and limits from the environment the
kernelspec sets (``rnngrade.settings``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import settings

KERNEL_NAME = "rnngrade-python3"          # the student's kernel
JUDGE_KERNEL_NAME = "rnngrade-judge"       # the kernel that runs the tests of separately judged notebooks


def memory_limit_mb() -> int:
    return settings.MEMORY_MB.as_int()


def install_kernelspec(folder: Path, sandbox_env: dict | None = None) -> str:
    """Write the kernelspecs of the student kernel (memory-capped; sandboxed as ``sandbox_env`` says, from
    ``rnngrade.sandbox.kernel_env``) and of the judge kernel (memory-capped) under ``folder/kernels``; return the
    folder to put on JUPYTER_PATH."""
    for name, role in ((KERNEL_NAME, "student"), (JUDGE_KERNEL_NAME, "judge")):
        spec = Path(folder) / "kernels" / name
        spec.mkdir(parents=True, exist_ok=True)
        env = {settings.MEMORY_MB.name: str(memory_limit_mb()), settings.KERNEL_ROLE.name: role}
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
