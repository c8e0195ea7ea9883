"""rnnlab's shared test infrastructure: the warnings rule, gate layouts, schedules."""
import math
import warnings

import numpy as np
import pytest
import torch

from rnnlab.gates import gate_order_hint, reorder_gates
from rnnlab.schedules import warmup_cosine
from rnnlab.strict import NumericalWarningError, strict_numerics


def test_numerical_warning_fails_with_its_meaning(capsys):
    with pytest.raises(NumericalWarningError, match="overflow encountered in exp.*largest float"):
        with strict_numerics():
            np.exp(np.array([1000.0]))
    with pytest.raises(NumericalWarningError, match="divide by zero"):
        with strict_numerics():
            np.log(np.array([0.0]))
    with pytest.raises(NumericalWarningError, match="invalid value"):
        with strict_numerics():
            np.array([np.inf]) - np.array([np.inf])


def test_reraised_judge_warning_fails_too():
    # the judge re-raises a student's warning with a suffix naming the function
    with pytest.raises(NumericalWarningError):
        with strict_numerics():
            warnings.warn("overflow encountered in exp (warning in your rnn_step_forward)", RuntimeWarning)


def test_other_warnings_are_notes_on_stdout(capsys):
    with strict_numerics():
        warnings.warn("my own debugging warning")
        warnings.warn("old API", DeprecationWarning)
        warnings.warn("my own debugging warning")
        warnings.warn("some runtime note", RuntimeWarning)  # not numerical: a note
    out, err = capsys.readouterr()
    assert err == ""
    assert out.count("my own debugging warning") == 1
    assert "DeprecationWarning: old API" in out and "some runtime note" in out
    assert "costs no points" in out


def test_a_block_can_catch_runtime_warning_itself():
    with strict_numerics():
        try:
            np.exp(np.array([1000.0]))
            raised = False
        except RuntimeWarning:
            raised = True
    assert raised


def test_other_exceptions_pass_through():
    with pytest.raises(AssertionError, match="plain failure"):
        with strict_numerics():
            raise AssertionError("plain failure")


def test_reorder_gates_by_hand():
    W = np.arange(8.0).reshape(1, 8)                     # blocks i=[0,1] f=[2,3] o=[4,5] g=[6,7]
    assert reorder_gates(W, "ifog", "ifgo").tolist() == [[0, 1, 2, 3, 6, 7, 4, 5]]
    T = torch.arange(8.0).reshape(1, 8)
    assert reorder_gates(T, "ifog", "ifgo").tolist() == [[0, 1, 2, 3, 6, 7, 4, 5]]
    assert np.array_equal(reorder_gates(reorder_gates(W, "ifog", "gofi"), "gofi", "ifog"), W)
    with pytest.raises(ValueError):
        reorder_gates(W, "ifog", "ifgx")
    with pytest.raises(ValueError):
        reorder_gates(np.zeros((1, 7)), "ifog", "ifgo")


def test_gate_order_hint_names_the_order():
    W = np.random.default_rng(0).normal(size=(3, 8))

    def expected_for(order):                              # "the answer" = W's blocks read in `order`
        return reorder_gates(W, order, "ifog")

    swapped = expected_for("ifgo")
    assert "(i, f, g, o)" in gate_order_hint(swapped, expected_for, "ifog", "default")
    assert gate_order_hint(W * 2, expected_for, "ifog", "default") == "default"
    assert gate_order_hint(object(), expected_for, "ifog", "default") == "default"


def test_warmup_cosine_by_hand():
    assert warmup_cosine(0.0, warmup_frac=0.1, start_frac=0.01) == 0.01
    assert warmup_cosine(0.05, warmup_frac=0.1) == pytest.approx(0.5)
    assert warmup_cosine(0.1, warmup_frac=0.1) == pytest.approx(1.0)
    mid = 0.1 + 0.9 / 2                                   # halfway through the decay: cos(pi/2) = 0
    assert warmup_cosine(mid, warmup_frac=0.1, final_lr_frac=0.2) == pytest.approx(0.2 + 0.8 * 0.5)
    assert warmup_cosine(1.0, final_lr_frac=0.05) == pytest.approx(0.05)
    assert warmup_cosine(2.0, final_lr_frac=0.05) == pytest.approx(0.05)
    assert not math.isnan(warmup_cosine(0.5))
