"""Every check names its exercise when the stub is still there, and fails an answer that merely
calls the mdnlib reference it compares with, unless the teacher allows it (MDNLIB_ALLOW_REFERENCE)."""
import numpy as np
import pytest

from mdnlib import camera, checks, dataset, hypotheses, losses, metrics, models, toy
from mdnlib.checks import helpers


def mixture_head(mean_raw, sigma_raw, alpha_raw):
    """Notebook 05's answer, after building mdnlib's head (which is what gives it away)."""
    from mdnlib import models
    batch, kernels = sigma_raw.shape
    models.MixtureHead(num_kernels=kernels)
    mu = mean_raw.reshape(batch, -1, kernels).transpose(0, 2, 1)
    sigma = np.clip(np.where(sigma_raw > 0, sigma_raw, np.expm1(np.minimum(sigma_raw, 0.0))) + 1.0, 1e-15, 1e15)
    shifted = np.exp(alpha_raw - alpha_raw.max(axis=-1, keepdims=True))
    return mu, sigma, np.clip(shifted / shifted.sum(axis=-1, keepdims=True), 1e-8, 1.0)


def root_centre(poses):
    dataset.camera_frame_arrays(checks.nb02._small_poseset(), ["S1"])
    return poses - poses[:, :1]


def zscore(train, test):
    normalizer = dataset.Normalizer(mean_2d=train.mean(axis=0), std_2d=train.std(axis=0))
    return normalizer.normalize_2d(train.reshape(-1, 16, 2)), normalizer.normalize_2d(test.reshape(-1, 16, 2))


def coverage_and_ece(radii, levels):
    observed = metrics.coverage(radii, levels)
    return observed, metrics.expected_calibration_error(observed, levels)


# check -> (an answer that calls the reference, the reference the message must name)
DELEGATING = {
    "check_project": (lambda points, f, c: camera.Camera(R=np.eye(3), T=np.zeros(3), f=f, c=c).project_camera(points),
                      "mdnlib.camera.Camera.project_camera"),
    "check_bone_candidates": (lambda ray, parent, length: toy.bone_candidates(ray, parent, length),
                              "mdnlib.toy.bone_candidates"),
    "check_root_centre": (root_centre, "mdnlib.dataset.camera_frame_arrays"),
    "check_zscore": (zscore, "mdnlib.dataset.Normalizer"),
    "check_mpjpe": (lambda pred, gt: metrics.mpjpe(pred, gt), "mdnlib.metrics.mpjpe"),
    "check_logsumexp_nll": (lambda *case: losses.mixture_nll(*case), "mdnlib.losses.mixture_nll"),
    "check_sample_mixture": (lambda mu, sigma, alpha, rng: toy.sample_mixture(mu, sigma, alpha, rng)[0],
                             "mdnlib.toy.sample_mixture"),
    "check_mixture_head": (mixture_head, "mdnlib.models.MixtureHead"),
    "check_kernels_in_use": (lambda alphas, threshold: metrics.kernel_usage(alphas[:, None], threshold),
                             "mdnlib.metrics.kernel_usage"),
    "check_procrustes": (lambda pred, gt: metrics.procrustes_align(pred, gt), "mdnlib.metrics.procrustes_align"),
    "check_best_and_most_likely": (lambda errors, alphas: (metrics.best_of_m(errors),
                                                           errors[np.arange(len(errors)), alphas.argmax(axis=1)]),
                                   "mdnlib.metrics.best_of_m"),
    "check_calibration_ece": (coverage_and_ece, "mdnlib.metrics.coverage"),
    "check_depth_spread": (lambda hyps, weights: hypotheses.depth_spread(hyps, weights),
                           "mdnlib.hypotheses.depth_spread"),
    "check_choose_multiview": (lambda world_hyps: hypotheses.choose_multiview(world_hyps),
                               "mdnlib.hypotheses.choose_multiview"),
    "check_flow_path": (lambda noise, pose, t: models.flow_path(noise, pose, t), "mdnlib.models.flow_path"),
    "check_heun_step": (lambda velocity, pose, t, dt: models.heun_step(velocity, pose, t, dt),
                        "mdnlib.models.heun_step"),
}
# These two exercises have no single mdnlib function to copy: 03 builds on toy.bone_candidates.
NOT_WATCHED = {"check_averaged_bone_length", "check_sigma_activation"}


def test_every_check_is_covered():
    assert set(DELEGATING) | NOT_WATCHED == set(checks.__all__)


@pytest.mark.parametrize("name", checks.__all__)
def test_a_stub_names_its_exercise_and_notebook(name):
    def my_exercise(*args):
        raise NotImplementedError()
    check = getattr(checks, name)
    notebook = check.__module__.rsplit(".nb", 1)[-1]
    with pytest.raises(NotImplementedError, match=rf"exercise `my_exercise` of notebook {notebook} is not done"):
        check(my_exercise)


def test_a_learner_message_is_kept():
    def mine(*args):
        raise NotImplementedError("only for 2-D points")
    with pytest.raises(NotImplementedError, match="^only for 2-D points$"):
        checks.check_project(mine)


@pytest.mark.parametrize("name", sorted(DELEGATING))
def test_calling_the_reference_fails_unless_allowed(name, monkeypatch, capsys):
    answer, reference = DELEGATING[name]
    monkeypatch.delenv(helpers.ALLOW_REFERENCE_ENV, raising=False)
    with pytest.raises(AssertionError, match=rf"calls {reference}, the mdnlib code this check compares"):
        getattr(checks, name)(answer)
    if name == "check_kernels_in_use":
        return   # the mean over examples is no count per example: wrong anyway
    monkeypatch.setenv(helpers.ALLOW_REFERENCE_ENV, "1")
    getattr(checks, name)(answer)
    assert capsys.readouterr().out.startswith("passed")


def test_the_watch_ends_with_the_call(monkeypatch):
    """After the learner's function returns, the reference is free again and no profiler is left."""
    import sys
    monkeypatch.delenv(helpers.ALLOW_REFERENCE_ENV, raising=False)
    with pytest.raises(AssertionError):
        checks.check_mpjpe(lambda pred, gt: metrics.mpjpe(pred, gt))
    assert sys.getprofile() is None
    checks.check_mpjpe(lambda pred, gt: np.linalg.norm(pred - gt, axis=-1).mean(axis=-1))
