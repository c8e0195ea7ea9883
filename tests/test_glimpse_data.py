"""rnnlab.glimpse_data, rnnlab.glimpse_checks and rnnlab.glimpse_train (notebook 08, section 1) against cases
worked out by hand."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from rnnlab.glimpse_checks import compare_glimpses, fit_tiny, location_problem, memory_problem
from rnnlab.glimpse_data import (CELL, CELL_CENTRES, GLIMPSE_SIZE, GLYPHS, IMAGE_SIZE, glimpse_orders, glyph_bitmaps,
                                 make_pair_scenes, normalised_locations, show_glimpse_path)
from rnnlab.glimpse_train import accuracy_by_glimpses, probability_after_each_glimpse, train_glimpse_classifier


def test_scenes_are_deterministic_and_balanced():
    a, b, c = make_pair_scenes(200, seed=3), make_pair_scenes(200, seed=3), make_pair_scenes(200, seed=4)
    assert a.images.tobytes() == b.images.tobytes() and np.array_equal(a.labels, b.labels)
    assert a.images.tobytes() != c.images.tobytes()
    assert a.images.shape == (200, IMAGE_SIZE, IMAGE_SIZE) and a.images.dtype == np.float32
    assert 0.0 <= a.images.min() and a.images.max() <= 1.0
    assert np.bincount(a.labels).tolist() == [100, 100]
    assert np.array_equal(a.labels, (a.glyphs[:, 0] == a.glyphs[:, 1]).astype(int))
    assert np.all(a.cells[:, 0] != a.cells[:, 1])
    assert set(np.unique(a.glyphs)) == set(range(len(GLYPHS)))


@pytest.mark.parametrize("jitter", [0, 1])
def test_a_glyph_lies_inside_its_cell_and_a_glimpse_of_a_cell_sees_only_its_own_glyph(jitter):
    scenes = make_pair_scenes(300, seed=0, noise=0.0, jitter=jitter)
    half = GLIMPSE_SIZE // 2
    for img, cells in zip(scenes.images, scenes.cells):
        lit = img > 0
        for cell in range(9):
            r, c = CELL_CENTRES[cell]
            window = np.zeros_like(lit)
            window[max(r - half, 0):r - half + GLIMPSE_SIZE, max(c - half, 0):c - half + GLIMPSE_SIZE] = True
            inside = lit & window
            own = np.zeros_like(lit)
            own[CELL * (cell // 3):CELL * (cell // 3 + 1), CELL * (cell % 3):CELL * (cell % 3 + 1)] = True
            assert not np.any(inside & ~own), "a glimpse of a cell sees a pixel of another cell's glyph"
            assert inside.any() == (cell in cells)


def test_glyphs_are_distinct_and_orders_are_permutations():
    bitmaps = glyph_bitmaps()
    assert bitmaps.shape == (4, 6, 6)
    flat = bitmaps.reshape(4, -1)
    assert len({row.tobytes() for row in flat}) == 4
    order = glimpse_orders(50, seed=1)
    assert order.shape == (50, 9) and np.all(np.sort(order, axis=1) == np.arange(9))
    assert np.array_equal(order, glimpse_orders(50, seed=1)) and not np.array_equal(order, glimpse_orders(50, seed=2))


def test_normalised_locations():
    corners = np.array([[0, 0], [29, 29], [0, 29]])
    np.testing.assert_allclose(normalised_locations(corners, 30), [[-1, -1], [1, 1], [-1, 1]])
    t = normalised_locations(torch.tensor(corners), 30)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), [[-1, -1], [1, 1], [-1, 1]])


def test_show_glimpse_path_draws_one_box_per_glimpse():
    import matplotlib
    matplotlib.use("Agg")
    ax = show_glimpse_path(np.zeros((30, 30)), CELL_CENTRES[:3], notes=["0.5", "0.4", "0.9"], title="t")
    assert len(ax.patches) == 3 and ax.patches[0].get_xy() == (-1.5, -1.5)


def test_tiny_problems_hold_their_answer_where_they_say():
    g, l, y = memory_problem(n=40, k=3, size=4, seed=0)
    assert g.shape == (40, 3, 4, 4) and l.shape == (40, 3, 2) and y.tolist() == [0, 1] * 20
    assert torch.equal((g[:, 0].mean((1, 2)) > 0).long(), y)
    g, l, y = location_problem(n=40, k=3, size=4, seed=0, axis=0)
    assert torch.equal((l[:, 0, 0] > 0).long(), y)
    assert torch.equal(g[:, 0], g[:, 2])


def _case():
    right = np.arange(8, dtype=float).reshape(1, 2, 2, 2)
    return {"right": right, "transposed": right + 100, "centres": np.zeros((1, 2, 2), dtype=int)}


def test_compare_glimpses_passes_right_answers_and_names_mistakes():
    case = _case()
    compare_glimpses(torch.tensor(case["right"]), case)
    with pytest.raises(AssertionError, match=r"\(column, row\)"):
        compare_glimpses(torch.tensor(case["transposed"]), case)
    wrong = case["right"].copy()
    wrong[0, 1, 1, 0] = -1
    with pytest.raises(AssertionError, match=r"glimpse \[0, 1\] .* pixel \(1, 0\)"):
        compare_glimpses(torch.tensor(wrong), case)
    with pytest.raises(AssertionError, match="shape"):
        compare_glimpses(torch.zeros(1, 2, 3, 3), case)


class _FirstGlimpse(nn.Module):
    """Reads only the mean of the first glimpse: solves the memory problem, not the location problem."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 2)

    def forward(self, glimpses, locs):
        return self.lin(glimpses[:, 0].mean((1, 2))[:, None])


def test_fit_tiny_tells_a_model_that_can_from_one_that_cannot():
    torch.manual_seed(0)
    assert fit_tiny(_FirstGlimpse(), memory_problem(seed=1), steps=150) >= 0.95
    assert fit_tiny(_FirstGlimpse(), location_problem(seed=1), steps=150) <= 0.75


class _MeanReader(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, glimpses, locs):
        return self.lin(torch.stack([glimpses.mean((1, 2, 3)), locs[..., 1].mean(1)], 1))


def test_training_and_evaluation_recipes_call_the_model():
    torch.manual_seed(0)
    glimpses = torch.randn(64, 9, 3, 3)
    locs = torch.zeros(64, 9, 2)
    labels = (glimpses.mean((1, 2, 3)) > 0).long()
    model = _MeanReader()
    losses = train_glimpse_classifier(model, glimpses, locs, labels, steps=150, batch_size=32, lr=0.05,
                                      min_glimpses=9)
    assert len(losses) == 150 and np.mean(losses[-20:]) < np.mean(losses[:20])
    acc = accuracy_by_glimpses(model, glimpses, locs, labels)
    assert acc.shape == (9,) and acc[-1] >= 0.9
    p = probability_after_each_glimpse(model, glimpses, locs)
    assert p.shape == (64, 9) and np.all((0 <= p) & (p <= 1))
