"""rnnlab.states: the one check_state (notebooks 03 and 04 import it through rnnlab.charlm_testing and
rnnlab.captioning_checks): structure, shapes and values of a returned recurrent state, with messages."""
import numpy as np
import pytest
import torch

from rnnlab import captioning_checks, charlm_testing
from rnnlab.states import check_state, state_tensors


def test_the_notebooks_import_the_one_implementation():
    assert charlm_testing.check_state is check_state and captioning_checks.check_state is check_state
    assert charlm_testing.state_tensors is state_tensors


def test_state_tensors():
    h, c = torch.zeros(1, 2, 3), torch.ones(1, 2, 3)
    assert state_tensors(h) == [h] and state_tensors((h, c)) == [h, c] and state_tensors([h, c]) == [h, c]
    with pytest.raises(AssertionError, match=r"the state must be a tensor .* got ndarray"):
        state_tensors(np.zeros(3))


def test_check_state_values_by_hand():
    h = torch.tensor([[[1.0, 2.0]]], requires_grad=True)
    c = torch.tensor([[[3.0, 4.0]]])
    # a pair against arrays and against tensors; the error is |a - e| / (|a| + |e|) at the worst entry
    assert check_state("s", (h, c), (np.array([[[1.0, 2.0]]]), torch.tensor([[[3.0, 4.0]]])), 0.0) == 0.0
    err = check_state("s", (h, c), (np.array([[[1.0, 2.0]]]), np.array([[[3.0, 4.2]]])), 0.1)
    assert err == pytest.approx(0.2 / 8.2)
    with pytest.raises(AssertionError, match=r"s\[1\] is wrong at index \(0, 0, 1\).*Likely cause: swap"):
        check_state("s", (h, c), (np.array([[[1.0, 2.0]]]), np.array([[[3.0, 4.2]]])), 1e-3, hint="swap")
    assert check_state("h", h.float(), np.array([[[1.0, 2.0]]]), 0.0) == 0.0      # one tensor (GRU, RNN)


def test_check_state_structure_and_shapes():
    h = torch.zeros(1, 2, 3)
    with pytest.raises(AssertionError, match=r"holds 1 tensor\(s\), expected 2.*pair \(h, c\) for an LSTM"):
        check_state("state", h, (np.zeros((1, 2, 3)), np.zeros((1, 2, 3))), 1e-8)
    with pytest.raises(AssertionError, match=r"state has shape \(1, 2, 3\), expected \(2, 2, 3\)"):
        check_state("state", h, np.zeros((2, 2, 3)), 1e-8)
