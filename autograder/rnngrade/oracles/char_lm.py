"""Grader-side oracles of notebook 03 (character language model): ``lstm_step``, ``CharLM``, ``train_step`` and
``sample``.

Imported only by the notebook's hidden tests (in the judge) and by :func:`_expected`, which computes the stored
expected values of the visible tests (``helpers/rnnlab/expected/char_lm.npz``). Every oracle is built from
PyTorch's own layers in float64 (``nn.LSTMCell``, ``nn.LSTM``/``nn.GRU``/``nn.RNN``, ``F.cross_entropy``,
``clip_grad_norm_``) or computed by hand in NumPy (the greedy continuation of a table model).
"""
from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from rnnlab.charlm_testing import DecayLM, state_tensors
from rnnlab.gates import TORCH_ORDER, WORKBOOK_ORDER, reorder_gates

from .expected import producer

__all__ = ["lstm_cell_oracle", "char_lm_oracle", "local_copy", "train_step_oracle", "greedy_oracle",
           "sample_hint"]


def lstm_cell_oracle(args, dnext_h=None, dnext_c=None, order: str = WORKBOOK_ORDER) -> dict:
    """nn.LSTMCell in float64 with the workbook's weights (the 4H axis read in ``order``).

    args: six arrays x (N, D), prev_h (N, H), prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,). Returns next_h,
    next_c (N, H) and, given dnext_h and dnext_c (N, H), the gradients of sum(next_h * dnext_h + next_c * dnext_c)
    with respect to the six inputs (keys dx, dprev_h, dprev_c, dWx, dWh, db), by autograd.
    """
    x, prev_h, prev_c, Wx, Wh, b = (torch.tensor(np.asarray(a, dtype=np.float64)) for a in args)
    cell = nn.LSTMCell(Wx.shape[0], Wh.shape[0], dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(reorder_gates(Wx, order, TORCH_ORDER).T)
        cell.weight_hh.copy_(reorder_gates(Wh, order, TORCH_ORDER).T)
        cell.bias_ih.copy_(reorder_gates(b, order, TORCH_ORDER))
        cell.bias_hh.zero_()
    x, prev_h, prev_c = (v.requires_grad_(True) for v in (x, prev_h, prev_c))
    next_h, next_c = cell(x, (prev_h, prev_c))
    out = {"next_h": next_h.detach().numpy(), "next_c": next_c.detach().numpy()}
    if dnext_h is not None:
        ((next_h * torch.tensor(np.asarray(dnext_h, dtype=np.float64))).sum()
         + (next_c * torch.tensor(np.asarray(dnext_c, dtype=np.float64))).sum()).backward()
        out.update(dx=x.grad.numpy(), dprev_h=prev_h.grad.numpy(), dprev_c=prev_c.grad.numpy(),
                   dWx=reorder_gates(cell.weight_ih.grad.T, TORCH_ORDER, order).numpy(),
                   dWh=reorder_gates(cell.weight_hh.grad.T, TORCH_ORDER, order).numpy(),
                   db=reorder_gates(cell.bias_ih.grad, TORCH_ORDER, order).numpy())
    return out


def char_lm_oracle(model, x, state=None):
    """Logits (N, T, V) and final state computed from a CharLM's parameters with PyTorch's own layers, in float64:
    F.embedding, a fresh nn.LSTM / nn.GRU / nn.RNN loaded with model.rnn's weights, F.linear. x: (N, T) int64."""
    for name in ("embed", "rnn", "readout"):
        if not hasattr(model, name):
            raise AssertionError(f"CharLM has no attribute `{name}`: name the three layers embed, rnn and readout.")
    rnn = model.rnn
    if rnn.__class__ not in (nn.LSTM, nn.GRU, nn.RNN):
        raise AssertionError(f"model.rnn is a {rnn.__class__.__name__}: for cell='lstm', 'gru' or 'rnn' build it with "
                             "RNN_LAYERS[cell] (nn.LSTM, nn.GRU, nn.RNN).")
    kwargs = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
    ref = rnn.__class__(rnn.input_size, rnn.hidden_size, rnn.num_layers, batch_first=True, dtype=torch.float64,
                        **kwargs)
    ref.load_state_dict(rnn.state_dict())
    bias = model.readout.bias
    with torch.no_grad():
        out, new_state = ref(F.embedding(x, model.embed.weight.double()), state)
        logits = F.linear(out, model.readout.weight.double(), None if bias is None else bias.double())
    return logits, new_state


def local_copy(model) -> nn.Module:
    """A DecayLM in this process with ``model``'s current weights (the model under test may live in the student's
    process). The hidden tests send only ``rnnlab`` classes to the student's code: the grader's oracles are hidden
    from the student kernel."""
    ref = DecayLM(model.vocab_size, model.size, pair_state=model.pair_state)
    ref.load_state_dict({k: torch.as_tensor(np.asarray(v.detach())) for k, v in model.state_dict().items()})
    return ref


def train_step_oracle(model, x, y, state, lr: float, max_norm: float) -> dict:
    """What one step of truncated BPTT with torch.optim.SGD(lr) must do, computed on copies of the model.

    Returns loss, norm (the raw gradient's global norm), max_norm, loss_without_state (the loss from a zero state),
    state (the new state's tensors, detached), and {name: array} dicts before, params (after a correct step) and
    unclipped (after a step with the raw gradient)."""
    ref = local_copy(model)
    logits, new_state = ref(x, state)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    raw = {n: p.grad.clone() for n, p in ref.named_parameters()}
    norm = float(torch.nn.utils.clip_grad_norm_(ref.parameters(), max_norm))
    with torch.no_grad():
        free = local_copy(model)(x)[0]
        loss_without_state = F.cross_entropy(free.reshape(-1, free.shape[-1]), y.reshape(-1)).item()
        return {"loss": loss.item(), "norm": norm, "max_norm": max_norm, "loss_without_state": loss_without_state,
                "state": [s.detach() for s in state_tensors(new_state)],
                "before": {n: p.detach().numpy().copy() for n, p in model.named_parameters()},
                "params": {n: (p - lr * p.grad).numpy() for n, p in ref.named_parameters()},
                "unclipped": {n: (p - lr * raw[n]).numpy() for n, p in ref.named_parameters()}}


def greedy_oracle(table, bonus, prime_ids, length, carry_state=True, prime_last_only=False) -> list:
    """The greedy continuation of rnnlab.charlm_testing.TableLM, by hand in NumPy (the flags compute two plausible
    wrong answers: the state not carried, only the prime's last character fed)."""
    table, bonus = np.asarray(table, dtype=np.float32), np.asarray(bonus, dtype=np.float32)
    prime_ids = list(prime_ids[-1:] if prime_last_only else prime_ids)
    count, scores, out = 0, None, []
    for i in prime_ids:
        scores = table[i] + bonus[count % len(bonus)]
        count += 1
    for _ in range(length):
        nxt = int(np.argmax(scores))
        out.append(nxt)
        count = count if carry_state else 0
        scores = table[nxt] + bonus[count % len(bonus)]
        count += 1
    return out


def sample_hint(out, prime, vocab, table, bonus, length) -> str:
    """Name the likely mistake of a wrong greedy sample from TableLM."""
    gen = out[len(prime):]
    ids = vocab.encode(prime)
    if gen == vocab.decode(greedy_oracle(table, bonus, ids, length, carry_state=False)):
        return "the state is not passed back to the model with each new character."
    if gen == vocab.decode(greedy_oracle(table, bonus, ids, length, prime_last_only=True)):
        return "only the last character of the prime was fed: feed the whole prime first."
    return ("with temperature 0, take the most likely character at the LAST position, feed it back with the "
            "carried state, and repeat.")


# -- stored expected values of the visible tests -----------------------------------------------------------------
def _step_args(rng, N, D, H, scale):
    return [rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H)),
            scale * rng.standard_normal((D, 4 * H)), scale * rng.standard_normal((H, 4 * H)),
            scale * rng.standard_normal(4 * H)]


