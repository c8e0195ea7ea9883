"""Grader-side oracles of notebook 06 (sequence classification), for its hidden tests and its stored expected values.

Everything here computes a graded answer by an independent route: the last real step picked in a Python loop, the
masked cross-entropy as ``F.cross_entropy`` on the real steps gathered in a loop (and the values of the two common
mistakes, for hints), the logits of a classifier or tagger from a fresh float64 ``nn.GRU`` / ``nn.LSTM`` /
``nn.RNN`` run on every sequence alone at its own length (``reference_outputs``; ``classifier_hint`` names a wrong
classifier's mistake by trying the plausible wrong steps), and a short training run whose loss is computed here.
Hidden test cells import it inside ``### BEGIN HIDDEN TESTS``.

The producer ``sequence_classification`` writes ``rnnlab/expected/sequence_classification.npz``: the fixed inputs
of the visible tests, the weights their models are loaded with, and the outputs a correct answer gives (the masked
loss and its gradient; a classifier's logits; a tagger's logits at the real steps), with the values of the common
mistakes.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from rnnlab.clips_checks import CLASSIFIER_MISTAKES, MASKED_CE_MISTAKES, TinyFrameEncoder, check_parts
from rnnlab.testing import optimizer_for

from .expected import producer

__all__ = ["pad_mask", "last_step_oracle", "masked_ce_oracle", "masked_ce_mistakes", "masked_ce_hint",
           "reference_outputs", "classifier_hint", "tiny_learning_run"]


def pad_mask(lengths, T):
    """bool (N, T): True at the real steps; built with a Python loop."""
    mask = torch.zeros(len(lengths), T, dtype=torch.bool)
    for n, L in enumerate(lengths.tolist()):
        mask[n, :L] = True
    return mask


def last_step_oracle(outputs, lengths):
    """(N, H) array: row n is outputs[n, lengths[n] - 1], picked one sequence at a time."""
    return np.stack([outputs[n, L - 1] for n, L in enumerate(lengths.tolist())])


def masked_ce_oracle(logits, targets, lengths):
    """F.cross_entropy (float64) over the real steps only, gathered with a Python loop; and its gradient."""
    z = logits.detach().double().clone().requires_grad_(True)
    rows = [z[n, :L] for n, L in enumerate(lengths.tolist())]
    ys = [targets[n, :L] for n, L in enumerate(lengths.tolist())]
    loss = F.cross_entropy(torch.cat(rows), torch.cat(ys))
    loss.backward()
    return loss.item(), z.grad.numpy()


def masked_ce_mistakes(logits, targets, lengths) -> dict:
    """The values of the two common mistakes: {"divided_by_NT": ..., "mean_of_means": ...}."""
    z = logits.detach().double()
    N, T, C = z.shape
    mask = pad_mask(lengths, T)
    safe = torch.where(mask, targets, torch.zeros_like(targets))
    per_step = F.cross_entropy(z.reshape(-1, C), safe.reshape(-1), reduction="none").view(N, T) * mask
    return {"divided_by_NT": (per_step.sum() / (N * T)).item(),
            "mean_of_means": (per_step.sum(1) / lengths).mean().item()}


MISTAKE_WORDS = MASKED_CE_MISTAKES


def masked_ce_hint(logits, targets, lengths, actual):
    """Name the likely mistake of a wrong masked loss."""
    for key, value in masked_ce_mistakes(logits, targets, lengths).items():
        if abs(actual - value) < 1e-9:
            return MISTAKE_WORDS[key]
    return "the mean, over the real steps only, of the per-step cross-entropy."


def reference_outputs(model, x, lengths, per_step=False, what="the model"):
    """The oracle of the models: every sequence on its own, cut to its own length (no padding at all), through
    model.encoder, a fresh nn.GRU / nn.LSTM / nn.RNN in float64 loaded with model.rnn's weights, and F.linear with
    model.head's weights. Returns a list: per sequence the logits at its last step (C,), or with per_step=True at
    every real step (L, C)."""
    check_parts(model, what)
    rnn = model.rnn
    kwargs = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
    ref = rnn.__class__(rnn.input_size, rnn.hidden_size, rnn.num_layers, batch_first=True, dtype=torch.float64,
                        **kwargs)
    ref.load_state_dict({k: v.double() for k, v in rnn.state_dict().items()})
    W = model.head.weight.double()
    b = None if model.head.bias is None else model.head.bias.double()
    out = []
    with torch.no_grad():
        for n, L in enumerate(lengths.tolist()):
            feats = model.encoder(x[n, :L]).double()
            seq, _ = ref(feats[None])
            out.append(F.linear(seq[0] if per_step else seq[0, -1], W, b).numpy())
    return out


def classifier_mistakes(model, x, lengths) -> dict:
    """The logits (N, C) a classifier gives when it reads the wrong step: {"last_padded": at step T - 1 of the
    padded batch, "one_early": at lengths - 1 - 1 (at least step 0), "one_late": at lengths (at most T - 1)}."""
    T = x.shape[1]
    return {"last_padded": np.stack(reference_outputs(model, x, torch.full_like(lengths, T))),
            "one_early": np.stack(reference_outputs(model, x, torch.clamp(lengths - 1, min=1))),
            "one_late": np.stack(reference_outputs(model, x, torch.clamp(lengths + 1, max=T)))}


def classifier_hint(model, x, lengths, actual):
    """Name the likely mistake of wrong many-to-one logits by trying the plausible wrong steps."""
    try:
        for key, wrong in classifier_mistakes(model, x, lengths).items():
            if np.allclose(actual, wrong, rtol=1e-6, atol=1e-9):
                return CLASSIFIER_MISTAKES[key]
    except Exception:   # noqa: BLE001 - a hint must never replace the failure it explains
        pass
    return ("encode every step (a batch of N * T steps through the encoder, back to (N, T, features)), run self.rnn "
            "on the whole padded batch, take each sequence's output at its last real step, then self.head.")


def tiny_learning_run(model, x, lengths, y, per_step, steps=60, lr=0.02):
    """Train the student's model for a few Adam steps on one tiny batch; (first loss, last loss), the loss computed
    here (masked cross-entropy for per-step outputs), not by the student's code."""
    opt = optimizer_for(model, torch.optim.Adam, lr=lr)
    losses = []
    mask = pad_mask(lengths, x.shape[1])
    for _ in range(steps):
        out = model(x, lengths)
        loss = F.cross_entropy(out[mask], y[mask]) if per_step else F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses[0], losses[-1]


