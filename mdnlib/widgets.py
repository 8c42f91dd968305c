"""Interactive explorers of notebooks 01, 02, 07 and 08: live figures (ipympl) with ipywidgets controls.

Each explorer draws one matplotlib figure on an ipympl canvas, a widget that stays live in the
page: moving a control (or dragging a joint of the pose editor with the mouse) calls `redraw()`,
a plain method that updates the artists in place, and `refresh()` puts the change on the
canvas. The artists that move are drawn with blitting: the rest of the figure (axes, ticks,
panes) is drawn once and kept as a background, and an update only paints the moving artists
over it and sends the changed pixels, a few milliseconds instead of the ~80 ms of a full
drawing of a 3D figure. When a static part changes (axis limits, the 3D view), the figure is
stale and is drawn in full.

`show()` displays a static PNG of the figure (every artist drawn) above the canvas and the
controls. Without a page (tests, nbclient, nbconvert) the canvas has no view and the PNG is
updated at every change, so an HTML export, with or without widget state, shows the figure as
it was last drawn; once a page shows the canvas, the PNG gives way to it. Tests drive the
controls by setting `.value`.

To add an explorer: subclass `Explorer`, build the figure and the controls in `__init__`, call
`super().__init__(figure, controls, moving)` with the artists that `redraw()` changes, and
implement `redraw()`.

| explorer | notebook |
|---|---|
| `FlipExplorer` | 01: flip bones; the 2D projection stays, the 3D pose changes |
| `PoseExplorer` | 02: the synthetic generator by hand: activity, joint angles, camera |
| `HypothesisBrowser` | 07: the M hypotheses of test views, their weights, any viewing angle; 08: samples |
| `PoseEditor` | 07: drag 2D joints (or use sliders), the hypotheses follow live; 08: a flow's samples |

Many equally likely samples (a flow's, notebook 08) are drawn as a cloud (`SampleCloud`): thin
faint lines of one colour, a few line artists for all of them, and one pose thick in the side
colours; the weights panel becomes the samples' depth spread per limb joint (`draw_depth_spread`).
"""
import contextlib
import io
import time

import numpy as np
from matplotlib.backend_bases import MouseButton
from matplotlib.figure import Figure

from mdnlib import camera, metrics, skeleton, toy, viz
from mdnlib.hypotheses import LIMB_JOINT_INDICES, depth_spread
from mdnlib.sources import synthetic


