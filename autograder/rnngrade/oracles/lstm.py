"""Grader-side oracles of notebook 02 (LSTM, GRU): PyTorch's cells in float64 with the course's weights copied in.

Imported only by hidden test cells (in the judge kernel) and by the producer of the visible tests' stored expected
values (``helpers/rnnlab/expected/lstm.npz``). Never imported by anything a student receives.

- :func:`torch_lstm_cell`  -- ``nn.LSTMCell`` outputs and (given upstream gradients) autograd gradients
- :func:`torch_lstm`       -- ``nn.LSTM`` (batch_first, zero initial cell state) outputs and gradients
- :func:`torch_gru_cell`   -- ``nn.GRUCell`` (bias_hh = 0) outputs and gradients; ``flip_z`` swaps z and 1 - z
- :func:`gru_hint`         -- names a GRU mistake (another gate order, z and 1 - z swapped)
- :func:`clip_reference`   -- the global-norm clipping of ``clip_grad_norm``
- :func:`variant_reference` -- one step of the LSTM variants of section 5 (torch, differentiable), graded
  ``variant_lstm_step``'s oracle; stored values in ``helpers/rnnlab/expected/lstm_variants.npz``
"""
from __future__ import annotations

import numpy as np
import torch

from rnnlab.compare import rel_error
from rnnlab.gates import gate_order_hint, reorder_gates

from .expected import producer

LSTM_ORDER, TORCH_LSTM_ORDER, GRU_ORDER = "ifog", "ifgo", "rzn"


