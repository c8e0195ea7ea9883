"""The student kernel's sandbox: an unprivileged user, no network, the answers out of sight, a process cap.

When the grader runs as root on Linux (a grading server, a container, CI) and ``RNNGRADE_SANDBOX`` is not ``0``,
the student's kernel (``rnngrade.limited_kernel --role student``), before it runs any student code:

1. enters a new **mount namespace** and mounts an empty read-only tmpfs over every folder the student must not
   read: the course's ``solutions/`` and ``.git`` (the answers and their history), the grading workspace (the
   gradebook, the source notebooks, other notebooks' results) and any folder in ``RNNGRADE_HIDE``;
2. starts its Jupyter sockets, then enters a new **network namespace** with no interfaces: every connection the
   student's code opens fails (the kernel's own sockets, opened before, keep working);
3. drops to an unprivileged user id of its own, picked at random for each grading workspace (no capabilities: it
   cannot undo 1 or 2, read root's files, read the judge kernel's memory or connection file, or signal another
   student's kernel), with ``RLIMIT_NPROC`` capping the processes it may start (a fork bomb ends in
   ``BlockingIOError``; the cap counts per user id, so one student's fork bomb never starves another's kernel),
   and works in a scratch folder of its own.

Elsewhere (not root, not Linux, ``RNNGRADE_SANDBOX=0``) the kernel runs unsandboxed and the grader says so once.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import sys
import tempfile
from pathlib import Path

SANDBOX_ENV = "RNNGRADE_SANDBOX"
HIDE_ENV = "RNNGRADE_HIDE"          # os.pathsep-separated folders to hide from student code
SCRATCH_ENV = "RNNGRADE_SCRATCH"
UID_ENV = "RNNGRADE_SANDBOX_UID"
UID_RANGE = (200_000, 1_000_000)    # ids no account on a normal system uses
MAX_PROCESSES_ENV = "RNNGRADE_MAX_PROCESSES"
MAX_PROCESSES = 512                  # RLIMIT_NPROC counts every process (and thread) of the user on the machine

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 0x1000, 0x4000, 0x40000


def available() -> tuple[bool, str]:
    """Whether the sandbox can be used here, and why not."""
    if os.environ.get(SANDBOX_ENV, "1") == "0":
        return False, f"{SANDBOX_ENV}=0"
    if not sys.platform.startswith("linux"):
        return False, "not Linux"
    if os.geteuid() != 0:
        return False, "the grader does not run as root"
    return True, ""


def pick_uid() -> int:
    """A fresh user id (and group id) for the student kernels of one grading workspace."""
    import pwd          # POSIX only: imported here so that importing this module works on every OS
    import secrets

    while True:
        uid = UID_RANGE[0] + secrets.randbelow(UID_RANGE[1] - UID_RANGE[0])
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid


def make_scratch(uid: int) -> str:
    """A private working folder for the student kernels of one workspace, owned by their user id."""
    folder = tempfile.mkdtemp(prefix="rnngrade-kernel-")
    os.chown(folder, uid, uid)
    return folder


def give_to_sandbox(folder: str, uid: int) -> None:
    """Let the sandboxed kernel create files (the judge's socket) in ``folder``."""
    os.chown(folder, uid, uid)


def hidden_paths(course_root: Path, workspace: Path) -> list[str]:
    extra = [p for p in os.environ.get(HIDE_ENV, "").split(os.pathsep) if p]
    paths = [course_root / "solutions", course_root / ".git", workspace, *map(Path, extra)]
    return [str(p.resolve()) for p in paths if p.exists()]


# -- inside the kernel process (root, before any student code) ---------------------------------------------
def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    return libc


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def hide(paths: list[str]) -> None:
    """New mount namespace; an empty read-only tmpfs over each folder (a file is covered by /dev/null).

    If the Python installation lies under a folder the sandbox user cannot enter (pyenv's ``/root/.pyenv``, say),
    that folder is replaced by an empty one in which only the installation is mounted again: the interpreter keeps
    working and the rest of the folder (root's home: keys, Jupyter connection files) is out of sight."""
    libc = _libc()
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    prefix = os.path.realpath(sys.base_prefix)
    closed = _closed_ancestor(prefix)
    if closed:
        staging = tempfile.mkdtemp(prefix="rnngrade-prefix-")
        _check(libc.mount(prefix.encode(), staging.encode(), None, MS_BIND | MS_REC, None), f"bind {prefix}")
        _check(libc.mount(b"tmpfs", closed.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=755"),
               f"mount tmpfs on {closed}")
        os.makedirs(prefix, exist_ok=True)
        _check(libc.mount(staging.encode(), prefix.encode(), None, MS_BIND | MS_REC, None), f"bind on {prefix}")
    for p in paths:
        if os.path.isdir(p):
            _check(libc.mount(b"tmpfs", p.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=555"),
                   f"mount tmpfs on {p}")
        elif os.path.exists(p):
            _check(libc.mount(b"/dev/null", p.encode(), None, MS_BIND, None), f"bind /dev/null on {p}")


def _closed_ancestor(path: str) -> str | None:
    """The first folder on the way to ``path`` that others may not enter (no o+x), if any."""
    import stat

    parts = path.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        folder = "/" + "/".join(parts[:i])
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
    return None


def move_connection_file(argv: list[str], scratch: str) -> list[str]:
    """Copy the kernel's connection file (``-f PATH``) into ``scratch`` (root-only) before its folder may be
    hidden, and return argv pointing at the copy."""
    argv = list(argv)
    for i, arg in enumerate(argv):
        if arg == "-f" and i + 1 < len(argv):
            src, j = argv[i + 1], i + 1
        elif arg.startswith("-f=") or arg.startswith("--f="):
            src, j = arg.split("=", 1)[1], None
        else:
            continue
        dest = os.path.join(scratch, "connection.json")
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f, open(src, "rb") as g:
            f.write(g.read())
        if j is None:
            argv[i] = "-f=" + dest
        else:
            argv[j] = dest
        break
    return argv


def cut_network() -> None:
    _check(_libc().unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")


def private_environment(scratch: str) -> None:
    """Home, IPython and Matplotlib folders inside the scratch folder (set before the kernel starts)."""
    for sub in ("ipython", "mpl"):
        os.makedirs(os.path.join(scratch, sub), exist_ok=True)
    os.environ.update(HOME=scratch, IPYTHONDIR=os.path.join(scratch, "ipython"),
                      MPLCONFIGDIR=os.path.join(scratch, "mpl"))


def drop_privileges(scratch: str) -> None:
    """Become the sandbox user (every thread: glibc applies set*id process-wide), in ``scratch``."""
    import resource

    uid = gid = int(os.environ[UID_ENV])
    cap = int(os.environ.get(MAX_PROCESSES_ENV, MAX_PROCESSES))
    resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))
    data = os.path.join(scratch, "data")
    os.makedirs(data, exist_ok=True)
    _seed_data_cache(data)
    for dirpath, dirnames, filenames in os.walk(scratch):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            os.lchown(name, uid, gid)
    os.environ.update(RNNLAB_DATA_DIR=data, TMPDIR=scratch, USER="student", LOGNAME="student")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    os.chdir(scratch)


def _seed_data_cache(dest: str) -> None:
    """Links to the files of the course's data cache (read-only for the student), so nothing is fetched again;
    what the student's code adds lands in its scratch folder."""
    try:
        from rnnlab.corpora import data_dir

        src = data_dir()
    except Exception:  # noqa: BLE001 -- no cache: the notebook fetches or generates what it needs
        return
    for f in src.iterdir():
        if f.is_file() and not f.name.startswith("."):
            try:
                os.symlink(f, os.path.join(dest, f.name))
            except OSError:
                pass


def remove_scratch(folder: str | None) -> None:
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
