"""Notebook 04's tables and plots: training curves, score tables, captions next to their images, accuracy by word
position, and where an attention captioner looks when it writes a colour.

They call the student's model and ``sample_captions`` (passed in as ``sampler``); nothing here computes a graded
answer. Images are uint8 ``(N, S, S, 3)``; ``split`` is a ``rnnlab.captions.CaptionSet``.
"""
from __future__ import annotations

import textwrap

import numpy as np

from .captioning import caption_images, evaluate, images_to_tensor
from .captions import COLOURS, show_captions
from .plotting import smooth

__all__ = ["plot_history", "score_table", "side_by_side", "words_right_by_position", "attention_at_words",
           "show_attention", "attention_on_objects"]


def plot_history(histories: dict, title: str = ""):
    """Training loss (smoothed) and validation BLEU-4 against wall-clock time, for several runs (name -> the
    history dict of ``rnnlab.captioning.train_recipe``)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    for name, hist in histories.items():
        axes[0].plot(hist["time"], smooth(hist["loss"], 0.95), label=name)
        if hist["val_bleu4"]:
            _, t, b = zip(*hist["val_bleu4"])
            axes[1].plot(t, b, marker="o", ms=3, label=name)
    axes[0].set(xlabel="training time (s)", ylabel="loss (nats per word, smoothed)", yscale="log",
                title="training loss")
    axes[1].set(xlabel="training time (s)", ylabel="BLEU-4", ylim=(0, 1.02), title="validation BLEU-4 (greedy)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    plt.show()


def score_table(models: dict, splits: dict, vocab, sampler, max_images=None) -> list:
    """Print BLEU-1..4 and exact match of every model (name -> model) on every split (name -> CaptionSet);
    return the rows (model name, split name, the dict of ``rnnlab.captioning.evaluate``)."""
    rows = [(name, split_name, evaluate(model, split, vocab, sampler, max_images=max_images))
            for name, model in models.items() for split_name, split in splits.items()]
    print(f"{'model':8s} {'split':14s} {'BLEU-1':>7s} {'BLEU-2':>7s} {'BLEU-3':>7s} {'BLEU-4':>7s} {'exact':>7s}")
    for name, split_name, s in rows:
        print(f"{name:8s} {split_name:14s} " + " ".join(f"{s[f'bleu{k}']:7.3f}" for k in range(1, 5))
              + f" {s['exact_match']:7.3f}")
    return rows


def side_by_side(model, split, index, vocab, sampler, title: str = ""):
    """The images split.images[index], each with the model's greedy caption (green when it is one of the
    references, red otherwise) and the first reference."""
    import matplotlib.pyplot as plt

    caps = caption_images(model, split.images[index], vocab, sampler)
    refs = [split.captions[i] for i in index]
    ok = [c.split() in [r.split() for r in rs] for c, rs in zip(caps, refs)]
    show_captions(split.images[index], [[f"model: {c}", f"ref: {rs[0]}"] for c, rs in zip(caps, refs)],
                  colours=[["green" if k else "red", "gray"] for k in ok], ncols=4, title=title)
    plt.show()


def words_right_by_position(captions, split, min_count: int = 20):
    """For each word position k, the fraction of captions whose k-th word equals the k-th word of the first
    reference (positions seen in more than ``min_count`` captions). Returns (positions, fractions)."""
    hits, counts = np.zeros(64), np.zeros(64)
    for c, refs in zip(captions, split.captions):
        c, r = c.split(), refs[0].split()
        for k in range(min(len(c), len(r), 64)):
            hits[k] += c[k] == r[k]
            counts[k] += 1
    keep = counts > min_count
    return np.flatnonzero(keep), hits[keep] / counts[keep]


def _colour_ids(vocab) -> set:
    return set(vocab.encode(list(COLOURS), add_special=False))


def attention_at_words(model, split, index, vocab, sampler) -> list:
    """Greedy captions of split.images[index] and, per caption, the attention weights (T, K) the model used to
    write each of its words (row t: when word t was chosen; read from ``model.attention`` after a teacher-forced
    call). Returns a list of (caption, word ids, weights)."""
    import torch

    caps = caption_images(model, split.images[index], vocab, sampler)
    dev = next(model.parameters()).device
    out = []
    model.eval()
    with torch.no_grad():
        for i, cap in zip(index, caps):
            ids = torch.as_tensor([vocab.encode(cap)], device=dev)            # <START> words <END>
            model(images_to_tensor(split.images[i:i + 1], device=dev), ids[:, :-1])
            out.append((cap, ids[0, 1:].tolist(), model.attention[0].cpu().numpy()))
    return out


def show_attention(model, split, index, vocab, sampler):
    """One row per image: the image, then one panel per colour word of its greedy caption, with each of the nine
    grid cells as bright as the attention weight it had when that word was written."""
    import matplotlib.pyplot as plt

    colour_ids = _colour_ids(vocab)
    results = attention_at_words(model, split, index, vocab, sampler)
    ncols = 1 + max(sum(w in colour_ids for w in words) for _, words, _ in results)
    S = split.images.shape[1]
    cell = np.arange(S) * 3 // S                                                # pixel row/column -> grid cell
    fig, axes = plt.subplots(len(index), ncols, figsize=(2.3 * ncols, 2.9 * len(index)), squeeze=False)
    for row, (i, (cap, words, alpha)) in enumerate(zip(index, results)):
        axes[row, 0].imshow(split.images[i])
        axes[row, 0].set_title("\n".join(textwrap.wrap(cap, 28)), fontsize=7)
        col = 1
        for t, w in enumerate(words):
            if w not in colour_ids:
                continue
            weight = alpha[t].reshape(3, 3)[cell[:, None], cell[None, :]]     # each pixel gets its cell's weight
            axes[row, col].imshow((split.images[i] * (0.15 + 0.85 * weight[..., None])).astype(np.uint8))
            for k in (1, 2):                                                    # the grid's cell borders
                axes[row, col].axhline(k * S / 3 - 0.5, color="white", lw=0.4, alpha=0.5)
                axes[row, col].axvline(k * S / 3 - 0.5, color="white", lw=0.4, alpha=0.5)
            axes[row, col].set_title(f'writing "{vocab.decode([w])}"\nmax weight {alpha[t].max():.2f}', fontsize=8)
            col += 1
    for ax in axes.ravel():
        ax.axis("off")
    fig.suptitle("The attention weights when the decoder writes a colour", y=1.0)
    plt.tight_layout()
    plt.show()


def attention_on_objects(model, split, n, vocab, sampler) -> tuple[int, int]:
    """Over the first n images of a generated split: for every caption that is exactly one of its references,
    count the colour words written while the largest attention weight was on the cell of the object they describe.
    Returns (hits, colour words counted)."""
    colour_ids = _colour_ids(vocab)
    hits = total = 0
    for i, (cap, words, alpha) in enumerate(attention_at_words(model, split, np.arange(n), vocab, sampler)):
        if cap not in split.captions[i]:
            continue
        objects = [o for o in split.objects[i] if o[0] >= 0]                  # in reading order, as the caption
        colour_steps = [t for t, w in enumerate(words) if w in colour_ids]
        for obj, t in zip(objects, colour_steps):
            hits += int(np.argmax(alpha[t])) == 3 * obj[3] + obj[4]          # the object's cell: row * 3 + col
            total += 1
    return hits, total
