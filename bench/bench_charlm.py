"""Benchmark: the character language model recipe of solutions/03_char_lm against nanoGPT's CPU baseline.

The reference to beat is nanoGPT's documented CPU recipe for Tiny Shakespeare (a character-level transformer:
block size 64, batch 12, 4 layers, 4 heads, 128 channels, 2000 iterations, dropout 0). On a 2-core machine like
the one this workbook is tested on it reaches a validation loss of 1.886 nats per character in 158 s of wall-clock
time. ``run()`` trains the notebook's recipe (``rnnlab.charlm_recipe``: ``choose_recipe``, ``fit``, ``evaluate``)
with the notebook's reference ``CharLM`` and ``train_step`` (its solution cells, the graded answers, which exist
nowhere else; loaded with ``nbload`` together with the ``lm_loss`` and ``RNN_LAYERS`` cells they use) on the same
corpus and split (the last 10 % of the characters are the
validation set) for a fixed wall-clock budget, then evaluates the validation loss on the whole split, and reports
both times. The CPU budget is 145 s of training, which leaves room for the evaluation within 150 s (and 158 s).
On a GPU the reference is nanoGPT's published Shakespeare-character result on a GPU, a validation loss of 1.4697
after about 3 minutes (issue 15): ``run()`` trains the GPU recipe, changed as ``GPU_CANDIDATE`` says (a candidate
not yet measured), for 170 s, keeps the **last** weights (no early stopping, no best checkpoint), measures the
validation loss at 10 points along the way only to show the curve, and counts everything (training, those
measurements, the final evaluation) in the GPU time it reports. The settings of a recipe can be changed for one run
with ``RNNLAB_CHARLM_SET``, a JSON object (``'{"dropout": 0.4}'``), so that a session on a lent GPU can try a second
setting without editing code; the report names the changes.

The corpus comes from the cache or from the mirror named by ``RNNLAB_DATA_MIRROR``; the benchmark refuses to fall
back to another text.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import torch

if __package__:
    from .nbload import load_solution_functions
else:  # run as a script, or imported with bench/ on sys.path
    from nbload import load_solution_functions

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "03_char_lm" / "char_lm.ipynb"
BASELINE_VAL_LOSS = 1.886   # nanoGPT's 4-layer character transformer on a 2-core CPU ...
BASELINE_S = 158            # ... in this many seconds of wall-clock time
CPU_BUDGET_S = 145.0        # training; the evaluation adds about a second (bfloat16) to a few (float32)
GPU_GOAL_VAL_LOSS = 1.4697  # nanoGPT's character-level Shakespeare transformer on a GPU ...
GPU_GOAL_S = 180            # ... in about 3 minutes: the goal is below it in at most this many seconds, all included
GPU_BUDGET_S = 170.0        # training; the 10 measurements along the way and the final evaluation fit in the rest
# The candidate for that goal: the notebook's GPU recipe (RECIPES["cuda"], tuned for 30 s) with these changes. NOT
# MEASURED YET (no GPU was lent since it was written). Why these: in 170 s an H100 makes about 100 to 160 passes over
# the text, and with dropout 0.25 the validation loss was lowest after 20 passes (1.489) and rose after that, so the
# model gets twice the dropout, decoupled weight decay, and more width (the issue asks for regularisation, not early
# stopping). When a run meets the goal, these settings move into RECIPES["cuda"] with the measured numbers.
GPU_CANDIDATE = dict(hidden_size=1024, dropout=0.5, weight_decay=0.1)
OVERRIDES_ENV = "RNNLAB_CHARLM_SET"


def recipe_overrides(recipe: dict) -> dict:
    """The settings ``RNNLAB_CHARLM_SET`` (a JSON object) changes, checked against the recipe's keys."""
    raw = os.environ.get(OVERRIDES_ENV, "").strip()
    if not raw:
        return {}
    changes = json.loads(raw)
    if not isinstance(changes, dict) or set(changes) - set(recipe):
        raise ValueError(f"{OVERRIDES_ENV} must be a JSON object with keys among {sorted(recipe)}, not {raw!r}")
    return changes


