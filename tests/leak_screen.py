"""Leak screen: can a graded function be answered by a callable that students already receive?

Run as a script, in a process of its own: ``python tests/leak_screen.py [ASSIGNMENT ...] [--plant NAME] > out.json``
(no assignment: all of them).

What a cheating student receives is the release notebooks and ``rnnlab``. This script collects every function and
class those expose (module-level in any ``rnnlab`` module, public or underscore-private; defined in any release
notebook's non-solution code cell), then, for each graded function of ASSIGNMENT, puts every candidate whose
signature fits in that function's place and runs the function's test cells (visible and hidden, from the source
notebook) the way the judge does: after the source notebook's locked cells, with every OTHER graded function
the reference solution (an honest student who cheats on just this one). A candidate that passes any of the function's
test cells is a leak. Answers that compute nothing (``None``, ``()``, ``""``, ``0.0``) are candidates too: a test they
pass is too weak to tell a right answer from none. ``--plant NAME`` adds the reference solution of NAME to the
candidates under another name: the witness that the screen finds a leak when there is one.

Candidates are adapted the way a student would: arguments are passed by position in the graded function's order
(so keyword names need not match); a class candidate is subclassed under the graded class's name.

The result (JSON on stdout): ``{"candidates": n, "assignments": {assignment: {"functions": {name: {"tests": [...],
"stub_passes": [...], "candidates": n, "leaks": [{"candidate": origin, "passed": [grade_id, ...], "with": {...}}]}}}}}``
(``with``: the leak found in pass 2, with another function's leak in place).
"""
from __future__ import annotations

import ast
import contextlib
import inspect
import io
import json
import os
import pkgutil
import signal
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELL_LIMIT_S = 120        # one set-up cell of a notebook (quick mode)
TEST_LIMIT_S = 20         # one test cell with one candidate


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that a test cell's ``except Exception`` does not swallow it."""


def _alarm(signum, frame):
    raise _Timeout()


def _run(source: str, ns: dict, limit: float) -> BaseException | None:
    """Execute one cell's source in ``ns`` with a time limit, output swallowed; the exception it raised, if any."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile("\n".join(lines), "<cell>", "exec"), ns)
        return None
    except BaseException as exc:  # noqa: BLE001 - anything a cell raises is its result
        return exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _cells(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _defined_names(source: str) -> list[str]:
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def notebook_path(folder: str, assignment: str) -> Path:
    found = sorted((ROOT / folder / assignment).glob("*.ipynb"))
    if len(found) != 1:
        raise SystemExit(f"expected one notebook in {folder}/{assignment}, found {len(found)}")
    return found[0]


def assignments() -> list[str]:
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and list(p.glob("*.ipynb")))


# ----------------------------------------------------------------------------------------------- candidates
def rnnlab_candidates() -> dict[str, object]:
    import rnnlab
    found: dict[str, object] = {}
    for info in pkgutil.walk_packages(rnnlab.__path__, "rnnlab."):
        try:
            module = __import__(info.name, fromlist=["_"])
        except Exception:  # noqa: BLE001 - a module that cannot import exposes nothing
            continue
        for name, obj in vars(module).items():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, "__module__", None) == info.name:
                found[f"{info.name}.{name}"] = obj
    return found


def release_candidates() -> dict[str, object]:
    """Functions and classes the release notebooks' non-solution code cells define (locked cells and visible
    tests), each notebook run top to bottom in quick mode without its solution cells."""
    found: dict[str, object] = {}
    for assignment in assignments():
        path = notebook_path("notebooks", assignment)
        modname = f"release_{assignment}"
        ns: dict = {"__name__": modname}
        for cell in _cells(path):
            if cell["cell_type"] != "code" or _meta(cell).get("solution"):
                continue
            _run(_src(cell), ns, CELL_LIMIT_S)
            for name in _defined_names(_src(cell)):
                obj = ns.get(name)
                if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, "__module__", None) == modname:
                    found[f"{assignment}:{name}"] = obj
    return found


def _returns_none(*args, **kwargs):
    return None


def _returns_empty(*args, **kwargs):
    return ()


def _returns_empty_text(*args, **kwargs):
    return ""


def _returns_zero(*args, **kwargs):
    return 0.0


# Answers that compute nothing: a test they pass cannot tell a right answer from none (a weak test, not a leak).
TRIVIAL = {f"trivial answer: {fn.__name__[1:]}": fn
           for fn in (_returns_none, _returns_empty, _returns_empty_text, _returns_zero)}


# ----------------------------------------------------------------------------------------------- fitting
def _positional(sig: inspect.Signature):
    params = [p for p in sig.parameters.values()]
    pos = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in pos if p.default is p.empty]
    var = any(p.kind == p.VAR_POSITIONAL for p in params)
    return pos, required, var


def _signature(obj):
    try:
        if inspect.isclass(obj):
            sig = inspect.signature(obj.__init__)
            params = list(sig.parameters.values())[1:]      # drop self
            return sig.replace(parameters=params)
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def fits(reference, candidate) -> bool:
    """The candidate can be called with the arguments the graded function takes, passed by position."""
    if inspect.isclass(reference) != inspect.isclass(candidate):
        return False
    if inspect.isclass(reference):
        import torch
        if not (issubclass(candidate, torch.nn.Module) and issubclass(reference, torch.nn.Module)):
            return False
    ref_sig, cand_sig = _signature(reference), _signature(candidate)
    if ref_sig is None or cand_sig is None:
        return False
    ref_pos, ref_req, _ = _positional(ref_sig)
    cand_pos, cand_req, cand_var = _positional(cand_sig)
    if len(cand_req) > len(ref_pos):          # it needs an argument the graded function is never given
        return False
    return cand_var or len(cand_pos) >= len(ref_req)


def adapt(name: str, reference, candidate):
    """The candidate, dressed as the graded function: arguments rebound by position."""
    ref_sig = _signature(reference)
    ref_pos, _, _ = _positional(ref_sig)
    cand_pos, _, cand_var = _positional(_signature(candidate))
    keep = len(ref_pos) if cand_var else min(len(ref_pos), len(cand_pos))

    def positional(args, kwargs):
        bound = ref_sig.bind(*args, **kwargs)
        bound.apply_defaults()
        return [bound.arguments[p.name] for p in ref_pos[:keep]]

    if inspect.isclass(reference):
        def __init__(self, *args, **kwargs):
            candidate.__init__(self, *positional(args, kwargs))
        return type(name, (candidate,), {"__init__": __init__})

    def cheat(*args, **kwargs):
        return candidate(*positional(args, kwargs))
    cheat.__name__ = name
    return cheat


# ----------------------------------------------------------------------------------------------- screening
def tests_of(cells, names: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Each graded name's test cells: ``test_<name>`` and ``test_<name>_hidden``; a test cell named after no
    graded function (``test_metrics``) belongs to every graded name its source mentions."""
    out: dict[str, list[tuple[str, str]]] = {n: [] for n in names}
    for cell in cells:
        meta = _meta(cell)
        if cell["cell_type"] != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        gid = str(meta.get("grade_id"))
        owner = next((n for n in names if gid in (f"test_{n}", f"test_{n}_hidden")), None)
        owners = [owner] if owner else [n for n in names if n in _src(cell)]
        for n in owners:
            out[n].append((gid, _src(cell)))
    return out


