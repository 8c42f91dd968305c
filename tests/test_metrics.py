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


def test_best_of_m_and_index():
    errors = np.array([[30.0, 10.0, 20.0], [5.0, 50.0, 7.0]])
    assert np.allclose(metrics.best_of_m(errors), [10.0, 5.0])
    assert list(metrics.best_hypothesis_index(errors)) == [1, 0]
    with pytest.raises(ValueError, match="hypothesis axis"):
        metrics.best_of_m(np.zeros((3, 0)))


def test_best_of_m_is_not_weighted_by_alpha():
    gt = np.zeros((1, 17, 3))
    hyps = np.stack([gt[0] + [0.0, 0.0, 100.0], gt[0] + [0.0, 3.0, 4.0]])[None]  # (1, 2, 17, 3)
    assert np.allclose(metrics.best_of_m(metrics.mpjpe(hyps, gt[:, None])), [5.0])


def test_per_joint_error():
    gt = np.zeros((2, 3, 3))
    pred = gt.copy()
    pred[0, 1] = [3.0, 4.0, 0.0]
    pred[1, 2] = [0.0, 0.0, -2.0]
    assert np.allclose(metrics.per_joint_error(pred, gt), [[0, 5, 0], [0, 0, 2]])
    assert np.allclose(metrics.per_joint_error(pred, gt).mean(axis=-1), metrics.mpjpe(pred, gt))


def test_per_action_table_and_unweighted_average():
    errors = np.array([10.0, 20.0, 30.0, 100.0])
    actions = np.array(["Walking", "Walking", "Walking", "Sitting"])
    table = metrics.per_action_table(errors, actions)
    assert table == {"Sitting": 100.0, "Walking": 20.0}
    assert list(table) == ["Sitting", "Walking"]
    # the reported figure: mean of the action means (60), not of the frames (40)
    assert metrics.average_over_actions(table) == 60.0
    text = metrics.format_table({"P1": table, "P2": {"Sitting": 50.0, "Walking": 10.0}})
    lines = text.splitlines()
    assert lines[0].split() == ["action", "P1", "P2"]
    assert lines[1].split() == ["Sitting", "100.0", "50.0"]
    assert lines[-1].split() == ["Average", "60.0", "30.0"]
    assert metrics.format_table(table).splitlines()[-1].split() == ["Average", "60.0"]
    with pytest.raises(ValueError, match="two \\(N,\\) arrays"):
        metrics.per_action_table(errors, actions[:3])


def test_chi3_quantiles_match_tables():
    # chi distribution with 3 degrees of freedom: median 1.5382, 90 % 2.5003, 95 % 2.7955
    assert np.allclose(metrics.chi3_quantile([0.5, 0.9, 0.95]), [1.5382, 2.5003, 2.7955], atol=1e-4)
    assert np.allclose(metrics.chi3_cdf(metrics.chi3_quantile(metrics.CALIBRATION_LEVELS)),
                       metrics.CALIBRATION_LEVELS, atol=1e-6)


def _mixture_sample(rng, n=20000, m=5, d=48, noise_scale=1.0):
    """Mixtures with well separated means; the target is drawn from the heaviest kernel with
    `noise_scale` times its sigma (1: the model tells the truth)."""
    means = rng.normal(size=(n, m, d)) * 20
    sigmas = rng.uniform(0.2, 2.0, size=(n, m))
    alphas = rng.dirichlet(np.ones(m), size=n)
    k = np.argmax(alphas, axis=1)
    rows = np.arange(n)
    target = means[rows, k] + noise_scale * sigmas[rows, k, None] * rng.normal(size=(n, d))
    return target, means, sigmas, alphas


@pytest.mark.parametrize("rule", ["likely", "best"])
def test_calibrated_mixture_has_ece_near_zero(rule):
    rng = np.random.default_rng(0)
    result = metrics.calibration(*_mixture_sample(rng), rule=rule)
    assert result["ece"] < 0.01
    assert np.allclose(result["observed"], result["levels"], atol=0.02)


def test_mis_scaled_mixture_has_large_ece():
    rng = np.random.default_rng(1)
    too_confident = metrics.calibration(*_mixture_sample(rng, noise_scale=2.0))
    assert too_confident["ece"] > 0.3
    assert np.all(too_confident["observed"] < too_confident["levels"])  # under-coverage
    too_cautious = metrics.calibration(*_mixture_sample(rng, noise_scale=0.5))
    assert too_cautious["ece"] > 0.2
    assert np.all(too_cautious["observed"] > too_cautious["levels"])


