"""Judging outside the student's process: the student's code runs in one kernel, the tests in another.

In plain nbgrader the tests run in the same Python process as the student's code, so a submission can replace
``np.allclose``, ``rnnlab.check_close``, ``builtins.abs`` or a module in ``sys.modules`` and make every test pass.
For a notebook whose source says ``"rnngrade": {"judge": "separate"}`` in its metadata, the grader instead runs:

- the **student kernel**: the student's notebook without its test cells. Before the first cell, a small server
  (:func:`serve`) starts in it on a Unix socket.
- the **judge kernel**, which never runs a line the student wrote: the source notebook's locked cells (imports,
  test helpers) and its test cells, with each name a solution cell defines bound to a :class:`StudentFunction`.

Calling a ``StudentFunction`` sends the arguments to the student kernel, calls the student's function there and
sends the result back. Only plain data comes back: NumPy arrays as ``.npy`` bytes read with ``allow_pickle=False``
(so always an exact ``np.ndarray``, never a subclass with a rigged ``__eq__``), torch tensors as arrays, Python
numbers, strings, ``None``, and tuples, lists and dicts of those. Anything else (a ``cache``, an ``nn.Module``)
stays in the student kernel as a :class:`RemoteObject`, a handle on which the judge can read attributes, call
methods, iterate and index, each one more round trip whose answer is again plain data or a handle. For
``isinstance`` checks a handle reports the first ``torch.nn`` / ``torch.optim`` class of the object's type (the
judge's own class, found by name among modules it has already imported; nothing is imported on the student's word).

PyTorch tests also need what one process gives for free:

- **Gradients across the boundary.** A tensor the judge sends with ``requires_grad`` becomes a leaf in the student
  kernel; a result that depends on the student's graph comes back attached to a judge-side autograd node, whose
  backward sends the upstream gradient to the student kernel, runs ``torch.autograd.backward`` there (parameters
  of the student's modules accumulate their ``.grad`` there, as usual) and returns the gradients of the leaves. A
  student's parameter read as an attribute comes back as a leaf copy with its ``.grad``.
- **One random stream.** Each call carries the judge's torch and NumPy global random states; the student kernel
  starts the call from them (``torch.manual_seed(0); model = Model()`` gives the weights it gives in one process)
  and the judge then advances its own states by one draw, so that two calls never repeat each other's randomness.
  The student's final states are not taken back: a submission cannot choose the judge's test inputs.
- **The judge's no-grad mode** applies to the call, and objects of the judge (a stand-in encoder built by a test
  helper) are sent pickled (judge to student only; the judge never unpickles what the student sends) and rebuilt
  from the student kernel's classes of the same name, which the notebook's locked cells define.

Warnings the student's code raises are raised again in the judge, exceptions come back with their type and
message, and arrays the student's code changes in place are changed in the judge too (the tests check that inputs
are left alone). The comparison with the oracle therefore happens in a process the student's code never touched:
monkeypatching, rigged return types and faked checkers gain nothing.

Wire format, both ways: an 8-byte big-endian length and a JSON header, then, for each blob the header lists, an
8-byte length and the bytes.
"""
from __future__ import annotations

import builtins
import collections
import contextlib
import io
import json
import os
import pickle
import socket
import struct
import sys
import threading
import time
import traceback
import warnings

import numpy as np

MAX_MESSAGE_BYTES = 1 << 30          # the judge refuses larger answers (a student kernel cannot flood it)
MAX_DEPTH = 32                        # nesting of tuples/lists/dicts
MAX_ITEMS = 100_000                   # items of one remote iteration
MAX_GRAPHS = 256                      # autograd graphs the student kernel keeps for a later backward
CALL_TIMEOUT_ENV = "RNNGRADE_CALL_TIMEOUT"
DEFAULT_CALL_TIMEOUT_S = 60.0
_LEN = struct.Struct(">Q")
_PY_TYPES = (bool, int, float, str, type(None))
_CLASS_MODULES = ("torch.nn.", "torch.optim.")   # classes a handle may report to isinstance
ROUND_TRIPS = {"calls": 0, "seconds": 0.0}       # judge side: requests to the student kernel (rnngrade.timings)


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
def _torch_if_loaded():
    return sys.modules.get("torch")


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _load_npy(blob: bytes) -> np.ndarray:
    arr = np.load(io.BytesIO(blob), allow_pickle=False)
    if type(arr) is not np.ndarray:
        raise JudgeProtocolError("malformed array")
    return arr


