"""The two small inverse problems of the course, in plain NumPy.

1. The depth ambiguity of a skeleton seen by a pinhole camera (notebook 01): each bone's child
   lies on its camera ray at a fixed distance from its parent, so it can sit at either of the
   two intersections of the ray with a sphere; flipping bones changes the 3D pose while its 2D
   projection stays fixed.
2. Bishop's 1-D inverse problem (notebook 04): x = t + 0.3 sin(2 pi t) + noise, learnt
   backwards (t from x), where one input has up to three valid answers; plus 1-D mixtures.

Poses are 17-joint camera-frame poses in mm (x right, y down, z forward = depth).
"""
import numpy as np

from mdnlib import skeleton

# A standing person 4.5 m in front of the camera, facing it, with a bent left knee, a left
# forearm pointing at the camera and a raised right arm (mm, relative to the hip).
_EXAMPLE_POSE = np.array([
    [0, 0, 0],            # Hip
    [-130, 0, 0],         # RHip
    [-140, 430, -60],     # RKnee
    [-150, 850, 20],      # RFoot
    [130, 0, 0],          # LHip
    [160, 420, -120],     # LKnee
    [170, 820, 60],       # LFoot
    [0, -230, 10],        # Spine
    [0, -480, 20],        # Thorax
    [0, -580, -60],       # Neck/Nose
    [0, -680, -10],       # Head
    [170, -460, 20],      # LShoulder
    [300, -250, -120],    # LElbow
    [330, -300, -370],    # LWrist
    [-170, -460, 20],     # RShoulder
    [-420, -470, 60],     # RElbow
    [-600, -650, -50],    # RWrist
], dtype=float)


def example_pose(depth=4500.0):
    """A hand-built 17-joint pose in the camera frame (mm), its hip `depth` mm from the camera."""
    return _EXAMPLE_POSE + np.array([0.0, 0.0, depth])


def bone_lengths(pose):
    """Length of the bone ending at each joint (17,), in mm; 0 for the root."""
    pose = np.asarray(pose, dtype=float)
    parents = np.maximum(skeleton.PARENTS_17, 0)
    return np.linalg.norm(pose - pose[..., parents, :], axis=-1)


def bone_candidates(ray, parent, length):
    """The two points of a camera ray at distance `length` from `parent` (notebook 01).

    ray: (..., 3) any direction of the ray through the camera centre, e.g. (x/z, y/z, 1);
    parent: (..., 3) mm; returns (..., 2, 3): the nearer then the farther intersection of the
    ray with the sphere of radius `length` around the parent. Where the ray misses the sphere
    (possible after the parent moved), both are the closest point of the ray to the sphere.
    """
    ray = np.asarray(ray, dtype=float)
    parent = np.asarray(parent, dtype=float)
    a = np.sum(ray * ray, axis=-1)
    b = np.sum(ray * parent, axis=-1)
    c = np.sum(parent * parent, axis=-1) - np.asarray(length, dtype=float) ** 2
    root = np.sqrt(np.maximum(b * b - a * c, 0.0))
    scales = np.stack([(b - root) / a, (b + root) / a], axis=-1)  # (..., 2)
    return scales[..., None] * ray[..., None, :]


def depth_choices(pose):
    """For each joint, True where it sits at the farther of its two candidates (17,)."""
    pose = np.asarray(pose, dtype=float)
    parent = pose[np.maximum(skeleton.PARENTS_17, 0)]
    midpoint = np.sum(pose * parent, axis=-1) / np.sum(pose * pose, axis=-1)  # in units of the ray
    choices = midpoint < 1.0      # the joint is beyond the middle of the two candidates
    choices[skeleton.ROOT] = False
    return choices


def lift_pose(rays, root, lengths, choices):
    """Rebuild 3D poses from rays, the root position, bone lengths and near/far choices.

    rays (17, 3); root (3,) mm; lengths (17,) mm; choices (..., 17) bool (True = farther).
    Joints are placed from the root outwards (every parent comes before its children).
    """
    choices = np.asarray(choices, dtype=bool)
    poses = np.zeros(choices.shape + (3,))
    poses[..., skeleton.ROOT, :] = root
    for j, p in enumerate(skeleton.PARENTS_17):
        if p < 0:
            continue
        candidates = bone_candidates(rays[j], poses[..., p, :], lengths[j])
        poses[..., j, :] = np.where(choices[..., j, None], candidates[..., 1, :], candidates[..., 0, :])
    return poses


