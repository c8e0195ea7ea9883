"""Experiments of notebook 02 (gradient flow, clipping, stacking, speed), run on YOUR functions or on PyTorch's.

Nothing here computes a graded answer: the LSTM experiments call the functions you pass in, and the vanilla RNN
that the notebook compares them with is PyTorch's ``nn.RNN`` (autograd gives its gradients), never a NumPy copy of
notebook 01's exercises. Gradient clipping in :func:`train_delayed_copy` is done by the ``clip_fn`` you pass in.

- :func:`orthogonal`                 -- a random orthogonal matrix (all singular values 1)
- :func:`grad_norm_vs_length`        -- ||dL/dh0|| against the sequence length, for any forward/backward pair
- :func:`torch_rnn_grad_norm_vs_length` -- the same for PyTorch's vanilla ``nn.RNN`` with given weights
- :func:`delayed_copy_batch`, :func:`train_delayed_copy` -- a vanilla RNN (``nn.RNN``) trained by SGD on a
  delayed-copy task, its gradients clipped by your ``clip_fn``
- :func:`stacked_gradient_check`     -- a stack of LSTM layers built from your forward/backward, against numerical
  gradients
- :func:`time_against_torch_lstm`    -- one forward+backward pass of your LSTM against ``nn.LSTM`` (float32)
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .compare import rel_error
from .gradcheck import numerical_gradient

__all__ = ["orthogonal", "grad_norm_vs_length", "torch_rnn_grad_norm_vs_length", "delayed_copy_batch",
           "train_delayed_copy", "stacked_gradient_check", "time_against_torch_lstm"]


def orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random (n, n) orthogonal matrix, uniformly distributed: all its singular values are 1."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def grad_norm_vs_length(forward, backward, params, x, h0, lengths, v) -> np.ndarray:
    """Mean over the batch of ||dL/dh0|| for L = sum(v * h_T), for every length T in ``lengths``.

    forward(x, h0, *params) -> (h, cache) and backward(dh, cache) -> (dx, dh0, ...) follow the course's API
    (e.g. your lstm_forward and lstm_backward). x: (N, T_max, D); h0: (N, H); v: (N, H). Returns (len(lengths),).
    """
    norms = []
    for T in lengths:
        h, cache = forward(x[:, :T], h0, *params)
        dh = np.zeros_like(h)
        dh[:, -1] = v                     # the loss only sees the last hidden state
        dh0 = backward(dh, cache)[1]
        norms.append(np.linalg.norm(dh0, axis=1).mean())
    return np.array(norms)


def _torch_rnn(D: int, H: int, Wx, Wh, b) -> torch.nn.RNN:
    """PyTorch's vanilla tanh ``nn.RNN`` (float64, batch_first) with h_t = tanh(x_t Wx + h_{t-1} Wh + b)."""
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.as_tensor(np.asarray(Wx, np.float64).T))
        rnn.weight_hh_l0.copy_(torch.as_tensor(np.asarray(Wh, np.float64).T))
        rnn.bias_ih_l0.copy_(torch.as_tensor(np.asarray(b, np.float64)))
        rnn.bias_hh_l0.zero_()
    return rnn


def torch_rnn_grad_norm_vs_length(weights, x, h0, lengths, v) -> np.ndarray:
    """:func:`grad_norm_vs_length` for PyTorch's vanilla RNN. weights: (Wx (D, H), Wh (H, H), b (H,))."""
    Wx, Wh, b = weights
    rnn = _torch_rnn(np.shape(Wx)[0], np.shape(Wh)[0], Wx, Wh, b)
    v_t = torch.as_tensor(np.asarray(v, np.float64))
    norms = []
    for T in lengths:
        h0_t = torch.tensor(np.asarray(h0, np.float64), requires_grad=True)
        out, _ = rnn(torch.as_tensor(np.asarray(x[:, :T], np.float64)), h0_t[None])
        (out[:, -1] * v_t).sum().backward()
        norms.append(h0_t.grad.norm(dim=1).mean().item())
    return np.array(norms)


def delayed_copy_batch(rng: np.random.Generator, n: int, T: int, delay: int):
    """x: (n, T, 1) white noise; y: (n, T, 1) with y_t = x_{t - delay} (only meaningful for t >= delay)."""
    x = rng.standard_normal((n, T, 1))
    y = np.zeros_like(x)
    y[:, delay:] = x[:, :-delay]
    return x, y


