"""Judging outside the student's process: the student's code runs in one kernel, the tests in another.

In plain nbgrader the tests run in the same Python process as the student's code, so a submission can replace
``np.allclose``, ``rnnlab.check_close``, ``builtins.abs`` or a module in ``sys.modules`` and make every test pass.
For a notebook whose source says ``"rnngrade": {"judge": "separate"}`` in its metadata, the grader instead runs:

- the **student kernel**: the student's notebook without its test cells. Before the first cell, a small server
  (:func:`serve`) starts in it on a Unix socket (on Windows, loopback TCP with a token: ``transport``).
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

The package, by concern:

- ``rnngrade.judge.wire``            -- message framing, the value codec and its named tags and operations
- ``rnngrade.judge.transport``       -- the sockets: a Unix socket, or loopback TCP with a token where there are none
- ``rnngrade.judge.server``          -- the student kernel's server: one handler per operation
- ``rnngrade.judge.client``          -- the judge's connection, ``StudentFunction`` and :func:`install`
- ``rnngrade.judge.remote_objects``  -- ``RemoteObject`` (a handle) and the classes it reports to ``isinstance``
- ``rnngrade.judge.remote_autograd`` -- the judge-side autograd node whose backward runs in the student kernel

Everything is imported here at once: a sandboxed student kernel imports this package before it drops its
privileges (``rnngrade.limited_kernel``), when the grader's source may become unreadable.
"""
from __future__ import annotations

from . import client, remote_autograd, remote_objects, server, transport, wire
from .client import (CALL_TIMEOUT_ENV, DEFAULT_CALL_TIMEOUT_S, ROUND_TRIPS, Connection, StudentCodeError,
                     StudentFunction, install)
from .remote_objects import RemoteObject
from .server import MAX_GRAPHS, MAX_ITEMS, CallServer, serve
from .wire import MAX_DEPTH, MAX_MESSAGE_BYTES, JudgeProtocolError, recv_message, send_message

__all__ = ["CALL_TIMEOUT_ENV", "DEFAULT_CALL_TIMEOUT_S", "MAX_DEPTH", "MAX_GRAPHS", "MAX_ITEMS", "MAX_MESSAGE_BYTES",
           "ROUND_TRIPS", "CallServer", "Connection", "JudgeProtocolError", "RemoteObject", "StudentCodeError",
           "StudentFunction",
           "client", "install", "recv_message", "remote_autograd", "remote_objects", "send_message", "serve",
           "server", "transport", "wire"]
