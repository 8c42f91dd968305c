"""Exercise checks of notebook 07 (multimodality): depth spread and the multi-view choice."""
import numpy as np

from mdnlib import toy
from mdnlib.checks.helpers import call, exercise, fail, passed


def _hypotheses_case(rng):
    """Hypotheses (6, 5, 17, 3) mm that disagree mostly in depth, with uneven weights (6, 5)."""
    rng = np.random.default_rng(rng)
    pose = toy.example_pose(0.0)
    hyps = pose + rng.normal(0.0, [15.0, 15.0, 120.0], (6, 5, 17, 3))
    hyps -= hyps[..., :1, :]                                   # root-relative
    weights = rng.dirichlet(np.full(5, 0.7), size=6)
    return hyps, weights


@exercise("mdnlib.hypotheses.depth_spread")
def check_depth_spread(fn):
    """`fn(hyps (N, M, 17, 3) mm, weights (N, M)) -> (N, 17)`: the weighted std over hypotheses of
    each joint's depth relative to its parent, as `mdnlib.hypotheses.depth_spread`."""
    from mdnlib import hypotheses, skeleton

    hyps, weights = _hypotheses_case(9)
    expected = hypotheses.depth_spread(hyps, weights)
    value = call(fn, hyps.copy(), weights.copy())
    got = np.asarray(value, dtype=float)
    if got.shape == (len(hyps), 16):
        fail("keep all 17 joints; the root's spread is 0 (it is its own parent)")
    if got.shape != expected.shape:
        fail(f"{fn.__name__} returned shape {got.shape}, expected {expected.shape}: one spread per "
              "example and joint (the std goes over the hypothesis axis, 1)")
    if np.allclose(got, expected, atol=1e-6):
        return passed("your depth spreads match mdnlib.hypotheses.depth_spread")
    parents = np.maximum(skeleton.PARENTS_17, 0)
    relative = hyps - hyps[..., parents, :]
    unit = np.ones_like(weights)
    hints = [
        (hypotheses.depth_spread(hyps, unit), "every hypothesis counted the same: weight the mean and the "
                                              "squared deviations by the mixing weights"),
        (expected ** 2, "that is a variance: take the square root"),
        (np.sqrt(np.sum(weights[..., None] * (hyps[..., 2] - np.einsum("nm,nmj->nj", weights, hyps[..., 2])[:, None]) ** 2,
                        axis=1)), "use the depth RELATIVE TO THE PARENT, z_j - z_parent(j): a bone's two "
                                  "solutions differ in that, not in the joint's own depth"),
        (np.sqrt(np.sum(weights[..., None] * (relative[..., 1] - np.einsum("nm,nmj->nj", weights, relative[..., 1])[:, None]) ** 2,
                        axis=1)), "depth is the camera-frame z coordinate, index 2 of the last axis"),
    ]
    for wrong, hint in hints:
        if np.allclose(got, wrong, atol=1e-6):
            fail(hint)
    if not np.allclose(got[:, 0], 0.0, atol=1e-6):
        fail("the root has no parent: its relative depth is 0, and so is its spread "
              "(parents = np.maximum(skeleton.PARENTS_17, 0) makes the root its own parent)")
    fail(f"for the first example the spread of the left wrist is {expected[0, 13]:.1f} mm, yours is "
          f"{got[0, 13]:.1f}: sqrt(sum_k w_k (d_k - sum_k w_k d_k)^2), d = z_joint - z_parent")


def _multiview_case(seed):
    """Hypotheses (4, 5, 17, 3) of one moment in 4 views, root-relative. Each view has one
    hypothesis near the true pose (at a different index per view). The other views' wrong
    hypotheses cluster around a decoy that view 0 also proposes: they are close to it, but never
    as close as the true poses are to each other."""
    rng = np.random.default_rng(seed)
    truth = toy.example_pose(0.0)
    decoy = truth + rng.normal(0.0, 200.0, (17, 3))
    views = decoy + rng.normal(0.0, 60.0, (4, 5, 17, 3))
    views[0, 2:] = truth + rng.normal(0.0, 350.0, (3, 17, 3))
    views[0, 0] = decoy + rng.normal(0.0, 15.0, (17, 3))
    for v in range(4):
        views[v, (v + 1) % 5] = truth + rng.normal(0.0, 15.0, (17, 3))
    return views - views[..., :1, :]


@exercise("mdnlib.hypotheses.choose_multiview")
def check_choose_multiview(fn):
    """`fn(world_hyps (V, M, 17, 3)) -> (V,)`: per view, the hypothesis whose summed MPJPE to the
    closest hypothesis of every other view is lowest, as `mdnlib.hypotheses.choose_multiview`."""
    from mdnlib import hypotheses, metrics

    case = _multiview_case(11)
    expected = hypotheses.choose_multiview(case)
    value = call(fn, case.copy())
    got = np.asarray(value)
    if got.shape == case.shape[:2]:
        fail("return one index per view, shape (V,), the argmin of the scores, not the scores")
    if got.shape != expected.shape:
        fail(f"{fn.__name__} returned shape {got.shape}, expected {expected.shape}: one index per view")
    if np.array_equal(got, expected):
        return passed("your choices match mdnlib.hypotheses.choose_multiview")
    distance = metrics.mpjpe(case[:, :, None, None], case[None, None])      # (V, M, V, M)
    views = np.arange(len(case))
    same_index = distance[:, np.arange(5), :, np.arange(5)].transpose(1, 0, 2)  # (V, M, V)
    same_index[views, :, views] = 0.0
    mean_all = distance.mean(axis=-1)
    mean_all[views, :, views] = 0.0
    closest = distance.min(axis=-1)
    closest[views, :, views] = 0.0
    hints = [
        (np.argmax(closest.sum(axis=-1), axis=-1), "you took the hypothesis with the HIGHEST score: the "
                                                   "most consistent one has the lowest summed distance (argmin)"),
        (np.argmin(same_index.sum(axis=-1), axis=-1), "the kernels of different cameras are not in the same "
                                                      "order: compare with the CLOSEST hypothesis of each other "
                                                      "view (min over its M hypotheses), not the same index"),
        (np.argmin(mean_all.sum(axis=-1), axis=-1), "averaging over all hypotheses of the other views lets "
                                                    "their wrong hypotheses vote: take the closest one of each "
                                                    "view (the minimum), then sum over views"),
    ]
    for wrong, hint in hints:
        if np.array_equal(got, wrong):
            fail(hint)
    fail(f"the most consistent hypotheses are {expected.tolist()}, yours are {got.tolist()}: for each "
          "view v and hypothesis k, sum over the other views u of min_l MPJPE(hyp[v, k], hyp[u, l])")