def train_delayed_copy(clip_fn, lr: float, max_norm, iters: int, H: int = 32, T: int = 20, delay: int = 3,
                       batch: int = 32, w_scale: float = 1.0, seed: int = 0):
    """Train PyTorch's vanilla RNN (readout: one linear unit) by plain SGD to output the input ``delay`` steps ago.

    Every step the gradients are copied into a dict of NumPy arrays in the course's layout (Wx (1, H), Wh (H, H),
    b (H,), Wy (H, 1), by (1,)) and passed through ``clip_fn(grads, max_norm) -> (clipped, total_norm)`` (yours);
    max_norm None means no clipping (np.inf is passed). The recurrent weights start at ``w_scale`` times a random
    orthogonal matrix. A run stops when its loss is not finite or above 1e3 (it diverged; a line says so).
    Returns (losses, norms before clipping), one entry per completed iteration.
    """
    rng = np.random.default_rng(seed)
    rnn = _torch_rnn(1, H, rng.standard_normal((1, H)), w_scale * orthogonal(H, rng), np.zeros(H))
    rnn.bias_hh_l0.requires_grad_(False)           # one bias, as in the course's RNN
    readout = torch.nn.Linear(H, 1, dtype=torch.float64)
    with torch.no_grad():
        readout.weight.copy_(torch.as_tensor(rng.standard_normal((1, H)) / np.sqrt(H)))
        readout.bias.zero_()
    tensors = {"Wx": rnn.weight_ih_l0, "Wh": rnn.weight_hh_l0, "b": rnn.bias_ih_l0,
               "Wy": readout.weight, "by": readout.bias}
    transposed = {"Wx", "Wh", "Wy"}                 # PyTorch stores these as (out, in)
    losses, norms = [], []
    for _ in range(iters):
        x, y = delayed_copy_batch(rng, batch, T, delay)
        for t in tensors.values():
            t.grad = None
        h, _ = rnn(torch.as_tensor(x))
        err = (readout(h) - torch.as_tensor(y))[:, delay:]
        loss = (err ** 2).mean()
        if not torch.isfinite(loss) or loss.item() > 1e3:
            print(f"lr = {lr}, max_norm = {max_norm}: diverged after {len(losses)} iterations")
            break
        losses.append(loss.item())
        loss.backward()
        grads = {k: (t.grad.numpy().T if k in transposed else t.grad.numpy()).copy() for k, t in tensors.items()}
        clipped, norm = clip_fn(grads, np.inf if max_norm is None else max_norm)
        norms.append(float(norm))
        with torch.no_grad():
            for k, t in tensors.items():
                step = torch.as_tensor(np.asarray(clipped[k], np.float64))
                t -= lr * (step.T if k in transposed else step)
    return losses, norms


def stacked_gradient_check(lstm_forward, lstm_backward, hidden_sizes=(5, 4, 3), N: int = 2, T: int = 4, D: int = 3,
                           seed: int = 7) -> dict:
    """Stack LSTM layers built from YOUR lstm_forward/lstm_backward and compare every gradient of
    sum(top hidden states * dout) with a numerical gradient (float64 centred differences).

    Layer l maps (N, T, H_{l-1}) to (N, T, H_l) with its own h0 and weights (H_{-1} = D); the backward pass runs
    the layers in reverse, passing each layer's dx down as the dh of the layer below.
    Returns {"dx": rel_error, "layer l dh0": ..., "layer l dWx": ..., ...}.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    h0s = [rng.standard_normal((N, H)) for H in hidden_sizes]
    layers, fan_in = [], D
    for H in hidden_sizes:
        layers.append([0.5 * rng.standard_normal((fan_in, 4 * H)), 0.5 * rng.standard_normal((H, 4 * H)),
                       0.5 * rng.standard_normal(4 * H)])
        fan_in = H
    dout = rng.standard_normal((N, T, hidden_sizes[-1]))

    def forward():
        caches, inp = [], x
        for h0, (Wx, Wh, b) in zip(h0s, layers):
            inp, cache = lstm_forward(inp, h0, Wx, Wh, b)
            caches.append(cache)
        return inp, caches

    _, caches = forward()
    grads, d = [], dout
    for cache in reversed(caches):
        d, dh0, dWx, dWh, db = lstm_backward(d, cache)
        grads.append((dh0, dWx, dWh, db))
    grads = grads[::-1]

    def numeric(array):                            # changed in place and restored
        original = array.copy()

        def f(value):
            array[...] = value
            return float(np.sum(forward()[0] * dout))
        grad = numerical_gradient(f, original)
        array[...] = original
        return grad

    errors = {"dx": rel_error(d, numeric(x))}
    for l, (h0, weights, layer_grads) in enumerate(zip(h0s, layers, grads)):
        for name, g, p in zip(["dh0", "dWx", "dWh", "db"], layer_grads, (h0, *weights)):
            errors[f"layer {l} {name}"] = rel_error(g, numeric(p))
    return errors


def _median_seconds(fn, repeats: int) -> float:
    fn()                                           # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def time_against_torch_lstm(lstm_forward, lstm_backward, N: int, T: int, D: int, H: int, repeats: int = 5,
                            seed: int = 5) -> dict:
    """Median time of one forward+backward pass of YOUR LSTM and of ``nn.LSTM`` on the CPU, float32, (N, T, D)
    inputs and H hidden units. Returns {"numpy_s", "torch_s", "ratio", "grad_dtype"}."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    h0 = np.zeros((N, H), np.float32)
    Wx = (rng.standard_normal((D, 4 * H)) / np.sqrt(D)).astype(np.float32)
    Wh = (rng.standard_normal((H, 4 * H)) / np.sqrt(H)).astype(np.float32)
    b = np.zeros(4 * H, np.float32)
    dh = np.ones((N, T, H), np.float32)
    result = {}

    def numpy_pass():
        _, cache = lstm_forward(x, h0, Wx, Wh, b)
        result["grads"] = lstm_backward(dh, cache)

    lstm = torch.nn.LSTM(D, H, batch_first=True)
    x_t = torch.from_numpy(x).requires_grad_()

    def torch_pass():
        out, _ = lstm(x_t)
        out.backward(torch.from_numpy(dh))

    t_np, t_torch = _median_seconds(numpy_pass, repeats), _median_seconds(torch_pass, repeats)
    return {"numpy_s": t_np, "torch_s": t_torch, "ratio": t_np / t_torch,
            "grad_dtype": str(np.asarray(result["grads"][2]).dtype)}
