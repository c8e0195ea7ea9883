"""Grader-side oracles of notebook 01 (vanilla RNN): PyTorch in float64 with the course's weights copied in.

Imported only by notebook 01's hidden test cells (in the judge kernel); never by anything a student receives.
Each returns what the graded function of the same role must return, computed by PyTorch (``nn.RNNCell``,
``nn.RNN``, ``F.embedding``, ``F.linear``, ``F.cross_entropy``) and autograd.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["step", "step_grads", "sequence", "sequence_grads", "embedding_grad", "affine", "affine_grads",
           "softmax_loss"]


def _t(a, dtype=np.float64, grad=False):
    return torch.tensor(np.asarray(a, dtype), requires_grad=grad)


def _loaded(module_weights, Wx, Wh, b):
    w_ih, w_hh, b_ih, b_hh = module_weights
    with torch.no_grad():
        w_ih.copy_(_t(Wx).T)
        w_hh.copy_(_t(Wh).T)
        b_ih.copy_(_t(b))
        b_hh.zero_()


def step(x, prev_h, Wx, Wh, b) -> np.ndarray:
    """next_h (N, H) of one tanh RNN step, by ``nn.RNNCell``."""
    D, H = np.shape(Wx)
    cell = torch.nn.RNNCell(D, H, nonlinearity="tanh", dtype=torch.float64)
    _loaded((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), Wx, Wh, b)
    with torch.no_grad():
        return cell(_t(x), _t(prev_h)).numpy()


def step_grads(x, prev_h, Wx, Wh, b, dnext_h) -> list:
    """[dx, dprev_h, dWx, dWh, db] of one tanh RNN step for the upstream gradient dnext_h, by autograd."""
    ts = [_t(a, grad=True) for a in (x, prev_h, Wx, Wh, b)]
    torch.tanh(ts[0] @ ts[2] + ts[1] @ ts[3] + ts[4]).backward(_t(dnext_h))
    return [t.grad.numpy() for t in ts]


def _rnn(Wx, Wh, b):
    D, H = np.shape(Wx)
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True, dtype=torch.float64)
    _loaded((rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0), Wx, Wh, b)
    return rnn


def sequence(x, h0, Wx, Wh, b) -> np.ndarray:
    """h (N, T, H) of a tanh RNN over x (N, T, D) from h0, by ``nn.RNN``."""
    with torch.no_grad():
        return _rnn(Wx, Wh, b)(_t(x), _t(h0)[None])[0].numpy()


def sequence_grads(x, h0, Wx, Wh, b, dh) -> list:
    """[dx, dh0, dWx, dWh, db] of a tanh RNN over a sequence for the upstream gradient dh (N, T, H)."""
    rnn = _rnn(Wx, Wh, b)
    xt, h0t = _t(x, grad=True), _t(np.asarray(h0, np.float64)[None], grad=True)
    rnn(xt, h0t)[0].backward(_t(dh))
    return [xt.grad.numpy(), h0t.grad.numpy()[0], rnn.weight_ih_l0.grad.numpy().T,
            rnn.weight_hh_l0.grad.numpy().T, rnn.bias_ih_l0.grad.numpy()]


def embedding_grad(x, W, dout) -> np.ndarray:
    """dW (V, D) of the lookup W[x] for the upstream gradient dout (N, T, D), by autograd through F.embedding."""
    Wt = _t(W, grad=True)
    F.embedding(_t(x, np.int64), Wt).backward(_t(dout))
    return Wt.grad.numpy()


def affine(x, w, b) -> np.ndarray:
    """x @ w + b at every step, (N, T, M), by F.linear."""
    return F.linear(_t(x), _t(w).T, _t(b)).numpy()


def affine_grads(x, w, b, dout) -> list:
    """[dx, dw, db] of the temporal affine layer for the upstream gradient dout (N, T, M)."""
    ts = [_t(a, grad=True) for a in (x, w, b)]
    F.linear(ts[0], ts[1].T, ts[2]).backward(_t(dout))
    return [t.grad.numpy() for t in ts]


def softmax_loss(x, y, mask):
    """(loss, dx (N, T, V), per-step losses (N, T)) of the masked temporal softmax loss divided by N."""
    N, T, V = np.shape(x)
    xt = _t(x, grad=True)
    per_step = F.cross_entropy(xt.reshape(N * T, V), _t(y, np.int64).reshape(N * T), reduction="none").reshape(N, T)
    loss = (per_step * torch.tensor(np.asarray(mask), dtype=torch.float64)).sum() / N
    loss.backward()
    return loss.item(), xt.grad.numpy(), per_step.detach().numpy()
