"""The student kernel's sandbox, seen from the grader: which isolation level this machine allows, the user id and
folders of one grading workspace, and the clean-up after each notebook. The threat model is in docs/SANDBOX.md.

Three levels, the strongest this machine allows (``level()``):

``namespaces``
    root on Linux with bubblewrap (``bwrap``) installed and namespaces allowed. The kernel starts inside ``bwrap``
    (``rnngrade.sandbox_root`` builds the command): a new root that holds only what the kernel needs, read-only
    (the Python installation, the venv, the course's ``helpers/`` and data cache), size-capped private tmpfs
    mounts for ``/tmp``, ``/var/tmp`` and ``/dev/shm``, a PID namespace (every process dies with the kernel), no
    network, and an unprivileged user id.
``permissions``
    root, but namespaces refused (Docker's default seccomp profile, as on Gradescope) or ``bwrap`` missing. The
    kernel still drops to an unprivileged user id with a process cap; what it must not read (the course's
    ``solutions/`` and ``.git``, the grader's source, the grading workspace, the results folder, ``RNNGRADE_HIDE``)
    loses every permission for others (``chmod o-rwx``) before student code runs, and gets it back after grading
    (``rnngrade.sandbox_modes``); the network is cut when the kernel may still create a network namespace.
    Anything else world-readable on the machine stays readable.
``none``
    not root, not Linux, or ``RNNGRADE_SANDBOX=0``: a student checking their own work. ``rnngrade grade --batch``
    refuses to run at this level unless given ``--unsafe-no-sandbox``.

``RNNGRADE_SANDBOX_LEVEL=permissions`` (or ``none``) forces a weaker level, to test the fallbacks on a machine
that allows more. After each notebook (``clean_up``) every process of the sandbox's user id is killed and, at the
permissions level, the files it left in its scratch folder, ``/tmp``, ``/var/tmp`` and ``/dev/shm`` are deleted.
"""
from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from . import settings

# the variables' names (their meanings and defaults: rnngrade.settings)
SANDBOX_ENV = settings.SANDBOX.name
LEVEL_ENV = settings.SANDBOX_LEVEL.name           # set in the student kernelspec too
HIDE_ENV = settings.HIDE.name
UID_ENV = settings.SANDBOX_UID.name
SCRATCH_ENV = settings.SCRATCH.name
READONLY_ENV = settings.READONLY.name
SCRATCH_MB_ENV = settings.SCRATCH_MB.name
DEFAULT_SCRATCH_MB = int(settings.SCRATCH_MB.default)     # per tmpfs; the notebooks write a few MB (checkpoints)
MAX_PROCESSES_ENV = settings.MAX_PROCESSES.name
MAX_PROCESSES = int(settings.MAX_PROCESSES.default)       # RLIMIT_NPROC counts every process (and thread) of the uid
UID_RANGE = (200_000, 1_000_000)          # ids no account on a normal system uses
LEVELS = ("namespaces", "permissions", "none")
TEMP_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")


def level() -> tuple[str, str]:
    """The isolation level student kernels get here, and why it is not a stronger one ("" at ``namespaces``)."""
    return _level(settings.SANDBOX.value(), settings.SANDBOX_LEVEL.value())


@lru_cache(maxsize=None)
def _level(enabled: str, forced: str) -> tuple[str, str]:
    if forced and forced not in LEVELS:
        raise ValueError(f"{LEVEL_ENV}={forced!r}: use one of {', '.join(LEVELS)}")
    if enabled == "0":
        return "none", f"{SANDBOX_ENV}=0"
    if not sys.platform.startswith("linux"):
        return "none", "not Linux"
    if os.geteuid() != 0:
        return "none", "the grader does not run as root"
    if forced == "none":
        return "none", f"{LEVEL_ENV}=none"
    if forced == "permissions":
        return "permissions", f"{LEVEL_ENV}=permissions"
    from .sandbox_root import probe

    why = probe()
    return ("permissions", why) if why else ("namespaces", "")


def available() -> tuple[bool, str]:
    """Whether student kernels are sandboxed at all here, and why not."""
    lvl, why = level()
    return lvl != "none", why


def describe(lvl: str | None = None, why: str | None = None) -> str:
    """One line for the grading notes: which isolation student code had."""
    if lvl is None:
        lvl, why = level()
    if lvl == "namespaces":
        return ("Sandbox: namespaces (bubblewrap): your code saw only Python, the course's helpers and data, and "
                "private temporary folders; no network; its processes ended with each notebook.")
    if lvl == "permissions":
        return (f"Sandbox: permissions only ({why}): your code ran as an unprivileged user that cannot read the "
                "answers or the results; its processes and temporary files were removed after each notebook.")
    return f"Sandbox: none ({why}): your code ran with the grader's own rights."


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
    """The workspace's host folder for the sandbox: root's, enterable but not listable by the sandbox user.
    ``sockets/`` (the judge's socket folders, owned by the sandbox user) is bound into the namespace sandbox;
    ``home/`` is the kernel's home at the permissions level."""
    folder = tempfile.mkdtemp(prefix="rnngrade-kernel-")
    os.chmod(folder, 0o711)
    os.mkdir(os.path.join(folder, "sockets"), 0o700)
    os.chown(os.path.join(folder, "sockets"), uid, uid)
    return folder


