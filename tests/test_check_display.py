"""A failed check shows its message, not rnnlab's internal traceback (issue 13 part C).

A tiny notebook runs in a real Jupyter kernel (nbclient, as a student's Jupyter or the grader's kernel runs it): a
failing ``check_close`` inside ``strict_numerics``, a failing ``check_shape``, a check of ``rnnlab.clips_checks``,
and a check whose input the student's own function could not compute. Each error output keeps the exception type
(AssertionError), the teaching message and the student's cell, and shows no frame of rnnlab's modules; the
student's own function stays in its traceback. A plain ``assert`` is shown as before.
"""
import re

import nbformat
import pytest
from nbclient import NotebookClient

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CELLS = [
    "import numpy as np\nimport torch\nfrom rnnlab import check_close, check_shape, strict_numerics\n"
    "from rnnlab.clips_checks import run_loss",
    # 1: check_close in strict_numerics, as every test cell does
    "with strict_numerics():\n    check_close('next_h', np.array([1.0, 2.0]), np.array([1.0, 2.5]), 1e-8,\n"
    "                hint='the gradient through the tanh is missing')",
    # 2: check_shape
    "check_shape('dx', np.zeros((2, 3)), (3, 2))",
    # 3: a check of a notebook's helper module
    "run_loss(lambda z, t, L: z.sum(1), torch.zeros(1, 2, 3), None, None)",
    # 4: the student's function raises inside a check: the student's frame must stay
    "def my_forward(x):\n    return x.reshape(5)   # a bug of the student's\n\n"
    "def check_mine():\n    check_close('out', my_forward(np.zeros(3)), np.zeros(5), 1e-8)\n\ncheck_mine()",
    # 5: a plain assert, untouched
    "assert 1 == 2, 'a plain assert'",
    # 6: a check of rnnlab.states (an LSTM state given where a GRU's is expected)
    "from rnnlab.states import check_state\n"
    "check_state('h_T', (torch.zeros(1, 2), torch.zeros(1, 2)), torch.zeros(1, 2), 1e-6)",
]


@pytest.fixture(scope="module")
def errors(tmp_path_factory):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path_factory.mktemp("nb"))}})
    client.execute()
    out = {}
    for k, cell in enumerate(nb.cells):
        errs = [o for o in cell.outputs if o.output_type == "error"]
        if errs:
            out[k] = (errs[0].ename, errs[0].evalue, ANSI.sub("", "\n".join(errs[0].traceback)))
    return out


def _no_rnnlab_frames(shown):
    assert "rnnlab/" not in shown and "rnnlab\\" not in shown, shown
    assert "compare.py" not in shown and "clips_checks.py" not in shown, shown


def test_a_failed_check_shows_the_message_and_the_cell_not_rnnlab(errors):
    assert set(errors) == {1, 2, 3, 4, 5, 6}
    ename, evalue, shown = errors[1]
    assert ename == "AssertionError"
    assert "next_h is wrong at index (1,)" in evalue and "the gradient through the tanh is missing" in evalue
    assert evalue in shown and "check_close('next_h'" in shown            # the message and the student's cell
    _no_rnnlab_frames(shown)
    ename, evalue, shown = errors[2]
    assert ename == "AssertionError" and "dx has shape (2, 3), expected (3, 2)" in evalue
    _no_rnnlab_frames(shown)
    ename, evalue, shown = errors[3]
    assert ename == "AssertionError" and "must return a scalar tensor" in evalue
    _no_rnnlab_frames(shown)
    ename, evalue, shown = errors[6]
    assert ename == "AssertionError" and "h_T holds 2 tensor(s), expected 1" in evalue
    _no_rnnlab_frames(shown)
    assert "states.py" not in shown, shown


def test_the_students_own_frames_and_other_errors_are_shown_as_before(errors):
    ename, evalue, shown = errors[4]
    assert ename == "ValueError" and "my_forward" in shown and "a bug of the student's" in shown
    ename, evalue, shown = errors[5]
    assert ename == "AssertionError" and evalue == "a plain assert" and "assert 1 == 2" in shown
