"""Latency of the course's explorers in a real browser: from the input event (a key on a slider,
a click on a button, a mouse move while dragging a joint) to the repainted ipympl canvas.

JupyterLab and headless Chromium as in the browser test (tests/browser/labpage.py: the page
notes the time stamp of every input event and the time of every canvas repaint). One notebook
holds the four explorers of notebooks 01, 02 and 07, the pose editor and the hypothesis browser
on the pretrained MDN, and the same two in notebook 08 on a flow with 50 samples (the
pretrained `data/pretrained/flow` if its final.keras exists, else an untrained model of the
FLOW preset: the same cost); the flow's editor with its own sampler steps
(`PoseEditor.EDITOR_STEPS`) and, dragged only, with the sampler's default
(`models.SAMPLER_STEPS`). Each is stepped `--steps` times, one step at a time (the next input
waits for the repaint, then 100 ms). Prints the median and 90th percentile per explorer (ms).

    .venv/bin/python bench/browser_latency.py [--steps 40]

Needs Debian's chromium (`apt-get install -y chromium`) and playwright (the dev extras).
"""
import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
from nbformat.v4 import new_code_cell

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))
from labpage import chromium_page, frame_count, jupyterlab, latency_ms, run_all_cells  # noqa: E402

CELLS = [
    new_code_cell("import json\n"
                  "import numpy as np\n"
                  "from mdnlib import camera, inference, skeleton, toy, widgets\n"
                  "cam = camera.Camera(R=np.eye(3), T=np.zeros(3), f=(1145.0, 1145.0), c=(500.0, 500.0))\n"
                  "pose = toy.example_pose()\n"
                  "rng = np.random.default_rng(0)\n"
                  "image = cam.project_camera(pose)[np.r_[0:9, 10:17]]\n"
                  "poses_2d = image + rng.normal(0, 15, (50, 16, 2))\n"
                  "mdn = inference.load_trained(inference.find_pretrained('mdn'))\n"
                  "result = inference.predict_poses(mdn, poses_2d)"),
    new_code_cell("from mdnlib import config, models\n"
                  "flow_file = config.pretrained_dir() / 'flow' / 'final.keras'\n"
                  "flow = (inference.load_trained(flow_file.parent) if flow_file.exists() else\n"
                  "        models.build_model(models.FLOW, normalizer=mdn.normalizer, seed=0))\n"
                  "samples = inference.predict_poses(flow, poses_2d, num_hypotheses=50)\n"
                  "print(json.dumps('pretrained' if flow_file.exists() else 'untrained'))"),
    new_code_cell("flip = widgets.FlipExplorer(pose, cam)\nflip.show();"),
    new_code_cell("generator = widgets.PoseExplorer(activity='Walking', sample=0)\ngenerator.show();"),
    new_code_cell("browser = widgets.HypothesisBrowser(poses_2d, result.hypotheses, result.weights,\n"
                  "                                    sigmas=result.sigmas)\nbrowser.show();"),
    new_code_cell("editor = widgets.PoseEditor(mdn, image, joint='LWrist')\neditor.show();"),
    new_code_cell("x, y = editor.ax_2d.transData.transform(image[skeleton.INPUT_NAMES.index('LWrist')])\n"
                  "print(json.dumps([x, editor.figure.bbox.height - y]))"),
    new_code_cell("cloud = widgets.HypothesisBrowser(poses_2d, samples.hypotheses, samples.weights)\ncloud.show();"),
    new_code_cell("fast_editor = widgets.PoseEditor(flow, image, joint='LWrist', num_samples=50)\nfast_editor.show();"),
    new_code_cell("full_editor = widgets.PoseEditor(flow, image, joint='LWrist', num_samples=50,\n"
                  "                                 steps=models.SAMPLER_STEPS)\nfull_editor.show();"),
    new_code_cell("fx, fy = fast_editor.ax_2d.transData.transform(image[skeleton.INPUT_NAMES.index('LWrist')])\n"
                  "print(json.dumps([fx, fast_editor.figure.bbox.height - fy, fast_editor.steps, full_editor.steps]))"),
]

# the cells of the explorers (a text only their own cell holds)
MDN_BROWSER, MDN_EDITOR = "HypothesisBrowser(poses_2d, result.", "PoseEditor(mdn,"
FLOW_BROWSER = "HypothesisBrowser(poses_2d, samples."
FLOW_EDITOR, FLOW_EDITOR_FULL = "fast_editor = widgets.PoseEditor(", "full_editor = widgets.PoseEditor("


