"""Evaluation as the paper reports it: best-of-M errors, per-action tables, kernel usage."""
import json

import numpy as np
import pytest

from mdnlib import evaluation, metrics
from mdnlib.dataset import Normalizer


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


def test_action_table_reports_the_unweighted_mean_over_actions():
    table = evaluation.action_table([1.0, 2.0, 3.0, 10.0], np.array(["Walking"] * 3 + ["Eating"]))
    assert table["per_action"] == {"Eating": 10.0, "Walking": 2.0}
    assert table["average"] == pytest.approx(6.0)      # (2 + 10) / 2, not weighted by frames
    assert table["all_frames"] == pytest.approx(4.0)


def _normalizer(std_3d_mm=100.0):
    """Statistics that make the arithmetic easy: 3D numbers are mm / 100."""
    return Normalizer(mean_2d=np.zeros(32), std_2d=np.ones(32), mean_3d=np.zeros(48),
                      std_3d=np.full(48, std_3d_mm))


def test_evaluate_outputs_from_network_outputs_in_normalised_units(poses):
    normalizer = _normalizer()
    target = normalizer.normalize_3d(poses)                        # (3, 48)
    mu = np.stack([target, target + 0.1], axis=1)                  # kernel 1: +10 mm on every coordinate
    sigma = np.full((3, 2), 0.1)
    alpha = np.tile([0.3, 0.7], (3, 1))
    results = evaluation.evaluate_outputs(mu, sigma, alpha, target, poses, np.array(["A", "A", "B"]),
                                          normalizer, procrustes=True)
    off = 16 / 17 * np.sqrt(3) * 10.0                              # root stays at 0: 16 of 17 joints move
    assert results["frames"] == 3 and results["num_kernels"] == 2
    assert results["p1"]["average"] == pytest.approx(0.0, abs=1e-3)
    assert results["p2"]["average"] == pytest.approx(0.0, abs=1e-3)
    assert results["most_likely_p1"]["per_action"]["B"] == pytest.approx(off, rel=1e-5)
    assert results["mixture_mean_p1"]["average"] == pytest.approx(0.7 * off, rel=1e-5)
    assert results["kernel_usage"] == 2.0
    # log-likelihood per kernel: log alpha - 24 log(2 pi) - 48 log(0.1) - ||y - mu||^2 / (2 0.01)
    exact = np.log(0.3) - 24 * np.log(2 * np.pi) - 48 * np.log(0.1)
    shifted = np.log(0.7) - 24 * np.log(2 * np.pi) - 48 * np.log(0.1) - 48 * 0.01 / 0.02
    assert results["nll"] == pytest.approx(-np.logaddexp(exact, shifted), rel=1e-5)
    assert 0.0 <= results["calibration_ece"] <= 1.0
    json.dumps(results)                                            # JSON-able as it is


def test_chunked_evaluation_equals_the_whole_and_metrics_calibration():
    rng = np.random.default_rng(4)
    normalizer = _normalizer()
    gt = rng.normal(scale=300.0, size=(7, 17, 3))
    gt[:, 0] = 0.0
    target = normalizer.normalize_3d(gt)
    mu = target[:, None] + rng.normal(scale=0.3, size=(7, 3, 48))
    sigma, alpha = rng.uniform(0.1, 0.5, (7, 3)), rng.dirichlet(np.ones(3), 7)
    actions = np.array(list("AABBBCC"))
    whole = evaluation.evaluate_outputs(mu, sigma, alpha, target, gt, actions, normalizer, True)
    pieces = evaluation.evaluate_outputs(mu, sigma, alpha, target, gt, actions, normalizer, True, chunk=2)
    for key, value in whole.items():
        if isinstance(value, dict):
            assert pieces[key]["per_action"] == pytest.approx(value["per_action"])
            assert pieces[key]["average"] == pytest.approx(value["average"])
        else:
            assert pieces[key] == pytest.approx(value)
    assert whole["calibration_ece"] == pytest.approx(metrics.calibration(target, mu, sigma, alpha)["ece"])


def test_a_baseline_without_sigma_has_errors_but_no_likelihood(poses):
    normalizer = _normalizer()
    target = normalizer.normalize_3d(poses)
    results = evaluation.evaluate_outputs(target[:, None] + 0.05, np.full((3, 1), np.nan), np.ones((3, 1)),
                                          target, poses, np.array(["Walking", "Eating", "Eating"]), normalizer)
    text = evaluation.format_results(results)
    assert "best of 1 hypothesis, 3 test frames" in text
    assert "P2" not in text
    average = [line for line in text.splitlines() if line.startswith("Average")]
    assert average and f"{16 / 17 * np.sqrt(3) * 5.0:.1f}" in average[0]
    assert "Walking" in text and "kernels above 5%: 1.00 of 1" in text
    assert results["nll"] is None and "NLL: n/a" in text and "ECE: n/a" in text


@pytest.mark.parametrize("shape_h, shape_w, shape_gt, message", [
    ((3, 2, 17), (3, 2), (3, 17, 3), "hypotheses must be"),
    ((3, 2, 17, 3), (3, 5), (3, 17, 3), "weights must be"),
    ((3, 2, 17, 3), (3, 2), (3, 16, 3), "ground truth must be"),
])
def test_wrong_shapes_are_named(shape_h, shape_w, shape_gt, message):
    with pytest.raises(ValueError, match=message):
        evaluation.hypothesis_errors(np.zeros(shape_h), np.ones(shape_w), np.zeros(shape_gt))
