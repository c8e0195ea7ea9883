"""rnngrade.oracles.captioning (grader side, notebook 04) against PyTorch's built-ins and hand-computed cases: the
decoder against nn.Embedding + nn.LSTM / nn.RNN + nn.Linear, the loss against F.cross_entropy, the values of the
usual mistakes, greedy captions of a chain, the attention decoder against a vectorised computation, and exact match
(moved here from rnnlab.captions: it computes notebook 05's graded exact_match)."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from rnngrade.oracles import captioning as O
from rnnlab.captioning_checks import LOSS_MISTAKES, chain_tables
from rnnlab.expected import load_expected

NULL, START, END = 0, 1, 2


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_decoder_oracle_matches_torch_layers(cell):
    torch.manual_seed(0)
    V, E, H, N, T = 9, 4, 5, 3, 6
    embed, readout = nn.Embedding(V, E).double(), nn.Linear(H, V).double()
    rnn = (nn.LSTM if cell == "lstm" else nn.RNN)(E, H, batch_first=True).double()
    words = torch.randint(0, V, (N, T))
    h0 = torch.randn(1, N, H, dtype=torch.float64)
    c0 = torch.randn(1, N, H, dtype=torch.float64)
    with torch.no_grad():
        out, state = rnn(embed(words), (h0, c0) if cell == "lstm" else h0)
        expected = readout(out)
    p = {f"embed.{k}": v for k, v in embed.state_dict().items()}
    p.update({f"rnn.{k}": v for k, v in rnn.state_dict().items()})
    p.update({f"readout.{k}": v for k, v in readout.state_dict().items()})
    logits, ref_state = O.decoder_oracle(p, words, h0[0], c0[0] if cell == "lstm" else None)
    torch.testing.assert_close(logits, expected, rtol=1e-12, atol=1e-12)
    for a, b in zip(ref_state if cell == "lstm" else [ref_state], state if cell == "lstm" else [state]):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_caption_loss_oracle_matches_cross_entropy_and_mistakes_differ():
    rng = np.random.default_rng(0)
    V = 7
    table, bonus = rng.standard_normal((V, V)), rng.standard_normal((6, V))
    captions = np.array([[START, 4, 5, 6, END, NULL], [START, 5, END, NULL, NULL, NULL]])
    scores = torch.as_tensor(table)[torch.as_tensor(captions[:, :-1])] + torch.as_tensor(bonus)[None, :5]
    expected = F.cross_entropy(scores.reshape(-1, V), torch.as_tensor(captions[:, 1:]).reshape(-1), ignore_index=NULL)
    assert O.caption_loss_oracle(table, bonus, captions) == pytest.approx(expected.item(), rel=1e-12)
    mistakes = O.loss_mistakes(table, bonus, captions)
    assert set(mistakes) == set(LOSS_MISTAKES)
    values = [expected.item(), *mistakes.values()]
    assert min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]) > 1e-6
    # dividing the same sum by N instead of by the 6 real target tokens
    assert mistakes["per_caption"] == pytest.approx(expected.item() * 6 / 2, rel=1e-12)
    assert O.loss_hint(mistakes["unmasked"], table, bonus, captions) == LOSS_MISTAKES["unmasked"]


def test_greedy_chain_oracle_follows_the_chains():
    tables = chain_tables([[5, 6, END], [4, 4 + 3, 3, 5]], 9, seed=1)
    out = O.greedy_chain_oracle(tables, [0, 1, 0], 4)
    assert out.tolist() == [[5, 6, END, NULL], [4, 7, 3, 5], [5, 6, END, NULL]]


def test_attention_decoder_oracle_matches_a_vectorised_computation():
    torch.manual_seed(1)
    V, E, H, C, N, T, K = 8, 3, 4, 5, 2, 3, 9
    embed, lstm = nn.Embedding(V, E).double(), nn.LSTM(E, H, batch_first=True).double()
    query, key, readout = nn.Linear(H, C).double(), nn.Linear(C, C).double(), nn.Linear(H + C, V).double()
    words = torch.randint(0, V, (N, T))
    h0, c0, cells = (torch.randn(N, H, dtype=torch.float64), torch.randn(N, H, dtype=torch.float64),
                     torch.randn(N, K, C, dtype=torch.float64))
    with torch.no_grad():
        out, (h, c) = lstm(embed(words), (h0[None], c0[None]))
        alpha = torch.softmax(query(out) @ key(cells).transpose(1, 2) / math.sqrt(C), dim=-1)
        logits = readout(torch.cat([out, alpha @ cells], dim=-1))
    p = {}
    for name, mod in [("embed", embed), ("rnn", lstm), ("query", query), ("key", key), ("readout", readout)]:
        p.update({f"{name}.{k}": v for k, v in mod.state_dict().items()})
    ref = O.attention_decoder_oracle(p, words, h0, c0, cells.numpy())
    np.testing.assert_allclose(ref["logits"], logits.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ref["alpha"], alpha.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ref["h"], h.numpy(), rtol=1e-10, atol=1e-12)
    for variant in ("no_scale", "softmax_over_steps", "keys_as_values", "context_first"):
        wrong = O.attention_decoder_oracle(p, words, h0, c0, cells.numpy(), variant)["logits"]
        assert np.abs(wrong - logits.numpy()).max() > 1e-6, variant


def test_grid_cells_reading_order():
    m = torch.arange(2 * 3 * 9, dtype=torch.float64).view(2, 3, 3, 3)
    cells = O.grid_cells(m)
    assert cells.shape == (2, 9, 3) and cells[1, 5].tolist() == m[1, :, 1, 2].tolist()


def test_stored_cases_are_what_the_visible_tests_expect():
    case = load_expected("captioning", "lstm_model")
    assert not case["w.init_h.weight"].any() and not case["w.init_c.weight"].any()     # h0 = tanh(bias)
    np.testing.assert_allclose(case["h0"][0, 0], np.tanh(case["w.init_h.bias"]))
    greedy = load_expected("captioning", "greedy")
    assert greedy["captions"].tolist() == [[5, 6, END, 0, 0, 0], [7, END, 0, 0, 0, 0], [8, 9, 10, 4, END, 0],
                                           [4, 5, 6, 7, 8, 9], [7, END, 0, 0, 0, 0]]


def test_exact_match():
    s = "a large red circle above a small blue square"
    assert O.exact_match([s, "a circle"], [[s], ["a square"]]) == 0.5
    assert O.exact_match(["A Large, red circle"], [["a large red circle", "x"]]) == 1.0
    assert O.exact_match([], []) == 0.0
    with pytest.raises(ValueError, match="candidates"):
        O.exact_match(["a"], [])