def steps_of(page, cell_text, step, count):
    """Latencies (ms) of `count` steps of an explorer: `step(i)` makes one input."""
    cell = page.locator(".jp-CodeCell", has_text=cell_text)
    div = cell.locator(".jupyter-matplotlib-canvas-div")
    div.scroll_into_view_if_needed()
    times = []
    for i in range(count):
        before = frame_count(div)
        step(cell, i)
        times.append(latency_ms(div, before))
        page.wait_for_timeout(100)
    return times


def printed(page, cell_text):
    """What the cell holding `cell_text` printed (one JSON value)."""
    cell = page.locator(".jp-CodeCell", has_text=cell_text)
    return json.loads(cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stdout']")
                      .inner_text())


def drag_steps(page, cell_text, joint_xy, count):
    """Latencies (ms) of `count` mouse moves while dragging the joint drawn at `joint_xy` (canvas
    pixels from the top left) of the pose editor in the cell holding `cell_text`: a circle of
    30 px around the joint, one move at a time."""
    div = page.locator(".jp-CodeCell", has_text=cell_text).locator(".jupyter-matplotlib-canvas-div")
    div.scroll_into_view_if_needed()
    origin = div.bounding_box()
    x, y = origin["x"] + joint_xy[0], origin["y"] + joint_xy[1]
    page.mouse.move(x, y)
    page.mouse.down()
    page.wait_for_timeout(200)
    times = []
    for i in range(count):
        before = frame_count(div)
        angle = 2 * np.pi * i / count
        page.mouse.move(x + 30 * np.sin(angle), y - 30 * (1 - np.cos(angle)))
        times.append(latency_ms(div, before))
        page.wait_for_timeout(100)
    page.mouse.up()
    return times


def slider_keys(page, label):
    """A step: one arrow key on the focused handle of the slider labelled `label`, right on
    even steps and left on odd ones (the slider stays in its range)."""
    def step(cell, i):
        cell.locator(".widget-slider", has_text=label).locator(".noUi-handle").focus()
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="inputs per explorer")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    start_load = os.getloadavg()[0]
    results = {}
    with (tempfile.TemporaryDirectory() as folder, jupyterlab(Path(folder), CELLS) as url,
          sync_playwright() as playwright, chromium_page(playwright, url, Path(folder) / "profile") as page):
        errors = run_all_cells(page)
        if errors:
            raise SystemExit("the notebook failed:\n" + "\n".join(errors))

        def toggle(cell, i):
            cell.locator(".widget-toggle-button", has_text="LWrist").click()
        results["flip explorer (01): toggle a bone"] = steps_of(page, "widgets.FlipExplorer(", toggle, args.steps)
        results["pose explorer (02): knee slider, arrow key"] = steps_of(
            page, "widgets.PoseExplorer(", slider_keys(page, "right knee"), args.steps)
        results["hypothesis browser (07): sample slider, arrow key"] = steps_of(
            page, MDN_BROWSER, slider_keys(page, "test view"), args.steps)
        results["pose editor (07): dx slider, arrow key"] = steps_of(
            page, MDN_EDITOR, slider_keys(page, "dx"), args.steps)
        # the pose editor, dragging LWrist on the canvas: one mouse move every step
        results["pose editor (07): drag a joint on the canvas"] = drag_steps(
            page, MDN_EDITOR, printed(page, "print(json.dumps([x,")[:2], args.steps)

        # notebook 08: a flow's 50 samples
        flow = printed(page, "flow_file.exists() else 'untrained'")
        wrist_x, wrist_y, editor_steps, full_steps = printed(page, "print(json.dumps([fx,")
        results[f"hypothesis browser (08, {flow} flow, 50 samples): test view slider, arrow key"] = steps_of(
            page, FLOW_BROWSER, slider_keys(page, "test view"), args.steps)

        def editor(steps):
            return f"pose editor (08, {flow} flow, 50 samples, {steps} sampler steps)"
        results[f"{editor(editor_steps)}: dx slider, arrow key"] = steps_of(
            page, FLOW_EDITOR, slider_keys(page, "dx"), args.steps)
        results[f"{editor(editor_steps)}: drag a joint on the canvas"] = drag_steps(
            page, FLOW_EDITOR, (wrist_x, wrist_y), args.steps)
        results[f"{editor(full_steps)}: drag a joint on the canvas"] = drag_steps(
            page, FLOW_EDITOR_FULL, (wrist_x, wrist_y), args.steps)

    load = os.getloadavg()
    print(f"{datetime.date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {start_load:.2f} at the start, {load[0]:.2f} at the end (1 min); {args.steps} steps each; latency from the input "
          "event to the repainted canvas, ms\n")
    print("| explorer, input | median | 90th percentile | max |")
    print("|---|---|---|---|")
    for name, times in results.items():
        print(f"| {name} | {np.median(times):.0f} | {np.percentile(times, 90):.0f} | {np.max(times):.0f} |")


if __name__ == "__main__":
    main()
