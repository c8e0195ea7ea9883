"""The grader's IPython kernel: its memory is capped (where the OS has ``resource``: Linux and macOS), so a runaway
notebook fails with MemoryError instead of taking the grading machine down; a student kernel is also sandboxed at the
level the grader chose (``rnngrade.sandbox``). Started by the kernelspecs that ``rnngrade.kernelspecs`` writes; the
role (``student`` or ``judge``) comes from ``RNNGRADE_KERNEL_ROLE``.

A sandboxed student kernel, before it runs any student code:

1. (namespaces level) replaces itself with ``bwrap`` (``rnngrade.sandbox_root``), which starts this module again
   inside the new root, as root still;
2. makes its home (``/tmp/home`` in the namespace sandbox, the workspace's ``home/`` otherwise) and links the
   course's data cache into it;
3. opens its Jupyter sockets, then enters a new network namespace with no interfaces (the sockets, opened
   before, keep working; any connection the student's code opens fails);
4. caps the processes of its user id (``RLIMIT_NPROC``: a fork bomb ends in ``BlockingIOError``) and drops to the
   sandbox user id, which has no capabilities and cannot undo any of this.

Any failure in these steps ends the kernel (the notebook then scores what a dead kernel scores, with a line
saying why): a sandboxed level never quietly runs student code unsandboxed.
"""
import os
import sys

try:
    import resource     # posix-only: guarded; on Windows the kernel runs without the memory cap
except ImportError:
    resource = None

from rnngrade import settings  # noqa: E402 -- the limits and the kernel's role, read in one place

limit_mb = settings.MEMORY_MB.as_int()
if limit_mb > 0 and resource is not None:
    limit = limit_mb * 2**20
    # RLIMIT_DATA counts heap and private mappings (what NumPy and PyTorch allocate) but not the shared
    # libraries' address space reservations, which RLIMIT_AS would also count.
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    keep_hard = hard != resource.RLIM_INFINITY and hard < limit
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard if keep_hard else limit))


def _die(what: str, exc: BaseException) -> None:
    print(f"rnngrade: the student kernel's sandbox could not be set up ({what}: {exc}); not running student code",
          file=sys.stderr)
    sys.exit(1)


def _connection_file(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "-f" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(("-f=", "--f=")):
            return arg.split("=", 1)[1]
    raise ValueError("no connection file (-f) on the command line")


level = (settings.SANDBOX_LEVEL.value() or "none") if settings.KERNEL_ROLE.value() == "student" else "none"
if level == "namespaces" and not settings.INSIDE_SANDBOX.value():
    from rnngrade import sandbox_root

    try:
        argv = sandbox_root.command(_connection_file(sys.argv), dict(os.environ))
        os.execv(argv[0], argv)
    except (OSError, ValueError, TypeError) as exc:
        _die("starting bwrap", exc)

if level in ("namespaces", "permissions"):
    from rnngrade import sandbox_kernel

    try:
        sandbox_kernel.prepare_home(level)
        import rnngrade.judge  # noqa: F401 -- served later to the judge; the grader's source may be unreadable then
    except Exception as exc:  # noqa: BLE001
        _die("preparing the home folder", exc)

from ipykernel.kernelapp import IPKernelApp  # noqa: E402

app = IPKernelApp.instance()
# reads the connection file and opens the kernel's sockets, still as root. The kernel's own log (not the student's
# output, which travels as messages) would repeat a transport warning on the grader's terminal for every notebook.
app.initialize(sys.argv[1:] + ["--IPKernelApp.log_level=ERROR"])
if level in ("namespaces", "permissions"):
    try:
        sandbox_kernel.cut_network(required=level == "namespaces")
        sandbox_kernel.drop_privileges()
    except Exception as exc:  # noqa: BLE001
        _die("dropping privileges", exc)
app.start()