def test_joint_radii_by_hand():
    target = np.zeros((1, 6))
    means = np.array([[[3.0, 4.0, 0.0, 0.0, 0.0, 1.0], [0.0] * 6]])
    sigmas = np.array([[0.5, 2.0]])
    assert np.allclose(metrics.joint_radii(target, means, sigmas, np.array([0])), [[10.0, 2.0]])
    assert list(metrics.choose_kernel(means, np.array([[0.9, 0.1]]))) == [0]
    assert list(metrics.choose_kernel(means, np.array([[0.9, 0.1]]), target, rule="best")) == [1]
    with pytest.raises(ValueError, match="ground truth"):
        metrics.choose_kernel(means, np.array([[0.9, 0.1]]), rule="best")


def test_kernel_usage():
    alphas = np.array([[0.96, 0.01, 0.01, 0.01, 0.01], [0.3, 0.3, 0.2, 0.1, 0.1], [0.5, 0.5, 0, 0, 0]])
    assert metrics.kernel_usage(alphas) == pytest.approx((1 + 5 + 2) / 3)
    assert metrics.kernel_usage(alphas, threshold=0.25) == pytest.approx((1 + 2 + 2) / 3)


def test_joint_radii_with_one_sigma_per_joint():
    target = np.zeros((1, 6))
    means = np.array([[[3.0, 4.0, 0.0, 0.0, 0.0, 1.0], [0.0] * 6]])
    sigmas = np.array([[[0.5, 0.25], [2.0, 2.0]]])
    assert np.allclose(metrics.joint_radii(target, means, sigmas, np.array([0])), [[10.0, 4.0]])
    assert np.allclose(metrics.kernel_sigma(np.array([[0.0] + [3.0] * 16, [0.0] + [4.0] * 16])), [3.0, 4.0])


def test_rank_correlation_is_the_correlation_of_ranks_with_ties_shared():
    # b's ranks by hand: 5 -> 0, 6 -> 1, the two 7s share (2 + 3) / 2, 8 -> 4
    expected = np.corrcoef([0, 1, 2, 3, 4], [0, 1, 2.5, 4, 2.5])[0, 1]
    assert metrics.rank_correlation([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(expected)
    assert expected == pytest.approx(0.8207827, abs=1e-7)            # scipy.stats.spearmanr's value
    x = np.random.default_rng(0).normal(size=(50, 8))
    assert metrics.rank_correlation(x, np.exp(3 * x)) == pytest.approx(1.0)     # any increasing relation
    assert metrics.rank_correlation(x, -x ** 3) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="equally long"):
        metrics.rank_correlation([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="finite"):
        metrics.rank_correlation([1, 2, np.nan], [1, 2, 3])


def test_sample_coverage_by_hand():
    # one frame, a fixed root and one joint whose 4 samples lie 3, 1, 1, 3 from their mean; the
    # truth 2 away ranks above 2 of them: u = (2 + 0.5) / (4 + 1) = 0.5
    samples = np.zeros((1, 4, 2, 3))
    samples[0, :, 1, 0] = [-3.0, -1.0, 1.0, 3.0]
    target = np.zeros((1, 2, 3))
    target[0, 1, 0] = 2.0
    assert list(metrics.sample_coverage(samples, target, levels=[0.45, 0.5, 0.55])) == [0.0, 1.0, 1.0]
    # at the centre it ranks first (u = 0.1), beyond every sample last (u = 0.9)
    assert list(metrics.sample_coverage(samples, np.zeros((1, 2, 3)), levels=[0.05, 0.1, 0.9])) == [0.0, 1.0, 1.0]
    assert list(metrics.sample_coverage(samples, target * 10, levels=[0.1, 0.85, 0.9])) == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match=r"expected samples \(N, S, J, 3\) and target \(N, J, 3\)"):
        metrics.sample_coverage(samples, target[:, :1])


def test_sample_coverage_of_a_truth_that_is_one_more_sample():
    rng = np.random.default_rng(3)
    draws = rng.normal(size=(400, 100, 6, 3)) * rng.uniform(1, 50, size=(400, 1, 6, 1))
    draws[:, :, 0] = 0.0                        # a joint that never moves (the root) is left out
    observed = metrics.sample_coverage(draws[:, 1:], draws[:, 0])
    assert np.allclose(observed, metrics.CALIBRATION_LEVELS, atol=0.03)
    assert np.array_equal(observed, metrics.sample_coverage(draws[:, 1:, 1:], draws[:, 0, 1:]))
    narrow = metrics.sample_coverage(draws[:, 1:] / 3, draws[:, 0])
    assert np.all(narrow < metrics.CALIBRATION_LEVELS)                 # a too confident sampler under-covers
    assert metrics.expected_calibration_error(narrow) > 0.3
