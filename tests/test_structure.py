"""The grader's structure: no import cycles between its modules, every module named in the package docstring, and
each solution notebook parsed once for all grading steps (rnngrade.source_notebook)."""
import ast
import shutil
from pathlib import Path

import rnngrade
from rnngrade import source_notebook

PACKAGE = Path(rnngrade.__file__).resolve().parent
ROOT = PACKAGE.parents[1]


def _modules() -> dict[str, Path]:
    mods = {}
    for f in PACKAGE.rglob("*.py"):
        parts = f.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = f
    return mods


def _imports(name: str, f: Path, mods: dict) -> set[str]:
    """The rnngrade modules ``name`` imports, at module level or inside functions."""
    pkg = name if f.name == "__init__.py" else name.rpartition(".")[0]
    deps = set()
    for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = pkg
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            m = (base + ("." + node.module if node.module else "")) if node.level else (node.module or "")
            candidates = [m] + [f"{m}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        deps |= {c for c in candidates if c in mods and c != name}
    return deps


def test_no_import_cycles():
    mods = _modules()
    graph = {n: {d for d in _imports(n, f, mods) if not d.startswith(n + ".")} for n, f in mods.items()}
    state, stack, cycles = {}, [], []

    def visit(v):
        state[v] = "open"
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == "open":
                cycles.append(stack[stack.index(w):] + [w])
            elif w not in state:
                visit(w)
        stack.pop()
        state[v] = "done"

    for v in sorted(graph):
        if v not in state:
            visit(v)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_package_docstring_names_every_module():
    top = {n.split(".")[1] for n in _modules() if n.count(".") >= 1}
    missing = sorted(m for m in top if f"``rnngrade.{m}``" not in rnngrade.__doc__)
    assert not missing, f"rnngrade/__init__.py's docstring does not list: {missing}"


def test_a_solution_notebook_is_parsed_once_for_every_step(tmp_path):
    original = ROOT / "solutions" / "01_vanilla_rnn" / "vanilla_rnn.ipynb"
    first = source_notebook.load(original)
    copy = tmp_path / "source" / original.name          # the grading workspace's copy of it
    copy.parent.mkdir()
    shutil.copy2(original, copy)
    assert source_notebook.load(copy) is first
    assert source_notebook.load(original) is first
    changed = tmp_path / "changed" / original.name
    changed.parent.mkdir()
    changed.write_text(original.read_text(encoding="utf-8").replace("rnn_step_forward", "rnn_step_fwd"),
                       encoding="utf-8")
    assert source_notebook.load(changed) is not first


def test_source_notebook_reads_what_nbgrader_metadata_says():
    src = source_notebook.load(ROOT / "solutions" / "01_vanilla_rnn" / "vanilla_rnn.ipynb")
    ids = [c.grade_id for c in src.grade_cells if not c.manual]
    assert "test_rnn_step_forward" in ids and "test_rnn_step_forward_hidden" in ids
    assert "test_rnn_step_forward_hidden" in src.hidden_ids and "test_rnn_step_forward" not in src.hidden_ids
    assert "rnn_step_forward" in src.solution_names
    tests, setup = src.judge_cells
    assert set(tests) == set(ids) and all(pos < tests[ids[0]][0] for pos, _ in setup[:1])

