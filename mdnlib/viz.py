"""Static matplotlib figures of the course: skeletons in 2D and 3D, hypotheses, training curves.

Used in notebooks 01-07; never trains anything. Colour convention (the person's own sides):
left limbs blue, right limbs red, centre (spine, head) dark grey; `side_legend` draws it.

Camera-frame poses (x right, y down, z forward = depth, mm) are drawn upright: the plot's
horizontal axes are x and depth, its vertical axis is height = -y. World poses of Human3.6M
already have z up and are drawn as they are.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from mdnlib import metrics, skeleton

SIDE_COLORS = {"L": "tab:blue", "R": "tab:red", "C": "0.25"}
SIDE_NAMES = {"L": "left", "R": "right", "C": "centre"}

# Named 3D viewpoints (matplotlib elevation/azimuth, degrees) for camera-frame plots.
VIEWS = {
    "camera": (0, -90),     # as the camera sees it: x to the right, height up, depth away
    "side": (0, 0),         # from the person's side: depth horizontal, height up
    "top": (90, -90),       # from above: x horizontal, depth vertical
    "oblique": (15, -60),
}

# Plot axis along the line of sight of the flat views (hidden there).
_LINE_OF_SIGHT = {"camera": "y", "side": "x", "top": "z"}

_FRAME_AXES = {
    # frame -> (plot axes from pose coordinates, axis labels)
    "camera": ("x (mm, right)", "depth z (mm)", "height -y (mm)"),
    "world": ("x (mm)", "y (mm)", "z (mm, up)"),
}


def _layout(num_joints):
    """Parents and sides of a 16-joint (network input order) or 17-joint skeleton."""
    if num_joints == 17:
        return skeleton.PARENTS_17, skeleton.SIDES_17
    if num_joints == 16:
        return skeleton.input_parents(), tuple(skeleton.SIDES_17[j] for j in skeleton.INPUT_16)
    raise ValueError(f"a pose must have 16 (input order) or 17 joints, got {num_joints}")


def side_legend(ax, **kwargs):
    """Legend of the left/right/centre colour convention; without a `loc`, in one row below the
    axes, where it hides no limb."""
    handles = [Line2D([], [], color=c, lw=2, label=SIDE_NAMES[s]) for s, c in SIDE_COLORS.items()]
    below = {} if "loc" in kwargs else {"loc": "upper center", "bbox_to_anchor": (0.5, -0.2), "ncol": 3}
    return ax.legend(handles=handles, **{"fontsize": "small", **below, **kwargs})


def draw_skeleton_2d(ax, pose, *, color=None, alpha=1.0, linewidth=2.0, markersize=3.0,
                     image_coords=True, unit="px", title=None, label=None):
    """Draw a 2D skeleton (16 input-order or 17 joints, 2) on `ax`; returns the bone lines.

    `color` overrides the left/right colours (e.g. to overlay a second pose); with
    `image_coords` the y axis points down as in an image.
    """
    pose = np.asarray(pose, dtype=float)
    if pose.ndim != 2 or pose.shape[1] != 2:
        raise ValueError(f"a 2D pose must be (16 or 17, 2), got {pose.shape}")
    parents, sides = _layout(len(pose))
    lines = []
    for j, p in enumerate(parents):
        if p < 0:
            continue
        (line,) = ax.plot(pose[[p, j], 0], pose[[p, j], 1], color=color or SIDE_COLORS[sides[j]],
                          alpha=alpha, lw=linewidth, marker="o", ms=markersize, solid_capstyle="round")
        lines.append(line)
    if label:
        lines[0].set_label(label)
    ax.set_aspect("equal", adjustable="datalim")
    if image_coords and not ax.yaxis_inverted():
        ax.invert_yaxis()
    ax.set_xlabel(f"x ({unit})")
    ax.set_ylabel(f"y ({unit}, down)" if image_coords else f"y ({unit})")
    if title:
        ax.set_title(title)
    return lines


def to_plot_coords(pose, frame="camera"):
    """Pose coordinates -> the (horizontal, horizontal, vertical) coordinates of a 3D plot."""
    pose = np.asarray(pose, dtype=float)
    if frame == "camera":
        return np.stack([pose[..., 0], pose[..., 2], -pose[..., 1]], axis=-1)
    if frame == "world":
        return pose
    raise ValueError(f"frame must be 'camera' or 'world', got {frame!r}")


def set_axes_equal(ax, points, frame="camera", margin=1.1, zoom=1.2):
    """Equal-aspect 3D limits: a cube around `points` (..., 3) in pose coordinates; `zoom`
    enlarges the cube inside its panel."""
    p = to_plot_coords(points, frame).reshape(-1, 3)
    centre = (p.max(axis=0) + p.min(axis=0)) / 2
    radius = max(float(np.max(p.max(axis=0) - p.min(axis=0))) / 2 * margin, 1.0)
    ax.set_xlim(centre[0] - radius, centre[0] + radius)
    ax.set_ylim(centre[1] - radius, centre[1] + radius)
    ax.set_zlim(centre[2] - radius, centre[2] + radius)
    ax.set_box_aspect((1, 1, 1), zoom=zoom)


def draw_skeleton_3d(ax, pose, frame="camera", *, color=None, alpha=1.0, linewidth=2.0,
                     markersize=3.0, view="oblique", bounds=None, title=None, label=None):
    """Draw a 3D skeleton (17, 3) in mm on a 3D `ax`, upright; returns the bone lines.

    `frame` is "camera" (x right, y down, z depth) or "world" (Human3.6M, z up). The axes get
    equal aspect around `bounds` (points in the same frame; default the pose itself); pass
    `bounds=False` to keep the current limits, e.g. when overlaying poses.
    """
    pose = np.asarray(pose, dtype=float)
    if pose.shape != (17, 3):
        raise ValueError(f"a 3D pose must be (17, 3) in mm, got {pose.shape}")
    parents, sides = _layout(17)
    p = to_plot_coords(pose, frame)
    lines = []
    for j, parent in enumerate(parents):
        if parent < 0:
            continue
        (line,) = ax.plot(p[[parent, j], 0], p[[parent, j], 1], p[[parent, j], 2],
                          color=color or SIDE_COLORS[sides[j]], alpha=alpha, lw=linewidth,
                          marker="o", ms=markersize)
        lines.append(line)
    if label:
        lines[0].set_label(label)
    if bounds is not False:
        set_axes_equal(ax, pose if bounds is None else bounds, frame)
    style_axes_3d(ax, frame, view)
    if title:
        ax.set_title(title)
    return lines


def style_axes_3d(ax, frame="camera", view="oblique"):
    """Axis labels of `frame`, small ticks and a named (see VIEWS) or (elev, azim) view; a flat
    view hides the axis along the line of sight."""
    xlabel, ylabel, zlabel = _FRAME_AXES[frame]
    ax.set_xlabel(xlabel, fontsize="small")
    ax.set_ylabel(ylabel, fontsize="small")
    ax.set_zlabel(zlabel, fontsize="small")
    ax.tick_params(labelsize="x-small")
    for axis in "xyz":
        ax.locator_params(axis=axis, nbins=4)
    if view is not None:
        elev, azim = VIEWS[view] if isinstance(view, str) else view
        ax.view_init(elev=elev, azim=azim)
        hidden = _LINE_OF_SIGHT.get(view) if isinstance(view, str) else None
        if hidden:  # the axis pointing at the viewer only clutters the picture
            getattr(ax, f"set_{hidden}label")("")
            getattr(ax, f"set_{hidden}ticks")([])


def update_skeleton_3d(lines, pose, frame="camera"):
    """Move the bone lines returned by `draw_skeleton_3d` to a new pose (for widgets)."""
    p = to_plot_coords(pose, frame)
    bones = [(j, int(parent)) for j, parent in enumerate(skeleton.PARENTS_17) if parent >= 0]
    for line, (j, parent) in zip(lines, bones):
        line.set_data_3d(p[[parent, j], 0], p[[parent, j], 1], p[[parent, j], 2])


# One colour per hypothesis (kernel), none of them a side colour; cycled beyond seven.
HYPOTHESIS_COLORS = ("tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def hypothesis_color(k):
    """The colour of hypothesis k (0-based) in every figure of hypotheses."""
    return HYPOTHESIS_COLORS[k % len(HYPOTHESIS_COLORS)]


# The 16 bones of a 17-joint pose as (parent, joint) index pairs
BONES_17 = np.array([(int(parent), j) for j, parent in enumerate(skeleton.PARENTS_17) if parent >= 0])


def skeleton_polyline(poses, frame="camera"):
    """A 17-joint pose (17, 3), or several (S, 17, 3), as one polyline in plot coordinates,
    (3, 3 * 16 * S): each bone a segment, NaN between bones, so that whole skeletons are one line
    artist (fast to redraw; a flow's cloud of samples too)."""
    p = to_plot_coords(poses, frame).reshape(-1, 17, 3)
    points = np.full((len(p), len(BONES_17), 3, 3), np.nan)
    points[:, :, 0], points[:, :, 1] = p[:, BONES_17[:, 0]], p[:, BONES_17[:, 1]]
    return points.reshape(-1, 3).T


def draw_hypotheses_3d(ax, hypotheses, weights, frame="camera", chosen=None):
    """The M hypotheses (M, 17, 3) mm on one 3D `ax`, each in its own colour, styled by weight
    (see `update_hypotheses_3d`); returns the M lines."""
    lines = [ax.plot(*skeleton_polyline(pose, frame), color=hypothesis_color(k), marker="o", ms=2)[0]
             for k, pose in enumerate(np.asarray(hypotheses, dtype=float))]
    update_hypotheses_3d(lines, hypotheses, weights, frame, chosen)
    return lines


def update_hypotheses_3d(lines, hypotheses, weights, frame="camera", chosen=None):
    """Move the lines of `draw_hypotheses_3d` to new hypotheses and restyle them: opacity grows
    with the weight; the heaviest (or `chosen`, an index) is drawn thick and opaque, in front."""
    weights = np.asarray(weights, dtype=float)
    top = int(np.argmax(weights)) if chosen is None else int(chosen)
    for k, (line, pose) in enumerate(zip(lines, hypotheses)):
        line.set_data_3d(*skeleton_polyline(pose, frame))
        line.set_linewidth(3.0 if k == top else 1.3)
        line.set_alpha(1.0 if k == top else 0.25 + 0.65 * float(weights[k] / weights.max()))
        line.set_zorder(3 if k == top else 2)


def weight_axis_top(weights):
    """Top of a weight axis that fits `weights` (any shape): the largest weight plus 10%, rounded
    up to a tenth, at most 1, so that weights of 0.2-0.3 are not squeezed at the bottom."""
    return float(min(1.0, np.ceil(11.0 * np.max(weights)) / 10.0))


def draw_weights(ax, weights, title="mixing weights", top=None):
    """The mixing weights (M,) as bars in the hypotheses' colours on a fixed scale from 0 to
    `top` (default `weight_axis_top(weights)`), the heaviest outlined in black (see
    `update_weights`); returns the bars."""
    m = len(weights)
    bars = ax.bar(np.arange(1, m + 1), weights, color=[hypothesis_color(k) for k in range(m)])
    ax.set(xlabel="hypothesis (kernel)", ylabel="mixing weight α", ylim=(0, top or weight_axis_top(weights)),
           xticks=np.arange(1, m + 1), title=title)
    for k, label in enumerate(ax.get_xticklabels()):
        label.set_color(hypothesis_color(k))
    update_weights(bars, weights)
    return bars


def update_weights(bars, weights, chosen=None):
    """Set the bars of `draw_weights` to new weights; the heaviest gets a black outline, the
    `chosen` one (if any) full opacity and the others a lighter fill."""
    weights = np.asarray(weights, dtype=float)
    top = int(np.argmax(weights))
    for k, (bar, weight) in enumerate(zip(bars, weights)):
        bar.set_height(weight)
        bar.set_edgecolor("k" if k == top else "none")
        bar.set_linewidth(2.0 if k == top else 0.0)
        bar.set_alpha(1.0 if chosen is None or k == chosen else 0.45)


def plot_pose_pair(pose_2d, pose_3d, frame="camera", title=None, view="oblique"):
    """A 2D pose and a 3D pose side by side (the input and output of the network)."""
    fig = plt.figure(figsize=(9, 4))
    ax2 = fig.add_subplot(1, 2, 1)
    draw_skeleton_2d(ax2, pose_2d, title="2D input")
    side_legend(ax2)
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    draw_skeleton_3d(ax3, pose_3d, frame, view=view, title="3D pose")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_hypotheses(pose_2d, gt_3d, hypotheses, weights, sigmas=None, frame="camera",
                    view="oblique", title=None):
    """The figure of the original code's `--sample`: 2D input, ground truth, M hypotheses.

    pose_2d (16 or 17, 2) px; gt_3d (17, 3) mm or None; hypotheses (M, 17, 3) mm; weights (M,);
    sigmas (M,) or (M, 17) mm or None. Each hypothesis is titled, in its own colour
    (`hypothesis_color`, as in the explorers), with its weight (and sigma, and its MPJPE to the
    ground truth when given; the best one is marked); the heaviest one's title is bold and says
    so. All 3D panels share their limits.
    """
    hypotheses = np.asarray(hypotheses, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if hypotheses.ndim != 3 or hypotheses.shape[1:] != (17, 3) or len(weights) != len(hypotheses):
        raise ValueError(f"hypotheses must be (M, 17, 3) with M weights, got {hypotheses.shape} "
                         f"and {weights.shape}")
    errors = None if gt_3d is None else metrics.mpjpe(hypotheses, np.asarray(gt_3d)[None])
    sigmas = None if sigmas is None else metrics.kernel_sigma(sigmas)
    panels = 1 + (gt_3d is not None) + len(hypotheses)
    rows = 1 if panels <= 4 else 2                      # two rows keep 3D panels readable
    columns = -(-panels // rows)
    fig = plt.figure(figsize=(3.6 * columns, 4.3 * rows))
    ax = fig.add_subplot(rows, columns, 1)
    draw_skeleton_2d(ax, pose_2d, title="2D input")
    bounds = hypotheses if gt_3d is None else np.concatenate([hypotheses, [gt_3d]])
    col = 2
    if gt_3d is not None:
        ax = fig.add_subplot(rows, columns, col, projection="3d")
        draw_skeleton_3d(ax, gt_3d, frame, view=view, bounds=bounds, title="ground truth")
        col += 1
    heaviest = int(np.argmax(weights))
    for k, pose in enumerate(hypotheses):
        lines = [f"hypothesis {k + 1}" + (" (heaviest)" if k == heaviest else ""), f"weight {weights[k]:.2f}"]
        if sigmas is not None:
            lines[-1] += f", σ {float(sigmas[k]):.0f} mm"
        if errors is not None:
            best = " (best)" if k == int(np.argmin(errors)) else ""
            lines.append(f"error {errors[k]:.0f} mm{best}")
        ax = fig.add_subplot(rows, columns, col + k, projection="3d")
        draw_skeleton_3d(ax, pose, frame, view=view, bounds=bounds, title="\n".join(lines),
                         alpha=0.35 + 0.65 * float(weights[k] / weights.max()))
        ax.title.set(fontsize="small", color=hypothesis_color(k), fontweight="bold" if k == heaviest else "normal")
    _fit_3d_panels(fig, fig.axes[1:], title)
    return fig


def plot_samples(pose_2d, gt_3d, samples, frame="camera", title=None):
    """A sampler's `sample` figure (notebook 08): the 2D input, then the S samples (S, 17, 3) mm as
    one faint cloud with their mean thick, from the front and from the side (where the depth
    ambiguity shows), the ground truth (17, 3) mm dashed black when given."""
    samples = np.asarray(samples, dtype=float)
    if samples.ndim != 3 or samples.shape[1:] != (17, 3):
        raise ValueError(f"samples must be (S, 17, 3) mm, got {samples.shape}")
    fig = plt.figure(figsize=(11, 4.3))
    ax = fig.add_subplot(1, 3, 1)
    draw_skeleton_2d(ax, pose_2d, title="2D input")
    bounds = samples.reshape(-1, 3) if gt_3d is None else np.concatenate([samples.reshape(-1, 3), gt_3d])
    mean = samples.mean(axis=0)
    for col, (view, seen) in enumerate((("camera", "as the camera sees them"), ("side", "from the side")), 2):
        ax = fig.add_subplot(1, 3, col, projection="3d")
        cloud = skeleton_polyline(samples, frame)
        ax.plot(*cloud, color=hypothesis_color(0), lw=0.8, alpha=max(0.05, min(0.5, 5.0 / len(samples))))
        ax.plot(*skeleton_polyline(mean, frame), color=hypothesis_color(0), lw=2.5, label=f"mean of {len(samples)} samples")
        if gt_3d is not None:
            ax.plot(*skeleton_polyline(gt_3d, frame), "k--", lw=1.2, label="ground truth")
        set_axes_equal(ax, bounds, frame)
        style_axes_3d(ax, frame, view=view)
        ax.set_title(f"{len(samples)} samples, {seen}", fontsize="small")
    ax.legend(fontsize="x-small", loc="upper right")
    _fit_3d_panels(fig, fig.axes[1:], title)
    return fig


def _fit_3d_panels(fig, axes_3d, title):
    """Lay out a grid of panels whose `axes_3d` are 3D, with an optional suptitle."""
    for ax in axes_3d:
        # a 3D panel's axis labels lie outside its box, where tight_layout cannot see them and the
        # next panel would cover them: a smaller box and fixed gaps keep them inside the panel
        ax.set_box_aspect((1, 1, 1), zoom=0.9)
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(left=0.04, right=0.97, bottom=0.07, top=1 - 0.9 / fig.get_figheight(),
                        wspace=0.3, hspace=0.35)


def plot_poses_3d(poses, titles, frame="world", title=None):
    """A row of 3D poses (K, 17, 3) mm with one title each, on shared limits (e.g. frames of a
    motion, notebook 02); every axis label stays inside its panel."""
    poses = np.asarray(poses, dtype=float)
    fig = plt.figure(figsize=(3.2 * len(poses), 4.0))
    for k, (pose, name) in enumerate(zip(poses, titles)):
        ax = fig.add_subplot(1, len(poses), k + 1, projection="3d")
        draw_skeleton_3d(ax, pose, frame, bounds=poses, title=name)
    _fit_3d_panels(fig, fig.axes, title)
    return fig


def plot_nearest_pose_errors(errors, title, bins=np.linspace(0, 200, 51)):
    """Histograms of nearest-pose errors {comparison: (N,) mm} (notebook 02, `realism`): the
    comparisons without "reference" in their name as histograms with their medians, the
    references as medians only; the legend sits right of the axes, inside the figure."""
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    main = [name for name in errors if "reference" not in name]
    for name, color in zip(main, ("tab:green", "0.4")):
        median = np.median(errors[name])
        ax.hist(errors[name], bins=bins, histtype="step", lw=2, color=color, density=True, label=name)
        ax.axvline(median, color=color, ls=":", lw=1.5, label=f"its median, {median:.0f} mm")
    for name, style in zip([n for n in errors if "reference" in n], ("--", "-.")):
        median = np.median(errors[name])
        ax.axvline(median, color="tab:purple", ls=style, lw=1.5, label=f"median of {name}, {median:.0f} mm")
    ax.set(xlabel="P-MPJPE to the nearest pose, limb joints (mm)", ylabel="density (1/mm)")
    fig.suptitle(title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def plot_training_curves(history, title="Training curves", xlabel="epoch"):
    """One panel per quantity of a Keras-style history dict ({"loss": [...], "val_loss": [...]});
    a "val_x" series is drawn with its "x"."""
    names = [k for k in history if not k.startswith("val_")]
    names += [k[4:] for k in history if k.startswith("val_") and k[4:] not in history]
    if not names:
        raise ValueError("the history is empty: expected a dict like {'loss': [...], 'val_loss': [...]}")
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for key, label in ((name, "training"), (f"val_{name}", "validation")):
            if key in history:
                values = np.asarray(history[key], dtype=float)
                ax.plot(np.arange(1, len(values) + 1), values, marker="." if len(values) < 30 else None,
                        label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name.replace("_", " "))
        ax.set_title(name.replace("_", " "))
        ax.legend(fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_kernel_usage(alphas, threshold=0.05, title="Kernel usage"):
    """Which kernels a mixture model uses (notebook 05): `alphas` {model name: (N, M) weights}.

    Left: the mean mixing weight of each kernel over the N inputs (a dead kernel's bar is ~0);
    right: per input, how many kernels weigh more than `threshold` (the mean of that count is
    `metrics.kernel_usage`).
    """
    if not alphas:
        raise ValueError("no models given: expected {name: alphas (N, M)}")
    alphas = {name: np.asarray(a, dtype=float) for name, a in alphas.items()}
    kernels = max(a.shape[1] for a in alphas.values())
    width = 0.8 / len(alphas)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, (name, a) in enumerate(alphas.items()):
        offset = (i - (len(alphas) - 1) / 2) * width
        axes[0].bar(np.arange(1, a.shape[1] + 1) + offset, a.mean(axis=0), width, label=name)
        counts = np.bincount(np.sum(a > threshold, axis=1), minlength=kernels + 1)[1:]
        axes[1].bar(np.arange(1, kernels + 1) + offset, 100 * counts / len(a), width,
                    label=f"{name}: {metrics.kernel_usage(a, threshold):.2f} on average")
    axes[0].axhline(1 / kernels, color="k", ls="--", lw=1, label=f"uniform, 1/{kernels}")
    axes[0].set(xlabel="kernel", ylabel="mean mixing weight α_k", title="Mean weight of each kernel")
    axes[1].set(xlabel=f"kernels with weight > {threshold:.0%}", ylabel="inputs (%)",
                title="Kernels in use per input")
    # headroom above the bars keeps the legends off them
    axes[0].set_ylim(0, 1.6 * max(1 / kernels, *(a.mean(axis=0).max() for a in alphas.values())))
    axes[1].set_ylim(0, 130)
    for ax in axes:
        ax.set_xticks(np.arange(1, kernels + 1))
        ax.legend(fontsize="small", loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_reliability(calibrations, title="Calibration of the predicted sigmas", colors=None):
    """Reliability diagram: {label: `metrics.calibration` result}; observed coverage against the
    nominal level, the diagonal being perfect calibration (notebook 06). `colors`: {label: colour},
    for some or all labels (the others take matplotlib's next colour)."""
    colors = colors or {}
    fig, ax = plt.subplots(figsize=(5.2, 5))
    ax.plot([0, 1], [0, 1], color="k", ls="--", lw=1, label="perfectly calibrated")
    for label, result in calibrations.items():
        ax.plot(result["levels"], result["observed"], marker="o", ms=3, color=colors.get(label),
                label=f"{label} (ECE {result['ece']:.3f})")
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", title=title,
           xlabel="nominal coverage p (chi-3 ball of radius q(p) σ)",
           ylabel="observed fraction of joints inside")
    ax.text(0.97, 0.03, "below the diagonal: σ too small\n(over-confident)", ha="right", va="bottom",
            fontsize="small", color="0.3")
    ax.text(0.03, 0.97, "above: σ too large\n(under-confident)", ha="left", va="top",
            fontsize="small", color="0.3")
    ax.legend(fontsize="small", loc="lower right", bbox_to_anchor=(1.0, 0.12))
    fig.tight_layout()
    return fig


def plot_grouped_bars(values, labels, ylabel, title, colors=None, rotation=60, figsize=(10, 3.8),
                      hatches=None):
    """Bars of several series side by side: values {series: (K,) numbers}, labels (K,) categories
    (joints, actions, ...); optional colours and hatches per series. The legend sits right of the
    axes, off the bars. Returns the figure."""
    series = {name: np.asarray(v, dtype=float) for name, v in values.items()}
    if any(v.shape != (len(labels),) for v in series.values()):
        raise ValueError(f"every series needs one value per label ({len(labels)}), got "
                         f"{ {name: v.shape for name, v in series.items()} }")
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=figsize)
    for i, (name, v) in enumerate(series.items()):
        offset = (i - (len(series) - 1) / 2) * width
        ax.bar(np.arange(len(labels)) + offset, v, width, label=name, edgecolor="w",
               color=None if colors is None else colors[i], hatch=None if hatches is None else hatches[i])
    ax.set_xticks(np.arange(len(labels)), labels, rotation=rotation, ha="right" if rotation else "center")
    ax.set(ylabel=ylabel, title=title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig
