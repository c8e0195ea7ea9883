"""rnnlab.clips_train: the data sets of notebook 06 as tensors, cropped batches, the training loop (its learning-rate
schedule checked against the formula through a model whose Adam steps are exactly the learning rate) and predict."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from rnnlab.clips import make_motion_clips, make_shape_images
from rnnlab.clips_train import clip_tensors, crop_batch, fit, image_rows, predict, rows_as_sequence


@pytest.fixture(scope="module")
def clips():
    return make_motion_clips(48, seed=3, min_len=12, max_len=15)


def test_clip_tensors(clips):
    data = clip_tensors(clips, "labels")
    assert data["x"].dtype == torch.uint8 and tuple(data["x"].shape) == clips.frames.shape
    assert np.array_equal(data["lengths"].numpy(), clips.lengths) and np.array_equal(data["y"].numpy(), clips.labels)
    heading = clip_tensors(clips, "heading")
    assert tuple(heading["y"].shape) == clips.heading.shape
    with pytest.raises(ValueError, match="target"):
        clip_tensors(clips, "frames")


def test_rows_as_sequence_by_hand():
    img = np.arange(2 * 2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 2, 3)   # N=2 images of 2 x 2 RGB pixels
    x = rows_as_sequence(img)
    assert x.dtype == torch.float32 and tuple(x.shape) == (2, 2, 6)
    for n in range(2):
        for r in range(2):       # step r: row r, its pixels' RGB values one after the other, over 255
            expected = [img[n, r, c, ch] / 255 for c in range(2) for ch in range(3)]
            assert np.allclose(x[n, r].numpy(), expected)
    with pytest.raises(ValueError):
        rows_as_sequence(np.zeros((2, 3, 4, 3), dtype=np.uint8))


def test_image_rows():
    imgs, labels, _ = make_shape_images(6, seed=0, image_size=16)
    data = image_rows(imgs, labels)
    assert tuple(data["x"].shape) == (6, 16, 48)
    assert data["lengths"].tolist() == [16] * 6 and data["y"].dtype == torch.int64
    assert data["y"].tolist() == list(labels)


def test_crop_batch_cuts_to_the_longest(clips):
    for target in ("labels", "heading"):
        data = clip_tensors(clips, target)
        idx = [3, 0, 7]
        x, lengths, y = crop_batch(data, idx)
        T = max(int(clips.lengths[i]) for i in idx)
        assert tuple(x.shape) == (3, T, 32, 32) and lengths.tolist() == [int(clips.lengths[i]) for i in idx]
        assert torch.equal(x, data["x"][idx, :T])
        assert tuple(y.shape) == ((3, T) if target == "heading" else (3,))


class _Scalar(nn.Module):
    """One parameter; its output is the parameter, whatever the input."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros((), dtype=torch.float64))
        self.modes = []

    def forward(self, x, lengths):
        self.modes.append(self.training)
        return self.w * 1.0


def test_fit_follows_the_cosine_schedule(clips):
    # loss = w: the gradient is 1 at every step, and Adam's step with a constant gradient is the learning rate
    # itself (up to eps), so w after k steps is -sum of the learning rates used: lr * (1 + cos(pi s / steps)) / 2
    data = clip_tensors(clips, "labels")
    model, steps, lr = _Scalar(), 6, 0.1
    losses = fit(model, data, steps=steps, loss_fn=lambda out, y, lengths: out, lr=lr, batch_size=4)
    expected = -sum(lr * 0.5 * (1 + math.cos(math.pi * s / steps)) for s in range(steps))
    assert abs(model.w.item() - expected) < 1e-6
    assert len(losses) == steps and all(isinstance(v, float) for v in losses)
    assert losses[0] == 0.0 and losses[1] == pytest.approx(-lr, abs=1e-6)
    assert all(model.modes) and not model.training            # trains in train mode, leaves it in eval mode
    with pytest.raises(ValueError):
        fit(model, data, steps=0, loss_fn=lambda out, y, lengths: out)


class _MeanPixel(nn.Module):
    """A tiny classifier of clips: the mean brightness of the real frames, times a weight, plus a bias per class."""

    def __init__(self, C):
        super().__init__()
        self.lin = nn.Linear(1, C)

    def forward(self, x, lengths):
        T = x.shape[1]
        mask = (torch.arange(T, device=x.device)[None, :] < lengths[:, None]).float()
        per_frame = x.float().flatten(2).mean(2) / 255
        return self.lin(((per_frame * mask).sum(1) / mask.sum(1))[:, None])


def test_fit_learns_and_is_seeded(clips):
    data = clip_tensors(clips, "labels")
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = _MeanPixel(4)
        runs.append(fit(model, data, steps=40, lr=0.05, batch_size=16, seed=5,
                        loss_fn=lambda out, y, lengths: nn.functional.cross_entropy(out, y)))
    assert runs[0] == runs[1]                                          # same seed, same batches, same losses
    assert np.mean(runs[0][-10:]) < np.mean(runs[0][:5])               # the class biases alone bring it down


def test_predict_batches_and_lengths(clips):
    data = clip_tensors(clips, "labels")
    torch.manual_seed(1)
    model = _MeanPixel(4)
    model.train()
    whole = predict(model, data, batch_size=1000)
    parts = predict(model, data, batch_size=7)
    assert not model.training and whole.dtype == torch.float32 and tuple(whole.shape) == (48, 4)
    assert torch.allclose(whole, parts)
    with torch.no_grad():
        direct = model(data["x"], data["lengths"]).float()
        ones = model(data["x"], torch.ones(48, dtype=torch.int64)).float()
    assert torch.allclose(whole, direct)
    assert torch.allclose(predict(model, data, lengths=torch.ones(48, dtype=torch.int64)), ones)
    with pytest.raises(ValueError):
        predict(model, data, lengths=torch.ones(3, dtype=torch.int64))
