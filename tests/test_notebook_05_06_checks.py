"""Notebooks 05 and 06: every exercise check passes on the reference solution, fails on the
student stub and on typical mistakes with the message that names them."""
import numpy as np
import pytest

from mdnlib import checks, metrics
from mdnlib.checks import nb06


def stub(*args):
    raise NotImplementedError()


def returns_none(*args):
    return None


# --- notebook 05: the mixture head ------------------------------------------------------------

def elu_plus_one(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))) + 1.0


def softmax(x, axis=-1):
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def mixture_head(mean_raw, sigma_raw, alpha_raw):
    batch, kernels = sigma_raw.shape
    mu = mean_raw.reshape(batch, -1, kernels).transpose(0, 2, 1)
    sigma = np.clip(elu_plus_one(sigma_raw), 1e-15, 1e15)
    alpha = np.clip(softmax(alpha_raw), 1e-8, 1.0)
    return mu, sigma, alpha


def head_with(mu=None, sigma=None, alpha=None):
    """The reference head with one part replaced by a typical mistake."""
    def fn(mean_raw, sigma_raw, alpha_raw):
        good = mixture_head(mean_raw, sigma_raw, alpha_raw)
        return tuple(good[i] if part is None else part(mean_raw, sigma_raw, alpha_raw)
                     for i, part in enumerate((mu, sigma, alpha)))
    return fn


def test_check_mixture_head(capsys):
    checks.check_mixture_head(mixture_head)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_mixture_head(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_mixture_head(returns_none)
    wrong = {
        "wrong layout": head_with(mu=lambda m, s, a: m.reshape(len(s), s.shape[1], -1)),
        "ELU": head_with(sigma=lambda m, s, a: np.exp(s)),
        "0 or negative": head_with(sigma=lambda m, s, a: np.where(s > 0, s, np.expm1(s))),
        "over the batch": head_with(alpha=lambda m, s, a: softmax(a, axis=0)),
        "sum to 1": head_with(alpha=lambda m, s, a: a),
        "1e-15": head_with(sigma=lambda m, s, a: elu_plus_one(s)),
        "np.minimum": head_with(sigma=lambda m, s, a: np.clip(np.where(s > 0, s, np.exp(s) - 1) + 1, 1e-15, 1e15)),
        "1e-8": head_with(alpha=lambda m, s, a: softmax(a)),
        "not finite": head_with(alpha=lambda m, s, a: np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True)),
    }
    for message, fn in wrong.items():
        with pytest.raises(AssertionError, match=message):
            checks.check_mixture_head(fn)


# --- notebook 05: kernel usage ----------------------------------------------------------------

def kernels_in_use(alphas, threshold=0.05):
    return np.sum(alphas > threshold, axis=-1)


