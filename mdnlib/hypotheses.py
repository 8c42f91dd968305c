"""What M pose hypotheses say beyond their best one (notebook 07).

Hypotheses are the kernel means of a mixture, (..., M, 17, 3) root-relative camera-frame mm, with
mixing weights (..., M), as `mdnlib.inference.predict_poses` returns them.

- `depth_spread`: how far the hypotheses disagree on each bone's depth, to compare with the two
  depth solutions of that bone (`mdnlib.toy.flip_gaps`);
- `limb_flips`, `nearer_flipped`, `weight_on_flipped`, `flip_patterns`: each limb bone's two depth
  solutions, whether the flipped one is a body the synthetic generator can make, how much of the
  hypotheses' weight lies nearer the flipped one, and how many combinations of flips they cover
  (notebooks 07 and 08, bench/flow.py);
- `depth_uncertainty`: the whole mixture's std of each bone's depth, the kernels' own sigmas
  included (what a model with one sigma per joint says about each joint);
- `joint_spread`, `bone_vectors`: how far they disagree on each joint's position, or on each
  bone's direction (hidden joints);
- `nearest_neighbours`: the training examples whose 2D input is nearest to a test input, whose
  3D poses show how ambiguous that input really is in the data (bench/ambiguity.py);
- `to_world_orientation`, `choose_multiview`: pick one hypothesis per view without ground truth,
  the one the other cameras' hypotheses of the same moment agree with best (Li & Lee 2019, §4.4).
"""
import numpy as np

from mdnlib import metrics, skeleton, toy

LIMB_JOINT_INDICES = np.array([skeleton.joint_index(name) for name in skeleton.LIMB_JOINTS])


def _weighted_std(values, weights):
    """Weighted standard deviation over the hypothesis axis: values (..., M, J), weights (..., M)."""
    w = np.asarray(weights, dtype=np.float64)
    w = (w / w.sum(axis=-1, keepdims=True))[..., None]
    mean = np.sum(w * values, axis=-2, keepdims=True)
    return np.sqrt(np.sum(w * (values - mean) ** 2, axis=-2))


def depth_spread(hypotheses, weights):
    """Weighted std over the hypotheses of each joint's depth relative to its parent, in mm.

    hypotheses (..., M, 17, 3), weights (..., M) -> (..., 17), 0 for the root. A bone whose two
    depth solutions are far apart should get hypotheses on both sides: a large spread.
    """
    return _weighted_std(bone_vectors(hypotheses)[..., 2], weights)


def depth_uncertainty(hypotheses, weights, sigmas):
    """The mixture's standard deviation of each joint's depth relative to its parent, in mm.

    hypotheses (..., M, 17, 3), weights (..., M), sigmas (..., M) or (..., M, 17) mm (as
    `inference.Hypotheses` holds them) -> (..., 17), 0 for the root. By the law of total
    variance: the spread of the kernels' bone depths (`depth_spread`) squared plus the weighted
    mean of each kernel's own variance of that depth, sigma_joint^2 + sigma_parent^2 (the root
    is fixed, sigma 0).
    """
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum(axis=-1, keepdims=True)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if sigmas.shape == w.shape:                                   # one sigma per kernel
        sigmas = np.repeat(sigmas[..., None], skeleton.NUM_JOINTS, axis=-1)
        sigmas[..., skeleton.ROOT] = 0.0
    within = sigmas ** 2 + sigmas[..., np.maximum(skeleton.PARENTS_17, 0)] ** 2
    within[..., skeleton.ROOT] = 0.0
    between = depth_spread(hypotheses, weights) ** 2
    return np.sqrt(between + np.sum(w[..., None] * within, axis=-2))


