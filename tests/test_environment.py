"""requirements.txt (make setup) and environment.yml (conda) pin the same versions, for Python 3.10 to 3.13, and
the venv running the tests has the ones its Python should get."""
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[1]
# "name==version" with an optional environment marker ("; python_version < '3.11'"), in either file.
PIN = re.compile(r"^\s*(?:-\s*)?([A-Za-z0-9_.\-]+)==([^\s;#]+)\s*(?:;\s*([^#]+?))?\s*(?:#.*)?$")


def _pins(path: Path) -> list[tuple[str, str, str]]:
    """(name, version, marker or "") for every pin of the file."""
    pins = []
    for line in path.read_text().splitlines():
        m = PIN.match(line)
        if m:
            pins.append((m.group(1).lower().replace("_", "-"), m.group(2), (m.group(3) or "").strip()))
    return pins


def _for_this_python(pins) -> dict[str, str]:
    """name -> the version pinned for the running Python (markers evaluated); each name exactly once."""
    chosen: dict[str, str] = {}
    for name, version, marker in pins:
        if not marker or Marker(marker).evaluate():
            assert name not in chosen, f"{name} is pinned twice for Python {sys.version.split()[0]}"
            chosen[name] = version
    return chosen


def test_requirements_and_environment_agree():
    req, env = _pins(ROOT / "requirements.txt"), _pins(ROOT / "environment.yml")
    assert req, "no pins found in requirements.txt"
    assert sorted(req) == sorted(env)
    python = re.search(r"^\s*-\s*python=(3\.\d+)\s*$", (ROOT / "environment.yml").read_text(), re.M)
    assert python and python.group(1) in {"3.10", "3.11", "3.12", "3.13"}, "environment.yml: python=3.10 to 3.13"
    names = {name for name, _, _ in req}
    for must in ["torch", "numpy", "matplotlib", "jupyterlab", "nbgrader", "pytest", "nbval", "tqdm"]:
        assert must in names, f"{must} is not pinned"
    pinned = dict((n, v) for n, v, m in req if not m or "3.11" in m)
    assert pinned["torch"] == "2.13.0" and pinned["jupyterlab"].startswith("4.")


def test_every_python_gets_each_package_once():
    """Each supported Python gets exactly one version of every pinned package (markers cover 3.10 to 3.13)."""
    req = _pins(ROOT / "requirements.txt")
    names = {name for name, _, _ in req}
    for minor in (10, 11, 12, 13):
        env = {"python_version": f"3.{minor}", "python_full_version": f"3.{minor}.0"}
        got = [name for name, _, marker in req if not marker or Marker(marker).evaluate(env)]
        assert sorted(got) == sorted(names), f"Python 3.{minor}: {sorted(got)}"


def test_marker_parsing():
    line = 'numpy==2.2.6; python_version < "3.11"   # comment'
    assert PIN.match(line).groups() == ("numpy", "2.2.6", 'python_version < "3.11"')
    assert PIN.match("      - torch==2.13.0").groups() == ("torch", "2.13.0", None)


def test_installed_versions_match_pins():
    assert (3, 10) <= sys.version_info[:2] <= (3, 13)
    for name, version in _for_this_python(_pins(ROOT / "requirements.txt")).items():
        installed = metadata.version(name)
        assert installed.split("+")[0] == version, f"{name}: installed {installed}, pinned {version}"
