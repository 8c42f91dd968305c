"""Exercise checks of notebook 06 (evaluation): Procrustes, best-of-M and most likely, calibration."""
import numpy as np

from mdnlib.checks.helpers import call, call_pair, exercise, fail, passed


def _rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _procrustes_case():
    """Predictions that are rotated, scaled, shifted and noisy copies of the ground truth, and
    one mirror image (where the unconstrained best fit is a reflection)."""
    rng = np.random.default_rng(11)
    gt = rng.normal(0.0, 250.0, (5, 17, 3))
    pred = np.empty_like(gt)
    for i in range(len(gt)):
        pred[i] = rng.uniform(0.7, 1.3) * gt[i] @ _rotation(rng) + rng.normal(0.0, 200.0, 3)
    pred += rng.normal(0.0, 15.0, pred.shape)
    pred[-1] = gt[-1] * np.array([1.0, 1.0, -1.0])      # a depth flip: mirror image
    return pred, gt


def _align_variant(pred, gt, reflection_fix=True, scale=True, translate=True, transpose=False):
    """Procrustes alignment with one ingredient switched off (the typical mistakes)."""
    mu_p, mu_g = pred.mean(axis=-2, keepdims=True), gt.mean(axis=-2, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    u, s, vt = np.linalg.svd(np.swapaxes(p, -1, -2) @ g)
    if reflection_fix:
        sign = np.sign(np.linalg.det(u @ vt))
        s, u = s.copy(), u.copy()
        s[..., -1] *= sign
        u[..., :, -1] *= sign[..., None]
    rotation = u @ vt
    if transpose:
        rotation = np.swapaxes(rotation, -1, -2)
    factor = s.sum(axis=-1) / np.sum(p ** 2, axis=(-2, -1)) if scale else np.ones(len(p))
    return factor[:, None, None] * (p @ rotation) + (mu_g if translate else 0.0)


@exercise("mdnlib.metrics.procrustes_align")
def check_procrustes(fn):
    """`fn(pred (N, J, 3), gt (N, J, 3)) -> (N, J, 3)`: each predicted pose moved onto its ground
    truth by the best rotation, scale and translation, reflections excluded, as
    `mdnlib.metrics.procrustes_align`."""
    from mdnlib import metrics

    pred, gt = _procrustes_case()
    expected = metrics.procrustes_align(pred, gt)
    value = call(fn, pred.copy(), gt.copy())
    got = np.asarray(value, dtype=float)
    if got.shape != expected.shape:
        fail(f"{fn.__name__} returned shape {got.shape}, expected {expected.shape}: the aligned poses")
    if np.allclose(got, expected, atol=1e-3):
        return passed("your alignment matches mdnlib.metrics.procrustes_align, mirror image included")
    if np.allclose(got[:-1], expected[:-1], atol=1e-3):
        if np.allclose(got[-1], gt[-1], atol=1e-3):
            fail("the last pose is the ground truth's mirror image, and your alignment turned it "
                  "into the ground truth with a REFLECTION (det = -1), which is not a rigid motion. "
                  "When det(U V^T) < 0, flip the sign of the last singular vector and value")
        fail("all poses but the mirrored one match: check the reflection fix (flip the last "
              "column of U and the last singular value when det(U V^T) < 0)")
    hints = [
        (_align_variant(pred, gt, scale=False), "rotation and translation are right, the scale is "
         "missing: multiply by s = trace(S) / ||pred - mean||^2 (Protocol 2 also corrects the size)"),
        (_align_variant(pred, gt, translate=False), "you left the aligned pose centred at the origin: "
         "add the ground truth's centre (mean over joints) back"),
        (_align_variant(pred, gt, transpose=True), "the rotation is transposed: with row vectors "
         "(pose @ R) and the SVD of pred_c^T gt_c = U S V^T, R = U V^T"),
        (pred, "nothing changed: centre both poses, find the rotation from the SVD of the "
               "cross-covariance pred_c^T gt_c, then scale and translate"),
    ]
    for wrong, hint in hints:
        if np.allclose(got, wrong, atol=1e-3):
            fail(hint)
    error = metrics.mpjpe(got, gt)
    if np.any(error < metrics.mpjpe(expected, gt) - 1e-3):
        fail("your aligned poses are closer to the ground truth than the best proper similarity "
              "transform allows: do you use the ground truth beyond the alignment, or a reflection?")
    fail(f"after your alignment the first pose is {error[0]:.1f} mm from the ground truth, "
          f"after the reference alignment {metrics.mpjpe(expected, gt)[0]:.1f} mm")


@exercise("mdnlib.metrics.best_of_m")
def check_best_and_most_likely(fn):
    """`fn(errors (N, M) mm, alphas (N, M)) -> (best (N,), most_likely (N,))`: the error of the
    best hypothesis (the paper's figure) and of the hypothesis with the largest weight."""
    from mdnlib import metrics

    rng = np.random.default_rng(12)
    errors = rng.uniform(30.0, 150.0, (30, 5))
    alphas = rng.dirichlet(np.ones(5), size=30)
    best = metrics.best_of_m(errors)
    likely = errors[np.arange(30), alphas.argmax(axis=1)]
    value = call_pair(fn, errors.copy(), alphas.copy(),
                       hint="return two arrays, (best, most_likely), one error per example each")
    got_best, got_likely = (np.asarray(v, dtype=float) for v in value)
    if got_best.shape != best.shape or got_likely.shape != likely.shape:
        fail(f"return one error per example, shape ({len(errors)},), for both; got "
              f"{got_best.shape} and {got_likely.shape}")
    if not np.allclose(got_best, best):
        if np.allclose(got_best, errors.mean(axis=1)):
            fail("best-of-M takes the MINIMUM over the hypotheses, not their mean")
        if np.allclose(got_best, np.sum(alphas * errors, axis=1)):
            fail("the paper's best-of-M is not weighted by alpha: take the minimum error over "
                  "the M hypotheses")
        fail("best: the minimum over the hypotheses (axis=-1) of each example's errors")
    if not np.allclose(got_likely, likely):
        if np.allclose(got_likely, best):
            fail("most_likely is the error of the hypothesis with the largest weight alpha, "
                  "whether or not it is the best one: index errors with argmax(alphas)")
        if np.allclose(got_likely, errors[np.arange(30), alphas.argmin(axis=1)]):
            fail("you picked the hypothesis with the SMALLEST weight: use argmax")
        if np.allclose(got_likely, errors[np.arange(30), errors.argmax(axis=1)]):
            fail("you picked the largest error; pick the largest weight: argmax over alphas")
        fail("most_likely: errors[n, argmax_k alphas[n, k]] for every example n")
    passed(f"your errors match (on the check's random errors: best of M {best.mean():.0f} mm, "
            f"most likely hypothesis {likely.mean():.0f} mm)")


@exercise("mdnlib.metrics.coverage", "mdnlib.metrics.expected_calibration_error")
def check_calibration_ece(fn):
    """`fn(radii (K,), levels (L,)) -> (coverage (L,), ece)`: the fraction of radii within the
    chi-3 quantile of each level, and the mean absolute gap to the levels, as
    `mdnlib.metrics.coverage` and `mdnlib.metrics.expected_calibration_error`."""
    from mdnlib import metrics

    rng = np.random.default_rng(13)
    radii = np.linalg.norm(rng.normal(size=(4000, 3)), axis=1) * rng.choice([0.6, 1.7], size=4000)
    levels = metrics.CALIBRATION_LEVELS
    observed = metrics.coverage(radii, levels)
    ece = metrics.expected_calibration_error(observed, levels)
    value = call_pair(fn, radii.copy(), levels.copy(),
                       hint="return two things, (coverage, ece): the coverage per level and one number")
    got_coverage = np.asarray(value[0], dtype=float)
    got_ece = np.asarray(value[1], dtype=float)
    if got_coverage.shape != levels.shape:
        fail(f"coverage must hold one fraction per level, shape {levels.shape}; got {got_coverage.shape}")
    if not np.allclose(got_coverage, observed, atol=1e-9):
        if np.allclose(got_coverage, [np.mean(radii <= p) for p in levels]):
            fail("you compared the radii with the level p itself; compare them with the radius "
                  "that holds a fraction p of a 3-D standard normal: metrics.chi3_quantile(p)")
        if np.allclose(got_coverage, [np.sum(radii <= metrics.chi3_quantile(p)) for p in levels]):
            fail("coverage is a fraction of the radii (a mean), not a count")
        if np.allclose(got_coverage, [np.mean(radii > metrics.chi3_quantile(p)) for p in levels]):
            fail("you counted the radii OUTSIDE the ball: coverage is the fraction inside, r <= quantile")
        fail(f"at level {levels[9]} the coverage is {observed[9]:.3f}, yours is {got_coverage[9]:.3f}: "
              "mean(radii <= metrics.chi3_quantile(level))")
    if got_ece.size != 1:
        fail("the ECE is one number, the mean over the levels")
    got_ece = float(got_ece.reshape(()))
    if np.isclose(got_ece, ece, atol=1e-9):
        return passed(f"your coverage and ECE ({got_ece:.3f}) match mdnlib.metrics")
    gaps = observed - levels
    if np.isclose(got_ece, gaps.mean()) or np.isclose(got_ece, -gaps.mean()):
        fail("over- and under-coverage cancel in a signed mean: average the ABSOLUTE gaps")
    if np.isclose(got_ece, np.abs(gaps).max()):
        fail("that is the largest gap (a maximum calibration error); the ECE is their mean")
    if np.isclose(got_ece, np.sqrt(np.mean(gaps ** 2))):
        fail("that is a root-mean-square gap; the ECE here is the mean absolute gap")
    fail(f"the ECE is {ece:.4f}, yours is {got_ece:.4f}: mean over levels of |coverage - level|")
