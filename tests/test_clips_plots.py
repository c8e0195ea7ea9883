"""rnnlab.clips_plots: the confusion matrix and the rows-until-settled count by hand, and the figures draw."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnlab.clips_plots import (confusion, plot_clip_classifier, plot_confusion, plot_frame_tagger,  # noqa: E402
                                plot_row_reading, rows_until_settled)


def test_confusion_by_hand():
    m = confusion([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]] and m.dtype == np.int64
    with pytest.raises(ValueError):
        confusion([0, 3], [0, 1], 3)
    with pytest.raises(ValueError):
        confusion([0, 1], [0], 3)


def test_rows_until_settled_by_hand():
    # one image, S = 5 rows, 2 classes, true class 1; object from row 1. Predictions after 1..5 rows:
    # 0, 1, 0, 1, 1 -> right from 4 rows read on -> 4 - (1 + 1) = 2 rows past the object's first row
    probs = np.array([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]]])
    assert rows_until_settled(probs, np.array([1]), np.array([1])).tolist() == [2]
    never = np.array([[[0.1, 0.9]] * 4 + [[0.9, 0.1]]])                 # wrong at the end: never settles
    assert rows_until_settled(never, np.array([1]), np.array([0])).tolist() == [5]   # S - first_row


def test_the_figures_draw():
    rng = np.random.default_rng(0)
    true, pred = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    fig = plot_clip_classifier(list(rng.random(30)), true, pred, rng.integers(12, 25, 50), list("abcd"))
    assert len(fig.axes) == 3
    mask = np.arange(6)[None, :] < rng.integers(1, 7, 10)[:, None]
    fig = plot_frame_tagger(list(rng.random(30)), rng.integers(0, 4, (10, 6)), rng.integers(0, 4, (10, 6)), mask,
                            list("abcd"))
    assert len(fig.axes) == 3
    probs = rng.dirichlet(np.ones(4), size=(12, 8))                    # (N, S, C)
    rows = np.sort(rng.integers(0, 8, (12, 2)), axis=1)
    fig = plot_row_reading(rng.integers(0, 255, (12, 8, 8, 3)).astype(np.uint8), probs, np.arange(12) % 4, rows,
                           list("abcd"))
    assert len(fig.axes) == 4 * 2 + 2
    _, ax = plt.subplots()
    plot_confusion(np.eye(2, dtype=int), ["x", "y"], ax, "t")
    plt.close("all")
