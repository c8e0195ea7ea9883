"""Benchmark of notebook 07's code model: validation loss (nats/char) after a fixed CPU budget, next to the bigram
baseline on the same split.

The corpus is the running Python's standard library (``rnnlab.code_corpus.stdlib_code_corpus``), split by file;
its sha256 is reported because the text, and so every number here, differs between Python versions. The model and
recipe are the notebook's (``rnnlab.code_lm``: CodeLSTM with H=128, ``train_code_lm`` on random windows, batches of
24 x 96, AdamW 1e-2, warm-up and cosine decay over the budget), evaluated on the WHOLE validation split with the
state carried (``rnnlab.charlm_recipe.evaluate``). Always on the CPU, so that the number is a CPU number.

``run()`` is called by ``bench/run_bench.py``; ``python bench/bench_code_lm.py [BUDGET_S]`` runs it alone.
"""
from __future__ import annotations

import math
import os
import platform
import sys
import time

BUDGET_S = 240.0            # the notebook's full-mode training budget


def run(budget_s: float | None = None, seed: int = 0) -> dict:
    import torch

    from rnnlab import CharVocab, seed_everything
    from rnnlab.charlm import count_model_loss
    from rnnlab.charlm_recipe import evaluate
    from rnnlab.code_corpus import stdlib_code_corpus
    from rnnlab.code_lm import CodeLSTM, train_code_lm

    budget_s = BUDGET_S if budget_s is None else budget_s
    corpus = stdlib_code_corpus()
    vocab = CharVocab(corpus.train_text + corpus.val_text)
    train_ids, val_ids = vocab.encode(corpus.train_text), vocab.encode(corpus.val_text)
    bigram = count_model_loss(train_ids, val_ids, len(vocab), 1)
    load_before = os.getloadavg()[0]
    seed_everything(seed)
    model = CodeLSTM(len(vocab), hidden_size=128)
    t0 = time.perf_counter()
    hist = train_code_lm(model, train_ids, budget_s=budget_s, batch_size=24, seq_len=96, lr=1e-2, seed=seed,
                         progress_bar=False)
    t1 = time.perf_counter()
    val_loss = evaluate(model, val_ids)
    t2 = time.perf_counter()
    load_after = os.getloadavg()[0]
    markdown = (
        f"Code model (solutions/07_code_lm: `CodeLSTM`, 1-layer LSTM H=128, embedding 32, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters; random windows of 24x96 from a zero state, "
        f"AdamW 1e-2, warm-up and cosine decay over {budget_s:.0f} s, float32, {torch.get_num_threads()} threads) "
        f"on Python {platform.python_version()}'s standard library ({corpus.size:,} characters, "
        f"{len(corpus.train_files)} training / {len(corpus.val_files)} validation files, sha256 "
        f"{corpus.sha256[:12]}...): validation loss **{val_loss:.3f}** nats/char after {hist['iters']} updates in "
        f"{t1 - t0:.0f} s (+{t2 - t1:.0f} s evaluation of the whole validation split); bigram baseline on the same "
        f"split **{bigram:.3f}**; uniform {math.log(len(vocab)):.3f}. Load average {load_before:.1f} before, "
        f"{load_after:.1f} after.")
    return {"name": "code_lm", "val_loss": val_loss, "bigram": bigram, "uniform": math.log(len(vocab)),
            "iters": hist["iters"], "train_s": t1 - t0, "eval_s": t2 - t1, "budget_s": budget_s,
            "python": platform.python_version(), "sha256": corpus.sha256, "chars": corpus.size,
            "load_before": load_before, "load_after": load_after, "markdown": markdown}


if __name__ == "__main__":
    import json

    result = run(float(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(result["markdown"])
    print(json.dumps({k: v for k, v in result.items() if k != "markdown"}))
