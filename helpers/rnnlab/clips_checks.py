"""Test fixtures of the sequence-classification notebook (06): padded test batches, a stand-in frame encoder, and
checks of the rules the notebook states, with messages that name the likely mistake in words.

The notebook's test cells call your code with these; they are here (not in the notebook) so that the grader can
rebuild them by name in the process that runs your code. None of them computes an answer to an exercise:

- ``pad_mask(lengths, T)``: bool (N, T), True at the real steps;
- ``random_batch(seed, N, T, step_shape, lengths, frames)``: a padded batch (zero padding, as in the notebook's data);
- ``refill_padding(x, lengths, seed)``: a copy of x with other, large values at the padded steps;
- ``TinyFrameEncoder``: a small seeded CNN, uint8 frames (B, 6, 6) -> features (B, 3), to stand in for ``FrameCNN``;
- ``check_parts(model, what)``: the model has ``encoder``, ``rnn`` (nn.GRU / nn.LSTM / nn.RNN, batch_first, one
  direction) and ``head`` (nn.Linear);
- ``run_model(model, x, lengths, what)`` and ``run_loss(loss_fn, logits, targets, lengths)``: call your code and turn
  a crash into a message that names the likely cause;
- ``check_stated_rules(model, x, lengths, what, per_step)``: the rules of the notebook's models (the padding has no
  influence, not even on the gradient; x is not modified; float32 in gives float32 out; every parameter is used);
- ``stored_mistake(actual, case, words)``: the words for a result that equals the stored value of a common mistake;
- ``load_weights`` (from ``rnnlab.seq2seq_checks``): copy stored arrays into a model's parameters.

Shapes: x (N, T, ...) (uint8 frames or float steps), lengths int64 (N,), 1 <= lengths[n] <= T.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .compare import check_failure
from .seq2seq_checks import load_weights  # noqa: F401 - re-exported: the one loader of stored weights

__all__ = ["RNN_TYPES", "pad_mask", "random_batch", "refill_padding", "TinyFrameEncoder", "check_parts", "run_model",
           "run_loss", "check_stated_rules", "CLASSIFIER_MISTAKES", "MASKED_CE_MISTAKES", "stored_mistake",
           "load_weights"]

RNN_TYPES = (nn.GRU, nn.LSTM, nn.RNN)


def pad_mask(lengths, T: int) -> torch.Tensor:
    """bool (N, T) on the CPU: True at step t of sequence n when t < lengths[n]."""
    lengths = torch.as_tensor(lengths).cpu().long()
    return torch.arange(T)[None, :] < lengths[:, None]


def random_batch(seed: int, N: int, T: int, step_shape, lengths, frames: bool = False):
    """(x, lengths): x (N, T, *step_shape), uint8 frames (``frames``) or float64 normal values, zero at the padded
    steps; lengths: int64 (N,) from the list ``lengths``."""
    g = torch.Generator().manual_seed(seed)
    if frames:
        x = torch.randint(0, 256, (N, T, *step_shape), generator=g, dtype=torch.uint8)
    else:
        x = torch.randn(N, T, *step_shape, generator=g, dtype=torch.float64)
    lengths = torch.tensor(lengths, dtype=torch.int64)
    x[~pad_mask(lengths, T)] = 0
    return x, lengths


def refill_padding(x, lengths, seed: int, scale: float = 100.0):
    """A copy of x whose padded steps hold other values: uniform uint8 noise for frames, ``scale`` times normal noise
    for floats. The real steps are untouched."""
    g = torch.Generator().manual_seed(seed)
    out = x.clone()
    pad = ~pad_mask(lengths, x.shape[1])
    if x.dtype == torch.uint8:
        noise = torch.randint(0, 256, x.shape, generator=g, dtype=torch.uint8)
    else:
        noise = (scale * torch.randn(x.shape, generator=g, dtype=torch.float64)).to(x.dtype)
    out[pad] = noise[pad]
    return out


class TinyFrameEncoder(nn.Module):
    """A small stand-in for the notebook's CNN: uint8 frames (B, 6, 6) -> features (B, 3), tanh of a linear layer
    on a 3 x 3, stride 3 convolution (2 channels). Weights seeded by ``seed``; works in the dtype of its weights."""

    def __init__(self, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.conv = nn.Conv2d(1, 2, kernel_size=3, stride=3)
            self.fc = nn.Linear(8, 3)

    def forward(self, frames):
        x = frames.to(self.conv.weight.dtype).unsqueeze(1) / 255.0
        return torch.tanh(self.fc(self.conv(x).flatten(1)))


def check_parts(model, what: str = "the model") -> None:
    """AssertionError unless ``model`` has the three parts the notebook asks for: ``encoder``, ``rnn`` (an nn.GRU,
    nn.LSTM or nn.RNN built with batch_first=True, one direction) and ``head`` (an nn.Linear)."""
    for name in ("encoder", "rnn", "head"):
        if not hasattr(model, name):
            raise check_failure(f"{what} has no attribute `{name}`: name the three parts encoder, rnn and head.")
    if not isinstance(model.rnn, RNN_TYPES):
        raise check_failure(f"{what}.rnn is a {model.rnn.__class__.__name__}: build it with RNN_LAYERS[cell] "
                             "(nn.GRU, nn.LSTM or nn.RNN).")
    if not getattr(model.rnn, "batch_first", False):
        raise check_failure(f"{what}.rnn was built without batch_first=True: our batches are (N, T, ...).")
    if getattr(model.rnn, "bidirectional", False):
        raise check_failure(f"{what}.rnn is bidirectional: the notebook's models read forward only (a backward "
                             "direction would read the padding before the real steps).")
    if not isinstance(model.head, nn.Linear):
        raise check_failure(f"{what}.head is a {model.head.__class__.__name__}, expected an nn.Linear from the "
                             "hidden size to the number of classes.")


def _crash_cause(msg: str) -> str:
    if "dtype" in msg or "Double" in msg or "Float" in msg:
        return ("keep the dtype: do not convert the inputs or the features (no .float()); the tests run the model in "
                "float64 (model.double()) and in float32.")
    if "sorted" in msg:
        return ("packing sequences of lengths in any order needs enforce_sorted=False (or read the padded outputs "
                "at the last real steps instead of packing).")
    if "cpu" in msg.lower() and "lengths" in msg.lower():
        return "packing wants the lengths on the CPU."
    return ("the shapes between the parts: the encoder works on one step of every sequence at a time (a batch of "
            "N * T steps), the batch-first RNN on (N, T, features).")


def run_model(model, x, lengths, what: str = "the model") -> torch.Tensor:
    """``model(x, lengths)``; a crash becomes an AssertionError naming the likely cause, and anything but a tensor
    is refused."""
    try:
        out = model(x, lengths)
    except NotImplementedError:
        raise
    except (RuntimeError, ValueError, IndexError) as exc:
        msg = str(exc)
        raise check_failure(f"{what} raised {exc.__class__.__name__}: {msg} (x {tuple(x.shape)}, lengths "
                             f"{lengths.tolist()}). Likely cause: {_crash_cause(msg)}") from None
    if not isinstance(out, torch.Tensor):
        raise check_failure(f"{what} returned a {out.__class__.__name__}; it must return the logits as one tensor.")
    return out


def run_loss(loss_fn, logits, targets, lengths, name: str = "masked_cross_entropy"):
    """Call ``loss_fn(z, targets, lengths)`` on a leaf copy ``z`` of ``logits``; (loss as a float, gradient with
    respect to the logits as a NumPy array (N, T, C)). Refuses anything but a scalar tensor attached to the graph."""
    z = logits.detach().clone().requires_grad_(True)
    try:
        loss = loss_fn(z, targets, lengths)
    except NotImplementedError:
        raise
    except (RuntimeError, IndexError) as exc:
        raise check_failure(f"{name} raised {exc.__class__.__name__}: {exc}. Likely cause: the targets at padded "
                             "steps hold values that are not classes (here -1); they must never be used as class "
                             "indices.") from None
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        raise check_failure(f"{name} must return a scalar tensor (a 0-dim torch.Tensor), got "
                             f"{loss.__class__.__name__} {tuple(getattr(loss, 'shape', ()))}.")
    if not loss.requires_grad:
        raise check_failure(f"the result of {name} does not require grad: the graph was cut (.item(), .detach(), "
                             "NumPy).")
    loss.backward()
    if z.grad is None:
        raise check_failure(f"no gradient reached the logits through {name}: the graph was cut.")
    return loss.item(), z.grad.numpy()


def _real(out, lengths, per_step: bool):
    return out.detach()[pad_mask(lengths, out.shape[1])] if per_step else out.detach()


def _real_sum(out, lengths, per_step: bool):
    return out[pad_mask(lengths, out.shape[1])].sum() if per_step else out.sum()


def check_stated_rules(model, x, lengths, what: str = "the model", per_step: bool = False, seed: int = 0) -> None:
    """Check the rules the notebook states for its models, on the float64 ``model`` and the batch (x, lengths):

    - refilling the padded steps of x with other values changes nothing (the logits of a classifier, the logits at
      the real steps of a tagger), and the padded steps of float inputs receive a zero gradient;
    - x is not modified;
    - every parameter of the model receives a gradient (it is registered and used);
    - in float32 (``model.float()`` on float32 or uint8 inputs) the logits are float32.
    Leaves the model in float64, its weights rounded to float32 (call it last)."""
    before = x.clone()
    out = run_model(model, x, lengths, what)
    if not torch.equal(x, before):
        raise check_failure(f"{what} changed its input x: never modify an input in place.")
    other = run_model(model, refill_padding(x, lengths, seed), lengths, what)
    diff = float((_real(other, lengths, per_step) - _real(out, lengths, per_step)).abs().max())
    if diff > 1e-10 * max(1.0, float(_real(out, lengths, per_step).abs().max())):
        raise check_failure(f"{what}: changing only the padded steps of x changed the logits"
                             f"{' at the real steps' if per_step else ''} by up to {diff:.3g}. The padding must have "
                             "no influence: " + ("every step's logits come from the output at that step of a forward "
                                                 "RNN." if per_step else "read each sequence at its last REAL step."))
    xg = x.detach().clone().requires_grad_(True) if x.is_floating_point() else x
    model.zero_grad()
    _real_sum(run_model(model, xg, lengths, what), lengths, per_step).backward()
    if x.is_floating_point():
        if xg.grad is None:
            raise check_failure(f"no gradient reached the inputs of {what}: the graph was cut inside forward.")
        pad = ~pad_mask(lengths, x.shape[1])
        if pad.any() and float(xg.grad[pad].abs().max()) != 0.0:
            raise check_failure(f"the padded steps of x receive a gradient through {what}: they influence the logits.")
    unused = [name for name, p in model.named_parameters() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    if unused:
        raise check_failure(f"the parameters {unused} of {what} receive no gradient: every part must be registered "
                             "as an attribute in __init__ and used in forward.")
    model.float()
    try:
        out32 = run_model(model, x.float() if x.is_floating_point() else x, lengths, what)
        if out32.dtype != torch.float32:
            raise check_failure(f"{what} in float32 (model.float(), float32 inputs) returned {out32.dtype} logits: "
                                 "do not convert dtypes inside the model.")
    finally:
        model.double()


CLASSIFIER_MISTAKES = {
    "last_padded": "these are the logits read at the last step of the padded batch (step T - 1, after the padding): "
                   "read every sequence at its own last real step.",
    "one_early": "these are the logits read one step before each sequence's last real step: the last real step of a "
                 "sequence of length L has index L - 1.",
    "one_late": "these are the logits read one step after each sequence's last real step (in the padding): the last "
                "real step of a sequence of length L has index L - 1.",
}

MASKED_CE_MISTAKES = {
    "divided_by_NT": "the sum was divided by N * T, so the padded steps count as zero losses: divide the sum over "
                     "the real steps by the NUMBER of real steps.",
    "mean_of_means": "the per-sequence means were averaged, so a step of a short sequence weighs more: every real "
                     "step must count equally.",
}


def stored_mistake(actual, case: dict, words: dict, default: str = "") -> str:
    """The sentence of ``words`` whose stored value ``case["wrong_<key>"]`` equals ``actual`` (relative 1e-6) while
    differing from a right answer; else ``default``. The wrong values are stored expected values, not computed
    here."""
    a = np.asarray(actual, dtype=np.float64)
    for key, sentence in words.items():
        wrong = case.get(f"wrong_{key}")
        if wrong is None or np.shape(wrong) != a.shape:
            continue
        if np.allclose(a, wrong, rtol=1e-6, atol=1e-9):
            return sentence
    return default
