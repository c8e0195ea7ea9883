"""The sandbox's levels (rnngrade.sandbox, docs/SANDBOX.md) on the toy course: what student code can see, that
nothing it starts or writes outlives `rnngrade grade`, the permissions fallback forced on this machine, and the
batch refusal without a sandbox. The levels need root on Linux (as in CI); elsewhere the tests say why they
did not run. Each attack's code is also run without the sandbox, where it succeeds: the tests can fail."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from rnngrade import sandbox
from rnngrade.course import Course
from rnngrade.release import build_release
from submissions import make_submission

TOY = Path(__file__).parent / "fixtures" / "toycourse"
ROOT = os.geteuid() == 0 and sys.platform.startswith("linux")
NOT_ROOT = "the sandbox levels need the grader to run as root on Linux (CI does)"
NAMESPACES = ROOT and sandbox._level("1", "")[0] == "namespaces"
NO_NAMESPACES = f"no namespace sandbox here: {sandbox._level('1', '')[1] if ROOT else NOT_ROOT}"
RNNGRADE = Path(sys.executable).parent / "rnngrade"

# Double-forks a process that leaves its session (setsid) and sleeps, carrying a token on its command line so
# that the test can look for it in the host's /proc; writes a file in each temporary folder.
LEAVE_BEHIND = '''
import os, sys
for folder in ("/tmp", "/var/tmp", "/dev/shm"):
    with open(os.path.join(folder, "leftover-{token}"), "w") as f:
        f.write("x")
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)       # a daemon's manners: it holds none of the grader's pipes open
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "orphan-{token}"])
    os._exit(0)
os.wait()

def square(x):
    return x * x
'''


@pytest.fixture
def toy():
    """The toy course in a folder every user may read (as a course checkout usually is), so that only the
    sandbox stands between student code and its answers."""
    root = Path(tempfile.mkdtemp(prefix="rnngrade-toy-"))
    try:
        os.chmod(root, 0o755)
        shutil.copytree(TOY / "solutions", root / "solutions")
        course = Course(root)
        build_release(course, course.release_dir)
        for dirpath, dirnames, filenames in os.walk(root):
            os.chmod(dirpath, 0o755)
            for f in filenames:
                os.chmod(os.path.join(dirpath, f), 0o644)
        yield course
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _submission(toy, folder: Path, square_src: str) -> Path:
    rel, sol = toy.release_dir / "00_toy" / "toy.ipynb", toy.solutions / "00_toy" / "toy.ipynb"
    return make_submission(rel, sol, folder / "toy.ipynb", answers={"square": square_src}).parent


def _grade_cli(toy, sub: Path, out: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    e = dict(os.environ, RNNGRADE_ROOT=str(toy.root), RNNGRADE_CELL_TIMEOUT="60", RNNGRADE_MEMORY_MB="1500", **env)
    return subprocess.run([str(RNNGRADE), "grade", str(sub), "--out", str(out), "--no-feedback", *extra],
                          env=e, capture_output=True, text=True, timeout=600)


def _orphans(token: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if f"orphan-{token}".encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            pass
    return found


def _leftovers(token: str) -> list[str]:
    return [f for f in (f"/tmp/leftover-{token}", f"/var/tmp/leftover-{token}", f"/dev/shm/leftover-{token}")
            if os.path.exists(f)]


def _levels():
    return [pytest.param("namespaces", marks=pytest.mark.skipif(not NAMESPACES, reason=NO_NAMESPACES)),
            pytest.param("permissions", marks=pytest.mark.skipif(not ROOT, reason=NOT_ROOT))]


@pytest.mark.parametrize("level", _levels())
def test_nothing_outlives_the_grading(toy, tmp_path, level):
    """A double-forked setsid child and a file in each of /tmp, /var/tmp, /dev/shm: all gone when `rnngrade
    grade` returns (the namespaces level never lets the files reach the host; the permissions level deletes
    them), the student's square still earns its point, and the notes name the level."""
    token = uuid.uuid4().hex
    sub = _submission(toy, tmp_path / "sub", LEAVE_BEHIND.format(token=token))
    r = _grade_cli(toy, sub, tmp_path / "out", {sandbox.LEVEL_ENV: level})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "4 / 4 points" in r.stdout, r.stdout[-3000:]
    assert f"Sandbox: {level}" in r.stdout, r.stdout[-3000:]
    assert _orphans(token) == [] and _leftovers(token) == []


@pytest.mark.skipif(not ROOT, reason=NOT_ROOT)
def test_without_the_sandbox_they_would_outlive_it(toy, tmp_path):
    """The witness: the same submission with the sandbox off leaves its process and its three files behind."""
    token = uuid.uuid4().hex
    sub = _submission(toy, tmp_path / "sub", LEAVE_BEHIND.format(token=token))
    try:
        r = _grade_cli(toy, sub, tmp_path / "out", {sandbox.SANDBOX_ENV: "0"})
        assert r.returncode == 0, r.stderr[-3000:]
        deadline = time.monotonic() + 30
        while not _orphans(token) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _orphans(token) and len(_leftovers(token)) == 3
    finally:
        for pid in _orphans(token):
            os.kill(pid, 9)
        for f in _leftovers(token):
            os.unlink(f)


# Each attack sets `leaked = True` when it succeeds, which makes the submitted square wrong (a lost point).
WRONG_IF_LEAKED = "\ndef square(x):\n    return x * x + (1 if leaked else 0)\n"
READ_COPY = ("import glob\n"
             "leaked = bool(glob.glob('{copy}/**/*.ipynb', recursive=True))\n")
