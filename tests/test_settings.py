"""rnngrade.settings: every RNNGRADE_* variable the project mentions is declared there, read nowhere else, and the
ones an instructor sets are in README's table with their defaults."""
import re
from pathlib import Path

from rnngrade import settings

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"RNNGRADE_[A-Z_]*[A-Z]")


def _mentions() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    files = [*ROOT.glob("autograder/**/*.py"), *ROOT.glob("helpers/**/*.py"), *ROOT.glob("tests/**/*.py"),
             *ROOT.glob("docs/*.md"), ROOT / "README.md", ROOT / "Makefile"]
    for f in files:
        if f.is_file() and ".venv" not in f.parts:
            for name in NAME.findall(f.read_text(encoding="utf-8", errors="replace")):
                found.setdefault(name, set()).add(str(f.relative_to(ROOT)))
    return found


def test_every_variable_mentioned_is_declared_once():
    declared = [s.name for s in settings.ALL]
    assert len(declared) == len(set(declared))
    unknown = {n: sorted(f) for n, f in _mentions().items() if n not in declared}
    assert not unknown, f"RNNGRADE_ variables not declared in rnngrade.settings: {unknown}"


def test_only_the_settings_module_spells_a_variable_in_code():
    # a quoted "RNNGRADE_..." in the grader's code is a second place that reads or names a variable
    quoted = re.compile(r"""["']RNNGRADE_""")
    offenders = [str(f.relative_to(ROOT)) for f in ROOT.glob("autograder/rnngrade/**/*.py")
                 if f.name != "settings.py" and quoted.search(f.read_text(encoding="utf-8"))]
    assert not offenders, offenders


def test_readme_table_states_each_instructor_setting_and_its_default():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for s in settings.ALL:
        if s.internal:
            continue
        row = next((ln for ln in readme.splitlines() if ln.startswith(f"| `{s.name}` |")), None)
        assert row is not None, f"{s.name} has no row in README's table of settings"
        if s.default:
            assert f"| {s.default} |" in row, f"README's default for {s.name} differs from {s.default}"


def test_values_are_read_when_asked_for(monkeypatch):
    monkeypatch.delenv("RNNGRADE_MEMORY_MB", raising=False)
    assert settings.MEMORY_MB.as_int() == 6144
    monkeypatch.setenv("RNNGRADE_MEMORY_MB", "1500")
    assert settings.MEMORY_MB.as_int() == 1500
    assert settings.HIDE.as_paths({"RNNGRADE_HIDE": "/a::/b"}) == ["/a", "/b"]
    assert settings.SANDBOX_UID.value({}) == ""
