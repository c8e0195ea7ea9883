"""The solution notebooks' reference functions, for unit tests of the rnnlab recipes that call them.

Loaded with ``bench/nbload.py`` (set-up cell + the asked solution cells only), cached per notebook.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from nbload import load_solution_functions  # noqa: E402

VANILLA = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward", "word_embedding_forward",
           "word_embedding_backward", "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss"]
LSTM = ["clip_grad_norm", "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
        "gru_step_forward", "gru_step_backward"]


@functools.lru_cache(maxsize=None)
def vanilla_rnn() -> dict:
    return load_solution_functions(ROOT / "solutions" / "01_vanilla_rnn" / "vanilla_rnn.ipynb", VANILLA)


@functools.lru_cache(maxsize=None)
def lstm() -> dict:
    return load_solution_functions(ROOT / "solutions" / "02_lstm" / "lstm.ipynb", LSTM,
                                   setup_ids=("setup", "sigmoid"))