def kernel_env(lvl: str, uid: int, scratch: str, readonly: list[str]) -> dict[str, str]:
    """What the student kernelspec passes to ``rnngrade.limited_kernel``."""
    return {LEVEL_ENV: lvl, UID_ENV: str(uid), SCRATCH_ENV: scratch,
            READONLY_ENV: os.pathsep.join(dict.fromkeys(str(p) for p in readonly)),
            SCRATCH_MB_ENV: str(scratch_mb()), MAX_PROCESSES_ENV: str(settings.MAX_PROCESSES.as_int())}


def scratch_mb() -> int:
    return settings.SCRATCH_MB.as_int()


def readonly_paths(course_root: Path) -> list[str]:
    """Host folders the namespace sandbox shows read-only besides Python: the course's helpers and data cache,
    the packages the kernel imports (rnnlab, rnngrade's kernel and judge code) and the data mirror."""
    import importlib.util

    paths = [course_root / "helpers"]
    for pkg in ("rnnlab", "rnngrade"):
        spec = importlib.util.find_spec(pkg)
        if spec and spec.submodule_search_locations:
            paths += [Path(p) for p in spec.submodule_search_locations]
    try:
        from rnnlab.corpora import data_dir

        paths.append(data_dir())
    except Exception:  # noqa: BLE001 -- no data cache: the notebooks generate what they need
        pass
    if os.environ.get("RNNLAB_DATA_MIRROR"):
        paths.append(Path(os.environ["RNNLAB_DATA_MIRROR"]))
    return [str(p.resolve()) for p in paths if p.exists()]


def protected_paths(course_root: Path, workspace: Path) -> list[Path]:
    """What the permissions level makes unreadable to the sandbox user."""
    extra = [Path(p) for p in settings.HIDE.as_paths()]
    grader = Path(__file__).resolve().parent
    paths = [course_root / "solutions", course_root / ".git", course_root / "autograder", grader, workspace, *extra]
    return [p for p in paths if p.exists()]


def interpreter_folders() -> list[str]:
    """Folders on the way to the Python installation (pyenv under /root), which others must be able to pass
    through (o+x, not list) or the unprivileged kernel could not import anything."""
    folders = []
    for top in dict.fromkeys((os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix))):
        parts = top.strip("/").split("/")
        folders += ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return list(dict.fromkeys(folders))


# -- after each notebook (the grader, root) ------------------------------------------------------------------
def kill_all(uid: int) -> None:
    """Kill every process of ``uid`` on the machine: a child becomes that user and calls ``kill(-1, SIGKILL)``,
    which the kernel delivers to all of the user's processes at once (a process forking meanwhile cannot escape:
    the signal reaches every task in one pass over the task list). Repeated until none is left."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(100):
                try:
                    os.kill(-1, signal.SIGKILL)
                except OSError as exc:
                    if exc.errno == errno.ESRCH:
                        os._exit(0)
                    raise
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    os.waitpid(pid, 0)


def remove_owned(uid: int, top: str) -> None:
    """Delete what ``uid`` created under ``top``: its own files and folders, and inside the folders it could write
    to (world-writable ones such as /tmp), recursively; nothing else is looked at."""
    try:
        entries = list(os.scandir(top))
    except OSError:
        return
    for e in entries:
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_uid == uid:
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(e.path, ignore_errors=True)
            else:
                try:
                    os.unlink(e.path)
                except OSError:
                    pass
        elif stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_IWOTH:
            remove_owned(uid, e.path)


def clean_up(env: dict) -> None:
    """After a student kernel has stopped: kill what is left of its user id and, at the permissions level, delete
    its files (at the namespaces level its tmpfs mounts died with its namespaces)."""
    lvl, uid = settings.SANDBOX_LEVEL.value(env), settings.SANDBOX_UID.value(env)
    if lvl not in ("namespaces", "permissions") or not uid:
        return
    kill_all(int(uid))
    if lvl == "permissions":
        shutil.rmtree(os.path.join(settings.SCRATCH.value(env), "home"), ignore_errors=True)
        for top in TEMP_FOLDERS:
            remove_owned(int(uid), top)


def spec_env(kernel_name: str) -> dict:
    """The environment of an installed kernelspec ({} if there is none)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return dict(KernelSpecManager().get_kernel_spec(kernel_name).env or {})
    except NoSuchKernel:
        return {}


def remove_scratch(folder: str | None) -> None:
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


# -- the command line --------------------------------------------------------------------------------------
def hide_also(folder: Path) -> None:
    """Add a results folder to what the permissions level makes unreadable (it is created now so that it can be)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = settings.HIDE.as_paths() + [str(folder.resolve())]
    os.environ[HIDE_ENV] = os.pathsep.join(dict.fromkeys(paths))


def refuse_batch(unsafe: bool) -> bool:
    """True (after saying why) when a batch must not start: no sandbox here and no ``--unsafe-no-sandbox``."""
    lvl, why = level()
    if lvl != "none" or unsafe:
        return False
    print(f"rnngrade: refusing to grade a batch without a sandbox ({why}): every student's code could read the "
          "others' submissions and results. Grade as root on Linux, or pass --unsafe-no-sandbox if you trust "
          "every submission.", file=sys.stderr)
    return True
