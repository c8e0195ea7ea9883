"""The LSTM-variants ablation of notebook 02: train YOUR variant cell on the memory race, several seeds, one table.

The cell itself is yours: every LSTM run calls ``step_fn(x, prev_h, prev_c, Wx, Wh, b, variant)`` (your
``variant_lstm_step``, built from torch operations so that autograd gives its gradients). This module only unrolls
it over the sequence, trains it and summarises the runs; it contains no LSTM cell. The GRU reference is PyTorch's
built-in ``nn.GRU``. Nothing here computes a graded answer.

Weights follow the notebook's layout: ``Wx`` (D, 4H), ``Wh`` (H, 4H), ``b`` (4H,), gate blocks in the order
i, f, o, g; a variant that drops a gate ignores that gate's block.

- :data:`ABLATION`        -- the runs of the notebook: label -> :class:`Run` (variant name, forget-gate bias, or GRU)
- :class:`Run`            -- one configuration: ``variant`` (None for the GRU) and the initial forget-gate bias
- :func:`train_run`       -- train one configuration at one gap with one seed; returns (losses, test accuracy)
- :func:`run_ablation`    -- every configuration x every seed; returns a list of result rows (dicts)
- :func:`summarize`       -- rows -> {label: {"loss": (mean, std), "accuracy": (mean, std), "runs": n}}
- :func:`format_table`    -- the summary as a text table, ordered as given
- :func:`plot_ablation`   -- bar chart of the accuracies (mean and single runs) against chance and the baseline
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .runtime import progress

__all__ = ["Run", "ABLATION", "train_run", "run_ablation", "summarize", "format_table", "plot_ablation"]


@dataclass(frozen=True)
class Run:
    """One configuration of the ablation: ``variant`` names the cell passed to your step function (None: PyTorch's
    ``nn.GRU``); ``forget_bias`` is the initial bias of the forget-gate block (the other biases start at 0)."""
    variant: str | None
    forget_bias: float = 0.0


ABLATION = {
    "vanilla": Run("vanilla"),
    "NIG (no input gate)": Run("NIG"),
    "NFG (no forget gate)": Run("NFG"),
    "NOG (no output gate)": Run("NOG"),
    "NIAF (no input activation)": Run("NIAF"),
    "NOAF (no output activation)": Run("NOAF"),
    "CIFG (i = 1 - f)": Run("CIFG"),
    "vanilla, forget bias 1": Run("vanilla", forget_bias=1.0),
    "GRU (nn.GRU)": Run(None),
}


def _lstm_model(step_fn: Callable, variant: str, D: int, H: int, forget_bias: float, gen: torch.Generator):
    """Parameters (Wx (D, 4H), Wh (H, 4H), b (4H,)) and ``run(x (N, T, D)) -> h (N, T, H)`` unrolling step_fn."""
    Wx = (torch.randn(D, 4 * H, generator=gen) / D ** 0.5).requires_grad_()
    Wh = (torch.randn(H, 4 * H, generator=gen) / H ** 0.5).requires_grad_()
    b = torch.zeros(4 * H)
    b[H:2 * H] = forget_bias                           # block order i, f, o, g
    b.requires_grad_()

    def run(x):
        N = x.shape[0]
        h, c, hs = torch.zeros(N, H), torch.zeros(N, H), []
        for t in range(x.shape[1]):
            h, c = step_fn(x[:, t], h, c, Wx, Wh, b, variant)
            hs.append(h)
        return torch.stack(hs, dim=1)
    return [Wx, Wh, b], run


def _gru_model(D: int, H: int, gen: torch.Generator):
    torch.manual_seed(int(torch.randint(2 ** 31 - 1, (1,), generator=gen)))
    gru = torch.nn.GRU(D, H, batch_first=True)
    return list(gru.parameters()), lambda x: gru(x)[0]


def _scores_and_targets(forward, readout, x, y):
    """Scores and int targets of the steps that count: the last step when y is (N,), every step when y is (N, T)."""
    h = forward(torch.as_tensor(x, dtype=torch.float32))
    y = torch.as_tensor(y)
    if y.dim() == 1:
        return readout(h[:, -1]), y
    return readout(h).reshape(-1, readout.out_features), y.reshape(-1)


def train_run(step_fn: Callable, run: Run, batch_fn: Callable, iters: int, seed: int, K: int = 4,
              hidden: int = 32, lr: float = 1e-2, batch: int = 32, max_norm: float = 1.0, n_test: int = 500):
    """Train one configuration with Adam (gradients clipped to ``max_norm``) on fresh batches
    ``batch_fn(rng, n) -> (x (n, T, K + 1), y)`` of a memory task: y (n,) scores the last step only
    (``rnnlab.memory_task.recall_batch``), y (n, T) every step (``stream_batch``). A linear read-out of the hidden
    state (n, hidden) gives K scores. Returns (training losses (iters,), test accuracy over the scored steps of
    ``n_test`` new sequences). float32, CPU, one thread (restored afterwards): for (32, 128) matrices more threads
    only add overhead, a lot of it on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(step_fn, run, batch_fn, iters, seed, K, hidden, lr, batch, max_norm, n_test)
    finally:
        torch.set_num_threads(threads)


