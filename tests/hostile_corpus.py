"""Generate the hostile corpus: broken and hostile submissions of the real notebook 01, one student each.

    python tests/hostile_corpus.py OUT_DIR      # writes OUT_DIR/<student>/vanilla_rnn.ipynb and OUT_DIR/expected.json

Every submission starts from the released notebook with the instructor's solutions filled in, then breaks or
attacks through the cell of the last exercise, ``temporal_softmax_loss`` (tested by ``test_temporal_softmax_loss``,
2 points, and ``test_temporal_softmax_loss_hidden``, 3 points), or through the test cells. ``expected.json`` says,
for each student, which tests must score 0; every other test of the notebook must score full marks. A student
whose attack worked would show up there: the attacks return a right answer only when they succeed.
"""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).parent))
from submissions import make_submission, solution_sources  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / "notebooks" / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
SOLUTION = ROOT / "solutions" / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
TARGET = "temporal_softmax_loss"
LOST = ["test_temporal_softmax_loss", "test_temporal_softmax_loss_hidden"]

WRONG = textwrap.dedent('''
    def temporal_softmax_loss(x, y, mask):
        return 0.0, np.zeros_like(x)            # wrong: no loss, no gradient
''')


# Code that fakes every check a test could run in the student's own process.
CHEATS = textwrap.dedent('''
    import builtins, sys
    import numpy as np, torch, rnnlab, rnnlab.compare
    def _fine(*args, **kwargs):
        return 0.0
    check_close = check_close_f32 = rel_error = _fine
    for _m in (rnnlab, rnnlab.compare):
        _m.check_close = _m.check_close_f32 = _m.rel_error = _fine
    np.allclose = lambda *a, **k: True
    np.testing.assert_allclose = lambda *a, **k: None
    torch.allclose = lambda *a, **k: True
    builtins.abs = lambda v: 0.0 * v
    sys.modules["rnnlab.compare"] = rnnlab
''')


def _right() -> str:
    return solution_sources(SOLUTION)[TARGET]


def _if_leaked(attack: str) -> str:
    """An attack that sets `leaked`; the answer is right only if it succeeded."""
    return attack + "\nif not leaked:\n" + textwrap.indent(WRONG, "    ") + "\nelse:\n" + textwrap.indent(
        _right(), "    ")


