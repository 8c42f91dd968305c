"""Exercise checks of notebook 05 (the MDN for pose): the mixture head and the kernels in use."""
import numpy as np

from mdnlib.checks.helpers import call, exercise, fail, overflow_free, passed


def _mixture_head_case():
    """Raw outputs of a small `mdnlib.models.MixtureHead` (M = 5) on random features, and the
    head's own mixture for the same features."""
    from mdnlib import models

    rng = np.random.default_rng(9)
    head = models.MixtureHead(num_kernels=5, name="check_head")
    features = rng.normal(0.0, 2.0, (6, 24)).astype(np.float32)
    head.build(features.shape)
    for layer in (head.means, head.sigmas, head.mixing):     # fixed weights, no global seeding
        layer.set_weights([rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in layer.weights])
    raw = tuple(np.asarray(layer(features), dtype=np.float64)
                for layer in (head.means, head.sigmas, head.mixing))
    expected = {key: np.asarray(value, dtype=np.float64) for key, value in head(features).items()}
    return raw, expected


@exercise("mdnlib.models.MixtureHead")
def check_mixture_head(fn):
    """`fn(mean_raw (B, 48 M), sigma_raw (B, M), alpha_raw (B, M)) -> (mu (B, M, 48), sigma (B, M),
    alpha (B, M))`: the three linear outputs of the head turned into a mixture, as
    `mdnlib.models.MixtureHead` does (original layout, ELU + 1 clipped to [1e-15, 1e15], softmax
    clipped to [1e-8, 1])."""
    (mean_raw, sigma_raw, alpha_raw), expected = _mixture_head_case()
    batch, kernels = sigma_raw.shape
    value = call(fn, mean_raw.copy(), sigma_raw.copy(), alpha_raw.copy())
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        fail("return three arrays, (mu, sigma, alpha)")
    mu, sigma, alpha = (np.asarray(v, dtype=float) for v in value)
    for name, got, want in (("mu", mu, expected["mu"]), ("sigma", sigma, expected["sigma"]),
                            ("alpha", alpha, expected["alpha"])):
        if got.shape != want.shape:
            fail(f"{name} has shape {got.shape}, expected {want.shape}")
    if not np.allclose(mu, expected["mu"], rtol=1e-4, atol=1e-5):
        if np.allclose(mu, mean_raw.reshape(batch, kernels, -1), rtol=1e-4, atol=1e-5):
            fail("mu is in the wrong layout: output j of the means layer is coordinate j // M of "
                  "kernel j % M (the original code's layout), so reshape to (B, 48, M) and then "
                  "swap the last two axes")
        fail("mu differs from mdnlib's: the means are the linear outputs themselves, "
              "reshaped to (B, 48, M) and transposed to (B, M, 48)")
    if not np.allclose(sigma, expected["sigma"], rtol=1e-4, atol=1e-6):
        if np.allclose(sigma, np.exp(sigma_raw), rtol=1e-4):
            fail("exp(x) grows so fast that one large input overflows the loss: the paper uses "
                  "ELU(x) + 1, positive and only linear for large x")
        if np.any(sigma <= 0):
            fail("your sigma can be 0 or negative: use ELU(x) + 1 (ELU(x) = x for x > 0, "
                  "exp(x) - 1 otherwise), clipped to at least 1e-15")
        fail("sigma differs from ELU(x) + 1 clipped to [1e-15, 1e15]")
    if not np.allclose(alpha, expected["alpha"], rtol=1e-4, atol=1e-7):
        if np.allclose(alpha.sum(axis=0), 1.0, atol=1e-6):
            fail("your weights sum to 1 over the batch: take the softmax over the kernels, the "
                  "last axis (axis=-1), separately for every example")
        if not np.allclose(alpha.sum(axis=-1), 1.0, atol=1e-4):
            fail("your mixing weights do not sum to 1 over the kernels: apply a softmax, "
                  "exp(x_k - max x) / sum_j exp(x_j - max x)")
        fail("alpha differs from the softmax over the kernels, clipped to [1e-8, 1]")
    extreme = np.array([[-1e4, -40.0, 0.0, 40.0, 1e4]])
    overflow = ("for raw inputs of +-1e4 your sigma or alpha is not finite: exp() overflows; in the "
                "softmax subtract the largest input before np.exp")
    with np.errstate(invalid="ignore", under="ignore"):
        value = overflow_free(fn, overflow)(np.zeros((1, 48 * 5)), extreme,
                                             np.array([[-1e4, 0.0, 0.0, 0.0, 1e4]]))
    sigma, alpha = np.asarray(value[1], dtype=float), np.asarray(value[2], dtype=float)
    if not np.all(np.isfinite(sigma)) or not np.all(np.isfinite(alpha)):
        fail("for raw inputs of +-1e4 your sigma or alpha is not finite: exp() overflows. For ELU "
              "use exp only of min(x, 0); for the softmax subtract the largest input first")
    if sigma.min() < 1e-15:
        fail(f"your sigma reaches {sigma.min():.3g} for a very negative input: clip it to at "
              "least 1e-15, the paper's floor, or log(sigma) and 1/sigma^2 blow up")
    if alpha.min() < 1e-8:
        fail(f"a mixing weight reaches {alpha.min():.3g}: clip alpha to at least 1e-8, as the "
              "paper does, so that log(alpha) stays finite")
    passed("your mixture matches mdnlib.models.MixtureHead, extreme inputs included")


@exercise("mdnlib.metrics.kernel_usage")
def check_kernels_in_use(fn):
    """`fn(alphas (N, M), threshold) -> (N,)`: per example, the number of kernels whose weight
    exceeds the threshold; its mean is `mdnlib.metrics.kernel_usage`."""
    from mdnlib import metrics

    rng = np.random.default_rng(10)
    alphas = rng.dirichlet([3.0, 1.0, 0.3, 0.1, 0.05], size=40)
    threshold = 0.05
    expected = np.sum(alphas > threshold, axis=-1)
    value = call(fn, alphas.copy(), threshold)
    got = np.asarray(value, dtype=float)
    if got.size == 1:
        fail("return one count per example, shape (N,): the histogram needs them; their mean "
              "is the kernel usage")
    if got.shape == (alphas.shape[1],):
        fail("you counted per kernel (over the examples, axis 0); count per example, over the "
              "kernels (axis=-1)")
    if got.shape != expected.shape:
        fail(f"{fn.__name__} returned shape {got.shape}, expected {expected.shape}")
    if np.array_equal(got, expected):
        return passed(f"your counts match (on the check's weights their mean is "
                       f"{metrics.kernel_usage(alphas, threshold):.2f} kernels, as mdnlib.metrics.kernel_usage)")
    if np.array_equal(got, alphas.shape[1] - expected):
        fail("you counted the unused kernels: count those whose weight is ABOVE the threshold")
    if np.allclose(got, np.sum(np.where(alphas > threshold, alphas, 0.0), axis=-1)):
        fail("you summed the weights of the kernels in use; count them instead (one per kernel)")
    fail(f"the first example has weights {alphas[0].round(3)}: {expected[0]} of them exceed "
          f"{threshold}, your count is {got[0]:g}")
