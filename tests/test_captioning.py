"""rnnlab.captioning, rnnlab.captioning_checks and rnnlab.captioning_plots (notebook 04's infrastructure): image
tensors, the recipe and its schedule, gate biases, states repeated per caption, evaluation against hand-counted
cases, the training loop with a stand-in model, the test helpers' messages, and the tables."""
import math

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from rnnlab.captioning import (SCHEDULE, build_captioner, caption_images, caption_tensor, captioning_recipe, evaluate,
                               images_to_tensor, repeat_state, set_lstm_biases, train_recipe)
from rnnlab.captioning_checks import (ChainCaptioner, ScriptedCaptioner, check_all_parameters_get_gradients,
                                      check_captions_stop, check_state, check_teacher_forcing, load_weights,
                                      matching_mistake, never_stopped, script_images)
from rnnlab.captioning_plots import score_table, words_right_by_position
from rnnlab.captions import CaptionSet, Vocabulary
from rnnlab.schedules import warmup_cosine

matplotlib.use("Agg")
NULL, START, END = 0, 1, 2


def _split(captions):
    """A CaptionSet of tiny blank images with the given reference lists."""
    n = len(captions)
    return CaptionSet(np.zeros((n, 8, 8, 3), np.uint8), captions, np.arange(n), name="toy")


