"""Virtual environments on the other Pythons (3.10 to 3.13), for the tests that run the student package there
(tests/test_pythons.py, tests/test_colab_setup.py).

A venv holds the student's share of the pins in requirements.txt (``STUDENT_PINS``: what the notebooks import,
and what runs a notebook or a test), installed by that Python's own pip from whatever the package registries
offer for it (on Linux, PyPI's PyTorch is its CUDA build: several GB, downloaded once). Venvs are cached outside
the checkout, under ``$RNN_WORKBOOK_VENVS`` (default ``~/.cache/rnn-workbook/venvs``), one per Python version and
hash of requirements.txt and ``STUDENT_PINS``, so only a machine's first run downloads. A lock file keeps two test
runs from building or using the same venv at once. The workbook's own package is never cached: each test
installs the wheel built from the checkout (``build_dist``).

Linux and macOS only (``fcntl``): this is the test suite's machinery, not something a student runs.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUPPORTED = ["3.10", "3.11", "3.12", "3.13"]
# Packages (names as in requirements.txt) a student's environment needs besides the workbook: the notebooks'
# imports, a kernel to run them, and pytest for rnnlab's unit tests.
STUDENT_PINS = ["torch", "numpy", "matplotlib", "tqdm", "nbformat", "nbclient", "ipykernel", "pytest"]
KERNEL = "rnn-workbook-check"
_NAME = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*==")


def this_python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def other_pythons() -> list[str]:
    """The supported Python versions other than the one running the tests."""
    return [v for v in SUPPORTED if v != this_python()]


def _reports(python: str, version: str) -> bool:
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == version


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` ("3.12"): pyenv's (``$PYENV_ROOT`` or ``~/.pyenv``), else ``python3.12`` on
    PATH; only one that really runs and reports that version (a pyenv shim of an inactive version does not)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True) if pyenv.is_dir() else []
    on_path = shutil.which(f"python{version}")
    for c in [str(p) for p in candidates] + ([on_path] if on_path else []):
        if _reports(c, version):
            return c
    return None


def python_or_skip(version: str) -> str:
    """The interpreter of ``version``; when there is none, skip the test with the reason (fail it in CI)."""
    import pytest

    python = find_python(version)
    if python is None:
        why = f"Python {version} is not installed here (looked for pyenv's {version}.x and python{version} on PATH)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}; CI must prove every supported Python")
        pytest.skip(why)
    return python


def student_requirements() -> list[str]:
    """The lines of requirements.txt (markers included) that pin a package of STUDENT_PINS."""
    lines = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = _NAME.match(line)
        if m and m.group(1).lower() in STUDENT_PINS:
            lines.append(line.strip())
    missing = set(STUDENT_PINS) - {_NAME.match(line).group(1).lower() for line in lines}
    if missing:
        raise AssertionError(f"requirements.txt pins none of {sorted(missing)}")
    return lines


def cache_root() -> Path:
    env = os.environ.get("RNN_WORKBOOK_VENVS")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    base = Path(env) if env else cache / "rnn-workbook" / "venvs"
    base.mkdir(parents=True, exist_ok=True)
    return base


def venv_name(version: str) -> str:
    key = hashlib.sha256("\n".join([version, *student_requirements()]).encode()).hexdigest()[:12]
    return f"py{version}-{key}"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def run(cmd, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd``; raise AssertionError with its output's tail when it fails."""
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs)
    if p.returncode != 0:
        tail = (p.stdout + p.stderr)[-6000:]
        raise AssertionError(f"`{' '.join(map(str, cmd))}` exited {p.returncode}:\n{tail}")
    return p


@contextlib.contextmanager
def student_venv(version: str, python: str, log=print):
    """The cached venv for ``version`` (built with ``python`` when missing), locked while the caller uses it."""
    venv = cache_root() / venv_name(version)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = venv / ".complete"
        if not done.exists():
            t0 = time.perf_counter()
            shutil.rmtree(venv, ignore_errors=True)      # a build that was interrupted
            run([python, "-m", "venv", venv], timeout=300)
            reqs = venv / "student-requirements.txt"
            reqs.write_text("\n".join(student_requirements()) + "\n")
            try:
                run([venv_python(venv), "-m", "pip", "install", "--quiet", "-r", reqs], timeout=3000)
            except AssertionError as exc:
                raise AssertionError(f"Python {version}: the pinned student packages (torch included) cannot be "
                                     f"installed from the package registries:\n{exc}") from None
            run([venv_python(venv), "-m", "ipykernel", "install", "--prefix", venv, "--name", KERNEL], timeout=300)
            done.write_text(f"built in {time.perf_counter() - t0:.0f} s\n")
            log(f"built {venv} in {time.perf_counter() - t0:.0f} s")
        yield venv


def clean_env(**extra) -> dict:
    """The environment for commands run in a student venv: nothing that points back at the checkout or the
    project's own .venv."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME",
                                                               "JUPYTER_PATH", "RNNGRADE_ROOT"}}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def build_dist(dest: Path, kind: str = "wheel") -> Path:
    """Build the workbook's wheel (or sdist) from a copy of the checkout's package files into ``dest``; the
    checkout itself gets no build/ or egg-info folders. Uses this process's setuptools (no download)."""
    src = dest / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")
    for folder in ["helpers", "autograder"]:
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    for f in ["pyproject.toml", "README.md"]:
        shutil.copy2(ROOT / f, src / f)
    out = dest / "dist"
    out.mkdir(parents=True, exist_ok=True)
    call = "build_wheel" if kind == "wheel" else "build_sdist"
    p = run([sys.executable, "-c", f"import sys; from setuptools import build_meta as b; print(b.{call}(sys.argv[1]))",
             out], timeout=300, cwd=src)
    return out / p.stdout.strip().splitlines()[-1]
