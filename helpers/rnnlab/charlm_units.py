"""Looking inside a trained character language model (notebook 03, section 8): record the states, compute simple
features of the text, and correlate them.

- :func:`record_states`: the top layer's h and c after every character, (T, H) each;
- :func:`text_features`: per-character features of a text (position in the line, speaker's name line, ...);
- :func:`correlations`: the Pearson correlation of every unit with a feature; :func:`unit_name` names a column.
"""
from __future__ import annotations

import re

import numpy as np
import torch

__all__ = ["record_states", "text_features", "unit_name", "correlations"]


@torch.no_grad()
def record_states(model, ids):
    """Run the model over `ids` one character at a time (batch of one); return the top layer's h and c after every
    character, as float32 NumPy arrays of shape (len(ids), H). For a GRU or RNN, c is h."""
    was_training = model.training
    model.eval()
    x = torch.as_tensor(ids, device=next(model.parameters()).device).view(1, -1)
    state, hs, cs = None, [], []
    for t in range(x.shape[1]):
        _, state = model(x[:, t:t + 1], state)
        h, c = state if isinstance(state, tuple) else (state, state)
        hs.append(h[-1, 0])
        cs.append(c[-1, 0])
    model.train(was_training)
    return torch.stack(hs).float().cpu().numpy(), torch.stack(cs).float().cpu().numpy()


def text_features(s):
    """Per-character features of a text: name -> float array of len(s) (the feature of the character just read)."""
    n = len(s)
    pos, in_name, in_word = np.zeros(n), np.zeros(n), np.zeros(n)
    in_quotes, in_brackets = np.zeros(n), np.zeros(n)
    line_start, quote_open, depth = 0, False, 0
    for k, ch in enumerate(s):
        pos[k] = k - line_start
        if ch == "\n":
            line_start = k + 1
            quote_open = False                         # quotes do not span lines here
        if ch == '"':
            quote_open = not quote_open
        in_quotes[k] = quote_open
        depth = depth + 1 if ch in "([{" else max(0, depth - 1) if ch in ")]}" else depth
        in_brackets[k] = depth > 0
        in_word[k] = ch.isalpha() or (ch == "'" and 0 < k < n - 1 and s[k - 1].isalpha() and s[k + 1].isalpha())
    for m in re.finditer(r"^[A-Z][A-Za-z' ]*:$", s, flags=re.MULTILINE):
        in_name[m.start():m.end() + 1] = 1             # the name, its colon and the newline after it
    return {"position in line": pos, "speaker name line": in_name, "inside a word": in_word,
            "inside double quotes": in_quotes, "inside brackets": in_brackets}


def unit_name(k, H):
    """The name of column k of np.concatenate([h, c], axis=1) for H units: h[k] or c[k - H]."""
    return f"h[{k}]" if k < H else f"c[{k - H}]"


def correlations(acts, feature):
    """Pearson correlation between every column of acts (T, K) and a feature (T,); 0 for constant columns."""
    a = acts - acts.mean(axis=0)
    f = feature - feature.mean()
    denom = np.sqrt((a ** 2).sum(axis=0) * (f ** 2).sum())
    return np.divide(a.T @ f, denom, out=np.zeros(acts.shape[1]), where=denom > 0)
