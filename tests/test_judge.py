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


@pytest.fixture(params=["unix", "tcp"])
def student(request):
    """A 'student kernel' (a server thread on a Unix socket, or on loopback TCP with a token as on Windows) and the
    judge's proxies to its functions."""
    ns = {}
    folder = tempfile.mkdtemp(prefix="rnnj-test-")
    path = os.path.join(folder, "s")
    serve(path, ns, kind=request.param)
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


# -- PyTorch objects across the boundary ---------------------------------------------------------------------
class _Tagger(torch.nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.rnn = torch.nn.GRU(d, h, batch_first=True)
        self.head = torch.nn.Linear(h, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out)


def test_modules_stay_with_the_student_and_answer_attributes_calls_and_isinstance(student):
    from torch import nn

    j = student(Tagger=_Tagger)
    torch.manual_seed(0)
    model = j["Tagger"](3, 4)
    assert isinstance(model, RemoteObject) and isinstance(model, nn.Module) and not isinstance(model, torch.Tensor)
    assert model.__class__.__name__ == "_Tagger" and not isinstance(model, nn.GRU)
    assert isinstance(model.rnn, nn.GRU) and model.rnn.__class__ is nn.GRU and model.rnn.hidden_size == 4
    assert hasattr(model, "head") and not hasattr(model, "nothing_here")
    model = model.double()                                       # a method call; the module comes back as a handle
    state = model.rnn.state_dict()
    assert type(state) is dict and state["weight_ih_l0"].dtype == torch.float64
    names = [n for n, _ in model.named_parameters()]
    assert names == [n for n, _ in _Tagger(3, 4).named_parameters()] and len(list(model.parameters())) == len(names)
    # an oracle built in the judge from the weights it read gives what the student's model computes
    ref = nn.GRU(3, 4, batch_first=True, dtype=torch.float64)
    ref.load_state_dict(state)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    W, b = model.head.weight, model.head.bias
    assert torch.allclose(model(x), ref(x)[0].detach() @ W.T + b)
    # the same seed gives the same initial weights as in one process
    torch.manual_seed(0)
    again = _Tagger(3, 4)
    torch.manual_seed(0)
    assert torch.equal(j["Tagger"](3, 4).head.weight, again.head.weight)


def test_a_handle_claims_only_real_module_classes(student):
    class FakeTensor:                                            # a type that claims to be torch.Tensor
        pass

    FakeTensor.__module__, FakeTensor.__qualname__ = "torch._tensor", "Tensor"

    class FakeArray:
        pass

    FakeArray.__module__, FakeArray.__qualname__ = "torch.nn.modules.module.np", "ndarray"
    j = student(fakes=lambda: (FakeTensor(), FakeArray()))
    a, b = j["fakes"]()
    for h in (a, b):
        assert not isinstance(h, (torch.Tensor, np.ndarray, torch.nn.Module))


def test_gradients_cross_both_ways(student):
    def scaled_sum(x, w):
        return (x * w).sum(1), x.detach() * 2, x

    lin = torch.nn.Linear(3, 1, dtype=torch.float64)
    j = student(scaled_sum=scaled_sum, apply=lambda m, x: m(x), model=lambda: lin)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, dtype=torch.float64)
    y, detached, same = j["scaled_sum"](x, w)
    assert y.requires_grad and not detached.requires_grad and same is x
    (y * torch.arange(4.0, dtype=torch.float64)).sum().backward()     # backward runs in the student's kernel
    assert torch.allclose(x.grad, torch.arange(4.0, dtype=torch.float64)[:, None] * w)
    with torch.no_grad():
        assert not j["scaled_sum"](x, w)[0].requires_grad
    # a student's module: parameter gradients accumulate there, and come back with the parameters
    m = j["model"]()
    out = m(x.detach())
    out.sum().backward()
    assert torch.allclose(m.weight.grad, x.detach().sum(0, keepdim=True)) and lin.weight.grad is not None
    # chained calls: the judge's autograd links them
    x.grad = None
    h = j["apply"](m, x)
    j["apply"](m, h.expand(-1, 3).contiguous()).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


def test_an_optimizer_for_a_students_model_lives_with_it(student):
    from rnnlab.testing import optimizer_for

    lin = torch.nn.Linear(2, 1, bias=False, dtype=torch.float64)
    j = student(model=lambda: lin)
    m = j["model"]()
    w0 = m.weight.detach().clone()
    opt = optimizer_for(m, torch.optim.SGD, lr=0.5)
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    opt.zero_grad()
    m(x).sum().backward()
    opt.step()
    assert torch.allclose(m.weight, w0 - 0.5 * x)                 # the student's parameters moved
    plain = torch.nn.Linear(2, 1)
    assert isinstance(optimizer_for(plain, torch.optim.SGD, lr=0.1), torch.optim.SGD)   # no grader: as usual


