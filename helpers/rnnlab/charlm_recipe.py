"""The training recipe of notebook 03 (character language model): recipes per device, ``fit`` and ``evaluate``.

``fit`` trains any model with CharLM's interface (``model(x, state) -> (logits (N, T, V), state)``) with truncated
backpropagation through time for a wall-clock budget, calling **the train_step function it is given** (the
student's) for every update; it never computes an update itself. ``evaluate`` measures the mean cross-entropy in
nats per character over a whole id sequence. ``choose_recipe`` picks the sizes and settings tuned for a device
(float32 CPU, CPU with AMX bfloat16 units, CUDA GPU). Why these settings: ``docs/PERFORMANCE.md``.

Used by ``solutions/03_char_lm`` (sections 6 and 9) and ``bench/bench_charlm.py``.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from .batching import StreamBatcher
from .charlm_threads import ThreadTuner, cpu_threads
from .runtime import progress
from .schedules import warmup_cosine

__all__ = ["RECIPES", "MODEL_KEYS", "cpu_has_amx", "choose_recipe", "fit", "evaluate"]

RECIPES = {
    # CPUs with AMX (bfloat16 matrix units): a wider LSTM, matrix products in bfloat16 under autocast.
    "cpu-bf16": dict(embed_dim=64, hidden_size=512, num_layers=1, dropout=0.0, batch_size=64, seq_len=64, lr=1e-2,
                     warmup_frac=0.02, final_lr_frac=0.05, weight_decay=0.0, max_norm=1.0, budget_s=145.0),
    # Other CPUs (float32): a narrower LSTM that makes more passes over the text in the same time.
    "cpu": dict(embed_dim=64, hidden_size=256, num_layers=1, dropout=0.0, batch_size=64, seq_len=64, lr=1e-2,
                warmup_frac=0.02, final_lr_frac=0.05, weight_decay=0.0, max_norm=1.0, budget_s=145.0),
    # GPUs (cuDNN, TF32 matrix products): a bigger, regularised model. Measured on an H100 with a 100 s budget: the
    # validation loss was lowest (1.49) after 25 s, about 20 passes over the text, and rose after that (1.98 at
    # 100 s): the model overfits. Hence the short budget (1.516 after 30 s on an H100); bench/bench_charlm.py keeps
    # the best of 20 checkpoints.
    "cuda": dict(embed_dim=64, hidden_size=768, num_layers=2, dropout=0.25, batch_size=128, seq_len=128, lr=2e-3,
                 warmup_frac=0.02, final_lr_frac=0.05, weight_decay=0.0, max_norm=1.0, budget_s=30.0),
}
MODEL_KEYS = ("embed_dim", "hidden_size", "num_layers", "dropout")   # the rest of a recipe goes to fit()


def cpu_has_amx() -> bool:
    """True on CPUs with AMX tiles (fast bfloat16 matrix products), e.g. Intel Xeon 4th generation and later."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(probe()) if probe is not None else False
    except Exception:
        return False


def choose_recipe(device: torch.device):
    """The recipe for a device: (name, a copy of the recipe dict, autocast dtype or None for float32).

    On CUDA it also allows TF32 matrix products. Split a recipe with ``MODEL_KEYS``: those go to the model's
    constructor, the rest to :func:`fit`.
    """
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        return "cuda", dict(RECIPES["cuda"]), None
    if device.type == "cpu" and cpu_has_amx():
        return "cpu-bf16", dict(RECIPES["cpu-bf16"]), torch.bfloat16
    return "cpu", dict(RECIPES["cpu"]), None


