"""Helpers for the notebooks' test cells, so that a test works the same in a notebook and under the grader.

When the grader judges a notebook in a separate process (``rnngrade.judge``), a student's model stays in the
student's process and the test holds a handle to it: calls, attributes and gradients cross between the two
processes, but objects the test builds itself live in the test's process. These helpers put such objects where
the student's code can change them and the test can still see the change.
"""
from __future__ import annotations

__all__ = ["optimizer_for", "student_side"]

# Set by the grader in its judge process: a function that copies an object into the student's process and
# returns a handle to the copy. None in a notebook.
PLACE_WITH_STUDENT = None


def optimizer_for(model, optimizer_class, **kwargs):
    """``optimizer_class(model.parameters(), **kwargs)``, built in the process that holds ``model``, so that its
    steps change the model the tests call. model: an ``nn.Module``; optimizer_class: e.g. ``torch.optim.SGD``."""
    build_remote = getattr(type(model), "_rg_build", None)
    if build_remote is not None:
        path = f"{optimizer_class.__module__}.{optimizer_class.__qualname__}"
        return build_remote(model, path, model.parameters(), **kwargs)
    return optimizer_class(model.parameters(), **kwargs)


def student_side(obj):
    """``obj`` itself in a notebook. Under the grader's separate judge, a copy of ``obj`` in the student's
    process (a handle to it): use it for a stand-in module that the student's code must train or call, whose
    gradients or recorded calls the test reads afterwards."""
    return obj if PLACE_WITH_STUDENT is None else PLACE_WITH_STUDENT(obj)

