"""Pose errors and the paper's evaluation (notebooks 03 and 06): MPJPE, best of M, calibration.

- `mpjpe` (Protocol 1) and `p_mpjpe` (Protocol 2): arrays (..., J, 3) in mm -> per-pose errors (...,);
- `best_of_m`, `per_joint_error`, `per_action_table`, `average_over_actions`, `format_table`:
  the paper's figures (best hypothesis per frame, unweighted mean over the 15 actions);
- `calibration`, `kernel_usage`: do the mixture's sigmas and weights mean what they say?
"""
import math

import numpy as np


def mpjpe(pred, gt):
    """Mean per-joint position error: mean over joints of the Euclidean distance, in mm."""
    pred, gt = np.broadcast_arrays(np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64))
    _check_poses(pred)
    return np.linalg.norm(pred - gt, axis=-1).mean(axis=-1)


def procrustes_align(pred, gt):
    """`pred` moved onto `gt` by the best similarity transform (rotation, scale, translation).

    Reflections are excluded: when the optimal orthogonal matrix has determinant -1, the last
    singular direction is flipped (Umeyama's fix), so the result is always a proper rotation.
    """
    pred, gt = np.broadcast_arrays(np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64))
    _check_poses(pred)
    mu_p, mu_g = pred.mean(axis=-2, keepdims=True), gt.mean(axis=-2, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    u, s, vt = np.linalg.svd(np.swapaxes(p, -1, -2) @ g)  # (..., 3, 3) cross-covariance
    sign = np.sign(np.linalg.det(u @ vt))
    s = s.copy()
    s[..., -1] *= sign
    u = u.copy()
    u[..., :, -1] *= sign[..., None]
    rotation = u @ vt                                   # applied as p @ rotation
    scale = s.sum(axis=-1) / np.maximum(np.sum(p ** 2, axis=(-2, -1)), 1e-12)
    return scale[..., None, None] * (p @ rotation) + mu_g


def p_mpjpe(pred, gt):
    """MPJPE after aligning each predicted pose to its ground truth by a similarity transform."""
    return mpjpe(procrustes_align(pred, gt), gt)


def _check_poses(poses):
    if poses.ndim < 2 or poses.shape[-1] != 3:
        raise ValueError(f"poses must be arrays (..., J, 3) in mm, got shape {poses.shape}")


# --- Many hypotheses, per joint, per action ---------------------------------------------------

def best_of_m(errors):
    """Error of the best hypothesis: errors (..., M) -> (...,), the minimum over the last axis.

    This is the paper's figure: the closest of the M kernel means, not weighted by alpha.
    """
    return np.min(_hypothesis_axis(errors), axis=-1)


def best_hypothesis_index(errors):
    """Index of the best hypothesis: errors (..., M) -> (...,) integers."""
    return np.argmin(_hypothesis_axis(errors), axis=-1)


def per_joint_error(pred, gt):
    """Euclidean distance of each joint in mm: (..., J, 3) -> (..., J)."""
    pred, gt = np.broadcast_arrays(np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64))
    _check_poses(pred)
    return np.linalg.norm(pred - gt, axis=-1)


def per_action_table(errors, actions):
    """Mean error per action: errors (N,), actions (N,) labels -> {action: mean}, sorted by name."""
    errors, actions = np.asarray(errors, dtype=np.float64), np.asarray(actions)
    if errors.shape != actions.shape or errors.ndim != 1:
        raise ValueError(f"errors and actions must be two (N,) arrays, got {errors.shape} and "
                         f"{actions.shape}")
    names, which = np.unique(actions, return_inverse=True)
    means = np.bincount(which, weights=errors) / np.bincount(which)
    return {str(name): float(mean) for name, mean in zip(names, means)}


def average_over_actions(table):
    """The reported figure: the unweighted mean of the per-action means, as in the paper."""
    if not table:
        raise ValueError("empty per-action table")
    return float(np.mean(list(table.values())))


def format_table(tables, digits=1):
    """Text table, one row per action and an 'Average' row (unweighted mean over actions).

    tables: one per-action table, or {column name: per-action table} for several columns
    (e.g. {"P1 (mm)": ..., "P2 (mm)": ...}).
    """
    if tables and all(np.isscalar(v) for v in tables.values()):
        tables = {"error": tables}
    actions = sorted({a for table in tables.values() for a in table})
    width = max([len("Average"), *map(len, actions)])
    columns = list(tables)
    cell = max([8, *map(len, columns)])
    lines = [f"{'action':<{width}}" + "".join(f"  {c:>{cell}}" for c in columns)]
    for action in actions:
        values = [tables[c].get(action, np.nan) for c in columns]
        lines.append(f"{action:<{width}}" + "".join(f"  {v:>{cell}.{digits}f}" for v in values))
    averages = [average_over_actions(tables[c]) for c in columns]
    lines.append(f"{'Average':<{width}}" + "".join(f"  {v:>{cell}.{digits}f}" for v in averages))
    return "\n".join(lines)


