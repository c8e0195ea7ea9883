"""rnnlab.lstm_variants (the ablation runner of notebook 02 section 5) and the grader-side variant oracle.

The oracle ``rnngrade.oracles.lstm.variant_reference`` (which produces ``expected/lstm_variants.npz``) is checked
against PyTorch's ``nn.LSTMCell``, an implementation of another kind: the standard cell directly, a removed gate
as that gate's block saturated at 1 (bias 40, weights 0), CIFG as an input-gate block equal to minus the forget
gate's block (sigmoid(-a) = 1 - sigmoid(a)); NIAF and NOAF by their defining properties.
"""
import functools
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnngrade.oracles.lstm import VARIANTS, variant_reference
from rnnlab import lstm_variants, memory_task
from rnnlab.gates import reorder_gates

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from nbload import load_solution_functions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N, D, H = 3, 4, 5
BLOCK = {gate: slice(k * H, (k + 1) * H) for k, gate in enumerate("ifog")}


@functools.lru_cache(maxsize=None)
def solution_step():
    return load_solution_functions(ROOT / "solutions" / "02_lstm" / "lstm.ipynb",
                                   ["variant_lstm_step"])["variant_lstm_step"]


def _args(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in [(N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)]]


def _torch_cell(x, h, c, Wx, Wh, b):
    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(reorder_gates(Wx, "ifog", "ifgo").T.copy()))
        cell.weight_hh.copy_(torch.from_numpy(reorder_gates(Wh, "ifog", "ifgo").T.copy()))
        cell.bias_ih.copy_(torch.from_numpy(reorder_gates(b, "ifog", "ifgo")))
        cell.bias_hh.zero_()
        next_h, next_c = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    return next_h.numpy(), next_c.numpy()


def _ref(args, variant):
    return tuple(t.numpy() for t in variant_reference(*args, variant))


def test_reference_vanilla_is_nn_lstmcell():
    args = _args()
    for got, want in zip(_ref(args, "vanilla"), _torch_cell(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("variant,gate", [("NIG", "i"), ("NFG", "f"), ("NOG", "o")])
def test_reference_removed_gate_is_a_saturated_gate(variant, gate):
    x, h, c, Wx, Wh, b = _args(1)
    Wx, Wh, b = Wx.copy(), Wh.copy(), b.copy()
    Wx[:, BLOCK[gate]], Wh[:, BLOCK[gate]], b[BLOCK[gate]] = 0.0, 0.0, 40.0     # sigmoid(40) == 1.0 in float64
    want = _torch_cell(x, h, c, Wx, Wh, b)
    for got, w in zip(_ref(_args(1), variant), want):          # the variant ignores the block: original weights
        np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-14)


def test_reference_cifg_is_an_input_gate_mirroring_the_forget_gate():
    x, h, c, Wx, Wh, b = _args(2)
    Wx2, Wh2, b2 = Wx.copy(), Wh.copy(), b.copy()
    for W in (Wx2, Wh2):
        W[:, BLOCK["i"]] = -W[:, BLOCK["f"]]
    b2[BLOCK["i"]] = -b2[BLOCK["f"]]
    for got, want in zip(_ref(_args(2), "CIFG"), _torch_cell(x, h, c, Wx2, Wh2, b2)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_reference_niaf_and_noaf_by_their_definitions():
    x, h, c, Wx, Wh, b = _args(3)
    a_g = x @ Wx[:, BLOCK["g"]] + h @ Wh[:, BLOCK["g"]] + b[BLOCK["g"]]
    b_open = b.copy()
    b_open[BLOCK["i"]], b_open[BLOCK["f"]], b_open[BLOCK["o"]] = 40.0, -40.0, 40.0   # i = 1, f ~ 0, o = 1
    Wx0, Wh0 = Wx.copy(), Wh.copy()
    for W in (Wx0, Wh0):
        W[:, :3 * H] = 0.0
    next_h, next_c = _ref([x, h, c, Wx0, Wh0, b_open], "NIAF")
    np.testing.assert_allclose(next_c, a_g, rtol=1e-12, atol=1e-12)             # the candidate, unsquashed
    np.testing.assert_allclose(next_h, np.tanh(a_g), rtol=1e-12, atol=1e-12)    # the output tanh stays
    next_h, next_c = _ref([x, h, c, Wx0, Wh0, b_open], "NOAF")
    np.testing.assert_allclose(next_c, np.tanh(a_g), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(next_h, next_c, rtol=1e-12, atol=1e-12)          # h = o * c with o = 1


def test_reference_rejects_unknown_names():
    with pytest.raises(ValueError):
        variant_reference(*_args(), "peephole")


def test_solution_matches_the_reference_for_every_variant():
    step = solution_step()
    args = _args(4)
    for variant in VARIANTS:
        got = step(*(torch.from_numpy(a) for a in args), variant)
        for g, w in zip(got, _ref(args, variant)):
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-12, atol=1e-14, err_msg=variant)


def test_stream_batch_targets_are_the_latest_stored_symbol():
    rng = np.random.default_rng(5)
    x, y = memory_task.stream_batch(rng, 6, 30, K=4, p_store=0.2)
    assert x.shape == (6, 30, 5) and y.shape == (6, 30)
    np.testing.assert_array_equal(x[..., :4].sum(axis=2), np.ones((6, 30)))     # one symbol per step
    assert np.all(x[:, 0, 4] == 1)                                               # step 0 always stores
    for n in range(6):
        kept = None
        for t in range(30):
            if x[n, t, 4] == 1:
                kept = int(x[n, t, :4].argmax())
            assert y[n, t] == kept


def test_train_run_calls_the_given_step_with_its_variant_and_forget_bias():
    seen = []

    def spy(x, h, c, Wx, Wh, b, variant):
        seen.append((variant, float(b[H_SPY:2 * H_SPY].detach().mean()), tuple(x.shape)))
        return torch.tanh(x @ Wx[:, :H_SPY] + h @ Wh[:, :H_SPY]), c

    H_SPY = 6
    batch_fn = functools.partial(memory_task.recall_batch, gap=3)
    losses, acc = lstm_variants.train_run(spy, lstm_variants.Run("NOG", forget_bias=1.0), batch_fn, iters=2, seed=0,
                                          hidden=H_SPY, batch=4, n_test=10)
    assert len(losses) == 2 and 0.0 <= acc <= 1.0
    assert {v for v, _, _ in seen} == {"NOG"}
    assert seen[0][1] == 1.0                     # the forget-gate block starts at the given bias
    assert seen[0][2] == (4, 5) and len(seen) == 3 * 5   # (iters + test batch) x 5 steps


def test_ablation_learns_and_summarises():
    """The solution's cell learns a short recall task; the GRU path runs; the table states mean and spread."""
    runs = {"vanilla, bias 1": lstm_variants.Run("vanilla", 1.0), "GRU": lstm_variants.Run(None)}
    rows = lstm_variants.run_ablation(solution_step(), runs, functools.partial(memory_task.recall_batch, gap=2),
                                      iters=150, seeds=[0, 1], hidden=16, n_test=100)
    assert [r["label"] for r in rows] == ["vanilla, bias 1", "GRU"] * 2
    summary = lstm_variants.summarize(rows)
    assert summary["vanilla, bias 1"]["accuracy"][0] > 0.6, summary          # chance is 0.25
    accs = [r["accuracy"] for r in rows if r["label"] == "GRU"]
    assert summary["GRU"]["accuracy"] == pytest.approx((np.mean(accs), np.std(accs)))
    table = lstm_variants.format_table(summary)
    assert "GRU" in table and "±" in table and len(table.splitlines()) == 3

