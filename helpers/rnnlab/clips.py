"""Generated data for sequence classification (notebook 06): short clips of a bouncing shape, and single-shape
images to be read one row at a time.

>>> clips = make_motion_clips(2000, seed=0)     # ClipSet: frames (N, T, 32, 32) uint8, lengths, labels, ...
>>> imgs, labels, extent = make_shape_images(1000, seed=0)

**Motion clips.** Each clip shows one bright shape (a disc or a square) moving in a straight line across a dark
32 x 32 frame and bouncing off the walls. When a step would carry the shape through a wall, the shape stops *at*
the wall for that frame (its edge touches the border) and its velocity is reflected, so every bounce is one frame
in which the shape touches a wall, visible in that frame alone. Clips have between ``min_len`` and ``max_len``
frames; the frames after a clip's length are zero (padding). Two kinds of labels:

- per clip (many-to-one): the number of bounces, as one of BOUNCE_CLASSES (0, 1, 2, 3 or more). Classes are
  balanced, and so is every class's distribution of lengths, so the length alone does not give the answer away;
- per frame (many-to-many): the heading, the direction in which the shape moved to reach this frame, as one of
  HEADINGS (up-left, up-right, down-left, down-right). It is the sign of the displacement since the previous frame
  (for frame 0: the initial velocity, which no single frame shows), so telling it needs at least two frames.

Deterministic: the same arguments give the same bytes on every machine with the same NumPy (the generator is
seeded with ``[seed, CLIPS_VERSION]``). Fast enough not to need a cache: about a second per 4,000 clips.

**Shape images.** ``make_shape_images`` draws one object of the captioning dataset (``rnnlab.captions``: a colour,
one of four shapes, two sizes) at a random place of a small RGB image; the label is its shape.

Nothing here is the answer to a graded exercise: the notebook's students write the models and the losses.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .captions import COLOURS, SHAPES, SIZES, _SIZE_FRAC, render_shapes

__all__ = ["CLIPS_VERSION", "BOUNCE_CLASSES", "HEADINGS", "CLIP_SHAPES", "ClipSet", "make_motion_clips",
           "simulate_bounces", "render_clips", "make_shape_images", "show_clip"]

CLIPS_VERSION = 1            # bump when the generator's output changes
BOUNCE_CLASSES = ("no bounce", "1 bounce", "2 bounces", "3+ bounces")
HEADINGS = ("up-left", "up-right", "down-left", "down-right")   # class = 2 * (moving down) + (moving right)
CLIP_SHAPES = ("disc", "square")
_MIN_AXIS_FRAC = 0.3         # each velocity component is at least this fraction of the speed: no pure axis moves


@dataclass
class ClipSet:
    """Clips of a bouncing shape, padded to a common length.

    frames:  uint8 (N, T, S, S), grey levels; zero after each clip's length
    lengths: int64 (N,), the number of real frames of each clip (min_len <= length <= T)
    bounces: int64 (N,), how many frames touch a wall (one per bounce; a corner is one bounce)
    labels:  int64 (N,), the clip's class: min(bounces, 3), an index into BOUNCE_CLASSES
    heading: int64 (N, T), the per-frame class, an index into HEADINGS; -1 after the clip's length
    wall:    bool (N, T), whether the shape touches a wall in that frame; False after the length
    centres: float32 (N, T, 2), the shape's centre (x, y) in pixels, y growing downwards; 0 after the length
    radius:  float32 (N,), the shape's half-size in pixels; shape: int64 (N,), an index into CLIP_SHAPES
    """

    frames: np.ndarray
    lengths: np.ndarray
    bounces: np.ndarray
    labels: np.ndarray
    heading: np.ndarray
    wall: np.ndarray
    centres: np.ndarray
    radius: np.ndarray
    shape: np.ndarray
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        n, T, S = self.frames.shape[:3] if self.frames.ndim == 4 else (0, 0, 0)
        return (f"ClipSet({n} clips of {int(self.lengths.min()) if n else 0}-{T} frames of {S}x{S}, "
                f"classes {np.bincount(self.labels, minlength=len(BOUNCE_CLASSES)).tolist()})")

    def mask(self) -> np.ndarray:
        """bool (N, T): True at the real frames of each clip."""
        return np.arange(self.frames.shape[1])[None, :] < self.lengths[:, None]

    def subset(self, index) -> "ClipSet":
        """The clips at ``index`` (an int array, a slice or a boolean mask)."""
        idx = np.arange(len(self))[index]
        return ClipSet(self.frames[idx], self.lengths[idx], self.bounces[idx], self.labels[idx], self.heading[idx],
                       self.wall[idx], self.centres[idx], self.radius[idx], self.shape[idx], dict(self.info))


def simulate_bounces(start, velocity, radius, n_frames: int, frame_size: int):
    """Move shapes in straight lines inside a frame_size x frame_size box, bouncing off the walls.

    start, velocity: (M, 2) float (x, y) in pixels and pixels per frame; radius: (M,). Frame 0 is ``start``. When a
    step would carry a shape's edge through a wall, the shape stops at the wall for that frame and the velocity
    component towards the wall is reversed. Returns centres (M, n_frames, 2), touches (M, n_frames) bool (the edge is
    at a wall in that frame) and heading (M, n_frames) int64: 2 * (moved down) + (moved right) between the previous
    frame and this one (the initial velocity for frame 0).
    """
    pos = np.array(start, dtype=np.float64)
    vel = np.array(velocity, dtype=np.float64)
    r = np.asarray(radius, dtype=np.float64)[:, None]
    lo, hi = r, frame_size - r
    M = len(pos)
    centres = np.empty((M, n_frames, 2))
    touches = np.zeros((M, n_frames), dtype=bool)
    moved = np.empty((M, n_frames, 2))
    centres[:, 0], moved[:, 0] = pos, vel
    touches[:, 0] = ((pos <= lo) | (pos >= hi)).any(axis=1)
    for t in range(1, n_frames):
        new = pos + vel
        below, above = new < lo, new > hi
        new = np.clip(new, lo, hi)
        vel = np.where(below | above, -vel, vel)
        touches[:, t] = (below | above).any(axis=1)
        moved[:, t] = new - pos
        pos = new
        centres[:, t] = pos
    heading = (2 * (moved[..., 1] > 0) + (moved[..., 0] > 0)).astype(np.int64)
    return centres, touches, heading


def render_clips(centres, radius, shape, brightness, lengths, frame_size: int, noise: float = 0.0,
                 rng: np.random.Generator | None = None, chunk: int = 4096) -> np.ndarray:
    """Draw the frames: uint8 (M, T, S, S). A disc or a square of half-size ``radius`` at each centre, with
    anti-aliased edges (the fraction of each pixel the shape covers, to about a tenth of a pixel), grey level
    ``brightness`` on a black background, plus Gaussian noise of standard deviation ``noise`` grey levels (drawn
    from ``rng``). Frames at or after ``lengths`` are left zero."""
    M, T = centres.shape[:2]
    S = frame_size
    frames = np.zeros((M, T, S, S), dtype=np.uint8)
    valid = np.argwhere(np.arange(T)[None, :] < np.asarray(lengths)[:, None])      # (K, 2) rows (clip, frame)
    pix = np.arange(S, dtype=np.float32) + 0.5                                       # pixel centres
    for k0 in range(0, len(valid), chunk):
        rows = valid[k0:k0 + chunk]
        c = centres[rows[:, 0], rows[:, 1]].astype(np.float32)                      # (K, 2)
        r = np.asarray(radius, dtype=np.float32)[rows[:, 0]][:, None, None]
        dx = pix[None, None, :] - c[:, 0, None, None]                               # (K, 1, S)
        dy = pix[None, :, None] - c[:, 1, None, None]                               # (K, S, 1)
        disc = np.clip(r + 0.5 - np.sqrt(dx * dx + dy * dy), 0.0, 1.0)
        square = np.clip(r + 0.5 - np.abs(dx), 0.0, 1.0) * np.clip(r + 0.5 - np.abs(dy), 0.0, 1.0)
        is_disc = (np.asarray(shape)[rows[:, 0]] == 0)[:, None, None]
        img = np.where(is_disc, disc, square) * np.asarray(brightness, dtype=np.float32)[rows[:, 0]][:, None, None]
        if noise > 0:
            img = img + (rng.standard_normal(img.shape, dtype=np.float32) * noise)
        frames[rows[:, 0], rows[:, 1]] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return frames


def _propose(rng: np.random.Generator, m: int, min_len: int, max_len: int, S: int, radius_range, speed_range):
    """m random trajectories: lengths, radii, shapes, start points and velocities, simulated over max_len frames."""
    lengths = rng.integers(min_len, max_len + 1, size=m)
    radius = rng.uniform(*radius_range, size=m)
    shape = rng.integers(len(CLIP_SHAPES), size=m)
    start = rng.uniform(radius[:, None] + 1.0, S - radius[:, None] - 1.0, size=(m, 2))
    speed = rng.uniform(*speed_range, size=m)
    lo = np.arcsin(_MIN_AXIS_FRAC)                           # angle from the x axis, within a quadrant
    angle = rng.uniform(lo, np.pi / 2 - lo, size=m) + np.pi / 2 * rng.integers(4, size=m)
    velocity = speed[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    centres, touches, heading = simulate_bounces(start, velocity, radius, max_len, S)
    valid = np.arange(max_len)[None, :] < lengths[:, None]
    bounces = (touches & valid).sum(axis=1)
    return dict(lengths=lengths, radius=radius, shape=shape, centres=centres, touches=touches, heading=heading,
                bounces=bounces)


def make_motion_clips(n: int = 2000, seed: int = 0, frame_size: int = 32, min_len: int = 12, max_len: int = 24,
                      radius_range=(2.5, 4.0), speed_range=(0.7, 3.2), noise: float = 6.0) -> ClipSet:
    """``n`` clips of a shape bouncing in a frame_size x frame_size box (see the module's docstring).

    Lengths are uniform in [min_len, max_len] within every class, classes (0, 1, 2, 3+ bounces) are as equal as
    n allows, and clip i has class i % 4 before a final seeded shuffle. The shape's half-size is uniform in
    ``radius_range`` pixels, its speed in ``speed_range`` pixels per frame, its direction at least 17 degrees away
    from both axes; grey level 150-255 on black, plus Gaussian noise of ``noise`` grey levels on the real frames.
    Deterministic for given arguments; different seeds give independent sets (use one seed per split).
    """
    if not 1 <= min_len <= max_len:
        raise ValueError("need 1 <= min_len <= max_len")
    if frame_size < 12:
        raise ValueError("frame_size must be at least 12")
    rng = np.random.default_rng([int(seed), CLIPS_VERSION])
    C, L = len(BOUNCE_CLASSES), max_len - min_len + 1
    # Quotas: clip i wants class i % C and a length cycling through [min_len, max_len] within its class.
    want_class = np.arange(n) % C
    want_len = min_len + (np.arange(n) // C) % L
    picked = {k: [] for k in ("lengths", "radius", "shape", "centres", "touches", "heading", "bounces")}
    slot_of = {}                                   # (class, length) -> indices of the clips that still need one
    for i in range(n):
        slot_of.setdefault((int(want_class[i]), int(want_len[i])), []).append(i)
    order = np.empty(n, dtype=np.int64)
    filled = 0
    for _ in range(50):
        if not slot_of:
            break
        prop = _propose(rng, max(4 * n, 2000), min_len, max_len, frame_size, radius_range, speed_range)
        cls = np.minimum(prop["bounces"], C - 1)
        for j in range(len(cls)):
            key = (int(cls[j]), int(prop["lengths"][j]))
            slots = slot_of.get(key)
            if not slots:
                continue
            order[slots.pop(0)] = filled
            if not slots:
                del slot_of[key]
            for k in picked:
                picked[k].append(prop[k][j])
            filled += 1
    if slot_of:
        missing = sorted(slot_of)
        raise RuntimeError(f"could not draw clips for (class, length) {missing[:5]}: widen speed_range or the lengths")
    arr = {k: np.stack(v)[order] for k, v in picked.items()}      # clip i has the quota (want_class[i], want_len[i])
    perm = rng.permutation(n)
    arr = {k: v[perm] for k, v in arr.items()}
    lengths = arr["lengths"].astype(np.int64)
    valid = np.arange(max_len)[None, :] < lengths[:, None]
    brightness = rng.uniform(150, 255, size=n)
    frames = render_clips(arr["centres"], arr["radius"], arr["shape"], brightness, lengths, frame_size, noise, rng)
    bounces = arr["bounces"].astype(np.int64)
    return ClipSet(frames=frames, lengths=lengths, bounces=bounces, labels=np.minimum(bounces, C - 1),
                   heading=np.where(valid, arr["heading"], -1).astype(np.int64), wall=arr["touches"] & valid,
                   centres=np.where(valid[..., None], arr["centres"], 0.0).astype(np.float32),
                   radius=arr["radius"].astype(np.float32), shape=arr["shape"].astype(np.int64),
                   info=dict(seed=int(seed), frame_size=frame_size, min_len=min_len, max_len=max_len,
                             radius_range=tuple(radius_range), speed_range=tuple(speed_range), noise=noise,
                             version=CLIPS_VERSION))


def make_shape_images(n: int = 2000, seed: int = 0, image_size: int = 32):
    """``n`` RGB images (uint8 (n, S, S, 3)) of one object each, drawn with ``rnnlab.captions.render_shapes``: a
    random colour, shape and size, at a random place (anywhere the object fits). Shapes are balanced (image i has
    shape i % 4 before a seeded shuffle). Returns (images, labels, rows) with labels int64 (n,), an index into
    ``rnnlab.captions.SHAPES``, and rows int64 (n, 2), the first and last image row the object covers.
    Deterministic for given arguments."""
    rng = np.random.default_rng([int(seed), CLIPS_VERSION, 1])
    labels = rng.permutation(np.arange(n) % len(SHAPES)).astype(np.int64)
    images = np.empty((n, image_size, image_size, 3), dtype=np.uint8)
    rows = np.empty((n, 2), dtype=np.int64)
    for i in range(n):
        size = int(rng.integers(len(SIZES)))
        r = _SIZE_FRAC[size] * image_size
        cx, cy = rng.uniform(r + 1, image_size - r - 2, size=2)
        obj = np.array([[int(rng.integers(len(COLOURS))), labels[i], size, 0, 0, int(round(cx)), int(round(cy))]])
        images[i] = render_shapes(obj, image_size)
        covered = np.nonzero(np.abs(images[i].astype(int) - images[i, 0, 0].astype(int)).sum(axis=(1, 2)) > 0)[0]
        rows[i] = (covered[0], covered[-1]) if len(covered) else (-1, -1)
    return images, labels, rows


def show_clip(frames, length=None, labels=None, colours=None, title: str = "", max_frames: int = 24, ax_size=0.9):
    """One clip as a strip of frames: frames (T, S, S) grey levels; ``length`` real frames are shown (padding is
    drawn hatched when ``length`` < T and there is room). labels: optional strings under each frame, coloured by
    ``colours`` (e.g. green for a right prediction, red for a wrong one). Returns the figure."""
    import matplotlib.pyplot as plt

    T = len(frames)
    length = T if length is None else int(length)
    shown = min(T, max_frames)
    fig, axes = plt.subplots(1, shown, figsize=(ax_size * shown, ax_size * 1.45 + (0.3 if title else 0)),
                             squeeze=False)
    for t, ax in enumerate(axes[0]):
        ax.set_xticks([])
        ax.set_yticks([])
        if t < length:
            ax.imshow(frames[t], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(str(t), fontsize=7, pad=2)
        else:
            ax.imshow(np.zeros_like(frames[t]), cmap="gray", vmin=0, vmax=255)
            ax.text(0.5, 0.5, "pad", transform=ax.transAxes, ha="center", va="center", color="0.6", fontsize=7)
        if labels is not None and t < len(labels) and labels[t]:
            colour = colours[t] if colours is not None and t < len(colours) and colours[t] else "black"
            ax.set_xlabel(labels[t], fontsize=6.5, color=colour, labelpad=2)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, wspace=0.06, top=0.78 if title else 0.9, bottom=0.2)
    return fig