def _tensor_blob(t, blobs: list[bytes]) -> dict:
    """A torch tensor as an array blob (detached, on the CPU); the dtype travels by name."""
    torch = _torch_if_loaded()
    t = t.detach().cpu()
    dtype = str(t.dtype).replace("torch.", "")
    if t.dtype == torch.bfloat16:
        t = t.float()
    blobs.append(_npy(t.numpy()))
    return {"t": "pt", "i": len(blobs) - 1, "dtype": dtype}


def _tensor_from(tree: dict, blobs: list[bytes], key: str = "i"):
    import torch

    out = torch.from_numpy(_load_npy(blobs[int(tree[key])]).copy())
    return out.to(torch.bfloat16) if tree.get("dtype") == "bfloat16" else out


def _encode(obj, blobs: list[bytes], other, depth: int = 0):
    """obj -> JSON-able tree, arrays to ``blobs``. ``other(obj, blobs)`` encodes what is not plain data
    (torch tensors included, so that each side can add what it needs: gradients, graph links)."""
    if depth > MAX_DEPTH:
        raise TypeError("value nested too deeply")
    if type(obj) in _PY_TYPES:
        return {"t": "py", "v": obj}
    torch = _torch_if_loaded()
    try:
        if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc":
            blobs.append(_npy(np.asarray(obj)))
            return {"t": "nd", "i": len(blobs) - 1}
        if isinstance(obj, np.generic) and np.asarray(obj).dtype.kind in "biufc":
            blobs.append(_npy(np.asarray(obj)))
            return {"t": "np", "i": len(blobs) - 1}
    except Exception:  # noqa: BLE001 -- a value that does not serialise cleanly is kept, not trusted
        pass
    if type(obj) in (tuple, list):
        return {"t": "tuple" if type(obj) is tuple else "list",
                "v": [_encode(x, blobs, other, depth + 1) for x in obj]}
    if type(obj) in (dict, collections.OrderedDict) and all(type(k) is str for k in obj):
        return {"t": "dict", "k": list(obj), "v": [_encode(v, blobs, other, depth + 1) for v in obj.values()]}
    if torch is not None and isinstance(obj, torch.Tensor):
        try:
            return other(obj, blobs) or _tensor_blob(obj, blobs)
        except Exception:  # noqa: BLE001 -- a tensor that does not serialise is kept as a handle
            pass
    return other(obj, blobs, opaque=True)


def _decode(tree, blobs: list[bytes], special, depth: int = 0):
    """The inverse of :func:`_encode`: arrays are read with ``allow_pickle=False`` (always exact ndarrays);
    ``special(tree)`` decodes the kinds only one side knows (handles, tensors with gradients or links)."""
    if depth > MAX_DEPTH or not isinstance(tree, dict):
        raise JudgeProtocolError("malformed value")
    t = tree.get("t")
    if t == "py":
        v = tree.get("v")
        if type(v) not in _PY_TYPES:
            raise JudgeProtocolError("malformed value")
        return v
    if t in ("nd", "np"):
        arr = _load_npy(blobs[int(tree["i"])])
        return arr[()] if t == "np" else arr
    if t in ("tuple", "list"):
        items = [_decode(x, blobs, special, depth + 1) for x in tree["v"]]
        return tuple(items) if t == "tuple" else items
    if t == "dict":
        keys = tree["k"]
        if not all(type(k) is str for k in keys):
            raise JudgeProtocolError("malformed dict")
        return dict(zip(keys, (_decode(v, blobs, special, depth + 1) for v in tree["v"])))
    return special(tree)


