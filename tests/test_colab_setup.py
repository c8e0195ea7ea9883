"""The release notebooks' set-up cell (rnngrade.setup_cell): first in every release notebook, does nothing in the
checkout, installs the package where rnnlab is missing (tested without Colab: a release notebook alone in an empty
folder, on another Python, installs from an sdist built from this checkout and runs in quick mode), and the one
repository URL that it and the README's Colab links come from. Also: the wheel and sdist hold what students need.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

import pyvenvs
from rnngrade import setup_cell
from rnngrade.normalize import normalize
from submissions import make_submission

ROOT = pyvenvs.ROOT
RELEASE = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
COLAB_PYTHON = "3.12"     # Colab's Python at the time of writing


def test_every_release_notebook_starts_with_the_setup_cell():
    assert RELEASE
    for path in RELEASE:
        nb = nbformat.read(str(path), as_version=4)
        first = nb.cells[0]
        assert first.cell_type == "code" and first.get("id") == setup_cell.CELL_ID, path
        assert first.source == setup_cell.SETUP_SOURCE, f"{path}: run `make release`"
        assert "nbgrader" not in first.metadata and first.outputs == []
        assert sum(c.get("id") == setup_cell.CELL_ID for c in nb.cells) == 1
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        assert setup_cell.CELL_ID not in {c.get("id") for c in nbformat.read(str(path), as_version=4).cells}


def test_setup_cell_does_nothing_where_rnnlab_imports(tmp_path):
    """In the checkout's environment the cell neither starts a process nor opens a connection: both are made
    impossible here, and the cell must still run cleanly and print nothing."""
    prelude = ("import sys, socket\n"
               "sys.modules['subprocess'] = None\n"            # importing it now raises ImportError
               "def _no(*a, **k): raise AssertionError('the set-up cell used the network')\n"
               "socket.socket = _no; socket.create_connection = _no\n")
    code = prelude + setup_cell.SETUP_SOURCE + "\n"
    env = dict(os.environ, **{setup_cell.INSTALL_SOURCE_ENV: str(tmp_path / "no-such.whl")})
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and p.stderr == ""


def test_setup_cell_is_plain_python_for_every_supported_version():
    compile(setup_cell.SETUP_SOURCE, "setup-cell", "exec")
    assert f"git+{setup_cell.WORKBOOK_URL}@{setup_cell.WORKBOOK_BRANCH}" in setup_cell.SETUP_SOURCE


def test_normalize_keeps_the_setup_cell():
    release = nbformat.read(str(ROOT / "notebooks" / "01_vanilla_rnn" / "vanilla_rnn.ipynb"), as_version=4)
    source = nbformat.read(str(ROOT / "solutions" / "01_vanilla_rnn" / "vanilla_rnn.ipynb"), as_version=4)
    release.cells.insert(5, nbformat.from_dict(dict(release.cells[0])))      # a student pasted it again
    repaired, notes = normalize(release, source)
    assert notes == []
    assert [c.get("id") for c in repaired.cells] == [c.get("id") for c in release.cells]


def test_one_url_for_the_cell_and_the_readme():
    """The repository URL is written in setup_cell.py only; the README's Colab links are the ones it gives."""
    url = setup_cell.WORKBOOK_URL
    for folder in ["helpers", "autograder", "tests", "bench"]:
        for path in (ROOT / folder).rglob("*.py"):
            if path.name not in {"setup_cell.py"}:
                assert url not in path.read_text(encoding="utf-8"), f"{path} repeats the repository URL"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rels = [p.relative_to(ROOT).as_posix() for p in RELEASE]
    for row in setup_cell.readme_rows(rels):
        assert row in readme, f"README.md lacks (run python -m rnngrade.setup_cell):\n{row}"
    links = re.findall(r"https://colab\.research\.google\.com/github/\S+?\.ipynb", readme)
    assert sorted(links) == sorted(setup_cell.colab_url(r) for r in rels)


def test_wheel_and_sdist_hold_the_student_package(tmp_path):
    wanted = {p.relative_to(ROOT / "helpers").as_posix() for p in (ROOT / "helpers" / "rnnlab").rglob("*")
              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    wanted |= {p.relative_to(ROOT / "autograder").as_posix() for p in (ROOT / "autograder" / "rnngrade").glob("*.py")}
    wheel = pyvenvs.build_dist(tmp_path / "w", "wheel")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert wanted <= names, f"missing from the wheel: {sorted(wanted - names)}"
    assert not any(n.startswith(("solutions/", "tests/")) for n in names)
    sdist = pyvenvs.build_dist(tmp_path / "s", "sdist")
    import tarfile

    with tarfile.open(sdist) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
    assert {f"helpers/{w}" for w in wanted if w.startswith("rnnlab/")} <= members


def test_release_notebook_alone_installs_the_package_and_runs(tmp_path):
    """Colab without Colab: a venv on another Python that has what Colab has (Jupyter, PyTorch, NumPy,
    Matplotlib) but not the workbook; notebook 01 of the release, with a student's finished solutions, alone in an
    empty folder; its set-up cell pointed at an sdist built from this checkout. It must install the package and
    run top to bottom in quick mode."""
    python = pyvenvs.python_or_skip(COLAB_PYTHON)
    sdist = pyvenvs.build_dist(tmp_path / "dist", "sdist")
    alone = tmp_path / "colab"
    nb = make_submission(ROOT / "notebooks" / "01_vanilla_rnn" / "vanilla_rnn.ipynb",
                         ROOT / "solutions" / "01_vanilla_rnn" / "vanilla_rnn.ipynb", alone / "vanilla_rnn.ipynb")
    assert [p.name for p in alone.iterdir()] == ["vanilla_rnn.ipynb"]
    home = tmp_path / "home"
    home.mkdir()
    with pyvenvs.student_venv(COLAB_PYTHON, python) as venv:
        py = pyvenvs.venv_python(venv)
        env = pyvenvs.clean_env(HOME=home, RNNLAB_QUICK=1, MPLBACKEND="Agg", JUPYTER_PATH=venv / "share" / "jupyter",
                                **{setup_cell.INSTALL_SOURCE_ENV: sdist})
        env.pop("RNNLAB_DATA_DIR", None)
        pyvenvs.run([py, "-m", "pip", "uninstall", "--quiet", "--yes", "rnn-workbook"], timeout=300, env=env)
        absent = pyvenvs.run([py, "-c", "import importlib.util; print(importlib.util.find_spec('rnnlab'))"],
                             timeout=120, env=env, cwd=alone).stdout.strip()
        assert absent == "None", f"rnnlab is still importable in the venv: {absent}"
        try:
            out = pyvenvs.run([py, ROOT / "tests" / "run_notebooks.py", "--kernel", pyvenvs.KERNEL,
                               "--expect-python", COLAB_PYTHON, "--workdir", alone, nb],
                              timeout=1800, env=env, cwd=alone).stdout
            print(out)
            assert f"Installing the workbook's package from {sdist}" in out
            assert "rnnlab 0.1.0 installed" in out
            assert out.startswith("ok vanilla_rnn.ipynb")
            shown = pyvenvs.run([py, "-m", "pip", "show", "rnn-workbook"], timeout=120, env=env).stdout
            assert "Version: 0.1.0" in shown
        finally:
            pyvenvs.run([py, "-m", "pip", "uninstall", "--quiet", "--yes", "rnn-workbook"], timeout=300, env=env)
