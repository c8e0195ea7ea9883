"""The judge's wire format: message framing and the value codec, shared by both kernels.

A message, both ways: an 8-byte big-endian length and a JSON header, then, for each blob the header lists
(``header["blobs"]``: their lengths), an 8-byte length and the bytes.

A value travels as a JSON tree of nodes ``{KIND: <tag>, ...}``; arrays travel as ``.npy`` blobs read back with
``allow_pickle=False``, so a received array is always an exact ``np.ndarray``. The tags:

==================  ==========  =================================================================================
constant            on the wire meaning
==================  ==========  =================================================================================
``PLAIN``           ``"py"``    bool, int, float, str or None, in ``VALUE``
``ARRAY``           ``"nd"``    a numeric ``np.ndarray``: blob ``BLOB``
``NUMPY_SCALAR``    ``"np"``    a numeric NumPy scalar: blob ``BLOB`` (a 0-d array)
``TUPLE``/``LIST``  ``"tuple"`` items in ``VALUE``
``DICT``            ``"dict"``  str keys in ``KEYS``, values in ``VALUE``
``TENSOR``          ``"pt"``    a torch tensor: blob ``BLOB``, dtype by name in ``DTYPE``; ``GRAD`` says how it
                                takes part in autograd (below)
``HANDLE``          ``"h"``     an object kept in the student kernel: its number in ``HANDLE_ID``, its type's
                                names (most derived first) in ``TYPES``
``PICKLED``         ``"pk"``    (judge -> student only) an object of the judge, pickled in blob ``BLOB``
``JUDGE_INPUT``     ``"in"``    (student -> judge only) the judge's own input tensor number ``INPUT_INDEX``,
                                returned as it is
==================  ==========  =================================================================================

``GRAD`` on a tensor: ``GRAD_LEAF_REQUEST`` (``true``, judge -> student): make it a leaf that requires grad;
``GRAD_LINKED`` (``"link"``, student -> judge): the result of the student's graph, output number ``OUTPUT_INDEX``
of the call's graph (``rnngrade.judge.remote_autograd``); ``GRAD_LEAF`` (``"leaf"``, student -> judge): a leaf
(a student's parameter), with its ``.grad`` in blob ``GRAD_BLOB`` if it has one.

:func:`encode` and :func:`decode` handle plain data; each side passes callbacks for what only it knows: tensors
with gradients, handles, pickled objects.
"""
from __future__ import annotations

import collections
import io
import json
import socket
import struct
import sys

import numpy as np

MAX_MESSAGE_BYTES = 1 << 30          # the judge refuses larger answers (a student kernel cannot flood it)
MAX_DEPTH = 32                        # nesting of tuples/lists/dicts

# node keys
KIND = "t"
VALUE = "v"
KEYS = "k"
BLOB = "i"
DTYPE = "dtype"
GRAD = "rg"
GRAD_BLOB = "g"
OUTPUT_INDEX = "o"
INPUT_INDEX = "k"
HANDLE_ID = "id"
TYPES = "types"

# node kinds
PLAIN = "py"
ARRAY = "nd"
NUMPY_SCALAR = "np"
TUPLE = "tuple"
LIST = "list"
DICT = "dict"
TENSOR = "pt"
HANDLE = "h"
PICKLED = "pk"
JUDGE_INPUT = "in"

# values of GRAD
GRAD_LEAF_REQUEST = True
GRAD_LINKED = "link"
GRAD_LEAF = "leaf"

# operations (a request's ``"op"``): on a name the notebook defines, on a handle, or on nothing
CALL = "call"             # call the student's top-level ``name`` with the arguments
HANDLE_CALL = "hcall"     # call the handle ``target``
GETATTR = "getattr"       # read attribute ``attr`` of the handle
ITER = "iter"             # all items of iterating the handle (at most MAX_ITEMS)
NEXT = "next"             # ``next`` of the handle
LEN = "len"               # ``len`` of the handle
GETITEM = "getitem"       # the handle indexed by the first argument
DEEPCOPY = "deepcopy"     # a deep copy of the handle, made in the student kernel
BUILD = "build"           # build the torch.nn / torch.optim object ``path`` from the arguments
PLACE = "place"           # keep a copy of the first argument in the student kernel, answer its handle
BACKWARD = "backward"     # a backward pass through the graph ``graph`` of an earlier call
HANDLE_OPERATIONS = (HANDLE_CALL, GETATTR, ITER, NEXT, LEN, GETITEM, DEEPCOPY)

NONE = {KIND: PLAIN, VALUE: None}
EMPTY_ARGS = {KIND: LIST, VALUE: []}
EMPTY_KWARGS = {KIND: DICT, KEYS: [], VALUE: []}

_LEN = struct.Struct(">Q")
_PY_TYPES = (bool, int, float, str, type(None))


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
def torch_if_loaded():
    """The torch module if this process imported it already, else None (the codec never imports torch)."""
    return sys.modules.get("torch")


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def load_npy(blob: bytes) -> np.ndarray:
    arr = np.load(io.BytesIO(blob), allow_pickle=False)
    if type(arr) is not np.ndarray:
        raise JudgeProtocolError("malformed array")
    return arr


