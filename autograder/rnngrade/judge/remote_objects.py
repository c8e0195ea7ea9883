"""The judge's side of objects that stay in the student kernel: :class:`RemoteObject` and its ``isinstance``
stand-ins.

A value that is not plain data (a ``cache``, an ``nn.Module``) comes back to the judge as a handle. For
``isinstance`` checks a handle reports the first ``torch.nn`` / ``torch.optim`` class of the object's type (the
judge's own class, found by name among modules it has already imported; nothing is imported on the student's
word), or a stand-in class of the student's class name.
"""
from __future__ import annotations

import sys

from . import wire
from .server import CLASS_MODULES


class RemoteObject:
    """A value that stays in the student kernel (it is not plain data).

    The judge can pass it back to the student's code, read its attributes (``model.rnn``), call it or its
    methods (``model(x)``, ``model.double()``), iterate it (``model.parameters()``), index it and take its
    ``len``; each answer is plain data or another handle. ``isinstance(handle, nn.LSTM)`` holds when the object's
    type derives from ``nn.LSTM``.
    """

    __slots__ = ("handle", "_conn", "_types")

    def __init__(self, handle: int, conn=None, types: tuple = ()):
        self.handle = handle
        self._conn = conn                 # the rnngrade.judge.client.Connection it came from
        self._types = tuple(str(t) for t in types)[:16]

    @property
    def __class__(self):
        return judge_class(self._types)

    def _type_name(self) -> str:
        return short_name(self._types)

    def __getattr__(self, name: str):
        if name.startswith("__") or name.startswith(("_repr_", "_ipython_")) or name in RemoteObject.__slots__:
            raise AttributeError(name)
        return self._remote(wire.GETATTR, f"{self._type_name()}.{name}", attr=name)

    def __call__(self, *args, **kwargs):
        return self._remote(wire.HANDLE_CALL, self._type_name(), args, kwargs)

    def __iter__(self):
        return iter(self._remote(wire.ITER, f"iterating a {self._type_name()}"))

    def __next__(self):
        return self._remote(wire.NEXT, f"next of a {self._type_name()}")

    def __len__(self) -> int:
        return self._remote(wire.LEN, f"len of a {self._type_name()}")

    def __getitem__(self, key):
        return self._remote(wire.GETITEM, f"{self._type_name()}[...]", (key,))

    def __bool__(self) -> bool:
        return True

    def __deepcopy__(self, memo):
        return self._remote(wire.DEEPCOPY, f"a copy of a {self._type_name()}")

    def __repr__(self) -> str:
        return f"<{self._type_name()} #{self.handle}, kept in the student's kernel>"

    def _remote(self, op: str, label: str, args=(), kwargs=None, **extra):
        if self._conn is None:
            raise TypeError(f"{self!r} can only be passed back to the student's code")
        return self._conn.request({"op": op, "target": self.handle, **extra}, label, args, kwargs or {})


def short_name(types: tuple) -> str:
    """The class name of a handle's object (the last part of its type's reported name), for classes and messages."""
    name = types[0].rsplit(".", 1)[-1] if types else "object"
    return name if name.isidentifier() else "object"


def judge_class(types: tuple):
    """The class a handle reports to ``isinstance``: for an object of a torch.nn module or torch.optim optimizer
    class, that class; for an object of a class derived from one (a student's ``nn.Module``), a stand-in class of
    the same name derived from it; for anything else a stand-in of the same name derived from RemoteObject only.
    A class counts as torch's when it is under exactly its reported name in a module the judge has imported
    already, and derives from ``nn.Module`` or ``optim.Optimizer``."""
    name = short_name(types)
    for k, full in enumerate(types):
        found = _torch_class_named(full)
        if found is not None:
            return found if k == 0 else _stand_in_class(name, found)
    return _stand_in_class(name, RemoteObject)


def _torch_class_named(full: str):
    torch = wire.torch_if_loaded()
    if torch is None or not full.startswith(CLASS_MODULES):
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
