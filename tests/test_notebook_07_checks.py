"""Notebook 07: its exercise checks pass on the solution, fail on the student stub and on typical
mistakes (its explorers are tested in test_widgets.py)."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mdnlib import checks, metrics, skeleton  # noqa: E402


def stub(*args):
    raise NotImplementedError()


# --- exercise 1: depth spread ----------------------------------------------------------------

def depth_spread(hyps, weights):
    parents = np.maximum(skeleton.PARENTS_17, 0)
    depth = hyps[..., 2] - hyps[..., parents, 2]
    w = weights / weights.sum(axis=-1, keepdims=True)
    mean = np.einsum("nm,nmj->nj", w, depth)
    return np.sqrt(np.einsum("nm,nmj->nj", w, (depth - mean[:, None]) ** 2))


def depth_spread_unweighted(hyps, weights):
    return depth_spread(hyps, np.ones_like(weights))


def depth_spread_absolute(hyps, weights):
    return np.sqrt(np.einsum("nm,nmj->nj", weights, (hyps[..., 2] - np.einsum("nm,nmj->nj", weights, hyps[..., 2])[:, None]) ** 2))


def depth_spread_variance(hyps, weights):
    return depth_spread(hyps, weights) ** 2


def depth_spread_parent_minus_one(hyps, weights):
    depth = hyps[..., 2] - hyps[..., skeleton.PARENTS_17, 2]     # the root's "parent" -1 is RWrist
    w = weights[..., None]
    mean = np.sum(w * depth, axis=1, keepdims=True)
    return np.sqrt(np.sum(w * (depth - mean) ** 2, axis=1))


def test_check_depth_spread(capsys):
    checks.check_depth_spread(depth_spread)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_depth_spread(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_depth_spread(lambda h, w: None)
    with pytest.raises(AssertionError, match="mixing weights"):
        checks.check_depth_spread(depth_spread_unweighted)
    with pytest.raises(AssertionError, match="RELATIVE TO THE PARENT"):
        checks.check_depth_spread(depth_spread_absolute)
    with pytest.raises(AssertionError, match="square root"):
        checks.check_depth_spread(depth_spread_variance)
    with pytest.raises(AssertionError, match="root has no parent"):
        checks.check_depth_spread(depth_spread_parent_minus_one)
    with pytest.raises(AssertionError, match="17 joints"):
        checks.check_depth_spread(lambda h, w: depth_spread(h, w)[:, 1:])


# --- exercise 2: multi-view choice -----------------------------------------------------------

def choose_multiview(world_hyps):
    scores = np.zeros(world_hyps.shape[:2])
    for v in range(len(world_hyps)):
        for u in range(len(world_hyps)):
            if u != v:
                scores[v] += metrics.mpjpe(world_hyps[v][:, None], world_hyps[u][None]).min(axis=1)
    return np.argmin(scores, axis=1)


def choose_same_index(world_hyps):
    scores = np.zeros(world_hyps.shape[:2])
    for v in range(len(world_hyps)):
        for u in range(len(world_hyps)):
            if u != v:
                scores[v] += metrics.mpjpe(world_hyps[v], world_hyps[u])
    return np.argmin(scores, axis=1)


def choose_by_mean_distance(world_hyps):
    scores = np.zeros(world_hyps.shape[:2])
    for v in range(len(world_hyps)):
        for u in range(len(world_hyps)):
            if u != v:
                scores[v] += metrics.mpjpe(world_hyps[v][:, None], world_hyps[u][None]).mean(axis=1)
    return np.argmin(scores, axis=1)


def test_check_choose_multiview(capsys):
    checks.check_choose_multiview(choose_multiview)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_choose_multiview(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_choose_multiview(lambda h: None)
    with pytest.raises(AssertionError, match="not in the same order"):
        checks.check_choose_multiview(choose_same_index)
    with pytest.raises(AssertionError, match="minimum"):
        checks.check_choose_multiview(choose_by_mean_distance)
    with pytest.raises(AssertionError, match="argmin"):
        checks.check_choose_multiview(lambda h: np.argmax(choose_multiview_scores(h), axis=1))
    with pytest.raises(AssertionError, match="not the scores"):
        checks.check_choose_multiview(choose_multiview_scores)


def choose_multiview_scores(world_hyps):
    scores = np.zeros(world_hyps.shape[:2])
    for v in range(len(world_hyps)):
        for u in range(len(world_hyps)):
            if u != v:
                scores[v] += metrics.mpjpe(world_hyps[v][:, None], world_hyps[u][None]).min(axis=1)
    return scores

