"""Mixture NLL and Dirichlet prior against a float64 NumPy reference, and fuzzed for finiteness."""
import math

import numpy as np
import pytest

from mdnlib import losses
from mdnlib.config import import_keras

if import_keras().config.backend() != "tensorflow":     # gradients are taken with tf.GradientTape
    pytest.skip("the loss tests run on the TensorFlow backend", allow_module_level=True)
import tensorflow as tf  # noqa: E402


def reference_nll(y, mu, sigma, alpha):
    """The original TensorFlow 1 loss written out in float64 NumPy, clips included."""
    y, mu, sigma, alpha = (np.asarray(v, dtype=np.float64) for v in (y, mu, sigma, alpha))
    sigma = np.clip(sigma, 1e-15, 1e15)
    alpha = np.clip(alpha, 1e-8, 1.0)
    d = y.shape[-1]
    e = (np.log(alpha) - 0.5 * d * np.log(2 * np.pi) - d * np.log(sigma)
         - ((y[:, None, :] - mu) ** 2).sum(-1) / (2 * sigma ** 2))
    top = e.max(axis=1, keepdims=True)
    return -np.mean(np.log(np.exp(e - top).sum(axis=1)) + top[:, 0])


def random_mixture(rng, batch=6, kernels=5, dim=48):
    y = rng.normal(size=(batch, dim))
    mu = y[:, None] + rng.normal(scale=0.5, size=(batch, kernels, dim))
    sigma = rng.uniform(0.2, 2.0, size=(batch, kernels))
    alpha = rng.dirichlet(np.ones(kernels), size=batch)
    return y, mu, sigma, alpha


def test_single_kernel_at_its_mean_is_the_gaussian_normaliser():
    y = np.zeros((3, 48))
    value = losses.mixture_nll(y, y[:, None], np.ones((3, 1)), np.ones((3, 1)))
    assert float(value) == pytest.approx(24 * math.log(2 * math.pi), rel=1e-6)   # 44.106


def test_float32_tensors_match_the_float64_reference():
    y, mu, sigma, alpha = random_mixture(np.random.default_rng(0))
    expected = reference_nll(y, mu, sigma, alpha)
    args = [tf.constant(v, tf.float32) for v in (y, mu, sigma, alpha)]
    assert float(losses.mixture_nll(*args)) == pytest.approx(expected, rel=1e-5)


def test_float64_numpy_is_computed_in_float64():
    y, mu, sigma, alpha = random_mixture(np.random.default_rng(1))
    value = losses.mixture_nll(y, mu, sigma, alpha)
    assert value.dtype == "float64"
    assert float(value) == pytest.approx(reference_nll(y, mu, sigma, alpha), rel=1e-12)


def test_two_identical_kernels_equal_one():
    y, mu, sigma, _ = random_mixture(np.random.default_rng(2), kernels=1)
    one = losses.mixture_nll(y, mu, sigma, np.ones((6, 1)))
    two = losses.mixture_nll(y, np.repeat(mu, 2, axis=1), np.repeat(sigma, 2, axis=1), np.full((6, 2), 0.5))
    assert float(two) == pytest.approx(float(one), rel=1e-10)


def test_gradient_for_the_means_is_the_analytic_one():
    y, mu, sigma, _ = random_mixture(np.random.default_rng(3), kernels=1)
    mu_t = tf.Variable(mu)
    with tf.GradientTape() as tape:
        value = losses.mixture_nll(y, mu_t, sigma, np.ones((6, 1)))
    expected = -(y[:, None] - mu) / sigma[:, :, None] ** 2 / len(y)
    np.testing.assert_allclose(tape.gradient(value, mu_t).numpy(), expected, rtol=1e-10)


def test_sigma_and_alpha_are_clipped_like_the_original():
    y, mu, sigma, alpha = random_mixture(np.random.default_rng(4))
    sigma[0, 0], alpha[1, :2] = 0.0, 0.0     # 0 -> 1e-15 and 1e-8
    sigma[2, 1] = 1e20                        # -> 1e15
    value = float(losses.mixture_nll(y, mu, sigma, alpha))
    assert np.isfinite(value)
    assert value == pytest.approx(reference_nll(y, mu, sigma, alpha), rel=1e-12)


