"""The steps a sandboxed student kernel takes on itself, as root, before any student code (``rnngrade.limited_kernel``
calls them in order): its home folder, no network, the sandbox user id."""
from __future__ import annotations

import ctypes
import os
import resource

from . import settings
from .sandbox_root import HOME

CLONE_NEWNET = 0x40000000


def _uid() -> int:
    return settings.SANDBOX_UID.as_int()


def home_folder(level: str) -> str:
    """``/tmp/home`` inside the namespace sandbox (on its private tmpfs); the workspace's ``home/`` at the
    permissions level (emptied by the grader after each notebook)."""
    return HOME if level == "namespaces" else os.path.join(settings.SCRATCH.value(), "home")


def prepare_home(level: str) -> None:
    """Make the home folder (IPython's and Matplotlib's settings, a data folder linking the course's data cache)
    owned by the sandbox user, and point HOME, TMPDIR and friends at it."""
    home = home_folder(level)
    data = os.path.join(home, "data")
    for sub in ("", "ipython", "mpl", "data"):
        os.makedirs(os.path.join(home, sub), mode=0o700, exist_ok=True)
    _seed_data_cache(data)
    os.environ.update(HOME=home, IPYTHONDIR=os.path.join(home, "ipython"), MPLCONFIGDIR=os.path.join(home, "mpl"),
                      RNNLAB_DATA_DIR=data, TMPDIR=home, USER="student", LOGNAME="student")
    os.chdir(home)


def _seed_data_cache(dest: str) -> None:
    """Links to the files of the course's data cache (read-only for the student), so nothing is fetched again;
    what the student's code adds lands in its home."""
    try:
        from rnnlab.corpora import data_dir

        src = data_dir()
    except Exception:  # noqa: BLE001 -- no cache: the notebook fetches or generates what it needs
        return
    if os.path.realpath(src) == os.path.realpath(dest) or not src.is_dir():
        return
    for f in src.iterdir():
        if f.is_file() and not f.name.startswith("."):
            try:
                os.symlink(f, os.path.join(dest, f.name))
            except OSError:
                pass


def cut_network(required: bool) -> None:
    """A network namespace of the kernel's own, with no interfaces (its sockets, opened before, keep working).
    Where namespaces are refused (the permissions level in Docker), ``required=False`` lets it go on."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        if required:
            raise OSError(err, f"unshare(CLONE_NEWNET): {os.strerror(err)}")


def drop_privileges() -> None:
    """Give the home folder to the sandbox user, cap its processes and become it (every thread: glibc applies set*id
    process-wide)."""
    uid = _uid()
    for dirpath, dirnames, filenames in os.walk(os.environ["HOME"]):   # what IPython made there too
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            os.lchown(name, uid, uid)
    cap = settings.MAX_PROCESSES.as_int()
    resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("the kernel is still root after setuid")
