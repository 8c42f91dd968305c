"""Explorers driven without a browser: set a control's value, or send the canvas the messages a
page sends (mouse events), and check the figure follows, on the live canvas and in the static PNG."""
import io

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mdnlib import camera, metrics, skeleton, toy, viz, widgets  # noqa: E402


@pytest.fixture
def explorer():
    cam = camera.Camera(R=np.eye(3), T=np.zeros(3), f=(1145, 1145), c=(500, 500))
    return widgets.FlipExplorer(toy.example_pose(), cam)


def page_message(explorer, content):
    """What arrives when the page's canvas view sends a message (ipywidgets' entry point)."""
    explorer.canvas._handle_custom_msg(content, [])


def live(explorer):
    """As when a page shows the canvas: it says so, then asks for a full drawing."""
    page_message(explorer, {"type": "initialized"})
    assert explorer.live
    explorer.canvas.draw()
    return explorer


def canvas_pixels(explorer):
    return np.asarray(explorer.canvas.buffer_rgba()).copy()


def full_drawing(explorer):
    """The figure drawn from scratch with every artist, as RGBA pixels of the canvas's size."""
    buffer = io.BytesIO()
    with explorer.all_drawn() as figure:
        figure.savefig(buffer, format="rgba", dpi=figure.dpi)
    width, height = explorer.canvas.get_width_height(physical=True)
    return np.frombuffer(buffer.getvalue(), np.uint8).reshape(height, width, 4)


def test_flip_explorer_offers_only_bones_that_move(explorer):
    gaps = toy.flip_gaps(toy.example_pose())
    assert "LWrist" in explorer.controls and gaps[13] > 400
    assert "RHip" not in explorer.controls and gaps[1] < 20   # hip bones lie across the image
    assert explorer.flipped() == [] and "flipped: none" in explorer.title.get_text()


def test_toggling_a_bone_moves_the_3d_pose_but_not_the_2d_one(explorer):
    before_3d = [np.array(line.get_data_3d()) for line in explorer.lines_3d["side"]]
    before_2d = [line.get_xydata().copy() for line in explorer.lines_2d]
    explorer.controls["LWrist"].value = True
    after_3d = [np.array(line.get_data_3d()) for line in explorer.lines_3d["side"]]
    # the bone LElbow -> LWrist (line 12) changed depth, the others did not
    assert not np.allclose(before_3d[12], after_3d[12])
    assert all(np.allclose(b, a) for k, (b, a) in enumerate(zip(before_3d, after_3d)) if k != 12)
    flipped = explorer.current_pose()
    assert np.allclose(explorer.camera.project_camera(flipped),
                       explorer.camera.project_camera(explorer.pose), atol=1e-9)
    assert all(np.allclose(b, line.get_xydata()) for b, line in zip(before_2d, explorer.lines_2d))
    assert "flipped: LWrist" in explorer.title.get_text()
    explorer.controls["LWrist"].value = False
    assert np.allclose(np.array(explorer.lines_3d["side"][12].get_data_3d()), before_3d[12])


class Handle:
    """Stands for the display of the static figure: keeps what it is updated with."""

    def __init__(self):
        self.updates = []

    def update(self, obj, **kwargs):
        self.updates.append(obj)


def test_the_static_image_has_every_artist(explorer):
    png = explorer.static_image().data
    assert png.startswith(b"\x89PNG")
    # a plain savefig leaves the moving artists (the 3D poses, the title) out: another image
    buffer = io.BytesIO()
    explorer.figure.savefig(buffer, format="png")
    assert buffer.getvalue() != png


def test_without_a_page_a_change_updates_the_static_figure(explorer):
    explorer._display = Handle()
    explorer.controls["RWrist"].value = True
    assert not explorer.live and len(explorer._display.updates) == 1
    assert explorer._display.updates[0].data == explorer.static_image().data


def test_a_page_showing_the_canvas_replaces_the_static_figure(explorer):
    explorer._display = Handle()
    page_message(explorer, {"type": "initialized"})
    assert explorer.live and explorer._display.updates == [{"text/plain": ""}]
    explorer.controls["RWrist"].value = True
    assert len(explorer._display.updates) == 1


