"""Batches for truncated backpropagation through time."""
from __future__ import annotations

import numpy as np

__all__ = ["StreamBatcher"]


class StreamBatcher:
    """Cut one long id sequence into ``batch_size`` contiguous streams and walk them ``seq_len`` steps at a time.

    Row i of batch k continues exactly where row i of batch k-1 stopped, so a model can carry its hidden state
    from one batch to the next (detached: gradients stop at the batch boundary). Targets are the inputs shifted
    by one character.

    ids: int array (L,). Each item is (x, y), both int64 (batch_size, seq_len). len() is the batches per epoch.
    """

    def __init__(self, ids, batch_size: int, seq_len: int):
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if batch_size < 1 or seq_len < 1:
            raise ValueError("batch_size and seq_len must be positive")
        stream = (len(ids) - 1) // batch_size
        if stream < seq_len:
            raise ValueError(f"{len(ids)} ids are too few for {batch_size} streams of at least {seq_len + 1}")
        self.batch_size, self.seq_len = batch_size, seq_len
        self.x = ids[: stream * batch_size].reshape(batch_size, stream)
        self.y = ids[1: stream * batch_size + 1].reshape(batch_size, stream)  # row i: stream i shifted by one

    def __len__(self) -> int:
        return self.x.shape[1] // self.seq_len

    def __iter__(self):
        for k in range(len(self)):
            s = slice(k * self.seq_len, (k + 1) * self.seq_len)
            yield self.x[:, s], self.y[:, s]