def _train(step_fn, run, batch_fn, iters, seed, K, hidden, lr, batch, max_norm, n_test):
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    D = K + 1
    if run.variant is None:
        params, forward = _gru_model(D, hidden, gen)
    else:
        params, forward = _lstm_model(step_fn, run.variant, D, hidden, run.forget_bias, gen)
    readout = torch.nn.Linear(hidden, K)
    with torch.no_grad():
        readout.weight.copy_(torch.randn(K, hidden, generator=gen) / hidden ** 0.5)
        readout.bias.zero_()
    params = params + list(readout.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    losses = []
    for _ in range(iters):
        scores, targets = _scores_and_targets(forward, readout, *batch_fn(rng, batch))
        loss = torch.nn.functional.cross_entropy(scores, targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        scores, targets = _scores_and_targets(forward, readout, *batch_fn(np.random.default_rng(10_000 + seed), n_test))
    return np.array(losses), float((scores.argmax(dim=1) == targets).float().mean())


def run_ablation(step_fn: Callable, runs: dict, batch_fn: Callable, iters: int, seeds, tail: float = 0.1,
                 **kwargs) -> list:
    """Train every configuration of ``runs`` (label -> :class:`Run`) with every seed. Returns one row per run:
    {"label", "seed", "final_loss" (mean training loss over the last ``tail`` of the iterations), "accuracy",
    "losses"}. Extra keyword arguments go to :func:`train_run`."""
    rows = []
    jobs = [(label, seed) for seed in seeds for label in runs]
    for label, seed in progress(jobs, desc="ablation"):
        losses, accuracy = train_run(step_fn, runs[label], batch_fn, iters, seed, **kwargs)
        last = max(1, int(round(tail * len(losses))))
        rows.append({"label": label, "seed": seed, "final_loss": float(np.mean(losses[-last:])),
                     "accuracy": accuracy, "losses": losses})
    return rows


def summarize(rows: list) -> dict:
    """{label: {"loss": (mean, std), "accuracy": (mean, std), "runs": n}} in the order the labels first appear;
    std is the spread over seeds (population standard deviation; 0 for a single run)."""
    out = {}
    for label in dict.fromkeys(r["label"] for r in rows):
        mine = [r for r in rows if r["label"] == label]
        loss = np.array([r["final_loss"] for r in mine])
        acc = np.array([r["accuracy"] for r in mine])
        out[label] = {"loss": (float(loss.mean()), float(loss.std())),
                      "accuracy": (float(acc.mean()), float(acc.std())), "runs": len(mine)}
    return out


def format_table(summary: dict) -> str:
    """A text table: configuration, final training loss and test accuracy as mean +- spread over the seeds."""
    lines = [f"{'configuration':30s} {'final loss':>16s} {'test accuracy':>16s}  runs"]
    for label, s in summary.items():
        (lm, ls), (am, as_) = s["loss"], s["accuracy"]
        lines.append(f"{label:30s} {lm:9.3f} ± {ls:5.3f} {am:9.3f} ± {as_:5.3f}  {s['runs']:4d}")
    return "\n".join(lines)


def plot_ablation(rows: list, chance: float = 0.25, baseline: str = "vanilla", ax=None, title: str = ""):
    """Horizontal bars: mean test accuracy per configuration, single runs as dots, chance and the baseline's mean as
    lines. Returns the axes."""
    import matplotlib.pyplot as plt
    summary = summarize(rows)
    labels = list(summary)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.2))
    ypos = np.arange(len(labels))[::-1]
    ax.barh(ypos, [summary[l]["accuracy"][0] for l in labels], color="tab:blue", alpha=0.6)
    for y, label in zip(ypos, labels):
        accs = [r["accuracy"] for r in rows if r["label"] == label]
        ax.scatter(accs, [y] * len(accs), color="black", s=12, zorder=3)
    ax.axvline(chance, color="gray", ls=":", label="chance")
    if baseline in summary:
        ax.axvline(summary[baseline]["accuracy"][0], color="tab:red", ls="--", label=f"{baseline} (mean)")
    ax.set_yticks(ypos, labels)
    ax.set(xlim=(0, 1.02), xlabel="test accuracy (bars: mean over seeds; dots: single runs)", title=title)
    ax.legend(loc="lower right")
    return ax