def _leaf(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _load(module_weights, Wx, Wh, b, order_from, order_to):
    """Copy (Wx, Wh, b) into a module's (weight_ih, weight_hh, bias_ih, bias_hh); bias_hh = 0."""
    w_ih, w_hh, b_ih, b_hh = module_weights
    with torch.no_grad():
        w_ih.copy_(torch.from_numpy(reorder_gates(_f64(Wx), order_from, order_to).T.copy()))
        w_hh.copy_(torch.from_numpy(reorder_gates(_f64(Wh), order_from, order_to).T.copy()))
        b_ih.copy_(torch.from_numpy(reorder_gates(_f64(b), order_from, order_to)))
        b_hh.zero_()


def _weight_grads(module_weights, order_from, order_to):
    w_ih, w_hh, b_ih, _ = module_weights
    return {"dWx": reorder_gates(w_ih.grad.numpy().T, order_from, order_to),
            "dWh": reorder_gates(w_hh.grad.numpy().T, order_from, order_to),
            "db": reorder_gates(b_ih.grad.numpy(), order_from, order_to)}


def torch_lstm_cell(x, prev_h, prev_c, Wx, Wh, b, dnext_h=None, dnext_c=None, order=LSTM_ORDER) -> dict:
    """nn.LSTMCell (float64) with the weights' 4H axis read in ``order``. Keys next_h, next_c and, with upstream
    gradients, dx, dprev_h, dprev_c, dWx, dWh, db."""
    D, H = np.shape(Wx)[0], np.shape(Wh)[0]
    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    _load(weights, Wx, Wh, b, order, TORCH_LSTM_ORDER)
    xt, ht, ct = _leaf(x), _leaf(prev_h), _leaf(prev_c)
    next_h, next_c = cell(xt, (ht, ct))
    out = {"next_h": next_h.detach().numpy(), "next_c": next_c.detach().numpy()}
    if dnext_h is not None:
        torch.autograd.backward([next_h, next_c], [torch.tensor(_f64(dnext_h)), torch.tensor(_f64(dnext_c))])
        out.update(dx=xt.grad.numpy(), dprev_h=ht.grad.numpy(), dprev_c=ct.grad.numpy(),
                   **_weight_grads(weights, TORCH_LSTM_ORDER, order))
    return out


def torch_lstm(x, h0, Wx, Wh, b, dh=None, order=LSTM_ORDER) -> dict:
    """nn.LSTM (float64, batch_first, c0 = 0). Keys h and, given dh, dx, dh0, dWx, dWh, db."""
    N, T, D = np.shape(x)
    H = np.shape(Wh)[0]
    lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    weights = (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)
    _load(weights, Wx, Wh, b, order, TORCH_LSTM_ORDER)
    xt, h0t = _leaf(x), _leaf(h0)
    h, _ = lstm(xt, (h0t[None], torch.zeros(1, N, H, dtype=torch.float64)))
    out = {"h": h.detach().numpy()}
    if dh is not None:
        h.backward(torch.tensor(_f64(dh)))
        out.update(dx=xt.grad.numpy(), dh0=h0t.grad.numpy(), **_weight_grads(weights, TORCH_LSTM_ORDER, order))
    return out


def torch_gru_cell(x, prev_h, Wx, Wh, b, dnext_h=None, order=GRU_ORDER, flip_z=False) -> dict:
    """nn.GRUCell (float64, bias_ih = b, bias_hh = 0). flip_z swaps the roles of z and 1 - z.
    Keys next_h and, given dnext_h, dx, dprev_h, dWx, dWh, db."""
    D, H = np.shape(Wx)[0], np.shape(Wh)[0]
    Wx, Wh, b = (reorder_gates(_f64(W), order, GRU_ORDER) for W in (Wx, Wh, b))
    if flip_z:                                    # sigmoid(-a) = 1 - sigmoid(a)
        Wx, Wh, b = (np.concatenate([W[..., :H], -W[..., H:2 * H], W[..., 2 * H:]], axis=-1) for W in (Wx, Wh, b))
    cell = torch.nn.GRUCell(D, H, dtype=torch.float64)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    _load(weights, Wx, Wh, b, GRU_ORDER, GRU_ORDER)
    xt, ht = _leaf(x), _leaf(prev_h)
    next_h = cell(xt, ht)
    out = {"next_h": next_h.detach().numpy()}
    if dnext_h is not None:
        next_h.backward(torch.tensor(_f64(dnext_h)))
        out.update(dx=xt.grad.numpy(), dprev_h=ht.grad.numpy(), **_weight_grads(weights, GRU_ORDER, GRU_ORDER))
    return out


def gru_hint(actual, x, prev_h, Wx, Wh, b, default: str) -> str:
    """Name a likely GRU mistake: another gate order, or z and 1 - z swapped; else ``default``."""
    hint = gate_order_hint(actual, lambda order: torch_gru_cell(x, prev_h, Wx, Wh, b, order=order)["next_h"],
                           GRU_ORDER, "")
    if hint:
        return hint
    try:
        flipped = torch_gru_cell(x, prev_h, Wx, Wh, b, flip_z=True)["next_h"]
        if np.shape(actual) == flipped.shape and rel_error(actual, flipped) < 1e-6:
            return ("z and 1 - z are swapped: next_h = (1 - z) * n + z * prev_h, so z near 1 KEEPS the old state.")
    except Exception:  # a hint must never turn a failed check into a crash
        pass
    return default


def clip_reference(grads: dict, max_norm: float):
    """Global-norm clipping: (a new dict scaled by max_norm / total_norm when total_norm > max_norm, total_norm)."""
    total = float(np.sqrt(sum(np.sum(np.square(_f64(g))) for g in grads.values())))
    scale = max_norm / total if total > max_norm else 1.0
    return {k: _f64(g) * scale for k, g in grads.items()}, total


VARIANTS = ("vanilla", "NIG", "NFG", "NOG", "NIAF", "NOAF", "CIFG")


def variant_reference(x, prev_h, prev_c, Wx, Wh, b, variant: str):
    """One step of an LSTM variant (Greff et al.'s ablations), gate blocks i, f, o, g. Torch tensors or arrays in;
    torch tensors (N, H) out, float64 for arrays, the inputs' dtype for tensors, differentiable."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    t = [a if isinstance(a, torch.Tensor) else torch.as_tensor(_f64(a)) for a in (x, prev_h, prev_c, Wx, Wh, b)]
    x, prev_h, prev_c, Wx, Wh, b = t
    H = prev_h.shape[1]
    a_i, a_f, a_o, a_g = (x @ Wx + prev_h @ Wh + b).split(H, dim=1)
    f = torch.ones_like(a_f) if variant == "NFG" else torch.sigmoid(a_f)
    i = {"NIG": torch.ones_like(a_i), "CIFG": 1 - f}.get(variant, torch.sigmoid(a_i))
    o = torch.ones_like(a_o) if variant == "NOG" else torch.sigmoid(a_o)
    g = a_g if variant == "NIAF" else torch.tanh(a_g)
    next_c = f * prev_c + i * g
    return (o * next_c if variant == "NOAF" else o * torch.tanh(next_c)), next_c


def _variant_args(rng, N, D, H, scale=0.5):
    return [rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H)),
            scale * rng.standard_normal((D, 4 * H)), scale * rng.standard_normal((H, 4 * H)),
            scale * rng.standard_normal(4 * H)]


@producer("lstm_variants")
def _expected_variants() -> dict:
    """Fixed inputs (seed 700) and each variant's next_h, next_c for variant_lstm_step's visible test."""
    rng = np.random.default_rng(700)
    args = _variant_args(rng, 3, 4, 5)
    out = {f"inputs/{name}": a for name, a in zip(["x", "prev_h", "prev_c", "Wx", "Wh", "b"], args)}
    for variant in VARIANTS:
        next_h, next_c = variant_reference(*args, variant)
        out[f"{variant}/next_h"], out[f"{variant}/next_c"] = next_h.numpy(), next_c.numpy()
    return out


def _permutations(contract):
    import itertools
    return ["".join(p) for p in itertools.permutations(contract) if "".join(p) != contract]


def _gru_args(rng, N, D, H):
    return [rng.standard_normal((N, D)), rng.standard_normal((N, H)), 0.5 * rng.standard_normal((D, 3 * H)),
            0.5 * rng.standard_normal((H, 3 * H)), 0.5 * rng.standard_normal(3 * H)]


@producer("lstm")
def _expected() -> dict:
    """Fixed inputs and oracle outputs of notebook 02's visible tests (seeds as in the tests' text)."""
    out = {}
    rng = np.random.default_rng(100)              # lstm_step_forward and lstm_step_backward
    N, D, H = 3, 4, 5
    args = [rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H)),
            0.5 * rng.standard_normal((D, 4 * H)), 0.5 * rng.standard_normal((H, 4 * H)),
            0.5 * rng.standard_normal(4 * H)]
    for name, a in zip(["x", "prev_h", "prev_c", "Wx", "Wh", "b"], args):
        out[f"lstm_step/{name}"] = a
    ref = torch_lstm_cell(*args)
    out["lstm_step/next_h"], out["lstm_step/next_c"] = ref["next_h"], ref["next_c"]
    for order in _permutations(LSTM_ORDER):
        out[f"lstm_step/next_h_{order}"] = torch_lstm_cell(*args, order=order)["next_h"]
    up_h, up_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    out["lstm_step/dnext_h"], out["lstm_step/dnext_c"] = up_h, up_c
    zeros = np.zeros((N, H))
    for case, (dnh, dnc) in {"h_only": (up_h, zeros), "c_only": (zeros, up_c), "both": (up_h, up_c)}.items():
        grads = torch_lstm_cell(*args, dnh, dnc)
        for name in ["dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"]:
            out[f"lstm_step/{case}_{name}"] = grads[name]

    rng = np.random.default_rng(300)              # lstm_forward and lstm_backward
    N, T, D, H = 2, 3, 3, 4
    args = [rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), 0.5 * rng.standard_normal((D, 4 * H)),
            0.5 * rng.standard_normal((H, 4 * H)), 0.5 * rng.standard_normal(4 * H)]
    for name, a in zip(["x", "h0", "Wx", "Wh", "b"], args):
        out[f"lstm_seq/{name}"] = a
    out["lstm_seq/h"] = torch_lstm(*args)["h"]
    for order in _permutations(LSTM_ORDER):
        out[f"lstm_seq/h_{order}"] = torch_lstm(*args, order=order)["h"]
    dh_every = rng.standard_normal((N, T, H))
    dh_last = np.zeros((N, T, H))
    dh_last[:, -1] = rng.standard_normal((N, H))
    out["lstm_seq/dh_every"], out["lstm_seq/dh_last"] = dh_every, dh_last
    for case, dh in {"every": dh_every, "last": dh_last}.items():
        grads = torch_lstm(*args, dh)
        for name in ["dx", "dh0", "dWx", "dWh", "db"]:
            out[f"lstm_seq/{case}_{name}"] = grads[name]

    rng = np.random.default_rng(500)              # gru_step_forward
    N, D, H = 3, 4, 5
    args = _gru_args(rng, N, D, H)
    out.update({f"gru_step/{name}": a for name, a in zip(["x", "prev_h", "Wx", "Wh", "b"], args)})
    out["gru_step/next_h"] = torch_gru_cell(*args)["next_h"]
    for order in _permutations(GRU_ORDER):
        out[f"gru_step/next_h_{order}"] = torch_gru_cell(*args, order=order)["next_h"]
    out["gru_step/next_h_flipz"] = torch_gru_cell(*args, flip_z=True)["next_h"]
    rng = np.random.default_rng(600)              # gru_step_backward
    args = _gru_args(rng, N, D, H)
    out.update({f"gru_back/{name}": a for name, a in zip(["x", "prev_h", "Wx", "Wh", "b"], args)})
    dnext_h = rng.standard_normal((N, H))
    out["gru_back/dnext_h"] = dnext_h
    grads = torch_gru_cell(*args, dnext_h)
    for name in ["dx", "dprev_h", "dWx", "dWh", "db"]:
        out[f"gru_back/{name}"] = grads[name]
    return out