def test_check_kernels_in_use(capsys):
    checks.check_kernels_in_use(kernels_in_use)
    out = capsys.readouterr().out
    assert out.startswith("passed")
    rng = np.random.default_rng(10)      # the check's own weights: mean count = kernel usage
    alphas = rng.dirichlet([3.0, 1.0, 0.3, 0.1, 0.05], size=40)
    assert f"{metrics.kernel_usage(alphas, 0.05):.2f} kernels" in out
    with pytest.raises(NotImplementedError):
        checks.check_kernels_in_use(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_kernels_in_use(returns_none)
    wrong = {
        "one count per example": lambda a, t: np.mean(np.sum(a > t, axis=-1)),
        "per kernel": lambda a, t: np.sum(a > t, axis=0),
        "unused kernels": lambda a, t: np.sum(a <= t, axis=-1),
        "summed the weights": lambda a, t: np.sum(np.where(a > t, a, 0.0), axis=-1),
        "your count is": lambda a, t: np.sum(a > 2 * t, axis=-1),
    }
    for message, fn in wrong.items():
        with pytest.raises(AssertionError, match=message):
            checks.check_kernels_in_use(fn)


# --- notebook 06: Procrustes ------------------------------------------------------------------

def procrustes(pred, gt):
    mu_p, mu_g = pred.mean(axis=1, keepdims=True), gt.mean(axis=1, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    u, s, vt = np.linalg.svd(np.transpose(p, (0, 2, 1)) @ g)
    d = np.sign(np.linalg.det(u @ vt))
    u[:, :, -1] *= d[:, None]
    s[:, -1] *= d
    scale = s.sum(axis=1) / np.sum(p ** 2, axis=(1, 2))
    return scale[:, None, None] * (p @ (u @ vt)) + mu_g


def procrustes_with_reflection(pred, gt):
    mu_p, mu_g = pred.mean(axis=1, keepdims=True), gt.mean(axis=1, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    u, s, vt = np.linalg.svd(np.transpose(p, (0, 2, 1)) @ g)
    scale = s.sum(axis=1) / np.sum(p ** 2, axis=(1, 2))
    return scale[:, None, None] * (p @ (u @ vt)) + mu_g


def test_check_procrustes(capsys):
    checks.check_procrustes(procrustes)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_procrustes(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_procrustes(returns_none)
    wrong = {
        "REFLECTION": procrustes_with_reflection,
        "scale is missing": lambda p, g: nb06._align_variant(p, g, scale=False),
        "centred at the origin": lambda p, g: nb06._align_variant(p, g, translate=False),
        "transposed": lambda p, g: nb06._align_variant(p, g, transpose=True),
        "nothing changed": lambda p, g: p,
        "closer to the ground truth": lambda p, g: g,
    }
    for message, fn in wrong.items():
        with pytest.raises(AssertionError, match=message):
            checks.check_procrustes(fn)


def test_the_procrustes_case_needs_the_reflection_fix():
    pred, gt = nb06._procrustes_case()
    fixed = metrics.mpjpe(procrustes(pred, gt), gt)
    mirrored = metrics.mpjpe(procrustes_with_reflection(pred, gt), gt)
    assert mirrored[-1] < 1e-6 < fixed[-1]             # a reflection "explains" the mirror image
    np.testing.assert_allclose(fixed[:-1], mirrored[:-1])


# --- notebook 06: best of M and the most likely hypothesis ------------------------------------

def best_and_most_likely(errors, alphas):
    return errors.min(axis=1), errors[np.arange(len(errors)), alphas.argmax(axis=1)]


def test_check_best_and_most_likely(capsys):
    checks.check_best_and_most_likely(best_and_most_likely)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_best_and_most_likely(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_best_and_most_likely(returns_none)
    rows = lambda e: np.arange(len(e))  # noqa: E731
    wrong = {
        "MINIMUM": lambda e, a: (e.mean(axis=1), best_and_most_likely(e, a)[1]),
        "not weighted": lambda e, a: ((a * e).sum(axis=1), best_and_most_likely(e, a)[1]),
        "one error per example": lambda e, a: (e.min(axis=0), e.min(axis=0)),
        "whether or not": lambda e, a: (e.min(axis=1), e.min(axis=1)),
        "SMALLEST weight": lambda e, a: (e.min(axis=1), e[rows(e), a.argmin(axis=1)]),
        "largest error": lambda e, a: (e.min(axis=1), e.max(axis=1)),
    }
    for message, fn in wrong.items():
        with pytest.raises(AssertionError, match=message):
            checks.check_best_and_most_likely(fn)


# --- notebook 06: calibration -----------------------------------------------------------------

def coverage_and_ece(radii, levels):
    coverage = np.array([np.mean(radii <= metrics.chi3_quantile(p)) for p in levels])
    return coverage, np.mean(np.abs(coverage - levels))


def test_check_calibration_ece(capsys):
    checks.check_calibration_ece(coverage_and_ece)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_calibration_ece(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_calibration_ece(returns_none)

    def with_coverage(inside):
        return lambda r, levels: (np.array([inside(r, p) for p in levels]), 0.0)

    def with_ece(summary):
        def fn(r, levels):
            coverage = coverage_and_ece(r, levels)[0]
            return coverage, summary(coverage - levels)
        return fn

    wrong = {
        "chi3_quantile": with_coverage(lambda r, p: np.mean(r <= p)),
        "not a count": with_coverage(lambda r, p: np.sum(r <= metrics.chi3_quantile(p))),
        "OUTSIDE": with_coverage(lambda r, p: np.mean(r > metrics.chi3_quantile(p))),
        "ABSOLUTE": with_ece(np.mean),
        "largest gap": with_ece(lambda gaps: np.abs(gaps).max()),
        "root-mean-square": with_ece(lambda gaps: np.sqrt(np.mean(gaps ** 2))),
    }
    for message, fn in wrong.items():
        with pytest.raises(AssertionError, match=message):
            checks.check_calibration_ece(fn)


# --- figures of notebooks 05 and 06 -----------------------------------------------------------

def test_plot_kernel_usage_draws_mean_weights_and_counts():
    import matplotlib
    matplotlib.use("Agg")
    from mdnlib import viz

    alphas = np.array([[0.7, 0.3, 0.0], [0.5, 0.46, 0.04], [0.96, 0.02, 0.02]])
    fig = viz.plot_kernel_usage({"model": alphas})
    weights, counts = fig.axes
    np.testing.assert_allclose([bar.get_height() for bar in weights.patches], alphas.mean(axis=0))
    np.testing.assert_allclose([bar.get_height() for bar in counts.patches], [100 / 3, 200 / 3, 0.0])
    assert "1.67 on average" in counts.get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match="no models"):
        viz.plot_kernel_usage({})


def test_plot_reliability_and_grouped_bars():
    import matplotlib
    matplotlib.use("Agg")
    from mdnlib import viz

    result = {"levels": metrics.CALIBRATION_LEVELS, "observed": metrics.CALIBRATION_LEVELS ** 2, "ece": 0.123}
    ax = viz.plot_reliability({"model": result}).axes[0]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), result["observed"])
    assert "ECE 0.123" in ax.get_legend().get_texts()[1].get_text()
    # notebook 06's colour convention: each way of choosing a kernel keeps its colour
    ax = viz.plot_reliability({"likely": result, "best": result, "other": result},
                              colors={"likely": "tab:orange", "best": "tab:green"}).axes[0]
    assert [line.get_color() for line in ax.lines[1:3]] == ["tab:orange", "tab:green"]
    assert ax.lines[3].get_color() not in ("tab:orange", "tab:green", "#ff7f0e", "#2ca02c")
    fig = viz.plot_grouped_bars({"a": [1.0, 2.0], "b": [3.0, 4.0]}, ["x", "y"], "mm", "title")
    assert [bar.get_height() for bar in fig.axes[0].patches] == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match="one value per label"):
        viz.plot_grouped_bars({"a": [1.0]}, ["x", "y"], "mm", "title")
