"""Every exercise check passes on a solution, fails on the student stub and on typical mistakes,
with the teaching message that names the mistake."""
import numpy as np
import pytest

from mdnlib import checks


def stub(*args):
    raise NotImplementedError()


def returns_none(*args):
    return None


# --- notebook 01: projection -----------------------------------------------------------------

def project(points, f, c):
    return f * points[:, :2] / points[:, 2:] + c


def project_no_depth(points, f, c):
    return f * points[:, :2] + c


def project_no_centre(points, f, c):
    return f * points[:, :2] / points[:, 2:]


def project_swapped(points, f, c):
    return (f * points[:, :2] / points[:, 2:] + c)[:, ::-1]


def test_check_project(capsys):
    checks.check_project(project)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_project(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_project(returns_none)
    with pytest.raises(AssertionError, match="divide by depth"):
        checks.check_project(project_no_depth)
    with pytest.raises(AssertionError, match="principal point c"):
        checks.check_project(project_no_centre)
    with pytest.raises(AssertionError, match="columns swapped"):
        checks.check_project(project_swapped)


# --- notebook 01: the two candidates of a bone -----------------------------------------------

def candidates(ray, parent, length):
    a, b = ray @ ray, ray @ parent
    root = np.sqrt(b * b - a * (parent @ parent - length ** 2))
    return np.array([(b - root) / a * ray, (b + root) / a * ray])


def candidates_unit_ray_assumed(ray, parent, length):
    b = ray @ parent
    root = np.sqrt(b * b - (parent @ parent - length ** 2))
    return np.array([(b - root) * ray, (b + root) * ray])


def candidates_no_square_root(ray, parent, length):
    a, b = ray @ ray, ray @ parent
    root = b * b - a * (parent @ parent - length ** 2)
    return np.array([(b - root) / a * ray, (b + root) / a * ray])


def candidates_far_first(ray, parent, length):
    return candidates(ray, parent, length)[::-1]


def candidates_one_root(ray, parent, length):
    return np.array([candidates(ray, parent, length)[0]] * 2)


def candidates_offset_from_parent(ray, parent, length):
    return parent + length * np.array([-ray, ray]) / np.linalg.norm(ray)


def test_check_bone_candidates(capsys):
    checks.check_bone_candidates(candidates)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_bone_candidates(stub)
    with pytest.raises(AssertionError, match="shape"):
        checks.check_bone_candidates(lambda ray, parent, length: candidates(ray, parent, length)[0])
    with pytest.raises(AssertionError, match="not a unit vector"):
        checks.check_bone_candidates(candidates_unit_ray_assumed)
    with pytest.raises(AssertionError, match="forget the square root"):
        checks.check_bone_candidates(candidates_no_square_root)
    with pytest.raises(AssertionError, match="nearer point .* first"):
        checks.check_bone_candidates(candidates_far_first)
    with pytest.raises(AssertionError, match="two roots"):
        checks.check_bone_candidates(candidates_one_root)
    with pytest.raises(AssertionError, match="not on the camera ray"):
        checks.check_bone_candidates(candidates_offset_from_parent)


def test_a_verdict_comes_from_a_short_traceback_and_the_learners_error_keeps_its_own():
    """nbgrader's feedback shows the hint, not the frames of mdnlib that found it."""
    for learner, error_type in [(candidates_far_first, AssertionError), (stub, NotImplementedError)]:
        with pytest.raises(error_type) as raised:
            checks.check_bone_candidates(learner)
        assert type(raised.value) is error_type and raised.value.__suppress_context__
        assert [entry.name for entry in raised.traceback] == [
            "test_a_verdict_comes_from_a_short_traceback_and_the_learners_error_keeps_its_own", "run"]

    def buggy(ray, parent, length):
        return ray[5]
    with pytest.raises(IndexError) as raised:
        checks.check_bone_candidates(buggy)
    assert raised.traceback[-1].name == "buggy"


# --- notebook 04: the mixture NLL ------------------------------------------------------------

def _exponents(y, mu, sigma, alpha):
    dim = y.shape[-1]
    return (np.log(alpha) - 0.5 * dim * np.log(2 * np.pi) - dim * np.log(sigma)
            - np.sum((y[:, None] - mu) ** 2, axis=-1) / (2 * sigma ** 2))


def nll_logsumexp(y, mu, sigma, alpha):
    e = _exponents(y, mu, sigma, alpha)
    m = e.max(axis=1, keepdims=True)
    return -np.mean(m[:, 0] + np.log(np.exp(e - m).sum(axis=1)))


def nll_naive(y, mu, sigma, alpha):
    with np.errstate(divide="ignore"):
        return -np.mean(np.log(np.exp(_exponents(y, mu, sigma, alpha)).sum(axis=1)))


def nll_summed(y, mu, sigma, alpha):
    return nll_logsumexp(y, mu, sigma, alpha) * len(y)


def nll_no_constant(y, mu, sigma, alpha):
    return nll_logsumexp(y, mu, sigma, alpha) - 0.5 * y.shape[1] * np.log(2 * np.pi)


def test_check_logsumexp_nll(capsys):
    checks.check_logsumexp_nll(nll_logsumexp)
    assert "passed" in capsys.readouterr().out
    with pytest.raises(NotImplementedError):
        checks.check_logsumexp_nll(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_logsumexp_nll(returns_none)
    with pytest.raises(AssertionError, match="log-sum-exp"):
        checks.check_logsumexp_nll(nll_naive)
    with pytest.raises(AssertionError, match="NEGATIVE"):
        checks.check_logsumexp_nll(lambda *a: -nll_logsumexp(*a))
    with pytest.raises(AssertionError, match="average over the batch"):
        checks.check_logsumexp_nll(nll_summed)
    with pytest.raises(AssertionError, match="2 pi"):
        checks.check_logsumexp_nll(nll_no_constant)
    with pytest.raises(AssertionError, match="one number"):
        checks.check_logsumexp_nll(lambda *a: np.zeros(3))


# --- notebook 04: sigma activation -----------------------------------------------------------

def sigma_floored(raw):
    return np.where(raw > 0, raw, np.expm1(np.minimum(raw, 0))) + 1.0 + 1e-3


def test_check_sigma_activation(capsys):
    checks.check_sigma_activation(sigma_floored)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_sigma_activation(stub)
    with pytest.raises(AssertionError, match="can reach 0: add a floor"):
        checks.check_sigma_activation(lambda raw: sigma_floored(raw) - 1e-3)
    with pytest.raises(AssertionError, match="exp overflows"):
        checks.check_sigma_activation(lambda raw: np.exp(raw) + 1e-3)
    with pytest.raises(AssertionError, match="at least"):
        checks.check_sigma_activation(lambda raw: sigma_floored(raw) - 0.9e-3)
    with pytest.raises(AssertionError, match="increasing"):
        checks.check_sigma_activation(lambda raw: np.abs(raw) + 1.001)


# --- notebook 04: sampling -------------------------------------------------------------------

def sample(mu, sigma, alpha, rng):
    """Notebook 04's answer: pick a kernel by alpha, then sample it."""
    kernels = np.minimum((rng.uniform(size=(len(alpha), 1)) > np.cumsum(alpha, axis=1)).sum(axis=1),
                         alpha.shape[1] - 1)
    rows = np.arange(len(alpha))
    return mu[rows, kernels] + sigma[rows, kernels] * rng.standard_normal(len(alpha))


def test_check_sample_mixture(capsys):
    checks.check_sample_mixture(sample)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_sample_mixture(stub)
    with pytest.raises(AssertionError, match="weighted mean"):
        checks.check_sample_mixture(lambda mu, sigma, alpha, rng: (alpha * mu).sum(axis=1))
    with pytest.raises(AssertionError, match="heaviest kernel"):
        checks.check_sample_mixture(
            lambda mu, sigma, alpha, rng: mu[:, 2] + sigma[:, 2] * rng.standard_normal(len(mu)))
    with pytest.raises(AssertionError, match="no spread"):
        checks.check_sample_mixture(
            lambda mu, sigma, alpha, rng: sample(mu, 0 * sigma, alpha, rng))
    with pytest.raises(AssertionError, match="frequencies"):
        checks.check_sample_mixture(
            lambda mu, sigma, alpha, rng: sample(mu, sigma, np.ones_like(alpha) / 3, rng))


def test_check_sigma_activation_catches_overflow_hidden_by_where():
    hidden = lambda raw: np.where(raw > 0, raw, np.exp(raw) - 1) + 1.0 + 1e-3   # finite result, overflow warned
    with pytest.raises(AssertionError, match="np.minimum"):
        checks.check_sigma_activation(hidden)


# --- the package: one module per notebook ----------------------------------------------------

def test_every_check_a_notebook_calls_lives_in_that_notebooks_module():
    import importlib
    import re

    import nbformat

    from mdnlib import course

    called = set()
    for path in course.notebook_paths():
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        for name in set(re.findall(r"checks\.(check_\w+)\(", source)):
            module = importlib.import_module(f"mdnlib.checks.nb{path.name[:2]}")
            assert getattr(module, name, None) is getattr(checks, name), f"{path.name}: {name}"
            called.add(name)
    assert called == set(checks.__all__)
