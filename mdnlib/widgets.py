"""Interactive explorers of notebooks 01, 02 and 07, built on `mdnlib.viz` and ipywidgets.

Every explorer is a static matplotlib figure first: `show()` displays the figure as an ordinary
image output, then the controls. Moving a control calls `redraw()`, a plain method that updates
the figure from the control values, and the image output is replaced in place (IPython display
ids). So a notebook saved or exported to HTML without a live kernel still shows the figure, and
tests drive the controls by setting `.value`, without a browser.

To add an explorer: subclass `Explorer`, build the figure and the controls in `__init__`, call
`super().__init__(figure, controls)`, and implement `redraw()`.

| explorer | notebook |
|---|---|
| `FlipExplorer` | 01: flip bones; the 2D projection stays, the 3D pose changes |
| `PoseExplorer` | 02: the synthetic generator by hand: activity, joint angles, camera |
| `HypothesisBrowser` | 07: the M hypotheses of test samples, their weights, any viewing angle |
| `PoseEditor` | 07: move 2D joints with sliders, the hypotheses follow live |
"""
import numpy as np
from matplotlib.figure import Figure

from mdnlib import camera, metrics, skeleton, toy, viz
from mdnlib.sources import synthetic


class Explorer:
    """A figure plus named ipywidgets controls; `redraw()` updates the figure from the controls."""

    def __init__(self, figure, controls):
        self.figure = figure
        self.controls = dict(controls)
        self._display = None
        for control in self.controls.values():
            control.observe(self._changed, names="value")

    @property
    def values(self):
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self):
        """Update the figure from `self.values` (subclasses)."""
        raise NotImplementedError

    def layout(self):
        """The ipywidgets box shown under the figure (subclasses may arrange it differently)."""
        import ipywidgets
        return ipywidgets.HBox(list(self.controls.values()),
                               layout=ipywidgets.Layout(flex_flow="row wrap"))

    def show(self):
        """Display the figure (a static image, kept in saved notebooks), then the controls."""
        from IPython.display import display
        self._display = display(self.figure, display_id=True)
        display(self.layout())
        return self

    def _ipython_display_(self):
        self.show()

    def _changed(self, change):
        self.redraw()
        if self._display is not None:
            self._display.update(self.figure)


class FlipExplorer(Explorer):
    """Toggle bones of a camera-frame pose (17, 3) mm; each toggle moves the bone's end joint to
    the other point of its camera ray at the bone's length from its parent (notebook 01).

    Panels: the 2D projection (which never changes), the 3D pose seen from the camera and from
    the side, the original pose in light grey for comparison. `min_gap` (mm) hides the bones
    whose flip would move the joint less than that (bones almost parallel to the image).
    """

    def __init__(self, pose, camera, min_gap=20.0):
        import ipywidgets

        self.pose = np.asarray(pose, dtype=float)
        self.camera = camera
        gaps = toy.flip_gaps(self.pose)
        self.bones = [j for j in range(1, 17) if gaps[j] >= min_gap]
        controls = {skeleton.JOINTS_17[j]: ipywidgets.ToggleButton(
            value=False, description=skeleton.JOINTS_17[j], tooltip=f"flip the bone ending at "
            f"{skeleton.JOINTS_17[j]} (moves it {gaps[j]:.0f} mm)",
            layout=ipywidgets.Layout(width="105px")) for j in self.bones}

        figure = Figure(figsize=(11, 4))
        ax2d = figure.add_subplot(1, 3, 1)
        self.lines_2d = viz.draw_skeleton_2d(ax2d, camera.project_camera(self.pose),
                                             title="what the camera sees (px)")
        viz.side_legend(ax2d)
        bounds = np.concatenate([self.pose, toy.flip_bones(self.pose, self.bones)])
        self.lines_3d = {}
        for column, view in ((2, "camera"), (3, "side")):
            ax = figure.add_subplot(1, 3, column, projection="3d")
            viz.draw_skeleton_3d(ax, self.pose, view=view, color="0.8", linewidth=4, bounds=bounds)
            self.lines_3d[view] = viz.draw_skeleton_3d(ax, self.pose, view=view, bounds=False,
                                                      title=f"3D, seen from the {view}")
        super().__init__(figure, controls)
        self.redraw()

    def flipped(self):
        """Names of the bones (their end joints) currently flipped."""
        return [name for name, on in self.values.items() if on]

    def current_pose(self):
        """The pose with the current flips applied, (17, 3) camera frame mm."""
        return toy.flip_bones(self.pose, [skeleton.joint_index(n) for n in self.flipped()])

    def redraw(self):
        pose = self.current_pose()
        for lines in self.lines_3d.values():
            viz.update_skeleton_3d(lines, pose)
        shift = np.abs(self.camera.project_camera(pose) - self.camera.project_camera(self.pose)).max()
        broken = [rule for rule, bad in toy.joint_limit_violations(pose).items() if bad]
        flipped = ", ".join(self.flipped()) or "none"
        self.figure.suptitle(f"flipped: {flipped}   |   2D change {shift:.1e} px   |   "
                             f"joint limits broken: {', '.join(broken) or 'none'}", fontsize="small")


