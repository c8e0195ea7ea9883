"""rnnlab.clips: the bouncing-shape clips of notebook 06 (determinism, padding, balanced classes, labels that agree
with the physics, a bounce worked out by hand) and the single-shape images read row by row."""
import numpy as np
import pytest

from rnnlab.captions import SHAPES
from rnnlab.clips import (BOUNCE_CLASSES, CLIP_SHAPES, HEADINGS, ClipSet, make_motion_clips, make_shape_images,
                          render_clips, show_clip, simulate_bounces)

SMALL = dict(n=96, min_len=12, max_len=16)


@pytest.fixture(scope="module")
def clips():
    return make_motion_clips(seed=7, **SMALL)


def test_same_seed_same_bytes_different_seed_different_bytes(clips):
    again = make_motion_clips(seed=7, **SMALL)
    other = make_motion_clips(seed=8, **SMALL)
    for name in ("frames", "lengths", "bounces", "labels", "heading", "wall", "centres", "radius", "shape"):
        assert getattr(clips, name).tobytes() == getattr(again, name).tobytes(), name
    assert clips.frames.tobytes() != other.frames.tobytes()


def test_shapes_dtypes_and_padding(clips):
    n, T = SMALL["n"], SMALL["max_len"]
    assert isinstance(clips, ClipSet) and len(clips) == n
    assert clips.frames.dtype == np.uint8 and clips.frames.shape == (n, T, 32, 32)
    assert clips.lengths.dtype == np.int64 and clips.lengths.min() >= 12 and clips.lengths.max() <= T
    mask = clips.mask()
    assert mask.shape == (n, T) and (mask.sum(axis=1) == clips.lengths).all()
    assert (clips.frames[~mask] == 0).all()                       # padding frames are exactly zero
    assert (clips.frames[mask].reshape(mask.sum(), -1).max(axis=1) > 100).all()   # every real frame shows the shape
    assert (clips.heading[~mask] == -1).all() and (clips.heading[mask] >= 0).all()
    assert clips.heading.max() < len(HEADINGS)
    assert not clips.wall[~mask].any()
    assert set(np.unique(clips.shape)) <= set(range(len(CLIP_SHAPES)))
    assert "clips" in repr(clips)


def test_classes_balanced_and_lengths_balanced_within_classes(clips):
    C = len(BOUNCE_CLASSES)
    assert np.bincount(clips.labels, minlength=C).tolist() == [SMALL["n"] // C] * C
    lengths_per_class = [np.sort(clips.lengths[clips.labels == k]) for k in range(C)]
    for k in range(1, C):                                          # the same lengths in every class
        assert (lengths_per_class[k] == lengths_per_class[0]).all()
    assert len(np.unique(clips.lengths)) == SMALL["max_len"] - SMALL["min_len"] + 1


def test_labels_agree_with_the_trajectories(clips):
    mask = clips.mask()
    assert (clips.bounces == clips.wall.sum(axis=1)).all()
    assert (clips.labels == np.minimum(clips.bounces, len(BOUNCE_CLASSES) - 1)).all()
    S = clips.frames.shape[-1]
    r = clips.radius[:, None, None]
    c = clips.centres
    inside = (c >= r - 1e-4) & (c <= S - r + 1e-4)
    assert inside[mask].all()                                      # the shape never leaves the frame
    at_wall = ((np.abs(c - r) < 1e-4) | (np.abs(c - (S - r)) < 1e-4)).any(axis=-1)
    assert (at_wall[mask] == clips.wall[mask]).all()               # a wall frame is one where an edge is at a wall
    moved = np.diff(c, axis=1)                                     # heading = sign of the displacement, t >= 1
    both = mask[:, 1:]
    expected = 2 * (moved[..., 1] > 0) + (moved[..., 0] > 0)
    assert (clips.heading[:, 1:][both] == expected[both]).all()
    assert not clips.wall[:, 0].any()                              # clips never start at a wall


def test_the_shape_is_drawn_where_the_centre_says(clips):
    mask = clips.mask()
    for i, t in np.argwhere(mask)[::37]:
        frame = clips.frames[i, t].astype(float)
        ys, xs = np.mgrid[:frame.shape[0], :frame.shape[1]] + 0.5
        w = np.where(frame > 60, frame, 0.0)
        cx, cy = (w * xs).sum() / w.sum(), (w * ys).sum() / w.sum()
        assert abs(cx - clips.centres[i, t, 0]) < 0.6 and abs(cy - clips.centres[i, t, 1]) < 0.6


def test_a_bounce_by_hand():
    # r = 2 in a 20-pixel box: the centre may go from 2 to 18. From x = 5 at -2 px per frame: 5, 3, then 1 would
    # cross the wall, so the shape stops at 2 (touching) and turns: 4, 6. y moves down by 1 and never touches.
    centres, touches, heading = simulate_bounces([[5.0, 8.0]], [[-2.0, 1.0]], [2.0], 5, 20)
    assert np.allclose(centres[0, :, 0], [5, 3, 2, 4, 6]) and np.allclose(centres[0, :, 1], [8, 9, 10, 11, 12])
    assert touches[0].tolist() == [False, False, True, False, False]
    # heading = 2 * down + right: moving left and down (2) until the bounce frame, then right and down (3)
    assert heading[0].tolist() == [2, 2, 2, 3, 3]


def test_render_padding_and_noise_are_deterministic():
    centres = np.array([[[10.0, 10.0], [12.0, 11.0]]])
    a = render_clips(centres, [3.0], [0], [200.0], [1], 24, noise=5.0, rng=np.random.default_rng(0))
    b = render_clips(centres, [3.0], [0], [200.0], [1], 24, noise=5.0, rng=np.random.default_rng(0))
    assert a.tobytes() == b.tobytes() and (a[0, 1] == 0).all() and a[0, 0].max() > 150
    sq = render_clips(centres, [3.0], [1], [200.0], [2], 24)         # a square covers more than a disc
    assert sq[0, 0].astype(int).sum() > a[0, 0].astype(int).sum() - 5.0 * 24


def test_make_shape_images():
    images, labels, rows = make_shape_images(40, seed=3, image_size=32)
    again = make_shape_images(40, seed=3, image_size=32)
    assert images.tobytes() == again[0].tobytes() and (labels == again[1]).all()
    assert images.shape == (40, 32, 32, 3) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=len(SHAPES)).tolist() == [10] * len(SHAPES)
    assert (rows[:, 0] >= 0).all() and (rows[:, 0] <= rows[:, 1]).all() and (rows[:, 1] < 32).all()
    for img, (top, bottom) in zip(images, rows):
        diff = np.abs(img.astype(int) - img[0, 0].astype(int)).sum(axis=(1, 2))
        assert diff[top] > 0 and diff[bottom] > 0 and diff[:top].sum() == 0 and diff[bottom + 1:].sum() == 0


def test_show_clip_draws_a_strip(clips):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    i = int(np.argmin(clips.lengths))
    fig = show_clip(clips.frames[i], clips.lengths[i], labels=[HEADINGS[h] if h >= 0 else "" for h in
                                                               clips.heading[i]], title="a clip")
    assert len(fig.axes) == clips.frames.shape[1]
    plt.close(fig)


def test_bad_arguments():
    with pytest.raises(ValueError):
        make_motion_clips(8, min_len=10, max_len=5)
