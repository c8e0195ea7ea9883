"""rnnlab core against cases with analytic answers."""
import math

import numpy as np
import pytest

import rnnlab
from rnnlab import (CharVocab, check_close, numerical_gradient, numerical_gradient_array, pick, rel_error,
                    seed_everything)
from rnnlab.plotting import smooth


# --- rel_error ------------------------------------------------------------------------------------
def test_rel_error_hand_computed():
    # |1 - 1.1| / (1 + 1.1) = 0.1 / 2.1 ; |2 - 2| / 4 = 0
    assert rel_error(np.array([1.0, 2.0]), np.array([1.1, 2.0])) == pytest.approx(0.1 / 2.1, rel=1e-12)
    assert rel_error(3.0, 3.0) == 0.0
    assert rel_error(np.zeros(4), np.zeros(4)) == 0.0            # floor 1e-8 avoids 0/0
    assert rel_error(0.0, 1e-9) == pytest.approx(1e-9 / 1e-8)    # both tiny: denominator is the floor
    assert rel_error(-1.0, 1.0) == 1.0                           # opposite signs: the maximum, 1
    assert rel_error(np.empty((0, 3)), np.empty((0, 3))) == 0.0


def test_rel_error_is_symmetric_and_max_over_elements():
    x, y = np.array([1.0, 10.0, 100.0]), np.array([1.0, 11.0, 100.0])
    assert rel_error(x, y) == rel_error(y, x) == pytest.approx(1 / 21)
    assert isinstance(rel_error(x, y), float)


def test_rel_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error(np.zeros(3), np.zeros((3, 1)))


# --- check_close / check_shape --------------------------------------------------------------------
def test_check_close_passes_and_returns_error():
    assert check_close("x", [1.0, 2.0], [1.0, 2.0]) == 0.0


def test_check_close_message_names_output_element_and_hint():
    with pytest.raises(AssertionError) as e:
        check_close("dWh", np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 2.0], [3.0, 5.0]]),
                    tol=1e-6, hint="sum over time")
    msg = str(e.value)
    assert "dWh" in msg and "(1, 1)" in msg and "got 4" in msg and "expected 5" in msg and "sum over time" in msg


@pytest.mark.parametrize("actual, fragment", [(None, "is None"), (np.zeros(3), "shape"),
                                              (np.array([1.0, np.nan]), "NaN"), ("abc", "shape")])
def test_check_close_rejects_bad_outputs(actual, fragment):
    with pytest.raises(AssertionError, match=fragment):
        check_close("out", actual, np.zeros(2))


def test_named_tolerances_are_floats_ordered_and_quoted_in_messages():
    from rnnlab import TOL, Tolerance
    names = [n for n in vars(TOL) if n.isupper()]
    values = [getattr(TOL, n) for n in names]
    assert all(isinstance(v, Tolerance) and isinstance(v, float) for v in values)
    assert values == sorted(values) and len(set(values)) == len(values), \
        "TOL lists distinct tolerances, strictest first"
    assert [v.name for v in values] == names
    assert TOL.SEQUENCE == 1e-8 and TOL.SEQUENCE * 10 == pytest.approx(1e-7)     # arithmetic as a plain float
    import pickle                                                                  # the judge pickles values
    again = pickle.loads(pickle.dumps(TOL.STEP))
    assert again == 1e-10 and again.name == "STEP" and again.why == TOL.STEP.why
    with pytest.raises(AssertionError) as e:
        check_close("h", np.array([1.0]), np.array([1.1]), TOL.SEQUENCE)
    assert "tolerance TOL.SEQUENCE = 1e-8" in str(e.value) and TOL.SEQUENCE.why in str(e.value)
    with pytest.raises(AssertionError) as e:                                       # a bare number: no name to quote
        check_close("h", np.array([1.0]), np.array([1.1]), 1e-8)
    assert "tolerance 1e-8)" in str(e.value) and "TOL." not in str(e.value)
    assert check_close("h", np.array([1.0]), np.array([1.0 + 1e-9]), TOL.SEQUENCE) < TOL.SEQUENCE
    # printed the way the prose writes numbers; a format spec formats the plain float
    assert (f"below {TOL.NUMERICAL}", str(TOL.IDENTICAL), f"{TOL.STEP:.1e}") == ("below 1e-7", "0", "1.0e-10")
    assert repr(TOL.FLOAT32_GRADIENT) == "TOL.FLOAT32_GRADIENT = 1e-4"
    from rnnlab.compare import short_number                                       # exact, never rounded
    assert [short_number(v) for v in (2.5e-5, 1e-12, 0.001, 0.0)] == ["2.5e-5", "1e-12", "1e-3", "0"]


