"""Committed notebooks: no outputs, well-formed nbgrader metadata, test cells that cannot score by accident;
and code (notebooks and Python files) written to 120 columns."""
import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
RELEASE = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
ALL = SOLUTIONS + RELEASE


def _id(p):
    return str(p.relative_to(ROOT))


def test_there_are_notebooks():
    assert SOLUTIONS and RELEASE


@pytest.mark.parametrize("path", ALL, ids=_id)
def test_committed_without_outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs"
            assert cell.execution_count is None, f"cell {i} has an execution count"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_id)
def test_nbgrader_metadata(path):
    nb = nbformat.read(str(path), as_version=4)
    ids = []
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        ids.append(meta.get("grade_id"))
        assert meta.get("schema_version") == 3, f"cell {i}: schema_version"
        assert meta.get("grade_id"), f"cell {i}: nbgrader cell without grade_id"
        if meta.get("grade") and cell.cell_type == "code":
            assert meta.get("locked") and not meta.get("solution"), f"{meta['grade_id']}: tests must be locked"
            assert float(meta.get("points", 0)) > 0, f"{meta['grade_id']}: no points"
        if meta.get("solution") and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in cell.source, f"{meta['grade_id']}: solution cell without a solution region"
    assert len(ids) == len(set(ids)), "duplicate grade_id"
    hidden = [c for c in nb.cells if "### BEGIN HIDDEN TESTS" in c.source]
    assert all(c.metadata.get("nbgrader", {}).get("grade") for c in hidden), "hidden tests outside a graded cell"


def _last_statement_problem(source: str):
    """nbgrader scores a test cell by its last expression's value: it must end in a statement (or print)."""
    code = "\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!")))
    tree = ast.parse(code)
    if not tree.body:
        return None
    last = tree.body[-1]
    if isinstance(last, ast.Expr):
        call = last.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print":
            return None
        return f"ends in a bare expression at line {last.lineno}: {ast.unparse(last)[:80]}"
    return None


@pytest.mark.parametrize("path", SOLUTIONS, ids=_id)
def test_test_cells_end_in_statements(path):
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            problem = _last_statement_problem(cell.source)
            assert problem is None, f"{meta['grade_id']} {problem}"


def test_last_statement_rule_catches_bare_expressions():
    assert _last_statement_problem("x = 1\nnp.allclose(x, 1)")
    assert _last_statement_problem("check_close('a', 1, 1)")
    assert _last_statement_problem("assert x\nprint('ok')") is None
    assert _last_statement_problem("with w:\n    check_close('a', 1, 1)") is None


# Where a test cell states a tolerance: the 4th argument of these checks, a tol=/atol=/rtol= keyword of any call,
# and the default of a parameter with one of those names (a cell's own helper).
_TOLERANCE_ARG = {"check_close", "check_close_f32", "check_state"}
_TOLERANCE_NAMES = {"tol", "atol", "rtol"}


def _tolerance_exprs(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if getattr(node.func, "id", getattr(node.func, "attr", None)) in _TOLERANCE_ARG and len(node.args) > 3:
                yield node.args[3]
            yield from (k.value for k in node.keywords if k.arg in _TOLERANCE_NAMES)
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            a = node.args
            positional = a.posonlyargs + a.args
            pairs = list(zip(positional[len(positional) - len(a.defaults):], a.defaults))
            pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
            yield from (d for arg, d in pairs if arg.arg in _TOLERANCE_NAMES)


_TOLERANCE_IN_PROSE = re.compile(r"\b(tolerance|below) \d(\.\d+)?e-\d+", re.IGNORECASE)


def _unnamed_tolerances(source: str) -> list[str]:
    """Tolerances in ``source`` written as numbers instead of rnnlab.TOL names: in a check (anywhere in the
    expression, ``1e-5 if a else 1e-4`` included), or in the text a test prints ("tolerance 1e-8", "below 1e-7";
    write ``{TOL.SEQUENCE!r}`` or ``{TOL.NUMERICAL}``, so the text cannot fall out of step with the check)."""
    tree = ast.parse(source)
    in_checks = [f"line {expr.lineno}: {ast.unparse(expr)[:60]}" for expr in _tolerance_exprs(tree)
                 if any(isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) for n in ast.walk(expr))]
    in_prose = [f"line {n.lineno}: {n.value[:60]!r}" for n in ast.walk(tree)
                if isinstance(n, ast.Constant) and isinstance(n.value, str) and _TOLERANCE_IN_PROSE.search(n.value)]
    return in_checks + in_prose


