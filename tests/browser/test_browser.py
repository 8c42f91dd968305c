"""A real browser: JupyterLab on 127.0.0.1 and headless Chromium (Debian's `chromium`, driven by
Playwright; see labpage.py) run a notebook with two explorers of notebook 07 as live ipympl
canvases (their static PNG must give way): a slider of the hypothesis browser is dragged and
its canvas must repaint; a joint of the pose editor is dragged with the mouse on the canvas, the
sliders must follow and the canvas repaint. Saves build/browser/screenshot.png (failure.png when it fails).

Skips when chromium or the `playwright` package is missing. Install them with
    apt-get install -y chromium && .venv/bin/python -m pip install playwright==1.65.2
(`make browser-test` runs this file alone.) bench/browser_latency.py times the same steps.
"""
import json
from pathlib import Path

import pytest
from labpage import CHROMIUM, TIMEOUT_S, chromium_page, frame_count, jupyterlab, run_all_cells, wait_for
from nbformat.v4 import new_code_cell, new_markdown_cell

from mdnlib.config import PROJECT_DIR

SCREENSHOT = PROJECT_DIR / "build" / "browser" / "screenshot.png"

# The hypothesis browser on poses that share one image exactly (the plausible bone flips of
# notebook 01), and the pose editor on the pretrained MDN; the last cell prints where LWrist
# is drawn on the editor's canvas (CSS px from its top left corner).
CELLS = [
    new_markdown_cell("# Browser test: the hypothesis browser and the pose editor"),
    new_code_cell("import json\n"
                  "import numpy as np\n"
                  "from mdnlib import camera, inference, skeleton, toy, widgets\n"
                  "cam = camera.Camera(R=np.eye(3), T=np.zeros(3), f=(1145.0, 1145.0), c=(500.0, 500.0))\n"
                  "pose = toy.example_pose()\n"
                  "flips = toy.count_flips(pose)['plausible_flips'][:5]\n"
                  "hyps = toy.flip_bones(pose, flips) - pose[0]\n"
                  "samples = np.stack([hyps, hyps[::-1], np.roll(hyps, 2, axis=0)])\n"
                  "weights = np.tile(np.linspace(1, 2, 5) / np.linspace(1, 2, 5).sum(), (3, 1))\n"
                  "pose_2d = np.tile(cam.project_camera(pose)[np.r_[0:9, 10:17]], (3, 1, 1))"),
    new_code_cell("browser = widgets.HypothesisBrowser(pose_2d, samples, weights, gt=samples[:, 0])\n"
                  "browser.show();"),
    new_code_cell("mdn = inference.load_trained(inference.find_pretrained('mdn'))\n"
                  "editor = widgets.PoseEditor(mdn, pose_2d[0], joint='LWrist')\n"
                  "editor.show();"),
    new_code_cell("x, y = editor.ax_2d.transData.transform(editor.current_pose()[skeleton.INPUT_NAMES.index('RFoot')])\n"
                  "print(json.dumps({'RFoot': [x, editor.figure.bbox.height - y]}))"),
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no chromium (apt-get install -y chromium)"),
]


def canvas_image(div):
    return div.evaluate("div => div.querySelector('canvas').toDataURL()")


def test_a_slider_and_a_mouse_drag_repaint_the_live_canvases(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="no playwright (pip install playwright)")
    with (jupyterlab(tmp_path, CELLS, env={"MDNLIB_QUICK": "1"}) as url, sync_api.sync_playwright() as playwright,
          chromium_page(playwright, url, tmp_path / "chromium-profile") as page):
        try:
            assert run_all_cells(page) == []

            # the hypothesis browser: drag the slider's handle to the right end of its track
            cell = page.locator(".jp-CodeCell", has_text="widgets.HypothesisBrowser(")
            div = cell.locator(".jupyter-matplotlib-canvas-div")
            wait_for(lambda: frame_count(div) > 0, "the browser's canvas to show")
            # the static PNG (for exports) gives way to the live canvas
            wait_for(lambda: cell.locator(".jp-OutputArea-output img").count() == 0, "the static figure to go")
            slider = cell.locator(".widget-slider", has_text="test view")
            readout = slider.locator(".widget-readout")
            assert readout.inner_text() == "0"
            before_frames, before = frame_count(div), canvas_image(div)
            handle = slider.locator(".noUi-handle")
            handle.scroll_into_view_if_needed()
            track = slider.locator(".slider-container").bounding_box()
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(track["x"] + track["width"] + 20, box["y"] + box["height"] / 2, steps=10)
            page.mouse.up()
            wait_for(lambda: readout.inner_text() == "2", "the slider to reach sample 2", timeout=20)
            wait_for(lambda: frame_count(div) > before_frames and canvas_image(div) != before,
                     "the browser's canvas to repaint", timeout=20)

            # the pose editor: press on RFoot, drag it 60 px right and 30 px up, release
            cell = page.locator(".jp-CodeCell", has_text="widgets.PoseEditor(")
            div = cell.locator(".jupyter-matplotlib-canvas-div")
            wait_for(lambda: frame_count(div) > 0, "the editor's canvas to show")
            printed = page.locator(".jp-CodeCell", has_text="json.dumps({'RFoot'")
            foot_x, foot_y = json.loads(printed.locator(".jp-OutputArea-output").inner_text())["RFoot"]
            div.scroll_into_view_if_needed()
            origin = div.bounding_box()
            start = (origin["x"] + foot_x, origin["y"] + foot_y)
            before_frames, before = frame_count(div), canvas_image(div)
            page.mouse.move(*start)
            page.mouse.down()
            for step in range(1, 7):
                page.mouse.move(start[0] + 10 * step, start[1] - 5 * step)
                page.wait_for_timeout(50)
            page.mouse.up()
            joint = cell.locator(".widget-dropdown select")
            dx = cell.locator(".widget-slider", has_text="dx").locator(".widget-readout")
            dy = cell.locator(".widget-slider", has_text="dy").locator(".widget-readout")
            def number(readout):
                return int(readout.inner_text().replace("\N{MINUS SIGN}", "-"))
            wait_for(lambda: joint.input_value() == "RFoot" and number(dx) > 0 > number(dy),
                     "the controls to follow the drag (joint RFoot, dx > 0, dy < 0)", timeout=20)
            assert frame_count(div) >= before_frames + 3       # it repainted while dragging
            assert canvas_image(div) != before

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            cell.screenshot(path=str(SCREENSHOT))
        except BaseException:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT.with_name("failure.png")), full_page=True)
            raise
