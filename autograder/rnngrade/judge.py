"""Judging outside the student's process: the student's functions run in one kernel, the tests in another.

In plain nbgrader the tests run in the same Python process as the student's code, so a submission can replace
``np.allclose``, ``rnnlab.check_close``, ``builtins.abs`` or a module in ``sys.modules`` and make every test pass.
For a notebook whose source says ``"rnngrade": {"judge": "separate"}`` in its metadata, the grader instead runs:

- the **student kernel**: the student's notebook without its test cells. Before the first cell, a small server
  (:func:`serve`) starts in it on a Unix socket.
- the **judge kernel**, which never runs a line the student wrote: the source notebook's locked cells (imports,
  test helpers) and its test cells, with each name a solution cell defines bound to a :class:`StudentFunction`.

Calling a ``StudentFunction`` sends the arguments to the student kernel, calls the student's function there and
sends the result back. Only plain data crosses: NumPy arrays as ``.npy`` bytes read with ``allow_pickle=False`` (so
always an exact ``np.ndarray``, never a subclass with a rigged ``__eq__``), torch tensors as arrays, Python numbers,
strings, ``None``, and tuples, lists and dicts of those. Anything else (an object in a ``cache``, say) stays in the
student kernel and crosses as an opaque handle that can only be passed back. Warnings the student's code raises are
raised again in the judge, exceptions come back with their type and message, and arrays the student's code changes
in place are changed in the judge too (the tests check that inputs are left alone). The comparison with the oracle
therefore happens in a process the student's code never touched: monkeypatching, rigged return types and faked
checkers gain nothing.

Wire format, both ways: an 8-byte big-endian length and a JSON header, then, for each blob the header lists, an
8-byte length and the bytes.
"""
from __future__ import annotations

import builtins
import io
import json
import os
import socket
import struct
import threading
import traceback
import warnings

import numpy as np

MAX_MESSAGE_BYTES = 1 << 30          # the judge refuses larger answers (a student kernel cannot flood it)
MAX_DEPTH = 32                        # nesting of tuples/lists/dicts
CALL_TIMEOUT_ENV = "RNNGRADE_CALL_TIMEOUT"
DEFAULT_CALL_TIMEOUT_S = 60.0
_LEN = struct.Struct(">Q")
_PY_TYPES = (bool, int, float, str, type(None))


class StudentCodeError(Exception):
    """An exception raised in the student's code whose type is not a Python built-in."""


class JudgeProtocolError(RuntimeError):
    """The student kernel's answer broke the protocol (or it died, or it timed out)."""


# -- framing -----------------------------------------------------------------------------------------
def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise JudgeProtocolError("the student kernel closed the connection (did it die?)")
        buf += chunk
    return bytes(buf)


def send_message(sock: socket.socket, header: dict, blobs: list[bytes]) -> None:
    head = json.dumps({**header, "blobs": [len(b) for b in blobs]}).encode()
    parts = [_LEN.pack(len(head)), head]
    for b in blobs:
        parts += [_LEN.pack(len(b)), b]
    sock.sendall(b"".join(parts))


def recv_message(sock: socket.socket, max_bytes: int = MAX_MESSAGE_BYTES) -> tuple[dict, list[bytes]]:
    (n,) = _LEN.unpack(_recv_exact(sock, 8))
    if n > max_bytes:
        raise JudgeProtocolError(f"message header of {n} bytes refused")
    header = json.loads(_recv_exact(sock, n).decode())
    if not isinstance(header, dict) or not isinstance(header.get("blobs"), list):
        raise JudgeProtocolError("malformed message")
    blobs, total = [], n
    for _ in header["blobs"]:
        (m,) = _LEN.unpack(_recv_exact(sock, 8))
        total += m
        if total > max_bytes:
            raise JudgeProtocolError(f"message over {max_bytes} bytes refused")
        blobs.append(_recv_exact(sock, m))
    return header, blobs


