"""A real browser: JupyterLab on 127.0.0.1, a notebook with the hypothesis browser of notebook 07
opened in headless Chromium (Debian's `chromium`, driven by Playwright; no browser download), run
top to bottom; a slider dragged; the figure must change. Saves build/browser/screenshot.png.

Skips when chromium or the `playwright` package is missing. Install them with
    apt-get install -y chromium && .venv/bin/python -m pip install playwright==1.65.2
(`make browser-test` runs this file alone.)
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mdnlib.config import PROJECT_DIR

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = PROJECT_DIR / "build" / "browser" / "screenshot.png"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_S = 120

# The notebook: notebook 07's hypothesis browser on poses that share one image exactly (the
# plausible bone flips of notebook 01), so it needs no trained model and runs in seconds.
CELLS = [
    new_markdown_cell("# Browser test: the hypothesis browser"),
    new_code_cell("import numpy as np\n"
                  "import mdnlib\n"
                  "from mdnlib import camera, toy, widgets\n"
                  "mdnlib.setup_notebook(tensorflow=False)\n"
                  "%matplotlib inline\n"
                  "cam = camera.Camera(R=np.eye(3), T=np.zeros(3), f=(1145.0, 1145.0), c=(500.0, 500.0))\n"
                  "pose = toy.example_pose()\n"
                  "flips = toy.count_flips(pose)['plausible_flips'][:5]\n"
                  "hyps = toy.flip_bones(pose, flips) - pose[0]\n"
                  "samples = np.stack([hyps, hyps[::-1], np.roll(hyps, 2, axis=0)])\n"
                  "weights = np.tile(np.linspace(1, 2, 5) / np.linspace(1, 2, 5).sum(), (3, 1))\n"
                  "pose_2d = np.tile(cam.project_camera(pose)[np.r_[0:9, 10:17]], (3, 1, 1))"),
    new_code_cell("browser = widgets.HypothesisBrowser(pose_2d, samples, weights, gt=samples[:, 0])\n"
                  "browser.show();"),
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no chromium (apt-get install -y chromium)"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on loopback, serving a folder with the test notebook; yields its URL."""
    root = tmp_path / "notebooks"
    root.mkdir()
    nbformat.write(new_notebook(cells=CELLS, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}}), root / "browser_test.ipynb")
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the page, so that the test can find them (no virtual scrolling)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    notifications = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    notifications.mkdir(parents=True)
    (notifications / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = free_port(), "browser-test-" + os.urandom(8).hex()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "MDNLIB_QUICK": "1"}
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", f"--port={port}",
         "--allow-root", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
         f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.expose_app_in_browser=True"],
        stdout=subprocess.DEVNULL, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-2000:])
                time.sleep(0.5)
        yield f"{url}/lab/tree/browser_test.ipynb?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


# JavaScript run in the page: execution progress of the open notebook.
PROGRESS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext.session) return null;
  const cells = Array.from(panel.content.model.cells).filter(c => c.type === 'code');
  const kernel = panel.sessionContext.session.kernel;
  return {cells: cells.length, done: cells.filter(c => c.executionCount !== null).length,
          status: kernel ? kernel.status : 'none'};
}"""


def wait_for(predicate, what, timeout=TIMEOUT_S):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def test_moving_a_slider_redraws_the_figure(lab, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="no playwright (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.goto(lab, timeout=TIMEOUT_S * 1000)
            wait_for(lambda: (page.evaluate(PROGRESS) or {}).get("status") == "idle", "the kernel to start")
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

            def finished():
                progress = page.evaluate(PROGRESS)
                return progress and progress["done"] == progress["cells"] and progress["status"] == "idle"
            wait_for(finished, "the notebook to run")
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
            assert not tracebacks, tracebacks

            cell = page.locator(".jp-CodeCell", has_text="widgets.HypothesisBrowser(")
            image = cell.locator(".jp-OutputArea-output img").first
            slider = cell.locator(".widget-slider", has_text="test sample")
            slider.wait_for(timeout=TIMEOUT_S * 1000)
            readout = slider.locator(".widget-readout")
            before = image.get_attribute("src")
            assert before.startswith("data:image/png;base64,") and readout.inner_text() == "0"

            # drag the handle to the right end of the track, as a person would
            handle = slider.locator(".noUi-handle")
            handle.scroll_into_view_if_needed()
            track = slider.locator(".slider-container").bounding_box()
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(track["x"] + track["width"] + 20, box["y"] + box["height"] / 2, steps=10)
            page.mouse.up()
            wait_for(lambda: readout.inner_text() == "2", "the slider to reach sample 2", timeout=20)
            wait_for(lambda: image.get_attribute("src") != before, "the figure to change")
            after = image.get_attribute("src")
            assert base64.b64decode(after.split(",", 1)[1]).startswith(b"\x89PNG")
            assert after != before

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            cell.screenshot(path=str(SCREENSHOT))
        except BaseException:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT.with_name("failure.png")), full_page=True)
            raise
        finally:
            context.close()
