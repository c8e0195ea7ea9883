"""Notebook 04's infrastructure: image tensors, the training recipe, greedy captions of a split and their scores.

Everything here calls the functions a student writes (the model, ``caption_loss``, ``sample_captions``), passed
in as arguments; nothing here computes a graded answer.

>>> recipe = captioning_recipe()                         # the notebook's settings (shorter in quick mode)
>>> hist = train_recipe(model, data["train"], vocab, caption_loss, sample_captions, val=data["val"],
...                     target_bleu4=0.98, recipe=recipe)
>>> scores = evaluate(model, data["heldout"], vocab, sample_captions)   # bleu1..4, exact_match, captions

Shapes: uint8 images ``(N, S, S, 3)`` as the datasets store them; float image tensors ``(N, 3, S, S)`` in [-1, 1];
captions int64 ``(N, T)``, ``<START> words <END>`` then ``<NULL>`` padding; a decoder state is a tensor or a tuple
of tensors with the batch in dimension 1 (``(1, N, H)``; an attention grid ``(1, N, K, C)``).
"""
from __future__ import annotations

import time

import numpy as np

from .captions import bleu
from .runtime import pick, progress
from .schedules import warmup_cosine
from .vocab import Vocabulary, tokenize

__all__ = ["images_to_tensor", "captioning_recipe", "set_lstm_biases", "build_captioner", "caption_tensor",
           "repeat_state", "train_recipe", "caption_images", "evaluate"]

NULL = Vocabulary.null_idx

# The notebook's learning-rate schedule: warmup_cosine with these settings (3 % warm-up from 2 %, decay to 2 %).
SCHEDULE = dict(warmup_frac=0.03, final_lr_frac=0.02, start_frac=0.02)


def images_to_tensor(images, device="cpu"):
    """uint8 images (N, S, S, 3), as the datasets store them -> float32 tensor (N, 3, S, S) in [-1, 1]."""
    import torch

    x = torch.as_tensor(np.asarray(images), device=device)
    return x.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def captioning_recipe(quick: bool | None = None) -> dict:
    """The settings of notebook 04's long runs (measured on a 2-core CPU); much shorter runs in quick mode
    (``quick=None`` follows ``rnnlab.is_quick()``)."""
    choose = pick if quick is None else (lambda full, short: short if quick else full)
    return dict(
        embed_dim=64, hidden_size=128, feature_dim=256, forget_bias=2.0, input_bias=0.0,   # model
        batch_images=64, captions_per_image=1, references="first",                        # data
        lr=5e-3, max_norm=5.0, max_iters=choose(20000, 30), max_seconds=choose(180.0, 4.0),
        eval_every_s=choose(15.0, 2.0), eval_images=choose(250, 20),
    )


def set_lstm_biases(lstm, forget_bias: float, input_bias: float = 0.0) -> None:
    """Start an ``nn.LSTM`` layer's input-gate biases at ``input_bias`` and its forget-gate biases at
    ``forget_bias`` (PyTorch's gate order i, f, g, o along the 4H axis; the hidden-to-hidden biases of these two
    gates are zeroed so that the sums are exactly these values)."""
    import torch

    H = lstm.hidden_size
    with torch.no_grad():
        lstm.bias_ih_l0[:H].fill_(input_bias)
        lstm.bias_ih_l0[H:2 * H].fill_(forget_bias)
        lstm.bias_hh_l0[:2 * H].zero_()


def build_captioner(model_class, vocab_size: int, recipe: dict | None = None, device="cpu", **kwargs):
    """``model_class(vocab_size, embed_dim=recipe["embed_dim"], hidden_size=recipe["hidden_size"], **kwargs)``
    (the notebook's CaptioningModel or AttentionCaptioner) on ``device``; if its ``rnn`` is an ``nn.LSTM``, its
    gate biases start as :func:`set_lstm_biases` with recipe["forget_bias"] and recipe["input_bias"]."""
    import torch.nn as nn

    recipe = {**captioning_recipe(), **(recipe or {})}
    model = model_class(vocab_size, embed_dim=recipe["embed_dim"], hidden_size=recipe["hidden_size"], **kwargs)
    if isinstance(model.rnn, nn.LSTM):
        set_lstm_biases(model.rnn, recipe["forget_bias"], recipe["input_bias"])
    return model.to(device)


def caption_tensor(split, vocab, references: str = "all"):
    """The reference captions of a CaptionSet as int64 (N_images, K, T), padded with <NULL>; K = 5 for "all",
    1 for "first" (the first reference of each image only)."""
    import torch

    per_image = [caps if references == "all" else caps[:1] for caps in split.captions]
    K = len(per_image[0])
    ids, _ = vocab.encode_batch([c for caps in per_image for c in caps])
    return torch.as_tensor(ids).view(len(per_image), K, -1)


def repeat_state(state, k: int):
    """Repeat every row of a state k times (row n -> rows n*k ... n*k + k-1): one image, k captions.
    state: a tensor (1, N, ...) or a tuple of them (the batch in dimension 1)."""
    if isinstance(state, tuple):
        return tuple(s.repeat_interleave(k, dim=1) for s in state)
    return state.repeat_interleave(k, dim=1)


