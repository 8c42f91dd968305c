"""Exercise checks of notebook 04 (an MDN from scratch): the stable NLL, the floored sigma, sampling."""
import numpy as np

from mdnlib.checks.helpers import call, call_array, exercise, fail, overflow_free, passed


def _mixture_case(dim, batch, kernels, scale, sigma_range, rng):
    rng = np.random.default_rng(rng)
    y = rng.normal(size=(batch, dim))
    mu = y[:, None, :] + scale * rng.normal(size=(batch, kernels, dim))
    sigma = rng.uniform(*sigma_range, size=(batch, kernels))
    alpha = rng.dirichlet(np.ones(kernels), size=batch)
    return y, mu, sigma, alpha


@exercise("mdnlib.losses.mixture_nll")
def check_logsumexp_nll(fn):
    """`fn(y (B, D), mu (B, M, D), sigma (B, M), alpha (B, M)) -> float`: the mean mixture NLL,
    stable for realistic 48-D numbers."""
    from mdnlib import losses

    easy = _mixture_case(2, 8, 3, 0.5, (0.5, 1.5), rng=2)
    hard = _mixture_case(48, 16, 5, 3.0, (0.05, 0.3), rng=3)
    for name, case in (("a small 2-D example", easy), ("realistic 48-D numbers", hard)):
        expected = float(losses.mixture_nll(*case))
        value = call(fn, *(np.array(v) for v in case))
        got = np.asarray(value, dtype=float)
        if got.shape not in ((), (1,)):
            fail(f"return one number, the mean NLL over the batch; yours has shape {got.shape}")
        got = float(got.reshape(()))
        if np.isclose(got, expected, rtol=1e-6, atol=1e-6):
            continue
        batch, dim = case[0].shape
        if not np.isfinite(got):
            fail(f"on {name} your NLL is {got}: exp() of very negative exponents underflows to 0 "
                  "and log(0) = -inf. Subtract the largest exponent before exp (log-sum-exp): "
                  "log sum exp(e_k) = m + log sum exp(e_k - m), m = max_k e_k")
        if np.isclose(got, -expected, rtol=1e-6):
            fail("the sign is flipped: the loss is the NEGATIVE log-likelihood")
        if np.isclose(got, batch * expected, rtol=1e-6):
            fail("average over the batch instead of summing")
        if np.isclose(got, expected - 0.5 * dim * np.log(2 * np.pi), rtol=1e-6):
            fail("you left out the normalising constant - D/2 log(2 pi) of each Gaussian")
        fail(f"on {name} the NLL is {expected:.6g}, yours is {got:.6g}. Per kernel: e_k = "
              "log(alpha_k) - D/2 log(2 pi) - D log(sigma_k) - |y - mu_k|^2 / (2 sigma_k^2); "
              "NLL = - mean over the batch of logsumexp_k(e_k)")
    passed("your NLL matches mdnlib.losses.mixture_nll, also on 48-D numbers where the naive "
            "formula gives inf")


@exercise()
def check_sigma_activation(fn, floor=1e-3):
    """`fn(raw (N,)) -> sigma (N,)`: a positive, finite, increasing map with a floor (ELU + 1 + floor)."""
    raw = np.array([-1e4, -50.0, -5.0, -1.0, 0.0, 1.0, 5.0, 50.0, 1e4])
    with np.errstate(invalid="ignore"):
        got = call_array(overflow_free(fn, "your sigma is not finite for large inputs: exp overflows"),
                      raw.copy(), shape=raw.shape)
    if not np.all(np.isfinite(got)):
        fail(f"your sigma is not finite for large inputs ({got[~np.isfinite(got)]}): exp overflows; "
              "ELU(x) + 1 grows only linearly")
    if np.any(got <= 0):
        fail("your sigma can reach 0: add a floor, e.g. ELU(x) + 1 + 1e-3, so that log(sigma) "
              "and 1/sigma^2 stay finite for very negative inputs")
    if np.any(got < floor * (1 - 1e-6)):
        fail(f"your sigma goes down to {got.min():.3g}: keep it at least {floor} (the floor), or "
              "the loss can reward a kernel for shrinking onto one training point")
    if np.any(np.diff(got) < 0):
        fail("your sigma is not increasing in its input: use a monotonic map such as ELU(x) + 1")
    if not np.isclose(got[4], 1.0 + floor, rtol=1e-3):
        fail(f"at 0 your sigma is {got[4]:.4g}; ELU(0) + 1 + floor = {1 + floor}")
    passed("your sigma is positive, finite, increasing and floored")


@exercise("mdnlib.toy.sample_mixture")
def check_sample_mixture(fn):
    """`fn(mu (N, M), sigma (N, M), alpha (N, M), rng) -> (N,)`: one sample per row."""
    n = 20000
    mu = np.tile([-3.0, 0.0, 4.0], (n, 1))
    sigma = np.tile([0.2, 0.3, 0.4], (n, 1))
    alpha = np.tile([0.2, 0.3, 0.5], (n, 1))
    got = call_array(fn, mu, sigma, alpha, np.random.default_rng(4))
    if got.ndim == 2 and got.shape[1] == 1:
        got = got[:, 0]
    if got.shape != (n,):
        fail(f"return one sample per row, shape ({n},); yours has shape {got.shape}")
    if np.allclose(got, (alpha * mu).sum(axis=1)):
        fail("all your samples sit at the weighted mean sum_k alpha_k mu_k, where the mixture "
              "has almost no mass: first draw ONE kernel k with probabilities alpha, then sample it")
    if np.allclose(got, 4.0, atol=2.0):
        fail("you always pick the heaviest kernel: draw the kernel at random with probabilities alpha")
    if np.isin(got, mu[0]).mean() > 0.99:
        fail("your samples have no spread: add sigma_k times a standard normal number")
    nearest = np.argmin(np.abs(got[:, None] - mu[0]), axis=1)
    shares = np.bincount(nearest, minlength=3) / n
    if not np.allclose(shares, alpha[0], atol=0.02):
        fail(f"kernels were drawn with frequencies {shares.round(3)}, expected alpha = {alpha[0]}")
    spread = np.array([got[nearest == k].std() for k in range(3)])
    if not np.allclose(spread, sigma[0], rtol=0.1):
        fail(f"the spread around each kernel is {spread.round(3)}, expected sigma = {sigma[0]}: "
              "sample mu_k + sigma_k * N(0, 1)")
    passed("kernel frequencies and spreads match alpha and sigma")
