"""The student kernel's side of the judge: a server that answers the judge's requests on a socket
(``rnngrade.judge.transport``: a Unix socket, or loopback TCP with a token where there are none).

:func:`serve` starts it in a background thread before the student's first cell. Each request names an operation
(``rnngrade.judge.wire``: ``CALL``, ``HANDLE_CALL``, ...); one small handler per operation computes the result,
which goes back as plain data, with objects that are not plain data kept here as handles. Every call starts from
the judge's random states and in the judge's grad mode; warnings and exceptions of the student's code go back in
the reply. Results attached to the student's autograd graph are kept (at most ``MAX_GRAPHS`` calls) for a later
``BACKWARD`` request.
"""
from __future__ import annotations

import collections
import contextlib
import copy
import importlib
import io
import pickle
import socket
import threading
import traceback
import warnings

import numpy as np

from . import transport, wire
from .wire import JudgeProtocolError

MAX_ITEMS = 100_000                   # items of one remote iteration
MAX_GRAPHS = 256                      # autograd graphs the student kernel keeps for a later backward
CLASS_MODULES = ("torch.nn.", "torch.optim.")   # classes a handle may report to isinstance, or BUILD may build


class NameNotDefined(Exception):
    """The judge called a name the student's notebook does not define (the judge reports a NameError)."""


