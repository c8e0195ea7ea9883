"""Unit tests of notebook 03's infrastructure: rnnlab.charlm, rnnlab.charlm_recipe, rnnlab.charlm_threads and
rnnlab.charlm_testing. Oracles here are PyTorch built-ins (nn.LSTM, torch.lstm_cell, F.cross_entropy) and
hand-computed cases."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from rnnlab.charlm import OwnLSTM, count_model_loss
from rnnlab.charlm_recipe import RECIPES, MODEL_KEYS, choose_recipe, evaluate, fit
from rnnlab.charlm_testing import (DecayLM, TableLM, call_lstm_step, check_detached, check_step_params,
                                   split_params)
from rnnlab.charlm_threads import ThreadTuner, cpu_threads
from rnnlab.gates import TORCH_ORDER, WORKBOOK_ORDER, reorder_gates


def builtin_step(x, h, c, Wx, Wh, b):
    """An LSTM step in the workbook's layout, by PyTorch's built-in torch.lstm_cell (the test's oracle)."""
    w_ih = reorder_gates(Wx, WORKBOOK_ORDER, TORCH_ORDER).T
    w_hh = reorder_gates(Wh, WORKBOOK_ORDER, TORCH_ORDER).T
    return torch.lstm_cell(x, (h, c), w_ih, w_hh, reorder_gates(b, WORKBOOK_ORDER, TORCH_ORDER), torch.zeros_like(b))


def test_own_lstm_with_copied_weights_equals_nn_lstm():
    torch.manual_seed(0)
    ref = nn.LSTM(3, 4, 2, batch_first=True, dtype=torch.float64)
    own = OwnLSTM(3, 4, 2, step=builtin_step).double().copy_from(ref)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    state = (torch.randn(2, 2, 4, dtype=torch.float64), torch.randn(2, 2, 4, dtype=torch.float64))
    out, (h, c) = own(x, state)
    ref_out, (ref_h, ref_c) = ref(x, state)
    for a, b in [(out, ref_out), (h, ref_h), (c, ref_c)]:
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert own(x)[0].shape == (2, 5, 4)


def test_own_lstm_needs_a_step_function():
    with pytest.raises(TypeError):
        OwnLSTM(3, 4)
    with pytest.raises(ValueError, match="batch_first"):
        OwnLSTM(3, 4, batch_first=False, step=builtin_step)


def test_count_model_loss_by_hand():
    train, val = np.array([0, 1, 0, 1]), np.array([0, 1, 1])
    # unigram: counts 2, 2, 0 + 1 each -> probabilities 3/7, 3/7, 1/7; val predictions: ids 1, 1
    assert count_model_loss(train, val, 3, 0) == pytest.approx(-math.log(3 / 7))
    # bigram with add-one: after 0: counts [1, 3, 1] / 5; after 1: [2, 1, 1] / 4; val pairs (0,1), (1,1)
    assert count_model_loss(train, val, 3, 1) == pytest.approx(-(math.log(3 / 5) + math.log(1 / 4)) / 2)
    with pytest.raises(ValueError):
        count_model_loss(train, val, 3, 2)


class SmallLM(nn.Module):
    def __init__(self, V=7):
        super().__init__()
        self.embed, self.rnn, self.readout = nn.Embedding(V, 3), nn.LSTM(3, 5, batch_first=True), nn.Linear(5, V)

    def forward(self, x, state=None):
        out, state = self.rnn(self.embed(x), state)
        return self.readout(out), state


def test_evaluate_is_the_mean_cross_entropy_over_the_whole_sequence():
    torch.manual_seed(1)
    model = SmallLM()
    ids = np.random.default_rng(0).integers(0, 7, 103)            # 102 predictions: streams of unequal use
    with torch.no_grad():
        logits, _ = model(torch.tensor(ids[None, :-1]))
        direct = F.cross_entropy(logits[0], torch.tensor(ids[1:])).item()
    model.train()
    assert evaluate(model, ids, batch_size=1, seq_len=10) == pytest.approx(direct, rel=1e-6)
    assert model.training
    # more streams: each starts from zeros, so the loss differs a little, but every prediction is counted once
    assert abs(evaluate(model, ids, batch_size=4, seq_len=7) - direct) < 0.1


def test_fit_calls_the_given_train_step_with_the_schedule():
    calls = []

    def step(model, optimizer, x, y, state, max_norm):
        calls.append((tuple(x.shape), optimizer.param_groups[0]["lr"], max_norm, state is None))
        return 1.0, state

    model = SmallLM()
    ids = np.arange(2000) % 7
    hist = fit(model, ids, step, batch_size=4, seq_len=8, lr=0.1, max_iters=50, progress_bar=False,
               tune_threads=False, max_norm=0.5)
    assert hist["iters"] == len(calls) == 50 and hist["loss"] == [1.0] * 50
    assert all(c[0] == (4, 8) and c[2] == 0.5 for c in calls)
    lrs = [c[1] for c in calls]
    assert lrs[0] == pytest.approx(0.1 * 0.01) and max(lrs) <= 0.1 + 1e-12 and lrs[-1] < 0.2
    with pytest.raises(ValueError):
        fit(model, ids, step)


def test_recipes_split_into_model_and_fit_arguments():
    name, recipe, amp = choose_recipe(torch.device("cpu"))
    assert name in ("cpu", "cpu-bf16") and recipe == RECIPES[name] and recipe is not RECIPES[name]
    assert set(MODEL_KEYS) <= set(recipe) and recipe["budget_s"] == 145.0


def test_thread_tuner_and_cpu_threads_restore_the_count():
    saved = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
        tuner = ThreadTuner()
        assert tuner.candidates == [1]
        for it in range(5):
            tuner.before_step(it)
            tuner.after_step(0.01)
        assert tuner.best == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == saved


def test_thread_tuner_keeps_the_faster_setting():
    with cpu_threads(2):
        tuner = ThreadTuner(every=100, trial=2)
        for it in range(8):
            tuner.before_step(it)
            tuner.after_step(0.01 if tuner.current == 2 else 0.05)
        assert tuner.best == 2


def test_decay_lm_is_seeded_and_split_params_round_trips():
    a, b = DecayLM(pair_state=True, seed=3), DecayLM(pair_state=True, seed=3)
    flat = np.concatenate([p.detach().numpy().ravel() for p in a.parameters()])
    assert all(np.array_equal(v, b.state_dict()[k].numpy()) for k, v in split_params(a, flat).items())
    logits, (s, u) = a(torch.tensor([[0, 1, 2]]))
    assert logits.shape == (1, 3, 6) and s.shape == u.shape == (1, 1, 5)
    assert isinstance(DecayLM()(torch.tensor([[0]]))[1], torch.Tensor)


def test_check_step_params_names_the_mistake():
    model = DecayLM(seed=1)
    before = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    moved = {n: v + 1.0 for n, v in before.items()}
    with pytest.raises(AssertionError, match="did not change"):
        check_step_params(model, {"before": before, "params": moved})
    with torch.no_grad():
        for p in model.parameters():
            p.add_(2.0)
    with pytest.raises(AssertionError, match="UNCLIPPED"):
        check_step_params(model, {"before": before, "params": moved, "norm": 5.0, "max_norm": 1.0,
                                  "unclipped": {n: v + 2.0 for n, v in before.items()}})
    with pytest.raises(AssertionError, match="attached"):
        check_detached(model(torch.tensor([[1, 2]]))[1])


def test_call_lstm_step_reports_dtype_and_cut_graph():
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s) for s in [(2, 3), (2, 4), (2, 4), (3, 16), (4, 16), (16,)]]
    out = call_lstm_step(builtin_step, args, np.ones((2, 4)), np.ones((2, 4)))
    assert out["dWx"].shape == (3, 16)
    with pytest.raises(AssertionError, match="dtype"):
        call_lstm_step(lambda *a: tuple(t.float() for t in builtin_step(*a)), args)
    with pytest.raises(AssertionError, match="graph was cut"):
        call_lstm_step(lambda *a: tuple(t.detach() for t in builtin_step(*a)), args, np.ones((2, 4)), np.ones((2, 4)))