# -- the student side ------------------------------------------------------------------------------------
class _Server:
    def __init__(self, path: str, namespace: dict):
        self.namespace = namespace
        self.handles: dict[int, object] = {}
        self.handle_of: dict[int, int] = {}          # id(object) -> handle: an object keeps one handle
        self.graphs: collections.OrderedDict[int, tuple[list, list]] = collections.OrderedDict()
        self.graph_count = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)

    def keep(self, obj) -> dict:
        with self.lock:
            hid = self.handle_of.get(id(obj))
            if hid is None:
                hid = len(self.handles) + 1
                self.handles[hid] = obj
                self.handle_of[id(obj)] = hid
        types = [f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__[:16]]
        return {"t": "h", "id": hid, "types": types}

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
                send_message(conn, *self._answer(header, blobs))

    # values from the judge: tensors that require grad become leaves here; objects come pickled
    def _decode_args(self, tree, blobs, leaves: list):
        def special(node):
            if node.get("t") == "h":
                return self.resolve(int(node["id"]))
            if node.get("t") == "pt":
                t = _tensor_from(node, blobs)
                if node.get("rg") and t.is_floating_point():
                    t.requires_grad_(True)
                    leaves.append(t)
                return t
            if node.get("t") == "pk":
                return _StudentUnpickler(io.BytesIO(blobs[int(node["i"])]), self).load()
            raise JudgeProtocolError(f"unknown value kind {node.get('t')!r}")

        return _decode(tree, blobs, special)

    # values to the judge: tensors attached to this call's graph are marked, other objects kept as handles
    def _encode_result(self, obj, blobs, leaves: list, outs: list):
        def other(o, blobs, opaque=False):
            if opaque:
                return self.keep(o)
            if not (o.requires_grad and o.is_floating_point()):
                return None
            for k, leaf in enumerate(leaves):
                if o is leaf:
                    return {"t": "in", "k": k}       # the judge's own input, returned as it is
            node = _tensor_blob(o, blobs)
            if o.grad_fn is not None:
                outs.append(o)
                return {**node, "rg": "link", "o": len(outs) - 1}
            node["rg"] = "leaf"
            if o.grad is not None:
                blobs.append(_npy(o.grad.detach().cpu().numpy()))
                node["g"] = len(blobs) - 1
            return node

        return _encode(obj, blobs, other)

    def _answer(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        out_blobs: list[bytes] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                reply, out_blobs = self._run(header, blobs)
            except BaseException as exc:  # noqa: BLE001 -- everything the student's code raises goes back
                frames = traceback.extract_tb(exc.__traceback__)
                where = frames[-1] if frames else None
                reply = {"error": {"type": type(exc).__name__, "message": str(exc)[:2000],
                                   "where": f"line {where.lineno}, in {where.name}" if where else ""}}
                if isinstance(exc, _Missing):
                    reply = {"error": {"missing": True}}
                out_blobs = []
        reply["warnings"] = [[w.category.__name__, str(w.message)[:500]] for w in caught[:20]]
        return reply, out_blobs

    def _run(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        op = header.get("op", "call")
        if op == "backward":
            return self._backward(header, blobs)
        leaves: list = []
        args = self._decode_args(header.get("args", {"t": "list", "v": []}), blobs, leaves)
        kwargs = self._decode_args(header.get("kwargs", {"t": "dict", "k": [], "v": []}), blobs, leaves)
        target = None
        if op == "call":
            name = header.get("name")
            if not isinstance(name, str) or name not in self.namespace:
                raise _Missing()
            target = self.namespace[name]
        elif op in ("hcall", "getattr", "iter", "next", "len", "getitem", "deepcopy"):
            target = self.resolve(int(header.get("target", -1)))
        elif op == "build":
            target = _torch_class(str(header.get("path")))
        elif op != "place":
            raise JudgeProtocolError(f"unknown operation {op!r}")
        torch = _torch_if_loaded()
        self._set_random_state(header, blobs)
        grad_mode = torch.set_grad_enabled(bool(header.get("grad", True))) if torch else contextlib.nullcontext()
        with grad_mode:
            if op in ("call", "hcall", "build"):
                result = target(*args, **kwargs)
            elif op == "next":
                result = next(target)
            elif op == "place":
                result = args[0]
            elif op == "deepcopy":
                import copy

                result = copy.deepcopy(target)
            elif op == "getattr":
                result = getattr(target, str(header.get("attr")))
            elif op == "iter":
                result = []
                for item in target:
                    result.append(item)
                    if len(result) > MAX_ITEMS:
                        raise ValueError(f"more than {MAX_ITEMS} items")
            elif op == "len":
                result = int(len(target))
            else:
                result = target[args[0]]
        out_blobs: list[bytes] = []
        outs: list = []
        if op == "place":
            reply = {"ok": self.keep(result), "after": {"t": "py", "v": None}}
            return reply, out_blobs
        reply = {"ok": self._encode_result(result, out_blobs, leaves, outs),
                 "after": self._encode_result([args, kwargs], out_blobs, leaves, [])}
        if outs:
            with self.lock:
                self.graph_count += 1
                gid = self.graph_count
                self.graphs[gid] = (outs, leaves)
                while len(self.graphs) > MAX_GRAPHS:
                    self.graphs.popitem(last=False)
            reply["graph"] = gid
        return reply, out_blobs

    def _set_random_state(self, header: dict, blobs: list[bytes]) -> None:
        rng = header.get("rng") or {}
        torch = _torch_if_loaded()
        if torch is not None and "torch" in rng:
            torch.set_rng_state(torch.from_numpy(_load_npy(blobs[int(rng["torch"])]).astype(np.uint8)))
        if "numpy" in rng:
            keys = _load_npy(blobs[int(rng["numpy"][0])]).astype(np.uint32)
            pos, has_gauss, cached = rng["numpy"][1:4]
            np.random.set_state(("MT19937", keys, int(pos), int(has_gauss), float(cached)))

    def _backward(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        import torch

        with self.lock:
            graph = self.graphs.pop(int(header.get("graph", -1)), None)
        if graph is None:
            raise RuntimeError("this result's graph was already used by a backward pass (or released): "
                               "call backward once per forward")
        outs, leaves = graph
        args = self._decode_args(header.get("args"), blobs, [])
        grads = args[0] if isinstance(args, list) and len(args) == 1 else None
        if not isinstance(grads, list) or len(grads) != len(outs):
            raise JudgeProtocolError("malformed backward")
        pairs = [(o, g.to(device=o.device, dtype=o.dtype)) for o, g in zip(outs, grads) if g is not None]
        with torch.enable_grad():
            torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        out_blobs: list[bytes] = []
        return {"ok": _encode([leaf.grad for leaf in leaves], out_blobs, lambda o, b, opaque=False:
                              None if not opaque else self.keep(o))}, out_blobs


class _Missing(Exception):
    pass


def _torch_class(path: str):
    """A torch.optim / torch.nn class (or function) named by its module path and qualified name."""
    import importlib

    if not path.startswith(_CLASS_MODULES):
        raise ValueError(f"only torch.optim and torch.nn objects are built on request, not {path!r}")
    module, _, name = path.rpartition(".")
    while module:
        try:
            obj = importlib.import_module(module)
            break
        except ImportError:
            module, _, outer = module.rpartition(".")
            name = f"{outer}.{name}"
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


class _StudentUnpickler(pickle.Unpickler):
    """Objects the judge sends (its stand-in modules, say), rebuilt from the student kernel's classes; handles
    inside them are the student's own objects."""

    def __init__(self, file, server: _Server):
        super().__init__(file)
        self.server = server

    def persistent_load(self, pid):
        return self.server.resolve(int(pid))

    def find_class(self, module, name):
        if module == "__main__" and name in self.server.namespace:
            return self.server.namespace[name]
        return super().find_class(module, name)


def serve(path: str, namespace: dict | None = None) -> None:
    """Run in the student kernel: answer calls on the Unix socket ``path`` from a background thread."""
    if namespace is None:
        namespace = get_ipython().user_ns  # noqa: F821 -- defined inside IPython
    server = _Server(path, namespace)
    threading.Thread(target=server.serve_forever, daemon=True, name="rnngrade-judge-server").start()


# -- the judge side --------------------------------------------------------------------------------------
class RemoteObject:
    """A value that stays in the student kernel (it is not plain data).

    The judge can pass it back to the student's code, read its attributes (``model.rnn``), call it or its
    methods (``model(x)``, ``model.double()``), iterate it (``model.parameters()``), index it and take its
    ``len``; each answer is plain data or another handle. ``isinstance(handle, nn.LSTM)`` holds when the object's
    type derives from ``nn.LSTM``.
    """

    __slots__ = ("handle", "_conn", "_types")

    def __init__(self, handle: int, conn: "_Connection | None" = None, types: tuple = ()):
        self.handle = handle
        self._conn = conn
        self._types = tuple(str(t) for t in types)[:16]

    @property
    def __class__(self):
        return _judge_class(self._types)

    def _type_name(self) -> str:
        return _short_name(self._types)

    def _rg_build(self, path: str, *args, **kwargs):
        """Build ``path`` (a torch.optim / torch.nn class or function, by module and name) in the student kernel,
        called with ``args`` (handles, such as ``model.parameters()``, included): an optimizer for a student's
        model must live where the model does."""
        return self._remote("build", path.rsplit(".", 1)[-1], args, kwargs, path=path)

    def __getattr__(self, name: str):
        if name.startswith("__") or name.startswith(("_repr_", "_ipython_")) or name in RemoteObject.__slots__:
            raise AttributeError(name)
        return self._remote("getattr", f"{self._type_name()}.{name}", attr=name)

    def __call__(self, *args, **kwargs):
        return self._remote("hcall", self._type_name(), args, kwargs)

    def __iter__(self):
        return iter(self._remote("iter", f"iterating a {self._type_name()}"))

    def __next__(self):
        return self._remote("next", f"next of a {self._type_name()}")

    def __len__(self) -> int:
        return self._remote("len", f"len of a {self._type_name()}")

    def __getitem__(self, key):
        return self._remote("getitem", f"{self._type_name()}[...]", (key,))

    def __bool__(self) -> bool:
        return True

    def __deepcopy__(self, memo):
        return self._remote("deepcopy", f"a copy of a {self._type_name()}")

    def __repr__(self) -> str:
        return f"<{self._type_name()} #{self.handle}, kept in the student's kernel>"

    def _remote(self, op: str, label: str, args=(), kwargs=None, **extra):
        if self._conn is None:
            raise TypeError(f"{self!r} can only be passed back to the student's code")
        return self._conn.request({"op": op, "target": self.handle, **extra}, label, args, kwargs or {})


def _short_name(types: tuple) -> str:
    """The class name of a handle's object (the last part of its type's reported name), for classes and messages."""
    name = types[0].rsplit(".", 1)[-1] if types else "object"
    return name if name.isidentifier() else "object"


def _judge_class(types: tuple):
    """The class a handle reports to ``isinstance``: for an object of a torch.nn module or torch.optim optimizer
    class, that class; for an object of a class derived from one (a student's ``nn.Module``), a stand-in class of
    the same name derived from it; for anything else a stand-in of the same name derived from RemoteObject only.
    A class counts as torch's when it is under exactly its reported name in a module the judge has imported
    already, and derives from ``nn.Module`` or ``optim.Optimizer``."""
    name = _short_name(types)
    for k, full in enumerate(types):
        found = _torch_class_named(full)
        if found is not None:
            return found if k == 0 else _stand_in_class(name, found)
    return _stand_in_class(name, RemoteObject)


def _torch_class_named(full: str):
    torch = _torch_if_loaded()
    if torch is None or not full.startswith(_CLASS_MODULES):
        return None
    parts = full.split(".")
    for cut in range(len(parts) - 1, 1, -1):     # the longest imported module path, then the class inside it
        obj = sys.modules.get(".".join(parts[:cut]))
        if obj is None:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part, None)
        if (isinstance(obj, type) and f"{obj.__module__}.{obj.__qualname__}" == full
                and issubclass(obj, (torch.nn.Module, torch.optim.Optimizer))):
            return obj
        return None
    return None


_STAND_INS: dict[tuple, type] = {}


def _stand_in_class(name: str, base: type) -> type:
    """A class named as the student's (for messages such as "got a CharLM") derived from ``base`` only."""
    if (name, base) not in _STAND_INS:
        _STAND_INS[name, base] = type(name, (base,), {"__slots__": ()} if base is RemoteObject else {})
    return _STAND_INS[name, base]


class _JudgePickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.handle if type(obj) is RemoteObject else None


class _RemoteGraph:
    """The student-side graph of one call's results, for a backward pass from the judge."""

    def __init__(self, conn: "_Connection", gid: int, label: str, inputs: list, outputs: list):
        self.conn, self.gid, self.label, self.inputs, self.outputs = conn, gid, label, inputs, outputs

    def backward(self, grads) -> list:
        import torch

        got = self.conn.request({"op": "backward", "graph": self.gid}, f"the backward pass of {self.label}",
                                (list(grads),), {})
        if not isinstance(got, list) or len(got) != len(self.inputs):
            raise JudgeProtocolError("malformed gradients")
        out = []
        for inp, g in zip(self.inputs, got):
            if g is None:
                out.append(None)
            elif not isinstance(g, torch.Tensor) or tuple(g.shape) != tuple(inp.shape):
                raise JudgeProtocolError("a gradient of the wrong shape came back")
            else:
                out.append(g.to(inp.dtype))
        return out


_REMOTE_FUNCTION = None


def _link(graph: _RemoteGraph) -> list:
    """Judge-side autograd node for a student-side graph: outputs whose backward runs in the student kernel."""
    global _REMOTE_FUNCTION
    import torch

    if _REMOTE_FUNCTION is None:
        class StudentGraph(torch.autograd.Function):
            @staticmethod
            def forward(ctx, graph, anchor, *inputs):
                ctx.graph = graph
                return tuple(graph.outputs)

            @staticmethod
            def backward(ctx, *grads):
                return (None, None, *ctx.graph.backward(grads))

        _REMOTE_FUNCTION = StudentGraph
    anchor = torch.zeros((), requires_grad=True)    # the outputs require grad even if no input does
    return list(_REMOTE_FUNCTION.apply(graph, anchor, *graph.inputs))


def _replace(obj, swap: dict):
    if type(obj) in (tuple, list):
        items = [_replace(x, swap) for x in obj]
        return tuple(items) if type(obj) is tuple else items
    if type(obj) is dict:
        return {k: _replace(v, swap) for k, v in obj.items()}
    return swap.get(id(obj), obj)


class _Connection:
    def __init__(self, path: str):
        self.path = path
        self.sock: socket.socket | None = None
        self.timeout = float(os.environ.get(CALL_TIMEOUT_ENV, DEFAULT_CALL_TIMEOUT_S))

    # judge -> student: plain data; tensors that require grad are marked (they become leaves there); other
    # objects are pickled
    def _encode_args(self, obj, blobs: list[bytes], inputs: list):
        def other(o, blobs, opaque=False):
            if type(o) is RemoteObject:
                return {"t": "h", "id": o.handle}
            if not opaque:
                if o.requires_grad and o.is_floating_point():
                    inputs.append(o)
                    return {**_tensor_blob(o, blobs), "rg": True}
                return None
            buf = io.BytesIO()
            try:
                _JudgePickler(buf, protocol=4).dump(o)
            except Exception as exc:  # noqa: BLE001
                raise TypeError(f"a {type(o).__name__} cannot be sent to the student's code ({exc})") from None
            blobs.append(buf.getvalue())
            return {"t": "pk", "i": len(blobs) - 1}

        return _encode(obj, blobs, other)

    def _random_state(self, blobs: list[bytes]) -> dict:
        """The judge's global random states (sent with each call), then advanced by one draw."""
        rng = {}
        torch = _torch_if_loaded()
        if torch is not None:
            blobs.append(_npy(torch.get_rng_state().numpy()))
            rng["torch"] = len(blobs) - 1
            torch.rand(1)
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        blobs.append(_npy(np.asarray(keys)))
        rng["numpy"] = [len(blobs) - 1, int(pos), int(has_gauss), float(cached)]
        np.random.random()
        return rng

    def request(self, header: dict, label: str, args, kwargs):
        blobs: list[bytes] = []
        inputs: list = []
        header = {**header, "args": self._encode_args(list(args), blobs, inputs),
                  "kwargs": self._encode_args(kwargs, blobs, inputs)}
        torch = _torch_if_loaded()
        if header["op"] in ("call", "hcall"):
            header["rng"] = self._random_state(blobs)
        header["grad"] = bool(torch.is_grad_enabled()) if torch is not None else True
        started = time.perf_counter()
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
            graph = _RemoteGraph(self, int(reply["graph"]), label, inputs, [t for _, t in links])
            linked = _link(graph)
            result = _replace(result, {id(raw): new for (_, raw), new in zip(links, linked)})
        _write_back([list(args), kwargs], self._decode_result(reply.get("after", {"t": "py", "v": None}), rblobs,
                                                              inputs, []))
        return result

    def _decode_result(self, tree, blobs: list[bytes], inputs: list, links: list):
        def special(node):
            t = node.get("t")
            if t == "h":
                types = node.get("types") if isinstance(node.get("types"), list) else []
                return RemoteObject(int(node["id"]), self, tuple(types))
            if t == "in":
                return inputs[int(node["k"])]
            if t == "pt":
                out = _tensor_from(node, blobs)
                if node.get("rg") == "link" and out.is_floating_point():
                    links.append((int(node["o"]), out))
                elif node.get("rg") == "leaf" and out.is_floating_point():
                    out.requires_grad_(True)
                    if "g" in node:
                        grad = _tensor_from({"i": node["g"]}, blobs)
                        if tuple(grad.shape) == tuple(out.shape):
                            out.grad = grad.to(out.dtype)
                return out
            raise JudgeProtocolError(f"unknown value kind {t!r}")

        return _decode(tree, blobs, special)

    def call(self, name: str, args: tuple, kwargs: dict):
        return self.request({"op": "call", "name": name}, name, args, kwargs)

    def place(self, obj):
        """A copy of the judge's ``obj`` made in the student kernel, as a handle (see rnnlab.testing)."""
        if type(obj) is RemoteObject:
            return obj
        return self.request({"op": "place"}, f"a {type(obj).__name__} sent to your code", (obj,), {})

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
    try:                                   # the test helpers that must place objects with the student's code
        import rnnlab.testing
    except ImportError:
        return
    rnnlab.testing.PLACE_WITH_STUDENT = connection.place