def run(budget_s: float | None = None, seed: int = 0, gpu_goal: bool | None = None) -> dict:
    """Train and evaluate; returns the numbers and a markdown paragraph. gpu_goal: measure issue 15's GPU goal
    (GPU_CANDIDATE, the curve, the verdict); by default where the device is a GPU (True on a CPU tests that path)."""
    ns = load_solution_functions(NOTEBOOK, ["CharLM", "train_step"], setup_ids=("setup", "own_lstm", "lm_loss"))
    from rnnlab import CharVocab, load_text, seed_everything, split_text
    from rnnlab.charlm_recipe import MODEL_KEYS, choose_recipe, evaluate, fit

    device = ns["device"]
    recipe_name, recipe, amp_dtype = choose_recipe(device)
    goal_run = device.type == "cuda" if gpu_goal is None else gpu_goal
    if budget_s is None:
        budget_s = GPU_BUDGET_S if goal_run else CPU_BUDGET_S
    recipe["budget_s"] = budget_s
    changes = dict(GPU_CANDIDATE) if goal_run else {}
    changes.update(recipe_overrides(recipe))
    recipe.update(changes)
    model_kwargs = {k: recipe[k] for k in MODEL_KEYS}
    fit_kwargs = {k: v for k, v in recipe.items() if k not in MODEL_KEYS}

    text, source = load_text("shakespeare", fallback=False)
    train_text, val_text = split_text(text)
    vocab = CharVocab(text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    load_before = os.getloadavg()[0]

    seed_everything(seed)
    model = ns["CharLM"](len(vocab), **model_kwargs).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    # On a GPU the budget buys over a hundred passes over the text, where a model overfits unless it is regularised
    # (the first GPU recipe's validation loss was lowest after 25 s and rose to 1.98 by 100 s). The run ends with
    # its last weights; the validation loss at 10 points along the way only shows the curve, and its time counts in
    # the total. On a CPU the budget allows a few passes only, and there is no curve.
    curve = []

    def measure(m, info):
        curve.append((info["iter"], round(info["time"], 1), round(evaluate(m, val_ids, amp_dtype=amp_dtype), 4)))

    along = dict(checkpoints=[k / 10 for k in range(1, 10)], on_checkpoint=measure) if goal_run else {}
    t0 = time.perf_counter()
    hist = fit(model, train_ids, ns["train_step"], amp_dtype=amp_dtype, progress_bar=False, seed=seed, **fit_kwargs,
               **along)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t1 = time.perf_counter()
    val_loss = evaluate(model, val_ids, amp_dtype=amp_dtype)
    t2 = time.perf_counter()
    load_after = os.getloadavg()[0]

    train_s, eval_s, total_s = t1 - t0, t2 - t1, t2 - t0
    beats = val_loss < BASELINE_VAL_LOSS and (goal_run or total_s <= BASELINE_S)
    if goal_run:
        curve.append((hist["iters"], round(hist["train_s"], 1), round(val_loss, 4)))
    goal_met = goal_run and val_loss < GPU_GOAL_VAL_LOSS and total_s <= GPU_GOAL_S
    precision = "float32" if amp_dtype is None else f"{str(amp_dtype).replace('torch.', '')} autocast"
    along_s = f" + {train_s - hist['train_s']:.1f} s of measurements along the way" if goal_run else ""
    if goal_run:
        verdict = (f"The last weights were evaluated (validation loss along the way, iteration / seconds / loss: "
                   f"{', '.join(f'{i}/{t:.0f}/{l:.3f}' for i, t, l in curve)}); the total includes those "
                   f"measurements. nanoGPT's GPU result: {GPU_GOAL_VAL_LOSS} in about 3 minutes; goal (below it in "
                   f"at most {GPU_GOAL_S} s): **{'met' if goal_met else 'NOT met'}**.")
    else:
        verdict = (f"nanoGPT's CPU baseline: {BASELINE_VAL_LOSS} in {BASELINE_S} s; "
                   f"beats it: **{'yes' if beats else 'NO'}**.")
    markdown = (
        f"Character language model (solutions/03_char_lm, recipe `{recipe_name}`"
        f"{' with the changes ' + json.dumps(changes) if changes else ''}: "
        f"{model_kwargs['num_layers']}-layer LSTM, H={model_kwargs['hidden_size']}, "
        f"E={model_kwargs['embed_dim']}, dropout {model_kwargs['dropout']}, {n_params:,} parameters; batches of "
        f"{fit_kwargs['batch_size']}x{fit_kwargs['seq_len']}, AdamW {fit_kwargs['lr']:g} (weight decay "
        f"{fit_kwargs['weight_decay']:g}) with warm-up and cosine "
        f"decay over a {budget_s:.0f} s wall-clock budget, clipping at {fit_kwargs['max_norm']:g}, {precision}) "
        f"on Tiny Shakespeare, {device.type}: validation loss **{val_loss:.3f}** nats/char (perplexity "
        f"{math.exp(val_loss):.2f}) on the whole last 10 % of the characters, after {hist['iters']} iterations "
        f"({hist['epochs']:.1f} passes) in **{hist['train_s']:.1f} s** of training{along_s} + **{eval_s:.1f} s** of "
        f"evaluation = **{total_s:.1f} s**; final thread count {hist['threads']}; load average {load_before:.2f} "
        f"before, {load_after:.2f} after. {verdict}")
    return {
        "name": "char_lm_recipe",
        "val_loss": val_loss,
        "train_s": train_s,
        "eval_s": eval_s,
        "total_s": total_s,
        "iters": hist["iters"],
        "epochs": hist["epochs"],
        "device": str(device),
        "recipe": recipe_name,
        "precision": precision,
        "params": n_params,
        "threads": hist["threads"],
        "budget_s": budget_s,
        "load_before": load_before,
        "load_after": load_after,
        "baseline_val_loss": BASELINE_VAL_LOSS,
        "baseline_s": BASELINE_S,
        "beats_baseline": bool(beats),
        "gpu_goal_met": bool(goal_met),
        "changes": changes,
        "checkpoints": curve,
        "markdown": markdown,
    }


if __name__ == "__main__":
    print(run())