def _lstm_step_case(name, rng, N, D, H, scale, orders=False):
    args = _step_args(rng, N, D, H, scale)
    dnext_h, dnext_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    values = dict(zip(["x", "prev_h", "prev_c", "Wx", "Wh", "b"], args), dnext_h=dnext_h, dnext_c=dnext_c)
    values.update(lstm_cell_oracle(args, dnext_h, dnext_c))
    if orders:                      # next_h for the weights read in every other gate order: names a swapped order
        others = ["".join(p) for p in itertools.permutations(WORKBOOK_ORDER) if "".join(p) != WORKBOOK_ORDER]
        values["orders"] = np.array([[WORKBOOK_ORDER.index(g) for g in order] for order in others])   # (23, 4)
        values["next_h_orders"] = np.stack([lstm_cell_oracle(args, order=order)["next_h"] for order in others])
    return {f"{name}/{k}": v for k, v in values.items()}


def _charlm_case(name, cell, L, V, E, H, N, T, seed):
    """Seeded weights of a CharLM-shaped model (PyTorch's parameter names), inputs, and the oracle's outputs."""
    rng = np.random.default_rng(seed)
    layer = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](E, H, L, batch_first=True, dtype=torch.float64)
    weights = {"embed.weight": rng.standard_normal((V, E))}
    weights.update({f"rnn.{k}": 0.5 * rng.standard_normal(tuple(p.shape)) for k, p in layer.state_dict().items()})
    weights.update({"readout.weight": 0.5 * rng.standard_normal((V, H)), "readout.bias": 0.1 * rng.standard_normal(V)})

    class Holder(nn.Module):
        pass

    model = Holder()
    model.embed, model.rnn = nn.Embedding(V, E, dtype=torch.float64), layer
    model.readout = nn.Linear(H, V, dtype=torch.float64)
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    x = rng.integers(0, V, (N, T))
    h0 = 0.5 * rng.standard_normal((L, N, H))
    c0 = 0.5 * rng.standard_normal((L, N, H))
    state0 = (torch.tensor(h0), torch.tensor(c0)) if cell == "lstm" else torch.tensor(h0)
    logits, state = char_lm_oracle(model, torch.tensor(x), state0)
    logits_zero, _ = char_lm_oracle(model, torch.tensor(x))
    values = {f"weight.{k}": v for k, v in weights.items()}
    values.update(x=x, h0=h0, logits=logits.numpy(), logits_zero=logits_zero.numpy())
    tensors = state_tensors(state)
    values["h_n"] = tensors[0].numpy()
    if cell == "lstm":
        values.update(c0=c0, c_n=tensors[1].numpy())
    return {f"{name}/{k}": v for k, v in values.items()}


