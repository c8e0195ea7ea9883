"""The student package on every other supported Python (3.10 to 3.13 besides the one running the tests).

For each version: a venv with the pinned student packages for that Python (PyTorch from whatever wheel pip gets
there; cached outside the checkout, see tests/pyvenvs.py), the wheel built from this checkout installed into it,
``pip check`` (the package's dependency ranges admit the pins), rnnlab's unit tests (the test modules that need
nothing but rnnlab, NumPy, PyTorch, Matplotlib and the standard library), and the NumPy notebooks (the solutions,
with their hidden tests) run top to bottom in quick mode in a kernel of that Python: notebook 01 on every version,
notebook 02 on the oldest (3.10), whose Python and NumPy differ most from the newest ones; notebook 02 uses nothing
of rnnlab or Python that notebook 01 and the unit tests do not (this keeps `make test` under 10 minutes).

A version whose pins (PyTorch included) cannot be installed fails, saying why. A version that is not installed on
this machine is skipped with the reason, except in CI (``CI=true``), where it fails.
"""
from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

import pyvenvs

ROOT = pyvenvs.ROOT
NOTEBOOKS = [ROOT / "solutions" / "01_vanilla_rnn" / "vanilla_rnn.ipynb", ROOT / "solutions" / "02_lstm" / "lstm.ipynb"]
OLDEST_ONLY = {NOTEBOOKS[1]}            # run on the oldest supported Python only (see the docstring)
# What a test module of rnnlab may import, besides the standard library.
STUDENT_IMPORTS = {"rnnlab", "numpy", "torch", "matplotlib", "PIL", "pytest", "conftest"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def rnnlab_test_modules() -> list[Path]:
    """tests/test_*.py that import rnnlab and nothing outside the student's packages and the standard library."""
    allowed = STUDENT_IMPORTS | set(sys.stdlib_module_names)
    found = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        roots = _imported_roots(path)
        if "rnnlab" in roots and roots <= allowed:
            found.append(path)
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return pyvenvs.build_dist(tmp_path_factory.mktemp("dist"), "wheel")


def test_rnnlab_test_modules_are_found():
    names = {p.name for p in rnnlab_test_modules()}
    assert {"test_rnnlab.py", "test_vocab.py", "test_corpora.py"} <= names, names
    assert "test_grader.py" not in names


@pytest.mark.parametrize("version", pyvenvs.other_pythons())
def test_student_package_on_python(version, wheel, tmp_path):
    python = pyvenvs.python_or_skip(version)
    with pyvenvs.student_venv(version, python) as venv:
        py = pyvenvs.venv_python(venv)
        env = pyvenvs.clean_env(RNNLAB_QUICK=1, RNNLAB_DATA_DIR=tmp_path / "data", MPLBACKEND="Agg",
                                JUPYTER_PATH=venv / "share" / "jupyter")
        pyvenvs.run([py, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", wheel], timeout=600,
                    env=env)
        pyvenvs.run([py, "-m", "pip", "check"], timeout=300, env=env)
        where = pyvenvs.run([py, "-c", "import sys, rnnlab, torch, numpy; print('%d.%d' % sys.version_info[:2]); "
                             "print(rnnlab.__file__); print(torch.__version__, numpy.__version__)"],
                            timeout=300, env=env, cwd=tmp_path).stdout.split("\n")
        assert where[0] == version
        assert Path(where[1]).resolve().is_relative_to(venv.resolve()), f"rnnlab imported from {where[1]}"
        print(f"Python {version}: torch {where[2]}; rnnlab from the wheel {wheel.name}")

        modules = rnnlab_test_modules()
        tests = pyvenvs.run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                             "-o", "filterwarnings=ignore::DeprecationWarning", *modules],
                            timeout=1200, env=env, cwd=ROOT)
        print(tests.stdout.strip().splitlines()[-1])

        work = tmp_path / "work"
        work.mkdir()
        notebooks = [nb for nb in NOTEBOOKS if nb not in OLDEST_ONLY or version == pyvenvs.SUPPORTED[0]]
        nbs = pyvenvs.run([py, ROOT / "tests" / "run_notebooks.py", "--kernel", pyvenvs.KERNEL,
                           "--expect-python", version, "--workdir", work, *notebooks],
                          timeout=1800, env=env, cwd=work)
        print(nbs.stdout)
        assert nbs.stdout.count("\nok ") + nbs.stdout.startswith("ok ") == len(notebooks)
