"""Pose errors of the paper (notebook 06): MPJPE (Protocol 1) and P-MPJPE (Protocol 2).

All functions take arrays (..., J, 3) in mm and return per-pose errors (...,).
"""
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
