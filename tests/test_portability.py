"""Student-side code stays portable (Windows through conda, macOS, Linux): everything a notebook runs, rnnlab, and
the rnngrade modules that ``rnngrade grade`` uses on one's own work. A scan for POSIX-only calls, and an import of
those modules with the POSIX-only standard modules made unimportable, as on Windows.

Linux-only on purpose, and not scanned: the grader's sandbox (``rnngrade.sandbox``, ``sandbox_root``,
``sandbox_kernel``, ``sandbox_modes``, used only where ``sandbox.available()`` says so; importing it must still work
everywhere), batch grading on a cluster (``rnngrade.batch``) and the Gradescope bundle (``rnngrade.gradescope``, which
runs in Gradescope's Linux image). A POSIX-only call that is guarded (it runs only where the platform has it) carries
the comment ``# posix-only: guarded`` and a reason on its line.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINUX_ONLY = {"sandbox.py", "sandbox_root.py", "sandbox_kernel.py", "sandbox_modes.py", "batch.py", "gradescope.py"}
POSIX_MODULES = ["resource", "fcntl", "pwd", "grp", "termios", "pty"]
POSIX_ONLY = re.compile(
    r"\bos\.(fork|forkpty|setsid|setpgrp|getpgid|killpg|getuid|geteuid|getgid|setuid|setgid|chown|getlogin_r)\b"
    r"|\bsignal\.(SIGKILL|SIGALRM|SIGHUP|SIGUSR1|SIGUSR2|SIGCHLD|alarm|setitimer|pause)\b"
    rf"|^\s*(import|from)\s+({'|'.join(POSIX_MODULES)})\b"
    r"|['\"]/tmp\b|\bpreexec_fn\b|\bos\.mkfifo\b|\bsignal\.pthread_kill\b|\bsocket\.AF_UNIX\b")


def student_side_files() -> list[Path]:
    files = sorted((ROOT / "helpers" / "rnnlab").rglob("*.py"))
    files += [p for p in sorted((ROOT / "autograder" / "rnngrade").glob("*.py")) if p.name not in LINUX_ONLY]
    files += sorted((ROOT / "autograder" / "rnngrade" / "judge").glob("*.py"))     # both kernels, every OS
    return files


def _problems(name: str, text: str) -> list[str]:
    return [f"{name}:{i}: {line.strip()}" for i, line in enumerate(text.splitlines(), 1)
            if POSIX_ONLY.search(line) and "# posix-only: guarded" not in line]


def test_the_scan_finds_posix_only_calls():
    for bad in ["pid = os.fork()", "import resource", "os.kill(pid, signal.SIGKILL)", "p = Path('/tmp/x')",
                "os.setsid()", "uid = os.getuid()", "signal.alarm(3)", "from fcntl import flock",
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)"]:
        assert _problems("x.py", bad), bad
    assert not _problems("x.py", "import os, tempfile\nd = tempfile.mkdtemp()\nos.kill(pid, signal.SIGTERM)")
    assert not _problems("x.py", "import resource  # posix-only: guarded by try/except ImportError")


def test_student_side_modules_use_portable_calls():
    problems = []
    for path in student_side_files():
        problems += _problems(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    assert problems == [], "POSIX-only calls in student-side code:\n" + "\n".join(problems)


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb")) + sorted((ROOT / "solutions").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS,
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_notebooks_use_portable_calls(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert _problems(path.name, code) == []


def test_student_side_modules_import_without_posix_modules():
    """As on Windows: pwd, resource, fcntl ... cannot be imported; rnnlab and rnngrade's modules (the sandbox's
    included, since `rnngrade grade` imports it to ask whether it is available) still import."""
    mods = ["rnnlab"] + [f"rnngrade.{p.stem}" for p in student_side_files()
                         if p.parent.name == "rnngrade" and p.stem not in {"__init__", "__main__", "limited_kernel"}]
    mods += ["rnngrade.sandbox", "rnngrade.sandbox_modes"]
    # Third-party packages (nbgrader, ...) guard their own POSIX imports by platform: load everything once, forget
    # only this workbook's modules, make the POSIX modules unimportable, and import this workbook's modules again.
    code = (f"import sys, importlib\nfor m in {mods!r}: importlib.import_module(m)\n"
            "for m in [m for m in sys.modules if m.split('.')[0] in ('rnnlab', 'rnngrade')]: del sys.modules[m]\n"
            f"for m in {POSIX_MODULES!r}: sys.modules[m] = None\n"
            f"for m in {mods!r}: importlib.import_module(m)\n"
            "from rnngrade import sandbox; print(sandbox.available()[0] in (True, False))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
