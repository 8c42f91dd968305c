"""Notebook 07: its exercise checks pass on the solution, fail on the student stub and on typical
mistakes; its explorers (hypothesis browser, live pose editor) driven without a browser."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mdnlib import checks, metrics, skeleton, widgets  # noqa: E402


def stub(*args):
    raise NotImplementedError()


# --- exercise 1: depth spread ----------------------------------------------------------------

def depth_spread(hyps, weights):
    parents = np.maximum(skeleton.PARENTS_17, 0)
    depth = hyps[..., 2] - hyps[..., parents, 2]
    w = weights / weights.sum(axis=-1, keepdims=True)
    mean = np.einsum("nm,nmj->nj", w, depth)
    return np.sqrt(np.einsum("nm,nmj->nj", w, (depth - mean[:, None]) ** 2))


def depth_spread_unweighted(hyps, weights):
    return depth_spread(hyps, np.ones_like(weights))


def depth_spread_absolute(hyps, weights):
    return np.sqrt(np.einsum("nm,nmj->nj", weights, (hyps[..., 2] - np.einsum("nm,nmj->nj", weights, hyps[..., 2])[:, None]) ** 2))


def depth_spread_variance(hyps, weights):
    return depth_spread(hyps, weights) ** 2


def depth_spread_parent_minus_one(hyps, weights):
    depth = hyps[..., 2] - hyps[..., skeleton.PARENTS_17, 2]     # the root's "parent" -1 is RWrist
    w = weights[..., None]
    mean = np.sum(w * depth, axis=1, keepdims=True)
    return np.sqrt(np.sum(w * (depth - mean) ** 2, axis=1))


def test_check_depth_spread(capsys):
    checks.check_depth_spread(depth_spread)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_depth_spread(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_depth_spread(lambda h, w: None)
    with pytest.raises(AssertionError, match="mixing weights"):
        checks.check_depth_spread(depth_spread_unweighted)
    with pytest.raises(AssertionError, match="RELATIVE TO THE PARENT"):
        checks.check_depth_spread(depth_spread_absolute)
    with pytest.raises(AssertionError, match="square root"):
        checks.check_depth_spread(depth_spread_variance)
    with pytest.raises(AssertionError, match="root has no parent"):
        checks.check_depth_spread(depth_spread_parent_minus_one)
    with pytest.raises(AssertionError, match="17 joints"):
        checks.check_depth_spread(lambda h, w: depth_spread(h, w)[:, 1:])


# --- exercise 2: multi-view choice -----------------------------------------------------------

def choose_multiview(world_hyps):
    scores = np.zeros(world_hyps.shape[:2])
    for v in range(len(world_hyps)):
        for u in range(len(world_hyps)):
            if u != v:
                scores[v] += metrics.mpjpe(world_hyps[v][:, None], world_hyps[u][None]).min(axis=1)
    return np.argmin(scores, axis=1)


def choose_same_index(world_hyps):
    scores = np.zeros(world_hyps.shape[:2])
    for v in range(len(world_hyps)):
        for u in range(len(world_hyps)):
            if u != v:
                scores[v] += metrics.mpjpe(world_hyps[v], world_hyps[u])
    return np.argmin(scores, axis=1)


def choose_by_mean_distance(world_hyps):
    scores = np.zeros(world_hyps.shape[:2])
    for v in range(len(world_hyps)):
        for u in range(len(world_hyps)):
            if u != v:
                scores[v] += metrics.mpjpe(world_hyps[v][:, None], world_hyps[u][None]).mean(axis=1)
    return np.argmin(scores, axis=1)


def test_check_choose_multiview(capsys):
    checks.check_choose_multiview(choose_multiview)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_choose_multiview(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_choose_multiview(lambda h: None)
    with pytest.raises(AssertionError, match="not in the same order"):
        checks.check_choose_multiview(choose_same_index)
    with pytest.raises(AssertionError, match="minimum"):
        checks.check_choose_multiview(choose_by_mean_distance)
    with pytest.raises(AssertionError, match="argmin"):
        checks.check_choose_multiview(lambda h: np.argmax(choose_multiview_scores(h), axis=1))
    with pytest.raises(AssertionError, match="not the scores"):
        checks.check_choose_multiview(choose_multiview_scores)


def choose_multiview_scores(world_hyps):
    scores = np.zeros(world_hyps.shape[:2])
    for v in range(len(world_hyps)):
        for u in range(len(world_hyps)):
            if u != v:
                scores[v] += metrics.mpjpe(world_hyps[v][:, None], world_hyps[u][None]).min(axis=1)
    return scores


# --- the hypothesis browser --------------------------------------------------------------------

@pytest.fixture
def browser_data():
    rng = np.random.default_rng(0)
    from mdnlib import toy
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
    chosen = np.array(browser.lines_chosen[12].get_data_3d())    # bone LElbow -> LWrist
    from mdnlib import viz
    expected = viz.to_plot_coords(hyps[1, 2])[[12, 13]].T
    assert np.allclose(chosen, expected)
    assert browser.bars[2].get_facecolor() != browser.bars[0].get_facecolor()
    error = metrics.mpjpe(hyps[1, 2], gt[1])
    assert f"error {error:.0f} mm" in browser.ax_3d.get_title()
    browser.controls["sample"].value = 2
    assert np.allclose(browser.lines_2d[0].get_xydata(), pose_2d[2][[0, 1]])
    assert [round(bar.get_height(), 6) for bar in browser.bars] == [round(w, 6) for w in weights[2]]
    browser.controls["azimuth"].value = 90
    assert browser.ax_3d.azim == 90


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
    before = [np.array(line.get_data_3d()) for lines in editor.lines_3d for line in lines]
    editor.controls["dx"].value = 40
    editor.controls["dy"].value = -25
    assert np.allclose(editor.current_pose()[wrist], pose[wrist] + [40, -25])
    assert np.allclose(np.delete(editor.current_pose(), wrist, axis=0), np.delete(pose, wrist, axis=0))
    assert np.allclose(editor.marker.get_xydata()[0], pose[wrist] + [40, -25])
    after = [np.array(line.get_data_3d()) for lines in editor.lines_3d for line in lines]
    assert any(not np.allclose(b, a) for b, a in zip(before, after))
    # the drawn hypotheses are the model's for the edited pose
    expected = editor.predict(editor.current_pose())
    from mdnlib import viz
    assert np.allclose(np.array(editor.lines_3d[0][0].get_data_3d()),
                       viz.to_plot_coords(expected.hypotheses[0, 0])[[0, 1]].T, atol=1e-3)
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


def test_pose_editor_refreshes_its_image(tiny_model):
    editor = widgets.PoseEditor(tiny_model, np.random.default_rng(4).uniform(300, 700, (16, 2)))

    class Handle:
        images = []

        def update(self, obj):
            self.images.append(obj)

    editor._display = Handle()
    editor.controls["dy"].value = 12
    assert len(Handle.images) == 1 and Handle.images[0].data.startswith(b"\x89PNG")
