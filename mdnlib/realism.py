"""How real are the synthetic poses? A comparison with real motion capture (CMU), notebook 02.

Three pieces of evidence, each a plain function so that the notebook can plot it:
- `bone_table`: bone lengths of two pose sets, and the ratio of their body proportions;
- `angle_table`: ranges of joint angles (knee and elbow flexion, hip and shoulder elevation, trunk lean);
- `nearest_pose_errors`: for every real pose, the P-MPJPE (mm) to its nearest pose of a database.

Poses are compared on one *common skeleton* (`common_skeleton`): limb and torso bones keep their
directions but get common lengths, hips and shoulders get common offsets in the pelvis and chest
frames. Datasets define those joints differently (CMU's hips sit well below its root), so without
this step the comparison would measure body definitions instead of poses. The error of a pair is
the mean distance over the 8 limb joints after the best similarity transform that aligns the 15 body
joints (the head and nose, defined differently by every dataset, are left out).
"""
from dataclasses import dataclass

import numpy as np

from mdnlib import metrics, skeleton
from mdnlib.sources import synthetic

LIMB_JOINTS_17 = np.array([skeleton.joint_index(name) for name in skeleton.LIMB_JOINTS])

# Bones by name: (child, parent) pairs in 17-joint indices, left and right together.
BONES = {
    "hip": ((1, 0), (4, 0)), "thigh": ((2, 1), (5, 4)), "shin": ((3, 2), (6, 5)),
    "lower_spine": ((7, 0),), "upper_spine": ((8, 7),), "neck": ((9, 8),), "head": ((10, 9),),
    "shoulder": ((11, 8), (14, 8)), "upper_arm": ((12, 11), (15, 14)), "forearm": ((13, 12), (16, 15)),
}
# Bones whose sum stands for body size when proportions are compared.
_SIZE_BONES = ("thigh", "shin", "lower_spine", "upper_spine")


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def body_frames(poses):
    """Pelvis and chest rotation matrices (N, 3, 3), columns = forward, left, up of each segment.

    Left comes from the hips (pelvis) or the shoulders (chest), up from the spine, made orthogonal.
    """
    def frame(left, up):
        left = _unit(left)
        up = _unit(up - np.sum(up * left, -1, keepdims=True) * left)
        return np.stack([np.cross(left, up), left, up], axis=-1)
    pelvis = frame(poses[:, 4] - poses[:, 1], poses[:, 7] - poses[:, 0])
    chest = frame(poses[:, 11] - poses[:, 14], poses[:, 8] - poses[:, 7])
    return pelvis, chest


def common_skeleton(poses, bones=None):
    """Poses (N, 17, 3) rebuilt on one skeleton: each bone keeps its direction with a common length,
    hips and shoulders sit at common offsets in the pelvis and chest frames; root at the origin."""
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (17, 3):
        raise ValueError(f"poses must be (N, 17, 3), got {poses.shape}")
    ref = synthetic.pose_from_angles({name: np.zeros(1) for name in synthetic.ANGLE_NAMES},
                                     synthetic.Body(bones or synthetic.AVERAGE_BONES))[0]
    length = {child: np.linalg.norm(ref[child] - ref[parent]) for child, parent in skeleton.BONES_17}
    pelvis, chest = body_frames(poses)
    out = np.zeros_like(poses)

    def extend(child, parent):
        out[:, child] = out[:, parent] + length[child] * _unit(poses[:, child] - poses[:, parent])

    for child, origin, frame in ((1, 0, pelvis), (4, 0, pelvis)):
        out[:, child] = frame @ (ref[child] - ref[origin])
    for child, parent in ((7, 0), (8, 7), (9, 8), (10, 9)):
        extend(child, parent)
    for child in (11, 14):
        out[:, child] = out[:, 8] + chest @ (ref[child] - ref[8])
    for child, parent in ((2, 1), (3, 2), (5, 4), (6, 5), (12, 11), (13, 12), (15, 14), (16, 15)):
        extend(child, parent)
    return out


def facing_canonical(poses):
    """Poses (N, 17, 3) turned about the vertical so that the pelvis faces +x, root at the origin."""
    pelvis, _ = body_frames(poses)
    heading = np.arctan2(pelvis[:, 1, 0], pelvis[:, 0, 0])
    c, s = np.cos(-heading), np.sin(-heading)
    rotation = np.zeros((len(poses), 3, 3))
    rotation[:, 0, 0], rotation[:, 0, 1], rotation[:, 1, 0], rotation[:, 1, 1] = c, -s, s, c
    rotation[:, 2, 2] = 1.0
    return (poses - poses[:, :1]) @ np.swapaxes(rotation, 1, 2)