def test_one_random_stream_that_the_student_cannot_steer(student):
    def steer():
        torch.manual_seed(123)
        np.random.seed(123)
        return torch.randn(2)

    j = student(randn=lambda n: torch.randn(n), steer=steer)
    torch.manual_seed(5)
    a = j["randn"](3)
    torch.manual_seed(5)
    assert torch.equal(a, torch.randn(3))                      # as if in one process
    assert not torch.equal(j["randn"](3), j["randn"](3))       # and no two calls repeat each other
    j["steer"]()
    torch.manual_seed(123)
    chosen = torch.randn(2)
    torch.manual_seed(5)
    j["steer"]()
    assert not torch.equal(torch.randn(2), chosen)


def test_judge_objects_are_sent_pickled(student):
    j = student(apply=lambda m, x: m(x))
    enc = torch.nn.Linear(2, 2, dtype=torch.float64)
    x = torch.randn(3, 2, dtype=torch.float64)
    assert torch.allclose(j["apply"](enc, x), enc(x).detach())
    with pytest.raises(TypeError):
        j["apply"](lambda v: v, x)


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


def _scores(tmp_path, assignment, notebook, cell, name, answer, env=None):
    """Grade a submission whose solution cell ``cell`` holds ``answer`` (every other cell solved); test scores."""
    release = COURSE.release_dir / assignment / f"{notebook}.ipynb"
    solution = COURSE.solutions / assignment / f"{notebook}.ipynb"
    sub = make_submission(release, solution, tmp_path / name / f"{notebook}.ipynb", answers={cell: answer})
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        r = grade_submission(COURSE, sub.parent, name, feedback=False)
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return {t.grade_id: t.score for t in r.auto_tests if t.notebook == notebook}, r


def _nb01_scores(tmp_path, name, answer, env=None):
    return _scores(tmp_path, "01_vanilla_rnn", "vanilla_rnn", "rnn_step_forward", name, answer, env)


def test_faked_checks_gain_nothing_when_judged_separately(tmp_path, monkeypatch):
    honest, _ = _nb01_scores(tmp_path, "honest", WRONG_STEP)
    cheat, result = _nb01_scores(tmp_path, "cheat", WRONG_STEP + CHEATS)
    assert honest["test_rnn_step_forward"] == 0 and honest["test_word_embedding_forward"] > 0
    assert cheat == honest, {k: (honest[k], cheat[k]) for k in honest if honest[k] != cheat[k]}
    # the same over loopback TCP with a token, the transport of Windows (where the sandbox does not exist)
    from rnngrade.judge import transport

    monkeypatch.setattr(transport, "default_kind", lambda: "tcp")
    over_tcp, _ = _nb01_scores(tmp_path, "cheat-tcp", WRONG_STEP + CHEATS, env={"RNNGRADE_SANDBOX": "0"})
    assert over_tcp == honest, {k: (honest[k], over_tcp[k]) for k in honest if honest[k] != over_tcp[k]}
    # the witness: judged in the student's kernel (nbgrader's way), the same cheats do earn points
    faked, _ = _nb01_scores(tmp_path, "cheat-in-kernel", WRONG_STEP + CHEATS, env={"RNNGRADE_JUDGE": "kernel"})
    assert faked["test_rnn_step_forward"] > honest["test_rnn_step_forward"], faked


# -- grading a real PyTorch notebook (06): modules, gradients and training cross between the kernels -------------
WRONG_MASKED_CE = textwrap.dedent('''
    def masked_cross_entropy(logits, targets, lengths):
        N, T, C = logits.shape
        mask = torch.arange(T)[None, :] < lengths[:, None]
        per_step = F.cross_entropy(logits.reshape(-1, C), torch.where(mask, targets, 0).reshape(-1), reduction="none")
        return (per_step * mask.reshape(-1)).sum() / (N * T)     # BUG: divides by N * T, padding included
''')
TORCH_CHEATS = hostile_corpus.CHEATS + textwrap.dedent('''
    import torch.testing
    torch.equal = lambda *a, **k: True
    torch.testing.assert_close = lambda *a, **k: None
    torch.Tensor.__eq__ = lambda self, other: torch.ones((), dtype=torch.bool)

    class _Agreeable(torch.Tensor):                 # a loss that claims to equal anything
        def item(self):
            return float("nan")
        def __eq__(self, other):
            return True

    _honest_mce = masked_cross_entropy
    def masked_cross_entropy(*args, **kwargs):
        return _honest_mce(*args, **kwargs).as_subclass(_Agreeable)
''')


def _nb06_scores(tmp_path, name, answer, env=None):
    return _scores(tmp_path, "06_sequence_classification", "sequence_classification", "masked_cross_entropy", name,
                   answer, env)[0]