READ_OWN_ANSWERS = ("try:\n"
                    "    open('{solutions}/00_toy/toy.ipynb').read()\n"
                    "    leaked = True\n"
                    "except OSError:\n"
                    "    leaked = False\n")
READ_ORACLES = ("try:\n"        # the grader's reference code, which computes graded answers
                "    from rnngrade.oracles import vanilla_rnn as _o\n"
                "    leaked = callable(_o.step)\n"
                "except Exception:\n"
                "    leaked = False\n")
FILL_SHM = ("try:\n"
            "    with open('/dev/shm/big', 'wb') as f:\n"
            "        f.write(b'x' * (64 * 2**20))\n"
            "    leaked = True\n"
            "except OSError:\n"
            "    leaked = False      # the tmpfs is full: the write fails in this cell\n")


@pytest.fixture
def second_checkout():
    """Another copy of the answers elsewhere on the machine, readable by every user (last year's course folder)."""
    parent = next((p for p in ("/srv", "/opt") if os.path.isdir(p) and os.access(p, os.W_OK)), None)
    folder = Path(tempfile.mkdtemp(prefix="old-course-", dir=parent))
    os.chmod(folder, 0o755)
    shutil.copytree(TOY / "solutions", folder / "solutions")
    for dirpath, _, filenames in os.walk(folder):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _square_score(toy, tmp_path, src: str, env: dict) -> tuple[float, str]:
    r = _grade_cli(toy, _submission(toy, tmp_path / "sub", src + WRONG_IF_LEAKED), tmp_path / "out", env)
    assert r.returncode == 0, r.stderr[-3000:]
    line = next(ln for ln in r.stdout.splitlines() if ln.endswith("toy: test_square"))
    return float(line.split()[1].split("/")[0]), r.stdout


@pytest.mark.skipif(not NAMESPACES, reason=NO_NAMESPACES)
def test_namespaces_hide_other_copies_of_the_answers(toy, tmp_path, second_checkout):
    score, out = _square_score(toy, tmp_path, READ_COPY.format(copy=second_checkout), {})
    assert score == 1, out[-3000:]


@pytest.mark.skipif(not NAMESPACES, reason=NO_NAMESPACES)
def test_namespaces_cap_the_temporary_folders(toy, tmp_path):
    score, out = _square_score(toy, tmp_path, FILL_SHM, {sandbox.SCRATCH_MB_ENV: "16"})
    assert score == 1, out[-3000:]


@pytest.mark.skipif(not ROOT, reason=NOT_ROOT)
def test_permissions_level_hides_the_answers(toy, tmp_path):
    """Forced on this machine: the course's solutions/ become unreadable to the sandbox user."""
    score, out = _square_score(toy, tmp_path, READ_OWN_ANSWERS.format(solutions=toy.solutions),
                               {sandbox.LEVEL_ENV: "permissions"})
    assert score == 1, out[-3000:]
    assert "Sandbox: permissions only" in out


@pytest.mark.parametrize("level", _levels())
def test_the_grader_reference_code_is_out_of_reach(toy, tmp_path, level):
    """rnngrade.oracles computes graded answers: the student's kernel cannot import it at either level (only the
    judge kernel runs the hidden tests that use it)."""
    score, out = _square_score(toy, tmp_path, READ_ORACLES, {sandbox.LEVEL_ENV: level})
    assert score == 1, out[-3000:]


@pytest.mark.skipif(not ROOT, reason=NOT_ROOT)
def test_permissions_level_gives_the_modes_back(toy, tmp_path):
    """The chmods of the permissions level (answers closed to others, Python's folders opened) are undone when
    grading ends, so the checkout is as readable as before and a later run at another level is unaffected."""
    watched = [toy.solutions, Path(sandbox.__file__).resolve().parent, *map(Path, sandbox.interpreter_folders())]
    before = {p: os.stat(p).st_mode for p in watched}
    score, out = _square_score(toy, tmp_path, "leaked = False\n", {sandbox.LEVEL_ENV: "permissions"})
    assert score == 1, out[-3000:]
    assert {p: os.stat(p).st_mode for p in watched} == before


@pytest.mark.skipif(not ROOT, reason=NOT_ROOT)
def test_the_attacks_are_real_without_the_sandbox(toy, tmp_path, second_checkout):
    for src in (READ_COPY.format(copy=second_checkout), READ_OWN_ANSWERS.format(solutions=toy.solutions),
                READ_ORACLES):
        score, out = _square_score(toy, tmp_path, src, {sandbox.SANDBOX_ENV: "0"})
        assert score == 0, out[-3000:]


def test_batch_refuses_without_a_sandbox(toy, tmp_path):
    """Runs everywhere: with no sandbox, --batch stops before grading anyone unless told it is unsafe."""
    batch = tmp_path / "batch"
    _submission(toy, batch / "alice", "def square(x):\n    return x * x\n")
    r = _grade_cli(toy, batch, tmp_path / "out", {sandbox.SANDBOX_ENV: "0"}, "--batch")
    assert r.returncode == 2 and "--unsafe-no-sandbox" in r.stderr, r.stderr[-2000:]
    assert not (tmp_path / "out" / "grades.csv").exists()
    r = _grade_cli(toy, batch, tmp_path / "out", {sandbox.SANDBOX_ENV: "0"}, "--batch", "--unsafe-no-sandbox")
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "out" / "grades.csv").exists()
