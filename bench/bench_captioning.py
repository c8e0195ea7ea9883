"""Benchmark: the image captioner of solutions/04_captioning, trained from scratch on the generated shapes dataset.

Loads the notebook's solution cells (ImageEncoder, CaptioningModel, AttentionCaptioner, caption_loss,
sample_captions) and its locked training, evaluation and recipe cells, builds the default dataset (10,000 training
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

if __package__:
    from .nbload import load_solution_functions
else:  # run as a script, or imported with bench/ on sys.path
    from nbload import load_solution_functions

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "04_captioning" / "captioning.ipynb"
FUNCTIONS = ["ImageEncoder", "CaptioningModel", "AttentionCaptioner", "caption_loss", "sample_captions"]
# locked cells the recipe needs: imports, the training loop, the evaluation helpers and the recipe itself
SETUP_IDS = ("setup", "training", "evaluation", "recipe")
GOAL_BLEU4, GOAL_S = 0.9, 300.0


def _silent(iterable=None, total=None, desc=None, **kwargs):
    """rnnlab.progress without the bar (a tqdm that is disabled still supports set_postfix)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=True)


def run(budget_s: float = 270.0, target_val_bleu4: float = 0.99, seed: int = 0, notebook=NOTEBOOK,
        baseline: bool = True) -> dict:
    """Train the attention captioner until the validation BLEU-4 reaches ``target_val_bleu4`` or ``budget_s``
    seconds have passed since the start (dataset included), then evaluate on the held-out split. With ``baseline``,
    also train and score the initial-state-only LSTM for the same training time (not part of the goal's clock)."""
    start = time.perf_counter()
    saved = os.environ.get("RNNLAB_QUICK")
    os.environ["RNNLAB_QUICK"] = "0"                  # the full recipe, whatever the caller's environment
    try:
        ns = load_solution_functions(notebook, FUNCTIONS, setup_ids=SETUP_IDS)
    finally:
        if saved is None:
            os.environ.pop("RNNLAB_QUICK", None)
        else:
            os.environ["RNNLAB_QUICK"] = saved
    ns["progress"] = _silent                          # no progress bar in the benchmark's output
    data = ns["make_shapes_captions"](seed=0)         # the default size; cached after the first call
    train, val, heldout = data["train"], data["val"], data["heldout"]
    vocab = ns["Vocabulary"].build(train.all_captions())
    data_s = time.perf_counter() - start

    torch.manual_seed(seed)
    model = ns["build_model"]("attention", len(vocab))
    recipe = {**ns["RECIPE"], "max_seconds": budget_s - (time.perf_counter() - start)}
    history = ns["train_recipe"](model, train, vocab, val=val, target_bleu4=target_val_bleu4, recipe=recipe,
                                 seed=seed)
    train_s = history["seconds"]

    eval_start = time.perf_counter()
    scores = ns["evaluate"](model, heldout, vocab)
    val_scores = ns["evaluate"](model, val, vocab)
    eval_s = time.perf_counter() - eval_start
    total_s = time.perf_counter() - start

    base = None
    if baseline:                                      # the same training time for the model of sections 3 and 7
        torch.manual_seed(seed)
        base_model = ns["build_model"]("lstm", len(vocab))
        base_hist = ns["train_recipe"](base_model, train, vocab, val=val, target_bleu4=None,
                                       recipe={**ns["RECIPE"], "max_seconds": train_s}, seed=seed)
        base = {"iterations": base_hist["iterations"], "train_s": base_hist["seconds"],
                **{k: v for k, v in ns["evaluate"](base_model, heldout, vocab).items() if k != "captions"}}

    device = ns["device"]
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