class _Parts(nn.Module):
    """The three parts of the notebook's models, with weights drawn from NumPy's generator (float64)."""

    def __init__(self, cell, input_size, hidden_size, num_classes, num_layers=1, encoder=None, seed=0):
        super().__init__()
        self.encoder = encoder if encoder is not None else nn.Identity()
        self.rnn = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[cell](input_size, hidden_size, num_layers,
                                                                          batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)
        self.double()
        rng = np.random.default_rng(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.from_numpy(0.6 * rng.standard_normal(tuple(p.shape))))


# The visible tests' model cases: (case, cell, num_layers, frames?, lengths); N = 4, T = 6, 3 features or 6 x 6 frames,
# hidden size 5, 4 classes. The tests build SequenceClassifier / FrameTagger(3, 5, 4, cell=..., num_layers=...).
MODEL_CASES = {
    "classifier_gru": ("gru", 1, False, [6, 3, 1, 4]),
    "classifier_lstm2": ("lstm", 2, False, [2, 6, 6, 5]),
    "classifier_frames": ("gru", 1, True, [5, 1, 3, 6]),
    "tagger_gru": ("gru", 1, False, [6, 3, 1, 4]),
    "tagger_frames": ("lstm", 1, True, [2, 6, 5, 1]),
}


def _model_case(name, seed):
    cell, layers, frames, lengths = MODEL_CASES[name]
    model = _Parts(cell, 3, 5, 4, layers, TinyFrameEncoder() if frames else None, seed=seed)
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    if frames:
        x = torch.randint(0, 256, (4, 6, 6, 6), generator=g, dtype=torch.uint8)
    else:
        x = torch.randn(4, 6, 3, generator=g, dtype=torch.float64)
    x[~pad_mask(lengths, 6)] = 0
    out = {f"{name}/x": x.numpy(), f"{name}/lengths": lengths.numpy()}
    out.update({f"{name}/w.{k}": v.detach().numpy() for k, v in model.named_parameters()})
    if name.startswith("classifier"):
        out[f"{name}/logits"] = np.stack(reference_outputs(model, x, lengths))
        for key, value in classifier_mistakes(model, x, lengths).items():
            out[f"{name}/wrong_{key}"] = value
    else:
        out[f"{name}/logits_real"] = np.concatenate(reference_outputs(model, x, lengths, per_step=True))
    return out


@producer("sequence_classification")
def _expected():
    g = torch.Generator().manual_seed(700)
    N, T, C = 3, 5, 4
    logits = torch.randn(N, T, C, generator=g, dtype=torch.float64)
    lengths = torch.tensor([5, 2, 3])
    targets = torch.randint(0, C, (N, T), generator=g)
    targets[~pad_mask(lengths, T)] = -1
    loss, grad = masked_ce_oracle(logits, targets, lengths)
    out = {"masked_ce/logits": logits.numpy(), "masked_ce/targets": targets.numpy(),
           "masked_ce/lengths": lengths.numpy(),
           "masked_ce/loss": np.array(loss), "masked_ce/grad": grad}
    for key, value in masked_ce_mistakes(logits, targets, lengths).items():
        out[f"masked_ce/wrong_{key}"] = np.array(value)
    for k, name in enumerate(MODEL_CASES):
        out.update(_model_case(name, seed=620 + k))
    return out
