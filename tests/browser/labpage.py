"""JupyterLab in headless Chromium, for the browser test and bench/browser_latency.py.

`jupyterlab(folder, cells)` writes a notebook and serves it on 127.0.0.1 (its own settings: no
news pop-up, every cell in the page); `chromium_page(playwright, url, profile)` opens it in
Debian's `chromium` driven by Playwright (no browser download) with a recorder of canvas frames
and input events; `run_all_cells(page)` runs the notebook and waits for the kernel.

The recorder (FRAMES_JS) notes `performance.now()` whenever an ipympl canvas is repainted (its
view copies the received image with `drawImage`) and the time stamp of every mouse, key and
pointer event, so that `frames_after` can tell when a canvas showed the answer to an input.
"""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
from nbformat.v4 import new_notebook

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_S = 180

FRAMES_JS = """
window.__frames = [];
window.__inputs = [];
const drawImage = CanvasRenderingContext2D.prototype.drawImage;
CanvasRenderingContext2D.prototype.drawImage = function (source, ...rest) {
  const result = drawImage.call(this, source, ...rest);
  if (source instanceof HTMLCanvasElement && this.canvas.isConnected) {
    window.__frames.push({t: performance.now(), canvas: this.canvas});
  }
  return result;
};
for (const kind of ['mousedown', 'mousemove', 'mouseup', 'keydown', 'pointerdown']) {
  window.addEventListener(kind, e => window.__inputs.push({t: e.timeStamp, kind: kind}), true);
}
"""

# Execution progress of the open notebook.
PROGRESS_JS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext.session) return null;
  const cells = Array.from(panel.content.model.cells).filter(c => c.type === 'code');
  const kernel = panel.sessionContext.session.kernel;
  return {cells: cells.length, done: cells.filter(c => c.executionCount !== null).length,
          status: kernel ? kernel.status : 'none'};
}"""


def wait_for(predicate, what, timeout=TIMEOUT_S, poll_s=0.2):
    """Poll `predicate` until it returns something true; TimeoutError after `timeout` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(folder, cells, env=None):
    """Serve a notebook of `cells` from `folder` with JupyterLab on loopback; yields its URL."""
    root = folder / "notebooks"
    root.mkdir(parents=True)
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}}), root / "page.ipynb")
    settings = folder / "settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    # every cell in the page, so that Playwright finds them (no virtual scrolling)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), "labpage-" + os.urandom(8).hex()
    log_path = folder / "lab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", f"--port={port}",
             "--allow-root", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
             f"--LabApp.user_settings_dir={folder / 'settings'}",
             f"--LabApp.workspaces_dir={folder / 'workspaces'}", "--LabApp.expose_app_in_browser=True"],
            stdout=subprocess.DEVNULL, stderr=log,
            env={**os.environ, "JUPYTER_RUNTIME_DIR": str(folder / "runtime"), **(env or {})})
        url = f"http://127.0.0.1:{port}"
        try:
            def up():
                if server.poll() is not None:
                    raise RuntimeError("JupyterLab stopped:\n" + log_path.read_text()[-2000:])
                try:
                    urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                    return True
                except OSError:
                    return False
            wait_for(up, "JupyterLab to start", timeout=60, poll_s=0.5)
            yield f"{url}/lab/tree/page.ipynb?token={token}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


@contextlib.contextmanager
def chromium_page(playwright, url, profile, viewport=(1600, 1000)):
    """Chromium showing `url`, with the frame and input recorder; yields the page."""
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
        viewport={"width": viewport[0], "height": viewport[1]})
    try:
        context.add_init_script(FRAMES_JS)
        page = context.new_page()
        page.goto(url, timeout=TIMEOUT_S * 1000)
        yield page
    finally:
        context.close()


def run_all_cells(page, timeout=TIMEOUT_S):
    """Run every cell of the open notebook and wait until all ran and the kernel is idle;
    returns the texts of error outputs (tracebacks)."""
    wait_for(lambda: (page.evaluate(PROGRESS_JS) or {}).get("status") == "idle", "the kernel to start", timeout)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def finished():
        progress = page.evaluate(PROGRESS_JS)
        return progress and progress["done"] == progress["cells"] and progress["status"] == "idle"
    wait_for(finished, "the notebook to run", timeout)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    return [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]


def frame_count(canvas_div):
    """How many times the canvases inside an ipympl canvas div have been repainted."""
    return canvas_div.evaluate("div => window.__frames.filter(f => div.contains(f.canvas)).length")


def latency_ms(canvas_div, frames_before, timeout=10):
    """Wait for the first repaint of `canvas_div` after `frames_before` repaints; returns the
    milliseconds from the last input event before it to that repaint."""
    wait_for(lambda: frame_count(canvas_div) > frames_before, "the canvas to repaint", timeout, poll_s=0.005)
    return canvas_div.evaluate("""(div, before) => {
      const frame = window.__frames.filter(f => div.contains(f.canvas))[before];
      const inputs = window.__inputs.filter(i => i.t <= frame.t);
      return frame.t - inputs[inputs.length - 1].t;
    }""", frames_before)
