"""Broken and hostile submissions on the toy course: each ends with the right score, a clear line, and the
grader still running. (The toy course's right answers: add = 1 + 2 hidden points, square = 1 point.)"""
import shutil
import time
from pathlib import Path

import pytest

from rnngrade.course import Course
from rnngrade.grading import grade_submission
from rnngrade.release import build_release
from submissions import make_submission

TOY = Path(__file__).parent / "fixtures" / "toycourse"
RIGHT_SQUARE = "def square(x):\n    return x * x\n"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toycourse")
    shutil.copytree(TOY / "solutions", root / "solutions")
    course = Course(root)
    build_release(course, course.release_dir)
    return course


@pytest.fixture(autouse=True)
def limits(monkeypatch):
    monkeypatch.setenv("RNNGRADE_CELL_TIMEOUT", "5")
    monkeypatch.setenv("RNNGRADE_MEMORY_MB", "1500")


def _grade(toy, tmp_path, square_src, answers=None, **kw):
    rel, sol = toy.release_dir / "00_toy" / "toy.ipynb", toy.solutions / "00_toy" / "toy.ipynb"
    sub = make_submission(rel, sol, tmp_path / "sub" / "toy.ipynb", answers=answers or {"square": square_src}, **kw)
    r = grade_submission(toy, sub.parent, "h", feedback=False)
    return {t.grade_id: t.score for t in r.auto_tests}, {t.grade_id: t.output for t in r.auto_tests}, r