class CallServer:
    """Answers the judge's requests against ``namespace`` (the student kernel's globals)."""

    def __init__(self, path: str, namespace: dict, kind: str | None = None):
        self.namespace = namespace
        self.handles: dict[int, object] = {}
        self.handle_of: dict[int, int] = {}          # id(object) -> handle: an object keeps one handle
        self.graphs: collections.OrderedDict[int, tuple[list, list]] = collections.OrderedDict()
        self.graph_count = 0
        self.lock = threading.Lock()
        self.listener = transport.Listener(path, kind)
        self.handlers = {
            wire.CALL: self._call, wire.HANDLE_CALL: self._handle_call, wire.GETATTR: self._getattr,
            wire.ITER: self._iter, wire.NEXT: self._next, wire.LEN: self._len, wire.GETITEM: self._getitem,
            wire.DEEPCOPY: self._deepcopy, wire.BUILD: self._build, wire.PLACE: self._place,
        }

    # -- handles -------------------------------------------------------------------------------------
    def keep(self, obj) -> dict:
        """A ``HANDLE`` node for ``obj``, which stays here."""
        with self.lock:
            hid = self.handle_of.get(id(obj))
            if hid is None:
                hid = len(self.handles) + 1
                self.handles[hid] = obj
                self.handle_of[id(obj)] = hid
        types = [f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__[:16]]
        return {wire.KIND: wire.HANDLE, wire.HANDLE_ID: hid, wire.TYPES: types}

    def resolve(self, hid: int):
        try:
            return self.handles[hid]
        except KeyError:
            raise JudgeProtocolError(f"unknown handle {hid}") from None

    # -- connections ---------------------------------------------------------------------------------
    def serve_forever(self) -> None:
        while True:
            conn = self.listener.accept()
            threading.Thread(target=self._serve_connection, args=(conn,), daemon=True).start()

    def _serve_connection(self, conn: socket.socket) -> None:
        with conn:
            if not self.listener.admit(conn):
                return
            while True:
                try:
                    header, blobs = wire.recv_message(conn)
                except Exception:  # noqa: BLE001 -- the judge hung up
                    return
                wire.send_message(conn, *self._answer(header, blobs))

    def _answer(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        """The reply to one request: ``ok`` (the result), or ``error``; the warnings raised, either way."""
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
                if isinstance(exc, NameNotDefined):
                    reply = {"error": {"missing": True}}
                out_blobs = []
        reply["warnings"] = [[w.category.__name__, str(w.message)[:500]] for w in caught[:20]]
        return reply, out_blobs

    # -- values ----------------------------------------------------------------------------------------
    def _decode_args(self, tree, blobs, leaves: list):
        """Values from the judge: tensors that require grad become leaves here (appended to ``leaves``);
        objects of the judge come pickled."""
        def decode_extension(node):
            kind = node.get(wire.KIND)
            if kind == wire.HANDLE:
                return self.resolve(int(node[wire.HANDLE_ID]))
            if kind == wire.TENSOR:
                t = wire.tensor_from(node, blobs)
                if node.get(wire.GRAD) and t.is_floating_point():
                    t.requires_grad_(True)
                    leaves.append(t)
                return t
            if kind == wire.PICKLED:
                return _StudentUnpickler(io.BytesIO(blobs[int(node[wire.BLOB])]), self).load()
            return wire.unknown_kind(node)

        return wire.decode(tree, blobs, decode_extension)

    def _encode_result(self, obj, blobs, leaves: list, outs: list):
        """Values to the judge: the judge's own leaves by number, tensors attached to this call's graph marked
        (and appended to ``outs``), the student's leaves with their ``.grad``, other objects kept as handles."""
        def encode_tensor(t, blobs):
            if not (t.requires_grad and t.is_floating_point()):
                return None
            for k, leaf in enumerate(leaves):
                if t is leaf:
                    return {wire.KIND: wire.JUDGE_INPUT, wire.INPUT_INDEX: k}
            node = wire.tensor_node(t, blobs)
            if t.grad_fn is not None:
                outs.append(t)
                return {**node, wire.GRAD: wire.GRAD_LINKED, wire.OUTPUT_INDEX: len(outs) - 1}
            node[wire.GRAD] = wire.GRAD_LEAF
            if t.grad is not None:
                node[wire.GRAD_BLOB] = wire.add_blob(blobs, wire.npy(t.grad.detach().cpu().numpy()))
            return node

        return wire.encode(obj, blobs, encode_tensor, lambda o, _blobs: self.keep(o))

    # -- requests ----------------------------------------------------------------------------------------
    def _run(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        op = header.get("op", wire.CALL)
        if op == wire.BACKWARD:
            return self._backward(header, blobs)
        leaves: list = []
        args = self._decode_args(header.get("args", wire.EMPTY_ARGS), blobs, leaves)
        kwargs = self._decode_args(header.get("kwargs", wire.EMPTY_KWARGS), blobs, leaves)
        handler = self.handlers.get(op)
        if handler is None:
            raise JudgeProtocolError(f"unknown operation {op!r}")
        torch = wire.torch_if_loaded()
        self._set_random_state(header, blobs)
        grad_mode = torch.set_grad_enabled(bool(header.get("grad", True))) if torch else contextlib.nullcontext()
        with grad_mode:
            result = handler(header, args, kwargs)
        out_blobs: list[bytes] = []
        if op == wire.PLACE:
            return {"ok": self.keep(result), "after": wire.NONE}, out_blobs
        outs: list = []
        reply = {"ok": self._encode_result(result, out_blobs, leaves, outs),
                 "after": self._encode_result([args, kwargs], out_blobs, leaves, [])}
        if outs:
            reply["graph"] = self._keep_graph(outs, leaves)
        return reply, out_blobs

    def _target(self, header: dict):
        return self.resolve(int(header.get("target", -1)))

    def _call(self, header, args, kwargs):
        name = header.get("name")
        if not isinstance(name, str) or name not in self.namespace:
            raise NameNotDefined()
        return self.namespace[name](*args, **kwargs)

    def _handle_call(self, header, args, kwargs):
        return self._target(header)(*args, **kwargs)

    def _getattr(self, header, args, kwargs):
        return getattr(self._target(header), str(header.get("attr")))

    def _iter(self, header, args, kwargs):
        items = []
        for item in self._target(header):
            items.append(item)
            if len(items) > MAX_ITEMS:
                raise ValueError(f"more than {MAX_ITEMS} items")
        return items

    def _next(self, header, args, kwargs):
        return next(self._target(header))

    def _len(self, header, args, kwargs):
        return int(len(self._target(header)))

    def _getitem(self, header, args, kwargs):
        return self._target(header)[args[0]]

    def _deepcopy(self, header, args, kwargs):
        return copy.deepcopy(self._target(header))

    def _build(self, header, args, kwargs):
        return torch_object(str(header.get("path")))(*args, **kwargs)

    def _place(self, header, args, kwargs):
        return args[0]

    def _set_random_state(self, header: dict, blobs: list[bytes]) -> None:
        rng = header.get("rng") or {}
        torch = wire.torch_if_loaded()
        if torch is not None and "torch" in rng:
            torch.set_rng_state(torch.from_numpy(wire.load_npy(blobs[int(rng["torch"])]).astype(np.uint8)))
        if "numpy" in rng:
            keys = wire.load_npy(blobs[int(rng["numpy"][0])]).astype(np.uint32)
            pos, has_gauss, cached = rng["numpy"][1:4]
            np.random.set_state(("MT19937", keys, int(pos), int(has_gauss), float(cached)))

    # -- autograd ----------------------------------------------------------------------------------------
    def _keep_graph(self, outs: list, leaves: list) -> int:
        """Keep a call's graph (its outputs and the judge's leaves) for one later backward; its number."""
        with self.lock:
            self.graph_count += 1
            gid = self.graph_count
            self.graphs[gid] = (outs, leaves)
            while len(self.graphs) > MAX_GRAPHS:
                self.graphs.popitem(last=False)
        return gid

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
        return {"ok": wire.encode([leaf.grad for leaf in leaves], out_blobs, wire.plain_tensor,
                                  lambda o, _blobs: self.keep(o))}, out_blobs


def torch_object(path: str):
    """A torch.optim / torch.nn class (or function) named by its module path and qualified name."""
    if not path.startswith(CLASS_MODULES):
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

    def __init__(self, file, server: CallServer):
        super().__init__(file)
        self.server = server

    def persistent_load(self, pid):
        return self.server.resolve(int(pid))

    def find_class(self, module, name):
        if module == "__main__" and name in self.server.namespace:
            return self.server.namespace[name]
        return super().find_class(module, name)


def serve(path: str, namespace: dict | None = None, kind: str | None = None) -> None:
    """Run in the student kernel: answer calls at ``path`` (a socket of ``kind``, by default a Unix socket where
    there are such, see ``transport``) from a background thread."""
    if namespace is None:
        namespace = get_ipython().user_ns  # noqa: F821 -- defined inside IPython
    server = CallServer(path, namespace, kind)
    threading.Thread(target=server.serve_forever, daemon=True, name="rnngrade-judge-server").start()
