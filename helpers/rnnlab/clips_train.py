"""The training recipe of the sequence-classification notebook (06): train and run YOUR models on padded batches.

>>> train = clip_tensors(make_motion_clips(4000, seed=0), "labels")   # {"x", "lengths", "y"} CPU tensors
>>> losses = fit(model, train, steps=1000, loss_fn=lambda out, y, lengths: F.cross_entropy(out, y), device=device)
>>> logits = predict(model, train, device=device)                    # (N, C) float32 on the CPU

Nothing here computes a graded answer: the model and the loss are passed in (the notebook passes the ones you
wrote). What this module adds is the loop around them:

- ``clip_tensors``: a ``ClipSet``'s frames, lengths and one kind of labels as CPU tensors;
- ``rows_as_sequence`` / ``image_rows``: images read one pixel row per step, for a many-to-one classifier;
- ``crop_batch``: some examples of such a data set, cropped to the longest of them and moved to the device;
- ``fit``: Adam with a cosine-decaying learning rate (``rnnlab.schedules.warmup_cosine`` without warm-up, down to
  0) and gradient clipping at a global norm of 1, on random batches cropped to their longest member;
- ``predict``: the model's outputs for a whole data set, in batches, in eval mode, on the CPU as float32.

A data set is a dict of CPU tensors: ``x`` (N, T, ...) (uint8 frames or float steps), ``lengths`` int64 (N,) and
``y``: int64 (N,) (one label per sequence) or (N, T) (one label per step, any value at padded steps).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .runtime import progress
from .schedules import warmup_cosine

__all__ = ["clip_tensors", "rows_as_sequence", "image_rows", "crop_batch", "fit", "predict"]


def clip_tensors(clips, target: str) -> dict:
    """A ``rnnlab.clips.ClipSet`` as a data set of CPU tensors: ``x`` uint8 (N, T, S, S), ``lengths`` int64 (N,),
    ``y`` the attribute ``target`` of the clips: ``"labels"`` (N,) or ``"heading"`` (N, T)."""
    if target not in ("labels", "heading", "bounces"):
        raise ValueError(f"target must be 'labels', 'heading' or 'bounces', not {target!r}")
    return {"x": torch.from_numpy(clips.frames), "lengths": torch.from_numpy(clips.lengths),
            "y": torch.from_numpy(getattr(clips, target))}


def rows_as_sequence(images) -> torch.Tensor:
    """uint8 images (N, S, S, 3) -> float32 (N, S, 3 S): one step per pixel row, its RGB values scaled to [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must have shape (N, S, S, channels), got {images.shape}")
    return torch.from_numpy(images).float().div(255).reshape(len(images), images.shape[1], -1)


def image_rows(images, labels) -> dict:
    """A data set of images read row by row: ``x`` = rows_as_sequence(images) (N, S, 3 S), ``lengths`` all S,
    ``y`` int64 (N,) = labels."""
    x = rows_as_sequence(images)
    return {"x": x, "lengths": torch.full((len(x),), x.shape[1], dtype=torch.int64),
            "y": torch.as_tensor(np.asarray(labels), dtype=torch.int64)}


def crop_batch(data: dict, idx, device=None):
    """(x, lengths, y) of the examples ``idx`` of ``data``, cut to T = the longest of their lengths (the steps after
    it are padding for every one of them) and moved to ``device``: x (B, T, ...), lengths (B,), y (B,) or (B, T)."""
    idx = torch.as_tensor(idx)
    lengths = data["lengths"][idx]
    T = int(lengths.max())
    y = data["y"][idx]
    if y.dim() == 2:
        y = y[:, :T]
    return data["x"][idx, :T].to(device), lengths.to(device), y.to(device)


def fit(model, data: dict, steps: int, loss_fn: Callable, lr: float = 3e-3, batch_size: int = 64, seed: int = 0,
        device=None, desc: str = "training") -> list[float]:
    """Train ``model`` for ``steps`` Adam steps on random batches of ``data`` (drawn with replacement, seeded by
    ``seed``, each cropped by ``crop_batch``); the learning rate decays from ``lr`` to 0 along a cosine, and the
    gradients are clipped to a global norm of 1. ``loss_fn(model(x, lengths), y, lengths)`` gives each batch's
    loss. Leaves the model in eval mode; returns the loss of every step (floats)."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for step in progress(range(steps), desc=desc):
        for group in opt.param_groups:
            group["lr"] = lr * warmup_cosine(step / steps, warmup_frac=0.0, final_lr_frac=0.0)
        idx = torch.randint(len(data["x"]), (batch_size,), generator=gen)
        x, lengths, y = crop_batch(data, idx, device)
        loss = loss_fn(model(x, lengths), y, lengths)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(loss.item())
    model.eval()
    return losses


@torch.no_grad()
def predict(model, data: dict, lengths=None, batch_size: int = 256, device=None) -> torch.Tensor:
    """``model(x, lengths)`` for the whole data set, in batches of ``batch_size``, in eval mode: float32 on the CPU,
    (N, ...) (whatever the model returns per batch, concatenated). ``lengths`` (N,) replaces ``data["lengths"]``
    (for example the full length for every sequence, or t to ask for the prediction after t steps)."""
    model.eval()
    lengths = data["lengths"] if lengths is None else torch.as_tensor(lengths)
    if len(lengths) != len(data["x"]):
        raise ValueError(f"lengths has {len(lengths)} entries for {len(data['x'])} examples")
    outs = []
    for i in range(0, len(data["x"]), batch_size):
        x = data["x"][i:i + batch_size].to(device)
        outs.append(model(x, lengths[i:i + batch_size].to(device)).float().cpu())
    return torch.cat(outs)