def test_on_a_live_canvas_a_change_is_painted_over_the_kept_background(explorer):
    live(explorer)
    before = canvas_pixels(explorer)
    assert np.array_equal(before, full_drawing(explorer))
    sent = []
    explorer.canvas.send_binary = sent.append
    explorer.canvas.draw_idle = lambda: pytest.fail("a flip needs no full drawing")
    explorer.controls["LWrist"].value = True
    after = canvas_pixels(explorer)
    assert len(sent) == 1 and sent[0].startswith(b"\x89PNG")     # one frame: the changed pixels
    assert not np.array_equal(before, after)
    # the painted frame is the figure as a full drawing shows it (order of overlaps aside)
    assert np.mean(np.any(after != full_drawing(explorer), axis=-1)) < 0.002


def test_a_static_change_asks_the_page_for_a_full_drawing():
    rng = np.random.default_rng(0)
    gt = np.stack([toy.example_pose(0.0) + rng.normal(0, 20, (17, 3)) for _ in range(3)])
    gt -= gt[:, :1]
    hyps = gt[:, None] + rng.normal(0, 80, (3, 4, 17, 3))
    hyps -= hyps[:, :, :1]
    browser = live(widgets.HypothesisBrowser(rng.uniform(300, 700, (3, 16, 2)), hyps,
                                             rng.dirichlet(np.ones(4), size=3), gt=gt))
    requests = []
    browser.canvas.draw_idle = lambda: requests.append("draw")
    browser.controls["sample"].value = 2          # lines and bars only: painted
    assert requests == []
    browser.controls["azimuth"].value = 90       # the view: a full drawing
    assert requests == ["draw"] and browser.ax_3d.azim == 90


# --- the hypothesis browser --------------------------------------------------------------------

@pytest.fixture
def browser_data():
    rng = np.random.default_rng(0)
    gt = np.stack([toy.example_pose(0.0) + rng.normal(0, 20, (17, 3)) for _ in range(3)])
    gt -= gt[:, :1]
    hyps = gt[:, None] + rng.normal(0, 80, (3, 4, 17, 3))
    hyps -= hyps[:, :, :1]
    weights = rng.dirichlet(np.ones(4), size=3)
    pose_2d = rng.uniform(300, 700, (3, 16, 2))
    return pose_2d, hyps, weights, gt


def test_hypothesis_browser_follows_its_controls(browser_data):
    pose_2d, hyps, weights, gt = browser_data
    browser = widgets.HypothesisBrowser(pose_2d, hyps, weights, gt=gt, sigmas=np.full((3, 4), 50.0), sample=1)
    assert [round(bar.get_height(), 6) for bar in browser.bars] == [round(w, 6) for w in weights[1]]
    browser.controls["hypothesis"].value = 3
    chosen = np.array(browser.lines_hypotheses[2].get_data_3d())
    assert np.allclose(chosen, viz.skeleton_polyline(hyps[1, 2]), equal_nan=True)
    thick = [line.get_linewidth() for line in browser.lines_hypotheses]
    assert thick[2] == max(thick) and thick.count(max(thick)) == 1
    assert browser.bars[2].get_alpha() > browser.bars[0].get_alpha()     # the chosen bar stands out
    heaviest = int(np.argmax(weights[1]))
    assert [bar.get_linewidth() > 0 for bar in browser.bars] == [k == heaviest for k in range(4)]
    error = metrics.mpjpe(hyps[1, 2], gt[1])
    assert f"error {error:.0f} mm" in browser.title_3d.get_text()
    browser.controls["sample"].value = 2
    assert np.allclose(browser.lines_2d[0].get_xydata(), (pose_2d[2] - pose_2d[2, 0])[[0, 1]])
    assert [round(bar.get_height(), 6) for bar in browser.bars] == [round(w, 6) for w in weights[2]]
    browser.controls["azimuth"].value = 90
    assert browser.ax_3d.azim == 90


def test_each_hypothesis_has_its_own_colour_in_the_lines_and_the_bars(browser_data):
    pose_2d, hyps, weights, gt = browser_data
    browser = widgets.HypothesisBrowser(pose_2d, hyps, weights)
    line_colours = [line.get_color() for line in browser.lines_hypotheses]
    assert len(set(line_colours)) == 4
    assert line_colours == [viz.hypothesis_color(k) for k in range(4)]
    assert [matplotlib.colors.to_hex(bar.get_facecolor(), keep_alpha=False) for bar in browser.bars] == \
        [matplotlib.colors.to_hex(c) for c in line_colours]
    top = browser.ax_weights.get_ylim()[1]                   # fitted to the weights, the same for all
    assert weights.max() < top <= min(1.0, weights.max() * 1.1 + 0.1)


