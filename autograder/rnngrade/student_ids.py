"""The one rule for student ids: 1 to 100 characters from letters, digits and ``_.@+-``, starting with a letter
or digit. An id names the student's folder of results and their row in every export, so it is never a path.

:func:`check` accepts an id given on the command line as it is, or refuses it; :func:`from_name` makes an id from
a file or folder name (a batch's submissions, ``rnngrade grade`` without ``--student``): each other character
becomes ``_``, leading ``._-+@`` go, the rest is cut at 100 characters, and an empty result becomes ``student``.
"""
from __future__ import annotations

import re

MAX_LENGTH = 100
ALLOWED = "A-Za-z0-9_.@+-"
STUDENT_ID_RE = re.compile(rf"^[A-Za-z0-9][{ALLOWED}]{{0,{MAX_LENGTH - 1}}}$")
FALLBACK = "student"


def check(student: str) -> str:
    """``student`` if it is a valid id, else ValueError saying the rule."""
    if not STUDENT_ID_RE.match(student):
        raise ValueError(f"student id {student!r} must be 1-{MAX_LENGTH} characters from letters, digits and _.@+- "
                         "and start with a letter or digit")
    return student


def from_name(name: str) -> str:
    """A valid id made from a file or folder name (the rule in the module docstring)."""
    cleaned = re.sub(rf"[^{ALLOWED}]", "_", name).lstrip("._-+@")
    return cleaned[:MAX_LENGTH] or FALLBACK
