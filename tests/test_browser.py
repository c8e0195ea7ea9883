"""A real browser: JupyterLab 4 on the release in headless Chromium, driven by Playwright. The notebook opens
and runs, and nbgrader's lab extension is really loaded: the Validate button validates, the Nbgrader menu opens
the assignment list. Runs when Chromium is installed (CI installs Debian's package)."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (CI installs it)")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def lab(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "browser-test"
    # serve a copy: JupyterLab saves what the test runs, and the committed release must stay untouched
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}",
                             "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
                             f"--notebook-dir={tmp_path / 'notebooks'}",
                             *(["--allow-root"] if os.geteuid() == 0 else [])],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/lab?token={token}", timeout=3)
            break
        except OSError:
            time.sleep(0.5)
    yield base, token
    proc.terminate()
    proc.wait(timeout=30)


def test_notebook_runs_and_nbgrader_extension_works(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    base, token = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/lab/tree/01_vanilla_rnn/vanilla_rnn.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            # run the title cell and the set-up cell; the set-up cell prints the quick-mode line
            page.locator(".jp-Notebook .jp-Cell").nth(0).click()
            page.keyboard.press("Escape")
            page.keyboard.press("Shift+Enter")
            page.keyboard.press("Shift+Enter")
            page.wait_for_selector("text=quick mode:", timeout=120_000)

            # nbgrader's Validate button runs the visible tests: on the unsolved release, a cell fails
            validate = page.locator(".jp-NotebookPanel-toolbar >> text=Validate")
            assert validate.count() == 1
            validate.first.click()
            page.wait_for_selector(".jp-Dialog", timeout=180_000)
            dialog = page.locator(".jp-Dialog").inner_text()
            assert "Validation Results" in dialog and "rnn_step_forward" in dialog, dialog[:500]
            page.keyboard.press("Escape")

            # the assignment list loads from the Nbgrader menu
            page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
            items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
            assert "Assignment List" in items and "Formgrader" in items, items
            page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
            page.wait_for_selector("text=Released assignments", timeout=60_000)
            page.screenshot(path=str(tmp_path / "lab.png"))
        finally:
            browser.close()


def test_feedback_and_review_pages_render_and_run_nothing(tmp_path):
    """A toy batch whose student wrote a script and an onerror image into a written answer: in Chromium, the
    feedback page and the review page show formatted text (no literal tags), the score table is a table, and
    neither the script nor the handler ran (they would change the title and set a global)."""
    from playwright.sync_api import sync_playwright

    from rnngrade.batch import grade_batch
    from rnngrade.handgrading import write_review
    from submissions import make_submission, make_toy_course

    course = make_toy_course(tmp_path / "toy")
    rel, sol = course.release_dir / "00_toy" / "toy.ipynb", course.solutions / "00_toy" / "toy.ipynb"
    attack = ('It **is**. <script>window.pwned = 1; document.title = "pwned"</script>'
              '<img src="nothing.png" onerror="window.pwned = 2; document.title = \'pwned\'">')
    make_submission(rel, sol, tmp_path / "subs" / "mal" / "toy.ipynb", answers={"q_commutative": attack})
    grade_batch(course, tmp_path / "subs", tmp_path / "out", log=lambda *_: None)
    pages, _ = write_review(course, tmp_path / "out")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.route("http*://**", lambda route: route.abort())      # offline: CDN scripts do not load
            for path in [tmp_path / "out" / "mal" / "feedback" / "toy.html", pages[0]]:
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_timeout(500)
                text = page.inner_text("body")
                assert "<h1" not in text and "<p>" not in text and "<script" not in text, text[:500]
                assert page.evaluate("window.pwned") is None and page.title() != "pwned"
                assert page.locator("strong", has_text="is").count() >= 1      # the answer's markdown rendered
            page.goto((tmp_path / "out" / "mal" / "feedback" / "toy.html").as_uri(), wait_until="load")
            assert page.locator("table th", has_text="score").count() == 1
            assert page.locator("table td", has_text="test_add_hidden").count() == 1
        finally:
            browser.close()