def _train_step_case(name, pair_state, seed, N, T, lr, max_norm, steps):
    """DecayLM(seed) and a carried state; the expected loss, state and parameters after each of `steps` SGD
    steps (the state carried from step to step)."""
    rng = np.random.default_rng(seed)
    model = DecayLM(pair_state=pair_state, seed=seed)
    V, K = model.vocab_size, model.size
    x, y = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    state_arrays = [0.5 * rng.standard_normal((1, N, K)) for _ in range(2 if pair_state else 1)]
    values = {"x": x, "y": y, "lr": np.float64(lr), "max_norm": np.float64(max_norm)}
    values.update({f"state0_{k}": s for k, s in enumerate(state_arrays)})
    state = tuple(torch.tensor(s) for s in state_arrays) if pair_state else torch.tensor(state_arrays[0])
    for step in range(1, steps + 1):
        exp = train_step_oracle(model, torch.tensor(x), torch.tensor(y), state, lr, max_norm)
        values.update({f"loss{step}": np.float64(exp["loss"]), f"norm{step}": np.float64(exp["norm"]),
                       f"loss_without_state{step}": np.float64(exp["loss_without_state"])})
        values.update({f"state{step}_{k}": s.numpy() for k, s in enumerate(exp["state"])})
        for part in ("before", "params", "unclipped"):        # flat, in the order of model.named_parameters()
            values[f"{part}{step}"] = np.concatenate([np.ravel(v) for v in exp[part].values()])
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(torch.tensor(exp["params"][n]))
        state = tuple(exp["state"]) if pair_state else exp["state"][0]
    return {f"{name}/{k}": v for k, v in values.items()}


@producer("char_lm")
def _expected() -> dict:
    values = {}
    values.update(_lstm_step_case("lstm_step", np.random.default_rng(300), 3, 4, 5, 0.5, orders=True))
    values.update(_lstm_step_case("lstm_step_large", np.random.default_rng(302), 2, 3, 4, 40.0))
    values.update(_charlm_case("charlm_lstm", "lstm", 1, 7, 3, 4, 2, 6, seed=310))
    values.update(_charlm_case("charlm_gru2", "gru", 2, 6, 3, 4, 2, 4, seed=313))
    values.update(_train_step_case("train_step_pair", True, seed=400, N=3, T=9, lr=0.1, max_norm=0.1, steps=1))
    values.update(_train_step_case("train_step_single", False, seed=402, N=2, T=5, lr=0.2, max_norm=0.3, steps=2))
    rng = np.random.default_rng(500)
    table, bonus = rng.standard_normal((6, 6)), 2.0 * rng.standard_normal((3, 6))
    prime_ids, n_new = np.array([5, 0, 1]), 12                        # "fab" in CharVocab("abcdef")
    values.update({"sample_greedy/table": table, "sample_greedy/bonus": bonus, "sample_greedy/prime_ids": prime_ids,
                   "sample_greedy/expected_ids": np.array(greedy_oracle(table, bonus, prime_ids, n_new)),
                   "sample_greedy/no_state_ids": np.array(greedy_oracle(table, bonus, prime_ids, n_new,
                                                                        carry_state=False)),
                   "sample_greedy/last_only_ids": np.array(greedy_oracle(table, bonus, prime_ids, n_new,
                                                                         prime_last_only=True))})
    return values
