"""Drawing an image one row at a time (notebook 08, section 2): the data, the model, its teacher-forced training.

>>> images, labels = make_binary_shapes(6000, seed=0)      # float32 (N, 16, 16) of 0/1, one shape each
>>> model = RowDrawer(width=16, hidden_size=256)
>>> losses = train_drawer(model, images, steps=2000)

**The data.** Small binary images of one shape of the workbook's shapes world (``rnnlab.captions.SHAPES``: circle,
square, triangle, diamond), of random size and position; 1 inside the shape, 0 outside. Deterministic (seeded with
``[seed, DRAWING_DATA_VERSION]``).

**The model.** ``RowDrawer`` is an autoregressive model of the rows of an image: an LSTM reads the previous row
and gives, for every pixel of the next row, the logit of its probability of being 1,

    p(x) = prod_t prod_j  p(x[t, j] | x[0], ..., x[t - 1]),      p(x[t, j] = 1 | ...) = sigmoid(logits[t, j]),

the pixels of one row independent of each other given the rows above. Its input before the first row is a row of
zeros (``start_rows``). ``model.step(prev_row (N, W), state) -> (logits (N, W), state)`` advances it by one row
(``state=None`` at the start); ``model(rows_in (N, T, W), state=None) -> (logits (N, T, W), state)`` runs T rows at
once. Training is teacher-forced: the inputs are the TRUE rows shifted down by one, and the loss is the binary
cross-entropy of every pixel (``drawing_nll``, in nats per pixel).

Sampling from the model (feeding each sampled row back) is the notebook's exercise and is not here.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .captions import SHAPES, _coverage
from .runtime import progress

__all__ = ["DRAWING_DATA_VERSION", "make_binary_shapes", "RowDrawer", "start_rows", "teacher_forced_inputs",
           "drawing_nll", "train_drawer", "show_image_grid"]

DRAWING_DATA_VERSION = 1      # bump when the generator's output changes


def make_binary_shapes(n: int = 6000, seed: int = 0, size: int = 16, half_sizes=(3.0, 6.5)):
    """``n`` binary images, float32 (n, size, size) of 0 and 1, one shape each (balanced over SHAPES), of
    half-size drawn uniformly from ``half_sizes`` (pixels), anywhere the shape fits. Returns (images, labels),
    labels int64 (n,), an index into SHAPES. Deterministic for given arguments."""
    rng = np.random.default_rng([int(seed), DRAWING_DATA_VERSION])
    labels = rng.permutation(np.arange(n) % len(SHAPES)).astype(np.int64)
    yy, xx = np.mgrid[:size, :size].astype(np.float64)
    images = np.zeros((n, size, size), dtype=np.float32)
    for i in range(n):
        r = rng.uniform(*half_sizes)
        cx, cy = rng.uniform(r - 0.5, size - r - 0.5, size=2)
        images[i] = _coverage(SHAPES[labels[i]], (xx - cx) / r, (yy - cy) / r)
    return images, labels


class RowDrawer(nn.Module):
    """An LSTM over the rows of an image: reads row t - 1, gives the logits of row t (see the module docstring).

    RowDrawer(width=16, hidden_size=256); attributes rnn (nn.LSTM, batch_first), head (nn.Linear(hidden, width)).
    """

    def __init__(self, width: int = 16, hidden_size: int = 256):
        super().__init__()
        self.width = width
        self.rnn = nn.LSTM(width, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, width)

    def forward(self, rows_in, state=None):
        """rows_in: (N, T, W) float; state: None or the LSTM's (h, c). Returns (logits (N, T, W), state)."""
        out, state = self.rnn(rows_in, state)
        return self.head(out), state

    def step(self, prev_row, state=None):
        """prev_row: (N, W) float, the row above (zeros before the first row). Returns (logits (N, W), state)."""
        logits, state = self.forward(prev_row[:, None, :], state)
        return logits[:, 0], state


def start_rows(n: int, width: int, device=None) -> torch.Tensor:
    """The input before the first row: zeros (n, width)."""
    return torch.zeros(n, width, device=device)


def teacher_forced_inputs(images: torch.Tensor) -> torch.Tensor:
    """images (N, T, W) -> the inputs of teacher forcing (N, T, W): the start row, then rows 0 .. T - 2."""
    return torch.cat([torch.zeros_like(images[:, :1]), images[:, :-1]], dim=1)


def drawing_nll(model, images: torch.Tensor) -> torch.Tensor:
    """The teacher-forced loss: mean binary cross-entropy per pixel (nats), images (N, T, W) of 0/1 floats."""
    logits, _ = model(teacher_forced_inputs(images))
    return F.binary_cross_entropy_with_logits(logits, images)


def train_drawer(model, images, steps: int = 2000, batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
                 val_images=None, eval_every: int = 200, desc: str = "drawer"):
    """Train ``model`` with Adam (cosine-decayed learning rate, gradients clipped to norm 1) on ``drawing_nll``.
    images: (N, T, W) array or tensor of 0/1. Returns {"train": losses per step, "val": [(step, val loss)]}."""
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32).to(device)
    xv = None if val_images is None else torch.as_tensor(np.asarray(val_images), dtype=torch.float32).to(device)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1), eta_min=lr / 20)
    history = {"train": [], "val": []}
    for step in progress(range(steps), desc=desc):
        model.train()
        loss = drawing_nll(model, x[torch.as_tensor(rng.integers(len(x), size=batch_size), device=device)])
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        schedule.step()
        history["train"].append(loss.item())
        if xv is not None and ((step + 1) % eval_every == 0 or step + 1 == steps):
            model.eval()
            with torch.no_grad():
                history["val"].append((step + 1, float(drawing_nll(model, xv))))
    model.eval()
    return history


def show_image_grid(images, ncols: int = 8, titles=None, title: str = "", size: float = 1.1, prefix_rows=None):
    """Binary or grey images (n, H, W) in a grid; ``prefix_rows`` (int): draw a red line under that many rows
    (the part that was given, for completions). Returns the figure."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        if prefix_rows:
            ax.axhline(prefix_rows - 0.5, color="tab:red", lw=1)
        if titles is not None:
            ax.set_title(titles[i], fontsize=7, pad=2)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