def _distance_features(poses):
    """Limb joints of common-skeleton poses, and two views of them for a fast preselection by matrix
    multiply: turned to face +x (keeps the posture's tilt), and all distances between them (blind to
    any rotation, so a leaning pose still finds its upright twin)."""
    limbs = facing_canonical(common_skeleton(poses))[:, LIMB_JOINTS_17]
    i, j = np.triu_indices(len(LIMB_JOINTS_17), 1)
    distances = np.linalg.norm(limbs[:, i] - limbs[:, j], axis=-1)
    return limbs, [limbs.reshape(len(limbs), -1).astype(np.float32), distances.astype(np.float32)]


def nearest_pose_errors(queries, database, candidates=48, chunk=256):
    """For every query pose, the P-MPJPE (mm, limb joints) to its nearest database pose, and the index
    of that pose.

    Both sets go on the common skeleton. Matrix-multiply distances on two features
    (`_distance_features`) preselect about `candidates` poses each; the exact P-MPJPE picks the best
    of them. The preselection can miss the true nearest pose, so the errors are upper bounds (below
    1 mm above an exhaustive search in the median, checked on CMU). Returns (errors (Q,), indices (Q,)).
    """
    q_limbs, q_features = _distance_features(queries)
    d_limbs, d_features = _distance_features(database)
    d_norms = [np.sum(f ** 2, axis=1) for f in d_features]
    k = min(candidates, len(d_limbs))
    errors, indices = np.empty(len(q_limbs)), np.empty(len(q_limbs), dtype=np.int64)
    for start in range(0, len(q_limbs), chunk):
        pairs = []   # (query row in the chunk, database index) of every candidate
        for f, d, norm in zip(q_features, d_features, d_norms):
            distance = f[start:start + chunk] @ d.T     # squared distance up to the query's norm
            distance *= -2
            distance += norm
            kth = np.partition(distance, k - 1, axis=1)[:, k - 1:k]   # faster than argpartition
            pairs.append(np.nonzero(distance <= kth))
        rows, cols = (np.concatenate(p) for p in zip(*pairs))
        error = metrics.p_mpjpe(d_limbs[cols], q_limbs[start + rows])
        order = np.lexsort((error, rows))                # by query, best candidate first
        first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
        errors[start + rows[first]] = error[first]
        indices[start + rows[first]] = cols[first]
    return errors, indices


def bone_lengths(poses):
    """Mean length (mm) of each named bone over all poses (left and right together)."""
    poses = np.asarray(poses, dtype=np.float64)
    return {name: float(np.mean([np.linalg.norm(poses[:, c] - poses[:, p], axis=-1) for c, p in pairs]))
            for name, pairs in BONES.items()}


def bone_table(poses_a, poses_b):
    """Rows (bone, mean mm in a, mean mm in b, ratio of proportions a/b): each length is first divided
    by the set's leg-plus-spine length, so 1.0 means the same body proportion whatever the height."""
    a, b = bone_lengths(poses_a), bone_lengths(poses_b)
    size_a, size_b = sum(a[n] for n in _SIZE_BONES), sum(b[n] for n in _SIZE_BONES)
    return [(name, a[name], b[name], (a[name] / size_a) / (b[name] / size_b)) for name in BONES]


