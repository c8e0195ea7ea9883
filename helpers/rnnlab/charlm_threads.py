"""CPU thread control for training and evaluation on a shared machine (notebook 03's recipe).

PyTorch uses every core by default. When other busy programs share the cores, its threads keep waiting for each
other, and one thread can be many times faster than all of them. :class:`cpu_threads` runs a block with a given
number of threads; :class:`ThreadTuner` picks the faster setting during training by timing the steps themselves.
See ``docs/PERFORMANCE.md``.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["cpu_threads", "ThreadTuner"]


class cpu_threads:
    """Context manager: use ``n`` CPU threads inside the block, then restore the previous number. Small computations
    (evaluation, sampling one character at a time) are about as fast on one thread, and one thread never waits."""

    def __init__(self, n: int = 1):
        self.n = n

    def __enter__(self):
        self.saved = torch.get_num_threads()
        torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        torch.set_num_threads(self.saved)


class ThreadTuner:
    """Keeps PyTorch on the fastest number of CPU threads during training, by timing the training steps themselves.

    The tuner first gives each candidate (1 thread, and all of them) ``trial`` steps, then keeps the fastest; every
    ``every`` steps it gives the other candidates a new short trial, stopped at once if a step is much slower than
    usual. It changes torch's global thread count, and leaves it at the fastest setting found.

    Use: ``tuner.before_step(it, frac)`` before step ``it`` (``frac``: the fraction of the run done, 0 to 1), then
    ``tuner.after_step(seconds)`` with the step's wall-clock time; ``tuner.best`` is the fastest count so far.
    """

    def __init__(self, every: int = 300, trial: int = 3):
        n = torch.get_num_threads()
        self.candidates = [1] if n == 1 else [1, n]
        self.every, self.trial = every, trial
        self.recent = {c: [] for c in self.candidates}        # the last step times (s) with each thread count
        self.best = self.current = 1
        self.queue = [c for c in self.candidates for _ in range(trial)] if n > 1 else []

    def typical(self, c: int) -> float:
        """The median of the last step times with ``c`` threads (inf when there are none)."""
        return float(np.median(self.recent[c])) if self.recent[c] else float("inf")

    def before_step(self, it: int, frac: float = 0.0) -> None:
        """Set the thread count for step ``it``; no new trials in the last 10 % (``frac``) of a run."""
        if not self.queue and it % self.every == 0 and len(self.candidates) > 1 and frac < 0.9:
            others = [c for c in self.candidates if c != self.best]
            for c in others:
                self.recent[c] = []
            self.queue = [c for c in others for _ in range(self.trial)]
        self.current = self.queue[0] if self.queue else self.best
        if torch.get_num_threads() != self.current:
            torch.set_num_threads(self.current)

    def after_step(self, seconds: float) -> None:
        """Record the wall-clock time of the step just made with ``self.current`` threads."""
        times = self.recent[self.current]
        times.append(seconds)
        del times[:-10]
        if self.queue:
            self.queue.pop(0)
            if self.current != self.best and seconds > 3 * self.typical(self.best):
                self.queue = [c for c in self.queue if c != self.current]      # far slower: stop this trial
            if not self.queue:
                self.best = min(self.candidates, key=self.typical)