def test_the_weight_axis_fits_the_weights():
    assert viz.weight_axis_top(np.array([0.21, 0.2, 0.19, 0.2, 0.2])) == 0.3
    assert viz.weight_axis_top(np.array([0.5, 0.5])) == 0.6
    assert viz.weight_axis_top(np.array([0.95, 0.05])) == 1.0


# --- the live pose editor ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_model():
    from mdnlib import dataset, models
    rng = np.random.default_rng(1)
    pose_2d = rng.uniform(300, 700, (64, 16, 2))
    pose_3d = rng.normal(0, 300, (64, 17, 3))
    pose_3d -= pose_3d[:, :1]
    normalizer = dataset.Normalizer().fit(pose_2d, pose_3d)
    return models.build_model(models.ModelConfig(width=32, blocks=1, num_kernels=3), normalizer=normalizer, seed=0)


def test_pose_editor_moves_the_joint_and_updates_the_hypotheses(tiny_model):
    pose = np.random.default_rng(2).uniform(300, 700, (16, 2))
    editor = widgets.PoseEditor(tiny_model, pose, joint="LWrist")
    wrist = skeleton.INPUT_NAMES.index("LWrist")
    before = [np.array(line.get_data_3d()) for line in editor.lines_3d]
    editor.controls["dx"].value = 40
    editor.controls["dy"].value = -25
    assert np.allclose(editor.current_pose()[wrist], pose[wrist] + [40, -25])
    assert np.allclose(np.delete(editor.current_pose(), wrist, axis=0), np.delete(pose, wrist, axis=0))
    assert np.allclose(editor.marker.get_xydata()[0], pose[wrist] + [40, -25])
    after = [np.array(line.get_data_3d()) for line in editor.lines_3d]
    assert any(not np.allclose(b, a, equal_nan=True) for b, a in zip(before, after))
    # the drawn hypotheses are the model's for the edited pose, the heaviest thick
    expected = editor.predict(editor.current_pose())
    for k, line in enumerate(editor.lines_3d):
        assert np.allclose(np.array(line.get_data_3d()), viz.skeleton_polyline(expected.hypotheses[0, k]),
                           atol=1e-3, equal_nan=True)
    widths = [line.get_linewidth() for line in editor.lines_3d]
    assert int(np.argmax(widths)) == int(np.argmax(expected.weights[0]))
    assert editor.latency_ms is not None and editor.latency_ms > 0


def test_pose_editor_keeps_a_shift_per_joint(tiny_model):
    pose = np.random.default_rng(3).uniform(300, 700, (16, 2))
    editor = widgets.PoseEditor(tiny_model, pose, joint="LWrist")
    editor.controls["dx"].value = 30
    editor.controls["joint"].value = "RFoot"
    assert editor.controls["dx"].value == 0          # the sliders show RFoot's own shift
    editor.controls["dy"].value = 15
    editor.controls["joint"].value = "LWrist"
    assert (editor.controls["dx"].value, editor.controls["dy"].value) == (30, 0)
    shift = editor.current_pose() - pose
    assert np.allclose(shift[skeleton.INPUT_NAMES.index("LWrist")], [30, 0])
    assert np.allclose(shift[skeleton.INPUT_NAMES.index("RFoot")], [0, 15])
    assert np.count_nonzero(np.abs(shift).sum(axis=1)) == 2


def mouse(editor, kind, xy_image, pressed=True):
    """Send the canvas the message a page sends for a mouse event at image position (px), with
    the left button pressed or not (after the event)."""
    x, y = editor.ax_2d.transData.transform(xy_image)
    height = editor.canvas.get_renderer().height
    page_message(editor, {"type": kind, "x": x, "y": height - y, "button": 0, "buttons": int(pressed),
                          "modifiers": [], "guiEvent": {}})