# -- values --------------------------------------------------------------------------------------------
class RemoteObject:
    """A value that stays in the student kernel (it is not plain data); it can only be passed back to it."""

    __slots__ = ("handle",)

    def __init__(self, handle: int):
        self.handle = handle

    def __repr__(self) -> str:
        return f"<object #{self.handle} kept in the student's kernel>"


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def encode(obj, blobs: list[bytes], keep=None, depth: int = 0):
    """obj -> JSON-able tree; arrays go to ``blobs``. ``keep(obj) -> handle`` for values that are not plain data
    (the student side); without ``keep`` such values raise TypeError (the judge side sends only plain data)."""
    if depth > MAX_DEPTH:
        raise TypeError("value nested too deeply")
    if type(obj) in _PY_TYPES:
        return {"t": "py", "v": obj}
    if isinstance(obj, RemoteObject):
        return {"t": "h", "id": obj.handle}
    torch = _torch_if_loaded()
    try:
        if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc":
            blobs.append(_npy(np.asarray(obj)))
            return {"t": "nd", "i": len(blobs) - 1}
        if isinstance(obj, np.generic) and np.asarray(obj).dtype.kind in "biufc":
            blobs.append(_npy(np.asarray(obj)))
            return {"t": "np", "i": len(blobs) - 1}
        if torch is not None and isinstance(obj, torch.Tensor):
            t = obj.detach().cpu()
            dtype = str(t.dtype).replace("torch.", "")
            if t.dtype == torch.bfloat16:
                t = t.float()
            blobs.append(_npy(t.numpy()))
            return {"t": "pt", "i": len(blobs) - 1, "dtype": dtype}
    except Exception:  # noqa: BLE001 -- a value that does not serialise cleanly is kept, not trusted
        pass
    if type(obj) in (tuple, list):
        return {"t": "tuple" if type(obj) is tuple else "list",
                "v": [encode(x, blobs, keep, depth + 1) for x in obj]}
    if type(obj) is dict and all(type(k) is str for k in obj):
        return {"t": "dict", "k": list(obj), "v": [encode(v, blobs, keep, depth + 1) for v in obj.values()]}
    if keep is None:
        raise TypeError(f"a {type(obj).__name__} cannot be sent to the student's code (only arrays, numbers, "
                        "strings and containers of them)")
    return {"t": "h", "id": keep(obj)}


def decode(tree, blobs: list[bytes], resolve=None, depth: int = 0):
    """The inverse of :func:`encode`. Arrays are read with ``allow_pickle=False``: always exact ndarrays."""
    if depth > MAX_DEPTH or not isinstance(tree, dict):
        raise JudgeProtocolError("malformed value")
    t = tree.get("t")
    if t == "py":
        v = tree.get("v")
        if type(v) not in _PY_TYPES:
            raise JudgeProtocolError("malformed value")
        return v
    if t in ("nd", "np", "pt"):
        arr = np.load(io.BytesIO(blobs[int(tree["i"])]), allow_pickle=False)
        if type(arr) is not np.ndarray:
            raise JudgeProtocolError("malformed array")
        if t == "np":
            return arr[()]
        if t == "pt":
            import torch

            out = torch.from_numpy(arr.copy())
            return out.to(torch.bfloat16) if tree.get("dtype") == "bfloat16" else out
        return arr
    if t in ("tuple", "list"):
        items = [decode(x, blobs, resolve, depth + 1) for x in tree["v"]]
        return tuple(items) if t == "tuple" else items
    if t == "dict":
        keys = tree["k"]
        if not all(type(k) is str for k in keys):
            raise JudgeProtocolError("malformed dict")
        return dict(zip(keys, (decode(v, blobs, resolve, depth + 1) for v in tree["v"])))
    if t == "h":
        return resolve(int(tree["id"])) if resolve else RemoteObject(int(tree["id"]))
    raise JudgeProtocolError(f"unknown value kind {t!r}")


def _torch_if_loaded():
    import sys

    return sys.modules.get("torch")