def test_a_pytorch_notebook_is_judged_separately_and_faked_checks_gain_nothing(tmp_path):
    honest = _nb06_scores(tmp_path, "honest", WRONG_MASKED_CE)
    assert honest["test_masked_cross_entropy"] == 0 and honest["test_masked_cross_entropy_hidden"] == 0
    # everything else of the notebook (modules, gradients through them, training runs) earns its points
    assert all(v > 0 for k, v in honest.items() if "masked_cross_entropy" not in k), honest
    cheat = _nb06_scores(tmp_path, "cheat", WRONG_MASKED_CE + TORCH_CHEATS)
    assert cheat == honest, {k: (honest[k], cheat[k]) for k in honest if honest[k] != cheat[k]}
    faked = _nb06_scores(tmp_path, "cheat-in-kernel", WRONG_MASKED_CE + TORCH_CHEATS, env={"RNNGRADE_JUDGE": "kernel"})
    assert faked["test_masked_cross_entropy"] > 0, faked      # the witness: in the student's kernel they do gain


def test_a_judge_that_does_not_start_costs_the_tests_and_says_why(tmp_path, monkeypatch):
    """The judge kernel starts beside the student's and is connected once the student's is up; if it cannot be
    (here: connecting raises), grading still finishes, every test of the notebook scores 0, and each says why."""
    from rnngrade import judged_execution

    def broken(self):
        self.connected = True
        raise RuntimeError("no judge today")

    monkeypatch.setattr(judged_execution.JudgeKernel, "connect", broken)
    release = COURSE.release_dir / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
    sub = make_submission(release, COURSE.solutions / "01_vanilla_rnn" / "vanilla_rnn.ipynb",
                          tmp_path / "no-judge" / "vanilla_rnn.ipynb")
    result = grade_submission(COURSE, sub.parent, "no-judge", feedback=False)
    scores = {t.grade_id: t.score for t in result.auto_tests if t.notebook == "vanilla_rnn"}
    assert scores and all(v == 0 for v in scores.values()), scores
    outputs = [t.output for t in result.auto_tests if t.notebook == "vanilla_rnn"]
    assert all("judge kernel did not start (RuntimeError: no judge today)" in o for o in outputs), outputs[:2]


# -- stopping the judge kernel in every state it can be in ------------------------------------------------------
def _launched_judge(tmp_path):
    """A JudgeKernel launched on the plain python3 kernel (no proxies to bind), and its process."""
    from traitlets.config import Config

    from rnngrade.judged_execution import JudgeKernel

    judge = JudgeKernel(Config(), "python3", {}, str(tmp_path), str(tmp_path / "s"), [])
    return judge, judge.client.km.provisioner.process


def _gone(process, within_s=15.0):
    import time

    deadline = time.monotonic() + within_s
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return process.poll() is not None


def test_a_judge_that_was_never_connected_is_stopped_without_waiting_for_it(tmp_path):
    """The student's kernel failed to start, so the judge was launched but never connected: close() stops its
    process without first waiting for it to answer (a judge that hangs would otherwise cost the start-up timeout).
    A judge that fails while connecting is cleaned up by nbclient itself."""
    judge, process = _launched_judge(tmp_path)
    waited = []

    def wait_for_it(*args, **kwargs):
        waited.append(True)
        raise RuntimeError("close() waited for the kernel to answer")

    judge.client.start_new_kernel_client = wait_for_it
    assert process.poll() is None
    judge.close()
    assert not waited, "close() waited for a kernel it never connected to"
    assert _gone(process), "the judge kernel's process outlived close()"


def test_over_tcp_only_a_client_with_the_token_is_served(tmp_path):
    """On loopback TCP any program on the machine can connect: the server answers only a connection that first
    sends the token from the file at the path (which only the grader can read), and drops the others without
    stopping; a Unix-socket server needs no token."""
    import json as _json

    from rnngrade.judge import transport, wire

    path = str(tmp_path / "s")
    serve(path, {"double": lambda x: 2 * x}, kind="tcp")
    port = _json.loads(Path(path).read_text())["port"]
    header = {"op": wire.CALL, "name": "double", "args": [21], "kwargs": {}}   # answered, if at all, by an error
    for intruder in (b"", b"x" * transport.TOKEN_BYTES):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(intruder)
            try:
                wire.send_message(sock, header, [])
                reply = sock.recv(1)
            except socket.timeout:
                pytest.fail("the server neither answered nor hung up")
            except OSError:            # reset by the server: hung up
                reply = b""
            assert reply == b"", "a connection without the token was answered"
    judge = {}
    install(judge, path, ["double"])
    assert judge["double"](21) == 42


def test_without_unix_sockets_the_judge_uses_tcp(tmp_path, monkeypatch):
    """As on Windows, whose Python has no socket.AF_UNIX: the default transport is TCP, and the judge reaches the
    server without touching AF_UNIX."""
    from rnngrade.judge import transport

    monkeypatch.delattr(socket, "AF_UNIX")
    assert transport.default_kind() == "tcp"
    path = str(tmp_path / "s")
    serve(path, {"double": lambda x: 2 * x})
    judge = {}
    install(judge, path, ["double"])
    assert judge["double"](np.arange(3.0)).tolist() == [0.0, 2.0, 4.0]
