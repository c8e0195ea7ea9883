"""Benchmark: the image captioner of solutions/04_captioning, trained from scratch on the generated shapes dataset.

Imports what it measures from rnnlab (the dataset, ``rnnlab.captioning``'s recipe, training loop and evaluation)
and takes the models, the loss and the sampler from the notebook's solution cells only (ImageEncoder,
CaptioningModel, AttentionCaptioner, caption_loss, sample_captions: the answers, which rnnlab does not hold). It builds
the default dataset (10,000 training
images of 64 x 64 pixels, 500 validation, 1,000 held-out), trains the attention captioner of section 11 with the
notebook's recipe until the validation BLEU-4 reaches a target or a time budget is used up, then scores greedy
captions of the held-out split (scenes with colour pairs never seen together in training) with BLEU-4 against all
five references and the exact-match rate. For comparison it then trains the LSTM that sees the image only through
its initial state (sections 3 and 7) for the same training time, and scores it the same way.

Goal (issue): held-out BLEU-4 >= 0.9, reached in under 5 minutes in total (dataset, training and evaluation) on a
2-core CPU. ``run()`` returns a dict; ``meets_goal`` says whether both parts of the goal were met.
"""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import torch

from rnnlab.captioning import build_captioner, captioning_recipe, evaluate, train_recipe
from rnnlab.captions import Vocabulary, make_shapes_captions
from rnnlab.runtime import get_device

if __package__:
    from .nbload import load_solution_functions
else:  # run as a script, or imported with bench/ on sys.path
    from nbload import load_solution_functions

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "04_captioning" / "captioning.ipynb"
FUNCTIONS = ["ImageEncoder", "CaptioningModel", "AttentionCaptioner", "caption_loss", "sample_captions"]
GOAL_BLEU4, GOAL_S = 0.9, 300.0


def load_solutions(notebook=NOTEBOOK, names=FUNCTIONS) -> dict:
    """The notebook's solution cells ``names``, executed in a namespace with what they use (torch, nn, F, math,
    the special word ids, RNN_LAYERS); no other cell of the notebook runs."""
    import math

    import torch.nn as nn
    import torch.nn.functional as F

    ns = {"torch": torch, "nn": nn, "F": F, "math": math, "NULL": Vocabulary.null_idx,
          "START": Vocabulary.start_idx, "END": Vocabulary.end_idx, "RNN_LAYERS": {"rnn": nn.RNN, "lstm": nn.LSTM}}
    return load_solution_functions(notebook, list(names), setup_ids=(), namespace=ns)


def build(ns: dict, kind: str, vocab_size: int, recipe: dict, device):
    """The notebook's build_model: the attention captioner, or a CaptioningModel with decoder ``kind``."""
    if kind == "attention":
        return build_captioner(ns["AttentionCaptioner"], vocab_size, recipe, device)
    return build_captioner(ns["CaptioningModel"], vocab_size, recipe, device, feature_dim=recipe["feature_dim"],
                           cell=kind)


