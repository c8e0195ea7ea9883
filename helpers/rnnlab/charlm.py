"""Pieces of notebook 03 (character language model) that are not exercises.

- :func:`count_model_loss`: the validation loss of the counting baselines (unigram, bigram), nats per character;
- :class:`OwnLSTM`: a stack of LSTM layers with the interface of ``nn.LSTM(..., batch_first=True)`` whose every
  time step calls **the step function it is given** (the student's ``lstm_step``); it computes no step itself.

The training recipe is in :mod:`rnnlab.charlm_recipe`, the test-cell helpers in :mod:`rnnlab.charlm_testing`.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .gates import TORCH_ORDER, WORKBOOK_ORDER, reorder_gates

__all__ = ["count_model_loss", "OwnLSTM"]


def count_model_loss(train_ids, val_ids, vocab_size: int, order: int) -> float:
    """Validation loss (nats/char) of a counting model with add-one smoothing: order 0 = unigram, 1 = bigram.

    train_ids: int array (L,) the counts come from; val_ids: int array (M,), each id after the first is predicted
    (from nothing for the unigram, from the id before it for the bigram).
    """
    train_ids, val_ids = np.asarray(train_ids), np.asarray(val_ids)
    if order == 0:
        probs = np.bincount(train_ids, minlength=vocab_size) + 1.0
        probs /= probs.sum()
        return float(-np.mean(np.log(probs[val_ids[1:]])))
    if order != 1:
        raise ValueError(f"order must be 0 (unigram) or 1 (bigram), not {order!r}")
    counts = np.ones((vocab_size, vocab_size))
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)   # counts[a, b]: how often b follows a
    probs = counts / counts.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(probs[val_ids[:-1], val_ids[1:]])))


class OwnLSTM(nn.Module):
    """A stack of LSTM layers made of a given step function, with the interface of nn.LSTM(..., batch_first=True).

    OwnLSTM(input_size, hidden_size, num_layers=1, batch_first=True, dropout=0.0, *, step):
    step(x (N, D), prev_h (N, H), prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)) -> (next_h, next_c), gate blocks
    in the workbook's order i, f, o, g (notebook 03's lstm_step).

    forward(x, state=None): x (N, T, D); state None (zeros) or a pair (h0, c0), each (num_layers, N, H).
    Returns out (N, T, H), the top layer's hidden states, and the final state (h_n, c_n), each (num_layers, N, H).
    Layer l has parameters Wx[l] (D_l, 4H), Wh[l] (H, 4H) and b[l] (4H,); dropout (training mode only) acts
    between layers, as in nn.LSTM.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, batch_first=True, dropout=0.0, *, step):
        super().__init__()
        if not batch_first:
            raise ValueError("OwnLSTM only supports batch_first=True")
        if not callable(step):
            raise TypeError("step must be a function step(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c)")
        self.step = step
        self.input_size, self.hidden_size, self.num_layers, self.dropout = (input_size, hidden_size, num_layers,
                                                                            dropout)
        bound = 1 / math.sqrt(hidden_size)               # PyTorch's initialisation: U(-1/sqrt(H), 1/sqrt(H))

        def uniform(*shape):
            return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))

        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.Wx = nn.ParameterList([uniform(d, 4 * hidden_size) for d in sizes])
        self.Wh = nn.ParameterList([uniform(hidden_size, 4 * hidden_size) for _ in sizes])
        self.b = nn.ParameterList([uniform(4 * hidden_size) for _ in sizes])

    def forward(self, x, state=None):
        N, T, _ = x.shape
        if state is None:
            zeros = x.new_zeros(self.num_layers, N, self.hidden_size)
            state = (zeros, zeros)
        h0, c0 = state
        layer_input, h_n, c_n = x, [], []
        for l in range(self.num_layers):
            if l > 0 and self.dropout > 0:
                layer_input = F.dropout(layer_input, self.dropout, self.training)
            h, c = h0[l], c0[l]
            outputs = []
            for t in range(T):
                h, c = self.step(layer_input[:, t], h, c, self.Wx[l], self.Wh[l], self.b[l])
                outputs.append(h)
            layer_input = torch.stack(outputs, dim=1)
            h_n.append(h)
            c_n.append(c)
        return layer_input, (torch.stack(h_n), torch.stack(c_n))

    @torch.no_grad()
    def copy_from(self, lstm: nn.LSTM) -> "OwnLSTM":
        """Load the weights of an nn.LSTM of the same sizes: transpose, reorder the gates, add the two biases."""
        for l in range(self.num_layers):
            w_ih, w_hh = getattr(lstm, f"weight_ih_l{l}"), getattr(lstm, f"weight_hh_l{l}")
            bias = getattr(lstm, f"bias_ih_l{l}") + getattr(lstm, f"bias_hh_l{l}")
            self.Wx[l].copy_(reorder_gates(w_ih.T, TORCH_ORDER, WORKBOOK_ORDER))
            self.Wh[l].copy_(reorder_gates(w_hh.T, TORCH_ORDER, WORKBOOK_ORDER))
            self.b[l].copy_(reorder_gates(bias, TORCH_ORDER, WORKBOOK_ORDER))
        return self