def test_dragging_a_joint_on_the_canvas_moves_it_and_the_hypotheses_follow(tiny_model):
    pose = np.random.default_rng(5).uniform(300, 700, (16, 2))
    editor = live(widgets.PoseEditor(tiny_model, pose, joint="LWrist"))
    foot = skeleton.INPUT_NAMES.index("RFoot")
    frames = []
    editor.canvas.send_binary = frames.append
    mouse(editor, "button_press", pose[foot])
    assert editor.dragging == foot
    path = [pose[foot] + [10, 5], pose[foot] + [25, -12], pose[foot] + [37, -20]]
    for step in path:
        before = [np.array(line.get_data_3d()) for line in editor.lines_3d]
        mouse(editor, "motion_notify", step)
        after = [np.array(line.get_data_3d()) for line in editor.lines_3d]
        assert any(not np.allclose(b, a, equal_nan=True) for b, a in zip(before, after))
        assert np.allclose(editor.current_pose()[foot], step, atol=0.5)
    assert len(frames) == len(path)                 # one frame per mouse step, no full drawing
    assert editor.controls["joint"].value == "RFoot" and editor.controls["dx"].value == 0
    mouse(editor, "button_release", path[-1], pressed=False)
    assert editor.dragging is None
    assert (editor.controls["dx"].value, editor.controls["dy"].value) == (37, -20)   # sliders follow
    mouse(editor, "motion_notify", pose[foot], pressed=False)   # no button pressed: no drag
    assert np.allclose(editor.current_pose()[foot], pose[foot] + [37, -20], atol=0.5)


def test_a_drag_stops_at_the_slider_range_and_the_sliders_show_where_the_joint_is(tiny_model):
    pose = np.random.default_rng(7).uniform(400, 600, (16, 2))
    editor = live(widgets.PoseEditor(tiny_model, pose, joint="LWrist", shift_px=100))
    foot = skeleton.INPUT_NAMES.index("RFoot")
    mouse(editor, "button_press", pose[foot])
    mouse(editor, "motion_notify", pose[foot] + [110, -60])       # beyond the range in x only
    assert np.allclose(editor.current_pose()[foot], pose[foot] + [100, -60], atol=0.5)
    mouse(editor, "motion_notify", pose[foot] + [-115, 112])      # beyond it in x and y
    assert np.allclose(editor.current_pose()[foot], pose[foot] + [-100, 100], atol=0.5)
    assert np.allclose(editor.marker.get_xydata()[0], editor.current_pose()[foot])
    mouse(editor, "button_release", pose[foot] + [-115, 112], pressed=False)
    sliders = editor.controls["dx"], editor.controls["dy"]
    assert [slider.value for slider in sliders] == [-100, 100]
    assert all(slider.min == -100 and slider.max == 100 for slider in sliders)
    assert editor.network_ms is not None and 0 < editor.network_ms <= editor.latency_ms


def test_a_press_away_from_every_joint_drags_nothing(tiny_model):
    pose = np.array([[500.0, 500.0]] * 16) + np.arange(16)[:, None] * [0, 20]
    editor = live(widgets.PoseEditor(tiny_model, pose))
    mouse(editor, "button_press", [620.0, 500.0])   # 120 px right of the column of joints
    assert editor.dragging is None
    mouse(editor, "motion_notify", [630.0, 510.0])
    assert np.allclose(editor.current_pose(), pose)


def test_a_drag_ends_when_the_button_comes_up_outside_the_canvas(tiny_model):
    pose = np.random.default_rng(6).uniform(300, 700, (16, 2))
    editor = live(widgets.PoseEditor(tiny_model, pose))
    mouse(editor, "button_press", pose[0])
    mouse(editor, "motion_notify", pose[0] + [8, 8])
    # the release happened off the canvas: the next move comes without the button
    mouse(editor, "motion_notify", pose[0] + [30, 30], pressed=False)
    assert editor.dragging is None
    assert np.allclose(editor.current_pose()[0], pose[0] + [8, 8], atol=0.5)
    assert (editor.controls["dx"].value, editor.controls["dy"].value) == (8, 8)


# --- a flow's samples (notebook 08) ------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_flow():
    from mdnlib import dataset, models
    rng = np.random.default_rng(1)
    pose_2d = rng.uniform(300, 700, (64, 16, 2))
    pose_3d = rng.normal(0, 300, (64, 17, 3))
    pose_3d -= pose_3d[:, :1]
    normalizer = dataset.Normalizer().fit(pose_2d, pose_3d)
    return models.build_model(models.FLOW.replace(width=32, blocks=1), normalizer=normalizer, seed=0)


def cloud_points(cloud):
    """The points of a SampleCloud's faint lines, (3, n) with NaN between bones."""
    return np.concatenate([np.array(line.get_data_3d()) for line in cloud.lines], axis=1)


def bar_widths(bars):
    return np.array([bar.get_width() for bar in bars])


