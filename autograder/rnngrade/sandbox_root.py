"""The namespace sandbox's file system: the ``bwrap`` (bubblewrap) command that starts a student kernel in a new
root holding only an allow-list. bubblewrap, the sandbox under Flatpak, does the mounting; this module only says
what goes in (docs/SANDBOX.md explains each line):

- read-only: the system's shared libraries (``/usr/lib*`` and the merged-/usr links ``/lib``, ``/lib64``,
  ``/bin``), ``/usr/bin``, the few files of ``/etc`` that the C library reads, the Python installation
  (``sys.base_prefix``, exactly that folder, even when it lies under ``/root``), the venv (``sys.prefix``) and the
  folders in ``RNNGRADE_READONLY`` (the course's ``helpers/``, its data cache, the packages the kernel imports),
  except the grader's reference code ``rnngrade/oracles/``, which an empty read-only tmpfs covers (the hidden
  tests that import it run in the judge kernel);
- the kernel's connection file, read-only, at ``/run/rnngrade/connection.json``;
- writable: private tmpfs mounts, each capped at ``RNNGRADE_SCRATCH_MB``, for ``/tmp`` (the kernel's home and
  working folder is ``/tmp/home``), ``/var/tmp`` and ``/dev/shm``; the workspace's ``sockets/`` folder, owned by
  the sandbox user, where the judge's socket is created;
- a fresh ``/proc`` for a new PID namespace (the student's code sees only its own processes; bubblewrap's init
  is PID 1 there and, when the kernel exits, takes every other process of the namespace with it), a minimal
  ``/dev``, new IPC and UTS namespaces, a new session (no terminal to inject into), and ``--die-with-parent``.

The kernel process starts as root inside (bubblewrap keeps root's capabilities when run by root) so that it can
open its sockets, cut the network (a network namespace of its own, after the sockets exist) and only then drop to
the sandbox user id (``rnngrade.limited_kernel``).
"""
from __future__ import annotations

import os
import shutil
import sys

from . import settings

CONNECTION_FILE = "/run/rnngrade/connection.json"
HOME = "/tmp/home"
INSIDE_ENV = settings.INSIDE_SANDBOX.name
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/fonts")
USR_FOLDERS = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32", "/usr/bin")
TOP_LINKS = ("/lib", "/lib64", "/lib32", "/libx32", "/bin")


def bwrap() -> str | None:
    return shutil.which("bwrap")


def probe() -> str:
    """"" when bubblewrap can build the sandbox here, else why not (bwrap missing, namespaces refused)."""
    exe = bwrap()
    if exe is None:
        return "bubblewrap (bwrap) is not installed"
    import subprocess

    argv = [exe, *_system(), "--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--", "/bin/true"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to start ({exc})"
    if r.returncode != 0:
        return f"namespaces refused ({(r.stderr.strip().splitlines() or ['bwrap exit %d' % r.returncode])[-1]})"
    return ""


def _system() -> list[str]:
    args = ["--perms", "0755", "--dir", "/usr", "--perms", "0755", "--dir", "/etc"]
    for p in USR_FOLDERS:
        if os.path.isdir(p) and not os.path.islink(p):
            args += ["--ro-bind", p, p]
    for p in TOP_LINKS:
        if os.path.islink(p):
            args += ["--symlink", os.readlink(p), p]
        elif os.path.isdir(p):
            args += ["--ro-bind", p, p]
    for p in ETC_FILES:
        if os.path.exists(p):
            args += ["--ro-bind", p, p]
    return args


def _parents(path: str, made: set[str]) -> list[str]:
    """Folders on the way to a mount point, enterable by the sandbox user (bwrap would make them root-only)."""
    args, parts = [], path.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        folder = "/" + "/".join(parts[:i])
        if folder not in made:
            made.add(folder)
            args += ["--perms", "0755", "--dir", folder]
    return args


def command(connection_file: str, env: dict) -> list[str]:
    """The bwrap command line that runs ``python -m rnngrade.limited_kernel`` inside the sandbox."""
    size = str(settings.SCRATCH_MB.as_int() * 2**20)
    args = [bwrap(), "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "rnngrade", "--die-with-parent", "--new-session", *_system()]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", size, "--perms", "1777", "--tmpfs", "/tmp",
             "--size", size, "--perms", "1777", "--tmpfs", "/var/tmp",
             "--size", size, "--perms", "1777", "--tmpfs", "/dev/shm"]
    # after the tmpfs mounts, so that a folder that lives under /tmp on the host is not covered by them
    python = [os.path.realpath(sys.base_prefix), sys.prefix]
    extra = settings.READONLY.as_paths(env)
    made = {"/", "/usr", "/etc", "/tmp", "/var/tmp", "/dev", "/dev/shm", "/proc"}
    for p in dict.fromkeys(python + extra):
        if os.path.exists(p):
            args += [*_parents(p, made), "--ro-bind", p, p]
    args += hide_oracles(extra)
    args += ["--ro-bind", connection_file, CONNECTION_FILE]
    sockets = os.path.join(settings.SCRATCH.value(env), "sockets")
    args += [*_parents(sockets, made), "--bind", sockets, sockets, "--chdir", "/tmp", "--setenv", INSIDE_ENV, "1",
             # ipykernel would watch its parent process id (not this one, in the new PID namespace); 1 turns that off
             "--setenv", "JPY_PARENT_PID", "1",
             "--", sys.executable, "-m", "rnngrade.limited_kernel", "-f", CONNECTION_FILE]
    return args


def oracles_folder() -> str:
    """The grader's reference code (``rnngrade.oracles``): it computes graded answers."""
    return os.path.join(os.path.dirname(os.path.realpath(__file__)), "oracles")


def hide_oracles(bound: list[str]) -> list[str]:
    """bwrap arguments that cover ``rnngrade/oracles`` with an empty read-only tmpfs where the grader's package is
    among the ``bound`` folders: only the judge kernel, never the student's, runs the hidden tests that import it.
    ``RNNGRADE_JUDGE=kernel`` (every test in the student's kernel, to debug a test) keeps it visible."""
    oracles = oracles_folder()
    if settings.JUDGE.value() == "kernel" or not os.path.isdir(oracles):
        return []
    if not any(oracles.startswith(os.path.realpath(p).rstrip("/") + "/") for p in bound):
        return []
    return ["--size", str(2**16), "--tmpfs", oracles, "--remount-ro", oracles]
