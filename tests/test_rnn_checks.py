"""rnnlab.rnn_checks: messages that tell which part is wrong, and the in-place rules."""
import numpy as np
import pytest

from rnnlab.rnn_checks import check_gradient, check_unchanged, loss_normalisation_hint, note_if_changed


def test_check_gradient_passes_and_returns_the_error():
    assert check_gradient("dW", np.ones(3), np.ones(3), tol=1e-8, hint="h", own_numerical=lambda: None) == 0.0


def test_check_gradient_blames_the_forward_pass_when_backward_is_consistent_with_it():
    wrong = np.array([1.0, 2.0])
    with pytest.raises(AssertionError, match="FORWARD pass is probably wrong"):
        check_gradient("dW", wrong, np.array([1.0, 3.0]), tol=1e-8, hint="backward hint",
                       own_numerical=lambda: wrong.copy())


def test_check_gradient_gives_the_backward_hint_otherwise():
    with pytest.raises(AssertionError, match="backward hint"):
        check_gradient("dW", np.array([1.0, 2.0]), np.array([1.0, 3.0]), tol=1e-8, hint="backward hint",
                       own_numerical=lambda: np.array([1.0, 3.0]))
    with pytest.raises(AssertionError, match="backward hint"):                  # a crashing numerical check
        check_gradient("dW", np.array([1.0, 2.0]), np.array([1.0, 3.0]), tol=1e-8, hint="backward hint",
                       own_numerical=lambda: 1 / 0)


def test_check_unchanged_and_note(capsys):
    a = np.arange(3.0)
    check_unchanged("x", a, a.copy())
    note_if_changed("x", a, a.copy())
    assert capsys.readouterr().out == ""
    with pytest.raises(AssertionError, match="modified its argument x"):
        check_unchanged("x", a + 1, a, function="f")
    note_if_changed("dnext_c", a + 1, a, function="lstm_step_backward")
    assert "costs no points" in capsys.readouterr().out


def test_loss_normalisation_hint_names_the_mistake():
    per_step = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = np.array([[True, True, False], [True, False, False]])
    masked_sum = 7.0
    assert "mask" in loss_normalisation_hint(per_step.sum() / 2, per_step=per_step, mask=mask)
    assert "unmasked steps" in loss_normalisation_hint(masked_sum / 3, per_step=per_step, mask=mask)
    assert "all N*T" in loss_normalisation_hint(masked_sum / 6, per_step=per_step, mask=mask)
    assert "forgot to divide" in loss_normalisation_hint(masked_sum, per_step=per_step, mask=mask)
    assert "check the per-step" in loss_normalisation_hint(123.0, per_step=per_step, mask=mask)
    assert "check the per-step" in loss_normalisation_hint("not a number", per_step=per_step, mask=mask)