def limb_flips(poses_cam):
    """The depth ambiguity of each limb bone in camera-frame poses (N, 17, 3) mm (absolute: the
    rays from the camera matter), in `skeleton.LIMB_JOINTS` order (knees, feet, elbows, wrists):
    gaps (N, 8) mm, how far the joint moves when its bone alone flips (`toy.flip_gaps`);
    possible (N, 8) bool, whether the flipped limb is one the synthetic generator can make
    (`toy.single_flips_in_generator_ranges`); flipped_depth (N, 8) mm, the flipped bone's depth
    (the joint's depth relative to its parent)."""
    poses_cam = np.asarray(poses_cam, dtype=np.float64)
    gaps = np.array([toy.flip_gaps(pose)[LIMB_JOINT_INDICES] for pose in poses_cam])
    possible = np.array([toy.single_flips_in_generator_ranges(pose) for pose in poses_cam])
    flipped_depth = np.empty(gaps.shape)
    for k, joint in enumerate(LIMB_JOINT_INDICES):
        flipped = np.array([toy.flip_bones(pose, [joint]) for pose in poses_cam])
        flipped_depth[:, k] = bone_vectors(flipped)[:, joint, 2]
    return gaps, possible, flipped_depth


FAR_FLIP_MM = 150.0   # a flip whose two solutions lie this far apart is one a model can be judged on


def nearer_flipped(hypotheses, poses_cam, flipped_depth=None):
    """For every hypothesis and limb bone, whether its bone depth lies nearer the flipped
    solution than the true one: hypotheses (N, M, 17, 3) root-relative mm, poses_cam (N, 17, 3)
    the true camera-frame poses -> (N, M, 8) bool in `skeleton.LIMB_JOINTS` order. A hypothesis
    halfway between the two solutions counts for the nearer one. `flipped_depth` from
    `limb_flips` saves computing it again."""
    if flipped_depth is None:
        flipped_depth = limb_flips(poses_cam)[2]
    depth = bone_vectors(hypotheses)[..., LIMB_JOINT_INDICES, 2]             # (N, M, 8)
    true_depth = bone_vectors(poses_cam)[:, None, LIMB_JOINT_INDICES, 2]     # (N, 1, 8)
    return np.abs(depth - np.asarray(flipped_depth)[:, None]) < np.abs(depth - true_depth)


def weight_on_flipped(hypotheses, weights, poses_cam, flipped_depth=None):
    """The share of the hypotheses' weight nearer the flipped solution than the true one
    (`nearer_flipped`), per limb bone: weights (N, M) -> (N, 8). A model that has seen the
    ambiguity puts weight on both solutions where the flip is possible."""
    w = np.asarray(weights, dtype=np.float64)
    nearer = nearer_flipped(hypotheses, poses_cam, flipped_depth)
    return np.einsum("nm,nmk->nk", w / w.sum(axis=1, keepdims=True), nearer)


def flip_patterns(hypotheses, poses_cam, plausible, flipped_depth=None):
    """How many distinct flip patterns a view's hypotheses show: for each hypothesis, which of
    the view's plausible flips (plausible (N, 8) bool, e.g. possible and at least `FAR_FLIP_MM`
    apart, from `limb_flips`) it takes (`nearer_flipped`); -> (N,) counts, at most
    min(M, 2^k) for k plausible flips. Whole-pose hypotheses must each pick one combination of
    the limbs' flips (notebooks 07 and 08)."""
    nearer = nearer_flipped(hypotheses, poses_cam, flipped_depth)
    return np.array([len(np.unique(view[:, on], axis=0)) for view, on in zip(nearer, np.asarray(plausible))])


def bone_vectors(poses):
    """Each joint's offset from its parent, (..., 17, 3) mm (0 for the root): what a bone's
    direction says, without what the joints above it add."""
    poses = np.asarray(poses, dtype=np.float64)
    return poses - poses[..., np.maximum(skeleton.PARENTS_17, 0), :]


def joint_spread(hypotheses, weights):
    """Weighted RMS distance of each joint's hypotheses from their weighted mean, in mm.

    hypotheses (..., M, 17, 3), weights (..., M) -> (..., 17).
    """
    hypotheses = np.asarray(hypotheses, dtype=np.float64)
    per_axis = _weighted_std(np.moveaxis(hypotheses, -1, -3), np.asarray(weights)[..., None, :])
    return np.sqrt(np.sum(per_axis ** 2, axis=-2))


