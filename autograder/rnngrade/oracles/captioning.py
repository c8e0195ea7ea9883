"""Grader-side oracles of notebook 04 (image captioning), and the producer of its stored expected values.

Only hidden test cells import this module (in the judge kernel); visible tests read the values that
:func:`_expected` stores in ``helpers/rnnlab/expected/captioning.npz``. Everything is float64 and written out from
the equations, independently of the solution notebook's PyTorch code:

- :func:`lstm_by_hand`, :func:`rnn_by_hand`: the recurrences one step at a time (PyTorch's gate order i, f, g, o);
- :func:`decoder_oracle` / :func:`captioning_oracle`: CaptioningModel's forward pass from its parameters;
- :func:`caption_loss_oracle` and :func:`loss_mistakes`: the masked teacher-forced loss by hand in NumPy, and the
  values of the usual mistakes (which :func:`loss_hint` names);
- :func:`greedy_chain_oracle`: the greedy captions of ``rnnlab.captioning_checks.ChainCaptioner``;
- :func:`attention_oracle` (with the usual mistakes as variants) and :func:`attention_hint`;
- :func:`exact_match`: the exact-match rate of captions against their references (tests of rnnlab's evaluation).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from rnnlab.captioning_checks import (ATTENTION_MISTAKES, LOSS_MISTAKES, chain_tables, check_attention_parts,
                                      check_model_parts)
from rnnlab.vocab import Vocabulary, tokenize

from .expected import producer

NULL, START, END = Vocabulary.null_idx, Vocabulary.start_idx, Vocabulary.end_idx


# --- recurrences -------------------------------------------------------------------------------------------------
def lstm_by_hand(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """An LSTM layer, one step at a time from the equations (PyTorch's gate order i, f, g, o along the 4H axis).
    x: (N, T, D); h, c: (N, H). Returns outputs (N, T, H) and the final (h, c)."""
    outs = []
    for t in range(x.shape[1]):
        a = x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = a.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs, 1), (h, c)


def rnn_by_hand(x, h, w_ih, w_hh, b_ih, b_hh):
    """A vanilla (tanh) RNN layer, one step at a time: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)."""
    outs = []
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        outs.append(h)
    return torch.stack(outs, 1), h


# --- CaptioningModel ---------------------------------------------------------------------------------------------
def decoder_oracle(p: dict, words, h0, c0=None):
    """The decoder from a dict of float64 parameters (names as in CaptioningModel: embed.weight, rnn.*_l0,
    readout.*), started from h0 (N, H) (and c0 for the LSTM). Returns logits (N, T, V) and the state as
    nn.RNN / nn.LSTM return it ((1, N, H) tensors)."""
    x = F.embedding(torch.as_tensor(words), p["embed.weight"])
    args = (p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"], p["rnn.bias_ih_l0"], p["rnn.bias_hh_l0"])
    if c0 is not None:
        out, (h, c) = lstm_by_hand(x, h0, c0, *args)
        state = (h[None], c[None])
    else:
        out, h = rnn_by_hand(x, h0, *args)
        state = h[None]
    return F.linear(out, p["readout.weight"], p["readout.bias"]), state


def captioning_oracle(model, images, words, state=None):
    """CaptioningModel's forward pass recomputed from its parameters in float64 (``model.encoder`` used as it is:
    it is tested on its own). Returns logits and state."""
    is_lstm = check_model_parts(model)
    p = {n: q.detach().double() for n, q in model.named_parameters() if not n.startswith("encoder.")}
    with torch.no_grad():
        if state is None:
            feats = model.encoder(images).double()
            h0 = torch.tanh(F.linear(feats, p["init_h.weight"], p["init_h.bias"]))
            c0 = F.linear(feats, p["init_c.weight"], p["init_c.bias"]) if is_lstm else None
        else:
            h0 = (state[0] if is_lstm else state)[0].double()
            c0 = state[1][0].double() if is_lstm else None
        return decoder_oracle(p, words, h0, c0)


# --- caption_loss ------------------------------------------------------------------------------------------------
def caption_loss_oracle(table, pos_bonus, captions):
    """By hand in NumPy: the mean over every real target token (not <NULL>) of -log softmax(scores)[target], with
    the inputs captions[:, :-1] and the targets captions[:, 1:] (scores of ScriptedCaptioner)."""
    table, pos_bonus, captions = np.asarray(table), np.asarray(pos_bonus), np.asarray(captions)
    total, count = 0.0, 0
    for row in captions:
        for t in range(len(row) - 1):
            target = row[t + 1]
            if target == NULL:
                continue
            s = table[row[t]] + pos_bonus[t]
            total += -(s[target] - s.max() - np.log(np.exp(s - s.max()).sum()))
            count += 1
    return total / count


def loss_mistakes(table, pos_bonus, captions) -> dict:
    """The values that the usual wrong caption_loss gives on a ScriptedCaptioner: key of LOSS_MISTAKES -> float."""
    table, pos_bonus, captions = np.asarray(table), np.asarray(pos_bonus), np.asarray(captions)
    N = len(captions)
    scores = table[captions[:, :-1]] + pos_bonus[None, :captions.shape[1] - 1]
    logp = scores - scores.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    y = captions[:, 1:]
    nll = -np.take_along_axis(logp, y[..., None], -1)[..., 0]
    real = y != NULL
    fed = captions[:, :-1] != NULL
    return {
        "unmasked": float(nll.mean()),
        "per_caption": float((nll * real).sum() / N),
        "mean_of_means": float(np.mean([(nll[n] * real[n]).sum() / real[n].sum() for n in range(N)])),
        "input_mask": float((nll * fed).sum() / fed.sum()),
    }


def loss_hint(loss, table, pos_bonus, captions) -> str:
    """Name the likely mistake of a wrong caption_loss from the value it returned."""
    for key, value in loss_mistakes(table, pos_bonus, captions).items():
        if abs(loss - value) <= 1e-9 * max(1.0, abs(value)):
            return LOSS_MISTAKES[key]
    return ("feed the captions without their last token, predict the captions without their first, and average "
            "the cross-entropy over the positions whose target is not <NULL>.")


# --- sample_captions ---------------------------------------------------------------------------------------------
def greedy_chain_oracle(tables, scripts, max_length):
    """Greedy captions of ChainCaptioner (zero pos_bonus), by hand: follow the argmax from START, stop after END,
    pad with NULL. Returns int64 (len(scripts), max_length)."""
    out = np.full((len(scripts), max_length), NULL, dtype=np.int64)
    for n, s in enumerate(scripts):
        w = START
        for t in range(max_length):
            w = int(np.argmax(tables[s][w]))
            out[n, t] = w
            if w == END:
                break
    return out


# --- AttentionCaptioner ------------------------------------------------------------------------------------------
# the visible tests' texts, and one more mistake that only a test from images can see
ATTENTION_MISTAKES = {**ATTENTION_MISTAKES,
                      "grid_view": "the map (N, C, 3, 3) was reshaped to (N, K, C) directly, which mixes cells and "
                                   "channels; the cells are map[n, :, j // 3, j % 3] in reading order."}


def grid_cells(encoder_map, variant=None):
    """An encoder map (N, C, 3, 3) as K = 9 cell vectors in reading order: float64 NumPy (N, K, C)."""
    m = encoder_map.detach().double().numpy() if isinstance(encoder_map, torch.Tensor) else np.asarray(encoder_map)
    N, C = m.shape[:2]
    if variant == "grid_view":
        return m.reshape(N, 9, C)
    cells = np.empty((N, 9, C))
    for n in range(N):
        for j in range(9):
            cells[n, j] = m[n, :, j // 3, j % 3]
    return cells


def attention_decoder_oracle(p: dict, words, h0, c0, cells, variant=None) -> dict:
    """The attention decoder from float64 parameters p (embed, rnn, query, key, readout as in
    AttentionCaptioner), started from h0, c0 (N, H) with the cells (N, K, C): the LSTM step by step, the attention
    with loops over images, steps and cells. ``variant``: a key of ATTENTION_MISTAKES to reproduce that mistake.
    Returns NumPy arrays: logits (N, T, V), alpha (N, T, K), h and c (1, N, H)."""
    with torch.no_grad():
        x = F.embedding(torch.as_tensor(words), p["embed.weight"])
        out, (h, c) = lstm_by_hand(x, h0, c0, p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"], p["rnn.bias_ih_l0"],
                                   p["rnn.bias_hh_l0"])
    out = out.numpy()
    cells = np.asarray(cells, dtype=np.float64)
    Wq, bq, Wk, bk = (p[k].numpy() for k in ("query.weight", "query.bias", "key.weight", "key.bias"))
    Wo, bo = p["readout.weight"].numpy(), p["readout.bias"].numpy()
    N, T, H = out.shape
    K, C = cells.shape[1:]
    scores = np.empty((N, T, K))
    keys = np.empty((N, K, C))
    for n in range(N):
        for j in range(K):
            keys[n, j] = Wk @ cells[n, j] + bk
        for t in range(T):
            q = Wq @ out[n, t] + bq
            for j in range(K):
                scores[n, t, j] = q @ keys[n, j] / (1.0 if variant == "no_scale" else np.sqrt(C))
    axis = 1 if variant == "softmax_over_steps" else 2
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    alpha = e / e.sum(axis=axis, keepdims=True)
    values = keys if variant == "keys_as_values" else cells
    logits = np.empty((N, T, Wo.shape[0]))
    for n in range(N):
        for t in range(T):
            context = sum(alpha[n, t, j] * values[n, j] for j in range(K))
            both = np.concatenate([context, out[n, t]] if variant == "context_first" else [out[n, t], context])
            logits[n, t] = Wo @ both + bo
    return {"logits": logits, "alpha": alpha, "h": h.numpy()[None], "c": c.numpy()[None]}


def attention_oracle(model, images, words, state=None, variant=None) -> dict:
    """AttentionCaptioner's forward pass from the model's parameters in float64 (``model.encoder`` as it is).
    Returns a dict of NumPy arrays: logits, alpha, h, c, cells (N, K, C), grid (1, N, K, C), h0, c0."""
    check_attention_parts(model)
    p = {n: q.detach().double() for n, q in model.named_parameters() if not n.startswith("encoder.")}
    with torch.no_grad():
        if state is None:
            m = model.encoder(images)
            if not isinstance(m, torch.Tensor) or m.dim() != 4 or tuple(m.shape[2:]) != (3, 3):
                raise AssertionError("model.encoder(images) must return the pooled map (N, C, 3, 3), got "
                                     f"{m.__class__.__name__} of shape {tuple(getattr(m, 'shape', ()))}.")
            cells = grid_cells(m, variant)
            flat = torch.as_tensor(cells.reshape(len(cells), -1))
            h0 = torch.tanh(flat @ p["init_h.weight"].T + p["init_h.bias"])
            c0 = flat @ p["init_c.weight"].T + p["init_c.bias"]
        else:
            h0, c0 = state[0][0].double(), state[1][0].double()
            cells = state[2][0].detach().double().numpy()
    ref = attention_decoder_oracle(p, words, h0, c0, cells, variant)
    return {**ref, "cells": cells, "grid": cells[None], "h0": h0.numpy()[None], "c0": c0.numpy()[None]}


def attention_hint(model, images, words, logits, state=None) -> str:
    """Name the mistake whose logits match the model's, if one does."""
    logits = logits.detach().double().numpy()
    for variant, text in ATTENTION_MISTAKES.items():
        try:
            ref = attention_oracle(model, images, words, state, variant)["logits"]
        except Exception:
            continue
        if ref.shape == logits.shape and np.abs(ref - logits).max() <= 1e-8 * max(1.0, np.abs(ref).max()):
            return text
    return ("h0 = tanh(init_h(flat)), c0 = init_c(flat); out = rnn(embed(words), (h0, c0))[0]; scores = "
            "query(out) @ key(cells)^T / sqrt(C); alpha = softmax over the cells; context = alpha @ cells; "
            "logits = readout(cat([out, context], -1)).")