def test_pose_editor_with_a_flow_draws_its_samples_as_a_cloud_and_their_spread(tiny_flow):
    from mdnlib import models
    pose = np.random.default_rng(2).uniform(300, 700, (16, 2))
    editor = widgets.PoseEditor(tiny_flow, pose, joint="LWrist", num_samples=20, seed=3)
    assert editor.samples and editor.steps == widgets.PoseEditor.EDITOR_STEPS
    # the drawn samples: the compiled sampler's, from the noise of the seed
    x = editor.normalizer.normalize_2d(pose[None])
    expected = editor.normalizer.denormalize_3d(models.sample_flow(tiny_flow, x, 20, seed=3, steps=editor.steps))[0]
    assert expected.shape == (20, 17, 3)
    assert len(editor.cloud.lines) == widgets.CLOUD_GROUPS     # a few line artists for all samples
    assert np.allclose(cloud_points(editor.cloud),
                       np.concatenate(widgets.cloud_polylines(expected), axis=1), atol=1e-3, equal_nan=True)
    thick = widgets.side_polylines(expected.mean(axis=0))        # their mean, thick, in the side colours
    for side, line in editor.cloud.thick.items():
        assert np.allclose(np.array(line.get_data_3d()), thick[side], atol=1e-3, equal_nan=True)
        assert line.get_color() == viz.SIDE_COLORS[side] and line.get_linewidth() > 2
    assert all(line.get_color() == widgets.CLOUD_COLOR and line.get_alpha() < 0.5 for line in editor.cloud.lines)
    # instead of weights: the depth spread of each limb joint
    spread = widgets.limb_depth_spread(expected)
    assert spread.shape == (8,) and np.allclose(bar_widths(editor.bars), spread, rtol=1e-4)
    assert [label.get_text() for label in editor.ax_weights.get_yticklabels()][:2] == ["R knee", "R foot"]
    assert "samples" in editor.ax_3d.get_title()


def test_dragging_a_joint_moves_the_samples_smoothly_and_the_same_seed_gives_the_same_samples(tiny_flow):
    pose = np.random.default_rng(5).uniform(300, 700, (16, 2))
    editor = live(widgets.PoseEditor(tiny_flow, pose, joint="LWrist"))
    assert len(editor.predict(pose).hypotheses[0]) == 50          # 50 samples by default
    foot = skeleton.INPUT_NAMES.index("RFoot")
    frames = []
    editor.canvas.send_binary = frames.append
    editor.canvas.draw_idle = lambda: pytest.fail("a drag needs no full drawing")
    mouse(editor, "button_press", pose[foot])
    assert editor.dragging == foot
    before, spread = cloud_points(editor.cloud), bar_widths(editor.bars)
    mouse(editor, "motion_notify", pose[foot] + [1, 1])
    after = cloud_points(editor.cloud)
    assert not np.allclose(before, after, equal_nan=True)
    assert not np.allclose(spread, bar_widths(editor.bars))
    # the same noise: a small step of the joint moves every sample a little (here at most a few mm)
    step = np.nanmax(np.abs(after - before))
    mouse(editor, "motion_notify", pose[foot] + [30, -20])
    assert np.nanmax(np.abs(cloud_points(editor.cloud) - before)) > step
    assert len(frames) == 2
    mouse(editor, "button_release", pose[foot] + [30, -20], pressed=False)
    assert (editor.controls["dx"].value, editor.controls["dy"].value) == (30, -20)
    assert editor.network_ms is not None and 0 < editor.network_ms <= editor.latency_ms
    # the same pose and seed: the same samples, in this editor and in another one
    again = editor.predict(editor.current_pose()).hypotheses
    assert np.array_equal(again, editor.predict(editor.current_pose()).hypotheses)
    other = widgets.PoseEditor(tiny_flow, pose, joint="LWrist")
    other.move_joint(foot, *(pose[foot] + [30, -20]))
    assert np.allclose(cloud_points(other.cloud), cloud_points(editor.cloud), equal_nan=True)
    reseeded = widgets.PoseEditor(tiny_flow, pose, joint="LWrist", seed=1)
    reseeded.move_joint(foot, *(pose[foot] + [30, -20]))
    assert not np.allclose(cloud_points(reseeded.cloud), cloud_points(editor.cloud), equal_nan=True)


