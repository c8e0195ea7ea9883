"""Benchmark: the reference NumPy LSTM of solutions/02_lstm against torch.nn.LSTM on the CPU.

Times one forward + backward pass over a batch of sequences (N=64, T=50, D=H=256, float32) for the solution
notebook's ``lstm_forward``/``lstm_backward`` and for ``torch.nn.LSTM`` (batch_first, default thread count), and
reports the median of a few repeats after a warm-up. Each library is timed in its own block (warm-up, then
``repeats`` runs) and the blocks alternate ``rounds`` times, so that a machine that gets busier or quieter affects
both. ``run()`` returns a dict; ``ratio`` is numpy time / torch time (the goal is below 2).

As a sanity check the NumPy hidden states are compared with PyTorch's, computed with the same weights (the gate
blocks permuted from the notebook's order i, f, o, g to PyTorch's i, f, g, o).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

if __package__:
    from .nbload import load_solution_functions
else:  # run as a script, or imported with bench/ on sys.path
    from nbload import load_solution_functions

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "02_lstm" / "lstm.ipynb"
FUNCTIONS = ["lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"]


def _to_torch_order(W: np.ndarray) -> np.ndarray:
    """Gate blocks along the last axis: (i, f, o, g) -> (i, f, g, o)."""
    i, f, o, g = np.split(W, 4, axis=-1)
    return np.concatenate([i, f, g, o], axis=-1)


def run(N: int = 64, T: int = 50, D: int = 256, H: int = 256, repeats: int = 5, rounds: int = 2, seed: int = 0) -> dict:
    # "sigmoid" is the notebook's locked helper cell that lstm_step_forward uses (lstm_forward does not need it).
    ns = load_solution_functions(NOTEBOOK, FUNCTIONS, setup_ids=("setup", "sigmoid"))
    lstm_forward, lstm_backward = ns["lstm_forward"], ns["lstm_backward"]

    rng = np.random.default_rng(seed)
    f32 = np.float32
    x = rng.standard_normal((N, T, D), dtype=f32)
    h0 = rng.standard_normal((N, H), dtype=f32)
    Wx = (rng.standard_normal((D, 4 * H), dtype=f32) / f32(np.sqrt(D))).astype(f32)
    Wh = (rng.standard_normal((H, 4 * H), dtype=f32) / f32(np.sqrt(H))).astype(f32)
    b = rng.standard_normal(4 * H, dtype=f32) * f32(0.1)
    dh = rng.standard_normal((N, T, H), dtype=f32)

    result_numpy = {}

    def numpy_pass():
        h, cache = lstm_forward(x, h0, Wx, Wh, b)
        result_numpy["h"] = h
        result_numpy["grads"] = lstm_backward(dh, cache)

    lstm = torch.nn.LSTM(D, H, batch_first=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(_to_torch_order(Wx).T.copy()))
        lstm.weight_hh_l0.copy_(torch.from_numpy(_to_torch_order(Wh).T.copy()))
        lstm.bias_ih_l0.copy_(torch.from_numpy(_to_torch_order(b)))
        lstm.bias_hh_l0.zero_()
    x_t = torch.from_numpy(x).requires_grad_()
    h0_t = torch.from_numpy(h0)[None]
    c0_t = torch.zeros(1, N, H)
    dh_t = torch.from_numpy(dh)
    result_torch = {}

    def torch_pass():
        lstm.zero_grad(set_to_none=True)
        x_t.grad = None
        out, _ = lstm(x_t, (h0_t, c0_t))
        out.backward(dh_t)
        result_torch["h"] = out

    # Time each library in its own block, after a warm-up: OpenBLAS (NumPy) and OpenMP (PyTorch) worker threads
    # keep spinning for a moment after a call, so alternating single runs would slow down whichever runs second.
    t_numpy, t_torch = [], []
    for _ in range(rounds):
        for fn, times in ((numpy_pass, t_numpy), (torch_pass, t_torch)):
            fn()
            for _ in range(repeats):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)

    h_np = result_numpy["h"]
    h_torch = result_torch["h"].detach().numpy()
    dtypes = sorted({str(np.asarray(a).dtype) for a in (h_np, *result_numpy["grads"])})
    numpy_s, torch_s = float(np.median(t_numpy)), float(np.median(t_torch))
    max_diff = float(np.max(np.abs(h_np.astype(np.float64) - h_torch)))
    summary = (f"Reference NumPy `lstm_forward` + `lstm_backward` (solutions/02_lstm) against `torch.nn.LSTM` on the "
               f"CPU, float32, N={N}, T={T}, D={D}, H={H}: **{1e3 * numpy_s:.1f} ms** vs **{1e3 * torch_s:.1f} ms**, "
               f"ratio **{numpy_s / torch_s:.2f}** (goal: below 2). Median of {repeats * rounds} runs each; "
               f"torch threads {torch.get_num_threads()}; NumPy results in {', '.join(dtypes)}; "
               f"max |h_numpy - h_torch| = {max_diff:.1e}.")
    return {
        "name": "lstm_forward+backward",
        "numpy_s": numpy_s,
        "torch_s": torch_s,
        "ratio": numpy_s / torch_s,
        "N": N, "T": T, "D": D, "H": H,
        "dtype": "float32",
        "numpy_output_dtypes": dtypes,
        "repeats": repeats * rounds,
        "torch_threads": torch.get_num_threads(),
        "max_abs_diff_h_vs_torch": max_diff,
        "markdown": summary,
    }


if __name__ == "__main__":
    print(run())