def _angle(u, v):
    cos = np.sum(_unit(u) * _unit(v), axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def joint_angles(poses):
    """Joint angles (degrees) from positions, left and right sides concatenated: knee and elbow
    flexion (0 = straight), hip and shoulder elevation (angle of the thigh or upper arm from the
    pelvis or chest's down axis), trunk lean (hip-to-thorax from the vertical)."""
    poses = np.asarray(poses, dtype=np.float64)
    pelvis, chest = body_frames(poses)
    down_pelvis, down_chest = -pelvis[..., 2], -chest[..., 2]
    both = lambda f: np.concatenate([f(*ids) for ids in (("r",), ("l",))])  # noqa: E731
    leg = {"r": (1, 2, 3), "l": (4, 5, 6)}
    arm = {"r": (14, 15, 16), "l": (11, 12, 13)}
    return {
        "knee flexion": both(lambda s: _angle(poses[:, leg[s][1]] - poses[:, leg[s][0]],
                                              poses[:, leg[s][2]] - poses[:, leg[s][1]])),
        "elbow flexion": both(lambda s: _angle(poses[:, arm[s][1]] - poses[:, arm[s][0]],
                                               poses[:, arm[s][2]] - poses[:, arm[s][1]])),
        "hip elevation": both(lambda s: _angle(poses[:, leg[s][1]] - poses[:, leg[s][0]], down_pelvis)),
        "shoulder elevation": both(lambda s: _angle(poses[:, arm[s][1]] - poses[:, arm[s][0]], down_chest)),
        "trunk lean": _angle(poses[:, 8] - poses[:, 0], np.array([0.0, 0.0, 1.0])),
    }


def angle_table(pose_sets, percentiles=(5, 50, 95)):
    """Rows (angle, set name, percentiles...) for every joint angle and every named pose set."""
    angles = {name: joint_angles(poses) for name, poses in pose_sets.items()}
    first = next(iter(angles.values()))
    return [(angle, name, *np.percentile(values[angle], percentiles))
            for angle in first for name, values in angles.items()]


def synthetic_database(n, seed=0):
    """`n` synthetic poses, the activities in equal shares, each activity on a random body."""
    rng = np.random.default_rng(seed)
    shares = np.diff(np.linspace(0, n, len(synthetic.ACTIVITIES) + 1).astype(int))
    return np.concatenate([synthetic.generate_poses(m, activity, rng, synthetic.Body.random(rng))
                           for m, activity in zip(shares, synthetic.ACTIVITIES)])


def uniform_angle_poses(n, seed=0):
    """The reference without any knowledge of movement: every joint angle drawn independently and
    uniformly within its anatomical range (`synthetic.JOINT_RANGES`)."""
    rng = np.random.default_rng(seed)
    angles = {name: rng.uniform(lo, hi, n) for name, (lo, hi) in synthetic.JOINT_RANGES.items()}
    angles["yaw"] = rng.uniform(-180, 180, n)
    return synthetic.pose_from_angles(angles)


@dataclass
class RealismReport:
    """Everything notebook 02 plots: per-frame nearest-pose errors (mm) by comparison, the bone
    table of synthetic against real, and the joint-angle table."""

    errors: dict
    bones: list
    angles: list
    frame_step: int
    database_size: int

    def summary_rows(self):
        """Rows (comparison, frames, median mm, 90th percentile mm)."""
        return [(name, len(e), float(np.median(e)), float(np.percentile(e, 90)))
                for name, e in self.errors.items()]

    def format(self):
        lines = [f"nearest-pose P-MPJPE over the limb joints (mm), common skeleton, real frames every "
                 f"{self.frame_step}th at 120 Hz, databases of {self.database_size:,} poses",
                 f"{'comparison':<44} {'frames':>7} {'median':>7} {'p90':>7}"]
        lines += [f"{name:<44} {n:>7} {med:>7.1f} {p90:>7.1f}" for name, n, med, p90 in self.summary_rows()]
        lines += ["", "bone lengths (mm) and ratio of proportions synthetic/real",
                  f"{'bone':<12} {'synthetic':>9} {'real':>7} {'ratio':>6}"]
        lines += [f"{name:<12} {a:>9.0f} {b:>7.0f} {r:>6.2f}" for name, a, b, r in self.bones]
        lines += ["", "joint angles (degrees): 5th, 50th, 95th percentiles",
                  f"{'angle':<19} {'set':<10} {'p5':>6} {'p50':>6} {'p95':>6}"]
        lines += [f"{angle:<19} {name:<10} {p5:>6.0f} {p50:>6.0f} {p95:>6.0f}"
                  for angle, name, p5, p50, p95 in self.angles]
        return "\n".join(lines)


def compare_with_real(real_by_subject, database_size=100_000, frame_step=1, seed=0):
    """The realism report of synthetic poses against real ones.

    real_by_subject: subject -> real world poses (N, 17, 3) mm (already subsampled by `frame_step`,
    which is only reported). Compares every real frame with `database_size` synthetic poses, with as
    many uniform-angle poses, and, when there are two subjects, each subject with the other one.
    """
    real = np.concatenate(list(real_by_subject.values()))
    synthetic_poses = synthetic_database(database_size, seed)
    errors = {
        "real -> nearest synthetic": nearest_pose_errors(real, synthetic_poses)[0],
        "real -> nearest uniform-angle pose":
            nearest_pose_errors(real, uniform_angle_poses(database_size, seed))[0],
    }
    subjects = list(real_by_subject)
    if len(subjects) == 2:
        a, b = subjects
        errors[f"real {b} -> nearest real {a} (reference)"] = nearest_pose_errors(
            real_by_subject[b], real_by_subject[a])[0]
        errors[f"real {a} -> nearest real {b} (reference)"] = nearest_pose_errors(
            real_by_subject[a], real_by_subject[b])[0]
    return RealismReport(errors, bone_table(synthetic_poses, real),
                         angle_table({"synthetic": synthetic_poses, "real": real}), frame_step, database_size)


def cmu_report(data_dir, frame_step=4, database_size=100_000, seed=0):
    """`compare_with_real` on the CMU subjects of `data_dir`, every `frame_step`-th frame."""
    from mdnlib.sources.cmu import load_cmu
    cmu = load_cmu(data_dir, step=frame_step)
    by_subject = {s: np.concatenate([cmu.poses_3d[s][a] for a in cmu.actions(s)]) for s in cmu.subjects}
    return compare_with_real(by_subject, database_size, frame_step, seed)
