"""rnnlab.seq2seq_train: the source mask by hand; translate and evaluate with a decoder loop whose output is known
(it reverses the source); and fit's schedule (warm-up, then cosine over the wall-clock budget) checked against the
formula written out here, on a clock that advances by a fixed step and a loss whose Adam steps equal the learning
rate."""
import math
import types

import pytest
import torch
import torch.nn as nn

from rnnlab import seq2seq_train
from rnnlab.seq2seq_data import PairSet
from rnnlab.seq2seq_train import Seq2SeqTrainer, source_mask
from rnnlab.vocab import Vocabulary

VOCAB = Vocabulary.build(["abcdefgh"], level="char")


def test_source_mask_by_hand():
    assert source_mask([3, 1], 4).tolist() == [[True, True, True, False], [True, False, False, False]]
    assert source_mask(torch.tensor([2]), 2, device="cpu").tolist() == [[True, True]]


class _Scalar(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros((), dtype=torch.float64))


def _reverse_decode(record):
    """A decoder loop whose output is known: every source's ids, reversed. Records the modes and max_len."""
    def decode(encoder, decoder, src, src_len, max_len):
        record.append((encoder.training, decoder.training, max_len, len(src)))
        return [src[n, :int(src_len[n])].flip(0).tolist() for n in range(len(src))]
    return decode


def test_translate_decodes_every_source_in_eval_mode_and_restores_the_modes():
    pairs = PairSet(["abc", "h", "gfe", "ab", "c"], ["cba", "x", "efgh", "ba", "c"])
    calls = []
    trainer = Seq2SeqTrainer(loss=None, decode=_reverse_decode(calls), metrics={})
    enc, dec = _Scalar(), _Scalar()
    enc.train(), dec.eval()
    texts, preds = trainer.translate(enc, dec, pairs, VOCAB, VOCAB, batch_size=2)
    assert texts == ["cba", "h", "efg", "ba", "c"]                       # the sources reversed, by hand
    assert preds == [VOCAB.encode(t, add_special=False) for t in texts]
    assert [c[3] for c in calls] == [2, 2, 1]                            # three batches of at most 2
    assert all(c[:2] == (False, False) for c in calls)                  # decoded in eval mode
    assert all(c[2] == 4 + 5 for c in calls)                             # longest reference (4) + 5
    assert enc.training and not dec.training                             # modes restored
    trainer.translate(enc, dec, pairs, VOCAB, VOCAB, max_len=3)
    assert calls[-1][2] == 3


def test_evaluate_passes_predictions_and_references_to_every_metric():
    pairs = PairSet(["abc", "h", "gfe", "ab"], ["cba", "x", "efg", "ab"])
    seen = {}

    def exact(preds, refs):
        seen["args"] = (preds, refs)
        return sum(p == r for p, r in zip(preds, refs)) / len(refs)

    trainer = Seq2SeqTrainer(loss=None, decode=_reverse_decode([]), metrics={"exact": exact, "n": lambda p, r: len(p)})
    res = trainer.evaluate(_Scalar(), _Scalar(), pairs, VOCAB, VOCAB)
    assert res["exact"] == 0.5 and res["n"] == 4                        # "cba" and "efg" right, by hand
    assert res["texts"] == ["cba", "h", "efg", "ba"]
    assert seen["args"][1] == [VOCAB.encode(t, add_special=False) for t in pairs.targets]


class _Clock:
    """time.perf_counter that advances by ``step`` seconds at every call."""

    def __init__(self, step):
        self.t, self.step = -step, step

    def perf_counter(self):
        self.t += self.step
        return self.t


def test_fit_follows_warmup_then_cosine_over_the_budget(monkeypatch):
    step, budget, lr, warmup = 0.125, 1.0, 0.1, 4
    monkeypatch.setattr(seq2seq_train, "time", types.SimpleNamespace(perf_counter=_Clock(step).perf_counter))
    enc, dec = _Scalar(), _Scalar()
    evals = []

    def metric(preds, refs):
        evals.append(len(preds))
        return 0.25

    pairs = PairSet(["abc", "h", "gfe"], ["cba", "h", "efg"])
    trainer = Seq2SeqTrainer(loss=lambda e, d, src, src_len, tgt: e.w * 1.0, decode=_reverse_decode([]),
                             metrics={"m": metric})
    threads = torch.get_num_threads()
    hist = trainer.fit(enc, dec, pairs, VOCAB, VOCAB, budget_s=budget, batch_size=2, lr=lr, val=pairs, n_evals=2,
                       warmup_updates=warmup, progress_bar=False)
    # the k-th update sees elapsed = (k + 1) * step; updates stop at the first elapsed >= budget: 7 updates
    times = [(k + 1) * step for k in range(7)]
    assert hist["iters"] == 7 and hist["time"] == times and len(hist["loss"]) == 7
    scales = [min(1.0, (k + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * t / budget)) for k, t in enumerate(times)]
    # loss = w has gradient 1, so each AdamW step moves w by the learning rate (weight decay 1e-4 changes < 1e-4)
    assert enc.w.item() == pytest.approx(-lr * sum(scales), abs=1e-4)
    assert hist["loss"] == pytest.approx([-lr * sum(scales[:k]) for k in range(7)], abs=1e-4)
    assert hist["eval_time"] == [0.5] and hist["m"] == [0.25] and evals == [3]   # one evaluation, at budget / 2
    assert hist["train_s"] == pytest.approx(9 * step)
    assert dec.w.grad is None and dec.w.item() == 0.0                    # a network the loss does not use is untouched
    assert torch.get_num_threads() == threads                            # the thread count is restored
