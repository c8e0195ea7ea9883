"""Judging outside the student's process (rnngrade.judge): what crosses between the kernels, and that a
submission which fakes the checks gains nothing on a notebook judged that way."""
import os
import socket
import tempfile
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from rnngrade.course import Course
from rnngrade.grading import grade_submission
from rnngrade.judge import RemoteObject, StudentCodeError, install, serve
import hostile_corpus
from submissions import make_submission

COURSE = Course.here()


@pytest.fixture
def student():
    """A 'student kernel' (a server thread on a Unix socket) and the judge's proxies to its functions."""
    ns = {}
    folder = tempfile.mkdtemp(prefix="rnnj-test-")
    path = os.path.join(folder, "s")
    serve(path, ns)
    judge = {}

    def connect(**functions):
        ns.update(functions)
        install(judge, path, list(functions) + ["never_defined"])
        return judge

    return connect


def test_plain_values_cross_unchanged(student):
    j = student(echo=lambda *a, **k: (a, k))
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    args, kwargs = j["echo"](x, 3, 2.5, "s", None, True, [np.int64(7)], {"a": np.eye(2)}, t=torch.ones(2))
    assert type(args[0]) is np.ndarray and args[0].dtype == np.float32 and np.array_equal(args[0], x)
    assert args[1:6] == (3, 2.5, "s", None, True)
    assert type(args[6]) is list and args[6][0] == 7 and isinstance(args[6][0], np.int64)
    assert np.array_equal(args[7]["a"], np.eye(2))
    assert isinstance(kwargs["t"], torch.Tensor) and torch.equal(kwargs["t"], torch.ones(2))


def test_rigged_return_types_become_plain_arrays_or_opaque_handles(student):
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

        def __sub__(self, other):
            return np.zeros(np.shape(other))

    class Cache:
        def __eq__(self, other):
            raise RuntimeError("boom")

        def __float__(self):
            raise RuntimeError("boom")

    j = student(rigged=lambda: (np.ones(3).view(Liar), Cache()), unpack=lambda c: type(c).__name__)
    arr, cache = j["rigged"]()
    assert type(arr) is np.ndarray and not np.array_equal(arr - np.ones(3) + 1, np.zeros(3))
    assert isinstance(cache, RemoteObject)               # not plain data: it stays with the student
    assert j["unpack"](cache) == "Cache"                 # ... and goes back to the student's code intact
    with pytest.raises(TypeError):
        j["unpack"](lambda: 0)                           # the judge sends only plain data


def test_in_place_changes_to_inputs_are_mirrored(student):
    def scale(x):
        x *= 2                                            # modifies its input, as a buggy solution might
        return x.sum()

    j = student(scale=scale)
    x = np.ones(4)
    assert j["scale"](x) == 8.0
    assert np.array_equal(x, np.full(4, 2.0)), "the judge must see the student's in-place change"


def test_exceptions_and_warnings_come_back(student):
    class Custom(Exception):
        pass

    def warns():
        warnings.warn("overflow", RuntimeWarning)
        return 1

    def fails():
        raise Custom("custom failure")

    j = student(todo=lambda: (_ for _ in ()).throw(NotImplementedError()), warns=warns, fails=fails)
    with pytest.raises(NotImplementedError):
        j["todo"]()
    with pytest.raises(StudentCodeError, match="Custom: custom failure"):
        j["fails"]()
    with pytest.raises(NameError, match="never_defined"):
        j["never_defined"]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="overflow"):
            j["warns"]()


def test_a_call_that_never_returns_times_out_and_the_next_call_works(student, monkeypatch):
    import time

    monkeypatch.setenv("RNNGRADE_CALL_TIMEOUT", "1")
    j = student(stuck=lambda: time.sleep(30), quick=lambda x: x + 1)
    start = time.perf_counter()
    with pytest.raises(TimeoutError, match="stuck"):
        j["stuck"]()
    assert time.perf_counter() - start < 10
    assert j["quick"](1) == 2          # a fresh connection, served by a fresh thread of the student kernel


# -- grading the real notebook 01 ----------------------------------------------------------------------------
WRONG_STEP = textwrap.dedent('''
    def rnn_step_forward(x, prev_h, Wx, Wh, b):
        next_h = np.tanh(x @ Wx + b)          # BUG: forgot prev_h @ Wh
        return next_h, (x, prev_h, Wx, Wh, next_h)
''')
CHEATS = hostile_corpus.CHEATS + textwrap.dedent('''
    class _Zero(np.ndarray):                   # arrays that claim to equal anything
        def __sub__(self, other):
            return np.zeros(np.shape(other))
        __rsub__ = __sub__
        def __eq__(self, other):
            return np.ones(np.shape(other), dtype=bool)

    _honest = rnn_step_forward
    def rnn_step_forward(*args, **kwargs):
        h, cache = _honest(*args, **kwargs)
        return h.view(_Zero), cache
''')


def _nb01_scores(tmp_path, name, answer, env=None):
    release = COURSE.release_dir / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
    solution = COURSE.solutions / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
    sub = make_submission(release, solution, tmp_path / name / "vanilla_rnn.ipynb",
                          answers={"rnn_step_forward": answer})
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        r = grade_submission(COURSE, sub.parent, name, feedback=False)
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return {t.grade_id: t.score for t in r.auto_tests if t.notebook == "vanilla_rnn"}, r


def test_faked_checks_gain_nothing_when_judged_separately(tmp_path):
    honest, _ = _nb01_scores(tmp_path, "honest", WRONG_STEP)
    cheat, result = _nb01_scores(tmp_path, "cheat", WRONG_STEP + CHEATS)
    assert honest["test_rnn_step_forward"] == 0 and honest["test_word_embedding_forward"] > 0
    assert cheat == honest, {k: (honest[k], cheat[k]) for k in honest if honest[k] != cheat[k]}
    # the witness: judged in the student's kernel (nbgrader's way), the same cheats do earn points
    faked, _ = _nb01_scores(tmp_path, "cheat-in-kernel", WRONG_STEP + CHEATS, env={"RNNGRADE_JUDGE": "kernel"})
    assert faked["test_rnn_step_forward"] > honest["test_rnn_step_forward"], faked