# --- numerical gradients --------------------------------------------------------------------------
def test_numerical_gradient_of_quadratic_and_sin():
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    assert np.allclose(numerical_gradient(lambda z: np.sum(z ** 2), x), 2 * x, atol=1e-8)
    assert np.allclose(numerical_gradient(lambda z: np.sum(np.sin(z)), x), np.cos(x), atol=1e-8)


def test_numerical_gradient_leaves_input_untouched_and_is_float64():
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    before = x.copy()
    g = numerical_gradient(lambda z: float(np.prod(z)), x)
    assert g.dtype == np.float64 and np.array_equal(x, before) and x.dtype == np.float32
    assert np.allclose(g, [6.0, 3.0, 2.0], atol=1e-6)           # d(xyz)/dx = yz, ...


def test_numerical_gradient_array_is_transpose_times_upstream():
    rng = np.random.default_rng(0)
    A, x, dout = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=4)
    g = numerical_gradient_array(lambda z: A @ z, x, dout)
    assert np.allclose(g, A.T @ dout, atol=1e-8)
    # elementwise tanh: d tanh = 1 - tanh^2
    g = numerical_gradient_array(np.tanh, x, np.ones(3))
    assert np.allclose(g, 1 - np.tanh(x) ** 2, atol=1e-8)


# --- runtime --------------------------------------------------------------------------------------
@pytest.mark.parametrize("env, expected", [({}, False), ({"NBGRADER_EXECUTION": "autograde"}, True),
                                           ({"RNNLAB_QUICK": "1"}, True), ({"RNNLAB_QUICK": "0"}, False),
                                           ({"NBGRADER_EXECUTION": "validate", "RNNLAB_QUICK": "0"}, False)])
def test_quick_mode_switch(monkeypatch, env, expected):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("RNNLAB_QUICK", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert rnnlab.is_quick() is expected
    assert pick(1000, 10) == (10 if expected else 1000)


def test_seed_everything_reproducible():
    import torch

    seed_everything(3)
    a, t = np.random.rand(3), torch.rand(2)
    r1 = seed_everything(3)
    assert np.array_equal(a, np.random.rand(3)) and torch.equal(t, torch.rand(2))
    assert np.array_equal(r1.normal(size=2), seed_everything(3).normal(size=2))


def test_progress_is_silent_under_nbgrader(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert list(rnnlab.progress(range(3))) == [0, 1, 2]
    assert capsys.readouterr().err == ""


# --- text -----------------------------------------------------------------------------------------
def test_char_vocab_round_trip_and_errors():
    text = "To be, or not to be:\nthat is the question."
    v = CharVocab(text)
    assert len(v) == len(set(text)) and v.chars == sorted(set(text))
    ids = v.encode(text)
    assert ids.dtype == np.int64 and v.decode(ids) == text
    with pytest.raises(KeyError, match="Z"):
        v.encode("Zebra")
    with pytest.raises(ValueError):
        CharVocab("")


def test_smooth_is_bias_corrected_mean_of_constant():
    assert np.allclose(smooth(np.full(5, 2.0), 0.9), 2.0)
    assert smooth([1.0, 3.0], 0.0).tolist() == [1.0, 3.0]
    assert math.isclose(smooth([1.0, 3.0], 0.5)[1], (0.25 * 1 + 0.5 * 3) / 0.75)


def test_scaled_error_hand_computed_and_check_close_f32():
    from rnnlab import check_close_f32, scaled_error

    # max |diff| = 0.01, max |expected| = 10 -> 1e-3; the near-zero entry does not dominate
    assert scaled_error([10.0, 1e-6], [10.0, 0.01 + 1e-6]) == pytest.approx(0.01 / 10.0)
    assert scaled_error([1.0, np.nan], [1.0, 2.0]) == float("inf")
    assert scaled_error(np.empty(0), np.empty(0)) == 0.0
    exp = np.array([1000.0, 1e-7])
    got = exp + np.array([1e-4, 1e-4])                       # float32-sized noise: rel_error would be ~1
    assert rel_error(got, exp) > 0.9
    assert check_close_f32("h", got, exp) < 1e-5
    with pytest.raises(AssertionError, match="largest expected entry"):
        check_close_f32("h", exp * 1.01, exp, hint="x")