def flip_bones(pose, flips):
    """The pose with the given bones flipped, seen identically by the camera (notebook 01).

    `flips`: joint indices (each names the bone ending at it) or a boolean mask (..., 17).
    Each flipped joint moves to the other intersection of its ray with the sphere around its
    parent; the other joints keep their own near/far choice, so every bone keeps its length.
    """
    pose = np.asarray(pose, dtype=float)
    mask = np.asarray(flips)
    if mask.dtype != bool:
        indices, mask = mask, np.zeros(17, dtype=bool)
        mask[indices.astype(int)] = True
    if mask[..., skeleton.ROOT].any():
        raise ValueError("the root joint has no bone to flip")
    return lift_pose(pose, pose[skeleton.ROOT], bone_lengths(pose), depth_choices(pose) ^ mask)


def flip_gaps(pose):
    """How far (mm) each joint would move if its bone alone were flipped (17,); 0 for the root."""
    pose = np.asarray(pose, dtype=float)
    candidates = bone_candidates(pose, pose[np.maximum(skeleton.PARENTS_17, 0)], bone_lengths(pose))
    gaps = np.linalg.norm(candidates[:, 1] - candidates[:, 0], axis=-1)
    gaps[skeleton.ROOT] = 0.0
    return gaps


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _angle(u, v):
    """Angle in degrees between vectors (..., 3)."""
    cos = np.sum(_unit(u) * _unit(v), axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def joint_limit_violations(poses):
    """Rough anatomical rules a real person obeys, as {rule: bool array (...,) True = broken}.

    Coarse on purpose (notebook 01 counts the flips that survive them): knees bend backwards
    only, elbows do not fold flat, the torso does not bend back beyond 45 degrees, the nose is in
    front of the head, hips and shoulders stay across the spine and are not twisted apart.
    """
    p = np.asarray(poses, dtype=float)
    j = skeleton.joint_index
    up = p[..., j("Thorax"), :] - p[..., j("Hip"), :]
    hips = p[..., j("LHip"), :] - p[..., j("RHip"), :]
    shoulders = p[..., j("LShoulder"), :] - p[..., j("RShoulder"), :]
    forward = _unit(np.cross(hips, up))
    rules = {}
    for side in "LR":
        hip, knee, foot = (p[..., j(side + n), :] for n in ("Hip", "Knee", "Foot"))
        leg = foot - hip
        off_line = (knee - hip) - _unit(leg) * np.sum((knee - hip) * _unit(leg), axis=-1, keepdims=True)
        rules[f"{side} knee bends forward"] = np.sum(off_line * forward, axis=-1) < -30.0
        shoulder, elbow, wrist = (p[..., j(side + n), :] for n in ("Shoulder", "Elbow", "Wrist"))
        rules[f"{side} elbow folds flat"] = _angle(shoulder - elbow, wrist - elbow) < 25.0
    spine = p[..., j("Spine"), :]
    lower, upper = spine - p[..., j("Hip"), :], p[..., j("Thorax"), :] - spine
    rules["torso bends back"] = (_angle(lower, upper) > 45.0) & (np.sum((upper - lower) * forward, -1) < 0)
    face = p[..., j("Neck/Nose"), :] - (p[..., j("Thorax"), :] + p[..., j("Head"), :]) / 2
    rules["nose behind the head"] = np.sum(face * forward, axis=-1) < 0
    rules["hips not across the spine"] = np.abs(90.0 - _angle(hips, up)) > 30.0
    rules["shoulders not across the spine"] = np.abs(90.0 - _angle(shoulders, up)) > 30.0
    rules["shoulders twisted from the hips"] = _angle(hips, shoulders) > 60.0
    return rules


def count_flips(pose, min_gap=20.0):
    """Count the 3D poses that share the 2D projection of `pose` (notebook 01).

    Bones whose flip moves the joint by less than `min_gap` mm (bones nearly parallel to the
    image plane) do not give a new pose. Returns a dict: `bones` (the ambiguous joints),
    `total` = 2**len(bones), `plausible` (poses breaking no joint limit, the input included)
    `broken` ({rule: how many poses break it}) and `plausible_flips` (boolean masks (P, 17) for
    `flip_bones`, the unflipped pose first).
    """
    pose = np.asarray(pose, dtype=float)
    bones = [int(k) for k in np.flatnonzero(flip_gaps(pose) >= min_gap)]
    combos = (np.arange(2 ** len(bones))[:, None] >> np.arange(len(bones))) & 1  # (2^k, k)
    masks = np.zeros((len(combos), 17), dtype=bool)
    masks[:, bones] = combos.astype(bool)
    poses = flip_bones(pose, masks)
    rules = joint_limit_violations(poses)
    broken_any = np.any(np.stack(list(rules.values())), axis=0)
    return {"bones": [skeleton.JOINTS_17[k] for k in bones], "total": len(combos),
            "plausible": int(np.sum(~broken_any)),
            "broken": {rule: int(v.sum()) for rule, v in rules.items()},
            "plausible_flips": masks[~broken_any]}


# --- Bishop's 1-D inverse problem (notebook 04) ---------------------------------------------

def bishop_curve(t):
    """The forward map of Bishop (1994): x = t + 0.3 sin(2 pi t), one x for every t."""
    t = np.asarray(t, dtype=float)
    return t + 0.3 * np.sin(2 * np.pi * t)


def bishop_data(n, rng=None, noise=0.1):
    """`n` examples of the inverted problem: inputs x (n,) and targets t (n,).

    t is uniform on [0, 1] and x = t + 0.3 sin(2 pi t) + uniform noise in [-noise, noise];
    learning t from x is the inverse problem: for x near 0.5 there are three valid t.
    """
    rng = np.random.default_rng(rng)
    t = rng.uniform(0.0, 1.0, n)
    x = bishop_curve(t) + rng.uniform(-noise, noise, n)
    return x, t


def mixture_pdf(y, mu, sigma, alpha):
    """Density of 1-D Gaussian mixtures on a grid: y (G,), mu/sigma/alpha (..., M) -> (..., G)."""
    y = np.asarray(y, dtype=float)[..., :, None]
    mu, sigma, alpha = (np.asarray(v, dtype=float)[..., None, :] for v in (mu, sigma, alpha))
    return np.sum(alpha * np.exp(-0.5 * ((y - mu) / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma), axis=-1)


def sample_mixture(mu, sigma, alpha, rng=None):
    """One sample per row from isotropic Gaussian mixtures (notebook 04).

    mu (N, M) for 1-D or (N, M, D); sigma, alpha (N, M). First a kernel is drawn with
    probabilities alpha, then a point from that kernel. Returns (samples (N,) or (N, D),
    kernels (N,)).
    """
    rng = np.random.default_rng(rng)
    mu, sigma, alpha = (np.asarray(v, dtype=float) for v in (mu, sigma, alpha))
    cumulative = np.cumsum(alpha / alpha.sum(axis=-1, keepdims=True), axis=-1)
    kernels = np.minimum((rng.uniform(size=(len(alpha), 1)) > cumulative).sum(axis=-1), alpha.shape[-1] - 1)
    rows = np.arange(len(alpha))
    centre, spread = mu[rows, kernels], sigma[rows, kernels]
    if centre.ndim == 2:
        spread = spread[:, None]
    return centre + spread * rng.standard_normal(centre.shape), kernels


def _mlp_1d(keras, hidden):
    """The shared body of the 1-D networks: input x, two tanh layers; returns (inputs, features)."""
    inputs = keras.Input(shape=(1,))
    h = keras.layers.Dense(hidden, activation="tanh")(inputs)
    h = keras.layers.Dense(hidden, activation="tanh")(h)
    return inputs, h


def build_regression_1d(hidden=32):
    """A small network x -> t trained with the squared error: it predicts the average of the
    valid answers (notebook 04)."""
    from mdnlib.config import import_keras
    keras = import_keras()
    inputs, h = _mlp_1d(keras, hidden)
    model = keras.Model(inputs, keras.layers.Dense(1)(h), name="regression_1d")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model


def build_mdn_1d(num_kernels=5, hidden=32, beta=1.0, sigma_floor=1e-3):
    """A small 1-D mixture density network (notebook 04), the paper's head in miniature.

    Output (B, 3M) = [means, sigmas, mixing weights]; sigma = ELU + 1 + `sigma_floor`, weights by
    softmax. Trained on the mixture NLL of `mdnlib.losses` plus the Dirichlet prior with `beta`
    (1 = no prior).
    """
    from mdnlib.config import import_keras
    keras = import_keras()

    from mdnlib import losses

    inputs, h = _mlp_1d(keras, hidden)
    mu = keras.layers.Dense(num_kernels, name="mu")(h)
    sigma = keras.layers.Dense(num_kernels, activation=lambda v: keras.ops.elu(v) + 1.0 + sigma_floor,
                               name="sigma")(h)
    alpha = keras.layers.Dense(num_kernels, activation="softmax", name="alpha")(h)
    model = keras.Model(inputs, keras.layers.Concatenate()([mu, sigma, alpha]), name="mdn_1d")

    def loss(y_true, output):
        mu, sigma, alpha = keras.ops.split(output, 3, axis=-1)
        y = keras.ops.reshape(y_true, (-1, 1))
        nll = losses.mixture_nll(y, keras.ops.expand_dims(mu, -1), sigma, alpha)
        return nll + losses.dirichlet_prior(alpha, beta)

    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
    return model


def split_mixture(output):
    """Split a 1-D MDN output (N, 3M) into NumPy means, sigmas and weights, each (N, M)."""
    return tuple(np.split(np.asarray(output, dtype=float), 3, axis=-1))


# --- Which flips the synthetic generator could have made (bench/ambiguity.py) ----------------

def _rotation(axis, radians):
    """Rotation matrices (..., 3, 3) about a coordinate axis, as `synthetic.pose_from_angles` uses."""
    c, s = np.cos(radians), np.sin(radians)
    i, k = [(1, 2), (2, 0), (0, 1)][axis]
    R = np.zeros(np.shape(radians) + (3, 3))
    R[..., axis, axis] = 1.0
    R[..., i, i], R[..., k, k] = c, c
    R[..., i, k], R[..., k, i] = -s, s
    return R


def _frame(y, z):
    """Right-handed frames (..., 3, 3), columns x, y, z: z as given, y made orthogonal to it."""
    z = _unit(z)
    y = _unit(y - np.sum(y * z, axis=-1, keepdims=True) * z)
    return np.stack([np.cross(y, z), y, z], axis=-1)


def _local(frame, v):
    """Vectors (..., 3) expressed in the columns of frames (..., 3, 3)."""
    return np.einsum("...ij,...i->...j", frame, v)


def _torso_frames(p):
    """Pelvis and chest frames (..., 3, 3) of the generator (x forward, y left, z up).

    The chest is exact: its z axis is the upper spine and the shoulders differ only in y and z.
    The pelvis is not visible on its own: the generator splits the spine bend (flex, side bend,
    twist) into two equal rotations, pelvis -> lower spine -> chest, so it follows from the chest,
    the lower spine and the hip line; of the two signs of the flexion, the one that reproduces
    the hip line is kept.
    """
    j = skeleton.joint_index
    chest = _frame(p[..., j("LShoulder"), :] - p[..., j("RShoulder"), :],
                   p[..., j("Thorax"), :] - p[..., j("Spine"), :])
    hip_line = _unit(p[..., j("LHip"), :] - p[..., j("RHip"), :])
    lower_z = _unit(p[..., j("Spine"), :] - p[..., j("Hip"), :])
    side = np.arcsin(np.clip(np.sum(hip_line * lower_z, axis=-1), -1.0, 1.0))
    c = _local(chest, lower_z)                              # = B^T e_z, B the half bend
    flex = np.arccos(np.clip(c[..., 2] / np.cos(side), -1.0, 1.0))
    p_y = _local(chest, hip_line)                           # = B^T B^T e_y
    best, best_error = None, np.inf
    for f in (flex, -flex):
        twist = np.arctan2(-np.cos(f) * np.sin(side), -np.sin(f)) - np.arctan2(c[..., 1], c[..., 0])
        for t in (twist, np.arctan2(p_y[..., 0], p_y[..., 1]) / 2):   # the second: no bend at all
            half = _rotation(1, f) @ _rotation(0, -side) @ _rotation(2, t)
            pelvis = chest @ np.swapaxes(half @ half, -1, -2)
            error = (np.linalg.norm(pelvis[..., 1] - hip_line, axis=-1)
                     + np.linalg.norm((pelvis @ half)[..., 2] - lower_z, axis=-1))
            if best is None:
                best, best_error = pelvis, error
            else:
                better = error < best_error
                best = np.where(better[..., None, None], pelvis, best)
                best_error = np.minimum(error, best_error)
    return best, chest


def _bend(direction, child_direction, frame):
    """Angle (degrees) between a segment and the next, and the direction of the bend in `frame`
    coordinates (unit, (..., 3)): the part of the next segment across the first."""
    cos = np.clip(np.sum(direction * child_direction, axis=-1), -1.0, 1.0)
    across = child_direction - cos[..., None] * direction
    with np.errstate(invalid="ignore", divide="ignore"):   # a straight limb has no bend direction
        return np.degrees(np.arccos(cos)), _local(frame, _unit(across))


def _wrap(degrees):
    return (degrees + 180.0) % 360.0 - 180.0


def limb_angles(poses, undefined_below=0.5):
    """The limb angles of 17-joint poses (..., 17, 3) mm, in the conventions of the synthetic
    generator (`mdnlib.sources.synthetic`), degrees: {"hip_flex_l": (...,), ...}, the 16 limb
    names of `synthetic.JOINT_RANGES`.

    The inverse of `synthetic.pose_from_angles` for the limbs, so that any pose (a flipped one,
    a real one) can be checked against the generator's anatomical ranges. An angle that the pose
    does not fix is NaN: a hip's or shoulder's rotation when the knee or elbow is straight
    (within `undefined_below` degrees), an arm's plane and rotation when it hangs straight
    down or points straight up.
    """
    p = np.asarray(poses, dtype=np.float64)
    pelvis, chest = _torso_frames(p)
    j = skeleton.joint_index
    angles = {}
    for s, sign, side in (("l", 1.0, "L"), ("r", -1.0, "R")):
        hip, knee, foot = (p[..., j(side + n), :] for n in ("Hip", "Knee", "Foot"))
        thigh = _unit(knee - hip)
        d = _local(pelvis, thigh)
        abd = np.arcsin(np.clip(sign * d[..., 1], -1.0, 1.0))
        flex = np.arctan2(d[..., 0], -d[..., 2])
        zero = pelvis @ _rotation(1, -flex) @ _rotation(0, sign * abd)
        bend, b = _bend(thigh, _unit(foot - knee), zero)   # the shank bends towards -x
        rot = _wrap(sign * np.degrees(np.arctan2(-b[..., 1], -b[..., 0])))
        angles[f"hip_flex_{s}"], angles[f"hip_abd_{s}"] = np.degrees(flex), np.degrees(abd)
        angles[f"hip_rot_{s}"] = np.where(bend < undefined_below, np.nan, rot)
        angles[f"knee_{s}"] = bend

        shoulder, elbow, wrist = (p[..., j(side + n), :] for n in ("Shoulder", "Elbow", "Wrist"))
        upper = _unit(elbow - shoulder)
        d = _local(chest, upper)
        elev = np.arccos(np.clip(-d[..., 2], -1.0, 1.0))
        plane = np.arctan2(d[..., 0], sign * d[..., 1])
        zero = chest @ _rotation(2, -sign * plane) @ _rotation(0, sign * elev)
        bend, b = _bend(upper, _unit(wrist - elbow), zero)  # the forearm bends towards +x
        rot = _wrap(sign * np.degrees(np.arctan2(b[..., 1], b[..., 0])) - np.degrees(plane))
        hanging = np.minimum(np.degrees(elev), 180.0 - np.degrees(elev)) < undefined_below
        angles[f"arm_plane_{s}"] = np.where(hanging, np.nan, np.degrees(plane))
        angles[f"arm_elev_{s}"] = np.degrees(elev)
        angles[f"arm_rot_{s}"] = np.where(hanging | (bend < undefined_below), np.nan, rot)
        angles[f"elbow_{s}"] = bend
    return angles


# The angles of each limb, named as in `synthetic.JOINT_RANGES`.
LIMB_ANGLES = {limb: tuple(f"{name}_{s}" for name in names)
               for limb, names, s in (("right leg", ("hip_flex", "hip_abd", "hip_rot", "knee"), "r"),
                                      ("left leg", ("hip_flex", "hip_abd", "hip_rot", "knee"), "l"),
                                      ("left arm", ("arm_plane", "arm_elev", "arm_rot", "elbow"), "l"),
                                      ("right arm", ("arm_plane", "arm_elev", "arm_rot", "elbow"), "r"))}


def limbs_in_generator_ranges(poses, tolerance=1.0):
    """Per limb ("left leg", ... as `skeleton.LIMB_CHAINS`), True where every angle of the limb lies
    within the synthetic generator's range (`synthetic.JOINT_RANGES`, widened by `tolerance`
    degrees; an undefined angle passes) and, for the arms, no elbow or wrist lies inside the
    torso: whether the generator could have made that limb. (...,) bool arrays.
    """
    from mdnlib.sources.synthetic import JOINT_RANGES, limbs_clear_of_torso

    p = np.asarray(poses, dtype=np.float64)
    angles = limb_angles(p)
    clear = limbs_clear_of_torso(p.reshape(-1, 17, 3)).reshape(p.shape[:-2])
    result = {}
    for limb, names in LIMB_ANGLES.items():
        inside = clear.copy() if limb.endswith("arm") else np.ones(p.shape[:-2], dtype=bool)
        for name in names:
            (lo, hi), value = JOINT_RANGES[name], angles[name]
            inside &= np.isnan(value) | ((value >= lo - tolerance) & (value <= hi + tolerance))
        result[limb] = inside
    return result


def single_flips_in_generator_ranges(pose, tolerance=1.0):
    """For one camera-frame pose (17, 3) mm: (8,) bool in `skeleton.LIMB_JOINTS` order, True where
    flipping that joint's bone alone (`flip_bones`) leaves a pose whose flipped limb the
    generator could have made (`limbs_in_generator_ranges`): which of the geometric depth
    ambiguities the synthetic data can really contain."""
    joints = [skeleton.joint_index(name) for name in skeleton.LIMB_JOINTS]
    masks = np.zeros((len(joints), 17), dtype=bool)
    masks[np.arange(len(joints)), joints] = True
    inside = limbs_in_generator_ranges(flip_bones(pose, masks), tolerance)
    limb_of = {j: limb for limb in LIMB_ANGLES for j in skeleton.LIMB_CHAINS[limb]}
    return np.array([inside[limb_of[j]][k] for k, j in enumerate(joints)])


# ---- notebook 08: the exact answers of Bishop's problem, to judge a sampler ----------------------

def bishop_conditional(x, rng=None, noise=0.1):
    """One exact draw of y given each x (n,) of Bishop's problem (notebook 08): y uniform on [0, 1],
    kept where |x - bishop_curve(y)| <= noise (rejection sampling), as `bishop_data` makes the
    pairs. Returns (n,); an x that no y in [0, 1] reaches raises a ValueError."""
    x = np.asarray(x, dtype=float)
    if np.any((x < bishop_curve(0.0) - noise) | (x > bishop_curve(1.0) + noise)):
        raise ValueError(f"x must lie in [{-noise}, {1 + noise}], where Bishop's data have answers")
    rng = np.random.default_rng(rng)
    y, todo = np.full(x.shape, np.nan), np.arange(x.size)
    while todo.size:
        candidates = rng.uniform(0.0, 1.0, todo.size)
        kept = np.abs(x.flat[todo] - bishop_curve(candidates)) <= noise
        y.flat[todo[kept]] = candidates[kept]
        todo = todo[~kept]
    return y


def conditional_distance(x, samples, reference, bins=20):
    """How far samples of y given x lie from reference draws, both (n,) for the same inputs x (n,)
    (notebook 08): the inputs are cut into `bins` groups of neighbouring x, and the 1-D Wasserstein
    distance between the samples and the reference of each group (the mean gap between their
    sorted values) is averaged over the groups; in y's units, 0 for identical distributions up to
    the noise of finite samples."""
    x, samples, reference = (np.asarray(v, dtype=float) for v in (x, samples, reference))
    if not x.shape == samples.shape == reference.shape or x.ndim != 1:
        raise ValueError(f"x, samples and reference must be (n,) each, got {x.shape}, {samples.shape}, {reference.shape}")
    groups = np.array_split(np.argsort(x, kind="stable"), bins)
    return float(np.mean([np.mean(np.abs(np.sort(samples[g]) - np.sort(reference[g]))) for g in groups]))
