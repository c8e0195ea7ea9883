"""rnngrade.sandbox_modes: the permissions level's chmods are shared by overlapping workspaces and undone by the
last one to close (or by the next run, when the holder died). Plain files and folders of the test's own; no root
needed."""
import json
import os
import stat
import subprocess
import sys

import pytest

from rnngrade import sandbox_modes

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the permissions level is Linux only")


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.fixture
def tree(tmp_path):
    answers, closed = tmp_path / "answers", tmp_path / "closed"
    answers.mkdir(mode=0o755)
    closed.mkdir()
    os.chmod(answers, 0o755)
    os.chmod(closed, 0o750)           # others cannot pass through: like pyenv's folder under /root
    return answers, closed, tmp_path / "state.json"


def test_last_holder_restores(tree):
    answers, closed, state = tree
    t1, opened1 = sandbox_modes.apply([answers], [str(closed)], state)
    assert _mode(answers) == 0o750 and _mode(closed) == 0o751 and opened1 == [str(closed)]
    t2, opened2 = sandbox_modes.apply([answers], [str(closed)], state)
    assert opened2 == [str(closed)]       # still said in the second workspace's notes
    sandbox_modes.undo(t1, state)
    assert _mode(answers) == 0o750 and _mode(closed) == 0o751     # the second workspace still grades
    sandbox_modes.undo(t2, state)
    assert _mode(answers) == 0o755 and _mode(closed) == 0o750
    assert json.loads(state.read_text()) == {"modes": {}, "holders": {}}


def test_a_dead_holder_does_not_keep_the_answers_closed(tree):
    answers, closed, state = tree
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    state.write_text(json.dumps({"modes": {str(answers): 0o755}, "holders": {"x": int(dead.stdout)}}))
    os.chmod(state, 0o600)
    os.chmod(answers, 0o750)             # what the killed grader left behind
    token, _ = sandbox_modes.apply([], [], state)
    assert _mode(answers) == 0o755       # put back before this run recorded anything
    sandbox_modes.undo(token, state)
    assert _mode(answers) == 0o755


def test_a_state_file_others_may_write_is_refused(tree):
    answers, _, state = tree
    state.write_text("{}")
    os.chmod(state, 0o666)
    with pytest.raises(PermissionError):
        sandbox_modes.apply([answers], [], state)
    assert _mode(answers) == 0o755