# --- evaluation ----------------------------------------------------------------------------------------------------
def exact_match(candidates, references) -> float:
    """Fraction of candidates equal (after ``tokenize``) to one of their references (a list per candidate)."""
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} reference lists")
    if not candidates:
        return 0.0
    hits = sum(tokenize(c) in [tokenize(r) for r in refs] for c, refs in zip(candidates, references))
    return hits / len(candidates)


# --- stored expected values of the visible tests -------------------------------------------------------------------
def _params(rng, shapes: dict, zero=()) -> dict:
    return {name: (np.zeros(shape) if name in zero else 0.5 * rng.standard_normal(shape))
            for name, shape in shapes.items()}


def _decoder_case(rng, V, E, H, F_in, N, T, prefix):
    """A CaptioningModel (LSTM) case: weights with init_h/init_c weights zero (so h0 = tanh(init_h.bias) and
    c0 = init_c.bias whatever the encoder computes), words, and the expected logits and states."""
    shapes = {"init_h.weight": (H, F_in), "init_h.bias": (H,), "init_c.weight": (H, F_in), "init_c.bias": (H,),
              "embed.weight": (V, E), "rnn.weight_ih_l0": (4 * H, E), "rnn.weight_hh_l0": (4 * H, H),
              "rnn.bias_ih_l0": (4 * H,), "rnn.bias_hh_l0": (4 * H,), "readout.weight": (V, H), "readout.bias": (V,)}
    w = _params(rng, shapes, zero=("init_h.weight", "init_c.weight"))
    words = rng.integers(0, V, size=(N, T))
    p = {k: torch.as_tensor(v) for k, v in w.items()}
    h0 = torch.tanh(p["init_h.bias"]).expand(N, H)
    c0 = p["init_c.bias"].expand(N, H)
    with torch.no_grad():
        logits, (h, c) = decoder_oracle(p, words, h0, c0)
    out = {f"{prefix}/w.{k}": v for k, v in w.items()}
    out.update({f"{prefix}/words": words, f"{prefix}/logits": logits.numpy(), f"{prefix}/h": h.numpy(),
                f"{prefix}/c": c.numpy(), f"{prefix}/h0": h0.numpy()[None], f"{prefix}/c0": c0.numpy()[None]})
    return out


