"""The judge kernel's side: a connection to the student kernel's server, and the proxies the tests call.

:func:`install` binds each name a solution cell defines to a :class:`StudentFunction`; calling one sends the
arguments (plain data; tensors that require grad marked, so they become leaves there; other objects of the judge
pickled), with the judge's random states and grad mode, and decodes the answer: plain data, handles
(``rnngrade.judge.remote_objects``), results linked to the student's autograd graph
(``rnngrade.judge.remote_autograd``). Warnings the student's code raised are raised again here, exceptions come
back with their type and message, and arrays the student's code changed in place are changed here too.
"""
from __future__ import annotations

import builtins
import io
import pickle
import socket
import time
import warnings

import numpy as np

from .. import settings
from . import remote_autograd, transport, wire
from .remote_objects import RemoteObject
from .wire import JudgeProtocolError

CALL_TIMEOUT_ENV = settings.CALL_TIMEOUT.name
DEFAULT_CALL_TIMEOUT_S = float(settings.CALL_TIMEOUT.default)
ROUND_TRIPS = {"calls": 0, "seconds": 0.0}       # requests to the student's kernel and their time (rnngrade.timings)


class StudentCodeError(Exception):
    """An exception raised in the student's code whose type is not a Python built-in."""


class _JudgePickler(pickle.Pickler):
    """Pickles the judge's objects for the student kernel; handles inside them travel by number."""

    def persistent_id(self, obj):
        return obj.handle if type(obj) is RemoteObject else None


class Connection:
    """One socket to the student kernel's server (opened on first use, opened again after a failure)."""

    def __init__(self, path: str):
        self.path = path
        self.sock: socket.socket | None = None
        self.timeout = settings.CALL_TIMEOUT.as_float()

    def _encode_args(self, obj, blobs: list[bytes], inputs: list):
        """judge -> student: plain data; tensors that require grad are marked (they become leaves there and are
        appended to ``inputs``); handles by number; other objects pickled."""
        def encode_tensor(t, blobs):
            if t.requires_grad and t.is_floating_point():
                inputs.append(t)
                return {**wire.tensor_node(t, blobs), wire.GRAD: wire.GRAD_LEAF_REQUEST}
            return None

        def encode_object(o, blobs):
            if type(o) is RemoteObject:
                return {wire.KIND: wire.HANDLE, wire.HANDLE_ID: o.handle}
            buf = io.BytesIO()
            try:
                _JudgePickler(buf, protocol=4).dump(o)
            except Exception as exc:  # noqa: BLE001
                raise TypeError(f"a {type(o).__name__} cannot be sent to the student's code ({exc})") from None
            return {wire.KIND: wire.PICKLED, wire.BLOB: wire.add_blob(blobs, buf.getvalue())}

        return wire.encode(obj, blobs, encode_tensor, encode_object)

    def _random_state(self, blobs: list[bytes]) -> dict:
        """The judge's global random states (sent with each call), then advanced by one draw."""
        rng = {}
        torch = wire.torch_if_loaded()
        if torch is not None:
            rng["torch"] = wire.add_blob(blobs, wire.npy(torch.get_rng_state().numpy()))
            torch.rand(1)
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        rng["numpy"] = [wire.add_blob(blobs, wire.npy(np.asarray(keys))), int(pos), int(has_gauss), float(cached)]
        np.random.random()
        return rng

    def request(self, header: dict, label: str, args, kwargs):
        """Send one request (``header["op"]`` and its fields) with ``args``/``kwargs``; the decoded result.
        ``label`` names what was called, in messages."""
        blobs: list[bytes] = []
        inputs: list = []
        header = {**header, "args": self._encode_args(list(args), blobs, inputs),
                  "kwargs": self._encode_args(kwargs, blobs, inputs)}
        torch = wire.torch_if_loaded()
        if header["op"] in (wire.CALL, wire.HANDLE_CALL):
            header["rng"] = self._random_state(blobs)
        header["grad"] = bool(torch.is_grad_enabled()) if torch is not None else True
        started = time.perf_counter()
        try:
            if self.sock is None:
                self.sock = transport.connect(self.path, self.timeout)
            wire.send_message(self.sock, header, blobs)
            reply, rblobs = wire.recv_message(self.sock)
        except (OSError, JudgeProtocolError) as exc:
            self.close()   # a fresh connection (and server thread) for the next call
            if isinstance(exc, socket.timeout):
                raise TimeoutError(f"{label} did not return within {self.timeout:.0f} s") from None
            raise JudgeProtocolError(f"calling {label} in the student's kernel failed: {exc}") from None
        finally:
            ROUND_TRIPS["calls"] += 1
            ROUND_TRIPS["seconds"] += time.perf_counter() - started
        for category, message in reply.get("warnings", [])[:20]:
            cls = getattr(builtins, str(category), None)
            if not (isinstance(cls, type) and issubclass(cls, Warning)):
                cls = UserWarning
            warnings.warn(f"{message} (warning in your {label})", cls, stacklevel=3)
        if "error" in reply:
            err = reply["error"] if isinstance(reply["error"], dict) else {}
            raise _rebuild_exception(label, err)
        if "ok" not in reply:
            raise JudgeProtocolError("malformed reply")
        links: list = []
        result = self._decode_result(reply["ok"], rblobs, inputs, links)
        if links and "graph" in reply:
            links.sort(key=lambda pair: pair[0])
            if [k for k, _ in links] != list(range(len(links))):
                raise JudgeProtocolError("malformed graph links")
            graph = remote_autograd.RemoteGraph(self, int(reply["graph"]), label, inputs, [t for _, t in links])
            linked = remote_autograd.attach(graph)
            result = remote_autograd.replace_by_identity(
                result, {id(raw): new for (_, raw), new in zip(links, linked)})
        _write_back([list(args), kwargs], self._decode_result(reply.get("after", wire.NONE), rblobs, inputs, []))
        return result

    def _decode_result(self, tree, blobs: list[bytes], inputs: list, links: list):
        """student -> judge: handles become RemoteObjects, the judge's inputs come back as themselves, tensors
        linked to the call's graph are appended to ``links`` as (output number, tensor)."""
        def decode_extension(node):
            kind = node.get(wire.KIND)
            if kind == wire.HANDLE:
                types = node.get(wire.TYPES) if isinstance(node.get(wire.TYPES), list) else []
                return RemoteObject(int(node[wire.HANDLE_ID]), self, tuple(types))
            if kind == wire.JUDGE_INPUT:
                return inputs[int(node[wire.INPUT_INDEX])]
            if kind == wire.TENSOR:
                out = wire.tensor_from(node, blobs)
                if node.get(wire.GRAD) == wire.GRAD_LINKED and out.is_floating_point():
                    links.append((int(node[wire.OUTPUT_INDEX]), out))
                elif node.get(wire.GRAD) == wire.GRAD_LEAF and out.is_floating_point():
                    out.requires_grad_(True)
                    if wire.GRAD_BLOB in node:
                        grad = wire.tensor_from(node, blobs, key=wire.GRAD_BLOB)
                        if tuple(grad.shape) == tuple(out.shape):
                            out.grad = grad.to(out.dtype)
                return out
            return wire.unknown_kind(node)

        return wire.decode(tree, blobs, decode_extension)

    def call(self, name: str, args: tuple, kwargs: dict):
        return self.request({"op": wire.CALL, "name": name}, name, args, kwargs)

    # -- rnnlab.testing.StudentProcess: the hook the notebooks' test helpers use -----------------------------
    def holds(self, obj) -> bool:
        """True when ``obj`` is a handle on an object in the student kernel."""
        return type(obj) is RemoteObject

    def build(self, path: str, *args, **kwargs):
        """Build ``path`` (a torch.optim / torch.nn class or function, by module and name) in the student kernel,
        called with ``args`` (handles, such as ``model.parameters()``, included): an optimizer for a student's
        model must live where the model does."""
        return self.request({"op": wire.BUILD, "path": path}, path.rsplit(".", 1)[-1], args, kwargs)

    def place(self, obj):
        """A copy of the judge's ``obj`` made in the student kernel, as a handle."""
        if type(obj) is RemoteObject:
            return obj
        return self.request({"op": wire.PLACE}, f"a {type(obj).__name__} sent to your code", (obj,), {})

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None


