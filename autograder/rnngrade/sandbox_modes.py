"""The permissions level's changes to file modes, made for a grading run and undone after it.

At the ``permissions`` level (``rnngrade.sandbox``) the grader, as root, takes every permission of others from
what the student kernel must not read (the course's ``solutions/`` and ``.git``, the grader, the workspace, the
results folder) and gives others the right to pass through the folders on the way to Python (``o+x``). Those
are changes to the machine's own files, so they are undone when grading ends.

Workspaces can overlap (a batch grades several students at once, in several processes), and a folder must stay
protected until the *last* of them has closed. So the changes are recorded in one small state file, locked with
``flock`` while it is read and written: the modes each path had before the first change, and the holders (one
token per open workspace, with its process id). :func:`apply` adds a holder and changes the modes; :func:`undo`
removes it and, when no live holder is left, puts every recorded mode back. A holder whose process died without
undoing (killed grader) is dropped by the next :func:`apply` or :func:`undo`, so the modes come back then.

The state file lives in the grader's own folder, which only root may write (else in a private folder of root's
under the temporary folder); a state file that root does not own, or that others may write, is refused (a
student's code must not steer what root changes).
"""
from __future__ import annotations

import contextlib
import json
import os
import stat
import uuid
from pathlib import Path

STATE_NAME = ".rnngrade-modes.json"


def state_path() -> Path:
    """The grader's folder when root may write there; else a folder of root's own under the temporary folder."""
    here = Path(__file__).resolve().parent
    if os.access(here, os.W_OK):
        return here / STATE_NAME
    import tempfile

    folder = Path(tempfile.gettempdir()) / f"rnngrade-modes-{os.geteuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise PermissionError(f"{folder}: not a private folder of the grader's user; remove it")
    return folder / STATE_NAME


@contextlib.contextmanager
def _locked_state(path: Path | None = None):
    """The state ``{"modes": {path: mode}, "holders": {token: pid}}``, locked; written back on leaving."""
    import fcntl        # POSIX only, as the permissions level is

    path = path or state_path()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise PermissionError(f"{path}: not owned by the grader's user, or writable by others; remove it")
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = b""
        while chunk := os.read(fd, 65536):
            raw += chunk
        try:
            state = json.loads(raw or b"{}")
        except ValueError:
            state = {}
        state.setdefault("modes", {})
        state.setdefault("holders", {})
        yield state
        data = json.dumps(state, indent=1).encode()
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, data)
    finally:
        os.close(fd)            # releases the lock


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)          # a PermissionError also means it exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _drop_dead(state: dict) -> None:
    state["holders"] = {t: pid for t, pid in state["holders"].items() if _alive(int(pid))}


def _restore_if_unheld(state: dict) -> None:
    if state["holders"]:
        return
    for p, mode in state["modes"].items():
        try:
            os.chmod(p, mode)
        except OSError:          # gone meanwhile (a results folder removed by hand)
            pass
    state["modes"] = {}


def apply(protect: list[Path], pass_through: list[str], state_file: Path | None = None) -> tuple[str, list[str]]:
    """Take every permission of others from each of ``protect`` and give others ``o+x`` on each folder of
    ``pass_through`` that lacks it; recorded so that :func:`undo` can put the modes back. Returns the holder's
    token and the folders of ``pass_through`` that were closed to others (opened now or by a holder before)."""
    token = uuid.uuid4().hex
    with _locked_state(state_file) as state:
        _drop_dead(state)
        _restore_if_unheld(state)        # a crashed run's changes come back before new ones are recorded
        state["holders"][token] = os.getpid()
        for p in protect:
            key = str(p)
            mode = stat.S_IMODE(os.stat(p).st_mode)
            state["modes"].setdefault(key, mode)
            os.chmod(p, mode & ~0o007)
        opened = []
        for folder in pass_through:
            mode = stat.S_IMODE(os.stat(folder).st_mode)
            if folder in state["modes"] and not state["modes"][folder] & stat.S_IXOTH:
                opened.append(folder)            # another workspace opened it; still said in the notes
            elif not mode & stat.S_IXOTH:
                state["modes"][folder] = mode
                os.chmod(folder, mode | stat.S_IXOTH)
                opened.append(folder)
    return token, opened


def undo(token: str, state_file: Path | None = None) -> None:
    """This holder is done; if it was the last one alive, every recorded mode is put back."""
    with _locked_state(state_file) as state:
        state["holders"].pop(token, None)
        _drop_dead(state)
        _restore_if_unheld(state)
