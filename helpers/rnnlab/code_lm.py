"""The character model of source code in notebook 07: a small LSTM language model, its training recipe and a
batch sampler. None of it is an exercise (notebook 03 is where you write a model, a training step and a sampler;
this module uses PyTorch's own layers and a different recipe).

- :class:`CodeLSTM`: ``nn.Embedding`` -> one ``nn.LSTM`` layer -> ``nn.Linear``; ``forward(x, state)`` returns
  ``(logits, state)``, so :func:`rnnlab.charlm_recipe.evaluate` and :func:`rnnlab.charlm_units.record_states`
  work with it;
- :func:`train_code_lm`: trains on random windows of the training text, each read from a zero state (no state
  carried between batches), with AdamW, gradient clipping and a warm-up/cosine schedule on wall-clock time;
- :func:`code_samples`: several samples at once, drawn at a temperature from a private seeded generator.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .runtime import progress
from .schedules import warmup_cosine

__all__ = ["CodeLSTM", "train_code_lm", "code_samples"]


class CodeLSTM(nn.Module):
    """A character LSTM for code: CodeLSTM(vocab_size, hidden_size=256, table_dim=32).

    Attributes: ``table`` (nn.Embedding(vocab_size, table_dim)), ``lstm`` (nn.LSTM(table_dim, hidden_size),
    batch first, one layer), ``head`` (nn.Linear(hidden_size, vocab_size)).
    forward(x int64 (N, T), state=None or (h, c) each (1, N, H)) -> (logits (N, T, vocab_size), (h, c)).
    """

    def __init__(self, vocab_size: int, hidden_size: int = 256, table_dim: int = 32):
        super().__init__()
        self.table = nn.Embedding(vocab_size, table_dim)
        self.lstm = nn.LSTM(table_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):
        out, state = self.lstm(self.table(x), state)
        return self.head(out), state


def train_code_lm(model, train_ids, *, budget_s: float | None = None, max_iters: int | None = None,
                  batch_size: int = 32, seq_len: int = 200, lr: float = 4e-3, max_norm: float = 1.0,
                  warmup_frac: float = 0.03, final_lr_frac: float = 0.05, seed: int = 0,
                  progress_bar: bool = True) -> dict:
    """Train ``model`` (``model(x, state) -> (logits, state)``) on random windows of ``train_ids`` (int array (L,))
    until ``budget_s`` seconds of training or ``max_iters`` updates, whichever comes first.

    Every update reads ``batch_size`` windows of ``seq_len + 1`` characters starting at random places, each from a
    zero state, predicts characters 1..seq_len from those before them (mean cross-entropy), clips the gradient's
    global norm to ``max_norm`` and takes an AdamW step (learning rate ``lr * warmup_cosine(fraction done)``).
    Returns a history: iters, train_s and per-update lists "time" (seconds so far) and "loss" (nats/char).
    """
    if budget_s is None and max_iters is None:
        raise ValueError("give a time budget (budget_s), a number of updates (max_iters), or both")
    ids = torch.as_tensor(np.asarray(train_ids, dtype=np.int64))
    if len(ids) <= seq_len + 1:
        raise ValueError(f"the training text ({len(ids)} ids) is shorter than one window of {seq_len + 1}")
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    offsets = torch.arange(seq_len + 1)
    hist = {"time": [], "loss": []}
    bar = progress(total=max_iters if budget_s is None else round(budget_s), desc="training",
                   unit="it" if budget_s is None else "s", disable=None if progress_bar else True)
    start, shown, it = time.perf_counter(), 0.0, 0
    model.train()
    while True:
        elapsed = time.perf_counter() - start
        frac = max(elapsed / budget_s if budget_s else 0.0, it / max_iters if max_iters else 0.0)
        if frac >= 1.0:
            break
        for group in optimizer.param_groups:
            group["lr"] = lr * warmup_cosine(frac, warmup_frac, final_lr_frac)
        starts = torch.randint(0, len(ids) - seq_len - 1, (batch_size, 1), generator=gen)
        window = ids[starts + offsets].to(device)                    # (N, seq_len + 1)
        logits, _ = model(window[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), window[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        it += 1
        hist["time"].append(time.perf_counter() - start)
        hist["loss"].append(loss.item())
        if budget_s is None:
            bar.update(1)
        elif min(hist["time"][-1], budget_s) - shown >= 1.0:
            bar.update(min(hist["time"][-1], budget_s) - shown)
            shown = min(hist["time"][-1], budget_s)
    bar.close()
    hist.update(iters=it, train_s=time.perf_counter() - start)
    return hist


@torch.no_grad()
def code_samples(model, vocab, prime: str, n_chars: int, n_samples: int = 3, temperature: float = 0.8,
                 seed: int = 0) -> list[str]:
    """``n_samples`` continuations of ``prime`` (a non-empty str), ``n_chars`` characters each, drawn together
    (a batch of ``n_samples``) at ``temperature`` > 0 with a private generator seeded by ``seed``.
    Returns a list of str, each the prime followed by its continuation. The model's mode is restored."""
    if not prime or temperature <= 0:
        raise ValueError("code_samples needs a non-empty prime and a temperature > 0")
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    x = torch.as_tensor(vocab.encode(prime), device=device).view(1, -1).repeat(n_samples, 1)
    logits, state = model(x)
    drawn = []
    for _ in range(n_chars):
        probs = torch.softmax(logits[:, -1].float().cpu() / temperature, dim=-1)
        nxt = torch.multinomial(probs, 1, generator=gen)              # (n_samples, 1)
        drawn.append(nxt)
        logits, state = model(nxt.to(device), state)
    model.train(was_training)
    cols = torch.cat(drawn, dim=1).numpy() if drawn else np.zeros((n_samples, 0), dtype=np.int64)
    return [prime + vocab.decode(row) for row in cols]
