"""The stored expected values of the visible tests agree with the grader-side oracles that produce them."""
import numpy as np
import pytest

from rnngrade.oracles import expected
from rnnlab.expected import EXPECTED_DIR, load_expected

PRODUCERS = sorted(expected.load_producers())


def test_every_stored_file_has_a_producer():
    stored = sorted(p.stem for p in EXPECTED_DIR.glob("*.npz"))
    assert stored == PRODUCERS, "run `python -m rnngrade.oracles.expected` to rewrite the stored expected values"


@pytest.mark.parametrize("notebook", PRODUCERS)
def test_stored_values_match_oracle(notebook):
    fresh = expected.compute(notebook)
    with np.load(EXPECTED_DIR / f"{notebook}.npz", allow_pickle=False) as stored:
        assert sorted(stored.files) == sorted(fresh), f"{notebook}: stored keys differ from the producer's"
        for key in fresh:
            np.testing.assert_allclose(stored[key], fresh[key], rtol=1e-12, atol=1e-12, err_msg=key)


def test_load_expected_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no stored expected values"):
        load_expected("no_such_notebook", "case")
