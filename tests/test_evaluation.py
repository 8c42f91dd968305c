"""Evaluation as the paper reports it: best-of-M errors, per-action tables, kernel usage."""
import numpy as np
import pytest

from mdnlib import evaluation


def _rotation_z(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@pytest.fixture
def poses():
    rng = np.random.default_rng(0)
    gt = rng.normal(scale=300.0, size=(3, 17, 3))
    gt -= gt[:, :1]
    return gt


def test_best_of_m_takes_the_closest_hypothesis_not_the_heaviest(poses):
    shift = np.array([10.0, 0.0, 0.0])
    hypotheses = np.stack([poses + shift, poses, poses + 2 * shift], axis=1)   # (3, 3, 17, 3)
    weights = np.array([[0.7, 0.2, 0.1]] * 3)
    errors = evaluation.hypothesis_errors(hypotheses, weights, poses)
    np.testing.assert_allclose(errors["best_p1"], 0.0, atol=1e-9)
    np.testing.assert_allclose(errors["most_likely_p1"], 10.0)
    # mixture mean = gt + (0.7 * 10 + 0.1 * 20) mm in x
    np.testing.assert_allclose(errors["mixture_mean_p1"], 9.0)
    assert "best_p2" not in errors


def test_protocol_2_forgives_rotation_and_scale_but_protocol_1_does_not(poses):
    moved = 1.1 * poses @ _rotation_z(0.3).T + np.array([5.0, -3.0, 2.0])
    far = poses + 50.0
    hypotheses = np.stack([moved, far], axis=1)
    errors = evaluation.hypothesis_errors(hypotheses, np.full((3, 2), 0.5), poses, procrustes=True)
    np.testing.assert_allclose(errors["best_p2"], 0.0, atol=1e-6)
    assert np.all(errors["best_p1"] > 20.0)


def test_kernel_usage_counts_weights_above_five_percent():
    weights = np.array([[0.90, 0.06, 0.04], [0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    assert evaluation.kernel_usage(weights) == pytest.approx((2 + 2 + 1) / 3)


def test_action_table_reports_the_unweighted_mean_over_actions():
    table = evaluation.action_table([1.0, 2.0, 3.0, 10.0], ["Walking"] * 3 + ["Eating"])
    assert table["per_action"] == {"Eating": 10.0, "Walking": 2.0}
    assert table["average"] == pytest.approx(6.0)      # (2 + 10) / 2, not weighted by frames
    assert table["all_frames"] == pytest.approx(4.0)


@pytest.mark.parametrize("shape_h, shape_w, shape_gt, message", [
    ((3, 2, 17), (3, 2), (3, 17, 3), "hypotheses must be"),
    ((3, 2, 17, 3), (3, 5), (3, 17, 3), "weights must be"),
    ((3, 2, 17, 3), (3, 2), (3, 16, 3), "ground truth must be"),
])
def test_wrong_shapes_are_named(shape_h, shape_w, shape_gt, message):
    with pytest.raises(ValueError, match=message):
        evaluation.hypothesis_errors(np.zeros(shape_h), np.ones(shape_w), np.zeros(shape_gt))
