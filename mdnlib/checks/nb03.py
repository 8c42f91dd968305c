"""Exercise checks of notebook 03 (the regression baseline): MPJPE and the averaged bone."""
import numpy as np

from mdnlib import toy
from mdnlib.checks.helpers import call, exercise, fail, passed


@exercise("mdnlib.metrics.mpjpe")
def check_mpjpe(fn):
    """`fn(pred (N, J, 3), gt (N, J, 3)) -> (N,)`: per pose, the mean over joints of the Euclidean
    distance, in mm (Protocol 1), as `mdnlib.metrics.mpjpe`."""
    from mdnlib import metrics

    rng = np.random.default_rng(7)
    gt = rng.normal(0.0, 300.0, (12, 17, 3))
    pred = gt + rng.normal(0.0, 40.0, gt.shape) * rng.uniform(0.2, 3.0, (12, 17, 1))
    expected = metrics.mpjpe(pred, gt)
    value = call(fn, pred.copy(), gt.copy())
    got = np.asarray(value, dtype=float)
    if got.size == 1:
        fail("return one error per pose, shape (N,); the mean over the poses comes later")
    if got.shape != expected.shape:
        fail(f"{fn.__name__} returned shape {got.shape}, expected {expected.shape}: one error per pose")
    if np.allclose(got, expected, rtol=1e-6):
        return passed("your MPJPE matches mdnlib.metrics.mpjpe")
    diff = pred - gt
    hints = [
        (np.sqrt(np.mean(diff ** 2, axis=(1, 2))), "that is a root-mean-square error over coordinates: "
                                                   "take each joint's Euclidean distance first, then the mean over joints"),
        (np.mean(np.sum(diff ** 2, axis=-1), axis=-1), "take the square root per joint: the distance is "
                                                       "sqrt(dx^2 + dy^2 + dz^2), in mm"),
        (np.mean(np.abs(diff), axis=(1, 2)), "average the Euclidean distance of each joint, not the absolute "
                                             "differences of the coordinates"),
        (np.sum(np.linalg.norm(diff, axis=-1), axis=-1), "average over the joints instead of summing"),
        (np.mean(np.linalg.norm(diff, axis=-2), axis=-1), "the norm goes over the last axis (x, y, z), the "
                                                          "mean over the joints (axis -2)"),
    ]
    for wrong, hint in hints:
        if np.allclose(got, wrong, rtol=1e-6):
            fail(hint)
    fail(f"for the first pose the MPJPE is {expected[0]:.2f} mm, yours gives {got[0]:.2f}: "
          "mean over joints of ||pred_j - gt_j||")


@exercise()
def check_averaged_bone_length(fn):
    """`fn(parent (N, 3), child (N, 3) camera frame mm) -> (N,)`: the distance from the parent to the
    midpoint of the child's two candidates on its camera ray (`mdnlib.toy.bone_candidates`)."""
    rng = np.random.default_rng(8)
    n = 10
    parent = rng.uniform([-400, -600, 4000], [400, 600, 5000], (n, 3))
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    length = rng.uniform(200, 450, n)
    child = parent + length[:, None] * direction
    expected = np.linalg.norm(toy.bone_candidates(child, parent, length).mean(axis=-2) - parent, axis=-1)
    value = call(fn, parent.copy(), child.copy())
    got = np.asarray(value, dtype=float)
    if got.shape == (n, 3):
        fail("return one length per bone, shape (N,): the distance from the parent to the midpoint")
    if got.shape != (n,):
        fail(f"{fn.__name__} returned shape {got.shape}, expected ({n},)")
    if np.allclose(got, expected, rtol=1e-6):
        return passed("your averaged bones match the midpoints of mdnlib.toy.bone_candidates")
    candidates = toy.bone_candidates(child, parent, length)
    hints = [
        (length, "that is the bone's own length: both candidates lie at that distance from the parent. "
                 "Average the two candidate POSITIONS first, then measure from the parent"),
        (np.linalg.norm(candidates[:, 1] - candidates[:, 0], axis=-1),
         "that is the distance between the two candidates; measure from the parent to their midpoint"),
        (np.linalg.norm((child - parent)[:, :2], axis=-1),
         "close: that is the orthographic answer (the bone projected onto the image plane). With a "
         "perspective camera the candidates lie on the child's ray: use toy.bone_candidates(child, "
         "parent, length), the ray being the child's own camera-frame position"),
    ]
    for wrong, hint in hints:
        if np.allclose(got, wrong, rtol=1e-6):
            fail(hint)
    fail(f"for the first bone (length {length[0]:.0f} mm) the averaged bone is {expected[0]:.1f} mm, "
          f"yours is {got[0]:.1f}: midpoint = mean of the two candidates, then its distance to the parent")