def update_skeleton_2d(lines, pose_2d):
    """Move the bone lines returned by `viz.draw_skeleton_2d` to a new 2D pose (16 or 17, 2)."""
    pose_2d = np.asarray(pose_2d, dtype=float)
    parents = skeleton.input_parents() if len(pose_2d) == 16 else skeleton.PARENTS_17
    bones = [(j, int(p)) for j, p in enumerate(parents) if p >= 0]
    for line, (j, parent) in zip(lines, bones):
        line.set_data(pose_2d[[parent, j], 0], pose_2d[[parent, j], 1])


class PoseExplorer(Explorer):
    """The synthetic generator by hand (notebook 02): an activity and a sample number draw joint
    angles (`synthetic.sample_angles`); six sliders then set some of those angles (degrees) and a
    menu picks one of the subject's Human3.6M cameras. Panels: the image (px) and the 3D pose in
    the world (mm, z up), with a dashed line pointing towards the camera.

    Choosing another activity or sample moves the sliders to the newly drawn angles.
    """

    SLIDERS = {"yaw": "heading", "spine_flex": "trunk bend", "hip_flex_r": "right hip",
               "knee_r": "right knee", "arm_elev_l": "left arm up", "elbow_l": "left elbow"}
    RANGES = {"yaw": (-180, 180), **synthetic.JOINT_RANGES}

    def __init__(self, activity="Walking", sample=0, camera_id=camera.CAMERA_IDS[0], subject="S9", seed=0):
        import ipywidgets

        self.cameras = camera.h36m_cameras(subject)
        self.seed = seed
        self.body = synthetic.Body.average()
        slider_style = dict(continuous_update=False, style={"description_width": "80px"},
                            layout=ipywidgets.Layout(width="300px"))
        controls = {
            "activity": ipywidgets.Dropdown(options=synthetic.ACTIVITIES, value=activity,
                                            description="activity"),
            "sample": ipywidgets.IntSlider(value=sample, min=0, max=49, description="sample", **slider_style),
            "camera": ipywidgets.Dropdown(options=list(self.cameras), value=camera_id, description="camera"),
        }
        for name, label in self.SLIDERS.items():
            low, high = self.RANGES[name]
            controls[name] = ipywidgets.FloatSlider(min=low, max=high, step=1.0, description=label,
                                                    readout_format=".0f", **slider_style)

        figure = Figure(figsize=(10, 4.4))
        self.ax_2d = figure.add_subplot(1, 2, 1)
        ax_3d = figure.add_subplot(1, 2, 2, projection="3d")
        self._drawn, self._syncing = None, False
        self._base = self._draw_angles(activity, sample)
        pose = self._pose(self._base)
        self.lines_2d = viz.draw_skeleton_2d(self.ax_2d, np.zeros((16, 2)))
        self.ax_2d.set_aspect("equal", adjustable="box")   # fixed image limits, set in redraw
        viz.side_legend(self.ax_2d)
        box = np.array([[-1000.0, -1000.0, 0.0], [1000.0, 1000.0, 2000.0]])
        self.lines_3d = viz.draw_skeleton_3d(ax_3d, pose, frame="world", bounds=box,
                                             title="3D pose in the world (mm)")
        (self.camera_line,) = ax_3d.plot([], [], [], ls="--", color="k", lw=1, label="towards the camera")
        ax_3d.legend(fontsize="x-small", loc="upper left")
        super().__init__(figure, controls)
        self.redraw()

    def _draw_angles(self, activity, sample):
        rng = np.random.default_rng([self.seed, sample, synthetic.ACTIVITIES.index(activity)])
        return synthetic.sample_angles(1, activity, rng)

    def _pose(self, angles):
        pose = synthetic.pose_from_angles(angles, self.body)[0]
        pose[:, 2] -= min(pose[3, 2], pose[6, 2])   # lowest foot on the floor
        return pose

    def angles(self):
        """The joint angles of the current pose, degrees (name -> (1,) array)."""
        values = self.values
        return {**self._base, **{name: np.array([values[name]]) for name in self.SLIDERS}}

    def current_pose(self):
        """The current pose in the world frame, (17, 3) mm, root above the centre of the capture area."""
        return self._pose(self.angles())

    def image(self):
        """The current pose as the chosen camera sees it: 16 input joints, (16, 2) px."""
        return self.cameras[self.values["camera"]].project(self.current_pose()[skeleton.INPUT_16])

    def redraw(self):
        if self._syncing:     # the sliders are being moved to newly drawn angles
            return
        values = self.values
        if self._drawn != (values["activity"], values["sample"]):
            self._drawn = (values["activity"], values["sample"])
            self._base = self._draw_angles(*self._drawn)
            self._syncing = True
            try:
                for name in self.SLIDERS:
                    self.controls[name].value = float(np.round(self._base[name][0]))
            finally:
                self._syncing = False
        pose = self.current_pose()
        viz.update_skeleton_3d(self.lines_3d, pose, frame="world")
        cam = self.cameras[values["camera"]]
        centre = cam.camera_to_world(np.zeros(3))
        toward = np.array([centre[0], centre[1], 0.0]) / np.linalg.norm(centre[:2]) * 900.0
        self.camera_line.set_data_3d([0.0, toward[0]], [0.0, toward[1]], [0.0, 0.0])
        update_skeleton_2d(self.lines_2d, self.image())
        width, height = cam.size
        self.ax_2d.set_xlim(0, width)
        self.ax_2d.set_ylim(height, 0)
        self.ax_2d.set_title(f"camera {cam.name} (px)")
        self.figure.suptitle(f"{values['activity']}, sample {values['sample']}", fontsize="small")