# -- the student side ------------------------------------------------------------------------------------
class _Server:
    def __init__(self, path: str, namespace: dict):
        self.namespace = namespace
        self.handles: dict[int, object] = {}
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)

    def keep(self, obj) -> int:
        with self.lock:
            hid = len(self.handles) + 1
            self.handles[hid] = obj
        return hid

    def resolve(self, hid: int):
        try:
            return self.handles[hid]
        except KeyError:
            raise JudgeProtocolError(f"unknown handle {hid}") from None

    def serve_forever(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self._serve_connection, args=(conn,), daemon=True).start()

    def _serve_connection(self, conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    header, blobs = recv_message(conn)
                except Exception:  # noqa: BLE001 -- the judge hung up
                    return
                send_message(conn, *self._call(header, blobs))

    def _call(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        out_blobs: list[bytes] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                name = header.get("name")
                if not isinstance(name, str) or name not in self.namespace:
                    return {"error": {"missing": True}, "warnings": []}, []
                args = decode(header["args"], blobs, self.resolve)
                kwargs = decode(header["kwargs"], blobs, self.resolve)
                result = self.namespace[name](*args, **kwargs)
                reply = {"ok": encode(result, out_blobs, self.keep),
                         "after": encode([args, kwargs], out_blobs, self.keep)}
            except BaseException as exc:  # noqa: BLE001 -- everything the student's code raises goes back
                frames = traceback.extract_tb(exc.__traceback__)
                where = frames[-1] if frames else None
                reply = {"error": {"type": type(exc).__name__, "message": str(exc)[:2000],
                                   "where": f"line {where.lineno}, in {where.name}" if where else ""}}
                out_blobs = []
        reply["warnings"] = [[w.category.__name__, str(w.message)[:500]] for w in caught[:20]]
        return reply, out_blobs


def serve(path: str, namespace: dict | None = None) -> None:
    """Run in the student kernel: answer calls on the Unix socket ``path`` from a background thread."""
    if namespace is None:
        namespace = get_ipython().user_ns  # noqa: F821 -- defined inside IPython
    server = _Server(path, namespace)
    threading.Thread(target=server.serve_forever, daemon=True, name="rnngrade-judge-server").start()


# -- the judge side --------------------------------------------------------------------------------------
class _Connection:
    def __init__(self, path: str):
        self.path = path
        self.sock: socket.socket | None = None
        self.timeout = float(os.environ.get(CALL_TIMEOUT_ENV, DEFAULT_CALL_TIMEOUT_S))

    def call(self, name: str, args: tuple, kwargs: dict):
        blobs: list[bytes] = []
        header = {"name": name, "args": encode(list(args), blobs), "kwargs": encode(kwargs, blobs)}
        try:
            if self.sock is None:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(self.timeout)
                self.sock.connect(self.path)
            send_message(self.sock, header, blobs)
            reply, rblobs = recv_message(self.sock)
        except (OSError, JudgeProtocolError) as exc:
            self.close()   # a fresh connection (and server thread) for the next call
            if isinstance(exc, socket.timeout):
                raise TimeoutError(f"{name} did not return within {self.timeout:.0f} s") from None
            raise JudgeProtocolError(f"calling {name} in the student's kernel failed: {exc}") from None
        for category, message in reply.get("warnings", [])[:20]:
            cls = getattr(builtins, str(category), None)
            if not (isinstance(cls, type) and issubclass(cls, Warning)):
                cls = UserWarning
            warnings.warn(f"{message} (warning in your {name})", cls, stacklevel=3)
        if "error" in reply:
            err = reply["error"] if isinstance(reply["error"], dict) else {}
            raise _rebuild_exception(name, err)
        if "ok" not in reply:
            raise JudgeProtocolError("malformed reply")
        result = decode(reply["ok"], rblobs)
        _write_back([list(args), kwargs], decode(reply.get("after", {"t": "py", "v": None}), rblobs))
        return result

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
    torch = _torch_if_loaded()
    if torch is not None and isinstance(original, torch.Tensor) and isinstance(after, torch.Tensor):
        if original.shape == after.shape and not torch.equal(original.detach().cpu().to(after.dtype), after):
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

    def __init__(self, name: str, connection: _Connection):
        self.__name__ = self.name = name
        self._connection = connection

    def __call__(self, *args, **kwargs):
        return self._connection.call(self.name, args, kwargs)

    def __repr__(self) -> str:
        return f"<your {self.name}, run in its own process>"


def install(namespace: dict, path: str, names: list[str]) -> None:
    """Run in the judge kernel: bind every name a solution cell defines to the student's code."""
    connection = _Connection(path)
    for name in names:
        namespace[name] = StudentFunction(name, connection)
