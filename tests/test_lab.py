"""`make lab` serves the release in JupyterLab 4 with nbgrader's lab extension (a real server, over HTTP)."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyterlab_serves_release_with_nbgrader_extension(tmp_path):
    port, token = _free_port(), "rnn-workbook-test"
    jupyter = Path(sys.executable).parent / "jupyter"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    proc = subprocess.Popen([str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
                             f"--IdentityProvider.token={token}", "--notebook-dir=notebooks",
                             *(["--allow-root"] if os.geteuid() == 0 else [])],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        page = None
        for _ in range(120):
            try:
                page = urllib.request.urlopen(f"{base}/lab?token={token}", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert page is not None, "JupyterLab did not answer"
        start = page.index('id="jupyter-config-data"')
        config = json.loads(page[page.index(">", start) + 1: page.index("</script>", start)])
        names = [ext["name"] for ext in config.get("federated_extensions", [])]
        assert "@jupyter/nbgrader" in names, names
        assert not any("nbgrader" in d for d in config.get("disabledExtensions", []) if "validate" in d)
        req = urllib.request.Request(f"{base}/api/contents/01_vanilla_rnn/vanilla_rnn.ipynb",
                                     headers={"Authorization": f"token {token}"})
        nb = json.loads(urllib.request.urlopen(req, timeout=10).read())
        assert nb["type"] == "notebook" and nb["content"]["cells"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