def _loss_case(rng):
    V = 8
    table, bonus = rng.standard_normal((V, V)), rng.standard_normal((10, V))
    captions = np.array([[START, 4, 5, 6, 7, END, NULL],
                         [START, 6, END, NULL, NULL, NULL, NULL],
                         [START, 5, 4, 4, END, NULL, NULL]])
    scores = torch.tensor(table, requires_grad=True)
    s = scores[torch.as_tensor(captions[:, :-1])] + torch.as_tensor(bonus)[None, :captions.shape[1] - 1]
    F.cross_entropy(s.reshape(-1, V), torch.as_tensor(captions[:, 1:]).reshape(-1), ignore_index=NULL).backward()
    out = {"caption_loss/table": table, "caption_loss/bonus": bonus, "caption_loss/captions": captions,
           "caption_loss/loss": np.array(caption_loss_oracle(table, bonus, captions)),
           "caption_loss/grad_table": scores.grad.numpy(),
           # from a given state: the scripted model then starts at position 2 (its state counts the words fed)
           "caption_loss/loss_from_state2": np.array(caption_loss_oracle(table, bonus[2:], captions))}
    out.update({f"caption_loss/mistake.{k}": np.array(v) for k, v in loss_mistakes(table, bonus, captions).items()})
    return out


def _greedy_case():
    chains = [[5, 6, END], [7, END], [8, 9, 10, 4, END], [4, 5, 6, 7, 8, 9, 10, 11]]
    tables = chain_tables(chains, 12, seed=470)
    tables[:, END, 11] += 6.0                     # after <END>, the model would go on with word 11 ...
    tables[:, NULL, 11] += 6.0                    # ... also if it is fed <NULL>
    scripts = np.array([0, 1, 2, 3, 1])
    return {"greedy/tables": tables, "greedy/scripts": scripts,
            "greedy/captions": greedy_chain_oracle(tables, scripts, 6)}