class Explorer:
    """A live figure (`canvas`, an ipympl widget) plus named ipywidgets controls; `redraw()`
    updates the figure's `moving` artists from the controls, `refresh()` shows the result.

    `latency_ms`: the time of the last update in Python (redraw and the new frame).
    """

    def __init__(self, figure, controls, moving):
        from ipympl.backend_nbagg import Canvas, FigureManager

        self.figure = figure
        self.controls = dict(controls)
        self.moving = list(moving)
        for artist in self.moving:
            artist.set_animated(True)     # left out of full drawings, painted over them
        self.canvas = Canvas(figure)
        FigureManager(self.canvas, id(self))   # answers the page's messages (draw, resize, mouse)
        self.canvas.header_visible = self.canvas.footer_visible = False
        self.canvas.toolbar_visible = self.canvas.resizable = False
        self.canvas.mpl_connect("draw_event", self._drawn)
        self.canvas.on_msg(self._message)
        self.live = False                 # True once a page shows the canvas
        self.latency_ms = None
        self._background = None
        self._display = None
        self._syncing = False
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
        """Display the static figure, then the live canvas with the controls under it."""
        import ipywidgets
        from IPython.display import display
        self._display = display(self.static_image(), display_id=True)
        display(ipywidgets.VBox([self.canvas, self.layout()]))
        return self

    def static_image(self):
        """The figure as a PNG image with every artist drawn (an IPython Image)."""
        from IPython.display import Image
        buffer = io.BytesIO()
        with self.all_drawn():
            self.figure.savefig(buffer, format="png")
        return Image(data=buffer.getvalue())

    def _ipython_display_(self):
        self.show()

    @contextlib.contextmanager
    def syncing(self):
        """Within this block, setting controls (to show a new state) triggers no update."""
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    @contextlib.contextmanager
    def all_drawn(self):
        """Within this block a plain drawing (`figure.savefig`) includes the moving artists."""
        stale = self.figure.stale    # savefig marks the figure stale, though nothing changed
        for artist in self.moving:
            artist.set_animated(False)
        try:
            yield self.figure
        finally:
            for artist in self.moving:
                artist.set_animated(True)
            self.figure.stale = stale

    def refresh(self):
        """Show the current state: on a live canvas, paint the moving artists over the kept
        background and send the changed pixels, or ask for a full drawing when a static part
        changed; without a page, update the static PNG of the output."""
        if not self.live:
            if self._display is not None:
                self._display.update(self.static_image())
            return
        if self._background is None or self.figure.stale:
            self.canvas.draw_idle()
            return
        self.canvas.restore_region(self._background)
        self._paint_moving()
        self.canvas.blit(self.figure.bbox)

    def update(self):
        """`redraw()` then `refresh()`, timed (`latency_ms`)."""
        start = time.perf_counter()
        self.redraw()
        self.refresh()
        self.latency_ms = 1000.0 * (time.perf_counter() - start)

    def _paint_moving(self):
        for artist in sorted(self.moving, key=lambda a: a.get_zorder()):
            self.figure.draw_artist(artist)

    def _drawn(self, event):
        # after every full drawing of the live canvas: keep it as the background, add the moving
        # artists (a savefig draws too, on its own renderer: not the canvas)
        if self.canvas.is_saving():
            return
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._paint_moving()

    def _message(self, widget, content, buffers):
        if content.get("type") == "initialized":     # a page shows the canvas: no static copy
            self.live = True
            if self._display is not None:
                self._display.update({"text/plain": ""}, raw=True)
        elif content.get("type") == "closing":
            self.live = False

    def _changed(self, change):
        if not self._syncing and change["new"] != change["old"]:
            self.update()


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
        self.title = figure.suptitle("", fontsize="small")
        super().__init__(figure, controls, [self.title, *(line for lines in self.lines_3d.values()
                                                          for line in lines)])
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
        self.title.set_text(f"flipped: {flipped}   |   2D change {shift:.1e} px   |   "
                            f"joint limits broken: {', '.join(broken) or 'none'}")


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
        slider_style = dict(continuous_update=True, style={"description_width": "80px"},
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
        self._drawn_angles, self._camera = None, None
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
        self.title = figure.suptitle("", fontsize="small")
        super().__init__(figure, controls, [*self.lines_2d, *self.lines_3d, self.camera_line, self.title])
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
        values = self.values
        if self._drawn_angles != (values["activity"], values["sample"]):
            self._drawn_angles = (values["activity"], values["sample"])
            self._base = self._draw_angles(*self._drawn_angles)
            with self.syncing():     # the sliders show the newly drawn angles
                for name in self.SLIDERS:
                    self.controls[name].value = float(np.round(self._base[name][0]))
            values = self.values
        cam = self.cameras[values["camera"]]
        if self._camera != cam.name:    # a static part: the image size and the panel title
            self._camera = cam.name
            width, height = cam.size
            self.ax_2d.set_xlim(0, width)
            self.ax_2d.set_ylim(height, 0)
            self.ax_2d.set_title(f"camera {cam.name} (px)")
        pose = self.current_pose()
        viz.update_skeleton_3d(self.lines_3d, pose, frame="world")
        centre = cam.camera_to_world(np.zeros(3))
        toward = np.array([centre[0], centre[1], 0.0]) / np.linalg.norm(centre[:2]) * 900.0
        self.camera_line.set_data_3d([0.0, toward[0]], [0.0, toward[1]], [0.0, 0.0])
        update_skeleton_2d(self.lines_2d, self.image())
        self.title.set_text(f"{values['activity']}, sample {values['sample']}")


# --- many equally likely samples (a flow's, notebook 08) --------------------------------------

CLOUD_COLOR = viz.hypothesis_color(0)    # the samples' faint lines (not a side colour)
CLOUD_GROUPS = 5              # line artists for the whole cloud (see `cloud_polylines`)


def cloud_polylines(poses, groups=CLOUD_GROUPS, frame="camera"):
    """Poses (S, 17, 3) mm as `groups` polylines in plot coordinates, each (3, n): every bone a
    segment, NaN between segments (`viz.skeleton_polyline`), the samples split evenly among
    them. One line artist per group instead of one per sample: 50 samples paint in a few ms.
    Within one line overlapping strokes do not add up; across groups they do, so where the
    samples agree the cloud looks darker."""
    poses = np.asarray(poses, dtype=float)
    return [viz.skeleton_polyline(group, frame) for group in np.array_split(poses, min(groups, len(poses)))]


def side_polylines(pose, frame="camera"):
    """One pose (17, 3) mm as three polylines in plot coordinates, {"L", "R", "C"} -> (3, n): its
    left, right and centre bones, to draw in the side colours with three line artists."""
    p = viz.to_plot_coords(np.asarray(pose, dtype=float), frame)
    lines = {}
    for side in viz.SIDE_COLORS:
        bones = viz.BONES_17[[skeleton.SIDES_17[j] == side for j in viz.BONES_17[:, 1]]]
        points = np.full((len(bones), 3, 3), np.nan)
        points[:, 0], points[:, 1] = p[bones[:, 0]], p[bones[:, 1]]
        lines[side] = points.reshape(-1, 3).T
    return lines


class SampleCloud:
    """Many equally likely 3D poses (S, 17, 3) mm on a 3D axes: all of them thin and faint in one
    colour (`CLOUD_GROUPS` line artists), and one pose thick in the side colours (the chosen
    sample, or the samples' mean) in front. `artists`: the lines, to animate; `update` moves them."""

    def __init__(self, ax, poses, thick, frame="camera", alpha=0.2):
        self.frame = frame
        self.groups = min(CLOUD_GROUPS, len(poses))
        self.lines = [ax.plot(*line, color=CLOUD_COLOR, lw=0.7, alpha=alpha, zorder=2)[0]
                      for line in cloud_polylines(poses, self.groups, frame)]
        self.thick = {side: ax.plot(*line, color=viz.SIDE_COLORS[side], lw=2.8, zorder=3,
                                    solid_capstyle="round")[0]
                      for side, line in side_polylines(thick, frame).items()}

    @property
    def artists(self):
        return [*self.lines, *self.thick.values()]

    def update(self, poses=None, thick=None):
        """Move the cloud to new `poses` (S, 17, 3) and/or the thick pose to `thick` (17, 3)."""
        if poses is not None:
            for line, points in zip(self.lines, cloud_polylines(poses, self.groups, self.frame)):
                line.set_data_3d(*points)
        if thick is not None:
            for side, points in side_polylines(thick, self.frame).items():
                self.thick[side].set_data_3d(*points)


def limb_depth_spread(poses):
    """The depth spread of equally likely samples (..., S, 17, 3) mm per limb joint, (..., 8) mm in
    `skeleton.LIMB_JOINTS` order: the std of each limb bone's depth (`hypotheses.depth_spread`)."""
    poses = np.asarray(poses, dtype=float)
    return depth_spread(poses, np.ones(poses.shape[:-2]))[..., LIMB_JOINT_INDICES]


def spread_axis_top(spread):
    """Top of a depth-spread axis (mm) that fits `spread` (any shape): the largest plus 10%,
    rounded up to 20 mm."""
    return float(max(20.0, 20.0 * np.ceil(1.1 * np.max(spread) / 20.0)))


def draw_depth_spread(ax, spread, top, title="depth spread of the samples"):
    """The samples' depth spread per limb joint (8,) mm (`limb_depth_spread`) as horizontal bars
    in the side colours, one row per limb joint, on a fixed scale from 0 to `top` mm; returns the
    bars (`set_depth_spread` moves them)."""
    names = skeleton.LIMB_JOINTS
    rows = np.arange(len(names))
    bars = ax.barh(rows, spread, height=0.7, color=[viz.SIDE_COLORS[name[0]] for name in names])
    ax.set(xlim=(0, top), ylim=(len(names) - 0.5, -0.5), xlabel="std of the bone's depth (mm)")
    ax.set_title(title, fontsize="small")
    ax.set_yticks(rows, [f"{name[0]} {name[1:].lower()}" for name in names], fontsize="small")
    ax.yaxis.tick_right()     # clear of a 3D panel's labels on the left
    for name, label in zip(names, ax.get_yticklabels()):
        label.set_color(viz.SIDE_COLORS[name[0]])
    ax.tick_params(axis="x", labelsize="small")
    return bars


def set_depth_spread(bars, spread):
    """Set the bars of `draw_depth_spread` to a new spread (8,) mm."""
    for bar, value in zip(bars, spread):
        bar.set_width(value)


def samples_are_equal_weight(weights):
    """Whether hypotheses with `weights` (N, M) are samples: more than one, all equally likely."""
    weights = np.asarray(weights, dtype=float)
    return weights.shape[-1] > 1 and bool(np.allclose(weights, weights[..., :1]))


class HypothesisBrowser(Explorer):
    """Browse the M hypotheses of test views (notebook 07): the 2D input (relative to the hip),
    every hypothesis in 3D in its own colour (the chosen one thick, the others faint by weight,
    the ground truth dashed black) from an adjustable viewing angle, and the mixing weights to
    scale (the heaviest outlined).

    pose_2d (N, 16, 2) px; hypotheses (N, M, 17, 3) mm; weights (N, M); gt (N, 17, 3) mm or None;
    sigmas (N, M) mm or None. Every sample is drawn on the same axes (limits that hold 99.5% of
    all joints), so that changing the sample only moves lines.

    Samples (notebook 08: a flow's, equally likely, no sigmas; `samples` None tells them by their
    equal weights and missing sigmas): all of them a faint cloud of one colour, the chosen one
    (slider "sample") thick in the side colours, and instead of the weights, which say nothing
    here, the samples' depth spread per limb joint (on one scale for all test views).
    """

    def __init__(self, pose_2d, hypotheses, weights, gt=None, sigmas=None, sample=0, samples=None):
        import ipywidgets

        self.pose_2d = np.asarray(pose_2d, dtype=float)
        self.pose_2d = self.pose_2d - self.pose_2d[:, :1]      # hip at 0: one scale for all samples
        self.hypotheses = np.asarray(hypotheses, dtype=float)
        self.weights = np.asarray(weights, dtype=float)
        self.gt = None if gt is None else np.asarray(gt, dtype=float)
        self.sigmas = None if sigmas is None else metrics.kernel_sigma(sigmas)
        if samples is None:
            samples = sigmas is None and samples_are_equal_weight(self.weights)
        self.samples = bool(samples)
        count, m = self.weights.shape
        style = dict(continuous_update=True, style={"description_width": "80px"},
                     layout=ipywidgets.Layout(width="320px"))
        controls = {
            "sample": ipywidgets.IntSlider(value=sample, min=0, max=count - 1, description="test view", **style),
            "hypothesis": ipywidgets.IntSlider(value=1, min=1, max=m, description="sample" if self.samples
                                               else "hypothesis", **style),
            "azimuth": ipywidgets.IntSlider(value=-60, min=-180, max=180, step=15, description="view (°)", **style),
        }
        figure = Figure(figsize=(12, 4.2))
        grid = figure.add_gridspec(1, 3, width_ratios=(1, 1.5, 0.9), wspace=0.5)
        self.ax_2d = figure.add_subplot(grid[0])
        self.lines_2d = viz.draw_skeleton_2d(self.ax_2d, self.pose_2d[sample])
        self.ax_2d.set(xlabel="x - hip (px)", ylabel="y - hip (px, down)")
        reach = np.percentile(np.abs(self.pose_2d), 99.5) * 1.1
        self.ax_2d.set(xlim=(-reach, reach), ylim=(reach, -reach))
        self.ax_2d.set_aspect("equal", adjustable="box")
        self.ax_3d = figure.add_subplot(grid[1], projection="3d")
        points = self.hypotheses if self.gt is None else np.concatenate([self.hypotheses.reshape(-1, 17, 3), self.gt])
        reach_3d = np.percentile(np.abs(points), 99.5)
        self.lines_gt = (None if self.gt is None else
                         viz.draw_skeleton_3d(self.ax_3d, self.gt[sample], color="k", linewidth=1.2,
                                              markersize=0, bounds=[[-reach_3d] * 3, [reach_3d] * 3]))
        for line in self.lines_gt or ():
            line.set_linestyle("--")
        if self.samples:
            self.cloud = SampleCloud(self.ax_3d, self.hypotheses[sample], self.hypotheses[sample, 0])
            self.lines_hypotheses = self.cloud.artists
        else:
            self.cloud = None
            self.lines_hypotheses = viz.draw_hypotheses_3d(self.ax_3d, self.hypotheses[sample],
                                                           self.weights[sample])
        viz.set_axes_equal(self.ax_3d, [[-reach_3d] * 3, [reach_3d] * 3], margin=1.0)
        viz.style_axes_3d(self.ax_3d, view=None)     # the view follows the azimuth slider
        self.ax_weights = figure.add_subplot(grid[2])
        if self.samples:
            self.spread = limb_depth_spread(self.hypotheses)                        # (N, 8) mm
            self.bars = draw_depth_spread(self.ax_weights, self.spread[sample], spread_axis_top(self.spread),
                                          title=f"depth spread of the {m} samples")
        else:
            self.bars = viz.draw_weights(self.ax_weights, self.weights[sample],
                                         top=viz.weight_axis_top(self.weights))   # fits every sample
            self.ax_weights.yaxis.set_label_position("right")   # clear of the 3D panel's labels
            self.ax_weights.yaxis.tick_right()
        self.title_2d = self.ax_2d.set_title("")
        self.title_3d = self.ax_3d.set_title("", fontsize="small")
        self._azimuth = None
        super().__init__(figure, controls, [*self.lines_2d, *(self.lines_gt or ()), *self.lines_hypotheses,
                                            *self.bars, self.title_2d, self.title_3d])
        self.redraw()

    def redraw(self):
        values = self.values
        i, k = values["sample"], values["hypothesis"] - 1
        if self._azimuth != values["azimuth"]:     # a static part: the view
            self._azimuth = values["azimuth"]
            self.ax_3d.view_init(elev=10, azim=self._azimuth)
            self.ax_3d.stale = True       # view_init alone leaves the figure marked as drawn
        update_skeleton_2d(self.lines_2d, self.pose_2d[i])
        if self.lines_gt is not None:
            viz.update_skeleton_3d(self.lines_gt, self.gt[i])
        if self.samples:
            self.cloud.update(self.hypotheses[i], self.hypotheses[i, k])
            set_depth_spread(self.bars, self.spread[i])
            text = f"sample {k + 1} of {self.weights.shape[1]} (thick), all equally likely (faint)"
        else:
            viz.update_hypotheses_3d(self.lines_hypotheses, self.hypotheses[i], self.weights[i], chosen=k)
            viz.update_weights(self.bars, self.weights[i], chosen=k)
            heaviest = int(np.argmax(self.weights[i])) + 1
            text = f"hypothesis {k + 1} (thick): weight {self.weights[i, k]:.2f}"
            if self.sigmas is not None:
                text += f", σ {self.sigmas[i, k]:.0f} mm"
            text += f"; heaviest: {heaviest}"
        if self.gt is not None:
            errors = metrics.mpjpe(self.hypotheses[i], self.gt[i][None])
            text += f"\nerror {errors[k]:.0f} mm (best of {len(errors)}: {errors.min():.0f} mm"
            if self.samples:
                mean_error = metrics.mpjpe(self.hypotheses[i].mean(axis=0), self.gt[i])
                text += f", their mean: {float(mean_error):.0f} mm"
            text += "; truth dashed)"
        self.title_3d.set_text(text)
        self.title_2d.set_text(f"test view {i}: 2D input (px)")


class PoseEditor(Explorer):
    """Drag the joints of a 2D pose with the mouse (or move them with sliders) and watch the
    model's M hypotheses follow (notebook 07). Pressing near a joint of the left panel picks it
    up; every joint keeps its own shift, at most `shift_px` each way (a drag stops there, as the
    sliders do). `joint`, `dx` and `dy` do the same from the keyboard and show the chosen joint's
    shift (px). `network_ms`: the time of the last redraw's forward pass. Panels: the edited 2D pose (the original in grey),
    the hypotheses from the side, each in its own colour (the heaviest thick), and the weights.

    model: a trained PoseNetwork (with its normalizer) or FlowNetwork; pose_2d (16, 2) px.

    A flow (notebook 08) draws `num_samples` samples from the same noise (`seed`) at every step,
    so that they move smoothly with the joint (a 1 px move shifts them 0.4 mm on average), with
    `steps` Heun steps of its compiled sampler: `EDITOR_STEPS` (4) by default, fewer than the
    sampler's `models.SAMPLER_STEPS` and a third faster (about 20 instead of 30 ms on 2 busy CPU
    cores), samples within about 7 mm of the converged ones (bench/README.md); pass
    `steps=models.SAMPLER_STEPS` to draw exactly the samples of `inference.predict_poses`. They
    are drawn as a faint cloud with their mean thick (what a regression would answer), and the
    weights panel shows their depth spread per limb joint: the ambiguity that grows and shrinks
    as a joint moves.
    """

    PICK_RADIUS_PX = 15     # how close to a joint (screen pixels) a press must be to pick it up
    EDITOR_STEPS = 4        # a flow's sampler steps in the editor (see bench/README.md)

    def __init__(self, model, pose_2d, joint="LWrist", shift_px=150, num_samples=50, seed=0, steps=None):
        import ipywidgets

        from mdnlib import inference

        self.model = model
        self.shift_px = shift_px
        self.network_ms = None
        self.samples = model.model_config.kind == "flow"
        self.num_samples, self.seed = int(num_samples), seed
        self.steps = self.EDITOR_STEPS if steps is None else int(steps)
        self.normalizer = inference.model_normalizer(model)
        self.base = inference.check_poses_2d(pose_2d)[0]
        self.offsets = np.zeros_like(self.base)
        self.dragging = None     # the joint being dragged (index), or None
        self.joint = skeleton.INPUT_NAMES.index(joint)   # the chosen joint (index)
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
        self.lines_2d = viz.draw_skeleton_2d(self.ax_2d, self.base, markersize=5)
        (self.marker,) = self.ax_2d.plot([], [], "o", ms=12, mfc="none", mec="k", mew=2)
        margin = shift_px + 20
        self.ax_2d.set_xlim(self.base[:, 0].min() - margin, self.base[:, 0].max() + margin)
        self.ax_2d.set_ylim(self.base[:, 1].max() + margin, self.base[:, 1].min() - margin)
        self.ax_2d.set_aspect("equal", adjustable="box")   # fixed limits: the pose moves, not the axes
        self.ax_3d = figure.add_subplot(grid[1], projection="3d")
        self.ax_weights = figure.add_subplot(grid[2])
        if self.samples:
            self.cloud = SampleCloud(self.ax_3d, first.hypotheses[0], first.hypotheses[0].mean(axis=0))
            self.lines_3d = self.cloud.artists
            spread = limb_depth_spread(first.hypotheses[0])
            # room for the spread to grow as joints move (the axis stays fixed while dragging)
            top = spread_axis_top(max(1.6 * spread.max(), 120.0))
            self.bars = draw_depth_spread(self.ax_weights, spread, top, title="depth spread of the samples")
            title_3d = (f"{self.num_samples} samples (faint), seen from the side\n"
                        "thick: their mean, as a regression would answer")
        else:
            self.cloud = None
            self.lines_3d = viz.draw_hypotheses_3d(self.ax_3d, first.hypotheses[0], first.weights[0])
            # room for a weight to grow as joints move (the axis stays fixed while dragging)
            self.bars = viz.draw_weights(self.ax_weights, first.weights[0],
                                         top=viz.weight_axis_top(min(1.0, 1.6 * first.weights.max())))
            title_3d = f"{len(first.weights[0])} hypotheses, seen from the side\n(the heaviest thick)"
        viz.style_axes_3d(self.ax_3d, view="side")
        viz.set_axes_equal(self.ax_3d, first.hypotheses[0], margin=1.5)   # room for the poses to move
        # fixed titles: text is slow to paint (about 4 ms a title), the panels show the numbers
        self.ax_2d.set_title("drag a joint (original grey)", fontsize="small")
        self.ax_3d.set_title(title_3d, fontsize="small")
        super().__init__(figure, controls, [*self.lines_2d, self.marker, *self.lines_3d, *self.bars])
        self.canvas.mpl_connect("button_press_event", self._press)
        self.canvas.mpl_connect("motion_notify_event", self._drag)
        self.canvas.mpl_connect("button_release_event", self._release)
        self.redraw()

    def predict(self, pose_2d):
        """Hypotheses for one 2D pose (16, 2) px: one compiled forward pass (`predict_on_batch`,
        no `predict` loop), or for a flow `num_samples` samples from the noise of `seed`, one call
        of its compiled sampler (`models.sample_flow`)."""
        from mdnlib import inference, models

        x = self.normalizer.normalize_2d(pose_2d[None])
        if self.samples:
            samples = models.sample_flow(self.model, x, self.num_samples, seed=self.seed, steps=self.steps)
            return inference.hypotheses_from_samples(samples, self.normalizer)
        out = self.model.predict_on_batch(x)      # compiled: about 2 ms, where a plain call takes 18
        return inference.hypotheses_from_mixture(np.asarray(out["mu"]), np.asarray(out["sigma"]),
                                                 np.asarray(out["alpha"]), self.normalizer)

    def current_pose(self):
        """The edited 2D pose, (16, 2) px."""
        return self.base + self.offsets

    def joint_at(self, x, y):
        """The joint (index) drawn within `PICK_RADIUS_PX` of figure pixel (x, y), or None."""
        on_screen = self.ax_2d.transData.transform(self.current_pose())
        distance = np.hypot(*(on_screen - [x, y]).T)
        nearest = int(np.argmin(distance))
        return nearest if distance[nearest] <= self.PICK_RADIUS_PX else None

    def move_joint(self, joint, x, y):
        """Put joint (index) at image position (x, y) px, or as near as the `shift_px` limit
        allows, make it the chosen one and update; while dragging the controls follow when the
        drag ends (`_release`), not at every step."""
        self.offsets[joint] = np.clip((x, y) - self.base[joint], -self.shift_px, self.shift_px)
        self.joint = joint
        if self.dragging is None:
            self._sync_controls()
        self.update()

    def _sync_controls(self):
        # show the chosen joint and its shift on the controls
        with self.syncing():
            self.controls["joint"].value = skeleton.INPUT_NAMES[self.joint]
            for name, value in zip(("dx", "dy"), self.offsets[self.joint]):
                self.controls[name].value = int(round(value))

    def _changed(self, change):
        if self._syncing:
            return
        if change["owner"] is self.controls["joint"]:   # another joint: the sliders show its shift
            self.joint = skeleton.INPUT_NAMES.index(change["new"])
            self._sync_controls()
        else:
            self.offsets[self.joint] = self.controls["dx"].value, self.controls["dy"].value
        super()._changed(change)

    def _press(self, event):
        if event.inaxes is self.ax_2d and event.button == MouseButton.LEFT:
            self.dragging = self.joint_at(event.x, event.y)
            if self.dragging is not None:
                self.joint = self.dragging
                self._sync_controls()

    def _drag(self, event):
        if self.dragging is None:
            return
        if MouseButton.LEFT not in event.buttons:     # released off the canvas
            self._release(event)
        elif event.inaxes is self.ax_2d:
            self.move_joint(self.dragging, event.xdata, event.ydata)

    def _release(self, event):
        if self.dragging is not None:
            self.dragging = None
            self._sync_controls()

    def redraw(self):
        joint = self.joint
        pose = self.current_pose()
        start = time.perf_counter()
        result = self.predict(pose)
        self.network_ms = 1000.0 * (time.perf_counter() - start)
        update_skeleton_2d(self.lines_2d, pose)
        self.marker.set_data([pose[joint, 0]], [pose[joint, 1]])
        if self.samples:
            samples = result.hypotheses[0]
            self.cloud.update(samples, samples.mean(axis=0))
            set_depth_spread(self.bars, limb_depth_spread(samples))
            return
        viz.update_hypotheses_3d(self.lines_3d, result.hypotheses[0], result.weights[0])
        viz.update_weights(self.bars, result.weights[0])