def _rebuild_exception(name: str, err: dict) -> BaseException:
    ename, message = str(err.get("type", "Error")), str(err.get("message", ""))
    if err.get("missing"):
        return NameError(f"name {name!r} is not defined in your notebook")
    where = f" [raised in your code, {err.get('where')}]" if err.get("where") else ""
    cls = getattr(builtins, ename, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and cls not in (SystemExit, KeyboardInterrupt):
        try:
            return cls(message + where)
        except Exception:  # noqa: BLE001 -- exception types with other constructors
            pass
    return StudentCodeError(f"{ename}: {message}{where}")


def _write_back(original, after) -> None:
    """Mirror in-place changes the student's code made to array arguments."""
    if isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if original.shape == after.shape and not np.array_equal(original, after, equal_nan=True):
            if original.flags.writeable:
                np.copyto(original, after, casting="unsafe")
        return
    torch = wire.torch_if_loaded()
    if torch is not None and isinstance(original, torch.Tensor) and isinstance(after, torch.Tensor):
        if original is after:
            return
        if original.shape == after.shape and not torch.equal(original.detach().cpu().to(after.dtype),
                                                             after.detach()):
            with torch.no_grad():
                original.copy_(after.to(original.dtype))
        return
    if isinstance(original, (list, tuple)) and isinstance(after, (list, tuple)) and len(original) == len(after):
        for o, a in zip(original, after):
            _write_back(o, a)
    elif isinstance(original, dict) and isinstance(after, dict):
        for k, o in original.items():
            if k in after:
                _write_back(o, after[k])


class StudentFunction:
    """Stands in the judge kernel for a name the student's notebook defines; calls it in the student kernel."""

    def __init__(self, name: str, connection: Connection):
        self.__name__ = self.name = name
        self._connection = connection

    def __call__(self, *args, **kwargs):
        return self._connection.call(self.name, args, kwargs)

    def __repr__(self) -> str:
        return f"<your {self.name}, run in its own process>"


def install(namespace: dict, path: str, names: list[str]) -> None:
    """Run in the judge kernel: bind every name a solution cell defines to the student's code."""
    connection = Connection(path)
    for name in names:
        namespace[name] = StudentFunction(name, connection)
    try:                                   # the test helpers that must place objects with the student's code
        from rnnlab.testing import connect_student_process
    except ImportError:
        return
    connect_student_process(connection)
