"""Learning-rate schedules for the training recipes."""
from __future__ import annotations

import math

__all__ = ["warmup_cosine"]


def warmup_cosine(frac: float, warmup_frac: float = 0.02, final_lr_frac: float = 0.05,
                  start_frac: float = 0.01) -> float:
    """Learning-rate multiplier after a fraction ``frac`` (0 to 1) of a run.

    A linear warm-up from ``start_frac`` to 1 over the first ``warmup_frac`` of the run, then a cosine decay to
    ``final_lr_frac`` at the end. Multiply the peak learning rate by it at every step.
    """
    if frac < warmup_frac:
        return max(frac / warmup_frac, start_frac)
    progress = min(1.0, (frac - warmup_frac) / (1.0 - warmup_frac))
    return final_lr_frac + (1.0 - final_lr_frac) * 0.5 * (1.0 + math.cos(math.pi * progress))
