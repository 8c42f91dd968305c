"""The loss of the mixture density network (notebook 04): mixture NLL and Dirichlet prior.

Both functions compute exactly what the original TensorFlow 1 code computes, clips included, so
a value here can be compared with the original. They take NumPy arrays or tensors (through
`keras.ops`, so they also work inside a Keras training step) and return a scalar tensor; a
NumPy float64 input is computed in float64.

Numerical range. The Gaussian log-density is formed in the log domain and combined with a
max-shifted log-sum-exp, so a target far from every mean, a sigma at its floor or its ceiling,
or a mixing weight of 0 give a finite loss as long as the squared distance divided by
2 sigma^2 fits in the float type (in float32 at the floor sigma = 1e-15: a distance below
about 2.6e4 normalised units). Its gradient stays finite for every sigma a network produces:
in float32 `ELU(x) + 1` is either at least 6e-8 or exactly 0, and 0 is lifted to the floor by
`clip`, whose gradient outside the range is exactly 0 on every backend (at the floor the
loss's own gradient overflows, and a clip computed as a product would turn inf x 0 into NaN).
"""
import math

import numpy as np

from mdnlib.config import import_keras

ops = import_keras().ops

SIGMA_MIN, SIGMA_MAX = 1e-15, 1e15     # sigma clip of the original loss
ALPHA_MIN, ALPHA_MAX = 1e-8, 1.0       # mixing-coefficient clip of the original loss


def clip(x, low, high):
    """`x` limited to [low, high], with a gradient of exactly 0 outside the range (a selection,
    not a product, so an infinite gradient arriving from the loss cannot become NaN)."""
    return ops.where(x < low, low, ops.where(x > high, high, x))


def _as_tensor(value, dtype=None):
    if dtype is None and isinstance(value, np.ndarray) and value.dtype != np.float64:
        dtype = "float32"
    return ops.convert_to_tensor(value, dtype=dtype)


def mixture_log_likelihood(y, mu, sigma, alpha):
    """Per-example log-likelihood (B,) of `y` (B, D) under an isotropic Gaussian mixture.

    `mu` (B, M, D) kernel means, `sigma` (B, M) one standard deviation per kernel, `alpha`
    (B, M) mixing coefficients. For each kernel
    `e_k = log(alpha_k) - D/2 log(2 pi) - D log(sigma_k) - ||y - mu_k||^2 / (2 sigma_k^2)`,
    and the result is logsumexp_k(e_k). Sigma and alpha are clipped as in the original code.
    Beyond the paper, `sigma` may be (B, M, J), one sigma per kernel and joint (D = 3J,
    coordinates joint after joint): then D log(sigma_k) becomes 3 sum_j log(sigma_kj) and each
    joint's squared distance is divided by its own 2 sigma_kj^2.
    """
    y = _as_tensor(y)
    mu, sigma, alpha = (_as_tensor(v, dtype=y.dtype) for v in (mu, sigma, alpha))
    _check_shapes(y, mu, sigma, alpha)
    dim = y.shape[-1]
    sigma = clip(sigma, SIGMA_MIN, SIGMA_MAX)
    alpha = clip(alpha, ALPHA_MIN, ALPHA_MAX)
    squared = ops.square(ops.expand_dims(y, 1) - mu)                                  # (B, M, D)
    if len(sigma.shape) == 3:                                   # one sigma per kernel and joint
        joint_squared = ops.sum(ops.reshape(squared, (-1, mu.shape[1], dim // 3, 3)), axis=-1)
        log_norm = 3.0 * ops.sum(ops.log(sigma), axis=-1)                                # (B, M)
        scaled_distance = ops.sum(joint_squared / (2.0 * ops.square(sigma)), axis=-1)
    else:
        log_norm = dim * ops.log(sigma)
        scaled_distance = ops.sum(squared, axis=-1) / (2.0 * ops.square(sigma))
    exponent = ops.log(alpha) - 0.5 * dim * math.log(2.0 * math.pi) - log_norm - scaled_distance
    return ops.logsumexp(exponent, axis=-1)


def mixture_nll(y, mu, sigma, alpha):
    """Mean over the batch of the mixture's negative log-likelihood, a scalar."""
    return -ops.mean(mixture_log_likelihood(y, mu, sigma, alpha))


def dirichlet_prior(alpha, beta=2.0):
    """Dirichlet conjugate prior on the mixing coefficients, as a loss term (scalar).

    `-mean over batch of sum_k (beta_k - 1) log(alpha_k)`, alpha clipped to [1e-8, 1]. With
    beta > 1 it rewards spreading the weight over the kernels (the paper uses beta = 2 for
    every kernel); beta = 1 switches it off (the paper's "without prior" model). `beta` is a
    number or one value per kernel.
    """
    alpha = _as_tensor(alpha)
    if len(alpha.shape) != 2:
        raise ValueError(f"alpha must be (B, M), got shape {tuple(alpha.shape)}")
    alpha = clip(alpha, ALPHA_MIN, ALPHA_MAX)
    beta = ops.cast(ops.convert_to_tensor(beta), alpha.dtype)
    return -ops.mean(ops.sum((beta - 1.0) * ops.log(alpha), axis=-1))


def _check_shapes(y, mu, sigma, alpha):
    def same(a, b):          # sizes unknown while tracing (None) are not checked
        return a is None or b is None or a == b

    per_joint = len(sigma.shape) == 3
    ok = (len(y.shape) == 2 and len(mu.shape) == 3 and len(sigma.shape) in (2, 3)
          and len(alpha.shape) == 2 and same(mu.shape[2], y.shape[1])
          and all(same(a, b) for a, b in zip(mu.shape[:2], sigma.shape))
          and all(same(a, b) for a, b in zip(alpha.shape, sigma.shape))
          and same(y.shape[0], sigma.shape[0])
          and (not per_joint or (y.shape[1] is not None and same(3 * sigma.shape[2], y.shape[1]))))
    if not ok:
        raise ValueError(
            "mixture shapes must be y (B, D), mu (B, M, D), sigma (B, M) or (B, M, D/3) (one per "
            f"joint), alpha (B, M); got y {tuple(y.shape)}, mu {tuple(mu.shape)}, sigma "
            f"{tuple(sigma.shape)}, alpha {tuple(alpha.shape)}")