def run(budget_s: float = 270.0, target_val_bleu4: float = 0.99, seed: int = 0, notebook=NOTEBOOK,
        baseline: bool = True) -> dict:
    """Train the attention captioner until the validation BLEU-4 reaches ``target_val_bleu4`` or ``budget_s``
    seconds have passed since the start (dataset included), then evaluate on the held-out split. With ``baseline``,
    also train and score the initial-state-only LSTM for the same training time (not part of the goal's clock)."""
    start = time.perf_counter()
    ns = load_solutions(notebook)
    loss_fn, sampler = ns["caption_loss"], ns["sample_captions"]
    device = get_device(verbose=False)
    full = captioning_recipe(quick=False)              # the full recipe, whatever the caller's environment
    data = make_shapes_captions(seed=0)               # the default size; cached after the first call
    train, val, heldout = data["train"], data["val"], data["heldout"]
    vocab = Vocabulary.build(train.all_captions())
    data_s = time.perf_counter() - start

    torch.manual_seed(seed)
    model = build(ns, "attention", len(vocab), full, device)
    recipe = {**full, "max_seconds": budget_s - (time.perf_counter() - start)}
    history = train_recipe(model, train, vocab, loss_fn, sampler, val=val, target_bleu4=target_val_bleu4,
                           recipe=recipe, seed=seed, progress_bar=False)
    train_s = history["seconds"]

    eval_start = time.perf_counter()
    scores = evaluate(model, heldout, vocab, sampler)
    val_scores = evaluate(model, val, vocab, sampler)
    eval_s = time.perf_counter() - eval_start
    total_s = time.perf_counter() - start

    base = None
    if baseline:                                      # the same training time for the model of sections 3 and 7
        torch.manual_seed(seed)
        base_model = build(ns, "lstm", len(vocab), full, device)
        base_hist = train_recipe(base_model, train, vocab, loss_fn, sampler, val=val, target_bleu4=None,
                                 recipe={**full, "max_seconds": train_s}, seed=seed, progress_bar=False)
        base = {"iterations": base_hist["iterations"], "train_s": base_hist["seconds"],
                **{k: v for k, v in evaluate(base_model, heldout, vocab, sampler).items() if k != "captions"}}

    device_name = torch.cuda.get_device_name(0) if device.type == "cuda" else f"{device.type} ({os.cpu_count()} cores)"
    try:
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    reached = history["val_bleu4"][-1][2] if history["val_bleu4"] else float("nan")
    stop = "the validation target" if reached >= target_val_bleu4 else "the time budget"
    meets = scores["bleu4"] >= GOAL_BLEU4 and total_s < GOAL_S
    summary = (
        f"Image captioning (solutions/04_captioning): CNN encoder + LSTM decoder with attention over the 3 x 3 "
        f"feature grid (section 11), trained from scratch on the generated shapes dataset (10,000 training images, "
        f"64 x 64) with the notebook's recipe, on {device_name}, torch threads {torch.get_num_threads()}, load "
        f"average {load} at the end. Training stopped by {stop} after {history['iterations']} iterations, "
        f"**{train_s:.0f} s** (validation BLEU-4 {reached:.3f}); held-out split (colour pairs never seen together "
        f"in training): **BLEU-4 {scores['bleu4']:.3f}** (goal at least {GOAL_BLEU4}), BLEU-1 {scores['bleu1']:.3f}, "
        f"exact match {scores['exact_match']:.3f}; validation BLEU-4 {val_scores['bleu4']:.3f}. Total with the "
        f"dataset ({data_s:.1f} s) and evaluation ({eval_s:.1f} s): **{total_s:.0f} s** (goal under "
        f"{GOAL_S:.0f} s). Goal met: **{'yes' if meets else 'no'}**.")
    if base is not None:
        summary += (f" For comparison, the LSTM that sees the image only through its initial state (sections 3 and 7), "
                    f"trained for the same {base['train_s']:.0f} s ({base['iterations']} iterations): held-out BLEU-4 "
                    f"{base['bleu4']:.3f}, exact match {base['exact_match']:.3f}.")
    return {
        "name": "captioning_attention",
        "bleu4": scores["bleu4"],
        "bleu1": scores["bleu1"],
        "exact_match": scores["exact_match"],
        "val_bleu4": val_scores["bleu4"],
        "val_exact_match": val_scores["exact_match"],
        "iterations": history["iterations"],
        "train_s": train_s,
        "data_s": data_s,
        "eval_s": eval_s,
        "total_s": total_s,
        "baseline_initial_state_lstm": base,
        "device": device_name,
        "torch_threads": torch.get_num_threads(),
        "load_average": load,
        "python": platform.python_version(),
        "goal_bleu4": GOAL_BLEU4,
        "goal_s": GOAL_S,
        "meets_goal": bool(meets),
        "markdown": summary,
    }


if __name__ == "__main__":
    print(run())