class HypothesisBrowser(Explorer):
    """Browse the M hypotheses of test samples (notebook 07): the 2D input, every hypothesis in
    3D (the chosen one in colour, the others grey, the ground truth dashed black) from an
    adjustable viewing angle, and the mixing weights (the chosen one highlighted).

    pose_2d (N, 16, 2) px; hypotheses (N, M, 17, 3) mm; weights (N, M); gt (N, 17, 3) mm or None;
    sigmas (N, M) mm or None.
    """

    def __init__(self, pose_2d, hypotheses, weights, gt=None, sigmas=None, sample=0):
        import ipywidgets

        self.pose_2d = np.asarray(pose_2d, dtype=float)
        self.hypotheses = np.asarray(hypotheses, dtype=float)
        self.weights = np.asarray(weights, dtype=float)
        self.gt = None if gt is None else np.asarray(gt, dtype=float)
        self.sigmas = None if sigmas is None else np.asarray(sigmas, dtype=float)
        count, m = self.weights.shape
        style = dict(continuous_update=False, style={"description_width": "80px"},
                     layout=ipywidgets.Layout(width="320px"))
        controls = {
            "sample": ipywidgets.IntSlider(value=sample, min=0, max=count - 1, description="test sample", **style),
            "hypothesis": ipywidgets.IntSlider(value=1, min=1, max=m, description="hypothesis", **style),
            "azimuth": ipywidgets.IntSlider(value=-60, min=-180, max=180, step=15, description="view (°)", **style),
        }
        figure = Figure(figsize=(12, 4.2))
        grid = figure.add_gridspec(1, 3, width_ratios=(1, 1.5, 0.9), wspace=0.5)
        self.ax_2d = figure.add_subplot(grid[0])
        self.lines_2d = viz.draw_skeleton_2d(self.ax_2d, self.pose_2d[sample], title="2D input (px)")
        self.ax_3d = figure.add_subplot(grid[1], projection="3d")
        self.lines_others = [viz.draw_skeleton_3d(self.ax_3d, pose, color="0.7", alpha=0.6, linewidth=1.2,
                                                  markersize=0, bounds=False)
                             for pose in self.hypotheses[sample]]
        self.lines_gt = (None if self.gt is None else
                         viz.draw_skeleton_3d(self.ax_3d, self.gt[sample], color="k", linewidth=1.2,
                                              markersize=0, bounds=False))
        if self.lines_gt is not None:
            for line in self.lines_gt:
                line.set_linestyle("--")
        self.lines_chosen = viz.draw_skeleton_3d(self.ax_3d, self.hypotheses[sample, 0])
        self.ax_weights = figure.add_subplot(grid[2])
        self.bars = self.ax_weights.bar(np.arange(1, m + 1), self.weights[sample], color="0.7")
        self.ax_weights.set(xlabel="hypothesis (kernel)", ylabel="mixing weight α", ylim=(0, 1),
                            xticks=np.arange(1, m + 1), title="mixing weights")
        self.ax_weights.yaxis.set_label_position("right")   # clear of the 3D panel's labels
        self.ax_weights.yaxis.tick_right()
        super().__init__(figure, controls)
        self.redraw()

    def redraw(self):
        values = self.values
        i, k = values["sample"], values["hypothesis"] - 1
        update_skeleton_2d(self.lines_2d, self.pose_2d[i])
        self.ax_2d.relim()
        self.ax_2d.autoscale_view()
        for lines, pose in zip(self.lines_others, self.hypotheses[i]):
            viz.update_skeleton_3d(lines, pose)
        viz.update_skeleton_3d(self.lines_chosen, self.hypotheses[i, k])
        bounds = self.hypotheses[i]
        if self.lines_gt is not None:
            viz.update_skeleton_3d(self.lines_gt, self.gt[i])
            bounds = np.concatenate([bounds, self.gt[i][None]])
        viz.set_axes_equal(self.ax_3d, bounds)
        self.ax_3d.view_init(elev=10, azim=values["azimuth"])
        for number, (bar, weight) in enumerate(zip(self.bars, self.weights[i])):
            bar.set_height(weight)
            bar.set_color("tab:green" if number == k else "0.7")
        text = f"hypothesis {k + 1}: weight {self.weights[i, k]:.2f}"
        if self.sigmas is not None:
            text += f", σ {self.sigmas[i, k]:.0f} mm"
        if self.gt is not None:
            errors = metrics.mpjpe(self.hypotheses[i], self.gt[i][None])
            text += f"\nerror {errors[k]:.0f} mm (best of {len(errors)}: {errors.min():.0f} mm; truth dashed)"
        self.ax_3d.set_title(text, fontsize="small")
        self.ax_2d.set_title(f"test sample {i}: 2D input (px)")


