"""rnnlab.clips_checks: the test fixtures of notebook 06 (masks, padded batches, the stand-in encoder) and the checks
of its stated rules, which must pass a correct model and catch each broken rule with words that name it."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from rnnlab.clips_checks import (CLASSIFIER_MISTAKES, MASKED_CE_MISTAKES, TinyFrameEncoder, check_parts,
                                 check_stated_rules, pad_mask, random_batch, refill_padding, run_loss, run_model,
                                 stored_mistake)


def test_pad_mask_by_hand():
    assert pad_mask(torch.tensor([3, 1, 2]), 4).tolist() == [[True, True, True, False], [True, False, False, False],
                                                              [True, True, False, False]]
    assert pad_mask(torch.tensor([2], dtype=torch.int32), 2).tolist() == [[True, True]]


@pytest.mark.parametrize("frames", [False, True])
def test_random_batch_and_refill_padding(frames):
    step = (6, 6) if frames else (3,)
    x, lengths = random_batch(5, 3, 4, step, [4, 1, 2], frames=frames)
    again, _ = random_batch(5, 3, 4, step, [4, 1, 2], frames=frames)
    assert torch.equal(x, again) and lengths.dtype == torch.int64
    assert x.dtype == (torch.uint8 if frames else torch.float64) and tuple(x.shape) == (3, 4, *step)
    pad = ~pad_mask(lengths, 4)
    assert (x[pad] == 0).all() and (x[~pad] != 0).any()
    before = x.clone()
    other = refill_padding(x, lengths, seed=1)
    assert torch.equal(x, before)                                   # the input is not modified
    assert torch.equal(other[~pad], x[~pad]) and not torch.equal(other[pad], x[pad])


def test_tiny_frame_encoder():
    frames = torch.randint(0, 256, (5, 6, 6), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    a, b, c = TinyFrameEncoder(seed=1), TinyFrameEncoder(seed=1), TinyFrameEncoder(seed=2)
    assert tuple(a(frames).shape) == (5, 3) and torch.equal(a(frames), b(frames))
    assert not torch.equal(a(frames), c(frames))
    assert a.double()(frames).dtype == torch.float64


class Classifier(nn.Module):
    """A correct many-to-one model (for these tests; the notebook's students write their own)."""

    def __init__(self, read="last_real", batch_first=True, head=None, in_place=False, extra=False, to64=False):
        super().__init__()
        self.encoder = nn.Identity()
        self.rnn = nn.GRU(3, 4, batch_first=batch_first)
        self.head = head if head is not None else nn.Linear(4, 2)
        if extra:
            self.unused = nn.Linear(2, 2)
        self.read, self.in_place, self.to64 = read, in_place, to64

    def forward(self, x, lengths):
        if self.in_place:
            x.mul_(1.0)
            x[:, 0] += 0.0
            x.add_(1e-3)
        out, _ = self.rnn(x)
        if self.read == "last_real":
            out = out[torch.arange(len(x)), lengths - 1]
        else:
            out = out[:, -1]
        return self.head(out).double() if self.to64 else self.head(out)


def _batch():
    return random_batch(3, 4, 5, (3,), [5, 2, 4, 1])


def test_check_parts():
    check_parts(Classifier())
    with pytest.raises(AssertionError, match="batch_first"):
        check_parts(Classifier(batch_first=False))
    with pytest.raises(AssertionError, match="nn.Linear"):
        check_parts(Classifier(head=nn.Sequential(nn.Linear(4, 2))))
    model = Classifier()
    model.rnn = nn.GRU(3, 2, batch_first=True, bidirectional=True)
    with pytest.raises(AssertionError, match="bidirectional"):
        check_parts(model)
    model = Classifier()
    del model.encoder
    with pytest.raises(AssertionError, match="`encoder`"):
        check_parts(model)


def test_check_stated_rules_passes_a_correct_model_and_catches_each_broken_rule():
    x, lengths = _batch()
    check_stated_rules(Classifier().double(), x, lengths)
    with pytest.raises(AssertionError, match="padded steps"):
        check_stated_rules(Classifier(read="last_padded").double(), x, lengths)
    with pytest.raises(AssertionError, match="changed its input"):
        check_stated_rules(Classifier(in_place=True).double(), x, lengths)
    with pytest.raises(AssertionError, match=r"\['unused.weight', 'unused.bias'\].*registered"):
        check_stated_rules(Classifier(extra=True).double(), x, lengths)
    with pytest.raises(AssertionError, match="float32.*returned torch.float64"):
        check_stated_rules(Classifier(to64=True).double(), x, lengths)


def test_check_stated_rules_per_step():
    class Tagger(Classifier):
        def forward(self, x, lengths):
            return self.head(self.rnn(x)[0])

    class Backwards(Classifier):                  # reads the sequence reversed: the padding leaks into real steps
        def forward(self, x, lengths):
            return self.head(self.rnn(x.flip(1))[0].flip(1))

    x, lengths = _batch()
    check_stated_rules(Tagger().double(), x, lengths, per_step=True)
    with pytest.raises(AssertionError, match="at the real steps"):
        check_stated_rules(Backwards().double(), x, lengths, per_step=True)


def test_run_model_names_the_cause():
    x, lengths = _batch()
    with pytest.raises(AssertionError, match="keep the dtype"):
        run_model(Classifier(), x, lengths, "model")             # float32 weights, float64 inputs
    with pytest.raises(AssertionError, match="returned a tuple"):
        run_model(lambda x, lengths: (x, lengths), x, lengths, "model")
    with pytest.raises(NotImplementedError):
        run_model(lambda x, lengths: (_ for _ in ()).throw(NotImplementedError()), x, lengths)


def test_run_loss_by_hand_and_refusals():
    logits = torch.arange(6, dtype=torch.float64).reshape(1, 2, 3)
    loss, grad = run_loss(lambda z, t, L: (z ** 2).mean(), logits, None, None)
    assert loss == pytest.approx(sum(v * v for v in range(6)) / 6)
    assert np.allclose(grad, 2 * logits.numpy() / 6)                  # d mean(z^2) / dz = 2 z / 6
    assert logits.grad is None                                        # the caller's tensor is untouched
    with pytest.raises(AssertionError, match="scalar"):
        run_loss(lambda z, t, L: z.sum(1), logits, None, None)
    with pytest.raises(AssertionError, match="graph was cut"):
        run_loss(lambda z, t, L: z.sum().detach(), logits, None, None)
    with pytest.raises(AssertionError, match="not classes"):
        run_loss(lambda z, t, L: F.cross_entropy(z.reshape(-1, 3), t.reshape(-1)), logits,
                 torch.tensor([[1, -1]]), None)


def test_stored_mistake():
    case = {"wrong_last_padded": np.array([[1.0, 2.0]]), "wrong_one_early": np.array([[3.0, 4.0]])}
    assert stored_mistake(np.array([[1.0, 2.0]]), case, CLASSIFIER_MISTAKES) == CLASSIFIER_MISTAKES["last_padded"]
    assert stored_mistake(np.array([[3.0, 4.0 + 1e-9]]), case, CLASSIFIER_MISTAKES) == CLASSIFIER_MISTAKES["one_early"]
    assert stored_mistake(np.array([[5.0, 6.0]]), case, CLASSIFIER_MISTAKES, "default") == "default"
    assert stored_mistake(0.5, {"wrong_divided_by_NT": np.array(0.5)}, MASKED_CE_MISTAKES) == \
        MASKED_CE_MISTAKES["divided_by_NT"]
    for words in (CLASSIFIER_MISTAKES, MASKED_CE_MISTAKES):          # words, not code
        assert not any(s in w for w in words.values() for s in ("torch.", "lengths - 1]", "outputs["))
