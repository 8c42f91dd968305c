"""Interactive explorers for the notebooks, built on `mdnlib.viz` and ipywidgets.

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
"""
import numpy as np
from matplotlib.figure import Figure

from mdnlib import skeleton, toy, viz


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