def _hypothesis_axis(errors):
    errors = np.asarray(errors, dtype=np.float64)
    if errors.ndim < 1 or errors.shape[-1] == 0:
        raise ValueError(f"errors must have a hypothesis axis last (..., M) with M >= 1, got {errors.shape}")
    return errors


# --- Calibration of an isotropic Gaussian mixture --------------------------------------------
#
# The network predicts, per example, M kernels over the 48 normalised output numbers: means
# mu_k, one sigma_k per kernel (isotropic) and weights alpha_k. Calibration asks whether the
# sigmas mean what they say. We pick one kernel per example ("likely": the largest alpha, what
# a user would choose without ground truth; "best": the mean closest to the ground truth, whose
# selection makes errors look smaller, so expect over-coverage), and for each of the 16 output
# joints measure r = |y_j - mu_kj| / sigma_k. If y were drawn from that kernel, r would follow a
# chi distribution with 3 degrees of freedom, so P(r <= chi3 quantile(p)) = p for every level p.
# Coverage(p) is the observed fraction; ECE is the mean of |coverage(p) - p| over the levels.

CALIBRATION_LEVELS = np.round(np.arange(0.05, 1.0, 0.05), 2)
_CHI3_GRID = np.linspace(0.0, 12.0, 24001)


def chi3_cdf(r):
    """P(|z| <= r) for z a standard normal vector in 3 dimensions (chi distribution, 3 dof)."""
    r = np.asarray(r, dtype=np.float64)
    erf = np.vectorize(math.erf, otypes=[float])
    return erf(r / np.sqrt(2)) - np.sqrt(2 / np.pi) * r * np.exp(-r ** 2 / 2)


_CHI3_CDF_GRID = chi3_cdf(_CHI3_GRID)


def chi3_quantile(p):
    """Radius r with chi3_cdf(r) = p (to about 1e-6), for levels 0 <= p < 1."""
    return np.interp(p, _CHI3_CDF_GRID, _CHI3_GRID)


def most_likely_kernel(alphas):
    """Index of the heaviest kernel, what a user without ground truth picks: alphas (..., M) -> (...,)."""
    return np.argmax(np.asarray(alphas), axis=-1)


def choose_kernel(means, alphas, target=None, rule="likely"):
    """One kernel per example: 'likely' (largest alpha) or 'best' (mean closest to target).

    means (..., M, D), alphas (..., M), target (..., D) -> indices (...,).
    """
    if rule == "likely":
        return most_likely_kernel(alphas)
    if rule == "best":
        if target is None:
            raise ValueError("the 'best' kernel needs the ground truth target")
        distance = np.linalg.norm(np.asarray(means) - np.asarray(target)[..., None, :], axis=-1)
        return np.argmin(distance, axis=-1)
    raise ValueError(f"unknown kernel rule {rule!r}: choose 'likely' or 'best'")


def joint_radii(target, means, sigmas, kernel):
    """Per-joint distance to the chosen kernel's mean, in units of its sigma.

    target (..., 3J) normalised, means (..., M, 3J), sigmas (..., M) (or (..., M, J), one per
    joint), kernel (...,) -> (..., J).
    """
    target, means, sigmas = (np.asarray(a, dtype=np.float64) for a in (target, means, sigmas))
    per_joint = sigmas.ndim == means.ndim
    kernel_shape = sigmas.shape[:-1] if per_joint else sigmas.shape
    if (target.shape[-1] % 3 or means.shape[-1] != target.shape[-1] or means.shape[:-1] != kernel_shape
            or (per_joint and 3 * sigmas.shape[-1] != means.shape[-1])):
        raise ValueError(f"expected target (..., 3J), means (..., M, 3J), sigmas (..., M) or (..., M, J); "
                         f"got {target.shape}, {means.shape}, {sigmas.shape}")
    kernel = np.asarray(kernel)[..., None, None]
    mean = np.take_along_axis(means, kernel, axis=-2)[..., 0, :]
    sigma = (np.take_along_axis(sigmas, kernel, axis=-2)[..., 0, :] if per_joint
             else np.take_along_axis(sigmas, kernel[..., 0], axis=-1))
    offsets = (target - mean).reshape(*target.shape[:-1], -1, 3)
    return np.linalg.norm(offsets, axis=-1) / sigma