@pytest.mark.parametrize("path", SOLUTIONS, ids=_id)
def test_test_cells_name_their_tolerances(path):
    """A check's tolerance is one of rnnlab.TOL's names, so its failure says why the bar is there (issue 17)."""
    nb = nbformat.read(str(path), as_version=4)
    bare = {cell.metadata["nbgrader"]["grade_id"]: _unnamed_tolerances(cell.source) for cell in nb.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")}
    bare = {k: v for k, v in bare.items() if v}
    assert not bare, f"tolerances written as numbers, name them with rnnlab.TOL: {bare}"


def test_unnamed_tolerance_rule():
    assert _unnamed_tolerances("check_close('h', h, e, 1e-8)")
    assert _unnamed_tolerances("check_close_f32('h', h, e, tol=1e-5, hint='x')")
    assert _unnamed_tolerances("check_state('s', s, e, 1e-8)")
    assert _unnamed_tolerances("check_close_f32('h', h, e, TOL.FLOAT32 if a else 1e-4)")
    assert _unnamed_tolerances("np.allclose(a, b, atol=1e-6)")
    assert _unnamed_tolerances("def _check(label, args, check=check_close, tol=1e-8):\n    pass")
    assert _unnamed_tolerances("print('All five below 1e-7: they match.')")
    assert _unnamed_tolerances("print(f'error {err:.1e} (tolerance 1e-8).')")
    assert not _unnamed_tolerances("print(f'All five below {TOL.NUMERICAL}; error {err:.1e} (tolerance {TOL.STEP!r})')")
    assert not _unnamed_tolerances("check_close('h', h, e, TOL.SEQUENCE)\ncheck_close('h', h, e)\n"
                                   "check_state('s', s, e, TOL.STEP if a else TOL.SUM)\n"
                                   "def f(x, tol=TOL.LOOSE):\n    pass")


MAX_COLUMNS = 120       # code a student reads fits in a laptop's notebook without scrolling sideways


def _too_wide(where: str, text: str) -> list[str]:
    return [f"{where}:{n}: {len(line)} columns" for n, line in enumerate(text.splitlines(), 1)
            if len(line) > MAX_COLUMNS]


@pytest.mark.parametrize("path", SOLUTIONS + RELEASE, ids=_id)
def test_code_lines_fit_in_120_columns(path):
    """The notebooks' code (and the hidden tests an instructor reads) is written to MAX_COLUMNS."""
    nb = nbformat.read(str(path), as_version=4)
    long = [problem for cell in nb.cells if cell.cell_type == "code"
            for problem in _too_wide(cell.metadata.get("nbgrader", {}).get("grade_id") or cell.get("id"), cell.source)]
    assert not long, f"lines over {MAX_COLUMNS} columns: {long}"


def test_python_files_fit_in_120_columns():
    """So is the workbook's Python: helpers, grader, benchmarks, tests."""
    long = [problem for folder in ("helpers", "autograder", "bench", "tests")
            for path in sorted((ROOT / folder).rglob("*.py"))
            for problem in _too_wide(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))]
    assert not long, f"lines over {MAX_COLUMNS} columns:\n" + "\n".join(long)


@pytest.mark.parametrize("path", RELEASE, ids=_id)
def test_release_holds_no_answers(path):
    text = path.read_text()
    for marker in ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME"]:
        assert marker not in text, f"{marker} left in the release"
    assert re.search(r"raise NotImplementedError", text)


def test_readme_describes_every_notebook_in_one_table():
    """The README's notebook table has a row per released notebook, in order, and no blank line splits it (a
    markdown table ends at the first blank line; the rows after it would show as plain text)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## The notebooks\n", 1)[1].split("\n## ", 1)[0]
    blocks = [b for b in section.split("\n\n") if b.lstrip().startswith("| notebook |")]
    assert len(blocks) == 1, "the section should hold one table of notebooks"
    lines = blocks[0].strip().splitlines()
    assert all(line.startswith("|") for line in lines), "the table is interrupted"
    listed = re.findall(r"^\| `([^`]+\.ipynb)` \|", blocks[0], flags=re.M)
    assert listed == [p.relative_to(ROOT / "notebooks").as_posix() for p in RELEASE], listed