def caption_images(model, images, vocab, sampler, max_length: int = 30, batch_size: int = 500,
                   temperature: float = 0.0, generator=None) -> list[str]:
    """Captions (strings) of uint8 images (N, S, S, 3): ``sampler(model, x, max_length=..., temperature=...,
    generator=...)`` (the notebook's ``sample_captions``) in batches, in eval mode, decoded with ``vocab``."""
    import torch

    was_training = model.training
    model.eval()
    outs = []
    try:
        dev = next(model.parameters()).device
        for i in range(0, len(images), batch_size):
            x = images_to_tensor(images[i:i + batch_size], device=dev)
            outs.append(torch.as_tensor(sampler(model, x, max_length=max_length, temperature=temperature,
                                                generator=generator)).cpu())
    finally:
        model.train(was_training)
    return vocab.decode_batch(torch.cat(outs).numpy())


def evaluate(model, split, vocab, sampler, max_images: int | None = None, references: str = "all") -> dict:
    """Greedy captions of a CaptionSet, scored against its references ("all" five, or the "first" only): corpus
    BLEU-1..4 (``rnnlab.captions.bleu``) and the exact-match rate, the fraction of captions whose words equal
    those of one of their references (after ``tokenize``). Returns a dict: bleu1 ... bleu4, exact_match, captions
    (the strings)."""
    n = len(split) if max_images is None else min(len(split), max_images)
    captions = caption_images(model, split.images[:n], vocab, sampler)
    refs = [caps if references == "all" else caps[:1] for caps in split.captions[:n]]
    scores = bleu(captions, refs)
    hits = sum(tokenize(c) in [tokenize(r) for r in rs] for c, rs in zip(captions, refs))
    return {**{f"bleu{k}": scores[f"bleu{k}"] for k in range(1, 5)}, "exact_match": hits / max(n, 1),
            "captions": captions}


def train_recipe(model, train, vocab, loss_fn, sampler, val=None, target_bleu4: float | None = None,
                 recipe: dict | None = None, seed: int = 0, progress_bar: bool = True) -> dict:
    """Train a captioning model with Adam on ``train`` (a CaptionSet).

    Runs for recipe["max_iters"] updates or recipe["max_seconds"] seconds, whichever comes first (recipe: the
    keys of :func:`captioning_recipe`, which fills in any missing ones); the learning rate is recipe["lr"] times
    ``warmup_cosine`` (settings ``SCHEDULE``) of the larger of the two fractions of the run. Each update encodes
    recipe["batch_images"] images once (``model.initial_state``), repeats each state once per caption
    (:func:`repeat_state`) and calls ``loss_fn(model, None, captions, state=state)`` (the notebook's
    ``caption_loss``) on recipe["captions_per_image"] distinct references per image, drawn at random; gradients
    are clipped at norm recipe["max_norm"]. Every recipe["eval_every_s"] seconds (if ``val`` is given) the greedy
    captions (``sampler``) of recipe["eval_images"] validation images are scored, and training stops early once
    their BLEU-4 reaches ``target_bleu4``. Returns a history dict: loss and time per update, iterations,
    seconds, val_bleu4 [(iteration, seconds, BLEU-4)]. Leaves the model in eval mode.
    """
    import torch

    recipe = {**captioning_recipe(), **(recipe or {})}
    dev = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    images = torch.as_tensor(train.images)                          # uint8, converted batch by batch
    refs = caption_tensor(train, vocab, recipe["references"])
    B, K = recipe["batch_images"], min(recipe["captions_per_image"], refs.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=recipe["lr"])
    hist = {"loss": [], "time": [], "val_bleu4": [], "iterations": 0, "seconds": 0.0}

    def val_bleu4():
        return evaluate(model, val, vocab, sampler, max_images=recipe["eval_images"])["bleu4"]

    model.train()
    start = next_eval = time.perf_counter()
    bar = progress(total=recipe["max_iters"], desc="training", disable=not progress_bar or None)
    for it in range(recipe["max_iters"]):
        elapsed = time.perf_counter() - start
        if elapsed >= recipe["max_seconds"]:
            break
        frac = max(it / recipe["max_iters"], elapsed / recipe["max_seconds"])
        for group in opt.param_groups:
            group["lr"] = recipe["lr"] * warmup_cosine(frac, **SCHEDULE)
        idx = torch.randint(0, len(train), (B,), generator=g)
        which = torch.rand(B, refs.shape[1], generator=g).argsort(dim=1)[:, :K]     # K distinct references
        caps = torch.gather(refs[idx], 1, which[:, :, None].expand(-1, -1, refs.shape[2])).reshape(B * K, -1)
        caps = caps[:, :int((caps != NULL).sum(dim=1).max())].to(dev)             # drop all-padding columns
        state = repeat_state(model.initial_state(images_to_tensor(images[idx], device=dev)), K)
        loss = loss_fn(model, None, caps, state=state)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe["max_norm"])
        opt.step()
        hist["loss"].append(loss.item())
        hist["time"].append(time.perf_counter() - start)
        bar.update(1)
        if val is not None and time.perf_counter() >= next_eval + recipe["eval_every_s"]:
            next_eval = time.perf_counter()
            b4 = val_bleu4()
            hist["val_bleu4"].append((it + 1, time.perf_counter() - start, b4))
            bar.set_postfix(loss=f"{np.mean(hist['loss'][-20:]):.3f}", val_bleu4=f"{b4:.3f}")
            model.train()
            if target_bleu4 is not None and b4 >= target_bleu4:
                break
    bar.close()
    hist["iterations"] = len(hist["loss"])
    hist["seconds"] = time.perf_counter() - start
    if val is not None and (not hist["val_bleu4"] or hist["val_bleu4"][-1][0] != hist["iterations"]):
        hist["val_bleu4"].append((hist["iterations"], time.perf_counter() - start, val_bleu4()))
        hist["seconds"] = time.perf_counter() - start
    model.eval()
    return hist
