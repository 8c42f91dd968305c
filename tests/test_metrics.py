"""MPJPE and P-MPJPE on hand-made transforms."""
import numpy as np
import pytest

from mdnlib import metrics


def _rotation(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def test_mpjpe_of_a_known_shift():
    gt = np.zeros((2, 17, 3))
    pred = gt + np.array([3.0, 4.0, 0.0])
    assert np.allclose(metrics.mpjpe(pred, gt), [5.0, 5.0])


def test_p_mpjpe_removes_rotation_scale_translation():
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(5, 17, 3)) * 300
    moved = 1.7 * gt @ _rotation([1, 2, 3], 0.8).T + np.array([100.0, -50.0, 3000.0])
    assert metrics.mpjpe(moved, gt).min() > 100
    assert np.allclose(metrics.p_mpjpe(moved, gt), 0, atol=1e-8)


def test_p_mpjpe_does_not_undo_a_reflection():
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(17, 3)) * 300
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    assert metrics.p_mpjpe(mirrored, gt) > 50
    aligned = metrics.procrustes_align(mirrored, gt)
    # the optimal proper rotation still leaves an error, and is never better than no change
    assert metrics.mpjpe(aligned, gt) <= metrics.mpjpe(mirrored, gt) + 1e-9


def test_broadcasting_over_hypotheses():
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(4, 17, 3))
    hyps = gt[:, None] + rng.normal(size=(4, 5, 17, 3))
    assert metrics.mpjpe(hyps, gt[:, None]).shape == (4, 5)
    assert metrics.p_mpjpe(hyps, gt[:, None]).shape == (4, 5)


def test_bad_shape_is_named():
    with pytest.raises(ValueError, match=r"\(\.\.\., J, 3\)"):
        metrics.mpjpe(np.zeros((4, 17, 2)), np.zeros((4, 17, 2)))