def test_table_lm_records_what_it_is_fed():
    model = TableLM(np.eye(3), np.zeros((2, 3)))
    scores, k = model(torch.tensor([[2, 0]]))
    assert model.seen == [2, 0] and int(k) == 2 and scores.shape == (1, 2, 3)


def test_text_features_and_correlations_by_hand():
    from rnnlab.charlm_units import correlations, record_states, text_features, unit_name
    f = text_features('AB:\nab "c"\n')
    assert list(f["position in line"][:5]) == [0, 1, 2, 3, 0]
    assert list(f["speaker name line"][:5]) == [1, 1, 1, 1, 0] and f["speaker name line"][5] == 0
    assert list(f["inside double quotes"][7:10]) == [1, 1, 0]
    acts = np.array([[1.0, 5.0, 0.0], [2.0, 5.0, 1.0], [3.0, 5.0, 0.0]])
    r = correlations(acts, np.array([0.0, 1.0, 2.0]))
    assert r[0] == pytest.approx(1.0) and r[1] == 0.0 and r[2] == pytest.approx(0.0)
    assert unit_name(1, 4) == "h[1]" and unit_name(5, 4) == "c[1]"
    model = SmallLM()
    h, c = record_states(model, [1, 2, 3])
    assert h.shape == c.shape == (3, 5) and model.training
