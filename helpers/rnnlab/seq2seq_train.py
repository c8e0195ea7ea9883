"""The training recipe of the sequence-to-sequence notebook (05): train, translate and evaluate with YOUR functions.

>>> trainer = Seq2SeqTrainer(loss=seq2seq_loss, decode=greedy_decode,
...                          metrics={"exact": exact_match, "token": token_accuracy}, device=device)
>>> hist = trainer.fit(encoder, decoder, dates["train"], src_vocab, tgt_vocab, budget_s=120.0, val=val_pairs)
>>> trainer.evaluate(encoder, decoder, dates["heldout"], src_vocab, tgt_vocab)    # {"exact": ..., "token": ...}

The trainer computes nothing of its own: the loss, the decoding and the metrics are the functions you pass in
(the notebook passes the ones you wrote). What it adds is the loop around them:

- ``fit``: AdamW (weight decay 1e-4) with a warm-up over the first 50 updates and a cosine decay of the learning
  rate over a **wall-clock budget** (``rnnlab.schedules.warmup_cosine``), gradient clipping at 1, shuffled batches
  of ``rnnlab.seq2seq_data.iterate_batches``, ``threads`` CPU threads, and an evaluation on ``val`` ``n_evals``
  times during the run. Returns a history dict (see ``fit``);
- ``translate``: greedy translations of a whole ``PairSet`` in eval mode, in batches, as strings and id lists;
- ``evaluate``: ``translate``, then every metric on the id lists against the references.

Also here: ``source_mask`` (True at the real tokens of a padded source batch) and ``cpu_threads`` (run a block with
a given number of PyTorch CPU threads).
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch

from .charlm_threads import cpu_threads  # noqa: F401 - re-exported: the one thread-count helper
from .runtime import progress
from .schedules import warmup_cosine
from .seq2seq_data import PairSet, encode_pairs, iterate_batches

__all__ = ["source_mask", "cpu_threads", "Seq2SeqTrainer"]


def source_mask(src_len, S: int, device=None) -> torch.Tensor:
    """bool (N, S): True at the real tokens of each source (position < src_len[n]), False at the padding."""
    return torch.arange(S, device=device)[None, :] < torch.as_tensor(src_len, device=device)[:, None]


class Seq2SeqTrainer:
    """Training and evaluation loops around a loss, a decoder loop and metrics that are passed in.

    loss(encoder, decoder, src, src_len, tgt) -> scalar tensor; decode(encoder, decoder, src, src_len, max_len)
    -> list of N lists of ids; metrics: {name: fn(preds, refs) -> float}; device: where batches go.
    """

    def __init__(self, loss: Callable, decode: Callable, metrics: dict[str, Callable], device=None):
        self.loss, self.decode, self.metrics = loss, decode, dict(metrics)
        self.device = device if device is not None else torch.device("cpu")

    def translate(self, encoder, decoder, pairs: PairSet, src_vocab, tgt_vocab, batch_size: int = 512,
                  max_len: int | None = None):
        """(texts, id lists): the decoded translations of every source of ``pairs``, in eval mode. ``max_len``
        defaults to the longest reference plus 5 tokens."""
        was = encoder.training, decoder.training
        encoder.eval()
        decoder.eval()
        if max_len is None:
            max_len = max(len(tgt_vocab.tokens(t)) for t in pairs.targets) + 5
        preds = []
        for k in range(0, len(pairs), batch_size):
            src, src_len, _ = encode_pairs(pairs.sources[k:k + batch_size], None, src_vocab).to_torch(self.device)
            preds += self.decode(encoder, decoder, src, src_len, max_len=max_len)
        encoder.train(was[0])
        decoder.train(was[1])
        return [tgt_vocab.decode(p) for p in preds], preds

    def evaluate(self, encoder, decoder, pairs: PairSet, src_vocab, tgt_vocab) -> dict:
        """{metric name: value, ..., "texts": translations}: every metric of the decoded ids against the
        references (their ids, without <START> and <END>)."""
        texts, preds = self.translate(encoder, decoder, pairs, src_vocab, tgt_vocab)
        refs = [tgt_vocab.encode(t, add_special=False) for t in pairs.targets]
        return {**{name: fn(preds, refs) for name, fn in self.metrics.items()}, "texts": texts}

    def fit(self, encoder, decoder, train: PairSet, src_vocab, tgt_vocab, budget_s: float, batch_size: int = 64,
            lr: float = 1e-2, val: PairSet | None = None, n_evals: int = 8, seed: int = 0, threads: int = 1,
            warmup_updates: int = 50, progress_bar: bool = True) -> dict:
        """Train both networks with ``loss`` for ``budget_s`` seconds of wall-clock time.

        Returns {"time": [s], "loss": [float] (one per update), "eval_time", plus one list per metric (the
        evaluations on ``val``), "iters": updates made, "train_s": seconds spent}.
        """
        params = list(encoder.parameters()) + list(decoder.parameters())
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
        rng = np.random.default_rng(seed)
        hist = {"time": [], "loss": [], "eval_time": [], **{name: [] for name in self.metrics}, "iters": 0}
        start = time.perf_counter()
        next_eval = budget_s / n_evals
        bar = progress(total=int(budget_s), desc="training (s)", disable=None if progress_bar else True)
        on_cpu = torch.device(self.device).type == "cpu"
        with cpu_threads(threads if on_cpu else torch.get_num_threads()):
            done = False
            while not done:
                for batch in iterate_batches(train, src_vocab, tgt_vocab, batch_size, rng=rng):
                    elapsed = time.perf_counter() - start
                    if elapsed >= budget_s:
                        done = True
                        break
                    scale = (min(1.0, (hist["iters"] + 1) / warmup_updates)
                             * warmup_cosine(elapsed / budget_s, warmup_frac=0.0, final_lr_frac=0.0))
                    for group in opt.param_groups:
                        group["lr"] = lr * scale
                    loss = self.loss(encoder, decoder, *batch.to_torch(self.device))
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    opt.step()
                    hist["time"].append(elapsed)
                    hist["loss"].append(loss.item())
                    hist["iters"] += 1
                    bar.n = min(int(elapsed), int(budget_s))
                    bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
                    bar.update(0)
                    if val is not None and elapsed >= next_eval:
                        res = self.evaluate(encoder, decoder, val, src_vocab, tgt_vocab)
                        hist["eval_time"].append(elapsed)
                        for name in self.metrics:
                            hist[name].append(res[name])
                        next_eval += budget_s / n_evals
        bar.close()
        hist["train_s"] = time.perf_counter() - start
        return hist