def _attention_case(rng, V=11, E=5, H=7, C=8, N=3, T=6):
    K = 9
    shapes = {"init_h.weight": (H, K * C), "init_h.bias": (H,), "init_c.weight": (H, K * C), "init_c.bias": (H,),
              "embed.weight": (V, E), "rnn.weight_ih_l0": (4 * H, E), "rnn.weight_hh_l0": (4 * H, H),
              "rnn.bias_ih_l0": (4 * H,), "rnn.bias_hh_l0": (4 * H,), "query.weight": (C, H), "query.bias": (C,),
              "key.weight": (C, C), "key.bias": (C,), "readout.weight": (V, H + C), "readout.bias": (V,)}
    w = _params(rng, shapes, zero=("init_h.weight", "init_c.weight"))
    p = {k: torch.as_tensor(v) for k, v in w.items()}
    words = rng.integers(0, V, size=(N, T))
    h0, c0 = rng.standard_normal((1, N, H)), rng.standard_normal((1, N, H))
    grid = rng.standard_normal((1, N, K, C))
    ref = attention_decoder_oracle(p, words, torch.as_tensor(h0[0]), torch.as_tensor(c0[0]), grid[0])
    out = {f"attention/w.{k}": v for k, v in w.items()}
    out.update({"attention/words": words, "attention/given_h": h0, "attention/given_c": c0, "attention/grid": grid,
                "attention/logits": ref["logits"], "attention/alpha": ref["alpha"], "attention/h": ref["h"],
                "attention/c": ref["c"],
                "attention/init_h0": np.tanh(w["init_h.bias"])[None, None].repeat(N, 1),
                "attention/init_c0": w["init_c.bias"][None, None].repeat(N, 1)})
    for variant in ("no_scale", "softmax_over_steps", "keys_as_values", "context_first"):
        out[f"attention/mistake.{variant}"] = attention_decoder_oracle(
            p, words, torch.as_tensor(h0[0]), torch.as_tensor(c0[0]), grid[0], variant)["logits"]
    return out


@producer("captioning")
def _expected() -> dict:
    rng = np.random.default_rng(2024)
    return {**_decoder_case(rng, V=11, E=5, H=7, F_in=9, N=3, T=6, prefix="lstm_model"), **_loss_case(rng),
            **_greedy_case(), **_attention_case(rng)}