def coverage(radii, levels=CALIBRATION_LEVELS):
    """Observed fraction of joint radii inside the nominal chi3 ball of each level."""
    radii = np.asarray(radii, dtype=np.float64).reshape(-1)
    return np.array([np.mean(radii <= chi3_quantile(p)) for p in np.asarray(levels)])


def expected_calibration_error(observed, levels=CALIBRATION_LEVELS):
    """Mean absolute gap between observed and nominal coverage, over the levels (0 = calibrated)."""
    return float(np.mean(np.abs(np.asarray(observed) - np.asarray(levels))))


def calibration(target, means, sigmas, alphas, rule="likely", levels=CALIBRATION_LEVELS):
    """Coverage of the predicted sigmas and its ECE, in the network's normalised output space.

    target (N, 48), means (N, M, 48), sigmas (N, M) or (N, M, 16), alphas (N, M) -> dict with levels,
    observed coverage per level, and ece.
    """
    kernel = choose_kernel(means, alphas, target, rule)
    observed = coverage(joint_radii(target, means, sigmas, kernel), levels)
    return {"levels": np.asarray(levels), "observed": observed,
            "ece": expected_calibration_error(observed, levels)}


def sample_coverage(samples, target, levels=CALIBRATION_LEVELS):
    """Calibration of samples (a flow's), per joint: observed coverage at each level.

    samples (N, S, J, 3), target (N, J, 3), any units. For each joint, the truth's distance from
    the samples' mean is ranked among the samples' own distances from it; u = (rank + 0.5) /
    (S + 1) is close to uniform on [0, 1] when the truth behaves like one more sample, so the
    fraction of joints with u <= p should be p. Joints that never move (the root) are left out.
    """
    samples, target = np.asarray(samples, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if samples.ndim != 4 or target.shape != samples.shape[:1] + samples.shape[2:]:
        raise ValueError(f"expected samples (N, S, J, 3) and target (N, J, 3), got {samples.shape} and {target.shape}")
    centre = samples.mean(axis=1)
    spread = np.linalg.norm(samples - centre[:, None], axis=-1)           # (N, S, J)
    truth = np.linalg.norm(target - centre, axis=-1)                      # (N, J)
    moving = spread.max(axis=(0, 1)) > 0
    rank = np.sum(spread < truth[:, None], axis=1)[:, moving]
    u = (rank + 0.5) / (samples.shape[1] + 1)
    return np.array([np.mean(u <= p) for p in np.asarray(levels)])


def kernel_sigma(sigmas):
    """One sigma per kernel, to print: `sigmas` (..., M) as they are, or per-joint sigmas
    (..., M, 17) mm (root 0, as `inference.Hypotheses` holds them) as their RMS over the 16
    predicted joints."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if sigmas.shape[-1:] == (17,) and sigmas.ndim >= 2:
        return np.sqrt(np.mean(sigmas[..., 1:] ** 2, axis=-1))
    return sigmas


def kernel_usage(alphas, threshold=0.05):
    """Average number of kernels per example whose weight exceeds `threshold` (5 % by default)."""
    alphas = np.asarray(alphas, dtype=np.float64)
    return float(np.mean(np.sum(alphas > threshold, axis=-1)))


def rank_correlation(a, b):
    """Spearman's rank correlation of two equally long sets of numbers (any shapes, flattened):
    the correlation of their ranks, tied values sharing their mean rank. 1 when b grows whenever a
    does, 0 when the order of one says nothing about the other; unlike the plain correlation it
    does not care whether the relation is linear (notebook 07: is the error larger where the
    hypotheses disagree more?)."""
    a, b = np.ravel(np.asarray(a, dtype=np.float64)), np.ravel(np.asarray(b, dtype=np.float64))
    if a.shape != b.shape or len(a) < 2:
        raise ValueError(f"two equally long sets of at least 2 numbers are needed, got {a.size} and {b.size}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("the numbers must be finite")
    return float(np.corrcoef(_ranks(a), _ranks(b))[0, 1])


def _ranks(values):
    """Ranks 0 .. N-1 of a 1-D array, ties sharing their mean rank."""
    _, group, size = np.unique(values, return_inverse=True, return_counts=True)
    after = np.cumsum(size)                        # a group of tied values holds ranks after-size .. after-1
    return (after - (size + 1) / 2)[group]
