"""Helpers for the notebooks' test cells, so that a test works the same in a notebook and under the grader.

When the grader judges a notebook in a separate process (``rnngrade.judge``), a student's model stays in the
student's process and the test holds a handle to it: calls, attributes and gradients cross between the two
processes, but objects the test builds itself live in the test's process. These helpers put such objects where
the student's code can change them and the test can still see the change.

The hook: the grader's judge calls :func:`connect_student_process` once, before any test runs, with an object
that has the three methods of :class:`StudentProcess`. In a notebook nothing is connected, and both helpers act
on the test's own process.
"""
from __future__ import annotations

from typing import Protocol

__all__ = ["StudentProcess", "connect_student_process", "optimizer_for", "student_side"]


class StudentProcess(Protocol):
    """The student's process, as the grader's judge reaches it (``rnngrade.judge.client.Connection``)."""

    def holds(self, obj) -> bool:
        """True when ``obj`` is a handle on an object that lives in the student's process."""

    def place(self, obj):
        """A copy of ``obj`` made in the student's process; a handle to it."""

    def build(self, path: str, *args, **kwargs):
        """``path(*args, **kwargs)`` called in the student's process, ``path`` naming a ``torch.nn`` or
        ``torch.optim`` class or function by module and qualified name (``"torch.optim.sgd.SGD"``); a handle."""


_student_process: StudentProcess | None = None


def connect_student_process(process: StudentProcess | None) -> None:
    """Called by the grader in its judge process (None disconnects): where :func:`student_side` places objects
    and :func:`optimizer_for` builds optimizers for the student's models."""
    global _student_process
    _student_process = process


def optimizer_for(model, optimizer_class, **kwargs):
    """``optimizer_class(model.parameters(), **kwargs)``, built in the process that holds ``model``, so that its
    steps change the model the tests call. model: an ``nn.Module``; optimizer_class: e.g. ``torch.optim.SGD``."""
    if _student_process is not None and _student_process.holds(model):
        path = f"{optimizer_class.__module__}.{optimizer_class.__qualname__}"
        return _student_process.build(path, model.parameters(), **kwargs)
    return optimizer_class(model.parameters(), **kwargs)


def student_side(obj):
    """``obj`` itself in a notebook. Under the grader's separate judge, a copy of ``obj`` in the student's
    process (a handle to it): use it for a stand-in module that the student's code must train or call, whose
    gradients or recorded calls the test reads afterwards."""
    return obj if _student_process is None else _student_process.place(obj)