CASES = {
    # name: (source of the `square` cell, expected scores, fragment expected in test_square's output)
    "syntax_error": ("def square(x)\n    return x * x\n", {"test_square": 0}, "earlier cell fail"),
    "exception_at_import": ("import no_such_module_xyz\n" + RIGHT_SQUARE, {"test_square": 0}, "NameError"),
    "infinite_loop": (RIGHT_SQUARE + "while True:\n    pass\n", {"test_square": 1}, "Passed"),
    "infinite_loop_printing": ("def square(x):\n    while True:\n        print('spam' * 100)\n",
                               {"test_square": 0}, "Timeout"),
    "kernel_exit": (RIGHT_SQUARE + "import os\nos._exit(3)\n", {"test_square": 0}, "kernel died"),
    "memory_exhaustion": ("import numpy as np\nhog = []\nwhile True:\n    hog.append(np.ones(2**24))\n"
                          + RIGHT_SQUARE, {"test_square": 0}, "NameError"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_submission(toy, tmp_path, case):
    src, expected, fragment = CASES[case]
    t0 = time.perf_counter()
    scores, outputs, r = _grade(toy, tmp_path, src)
    # the cells before the broken one still earn their points; the broken unit earns what it deserves
    assert scores == {"test_add": 1, "test_add_hidden": 2, **expected}, outputs
    assert fragment.lower() in outputs["test_square"].lower(), outputs["test_square"][-500:]
    assert time.perf_counter() - t0 < 120


def test_kernel_death_marks_later_cells_not_run(toy, tmp_path):
    # the kernel dies in the `add` cell: every later test is "not run" and scores 0, nothing is full by default
    scores, outputs, _ = _grade(toy, tmp_path, RIGHT_SQUARE,
                                answers={"add": "import os\nos._exit(1)\n", "square": RIGHT_SQUARE})
    assert scores == {"test_add": 0, "test_add_hidden": 0, "test_square": 0}
    assert "kernel died earlier" in outputs["test_square"]


def test_printing_loop_output_is_capped(toy, tmp_path):
    _, outputs, r = _grade(toy, tmp_path, "def square(x):\n    return x * x\nwhile True:\n    print('x' * 1000)\n")
    assert all(len(o) <= 5000 for o in outputs.values())


# -- the sandbox (rnngrade.sandbox): only where the platform allows it (root on Linux, as in CI) -------------------
from rnngrade import sandbox  # noqa: E402

SANDBOX, WHY_NOT = sandbox.available()
# Each attack sets `leaked = True` when it succeeds; the submitted square is then wrong, so a successful attack
# shows up as a lost point (and the grader must survive all of them).
WRONG_IF_LEAKED = "\ndef square(x):\n    return x * x + (1 if leaked else 0)\n"
ATTACKS = {
    "read_answers_and_gradebook": (
        "import glob\n"
        "leaked = bool(glob.glob('/tmp/rnngrade-*/gradebook.db') + glob.glob('/tmp/rnngrade-*/source/*/*.ipynb')\n"
        "              + glob.glob('{solutions}/*/*.ipynb'))\n"),
    "write_outside_its_folder": (
        "leaked = False\n"
        "for target in ('{root}/pwned', '{solutions}/pwned', '/etc/pwned'):\n"
        "    try:\n"
        "        open(target, 'w').write('x')\n"
        "        leaked = True\n"
        "    except OSError:\n"
        "        pass\n"),
    "network": (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n"
        "    leaked = True\n"
        "except OSError:\n"
        "    leaked = False\n"),
    "fork_bomb": (
        "import os, time\n"
        "leaked, children = True, []\n"
        "try:\n"
        "    for _ in range(100000):\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            time.sleep(2)\n"
        "            os._exit(0)\n"
        "        children.append(pid)\n"
        "except OSError:\n"
        "    leaked = False      # the process cap stopped it\n"
        "for pid in children:\n"
        "    os.waitpid(pid, 0)\n"),
}


@pytest.mark.skipif(not SANDBOX, reason=f"no sandbox here: {WHY_NOT}")
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_sandbox_stops_attacks(toy, tmp_path, attack, monkeypatch):
    import socket

    monkeypatch.setenv("RNNGRADE_MAX_PROCESSES", "64")
    monkeypatch.setenv("RNNGRADE_CELL_TIMEOUT", "60")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)       # a connection would complete in the backlog even though nobody accepts it yet
    src = ATTACKS[attack].format(root=toy.root, solutions=toy.solutions, port=listener.getsockname()[1])
    try:
        scores, outputs, _ = _grade(toy, tmp_path, src + WRONG_IF_LEAKED)
        listener.setblocking(False)
        try:
            listener.accept()[0].close()
            connected = True
        except BlockingIOError:
            connected = False
    finally:
        listener.close()
    assert scores == {"test_add": 1, "test_add_hidden": 2, "test_square": 1}, outputs
    assert not connected
    assert not (toy.root / "pwned").exists() and not (toy.solutions / "pwned").exists()


@pytest.mark.skipif(not SANDBOX, reason=f"no sandbox here: {WHY_NOT}")
@pytest.mark.parametrize("attack", ["read_answers_and_gradebook", "network"])
def test_attacks_would_succeed_without_the_sandbox(toy, tmp_path, attack, monkeypatch):
    """The witness that the attacks above are real: with the sandbox off, they work (and cost the point)."""
    import socket

    monkeypatch.setenv("RNNGRADE_SANDBOX", "0")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    src = ATTACKS[attack].format(root=toy.root, solutions=toy.solutions, port=listener.getsockname()[1])
    try:
        scores, outputs, _ = _grade(toy, tmp_path, src + WRONG_IF_LEAKED)
    finally:
        listener.close()
    assert scores["test_square"] == 0, outputs

def test_non_utf8_file_names(toy, tmp_path):
    """A folder and a zip holding files whose names are not UTF-8 (an old Windows zip tool, a Latin-1 file
    system): the course notebook is still found and graded, the stray files are ignored with a note."""
    import json
    import os
    import zipfile

    from rnngrade.report import write_results

    rel, sol = toy.release_dir / "00_toy" / "toy.ipynb", toy.solutions / "00_toy" / "toy.ipynb"
    folder = tmp_path / "folder"
    make_submission(rel, sol, folder / "toy.ipynb")
    with open(os.path.join(os.fsencode(folder), b"caf\xe9\xff.ipynb"), "wb") as f:
        f.write(b"{}")
    zpath = tmp_path / "sub.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(folder / "toy.ipynb", "sub/toy.ipynb")
        info = zipfile.ZipInfo("sub/na\xefve\xff.ipynb")      # stored without the UTF-8 flag: read back as cp437
        zf.writestr(info, "{}")
    for i, sub in enumerate((folder, zpath)):
        r = grade_submission(toy, sub, "u", feedback=False)
        assert r.score == 4, r.notes
        write_results(r, tmp_path / f"out{i}")
        assert json.loads((tmp_path / f"out{i}" / "results.json").read_text(encoding="utf-8"))["score"] == 4
        assert any("Ignored" in n for n in r.notes), r.notes
