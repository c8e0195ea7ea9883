"""The grader's IPython kernel: its memory is capped (where the OS has ``resource``: Linux and macOS), so a runaway notebook fails with MemoryError instead of
taking the grading machine down; a student kernel is also sandboxed where the platform allows
(``rnngrade.sandbox``). Started by the kernelspecs that ``rnngrade.execution`` writes; the role (``student`` or
``judge``) comes from ``RNNGRADE_KERNEL_ROLE``."""
import os
import sys

try:
    import resource     # posix-only: guarded; on Windows the kernel runs without the memory cap
except ImportError:
    resource = None

limit_mb = int(os.environ.get("RNNGRADE_MEMORY_MB", "6144"))
if limit_mb > 0 and resource is not None:
    limit = limit_mb * 2**20
    # RLIMIT_DATA counts heap and private mappings (what NumPy and PyTorch allocate) but not the shared
    # libraries' address space reservations, which RLIMIT_AS would also count.
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard if hard != resource.RLIM_INFINITY and hard < limit else limit))

sandboxed = False
scratch = os.environ.get("RNNGRADE_SCRATCH")
if os.environ.get("RNNGRADE_KERNEL_ROLE") == "student" and scratch:
    from rnngrade import sandbox

    ok, why = sandbox.available()
    if ok:
        try:
            sys.argv = sandbox.move_connection_file(sys.argv, scratch)
            sandbox.private_environment(scratch)
            # before any thread exists, so that every thread of the kernel lives in the new mount namespace
            sandbox.hide([p for p in os.environ.get("RNNGRADE_HIDE_PATHS", "").split(os.pathsep) if p])
            sandboxed = True
        except OSError as exc:
            print(f"rnngrade: student kernel not sandboxed ({exc})", file=sys.stderr)

from ipykernel.kernelapp import IPKernelApp  # noqa: E402

app = IPKernelApp.instance()
# reads the connection file and opens the kernel's sockets, still as root. The kernel's own log (not the student's
# output, which travels as messages) would repeat a transport warning on the grader's terminal for every notebook.
app.initialize(sys.argv[1:] + ["--IPKernelApp.log_level=ERROR"])
if sandboxed:
    try:
        sandbox.cut_network()
        sandbox.drop_privileges(scratch)
    except OSError as exc:
        print(f"rnngrade: student kernel only partly sandboxed ({exc})", file=sys.stderr)
app.start()
