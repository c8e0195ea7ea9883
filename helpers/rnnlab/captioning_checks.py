"""Notebook 04's test helpers: test inputs, stand-in models with known behaviour, and checks of properties.

None of these computes a graded answer. The stand-in models are deliberately *not* captioners: their scores are a
fixed table lookup (``ScriptedCaptioner``, ``ChainCaptioner``), so that a test knows what a correct
``caption_loss`` or ``sample_captions`` must do with them; the expected numbers come from stored values
(``rnnlab.expected``) computed on the grader's side. The checks test properties every correct answer has (every
parameter gets a gradient, a state has the right parts, a caption stops at ``<END>``) and compare with stored
values, saying in words what a mismatch usually means.

Shapes: images (N, 3, S, S) float; words int64 (N, T); states (1, N, H) tensors or tuples of them.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .compare import check_close, check_failure, check_shape
from .states import check_state  # noqa: F401 - re-exported: the one implementation (rnnlab.states)
from .vocab import Vocabulary

__all__ = ["random_images", "check_all_parameters_get_gradients", "encoder_features", "check_model_parts",
           "load_weights", "check_state", "LOSS_MISTAKES", "ATTENTION_MISTAKES",
           "ScriptedCaptioner", "check_teacher_forcing", "ChainCaptioner",
           "script_images", "chain_tables", "never_stopped", "check_captions_stop", "ATTENTION_PARTS",
           "check_attention_parts", "check_attention_state", "check_attention_weights", "matching_mistake"]

NULL, START, END = Vocabulary.null_idx, Vocabulary.start_idx, Vocabulary.end_idx


# --- inputs and generic module checks ---------------------------------------------------------------------------
def random_images(n: int, size: int = 64, seed: int = 0):
    """n random images in [-1, 1], float32 (n, 3, size, size): smooth blobs of colour, not pure noise."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, max(size // 8, 1), max(size // 8, 1), generator=g) * 2 - 1
    fine = 0.2 * (torch.rand(n, 3, size, size, generator=g) * 2 - 1)
    return (F.interpolate(coarse, size=(size, size), mode="nearest") + fine).clamp(-1, 1)


def check_all_parameters_get_gradients(module, what: str) -> None:
    """Raise unless every parameter of ``module`` has a .grad that is not all zero (after a backward pass)."""
    params = list(module.named_parameters())
    if not params:
        raise check_failure(f"{what} has no parameters: create the layers in __init__ as attributes (self.conv = "
                             "...), so that PyTorch registers them.")
    missing = [n for n, p in params if p.grad is None]
    zero = [n for n, p in params if p.grad is not None and not bool(p.grad.abs().sum() > 0)]
    if missing:
        raise check_failure(f"{what}: no gradient reached {missing[:4]}{' ...' if len(missing) > 4 else ''}. "
                             "Likely cause: a layer that is created in __init__ but not used in forward, or a "
                             "graph cut by .detach(), .data or torch.no_grad().")
    if zero:
        raise check_failure(f"{what}: the gradient of {zero[:4]} is exactly zero. Likely cause: the layer's output "
                             "is multiplied by zero or overwritten before it is used.")


def encoder_features(encoder, images):
    """``encoder(images)``, which must be a tensor."""
    out = encoder(images)
    if not isinstance(out, torch.Tensor):
        raise check_failure(f"ImageEncoder's forward must return a tensor, not {out.__class__.__name__}.")
    return out


def check_model_parts(model) -> bool:
    """CaptioningModel's parts exist with the names the tests read; returns True for an LSTM decoder."""

    for name in ("encoder", "init_h", "embed", "rnn", "readout"):
        if not hasattr(model, name):
            raise check_failure(f"CaptioningModel has no attribute `{name}`: name the parts encoder, init_h "
                                 "(and init_c for the LSTM), embed, rnn and readout.")
    if model.rnn.__class__ not in (nn.LSTM, nn.RNN):
        raise check_failure(f"model.rnn is a {model.rnn.__class__.__name__}: build it with RNN_LAYERS[cell].")
    if not model.rnn.batch_first:
        raise check_failure("model.rnn was built without batch_first=True: our tensors are (N, T, ...).")
    is_lstm = isinstance(model.rnn, nn.LSTM)
    if is_lstm and getattr(model, "init_c", None) is None:
        raise check_failure("an LSTM decoder needs `init_c`, the linear layer that gives the initial cell state.")
    return is_lstm


def load_weights(model, weights: dict, what: str) -> None:
    """Copy stored weights {parameter name: array} into ``model`` (``load_state_dict`` with strict=False, so the
    parameters not named, the encoder's say, keep theirs). Raises with the names and shapes when they differ."""
    own = {name: tuple(p.shape) for name, p in model.named_parameters()}
    for name, value in weights.items():
        if name not in own:
            raise check_failure(f"{what} has no parameter `{name}`: use the attribute names and layer types of "
                                 "the docstring (the tests read them).")
        if own[name] != tuple(value.shape):
            raise check_failure(f"{what}'s parameter `{name}` has shape {own[name]}, expected "
                                 f"{tuple(value.shape)}: check the sizes in the docstring.")
    model.load_state_dict({name: torch.as_tensor(value) for name, value in weights.items()}, strict=False)