def test_dirichlet_prior_values():
    uniform = np.full((4, 5), 0.2)
    assert float(losses.dirichlet_prior(uniform)) == pytest.approx(-5 * math.log(0.2))
    assert float(losses.dirichlet_prior(uniform, beta=1.0)) == 0.0
    per_kernel = [2.0, 1.0, 1.0, 1.0, 3.0]
    assert float(losses.dirichlet_prior(uniform, beta=per_kernel)) == pytest.approx(-3 * math.log(0.2))
    collapsed = np.array([[1.0, 0, 0, 0, 0]])            # clipped to 1e-8: a large, finite penalty
    assert float(losses.dirichlet_prior(collapsed)) == pytest.approx(-4 * math.log(1e-8))
    # the prior prefers spread weights: its value is lowest at the uniform alpha
    assert float(losses.dirichlet_prior(uniform)) < float(losses.dirichlet_prior([[0.6, 0.1, 0.1, 0.1, 0.1]]))


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="mu \\(B, M, D\\)"):
        losses.mixture_nll(np.zeros((2, 48)), np.zeros((2, 48)), np.ones((2, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="alpha must be"):
        losses.dirichlet_prior(np.ones(5))


def test_fuzz_extremes_give_finite_loss_and_gradients():
    """Random mixtures with far targets, sigma at its floor or huge, alpha near 0."""
    rng = np.random.default_rng(5)
    for trial in range(60):
        batch, kernels = rng.integers(1, 9), rng.integers(1, 7)
        y = rng.normal(size=(batch, 48)) * 10.0 ** rng.uniform(-2, 2)
        distance = 10.0 ** rng.uniform(-3, 4, size=(batch, kernels, 1))          # up to 1e4 away
        mu = y[:, None] + distance * rng.normal(size=(batch, kernels, 48)) / np.sqrt(48)
        # sigma through the head's activation: raw < -17 gives exactly 0 in float32 -> the floor
        raw_sigma = rng.choice([-40.0, -16.0, -5.0, 0.0, 1e3, 1e15], size=(batch, kernels))
        raw_sigma = raw_sigma * rng.uniform(0.5, 1.0, size=raw_sigma.shape)
        logits = rng.normal(size=(batch, kernels)) * 10.0 ** rng.uniform(0, 3)     # alpha near 0
        y_t, mu_t = tf.constant(y, tf.float32), tf.Variable(mu, dtype=tf.float32)
        raw_t, logits_t = tf.Variable(raw_sigma, dtype=tf.float32), tf.Variable(logits, dtype=tf.float32)
        with tf.GradientTape() as tape:
            sigma = tf.clip_by_value(tf.nn.elu(raw_t) + 1.0, 1e-15, 1e15)
            alpha = tf.clip_by_value(tf.nn.softmax(logits_t), 1e-8, 1.0)
            value = losses.mixture_nll(y_t, mu_t, sigma, alpha) + losses.dirichlet_prior(alpha)
        grads = tape.gradient(value, [mu_t, raw_t, logits_t])
        context = f"trial {trial}: sigma {sigma.numpy().ravel()[:4]}, distance {distance.ravel()[:4]}"
        assert np.isfinite(value.numpy()), context
        for grad in grads:
            assert np.isfinite(grad.numpy()).all(), context
        expected = (reference_nll(y_t.numpy(), mu_t.numpy(), sigma.numpy(), alpha.numpy())
                    + float(losses.dirichlet_prior(alpha.numpy().astype(np.float64))))
        assert float(value) == pytest.approx(expected, rel=1e-4, abs=1e-3), context


def test_fuzz_gradient_with_respect_to_sigma_itself():
    """Sigmas the network can produce (>= 6e-8 in float32) up to the ceiling, far targets."""
    rng = np.random.default_rng(6)
    for trial in range(40):
        y = rng.normal(size=(4, 48))
        mu = y[:, None] + 10.0 ** rng.uniform(-3, 4) * rng.normal(size=(4, 3, 48))
        sigma_t = tf.Variable(10.0 ** rng.uniform(-7, 15, size=(4, 3)), dtype=tf.float32)
        alpha = rng.dirichlet(np.full(3, 0.05), size=4)               # often near 0
        with tf.GradientTape() as tape:
            value = losses.mixture_nll(tf.constant(y, tf.float32), tf.constant(mu, tf.float32), sigma_t,
                                       tf.constant(alpha, tf.float32))
        assert np.isfinite(value.numpy()), trial
        assert np.isfinite(tape.gradient(value, sigma_t).numpy()).all(), trial


def test_one_sigma_per_joint_is_a_diagonal_gaussian_mixture():
    rng = np.random.default_rng(11)
    y, mu, _, alpha = random_mixture(rng, dim=12)
    sigma = rng.uniform(0.2, 2.0, size=(6, 5, 4))                       # 4 joints x 3 coordinates
    per_coordinate = np.repeat(sigma, 3, axis=-1)
    e = (np.log(alpha) - 0.5 * 12 * np.log(2 * np.pi) - np.log(per_coordinate).sum(-1)
         - (((y[:, None, :] - mu) / per_coordinate) ** 2).sum(-1) / 2)
    expected = -np.mean(np.log(np.exp(e).sum(axis=1)))
    assert float(losses.mixture_nll(y, mu, sigma, alpha)) == pytest.approx(expected, rel=1e-10)
    same = np.repeat(sigma[..., :1], 4, axis=-1)                         # equal per joint: the paper's
    assert float(losses.mixture_nll(y, mu, same, alpha)) == pytest.approx(
        float(losses.mixture_nll(y, mu, same[..., 0], alpha)), rel=1e-12)
    with pytest.raises(ValueError, match="one per"):
        losses.mixture_nll(y, mu, sigma[..., :3], alpha)