def test_a_flow_editor_keeps_a_static_image_for_html_export(tiny_flow):
    pose = np.random.default_rng(6).uniform(300, 700, (16, 2))
    editor = widgets.PoseEditor(tiny_flow, pose, num_samples=10)
    editor._display = Handle()
    png = editor.static_image().data
    assert png.startswith(b"\x89PNG")
    editor.move_joint(0, *(pose[0] + [40, 0]))
    assert len(editor._display.updates) == 1 and editor._display.updates[0].data != png


def test_the_pose_editor_with_an_mdn_still_draws_coloured_hypotheses_and_weights(tiny_model):
    pose = np.random.default_rng(2).uniform(300, 700, (16, 2))
    editor = widgets.PoseEditor(tiny_model, pose)
    assert not editor.samples and editor.cloud is None
    assert [line.get_color() for line in editor.lines_3d] == [viz.hypothesis_color(k) for k in range(3)]
    assert editor.ax_weights.get_ylabel() == "mixing weight α" and len(editor.bars) == 3


@pytest.fixture
def sample_data():
    rng = np.random.default_rng(4)
    gt = np.stack([toy.example_pose(0.0) + rng.normal(0, 20, (17, 3)) for _ in range(3)])
    gt -= gt[:, :1]
    samples = gt[:, None] + rng.normal(0, 60, (3, 30, 17, 3))
    samples -= samples[:, :, :1]
    return rng.uniform(300, 700, (3, 16, 2)), samples, np.full((3, 30), 1 / 30), gt


def test_hypothesis_browser_shows_equal_weight_samples_as_a_cloud(sample_data):
    pose_2d, samples, weights, gt = sample_data
    browser = widgets.HypothesisBrowser(pose_2d, samples, weights, gt=gt, sample=1)
    assert browser.samples and browser.controls["hypothesis"].description == "sample"
    assert np.allclose(cloud_points(browser.cloud), np.concatenate(widgets.cloud_polylines(samples[1]), axis=1),
                       equal_nan=True)
    spread = widgets.limb_depth_spread(samples)
    assert np.allclose(bar_widths(browser.bars), spread[1])
    assert browser.ax_weights.get_xlim()[1] >= spread.max()          # one scale for every test sample
    browser.controls["hypothesis"].value = 7                          # the chosen sample, thick
    thick = widgets.side_polylines(samples[1, 6])
    assert all(np.allclose(np.array(line.get_data_3d()), thick[side], equal_nan=True)
               for side, line in browser.cloud.thick.items())
    error = metrics.mpjpe(samples[1, 6], gt[1])
    text = browser.title_3d.get_text()
    assert text.startswith("sample 7 of 30") and f"error {error:.0f} mm" in text and "their mean" in text
    browser.controls["sample"].value = 2
    assert np.allclose(bar_widths(browser.bars), spread[2])
    assert np.allclose(cloud_points(browser.cloud), np.concatenate(widgets.cloud_polylines(samples[2]), axis=1),
                       equal_nan=True)
    png = browser.static_image().data
    assert png.startswith(b"\x89PNG")


def test_a_changed_sample_of_the_cloud_is_painted_without_a_full_drawing(sample_data):
    pose_2d, samples, weights, gt = sample_data
    browser = live(widgets.HypothesisBrowser(pose_2d, samples, weights, gt=gt))
    sent = []
    browser.canvas.send_binary = sent.append
    browser.canvas.draw_idle = lambda: pytest.fail("moving lines needs no full drawing")
    before = canvas_pixels(browser)
    browser.controls["sample"].value = 1
    browser.controls["hypothesis"].value = 4
    assert len(sent) == 2 and not np.array_equal(before, canvas_pixels(browser))
    assert np.mean(np.any(canvas_pixels(browser) != full_drawing(browser), axis=-1)) < 0.002


def test_only_equal_weights_without_sigmas_are_taken_for_samples(browser_data, sample_data):
    pose_2d, hyps, weights, gt = browser_data
    assert not widgets.HypothesisBrowser(pose_2d, hyps, weights).samples                  # an MDN's weights
    pose_2d, samples, equal, gt = sample_data
    assert not widgets.HypothesisBrowser(pose_2d, samples, equal, sigmas=np.full((3, 30), 40.0)).samples
    forced = widgets.HypothesisBrowser(pose_2d, samples[:, :4], equal[:, :4] * 7.5, samples=False)
    assert not forced.samples and forced.controls["hypothesis"].description == "hypothesis"
