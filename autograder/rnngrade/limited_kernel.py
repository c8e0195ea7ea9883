"""An IPython kernel whose address space is capped, so a runaway notebook fails with MemoryError instead of
taking the grading machine down. Started by the kernelspec that ``rnngrade.execution`` writes."""
import os
import resource

limit_mb = int(os.environ.get("RNNGRADE_MEMORY_MB", "6144"))
if limit_mb > 0:
    limit = limit_mb * 2**20
    # RLIMIT_DATA counts heap and private mappings (what NumPy and PyTorch allocate) but not the shared
    # libraries' address space reservations, which RLIMIT_AS would also count.
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard if hard != resource.RLIM_INFINITY and hard < limit else limit))

from ipykernel import kernelapp  # noqa: E402

kernelapp.launch_new_instance()
