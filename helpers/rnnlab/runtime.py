"""Run-time switches shared by all notebooks: quick mode, seeding, device choice and progress bars."""
from __future__ import annotations

import os
import random
import sys

import numpy as np

__all__ = ["is_quick", "pick", "seed_everything", "get_device", "progress"]


def is_quick() -> bool:
    """True when notebooks should shrink their training loops.

    On when nbgrader executes the notebook (it sets ``NBGRADER_EXECUTION``, for autograding and for
    validation) or when ``RNNLAB_QUICK=1`` (tests, CI, a student in a hurry). ``RNNLAB_QUICK=0``
    forces full runs even under nbgrader.
    """
    flag = os.environ.get("RNNLAB_QUICK", "").strip().lower()
    if flag in {"0", "false", "no", "off"}:
        return False
    if flag in {"1", "true", "yes", "on"}:
        return True
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def pick(full, quick):
    """``quick`` in quick mode, ``full`` otherwise: ``num_iters = pick(2000, 50)``."""
    return quick if is_quick() else full


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's, NumPy's global and (if imported) PyTorch's generators; return a fresh NumPy Generator."""
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def get_device(verbose: bool = True):
    """The torch device to use: CUDA when present, else Apple's MPS, else the CPU. Prints its choice."""
    import torch

    if torch.cuda.is_available():
        dev = torch.device("cuda")
        name = torch.cuda.get_device_name(0)
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        dev, name = torch.device("mps"), "Apple GPU (MPS)"
    else:
        dev, name = torch.device("cpu"), f"CPU ({os.cpu_count()} cores)"
    if verbose:
        print(f"Using device: {dev} - {name}")
    return dev


def progress(iterable=None, total=None, desc=None, **kwargs):
    """A progress bar (tqdm) for long loops; silent under nbgrader so graded cells never write to stderr."""
    from tqdm.auto import tqdm

    disable = kwargs.pop("disable", None)
    if disable is None:
        disable = bool(os.environ.get("NBGRADER_EXECUTION"))
    return tqdm(iterable, total=total, desc=desc, disable=disable, **kwargs)
