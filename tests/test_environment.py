"""requirements.txt (make setup) and environment.yml (conda) pin the same versions, and the venv has them."""
import re
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*(?:-\s*)?([A-Za-z0-9_.\-]+)==([^\s#]+)")


def _pins(path: Path) -> dict:
    pins = {}
    for line in path.read_text().splitlines():
        m = PIN.match(line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_requirements_and_environment_agree():
    req, env = _pins(ROOT / "requirements.txt"), _pins(ROOT / "environment.yml")
    assert req, "no pins found in requirements.txt"
    assert req == env
    assert "python=3.11" in (ROOT / "environment.yml").read_text()
    for must in ["torch", "numpy", "matplotlib", "jupyterlab", "nbgrader", "pytest", "nbval", "tqdm"]:
        assert must in req, f"{must} is not pinned"
    assert req["torch"] == "2.13.0" and req["nbgrader"] == "0.9.6" and req["jupyterlab"].startswith("4.")


def test_installed_versions_match_pins():
    assert sys.version_info[:2] == (3, 11)
    for name, version in _pins(ROOT / "requirements.txt").items():
        installed = metadata.version(name)
        assert installed.split("+")[0] == version, f"{name}: installed {installed}, pinned {version}"