class PoseEditor(Explorer):
    """Move the joints of a 2D pose with sliders and watch the model's M hypotheses follow
    (notebook 07). `joint` picks one of the 16 input joints, `dx` and `dy` shift it (px); every
    joint keeps its own shift. Panels: the edited 2D pose (the original in grey), the hypotheses
    from the side (opacity by weight) and the weights. `latency_ms` holds the time of the last
    update: one forward pass and the drawing, without turning the figure into an image.

    model: a trained PoseNetwork (with its normalizer); pose_2d (16, 2) px.
    """

    def __init__(self, model, pose_2d, joint="LWrist", shift_px=150):
        import ipywidgets

        from mdnlib import inference

        self.model = model
        self.normalizer = inference.model_normalizer(model)
        self.base = inference.check_poses_2d(pose_2d)[0]
        self.offsets = np.zeros_like(self.base)
        self.latency_ms = None
        self._joint, self._syncing = None, False
        style = dict(continuous_update=True, style={"description_width": "60px"},
                     layout=ipywidgets.Layout(width="300px"))
        controls = {
            "joint": ipywidgets.Dropdown(options=skeleton.INPUT_NAMES, value=joint, description="joint"),
            "dx": ipywidgets.IntSlider(value=0, min=-shift_px, max=shift_px, description="dx (px)", **style),
            "dy": ipywidgets.IntSlider(value=0, min=-shift_px, max=shift_px, description="dy (px)", **style),
        }
        first = self.predict(self.base)
        figure = Figure(figsize=(12, 4.2))
        grid = figure.add_gridspec(1, 3, width_ratios=(1, 1.5, 0.9), wspace=0.3)
        self.ax_2d = figure.add_subplot(grid[0])
        viz.draw_skeleton_2d(self.ax_2d, self.base, color="0.8", linewidth=3, markersize=0)
        self.lines_2d = viz.draw_skeleton_2d(self.ax_2d, self.base)
        (self.marker,) = self.ax_2d.plot([], [], "o", ms=12, mfc="none", mec="tab:green", mew=2)
        margin = shift_px + 20
        self.ax_2d.set_xlim(self.base[:, 0].min() - margin, self.base[:, 0].max() + margin)
        self.ax_2d.set_ylim(self.base[:, 1].max() + margin, self.base[:, 1].min() - margin)
        self.ax_2d.set_aspect("equal", adjustable="box")   # fixed limits: the pose moves, not the axes
        self.ax_3d = figure.add_subplot(grid[1], projection="3d")
        self.lines_3d = [viz.draw_skeleton_3d(self.ax_3d, pose, view="side", bounds=False)
                         for pose in first.hypotheses[0]]
        viz.set_axes_equal(self.ax_3d, first.hypotheses[0], margin=1.5)   # room for the poses to move
        self.ax_weights = figure.add_subplot(grid[2])
        m = first.weights.shape[1]
        self.bars = self.ax_weights.bar(np.arange(1, m + 1), first.weights[0], color="tab:green")
        self.ax_weights.set(xlabel="hypothesis (kernel)", ylabel="mixing weight α", ylim=(0, 1),
                            xticks=np.arange(1, m + 1), title="mixing weights")
        super().__init__(figure, controls)
        self.redraw()

    def show(self):
        """As `Explorer.show`, but the figure goes out as a plain PNG (see `_changed`)."""
        from IPython.display import display
        self._display = display(self._image(), display_id=True)
        display(self.layout())
        return self

    def _changed(self, change):
        self.redraw()
        if self._display is not None:
            self._display.update(self._image())

    def _image(self):
        """The figure as a PNG, without the tight bounding box Jupyter adds to figures: that
        draws the figure twice, and this explorer redraws at every slider step."""
        import io

        from IPython.display import Image
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        return Image(data=buffer.getvalue())

    def predict(self, pose_2d):
        """Hypotheses for one 2D pose (16, 2) px: one direct forward pass (no `predict` loop)."""
        from mdnlib import inference

        out = self.model(self.normalizer.normalize_2d(pose_2d[None]), training=False)
        return inference.hypotheses_from_mixture(np.asarray(out["mu"]), np.asarray(out["sigma"]),
                                                 np.asarray(out["alpha"]), self.normalizer)

    def current_pose(self):
        """The edited 2D pose, (16, 2) px."""
        return self.base + self.offsets

    def redraw(self):
        import time

        if self._syncing:
            return
        start = time.perf_counter()
        values = self.values
        joint = skeleton.INPUT_NAMES.index(values["joint"])
        if self._joint != joint:     # another joint chosen: show its own shift on the sliders
            self._joint = joint
            self._syncing = True
            try:
                self.controls["dx"].value, self.controls["dy"].value = (int(v) for v in self.offsets[joint])
            finally:
                self._syncing = False
            values = self.values
        self.offsets[joint] = values["dx"], values["dy"]
        pose = self.current_pose()
        result = self.predict(pose)
        update_skeleton_2d(self.lines_2d, pose)
        self.marker.set_data([pose[joint, 0]], [pose[joint, 1]])
        weights = result.weights[0]
        for lines, hypothesis, weight in zip(self.lines_3d, result.hypotheses[0], weights):
            viz.update_skeleton_3d(lines, hypothesis)
            for line in lines:
                line.set_alpha(0.15 + 0.85 * float(weight / weights.max()))
        for bar, weight in zip(self.bars, weights):
            bar.set_height(weight)
        self.latency_ms = 1000.0 * (time.perf_counter() - start)
        self.ax_3d.set_title(f"{len(weights)} hypotheses, seen from the side\n(opacity: weight; "
                             f"update {self.latency_ms:.0f} ms)", fontsize="small")
        self.ax_2d.set_title(f"edited 2D input: {values['joint']} moved\nby ({values['dx']}, {values['dy']}) px "
                             "(original grey)", fontsize="small")