# What a wrong caption_loss usually did, keyed as the stored values of those mistakes ("mistake.<key>").
LOSS_MISTAKES = {
    "unmasked": "the padding is not masked out: positions whose target is <NULL> must not count.",
    "per_caption": "the sum is divided by the number of captions N, as in notebook 01; here the loss is the mean "
                   "over the real target tokens of the whole batch.",
    "mean_of_means": "the loss is a mean of per-caption means; it must be the mean over all real target tokens of "
                     "the batch, so that a long caption counts more than a short one.",
    "input_mask": "the padding was masked where the INPUT word is <NULL> instead of where the TARGET is: the "
                  "position after <END> is then counted, or a real one left out.",
}
# What a wrong AttentionCaptioner usually did, keyed as the stored logits of those mistakes ("mistake.<key>").
ATTENTION_MISTAKES = {
    "no_scale": "the scores are not divided by the square root of C, the number of channels of a cell.",
    "softmax_over_steps": "the softmax runs over the time steps; it must run over the K cells, so that the weights "
                          "of each step sum to one.",
    "keys_as_values": "the context averages the keys; it must average the cells themselves.",
    "context_first": "the read-out gets the context first and the LSTM output second; the docstring's order is the "
                     "LSTM output, then the context.",
}


def matching_mistake(actual, candidates: dict, tol: float = 1e-8):
    """The text of the first candidate (text -> stored value of a known mistake) that ``actual`` matches within
    ``tol`` (relative to the largest entry), or None."""
    actual = np.asarray(actual, dtype=np.float64)
    for text, value in candidates.items():
        value = np.asarray(value, dtype=np.float64)
        if value.shape == actual.shape and np.abs(value - actual).max() <= tol * max(1.0, np.abs(value).max()):
            return text
    return None


# --- caption_loss ------------------------------------------------------------------------------------------------
class ScriptedCaptioner(nn.Module):
    """A stand-in with CaptioningModel's interface whose scores are a fixed function of the word it is fed and of
    its position: scores[n, t] = table[words[n, t]] + pos_bonus[t + offset] (offset = the number of words fed
    before, carried in the state). It records every ``words`` tensor it is fed (self.fed).
    table: (V, V); pos_bonus: (T_max, V)."""

    def __init__(self, table, pos_bonus):
        super().__init__()
        self.table = nn.Parameter(torch.as_tensor(np.asarray(table), dtype=torch.float64))
        self.pos_bonus = torch.as_tensor(np.asarray(pos_bonus), dtype=torch.float64)
        self.fed = []

    def forward(self, images, words, state=None):
        if not (isinstance(words, torch.Tensor) and words.dtype == torch.int64 and words.dim() == 2):
            raise check_failure("the model must be called as model(images, words) with words an int64 tensor "
                                 f"(N, T); got {words.__class__.__name__} {getattr(words, 'dtype', '')} of shape "
                                 f"{tuple(getattr(words, 'shape', ()))}.")
        self.fed.append(words.detach().clone())
        offset = 0 if state is None else int(state)
        T = words.shape[1]
        scores = self.table[words] + self.pos_bonus[offset:offset + T][None]
        return scores, torch.tensor(offset + T)


def check_teacher_forcing(model, captions) -> None:
    """``model`` (a ScriptedCaptioner) must have been called once, on the captions without their last token."""
    if not model.fed:
        raise check_failure("caption_loss never called the model.")
    fed = model.fed[0]
    captions = torch.as_tensor(captions)
    expected = captions[:, :-1]
    if len(model.fed) > 1:
        raise check_failure(f"caption_loss called the model {len(model.fed)} times: teacher forcing feeds the whole "
                             "input sequence in one call.")
    if fed.shape != expected.shape or not torch.equal(fed, expected):
        if fed.shape == captions.shape:
            raise check_failure("the model was fed the whole caption, <END> included: the inputs stop one token "
                                 "before the end, since nothing is predicted after <END>.")
        if fed.shape == expected.shape and torch.equal(fed, captions[:, 1:]):
            raise check_failure("the model was fed the targets (the caption from its first word): it must be fed "
                                 "the caption from <START>, and predict the word that follows each input.")
        raise check_failure(f"the model was fed words of shape {tuple(fed.shape)}; expected the captions without "
                             f"their last token, of shape {tuple(expected.shape)}.")


