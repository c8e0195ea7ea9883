"""rnnlab.seq2seq_checks: the test fixtures of notebook 05. The stand-in networks against their formulas written out
in NumPy loops, the scripted networks step by step, and the small checks and their messages."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from rnnlab.seq2seq_checks import (LOSS_MISTAKES, ScriptDecoder, ScriptEncoder, ToyDecoder, ToyEncoder, as_id_lists,
                                   load_weights, loss_mistake, make_src_batch, returned_pair)
from rnnlab.vocab import Vocabulary

NULL, START, END = Vocabulary.null_idx, Vocabulary.start_idx, Vocabulary.end_idx


def test_make_src_batch():
    src, src_len = make_src_batch(np.random.default_rng(0), 9, [3, 1, 2])
    assert tuple(src.shape) == (3, 3) and src_len.tolist() == [3, 1, 2]
    assert src.min() >= 4 and src.max() < 9                               # noise in the padding too, never a special
    clean, _ = make_src_batch(np.random.default_rng(0), 9, [3, 1, 2], pad_with_noise=False)
    assert clean[1, 1:].tolist() == [NULL, NULL] and clean[2, 2] == NULL
    assert torch.equal(clean[0], src[0])


def _tanh_cumsum(table, ids, L):
    s = np.zeros(table.shape[1])
    outs = []
    for t in range(len(ids)):
        if t < L:
            s = s + table[ids[t]]
            outs.append(np.tanh(s))
        else:
            outs.append(np.zeros(table.shape[1]))
    return np.array(outs), np.tanh(s)


def test_toy_encoder_against_its_formula():
    enc = ToyEncoder(vocab_size=9, hidden_size=4, seed=3)
    src, src_len = make_src_batch(np.random.default_rng(1), 9, [4, 2, 1])
    outputs, h = enc(src, src_len)
    table = enc.table.detach().numpy()
    assert outputs.dtype == torch.float64 and tuple(h.shape) == (1, 3, 4)
    for n, L in enumerate(src_len.tolist()):
        exp_out, exp_h = _tanh_cumsum(table, src[n].tolist(), L)
        assert np.allclose(outputs[n].detach().numpy(), exp_out) and np.allclose(h[0, n].detach().numpy(), exp_h)
    assert np.array_equal(ToyEncoder(seed=3).table.detach().numpy(), table)   # seeded from NumPy: reproducible


def test_toy_decoder_against_its_formula_and_records_calls():
    dec = ToyDecoder(vocab_size=7, hidden_size=4, seed=2)
    y_in = torch.tensor([[START, 4, 5], [START, 6, 6]])
    state = torch.tensor(np.random.default_rng(5).standard_normal((1, 2, 4)))
    logits, new_state = dec(y_in, state)
    E, O, b = (p.detach().numpy() for p in (dec.embed, dec.out, dec.bias))
    for n in range(2):
        s = state[0, n].numpy()
        for t in range(3):
            s = np.tanh(s + E[y_in[n, t]])
            assert np.allclose(logits[n, t].detach().numpy(), O @ s + b)
        assert np.allclose(new_state[0, n].detach().numpy(), s)
    dec(y_in[:, :1], None, enc_out=torch.zeros(1), src_mask=torch.ones(2, 1, dtype=torch.bool))
    assert len(dec.calls) == 2 and dec.calls[1][1] is None and dec.calls[1][2] is True
    assert torch.equal(dec.calls[0][0], y_in) and dec.calls[0][2] is False


def test_script_networks_step_by_step():
    scripts = [[4, 6, END], [7]]
    enc, dec = ScriptEncoder(), ScriptDecoder(scripts)
    _, state = enc(torch.zeros(2, 3, dtype=torch.long), torch.tensor([3, 2]))
    y = torch.full((2, 1), START)
    got = []
    for _ in range(4):
        logits, state = dec(y, state)
        y = logits.argmax(-1)
        got.append(y[:, 0].tolist())
    F = ScriptDecoder.FILLER
    assert got == [[4, 7], [6, F], [END, F], [F, F]]                     # each row's script, then the filler
    assert dec.fed == [[START, START], [4, 7], [6, F], [END, F]]
    with pytest.raises(AssertionError, match=r"\(N, 1\)"):
        dec(torch.zeros(2, 2, dtype=torch.long), state)
    with pytest.raises(AssertionError, match="state None"):
        dec(y, None)


def test_as_id_lists_and_returned_pair():
    assert as_id_lists([torch.tensor([1, 2]), (3,), []]) == [[1, 2], [3], []]
    with pytest.raises(AssertionError, match="must return a list"):
        as_id_lists(torch.tensor([[1, 2]]))
    assert returned_pair((1, 2), "f") == (1, 2)
    with pytest.raises(AssertionError, match="f must return a pair, got int"):
        returned_pair(3, "f")


def test_load_weights():
    lin = nn.Linear(2, 3).double()
    arrays = {"p.weight": np.arange(6.0).reshape(3, 2), "p.bias": np.array([1.0, 2.0, 3.0]), "q.x": np.zeros(1)}
    load_weights(lin, arrays, "p.")
    assert lin.weight.dtype == torch.float64 and lin.weight.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert lin.bias.tolist() == [1, 2, 3]
    lin32 = nn.Linear(2, 3)
    load_weights(lin32, arrays, "p.")                                     # copied into the module's own dtype
    assert lin32.weight.dtype == torch.float32 and lin32.weight.tolist() == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(AssertionError, match="parameter `extra`"):
        model = nn.Linear(2, 3)
        model.extra = nn.Parameter(torch.zeros(1))
        load_weights(model, arrays, "p.")


def test_loss_mistake():
    wrong = {"unmasked": 2.5, "summed": 10.0, "no_shift": 1.0}
    assert loss_mistake(2.5, 1.0, wrong) == ("the loss is 2.500000 (expected 1.000000), the value you get when "
                                             + LOSS_MISTAKES["unmasked"] + ".")
    assert loss_mistake(10.0 + 1e-12, 1.0, wrong).endswith(LOSS_MISTAKES["summed"] + ".")
    assert loss_mistake(1.0, 1.0, wrong) == ""                           # a mistake that gives the right value
    assert loss_mistake(3.0, 1.0, wrong) == ""