def fit(model, train_ids, train_step, *, batch_size=64, seq_len=64, lr=3e-3, budget_s=None, max_iters=None,
        warmup_frac=0.02, final_lr_frac=0.05, weight_decay=0.0, max_norm=1.0, reset_prob=0.02, amp_dtype=None,
        seed=0, checkpoints=(), on_checkpoint=None, progress_bar=True, tune_threads=True):
    """Train ``model`` on ``train_ids`` with truncated BPTT until ``budget_s`` seconds of wall-clock time or
    ``max_iters`` iterations, whichever comes first.

    - model: ``model(x, state) -> (logits (N, T, V), state)``, like notebook 03's CharLM
    - train_ids: int array (L,) of character ids, read as ``batch_size`` contiguous streams of ``seq_len``
      (``StreamBatcher``); every pass starts from a zero state, later passes at a random offset in [0, seq_len)
    - train_step: ``train_step(model, optimizer, x, y, state, max_norm) -> (loss float, detached state)``, the
      function that makes one update (yours, from notebook 03); called with an AdamW optimizer, betas (0.9, 0.99)

    The learning rate is ``lr * warmup_cosine(fraction of the run done, warmup_frac, final_lr_frac)``.
    reset_prob: before each batch, every row's carried state is reset to zeros with this probability, so that the
    model also learns to start from nothing (as it does when it samples). amp_dtype: None (float32) or a dtype for
    ``torch.autocast``. checkpoints: fractions of the run (0 to 1) at which ``on_checkpoint(model, info)`` is called
    (info: iter, time, frac); the time it takes is not counted in the budget. tune_threads: on a CPU, let a
    ``ThreadTuner`` pick the number of threads. Returns a history dict: iters, epochs, train_s, threads, and
    per-iteration lists "time" (training seconds so far), "loss" and "lr".
    """
    if budget_s is None and max_iters is None:
        raise ValueError("give a time budget (budget_s), a number of iterations (max_iters), or both")
    start = time.perf_counter()
    paused = 0.0                                           # seconds spent in checkpoints, not counted
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
    tuner = ThreadTuner() if tune_threads and device.type == "cpu" else None
    rng = np.random.default_rng(seed)
    reset_gen = torch.Generator().manual_seed(seed)
    hist = {"time": [], "loss": [], "lr": []}
    pending = sorted(checkpoints)
    it, passes, done, step_times = 0, 0, False, []

    def elapsed():
        return time.perf_counter() - start - paused

    def fraction():
        return max(elapsed() / budget_s if budget_s else 0.0, it / max_iters if max_iters else 0.0)

    def run_checkpoints(frac):
        nonlocal paused
        while pending and pending[0] <= frac:
            pending.pop(0)
            if on_checkpoint is not None:
                pause_start = time.perf_counter()
                with cpu_threads(1 if device.type == "cpu" else torch.get_num_threads()):
                    on_checkpoint(model, {"iter": it, "time": elapsed(), "frac": frac})
                model.train()
                paused += time.perf_counter() - pause_start

    bar = progress(total=max_iters if budget_s is None else round(budget_s), desc="training",
                   unit="it" if budget_s is None else "s", disable=None if progress_bar else True)
    shown = 0.0
    model.train()
    while not done:
        offset = int(rng.integers(seq_len)) if passes else 0     # later passes start at a random offset
        state = None                                             # every pass starts from zeros
        passes += 1
        for xb, yb in StreamBatcher(train_ids[offset:], batch_size, seq_len):
            frac = fraction()
            run_checkpoints(frac)
            if frac >= 1.0 or (budget_s and step_times and elapsed() + np.median(step_times) > budget_s):
                done = True                                # stop when the next step would overrun the budget
                break
            if tuner is not None:
                tuner.before_step(it, frac)
            for group in optimizer.param_groups:
                group["lr"] = lr * warmup_cosine(frac, warmup_frac, final_lr_frac)
            tick = time.perf_counter()
            if reset_prob > 0 and state is not None:
                keep = (torch.rand(batch_size, generator=reset_gen) >= reset_prob).to(device).view(1, -1, 1)
                state = (tuple(s * keep.to(s.dtype) for s in state) if isinstance(state, tuple)
                         else state * keep.to(state.dtype))
            x = torch.from_numpy(xb).to(device, non_blocking=True)
            y = torch.from_numpy(yb).to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=amp_dtype or torch.bfloat16, enabled=amp_dtype is not None):
                loss, state = train_step(model, optimizer, x, y, state, max_norm)
            step_times.append(time.perf_counter() - tick)
            del step_times[:-10]
            if tuner is not None:
                tuner.after_step(step_times[-1])
            it += 1
            hist["time"].append(elapsed())
            hist["loss"].append(loss)
            hist["lr"].append(optimizer.param_groups[0]["lr"])
            if budget_s is None:
                bar.update(1)
            elif min(hist["time"][-1], budget_s) - shown >= 1.0:
                bar.update(min(hist["time"][-1], budget_s) - shown)
                shown = min(hist["time"][-1], budget_s)
            if it % 20 == 0:
                bar.set_postfix(loss=f"{np.mean(hist['loss'][-20:]):.3f}", refresh=False)
    train_s = elapsed()
    run_checkpoints(1.0)
    bar.close()
    if tuner is not None:
        torch.set_num_threads(tuner.best)
    hist.update(iters=it, train_s=train_s, epochs=it * batch_size * seq_len / len(train_ids),
                threads=torch.get_num_threads())
    return hist


def evaluate(model, ids, batch_size=128, seq_len=256, amp_dtype=None) -> float:
    """Mean cross-entropy, in nats per character, of predicting ids[1:] from what precedes them, over ALL of ``ids``.

    model: ``model(x (N, T), state) -> (logits (N, T, V), state)``; ids: int array (L,).

    The text is cut into `batch_size` contiguous streams (the last one padded; padding is not counted), read
    `seq_len` characters at a time with the state carried; no gradients; on a CPU with one thread (see
    ThreadTuner). The model's mode is restored at the end.
    """
    device = next(model.parameters()).device
    ids = np.asarray(ids, dtype=np.int64)
    M = len(ids) - 1                                       # the number of predictions
    batch_size = max(1, min(batch_size, M))
    n = -(-M // batch_size)                                # characters per stream (rounded up)
    x = np.zeros(n * batch_size, dtype=np.int64)
    y = np.full(n * batch_size, -100, dtype=np.int64)      # -100: ignored by cross_entropy
    x[:M], y[:M] = ids[:-1], ids[1:]
    x = torch.from_numpy(x.reshape(batch_size, n)).to(device)
    y = torch.from_numpy(y.reshape(batch_size, n)).to(device)
    was_training = model.training
    model.eval()
    total, state = 0.0, None
    with torch.inference_mode(), cpu_threads(1 if device.type == "cpu" else torch.get_num_threads()), \
            torch.autocast(device.type, dtype=amp_dtype or torch.bfloat16, enabled=amp_dtype is not None):
        for s in range(0, n, seq_len):
            logits, state = model(x[:, s:s + seq_len], state)
            total += F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y[:, s:s + seq_len].reshape(-1),
                                     ignore_index=-100, reduction="sum").item()
    model.train(was_training)
    return total / M