class Scripted(nn.Module):
    """Writes, for image n, the caption ids scripts[n] (read from pixel [n, 0, 0, 0]): a sampler stand-in."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))


def scripted_sampler(scripts):
    def sampler(model, images, max_length=30, temperature=0.0, generator=None):
        ids = images[:, 0, 0, 0].add(1).mul(127.5).round().long()      # back from [-1, 1] to the uint8 value
        out = torch.full((len(images), max_length), NULL, dtype=torch.int64)
        for k, i in enumerate(ids.tolist()):
            out[k, :len(scripts[i])] = torch.as_tensor(scripts[i])
        return out
    return sampler


def test_images_to_tensor_layout_and_range():
    img = np.zeros((2, 4, 4, 3), np.uint8)
    img[1, 0, 3, 2] = 255
    x = images_to_tensor(img)
    assert x.shape == (2, 3, 4, 4) and x.dtype == torch.float32
    assert x[0].eq(-1).all() and x[1, 2, 0, 3] == 1.0


def test_recipe_quick_and_full_and_the_schedule():
    full, quick = captioning_recipe(quick=False), captioning_recipe(quick=True)
    assert full["max_seconds"] == 180.0 and full["max_iters"] == 20000 and quick["max_iters"] == 30
    assert {k: v for k, v in full.items() if k not in ("max_iters", "max_seconds", "eval_every_s", "eval_images")} \
        == {k: v for k, v in quick.items() if k not in ("max_iters", "max_seconds", "eval_every_s", "eval_images")}
    # the notebook's former lr_factor: linear warm-up over 3 % from at least 2 %, then a cosine down to 2 %
    assert warmup_cosine(0.0, **SCHEDULE) == 0.02 and warmup_cosine(0.015, **SCHEDULE) == pytest.approx(0.5)
    assert warmup_cosine(0.03, **SCHEDULE) == pytest.approx(1.0)
    assert warmup_cosine(1.0, **SCHEDULE) == pytest.approx(0.02)
    mid = 0.03 + 0.97 / 2
    assert warmup_cosine(mid, **SCHEDULE) == pytest.approx(0.02 + 0.98 * 0.5)


def test_set_lstm_biases_sets_input_and_forget_gates():
    lstm = nn.LSTM(3, 4, batch_first=True)
    set_lstm_biases(lstm, forget_bias=2.0, input_bias=-1.0)
    total = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach()
    assert torch.equal(total[:4], torch.full((4,), -1.0)) and torch.equal(total[4:8], torch.full((4,), 2.0))
    # with zero weights and zero input, the forget gate is sigmoid(2)
    with torch.no_grad():
        lstm.weight_ih_l0.zero_()
        lstm.weight_hh_l0.zero_()
    h = torch.zeros(1, 1, 4)
    c = torch.ones(1, 1, 4)
    _, (_, c1) = lstm(torch.zeros(1, 1, 3), (h, c))
    g = torch.tanh(total[8:12])
    expected = torch.sigmoid(torch.tensor(2.0)) * 1 + torch.sigmoid(torch.tensor(-1.0)) * g
    torch.testing.assert_close(c1[0, 0], expected)


def test_build_captioner_sizes_and_biases_only_for_lstms():
    class Toy(nn.Module):
        def __init__(self, vocab_size, embed_dim, hidden_size, cell="lstm"):
            super().__init__()
            self.rnn = (nn.LSTM if cell == "lstm" else nn.RNN)(embed_dim, hidden_size)

    m = build_captioner(Toy, 10, {"forget_bias": 3.0}, cell="lstm")
    assert m.rnn.hidden_size == 128 and m.rnn.input_size == 64
    assert torch.all(m.rnn.bias_ih_l0[128:256] == 3.0)
    r = build_captioner(Toy, 10, cell="rnn")
    assert not torch.all(r.rnn.bias_ih_l0 == 0.0)        # PyTorch's own initialisation, untouched


def test_caption_tensor_and_repeat_state():
    vocab = Vocabulary.build(["a red circle", "a blue square"])
    split = _split([["a red circle", "a blue square"], ["a blue square", "a red circle above a blue square"]])
    refs = caption_tensor(split, vocab)
    assert refs.shape == (2, 2, 9) and refs.dtype == torch.int64
    assert caption_tensor(split, vocab, "first").shape[:2] == (2, 1)
    h = torch.arange(6.0).view(1, 2, 3)
    rep = repeat_state(h, 3)
    assert rep.shape == (1, 6, 3) and torch.equal(rep[0, 2], h[0, 0]) and torch.equal(rep[0, 3], h[0, 1])
    pair = repeat_state((h, h + 1), 2)
    assert isinstance(pair, tuple) and torch.equal(pair[1][0, 1], h[0, 0] + 1)


def test_evaluate_counts_exact_matches_and_scores_bleu():
    vocab = Vocabulary.build(["the small red circle", "a large blue square above a small red circle"])
    split = _split([["a small red circle", "the small red circle"], ["a large blue square"],
                    ["a small red circle"], ["a large blue square above a small red circle"]])
    split.images[:, 0, 0, 0] = np.arange(4)              # each image names its script
    scripts = [vocab.encode("the small red circle", add_special=False) + [END],   # the second reference: right
               vocab.encode("a large red square", add_special=False) + [END],     # wrong
               vocab.encode("a small red circle", add_special=False) + [END],     # right
               vocab.encode("a large blue square", add_special=False)]            # cut before its end: wrong
    res = evaluate(Scripted(), split, vocab, scripted_sampler(scripts))
    assert res["exact_match"] == 0.5                     # 2 of 4, counted by hand
    assert res["captions"][0] == "the small red circle"
    first = evaluate(Scripted(), split, vocab, scripted_sampler(scripts), references="first")
    assert first["exact_match"] == 0.25                  # only image 2 equals its first reference
    assert evaluate(Scripted(), split, vocab, scripted_sampler(scripts), max_images=1)["exact_match"] == 1.0
    # BLEU-1 of "a large red square" against "a large blue square" alone: 3 of 4 unigrams
    assert evaluate(Scripted(), split.subset([1]), vocab, scripted_sampler([None, scripts[1]]))["bleu1"] == 0.75


def test_caption_images_restores_training_mode_and_decodes():
    vocab = Vocabulary.build(["a red circle"])
    model = Scripted().train()
    images = np.zeros((3, 8, 8, 3), np.uint8)
    caps = caption_images(model, images, vocab, scripted_sampler([vocab.encode("a red circle", add_special=False)]),
                          batch_size=2)
    assert caps == ["a red circle"] * 3 and model.training


class BagCaptioner(nn.Module):
    """A tiny trainable stand-in with the captioner interface: the state is a learned vector per image colour."""

    def __init__(self, vocab_size, embed_dim=8, hidden_size=8):
        super().__init__()
        self.init = nn.Linear(3, hidden_size)
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.readout = nn.Linear(hidden_size, vocab_size)
        self.rnn = nn.RNN(hidden_size, hidden_size)       # unused: only for build_captioner's isinstance
        self.states_seen = []

    def initial_state(self, images):
        return torch.tanh(self.init(images.mean(dim=(2, 3))))[None]

    def forward(self, images, words, state=None):
        if state is None:
            state = self.initial_state(images)
        self.states_seen.append(state.shape)
        return self.readout(torch.tanh(self.embed(words) + state[0][:, None])), state


def _loss(model, images, captions, state=None):
    logits, _ = model(images, captions[:, :-1], state)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), captions[:, 1:].reshape(-1), ignore_index=NULL)


def _greedy(model, images, max_length=30, temperature=0.0, generator=None):
    out = torch.full((len(images), max_length), NULL, dtype=torch.int64)
    words, state, done = torch.full((len(images), 1), START), None, torch.zeros(len(images), dtype=torch.bool)
    with torch.no_grad():
        for t in range(max_length):
            logits, state = model(images, words, state)
            w = torch.where(done, torch.zeros_like(logits[:, -1, 0], dtype=torch.int64), logits[:, -1].argmax(1))
            out[:, t], done, words = w, done | (w == END), w[:, None]
    return out


def test_train_recipe_learns_a_toy_task_and_reports_history():
    torch.manual_seed(0)
    red, blue = "there is a red circle here", "there is a blue square here"     # long enough for 4-grams
    vocab = Vocabulary.build([red, blue])
    images = np.zeros((40, 8, 8, 3), np.uint8)
    images[:20, ..., 0] = 255                             # red images say `red`, the others `blue`
    split = CaptionSet(images, [[red]] * 20 + [[blue]] * 20, np.arange(40))
    model = BagCaptioner(len(vocab))
    recipe = dict(batch_images=8, captions_per_image=1, references="first", lr=3e-2, max_iters=150, max_seconds=60.0,
                  eval_every_s=0.0, eval_images=40)
    hist = train_recipe(model, split, vocab, _loss, _greedy, val=split, target_bleu4=1.0, recipe=recipe,
                        progress_bar=False)
    assert hist["iterations"] == len(hist["loss"]) == len(hist["time"]) <= 150
    assert hist["val_bleu4"][-1][2] == 1.0 and hist["val_bleu4"][-1][0] == hist["iterations"]
    assert evaluate(model, split, vocab, _greedy)["exact_match"] == 1.0
    assert not model.training


def test_train_recipe_repeats_each_state_per_caption():
    vocab = Vocabulary.build(["a red circle", "a blue square", "the red circle", "the blue square"])
    split = CaptionSet(np.zeros((4, 8, 8, 3), np.uint8), [["a red circle", "the red circle"]] * 4, np.arange(4))
    model = BagCaptioner(len(vocab))
    seen = []

    def loss_fn(model, images, captions, state=None):
        seen.append((images, captions.shape[0], state.shape))
        return _loss(model, images, captions, state)

    train_recipe(model, split, vocab, loss_fn, _greedy, recipe=dict(batch_images=3, captions_per_image=2,
                 references="all", max_iters=2, max_seconds=30.0), progress_bar=False)
    assert seen == [(None, 6, (1, 6, 8))] * 2


def test_check_helpers_messages():
    lin, unused = nn.Linear(2, 2), nn.Linear(2, 2)
    both = nn.ModuleDict({"used": lin, "unused": unused})
    lin(torch.ones(1, 2)).sum().backward()
    with pytest.raises(AssertionError, match="no gradient reached"):
        check_all_parameters_get_gradients(both, "toy")
    assert "goes on after <END>" in never_stopped([[4, END, 5]]) and never_stopped([[4, END, NULL]]) == ""
    with pytest.raises(AssertionError, match="goes on after"):
        check_captions_stop(np.array([[END, 3]]))
    model = ScriptedCaptioner(np.zeros((5, 5)), np.zeros((4, 5)))
    caps = torch.tensor([[START, 3, END]])
    model(None, caps)
    with pytest.raises(AssertionError, match="whole caption"):
        check_teacher_forcing(model, caps)
    with pytest.raises(AssertionError, match="shape"):
        load_weights(nn.Sequential(nn.Linear(2, 3)), {"0.weight": np.zeros((2, 2))}, "toy")
    with pytest.raises(AssertionError, match="no parameter"):
        load_weights(nn.Sequential(nn.Linear(2, 3)), {"1.weight": np.zeros((2, 2))}, "toy")
    with pytest.raises(AssertionError, match="holds 1 tensor"):
        check_state("state", torch.zeros(1, 2, 3), (np.zeros((1, 2, 3)), np.zeros((1, 2, 3))), 1e-8, hint="")
    assert matching_mistake(2.0, {"a": 1.0, "b": 2.0 + 1e-12}) == "b" and matching_mistake(3.0, {"a": 1.0}) is None


def test_chain_captioner_follows_its_table():
    tables = np.zeros((1, 6, 6))
    tables[0, START, 4] = tables[0, 4, END] = 1.0
    model = ChainCaptioner(tables)
    scores, state = model(script_images([0, 0]), torch.full((2, 1), START))
    assert scores.shape == (2, 1, 6) and int(scores[0, 0].argmax()) == 4 and state[1] == 1


def test_score_table_and_words_by_position(capsys):
    vocab = Vocabulary.build(["a red circle"])
    split = _split([["a red circle"], ["a red circle"]])
    rows = score_table({"toy": Scripted()}, {"s": split}, vocab,
                       scripted_sampler([vocab.encode("a red circle", add_special=False)]))
    assert rows[0][:2] == ("toy", "s") and rows[0][2]["exact_match"] == 1.0
    assert "BLEU-4" in capsys.readouterr().out
    pos, acc = words_right_by_position(["a red square", "a blue circle"], _split([["a red circle"]] * 2), min_count=1)
    assert pos.tolist() == [0, 1, 2] and acc.tolist() == [1.0, 0.5, 0.5]
    assert math.isclose(acc.sum(), 2.0)
