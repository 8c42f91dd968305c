"""Static figures: skeleton drawing conventions, the hypotheses figure, training curves."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mdnlib import skeleton, toy, viz  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_2d_skeleton_colours_sides_and_image_axis():
    pose = toy.example_pose()[:, :2]
    fig, ax = plt.subplots()
    lines = viz.draw_skeleton_2d(ax, pose)
    assert len(lines) == 16
    # the bone ending at LWrist (joint 13, line 12) is blue, RWrist's (line 15) red, Head's grey
    assert lines[12].get_color() == viz.SIDE_COLORS["L"]
    assert lines[15].get_color() == viz.SIDE_COLORS["R"]
    assert lines[9].get_color() == viz.SIDE_COLORS["C"]
    assert np.allclose(lines[12].get_xydata(), pose[[12, 13]])
    assert ax.yaxis_inverted() and "px" in ax.get_xlabel()


def test_2d_skeleton_in_input_order_uses_input_parents():
    pose16 = toy.example_pose()[skeleton.INPUT_16, :2]
    fig, ax = plt.subplots()
    lines = viz.draw_skeleton_2d(ax, pose16)
    assert len(lines) == 15
    head = skeleton.INPUT_NAMES.index("Head")
    thorax = skeleton.INPUT_NAMES.index("Thorax")
    assert np.allclose(lines[head - 1].get_xydata(), pose16[[thorax, head]])  # Head hangs from Thorax
    with pytest.raises(ValueError, match="16 .* or 17 joints"):
        viz.draw_skeleton_2d(ax, np.zeros((15, 2)))


def test_camera_frame_pose_is_drawn_upright():
    pose = toy.example_pose()
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    lines = viz.draw_skeleton_3d(ax, pose, frame="camera")
    x, depth, height = (np.asarray(v) for v in lines[9].get_data_3d())  # Neck/Nose -> Head
    assert np.allclose(height, -pose[[9, 10], 1]) and np.allclose(depth, pose[[9, 10], 2])
    assert height[1] > 0 > -pose[3, 1]  # head above the hip, foot below
    # equal aspect: the three axis ranges are the same
    ranges = [np.diff(lim)[0] for lim in (ax.get_xlim(), ax.get_ylim(), ax.get_zlim())]
    assert np.allclose(ranges, ranges[0])
    assert "mm" in ax.get_xlabel() and "mm" in ax.get_zlabel()
    viz.update_skeleton_3d(lines, pose + [0, 0, 100])
    assert np.allclose(lines[9].get_data_3d()[1], pose[[9, 10], 2] + 100)


def test_world_frame_is_drawn_as_is_and_bad_frame_is_rejected():
    pose = toy.example_pose()
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    lines = viz.draw_skeleton_3d(ax, pose, frame="world")
    assert np.allclose(np.asarray(lines[0].get_data_3d()).T, pose[[0, 1]])
    with pytest.raises(ValueError, match="frame"):
        viz.draw_skeleton_3d(ax, pose, frame="image")


def test_hypotheses_figure_titles_weights_and_errors():
    gt = toy.example_pose() - toy.example_pose()[0]
    hyps = np.stack([gt, gt + [0, 0, 30], gt + [0, 0, 60]])
    fig = viz.plot_hypotheses(gt[:, :2], gt, hyps, np.array([0.2, 0.5, 0.3]), sigmas=[10, 20, 30])
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 5 and titles[:2] == ["2D input", "ground truth"]
    assert "weight 0.50" in titles[3] and "σ 20 mm" in titles[3] and "error 30 mm" in titles[3]
    assert "(best)" in titles[2] and "(best)" not in titles[3]
    # each hypothesis titled in its own colour, the heaviest (weight 0.5) bold and named
    assert [ax.title.get_color() for ax in fig.axes[2:]] == [viz.hypothesis_color(k) for k in range(3)]
    assert "(heaviest)" in titles[3] and fig.axes[3].title.get_fontweight() == "bold"
    assert "(heaviest)" not in titles[2] and fig.axes[2].title.get_fontweight() == "normal"
    # every 3D panel shares the same limits
    assert len({ax.get_zlim() for ax in fig.axes[1:]}) == 1
    fig = viz.plot_hypotheses(gt[:, :2], None, hyps, np.ones(3) / 3)
    assert len(fig.axes) == 4 and "error" not in fig.axes[1].get_title()


def test_training_curves_pair_validation_with_training():
    fig = viz.plot_training_curves({"loss": [3, 2, 1], "val_loss": [4, 3, 2], "mpjpe": [90, 80, 70]})
    assert len(fig.axes) == 2
    loss_lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in loss_lines] == ["training", "validation"]
    assert np.allclose(loss_lines[1].get_ydata(), [4, 3, 2]) and fig.axes[0].get_xlabel() == "epoch"
    with pytest.raises(ValueError, match="empty"):
        viz.plot_training_curves({})


def test_hypothesis_grid_keeps_every_axis_label_visible():
    # 7 panels in two rows (notebook 05): no 3D axis label may run off the figure or under
    # another panel, where it would be clipped or covered
    gt = toy.example_pose() - toy.example_pose()[0]
    hyps = np.stack([gt + [0, 0, 30 * k] for k in range(5)])
    fig = viz.plot_hypotheses(gt[:, :2], gt, hyps, np.full(5, 0.2), title="five hypotheses")
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    figure_box = fig.bbox
    for ax in fig.axes[1:]:
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            box = axis.label.get_window_extent(renderer)
            assert figure_box.contains(box.x0, box.y0) and figure_box.contains(box.x1, box.y1), axis.label
            others = [other for other in fig.axes if other is not ax]
            assert not any(box.overlaps(other.bbox) for other in others), axis.label.get_text()


def assert_inside_and_apart(fig, texts):
    """Every text in `texts` (artists) lies inside the figure and on no panel but its own."""
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    for text, own in texts:
        box = text.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, text
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, text
        others = [ax for ax in fig.axes if ax is not own]
        assert not any(box.overlaps(other.bbox) for other in others), text


def test_row_of_poses_keeps_every_axis_label_inside_its_panel():
    # five frames of a motion in one row (notebook 02): the z labels used to run under the next panel
    poses = np.stack([toy.example_pose() + [0, 0, 900 + 40 * k] for k in range(5)])
    fig = viz.plot_poses_3d(poses, [f"frame {k}" for k in range(5)], title="a motion")
    assert [ax.get_title() for ax in fig.axes] == [f"frame {k}" for k in range(5)]
    assert len({ax.get_zlim() for ax in fig.axes}) == 1
    assert_inside_and_apart(fig, [(axis.label, ax) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis, ax.zaxis)])


def test_nearest_pose_histogram_keeps_its_legend_inside_the_figure_and_off_the_bars():
    rng = np.random.default_rng(0)
    errors = {"real -> nearest synthetic": rng.normal(57, 15, 500),
              "real -> nearest uniform-angle pose": rng.normal(98, 12, 500),
              "real 02 -> nearest real 01 (reference)": rng.normal(119, 30, 400),
              "real 01 -> nearest real 02 (reference)": rng.normal(52, 10, 100)}
    title = "How close is each real CMU pose to the synthetic set? (20,000 synthetic poses)"
    fig = viz.plot_nearest_pose_errors(errors, title)
    (ax,) = fig.axes
    legend = ax.get_legend()
    assert len(legend.get_texts()) == 6 and "median of real 01 -> nearest real 02" in legend.get_texts()[-1].get_text()
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    box = legend.get_window_extent(renderer)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y0 >= fig.bbox.y0 and box.y1 <= fig.bbox.y1
    assert not box.overlaps(ax.bbox)
    (suptitle,) = [text for text in fig.findobj(matplotlib.text.Text) if text.get_text() == title]
    assert_inside_and_apart(fig, [(suptitle, None), (ax.xaxis.label, ax), (ax.yaxis.label, ax)])


def test_plot_samples_draws_every_sample_in_one_cloud_and_refuses_other_shapes():
    pose = toy.example_pose()
    pose = pose - pose[0]
    samples = pose[None] + np.random.default_rng(0).normal(0, 20, (7, 17, 3))
    fig = viz.plot_samples(np.full((16, 2), 500.0) + np.arange(16)[:, None], pose, samples)
    cloud = fig.axes[1].lines[0]
    points = np.array(cloud.get_data_3d())
    assert points.shape == (3, 7 * 16 * 3)                       # 7 samples x 16 bones, NaN between
    np.testing.assert_allclose(points[:, :2], viz.to_plot_coords(samples[0, [0, 1]]).T)
    assert [ax.name for ax in fig.axes] == ["rectilinear", "3d", "3d"]
    with pytest.raises(ValueError, match=r"samples must be \(S, 17, 3\)"):
        viz.plot_samples(np.zeros((16, 2)), None, samples[0])
    plt.close(fig)