def cases() -> dict[str, dict]:
    """student -> {answer: source of the target cell, drop/edit: test cells changed, lost: tests that score 0}"""
    right = _right()
    return {
        "honest": {"answer": right, "lost": []},
        "honest_wrong": {"answer": WRONG, "lost": LOST},
        "syntax_error": {"answer": right.replace("):", ")", 1), "lost": LOST},
        "exception_at_import": {"answer": "import no_such_module_xyz\n" + right, "lost": LOST},
        "name_error_cascade": {"answer": "undefined_helper()\n" + right, "lost": LOST},
        "infinite_loop_in_cell": {"answer": right + "\nwhile True:\n    pass\n", "lost": []},
        "infinite_loop_printing_in_call": {
            "answer": "def temporal_softmax_loss(x, y, mask):\n    while True:\n        print('spam' * 100)\n",
            "lost": LOST},
        "memory_exhaustion_in_call": {
            "answer": "def temporal_softmax_loss(x, y, mask):\n    hog = []\n    while True:\n"
                      "        hog.append(np.ones(2**24))\n", "lost": LOST},
        "kernel_exit": {"answer": right + "\nimport os\nos._exit(3)\n", "lost": LOST},
        "fork_bomb": {"answer": textwrap.dedent('''
            import os, time
            children = []
            try:
                for _ in range(100000):
                    pid = os.fork()
                    if pid == 0:
                        time.sleep(2)
                        os._exit(0)
                    children.append(pid)
            except OSError:
                pass
            for pid in children:
                os.waitpid(pid, 0)
            ''') + right, "lost": [], "sandbox": True},
        "monkeypatch_checks": {"answer": WRONG + CHEATS, "lost": LOST},
        "rigged_return_types": {"answer": textwrap.dedent('''
            class Anything(np.ndarray):
                def __eq__(self, other):
                    return True
                def __sub__(self, other):
                    return np.zeros(np.shape(other))
                __rsub__ = __sub__
                def __float__(self):
                    raise RuntimeError("no")
            def temporal_softmax_loss(x, y, mask):
                return np.zeros(()).view(Anything), np.zeros_like(x).view(Anything)
            '''), "lost": LOST},
        "answer_from_disk": {"answer": _if_leaked(textwrap.dedent(f'''
            import glob, json
            leaked = False
            for path in glob.glob("{ROOT}/solutions/*/*.ipynb") + glob.glob("/tmp/rnngrade-*/source/*/*.ipynb"):
                try:
                    cells = json.load(open(path))["cells"]
                    leaked = leaked or any("def temporal_softmax_loss" in "".join(c["source"]) for c in cells)
                except Exception:
                    pass
            ''')), "lost": LOST, "sandbox": True},
        "network": {"answer": _if_leaked(textwrap.dedent('''
            import socket
            try:
                socket.create_connection(("pypi.org", 443), timeout=3).close()
                leaked = True
            except OSError:
                leaked = False
            ''')), "lost": LOST, "sandbox": True},
        "tests_deleted": {"answer": WRONG, "drop": set(LOST), "lost": LOST},
        "tests_edited_to_pass": {"answer": WRONG, "edit": {t: "assert True\n" for t in LOST}, "lost": LOST},
        "test_metadata_stripped": {"answer": WRONG, "strip": set(LOST), "lost": LOST},
        # test cells moved above the code they test: in the student's own kernel they would fail with a NameError;
        # the judge runs the source's test cells in the source's order
        "tests_moved_to_the_top": {"answer": right, "move_to_top": set(LOST), "lost": []},
        # a second copy of each test cell, same metadata, edited to pass
        "tests_duplicated_to_pass": {"answer": WRONG, "duplicate": {t: "assert True\n" for t in LOST},
                                     "lost": LOST},
        # the file saved under another name (a browser's second download): recognised by its cells
        "renamed_notebook": {"answer": right, "filename": "vanilla_rnn (1).ipynb", "lost": []},
    }


def write_corpus(out: Path, sandbox: bool) -> dict[str, list[str]]:
    out = Path(out)
    expected = {}
    for student, case in cases().items():
        if case.get("sandbox") and not sandbox:
            continue
        path = make_submission(RELEASE, SOLUTION, out / student / case.get("filename", "vanilla_rnn.ipynb"),
                               answers={TARGET: case["answer"]}, drop=case.get("drop", set()), edit=case.get("edit"))
        if case.get("strip") or case.get("move_to_top") or case.get("duplicate"):
            nb = nbformat.read(str(path), as_version=4)
            gid = lambda c: c.metadata.get("nbgrader", {}).get("grade_id")  # noqa: E731
            for cell in nb.cells:
                if gid(cell) in case.get("strip", ()):
                    cell.metadata.pop("nbgrader")
            moved = [c for c in nb.cells if gid(c) in case.get("move_to_top", ())]
            cells = moved + [c for c in nb.cells if c not in moved]
            for grade_id, source in case.get("duplicate", {}).items():
                i = next(k for k, c in enumerate(cells) if gid(c) == grade_id)
                copy = nbformat.from_dict(json.loads(json.dumps(cells[i])))
                copy.source, copy.id = source, f"{cells[i].get('id', 'cell')}-copy"[:64]
                cells.insert(i + 1, copy)
            nb.cells = cells
            nbformat.write(nb, str(path))
        expected[student] = case["lost"]
    (out / "expected.json").write_text(json.dumps(expected, indent=1))
    return expected


if __name__ == "__main__":
    from rnngrade import sandbox as _sandbox

    print(json.dumps(write_corpus(Path(sys.argv[1]), _sandbox.available()[0]), indent=1))