def nearest_neighbours(queries, references, k, chunk=32):
    """The `k` rows of `references` (R, D) nearest to each row of `queries` (N, D), Euclidean.

    Returns indices (N, k) and distances (N, k), nearest first. Brute force in float32, `chunk`
    queries at a time (memory: chunk x R floats). With normalised 2D inputs as both, the 3D poses
    of the neighbours sample what the data says the 3D pose of that input is, so their spread
    (`depth_spread` with equal weights) is the reference for a model's hypotheses.
    """
    queries = np.asarray(queries, dtype=np.float32)
    references = np.asarray(references, dtype=np.float32)
    if not 1 <= k <= len(references):
        raise ValueError(f"k must be between 1 and the {len(references)} references, got {k}")
    reference_norms = np.einsum("rd,rd->r", references, references)
    indices = np.empty((len(queries), k), dtype=np.int64)
    distances = np.empty((len(queries), k))
    for start in range(0, len(queries), chunk):
        q = queries[start:start + chunk]
        squared = reference_norms - 2.0 * (q @ references.T)     # + |q|^2, the same for the row
        nearest = np.argpartition(squared, k - 1, axis=1)[:, :k]
        exact = np.sum((references[nearest] - q[:, None]).astype(np.float64) ** 2, axis=-1)
        order = np.argsort(exact, axis=1)
        indices[start:start + chunk] = np.take_along_axis(nearest, order, axis=1)
        distances[start:start + chunk] = np.sqrt(np.take_along_axis(exact, order, axis=1))
    return indices, distances


def to_world_orientation(poses_cam, camera):
    """Root-relative camera-frame poses (..., 17, 3) turned into the world's orientation.

    Only the rotation of `camera` is applied (the root stays at 0), so the poses of one moment
    seen by several cameras become comparable without knowing where the person stands.
    """
    return np.asarray(poses_cam, dtype=np.float64) @ camera.R


def choose_multiview(world_hypotheses):
    """For each view, the hypothesis that the other views agree with best.

    world_hypotheses (V, M, 17, 3): the M hypotheses of V cameras for one moment, root-relative,
    in the world's orientation. The score of hypothesis k of view v is the sum over the other
    views of the MPJPE to their closest hypothesis; returns (V,) indices of the lowest scores.
    """
    poses = np.asarray(world_hypotheses, dtype=np.float64)
    if poses.ndim != 4 or poses.shape[0] < 2:
        raise ValueError(f"expected hypotheses of at least 2 views (V, M, J, 3), got shape {poses.shape}")
    # distance[v, k, u, l]: MPJPE between hypothesis k of view v and hypothesis l of view u
    distance = metrics.mpjpe(poses[:, :, None, None], poses[None, None])
    closest = distance.min(axis=-1)                         # (V, M, V)
    views = np.arange(len(poses))
    closest[views, :, views] = 0.0                          # a view does not vote for itself
    return np.argmin(closest.sum(axis=-1), axis=-1)


def moment_views(info):
    """Rows of the examples that show the same moment from every camera.

    info: per-example labels of `mdnlib.dataset.prepare` (`test_info`) or `camera_frame_arrays`,
    with subject, sequence, camera and frame. Returns (K, V) row indices: one row per moment
    seen by all V cameras, the views in camera order.
    """
    cameras = np.unique(info["camera"])
    moment = np.char.add(np.char.add(np.char.add(info["subject"], "/"), info["sequence"]),
                         np.char.add("/", np.asarray(info["frame"]).astype(str)))
    _, moment_id = np.unique(moment, return_inverse=True)
    camera_id = np.searchsorted(cameras, info["camera"])
    order = np.lexsort((camera_id, moment_id))
    counts = np.bincount(moment_id)
    complete = counts[moment_id[order]] == len(cameras)
    return order[complete].reshape(-1, len(cameras))