def add_blob(blobs: list[bytes], blob: bytes) -> int:
    """Append ``blob``; its index, for a node's ``BLOB``."""
    blobs.append(blob)
    return len(blobs) - 1


def tensor_node(t, blobs: list[bytes]) -> dict:
    """A torch tensor as a ``TENSOR`` node (detached, on the CPU); the dtype travels by name."""
    torch = torch_if_loaded()
    t = t.detach().cpu()
    dtype = str(t.dtype).replace("torch.", "")
    if t.dtype == torch.bfloat16:
        t = t.float()
    return {KIND: TENSOR, BLOB: add_blob(blobs, npy(t.numpy())), DTYPE: dtype}


def tensor_from(node: dict, blobs: list[bytes], key: str = BLOB):
    """The tensor in blob ``node[key]`` (a ``TENSOR`` node's own, or its ``GRAD_BLOB``)."""
    import torch

    out = torch.from_numpy(load_npy(blobs[int(node[key])]).copy())
    return out.to(torch.bfloat16) if node.get(DTYPE) == "bfloat16" else out


def encode(obj, blobs: list[bytes], encode_tensor, encode_object, depth: int = 0):
    """obj -> a JSON-able tree, arrays to ``blobs``.

    ``encode_tensor(t, blobs)`` encodes a torch tensor the way this side needs (gradients, graph links) or
    returns None for a plain ``TENSOR`` node; ``encode_object(obj, blobs)`` encodes what is not plain data (a
    ``HANDLE`` or a ``PICKLED`` node; a tensor that does not serialise also ends there)."""
    if depth > MAX_DEPTH:
        raise TypeError("value nested too deeply")
    if type(obj) in _PY_TYPES:
        return {KIND: PLAIN, VALUE: obj}
    torch = torch_if_loaded()
    try:
        if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc":
            return {KIND: ARRAY, BLOB: add_blob(blobs, npy(np.asarray(obj)))}
        if isinstance(obj, np.generic) and np.asarray(obj).dtype.kind in "biufc":
            return {KIND: NUMPY_SCALAR, BLOB: add_blob(blobs, npy(np.asarray(obj)))}
    except Exception:  # noqa: BLE001 -- a value that does not serialise cleanly is kept, not trusted
        pass
    if type(obj) in (tuple, list):
        return {KIND: TUPLE if type(obj) is tuple else LIST,
                VALUE: [encode(x, blobs, encode_tensor, encode_object, depth + 1) for x in obj]}
    if type(obj) in (dict, collections.OrderedDict) and all(type(k) is str for k in obj):
        return {KIND: DICT, KEYS: list(obj),
                VALUE: [encode(v, blobs, encode_tensor, encode_object, depth + 1) for v in obj.values()]}
    if torch is not None and isinstance(obj, torch.Tensor):
        try:
            return encode_tensor(obj, blobs) or tensor_node(obj, blobs)
        except Exception:  # noqa: BLE001 -- a tensor that does not serialise is kept as a handle
            pass
    return encode_object(obj, blobs)


def plain_tensor(t, blobs: list[bytes]) -> None:
    """An ``encode_tensor`` for sides that send tensors without gradients."""
    return None


def decode(tree, blobs: list[bytes], decode_extension, depth: int = 0):
    """The inverse of :func:`encode`: arrays are read with ``allow_pickle=False`` (always exact ndarrays);
    ``decode_extension(node)`` decodes the kinds only one side knows (``TENSOR``, ``HANDLE``, ``PICKLED``,
    ``JUDGE_INPUT``) and raises :class:`JudgeProtocolError` for any other."""
    if depth > MAX_DEPTH or not isinstance(tree, dict):
        raise JudgeProtocolError("malformed value")
    kind = tree.get(KIND)
    if kind == PLAIN:
        v = tree.get(VALUE)
        if type(v) not in _PY_TYPES:
            raise JudgeProtocolError("malformed value")
        return v
    if kind in (ARRAY, NUMPY_SCALAR):
        arr = load_npy(blobs[int(tree[BLOB])])
        return arr[()] if kind == NUMPY_SCALAR else arr
    if kind in (TUPLE, LIST):
        items = [decode(x, blobs, decode_extension, depth + 1) for x in tree[VALUE]]
        return tuple(items) if kind == TUPLE else items
    if kind == DICT:
        keys = tree[KEYS]
        if not all(type(k) is str for k in keys):
            raise JudgeProtocolError("malformed dict")
        return dict(zip(keys, (decode(v, blobs, decode_extension, depth + 1) for v in tree[VALUE])))
    return decode_extension(tree)


def unknown_kind(node: dict):
    raise JudgeProtocolError(f"unknown value kind {node.get(KIND)!r}")