# --- sample_captions ---------------------------------------------------------------------------------------------
class ChainCaptioner(nn.Module):
    """A stand-in whose scores are a table lookup. Image n carries its script id in pixel [n, 0, 0, 0]; script s
    has a score table tables[s] of shape (V, V): after the word w the scores are tables[s][w] (plus pos_bonus[k]
    after the k-th word fed, carried in the state). It records the words fed (self.fed)."""

    def __init__(self, tables, pos_bonus=None):
        super().__init__()
        self.tables = torch.as_tensor(np.asarray(tables), dtype=torch.float32)
        S, V, _ = self.tables.shape
        self.pos_bonus = torch.zeros(64, V) if pos_bonus is None else torch.as_tensor(pos_bonus, dtype=torch.float32)
        self.dummy = nn.Parameter(torch.zeros(1))
        self.fed = []

    def forward(self, images, words, state=None):
        if not (isinstance(words, torch.Tensor) and words.dtype == torch.int64 and words.dim() == 2):
            raise check_failure("call the model as model(images, words, state) with words an int64 tensor (N, T); "
                                 f"got {words.__class__.__name__} of shape {tuple(getattr(words, 'shape', ()))}.")
        if state is None:
            scripts = images[:, 0, 0, 0].round().long()
            offset = 0
        else:
            scripts, offset = state
        self.fed.append(words.detach().clone())
        T = words.shape[1]
        scores = self.tables[scripts[:, None], words] + self.pos_bonus[offset:offset + T][None] + 0 * self.dummy
        return scores, (scripts, offset + T)


def script_images(scripts, size: int = 8):
    """Images (N, 3, size, size) for ChainCaptioner: pixel [n, 0, 0, 0] holds the script id of image n."""
    images = torch.zeros(len(scripts), 3, size, size)
    images[:, 0, 0, 0] = torch.as_tensor(scripts, dtype=torch.float32)
    return images


def chain_tables(chains, V: int, seed: int, strength: float = 4.0) -> np.ndarray:
    """One (V, V) score table per chain of word ids: after START comes chain[0], after chain[k] comes chain[k+1]
    (score + ``strength``; the last entry, usually END, is followed by more words, which a sampler that does not
    stop would emit). Other scores are small random numbers. Returns (len(chains), V, V)."""
    rng = np.random.default_rng(seed)
    tables = 0.5 * rng.standard_normal((len(chains), V, V))
    for s, chain in enumerate(chains):
        prev = START
        for w in chain:
            tables[s, prev, w] += strength
            prev = w
    return tables


def never_stopped(out) -> str:
    """A message if some row of ``out`` (N, L) has a real word after its first <END>, else ''."""
    out = np.asarray(out)
    for n, row in enumerate(out):
        ends = np.flatnonzero(row == END)
        if len(ends) and (row[ends[0] + 1:] != NULL).any():
            return (f"row {n} goes on after <END>: {row.tolist()}. Once a caption has emitted <END> it is finished: "
                    "every later entry of its row must be <NULL>, while the other rows go on.")
    return ""


def check_captions_stop(out) -> None:
    msg = never_stopped(out)
    if msg:
        raise check_failure(msg)


# --- AttentionCaptioner ------------------------------------------------------------------------------------------
ATTENTION_PARTS = ("encoder", "init_h", "init_c", "embed", "rnn", "query", "key", "readout")


def check_attention_parts(model) -> None:

    missing = [name for name in ATTENTION_PARTS if not hasattr(model, name)]
    if missing:
        raise check_failure(f"AttentionCaptioner has no attribute(s) {missing}: name the parts "
                             f"{', '.join(ATTENTION_PARTS)}.")
    if model.rnn.__class__ is not nn.LSTM or not model.rnn.batch_first:
        raise check_failure("model.rnn must be an nn.LSTM built with batch_first=True.")


def check_attention_state(state, expected: dict, what: str = "state", tol: float = 1e-8) -> None:
    """state must be (h, c, grid) with h, c (1, N, H) and grid (1, N, K, C), equal to expected["h"], ["c"],
    ["grid"] (arrays)."""
    if not (isinstance(state, tuple) and len(state) == 3 and all(isinstance(s, torch.Tensor) for s in state)):
        raise check_failure(f"{what} must be the triple (h, c, grid) of tensors, got {state.__class__.__name__}"
                             f"{' of length ' + str(len(state)) if isinstance(state, (tuple, list)) else ''}.")
    for part, tensor in zip(("h", "c", "grid"), state):
        check_shape(f"{what}: {part}", tensor.detach(), tuple(expected[part].shape))
        check_close(f"{what}: {part}", tensor.detach().double().numpy(), expected[part], tol,
                    hint="return the hidden and cell states that the LSTM returns, and the grid unchanged."
                         if part != "grid" else "the grid must be passed on unchanged from step to step.")


def check_attention_weights(model, expected_alpha, tol: float = 1e-8) -> None:
    """``model.attention`` must be a detached tensor (N, T, K) equal to ``expected_alpha``."""
    a = getattr(model, "attention", None)
    if not isinstance(a, torch.Tensor):
        raise check_failure("forward must keep the attention weights (N, T, K) in self.attention, got "
                             f"{a.__class__.__name__}.")
    if a.requires_grad:
        raise check_failure("self.attention must be detached: it is kept for plots only.")
    check_shape("model.attention", a, tuple(np.shape(expected_alpha)))
    check_close("model.attention", a.double().numpy(), expected_alpha, tol,
                hint="the weights are a softmax over the K cells of the scaled query-key scores: check the scale "
                     "and the axis of the softmax.")
