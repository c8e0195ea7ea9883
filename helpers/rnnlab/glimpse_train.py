"""Training and evaluating a glimpse classifier (notebook 08, section 1): recipes that CALL the student's model.

The glimpses are extracted once, by the student's ``extract_glimpses``, at all nine cell centres of every scene:
``glimpses`` float32 (N, 9, g, g) and ``locs`` float32 (N, 9, 2) (``rnnlab.glimpse_data.normalised_locations``),
in a per-scene visiting order (``glimpse_orders``). A model is any ``nn.Module`` whose
``forward(glimpses (N, K, g, g), locs (N, K, 2)) -> logits (N, C)`` folds the K glimpses in order.

>>> losses = train_glimpse_classifier(model, glimpses, locs, labels, steps=1500)
>>> acc = accuracy_by_glimpses(model, glimpses, locs, labels)      # (9,): accuracy after 1, 2, ..., 9 glimpses

Nothing here classifies by itself: every number comes from the model it is given.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .runtime import progress

__all__ = ["train_glimpse_classifier", "glimpse_logits", "accuracy_by_glimpses", "probability_after_each_glimpse"]


def _tensor(x, device, dtype=None):
    t = torch.as_tensor(np.asarray(x)) if not isinstance(x, torch.Tensor) else x
    return t.to(device=device, dtype=dtype) if dtype is not None else t.to(device)


def train_glimpse_classifier(model, glimpses, locs, labels, steps: int = 1500, batch_size: int = 128,
                             lr: float = 3e-3, min_glimpses: int = 1, seed: int = 0, desc: str = "glimpses"):
    """Train ``model`` with Adam on a cross-entropy loss. Every step draws a batch of scenes and a number of
    glimpses K uniformly from min_glimpses..9 and feeds the first K glimpses of each scene's order, so that one
    model learns to answer after any number of glimpses. glimpses (N, 9, g, g), locs (N, 9, 2), labels (N,).
    The model stays on its device; the data follows it. Returns the training losses (one per step)."""
    device = next(model.parameters()).device
    g = _tensor(glimpses, device, torch.float32)
    l = _tensor(locs, device, torch.float32)
    y = _tensor(labels, device, torch.long)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1), eta_min=lr / 20)
    losses = []
    model.train()
    for _ in progress(range(steps), desc=desc):
        idx = torch.as_tensor(rng.integers(len(y), size=batch_size), device=device)
        k = int(rng.integers(min_glimpses, g.shape[1] + 1))
        loss = F.cross_entropy(model(g[idx, :k], l[idx, :k]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        losses.append(loss.item())
    model.eval()
    return losses


@torch.no_grad()
def glimpse_logits(model, glimpses, locs, k: int, batch_size: int = 1000) -> torch.Tensor:
    """The model's logits (N, C) on CPU after the first ``k`` glimpses of every scene, in batches."""
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(glimpses), batch_size):
        g = _tensor(glimpses[start:start + batch_size, :k], device, torch.float32)
        l = _tensor(locs[start:start + batch_size, :k], device, torch.float32)
        out.append(model(g, l).float().cpu())
    return torch.cat(out)


def accuracy_by_glimpses(model, glimpses, locs, labels) -> np.ndarray:
    """float (K,): the model's accuracy after 1, 2, ..., K glimpses (K = glimpses.shape[1])."""
    y = torch.as_tensor(np.asarray(labels))
    return np.array([float((glimpse_logits(model, glimpses, locs, k).argmax(1) == y).float().mean())
                     for k in range(1, glimpses.shape[1] + 1)])


def probability_after_each_glimpse(model, glimpses, locs, cls: int = 1) -> np.ndarray:
    """float (N, K): the model's probability of class ``cls`` after 1, 2, ..., K glimpses of every scene."""
    return np.stack([torch.softmax(glimpse_logits(model, glimpses, locs, k), dim=1)[:, cls].numpy()
                     for k in range(1, glimpses.shape[1] + 1)], axis=1)