def _screen_function(name, tests, reference, ns, candidates) -> dict:
    def passes(obj) -> list[str]:
        passed = []
        # In place, not in a copy: helpers that earlier cells defined look the name up in their own globals.
        saved = ns[name]
        ns[name] = obj
        try:
            for gid, source in tests:
                if _run(source, ns, TEST_LIMIT_S) is None:
                    passed.append(gid)
        finally:
            ns[name] = saved
        return passed

    def stub(*args, **kwargs):
        raise NotImplementedError()

    entry = {"tests": [gid for gid, _ in tests], "stub_passes": passes(stub), "candidates": 0, "leaks": []}
    for origin, candidate in sorted(candidates.items()):
        if not fits(reference, candidate):
            continue
        entry["candidates"] += 1
        passed = passes(adapt(name, reference, candidate))
        if passed:
            entry["leaks"].append({"candidate": origin, "passed": passed})
    return entry


def screen(assignment: str, candidates: dict, plant: str | None = None) -> dict:
    """Screen every graded function of one assignment (see the module docstring).

    Pass 1 replaces one graded function at a time. Pass 2 keeps each leak found in pass 1 in place and screens
    the other functions again: a backward pass that needs the cache of a leaked forward pass is found that way.
    """
    started = time.time()
    candidates = dict(candidates)
    cells = _cells(notebook_path("solutions", assignment))
    solution_cells = [c for c in cells if c["cell_type"] == "code" and _meta(c).get("solution")]
    names = [n for c in solution_cells for n in _defined_names(_src(c))]

    # The honest student's namespace: the source notebook's locked cells and reference solutions, in order.
    ns: dict = {"__name__": "__main__"}
    for cell in cells:
        meta = _meta(cell)
        if cell["cell_type"] != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        _run(_src(cell), ns, CELL_LIMIT_S)
    if plant and plant in ns:
        candidates[f"planted reference of {plant}"] = ns[plant]

    graded = {name: tests for name, tests in tests_of(cells, names).items()
              if tests and (inspect.isfunction(ns.get(name)) or inspect.isclass(ns.get(name)))}
    result = {name: _screen_function(name, tests, ns[name], ns, candidates) for name, tests in graded.items()}
    for name, entry in list(result.items()):
        for leak in list(entry["leaks"]):
            honest = ns[name]
            ns[name] = adapt(name, honest, candidates[leak["candidate"]])
            try:
                again_all = {other: _screen_function(other, tests, ns[other], ns, candidates)
                             for other, tests in graded.items() if other != name}
            finally:
                ns[name] = honest
            for other, again in again_all.items():
                known = {l["candidate"] for l in result[other]["leaks"]}
                for extra in again["leaks"]:
                    if extra["candidate"] not in known:
                        extra["with"] = {name: leak["candidate"]}
                        result[other]["leaks"].append(extra)
    return {"assignment": assignment, "functions": result, "seconds": round(time.time() - started, 1)}


def screen_all(selected: list[str], plant: str | None = None) -> dict:
    os.environ.setdefault("RNNLAB_QUICK", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import torch
    torch.set_num_threads(1)
    started = time.time()
    candidates = {**rnnlab_candidates(), **release_candidates(), **TRIVIAL}
    out = {"candidates": len(candidates), "candidate_seconds": round(time.time() - started, 1), "assignments": {}}
    for assignment in selected:
        out["assignments"][assignment] = screen(assignment, candidates, plant)
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    plant = None
    if "--plant" in args:
        i = args.index("--plant")
        plant = args[i + 1]
        del args[i:i + 2]
    sys.path.insert(0, str(ROOT / "helpers"))
    real_stdout = sys.stdout
    out = screen_all(args or assignments(), plant)
    real_stdout.write(json.dumps(out, indent=1) + "\n")
