"""Exercise checks of notebooks 01-07: call the learner's function, compare with mdnlib.

Each `check_*` takes the learner's function, runs it on fixed inputs, compares the result with
the reference in `mdnlib` and either prints one line starting with "passed" or raises an
AssertionError whose message says what is probably wrong and how to fix it. A stub that still
raises NotImplementedError lets that error through, as nbgrader expects.

| check | notebook | reference |
|---|---|---|
| `check_project` | 01 | `mdnlib.camera.Camera.project_camera` |
| `check_bone_candidates` | 01 | `mdnlib.toy.bone_candidates` |
| `check_logsumexp_nll` | 04 | `mdnlib.losses.mixture_nll` |
| `check_sigma_activation` | 04 | ELU + 1 + floor, as in `mdnlib.toy.build_mdn_1d` |
| `check_sample_mixture` | 04 | `mdnlib.toy.sample_mixture` |
| `check_root_centre` | 02 | `mdnlib.dataset.camera_frame_arrays` |
| `check_zscore` | 02 | `mdnlib.dataset.Normalizer` |
| `check_mpjpe` | 03 | `mdnlib.metrics.mpjpe` |
| `check_averaged_bone_length` | 03 | midpoint of `mdnlib.toy.bone_candidates` |
| `check_mixture_head` | 05 | `mdnlib.models.MixtureHead` |
| `check_kernels_in_use` | 05 | `mdnlib.metrics.kernel_usage` |
| `check_procrustes` | 06 | `mdnlib.metrics.procrustes_align` |
| `check_best_and_most_likely` | 06 | `mdnlib.metrics.best_of_m` |
| `check_calibration_ece` | 06 | `mdnlib.metrics.coverage`, `expected_calibration_error` |
| `check_depth_spread` | 07 | `mdnlib.hypotheses.depth_spread` |
| `check_choose_multiview` | 07 | `mdnlib.hypotheses.choose_multiview` |
"""
import numpy as np

from mdnlib import camera, toy


def _fail(message):
    raise AssertionError(message)


def _call(fn, *args):
    """Call the learner's function; fail with a hint when it returns nothing."""
    value = fn(*args)
    if value is None:
        _fail(f"{fn.__name__} returned None: did you forget the `return` statement?")
    return value


def _call_pair(fn, *args, hint):
    """Call the learner's function that must return two things; `hint` says which two."""
    value = _call(fn, *args)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        _fail(hint)
    return value


def _result(fn, *args, shape=None):
    """Call the learner's function; the result as a float array, checked for None and shape."""
    value = _call(fn, *args)
    value = np.asarray(value, dtype=float)
    if shape is not None and value.shape != tuple(shape):
        _fail(f"{fn.__name__} returned shape {value.shape}, expected {tuple(shape)}.")
    return value


def _overflow_free(fn, message):
    """`fn`, called with NumPy overflow turned into an error that fails with `message`.

    Without it `np.where(x > 0, x, np.exp(x) - 1)` passes silently: the overflow of the unused
    branch only warns, and np.where then picks the finite branch."""
    def call(*args):
        try:
            with np.errstate(over="raise"):
                return fn(*args)
        except FloatingPointError as error:
            _fail(f"{message} (NumPy: {error}). np.where(x > 0, x, np.exp(x) - 1) still computes "
                  "np.exp(x) for EVERY x, the large ones included; take np.exp of np.minimum(x, 0)")
    call.__name__ = fn.__name__
    return call


def _passed(text):
    print(f"passed: {text}")


# --- notebook 01 -----------------------------------------------------------------------------

def check_project(fn):
    """`fn(points (N, 3) camera frame mm, f (2,), c (2,)) -> (N, 2) pixels`: pinhole projection."""
    rng = np.random.default_rng(1)
    points = rng.uniform([-800, -900, 2500], [800, 900, 6000], size=(20, 3))
    f, c = np.array([1145.0, 1143.8]), np.array([512.5, 515.4])
    expected = camera.Camera(R=np.eye(3), T=np.zeros(3), f=f, c=c).project_camera(points)
    got = _result(fn, points.copy(), f.copy(), c.copy(), shape=expected.shape)
    if np.allclose(got, expected, atol=1e-6):
        return _passed("your projection matches mdnlib.camera on 20 points")
    xy = points[:, :2]
    hints = [
        (f * xy + c, "you forgot to divide by depth: x/z and y/z, then scale by f and add c"),
        (f * xy / points[:, 2:], "add the principal point c: pixel = f * (x/z, y/z) + c"),
        (xy / points[:, 2:] + c, "multiply by the focal length f (in pixels) before adding c"),
        (f[::-1] * xy / points[:, 2:] + c[::-1], "f and c are (x, y) pairs: use f[0], c[0] for x "
                                                 "and f[1], c[1] for y"),
        ((f * xy / points[:, 2:] + c)[:, ::-1], "columns swapped: return (x, y), not (y, x)"),
    ]
    for wrong, hint in hints:
        if np.allclose(got, wrong, atol=1e-6):
            _fail(hint)
    worst = int(np.argmax(np.abs(got - expected).max(axis=1)))
    _fail(f"point {points[worst].round(1)} mm projects to {expected[worst].round(2)} px, yours gives "
          f"{got[worst].round(2)}: pixel = f * (x/z, y/z) + c")


def check_bone_candidates(fn):
    """`fn(ray (3,), parent (3,) mm, length mm) -> (2, 3)`: the two joint positions on the ray
    at `length` from the parent, nearer first."""
    cases = [(np.array([0.05, -0.1, 1.0]), np.array([100.0, -300.0, 4500.0]), 300.0),
             (np.array([-0.04, 0.12, 1.0]), np.array([-150.0, 420.0, 4400.0]), 440.0),
             (np.array([0.0, 0.0, 2.0]), np.array([20.0, 0.0, 3000.0]), 250.0)]
    for ray, parent, length in cases:
        expected = toy.bone_candidates(ray, parent, length)
        got = _result(fn, ray.copy(), parent.copy(), length, shape=(2, 3))
        if np.allclose(got, expected, atol=1e-3):
            continue
        on_ray = np.linalg.norm(np.cross(got, ray), axis=-1) / np.linalg.norm(ray)
        if np.any(on_ray > 1e-3):
            _fail("your points are not on the camera ray: every point of the ray is s * ray "
                  "for a number s (the camera centre is the origin)")
        distances = np.linalg.norm(got - parent, axis=-1)
        if not np.allclose(distances, length, atol=1e-3):
            hint = (" (this ray is not a unit vector: in a s^2 - 2 b s + c = 0 keep a = ray . ray)"
                    if not np.isclose(ray @ ray, 1.0) else "")
            _fail(f"your points are {distances.round(1)} mm from the parent, not {length} mm: solve "
                  f"|s * ray - parent| = length for s, a quadratic with two roots{hint}")
        if np.allclose(got, expected[::-1], atol=1e-3):
            _fail("right points, wrong order: return the nearer point (smaller depth) first")
        if np.allclose(got[0], got[1], atol=1e-3):
            _fail("both of your points are the same: the quadratic has two roots, b - sqrt(...) "
                  "and b + sqrt(...); return both")
        _fail(f"for ray {ray}, parent {parent} and length {length} the candidates are "
              f"{expected.round(1).tolist()}, yours are {got.round(1).tolist()}")
    _passed("your two candidates match mdnlib.toy.bone_candidates")


# --- notebook 04 -----------------------------------------------------------------------------

def _mixture_case(dim, batch, kernels, scale, sigma_range, rng):
    rng = np.random.default_rng(rng)
    y = rng.normal(size=(batch, dim))
    mu = y[:, None, :] + scale * rng.normal(size=(batch, kernels, dim))
    sigma = rng.uniform(*sigma_range, size=(batch, kernels))
    alpha = rng.dirichlet(np.ones(kernels), size=batch)
    return y, mu, sigma, alpha


def check_logsumexp_nll(fn):
    """`fn(y (B, D), mu (B, M, D), sigma (B, M), alpha (B, M)) -> float`: the mean mixture NLL,
    stable for realistic 48-D numbers."""
    from mdnlib import losses

    easy = _mixture_case(2, 8, 3, 0.5, (0.5, 1.5), rng=2)
    hard = _mixture_case(48, 16, 5, 3.0, (0.05, 0.3), rng=3)
    for name, case in (("a small 2-D example", easy), ("realistic 48-D numbers", hard)):
        expected = float(losses.mixture_nll(*case))
        value = _call(fn, *(np.array(v) for v in case))
        got = np.asarray(value, dtype=float)
        if got.shape not in ((), (1,)):
            _fail(f"return one number, the mean NLL over the batch; yours has shape {got.shape}")
        got = float(got.reshape(()))
        if np.isclose(got, expected, rtol=1e-6, atol=1e-6):
            continue
        batch, dim = case[0].shape
        if not np.isfinite(got):
            _fail(f"on {name} your NLL is {got}: exp() of very negative exponents underflows to 0 "
                  "and log(0) = -inf. Subtract the largest exponent before exp (log-sum-exp): "
                  "log sum exp(e_k) = m + log sum exp(e_k - m), m = max_k e_k")
        if np.isclose(got, -expected, rtol=1e-6):
            _fail("the sign is flipped: the loss is the NEGATIVE log-likelihood")
        if np.isclose(got, batch * expected, rtol=1e-6):
            _fail("average over the batch instead of summing")
        if np.isclose(got, expected - 0.5 * dim * np.log(2 * np.pi), rtol=1e-6):
            _fail("you left out the normalising constant - D/2 log(2 pi) of each Gaussian")
        _fail(f"on {name} the NLL is {expected:.6g}, yours is {got:.6g}. Per kernel: e_k = "
              "log(alpha_k) - D/2 log(2 pi) - D log(sigma_k) - |y - mu_k|^2 / (2 sigma_k^2); "
              "NLL = - mean over the batch of logsumexp_k(e_k)")
    _passed("your NLL matches mdnlib.losses.mixture_nll, also on 48-D numbers where the naive "
            "formula gives inf")


def check_sigma_activation(fn, floor=1e-3):
    """`fn(raw (N,)) -> sigma (N,)`: a positive, finite, increasing map with a floor (ELU + 1 + floor)."""
    raw = np.array([-1e4, -50.0, -5.0, -1.0, 0.0, 1.0, 5.0, 50.0, 1e4])
    with np.errstate(invalid="ignore"):
        got = _result(_overflow_free(fn, "your sigma is not finite for large inputs: exp overflows"),
                      raw.copy(), shape=raw.shape)
    if not np.all(np.isfinite(got)):
        _fail(f"your sigma is not finite for large inputs ({got[~np.isfinite(got)]}): exp overflows; "
              "ELU(x) + 1 grows only linearly")
    if np.any(got <= 0):
        _fail("your sigma can reach 0: add a floor, e.g. ELU(x) + 1 + 1e-3, so that log(sigma) "
              "and 1/sigma^2 stay finite for very negative inputs")
    if np.any(got < floor * (1 - 1e-6)):
        _fail(f"your sigma goes down to {got.min():.3g}: keep it at least {floor} (the floor), or "
              "the loss can reward a kernel for shrinking onto one training point")
    if np.any(np.diff(got) < 0):
        _fail("your sigma is not increasing in its input: use a monotonic map such as ELU(x) + 1")
    if not np.isclose(got[4], 1.0 + floor, rtol=1e-3):
        _fail(f"at 0 your sigma is {got[4]:.4g}; ELU(0) + 1 + floor = {1 + floor}")
    _passed("your sigma is positive, finite, increasing and floored")


def check_sample_mixture(fn):
    """`fn(mu (N, M), sigma (N, M), alpha (N, M), rng) -> (N,)`: one sample per row."""
    n = 20000
    mu = np.tile([-3.0, 0.0, 4.0], (n, 1))
    sigma = np.tile([0.2, 0.3, 0.4], (n, 1))
    alpha = np.tile([0.2, 0.3, 0.5], (n, 1))
    got = _result(fn, mu, sigma, alpha, np.random.default_rng(4))
    if got.ndim == 2 and got.shape[1] == 1:
        got = got[:, 0]
    if got.shape != (n,):
        _fail(f"return one sample per row, shape ({n},); yours has shape {got.shape}")
    if np.allclose(got, (alpha * mu).sum(axis=1)):
        _fail("all your samples sit at the weighted mean sum_k alpha_k mu_k, where the mixture "
              "has almost no mass: first draw ONE kernel k with probabilities alpha, then sample it")
    if np.allclose(got, 4.0, atol=2.0):
        _fail("you always pick the heaviest kernel: draw the kernel at random with probabilities alpha")
    if np.isin(got, mu[0]).mean() > 0.99:
        _fail("your samples have no spread: add sigma_k times a standard normal number")
    nearest = np.argmin(np.abs(got[:, None] - mu[0]), axis=1)
    shares = np.bincount(nearest, minlength=3) / n
    if not np.allclose(shares, alpha[0], atol=0.02):
        _fail(f"kernels were drawn with frequencies {shares.round(3)}, expected alpha = {alpha[0]}")
    spread = np.array([got[nearest == k].std() for k in range(3)])
    if not np.allclose(spread, sigma[0], rtol=0.1):
        _fail(f"the spread around each kernel is {spread.round(3)}, expected sigma = {sigma[0]}: "
              "sample mu_k + sigma_k * N(0, 1)")
    _passed("kernel frequencies and spreads match alpha and sigma")


# --- notebook 02 -----------------------------------------------------------------------------

def _small_poseset():
    """Eight synthetic poses filmed by one Human3.6M camera, as a PoseSet (for the data checks)."""
    from mdnlib import poseset, skeleton
    from mdnlib.sources import synthetic

    world = synthetic.generate_poses(8, "Reaching", np.random.default_rng(5))
    cam = camera.h36m_camera("S1", camera.CAMERA_IDS[0])
    pose_2d = cam.project(world[:, skeleton.INPUT_16])
    return poseset.PoseSet("check", {"S1": {"Reaching": world}}, {"S1": {"Reaching": {cam.name: pose_2d}}},
                           {"S1": {cam.name: cam}}, train_subjects=("S1",), test_subjects=())


def check_root_centre(fn):
    """`fn(poses (N, 17, 3) camera frame mm) -> (N, 17, 3)`: each pose moved so that its root
    (joint 0, the Hip) is at the origin, as `mdnlib.dataset.camera_frame_arrays` does."""
    from mdnlib import dataset

    data = _small_poseset()
    cam = next(iter(data.cameras["S1"].values()))
    poses = cam.world_to_camera(data.poses_3d["S1"]["Reaching"])
    expected = dataset.camera_frame_arrays(data, ["S1"])["pose_3d_cam"]
    value = _call(fn, poses.copy())
    got = np.asarray(value, dtype=float)
    if got.shape == (len(poses), 16, 3):
        _fail("keep all 17 joints: the root stays in the array, at (0, 0, 0)")
    if got.shape != poses.shape:
        _fail(f"{fn.__name__} returned shape {got.shape}, expected {poses.shape} (one pose per row)")
    if np.allclose(got, expected, atol=1e-3):
        return _passed("your root-centred poses match mdnlib.dataset.camera_frame_arrays")
    hints = [
        (poses, "nothing changed: subtract each pose's root joint, poses[:, :1] (the Hip)"),
        (poses - poses.mean(axis=1, keepdims=True), "you subtracted the centre of all joints; subtract "
                                                    "the root joint (index 0, the Hip) so that the root is exactly 0"),
        (poses - poses[0], "poses[0] is the first whole pose; each pose's root is poses[:, 0] "
                           "(keep the joint axis for broadcasting: poses[:, :1])"),
        (poses - poses[:, -1:], "the root is joint 0 (Hip), not the last joint"),
    ]
    for wrong, hint in hints:
        if np.allclose(got, wrong, atol=1e-3):
            _fail(hint)
    if not np.allclose(got[:, 0], 0.0, atol=1e-3):
        _fail(f"the root of your first pose is at {got[0, 0].round(1)} mm, it should be at (0, 0, 0)")
    _fail("the root is at 0 but the other joints moved differently: subtract the same root position "
          "from every joint of a pose, poses - poses[:, :1]")


def _zscore_case():
    """2D training and test inputs (N, 32) px, the test set drawn from a shifted distribution."""
    from mdnlib import dataset

    data = _small_poseset()
    arrays = dataset.camera_frame_arrays(data, ["S1"])
    rng = np.random.default_rng(6)
    train_2d = arrays["pose_2d"][:6] + rng.normal(0.0, 30.0, (6, 16, 2))
    test_2d = arrays["pose_2d"][6:] + 80.0
    normalizer = dataset.Normalizer().fit(train_2d, arrays["pose_3d_cam"][:6])
    return (train_2d.reshape(-1, 32), test_2d.reshape(-1, 32),
            normalizer.normalize_2d(train_2d), normalizer.normalize_2d(test_2d))


def check_zscore(fn):
    """`fn(train (N, D), test (M, D)) -> (train_z, test_z)`: both z-scored per dimension with the
    mean and (population) std of the training set only, as `mdnlib.dataset.Normalizer`."""
    train, test, expected_train, expected_test = _zscore_case()
    value = _call_pair(fn, train.copy(), test.copy(),
                       hint="return two arrays, (train_z, test_z): the training and the test inputs, z-scored")
    got_train, got_test = (np.asarray(v, dtype=float) for v in value)
    if got_train.shape != train.shape or got_test.shape != test.shape:
        _fail(f"keep the shapes: train {train.shape} and test {test.shape}, got {got_train.shape} "
              f"and {got_test.shape}")
    if np.allclose(got_train, expected_train, atol=1e-4) and np.allclose(got_test, expected_test, atol=1e-4):
        return _passed("your z-scores match mdnlib.dataset.Normalizer, with training statistics only")
    mean, std = train.mean(axis=0), train.std(axis=0)
    both = np.concatenate([train, test])
    hints = [
        ((test - test.mean(axis=0)) / test.std(axis=0), got_test,
         "you z-scored the test set with its own statistics: use the TRAINING mean and std for both "
         "sets (a new pose arrives alone; its data set's statistics are unknown)"),
        ((test - both.mean(axis=0)) / both.std(axis=0), got_test,
         "your statistics include the test set, which leaks it into training: use the training set only"),
        ((train - train.mean(axis=1, keepdims=True)) / train.std(axis=1, keepdims=True), got_train,
         "compute one mean and std per dimension (per column, axis=0) over the examples, not per example"),
        ((train - mean) / train.std(axis=0, ddof=1), got_train,
         "use the population standard deviation (np.std's default, ddof=0), as mdnlib.dataset.Normalizer"),
        (train - mean, got_train, "you centred the data; also divide by the standard deviation"),
        ((train - mean) / std ** 2, got_train, "divide by the standard deviation, not by the variance"),
        (train / std, got_train, "subtract the mean before dividing by the standard deviation"),
    ]
    for wrong, got, hint in hints:
        if np.allclose(got, wrong, atol=1e-4):
            _fail(hint)
    if not np.allclose(got_train, expected_train, atol=1e-4):
        _fail("your training z-scores differ from (train - train.mean(axis=0)) / train.std(axis=0)")
    _fail("your test z-scores differ from (test - train_mean) / train_std")


# --- notebook 03 -----------------------------------------------------------------------------

def check_mpjpe(fn):
    """`fn(pred (N, J, 3), gt (N, J, 3)) -> (N,)`: per pose, the mean over joints of the Euclidean
    distance, in mm (Protocol 1), as `mdnlib.metrics.mpjpe`."""
    from mdnlib import metrics

    rng = np.random.default_rng(7)
    gt = rng.normal(0.0, 300.0, (12, 17, 3))
    pred = gt + rng.normal(0.0, 40.0, gt.shape) * rng.uniform(0.2, 3.0, (12, 17, 1))
    expected = metrics.mpjpe(pred, gt)
    value = _call(fn, pred.copy(), gt.copy())
    got = np.asarray(value, dtype=float)
    if got.size == 1:
        _fail("return one error per pose, shape (N,); the mean over the poses comes later")
    if got.shape != expected.shape:
        _fail(f"{fn.__name__} returned shape {got.shape}, expected {expected.shape}: one error per pose")
    if np.allclose(got, expected, rtol=1e-6):
        return _passed("your MPJPE matches mdnlib.metrics.mpjpe")
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
            _fail(hint)
    _fail(f"for the first pose the MPJPE is {expected[0]:.2f} mm, yours gives {got[0]:.2f}: "
          "mean over joints of ||pred_j - gt_j||")


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
    value = _call(fn, parent.copy(), child.copy())
    got = np.asarray(value, dtype=float)
    if got.shape == (n, 3):
        _fail("return one length per bone, shape (N,): the distance from the parent to the midpoint")
    if got.shape != (n,):
        _fail(f"{fn.__name__} returned shape {got.shape}, expected ({n},)")
    if np.allclose(got, expected, rtol=1e-6):
        return _passed("your averaged bones match the midpoints of mdnlib.toy.bone_candidates")
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
            _fail(hint)
    _fail(f"for the first bone (length {length[0]:.0f} mm) the averaged bone is {expected[0]:.1f} mm, "
          f"yours is {got[0]:.1f}: midpoint = mean of the two candidates, then its distance to the parent")


# --- notebook 05 -----------------------------------------------------------------------------

def _mixture_head_case():
    """Raw outputs of a small `mdnlib.models.MixtureHead` (M = 5) on random features, and the
    head's own mixture for the same features."""
    from mdnlib import models

    rng = np.random.default_rng(9)
    head = models.MixtureHead(num_kernels=5, name="check_head")
    features = rng.normal(0.0, 2.0, (6, 24)).astype(np.float32)
    head.build(features.shape)
    for layer in (head.means, head.sigmas, head.mixing):     # fixed weights, no global seeding
        layer.set_weights([rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in layer.weights])
    raw = tuple(np.asarray(layer(features), dtype=np.float64)
                for layer in (head.means, head.sigmas, head.mixing))
    expected = {key: np.asarray(value, dtype=np.float64) for key, value in head(features).items()}
    return raw, expected


def check_mixture_head(fn):
    """`fn(mean_raw (B, 48 M), sigma_raw (B, M), alpha_raw (B, M)) -> (mu (B, M, 48), sigma (B, M),
    alpha (B, M))`: the three linear outputs of the head turned into a mixture, as
    `mdnlib.models.MixtureHead` does (original layout, ELU + 1 clipped to [1e-15, 1e15], softmax
    clipped to [1e-8, 1])."""
    (mean_raw, sigma_raw, alpha_raw), expected = _mixture_head_case()
    batch, kernels = sigma_raw.shape
    value = _call(fn, mean_raw.copy(), sigma_raw.copy(), alpha_raw.copy())
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        _fail("return three arrays, (mu, sigma, alpha)")
    mu, sigma, alpha = (np.asarray(v, dtype=float) for v in value)
    for name, got, want in (("mu", mu, expected["mu"]), ("sigma", sigma, expected["sigma"]),
                            ("alpha", alpha, expected["alpha"])):
        if got.shape != want.shape:
            _fail(f"{name} has shape {got.shape}, expected {want.shape}")
    if not np.allclose(mu, expected["mu"], rtol=1e-4, atol=1e-5):
        if np.allclose(mu, mean_raw.reshape(batch, kernels, -1), rtol=1e-4, atol=1e-5):
            _fail("mu is in the wrong layout: output j of the means layer is coordinate j // M of "
                  "kernel j % M (the original code's layout), so reshape to (B, 48, M) and then "
                  "swap the last two axes")
        _fail("mu differs from mdnlib's: the means are the linear outputs themselves, "
              "reshaped to (B, 48, M) and transposed to (B, M, 48)")
    if not np.allclose(sigma, expected["sigma"], rtol=1e-4, atol=1e-6):
        if np.allclose(sigma, np.exp(sigma_raw), rtol=1e-4):
            _fail("exp(x) grows so fast that one large input overflows the loss: the paper uses "
                  "ELU(x) + 1, positive and only linear for large x")
        if np.any(sigma <= 0):
            _fail("your sigma can be 0 or negative: use ELU(x) + 1 (ELU(x) = x for x > 0, "
                  "exp(x) - 1 otherwise), clipped to at least 1e-15")
        _fail("sigma differs from ELU(x) + 1 clipped to [1e-15, 1e15]")
    if not np.allclose(alpha, expected["alpha"], rtol=1e-4, atol=1e-7):
        if np.allclose(alpha.sum(axis=0), 1.0, atol=1e-6):
            _fail("your weights sum to 1 over the batch: take the softmax over the kernels, the "
                  "last axis (axis=-1), separately for every example")
        if not np.allclose(alpha.sum(axis=-1), 1.0, atol=1e-4):
            _fail("your mixing weights do not sum to 1 over the kernels: apply a softmax, "
                  "exp(x_k - max x) / sum_j exp(x_j - max x)")
        _fail("alpha differs from the softmax over the kernels, clipped to [1e-8, 1]")
    extreme = np.array([[-1e4, -40.0, 0.0, 40.0, 1e4]])
    overflow = ("for raw inputs of +-1e4 your sigma or alpha is not finite: exp() overflows; in the "
                "softmax subtract the largest input before np.exp")
    with np.errstate(invalid="ignore", under="ignore"):
        value = _overflow_free(fn, overflow)(np.zeros((1, 48 * 5)), extreme,
                                             np.array([[-1e4, 0.0, 0.0, 0.0, 1e4]]))
    sigma, alpha = np.asarray(value[1], dtype=float), np.asarray(value[2], dtype=float)
    if not np.all(np.isfinite(sigma)) or not np.all(np.isfinite(alpha)):
        _fail("for raw inputs of +-1e4 your sigma or alpha is not finite: exp() overflows. For ELU "
              "use exp only of min(x, 0); for the softmax subtract the largest input first")
    if sigma.min() < 1e-15:
        _fail(f"your sigma reaches {sigma.min():.3g} for a very negative input: clip it to at "
              "least 1e-15, the paper's floor, or log(sigma) and 1/sigma^2 blow up")
    if alpha.min() < 1e-8:
        _fail(f"a mixing weight reaches {alpha.min():.3g}: clip alpha to at least 1e-8, as the "
              "paper does, so that log(alpha) stays finite")
    _passed("your mixture matches mdnlib.models.MixtureHead, extreme inputs included")


def check_kernels_in_use(fn):
    """`fn(alphas (N, M), threshold) -> (N,)`: per example, the number of kernels whose weight
    exceeds the threshold; its mean is `mdnlib.metrics.kernel_usage`."""
    from mdnlib import metrics

    rng = np.random.default_rng(10)
    alphas = rng.dirichlet([3.0, 1.0, 0.3, 0.1, 0.05], size=40)
    threshold = 0.05
    expected = np.sum(alphas > threshold, axis=-1)
    value = _call(fn, alphas.copy(), threshold)
    got = np.asarray(value, dtype=float)
    if got.size == 1:
        _fail("return one count per example, shape (N,): the histogram needs them; their mean "
              "is the kernel usage")
    if got.shape == (alphas.shape[1],):
        _fail("you counted per kernel (over the examples, axis 0); count per example, over the "
              "kernels (axis=-1)")
    if got.shape != expected.shape:
        _fail(f"{fn.__name__} returned shape {got.shape}, expected {expected.shape}")
    if np.array_equal(got, expected):
        return _passed(f"your counts match (on the check's weights their mean is "
                       f"{metrics.kernel_usage(alphas, threshold):.2f} kernels, as mdnlib.metrics.kernel_usage)")
    if np.array_equal(got, alphas.shape[1] - expected):
        _fail("you counted the unused kernels: count those whose weight is ABOVE the threshold")
    if np.allclose(got, np.sum(np.where(alphas > threshold, alphas, 0.0), axis=-1)):
        _fail("you summed the weights of the kernels in use; count them instead (one per kernel)")
    _fail(f"the first example has weights {alphas[0].round(3)}: {expected[0]} of them exceed "
          f"{threshold}, your count is {got[0]:g}")


# --- notebook 06 -----------------------------------------------------------------------------

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


def check_procrustes(fn):
    """`fn(pred (N, J, 3), gt (N, J, 3)) -> (N, J, 3)`: each predicted pose moved onto its ground
    truth by the best rotation, scale and translation, reflections excluded, as
    `mdnlib.metrics.procrustes_align`."""
    from mdnlib import metrics

    pred, gt = _procrustes_case()
    expected = metrics.procrustes_align(pred, gt)
    value = _call(fn, pred.copy(), gt.copy())
    got = np.asarray(value, dtype=float)
    if got.shape != expected.shape:
        _fail(f"{fn.__name__} returned shape {got.shape}, expected {expected.shape}: the aligned poses")
    if np.allclose(got, expected, atol=1e-3):
        return _passed("your alignment matches mdnlib.metrics.procrustes_align, mirror image included")
    if np.allclose(got[:-1], expected[:-1], atol=1e-3):
        if np.allclose(got[-1], gt[-1], atol=1e-3):
            _fail("the last pose is the ground truth's mirror image, and your alignment turned it "
                  "into the ground truth with a REFLECTION (det = -1), which is not a rigid motion. "
                  "When det(U V^T) < 0, flip the sign of the last singular vector and value")
        _fail("all poses but the mirrored one match: check the reflection fix (flip the last "
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
            _fail(hint)
    error = metrics.mpjpe(got, gt)
    if np.any(error < metrics.mpjpe(expected, gt) - 1e-3):
        _fail("your aligned poses are closer to the ground truth than the best proper similarity "
              "transform allows: do you use the ground truth beyond the alignment, or a reflection?")
    _fail(f"after your alignment the first pose is {error[0]:.1f} mm from the ground truth, "
          f"after the reference alignment {metrics.mpjpe(expected, gt)[0]:.1f} mm")


def check_best_and_most_likely(fn):
    """`fn(errors (N, M) mm, alphas (N, M)) -> (best (N,), most_likely (N,))`: the error of the
    best hypothesis (the paper's figure) and of the hypothesis with the largest weight."""
    from mdnlib import metrics

    rng = np.random.default_rng(12)
    errors = rng.uniform(30.0, 150.0, (30, 5))
    alphas = rng.dirichlet(np.ones(5), size=30)
    best = metrics.best_of_m(errors)
    likely = errors[np.arange(30), alphas.argmax(axis=1)]
    value = _call_pair(fn, errors.copy(), alphas.copy(),
                       hint="return two arrays, (best, most_likely), one error per example each")
    got_best, got_likely = (np.asarray(v, dtype=float) for v in value)
    if got_best.shape != best.shape or got_likely.shape != likely.shape:
        _fail(f"return one error per example, shape ({len(errors)},), for both; got "
              f"{got_best.shape} and {got_likely.shape}")
    if not np.allclose(got_best, best):
        if np.allclose(got_best, errors.mean(axis=1)):
            _fail("best-of-M takes the MINIMUM over the hypotheses, not their mean")
        if np.allclose(got_best, np.sum(alphas * errors, axis=1)):
            _fail("the paper's best-of-M is not weighted by alpha: take the minimum error over "
                  "the M hypotheses")
        _fail("best: the minimum over the hypotheses (axis=-1) of each example's errors")
    if not np.allclose(got_likely, likely):
        if np.allclose(got_likely, best):
            _fail("most_likely is the error of the hypothesis with the largest weight alpha, "
                  "whether or not it is the best one: index errors with argmax(alphas)")
        if np.allclose(got_likely, errors[np.arange(30), alphas.argmin(axis=1)]):
            _fail("you picked the hypothesis with the SMALLEST weight: use argmax")
        if np.allclose(got_likely, errors[np.arange(30), errors.argmax(axis=1)]):
            _fail("you picked the largest error; pick the largest weight: argmax over alphas")
        _fail("most_likely: errors[n, argmax_k alphas[n, k]] for every example n")
    _passed(f"your errors match (on the check's random errors: best of M {best.mean():.0f} mm, "
            f"most likely hypothesis {likely.mean():.0f} mm)")


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
    value = _call_pair(fn, radii.copy(), levels.copy(),
                       hint="return two things, (coverage, ece): the coverage per level and one number")
    got_coverage = np.asarray(value[0], dtype=float)
    got_ece = np.asarray(value[1], dtype=float)
    if got_coverage.shape != levels.shape:
        _fail(f"coverage must hold one fraction per level, shape {levels.shape}; got {got_coverage.shape}")
    if not np.allclose(got_coverage, observed, atol=1e-9):
        if np.allclose(got_coverage, [np.mean(radii <= p) for p in levels]):
            _fail("you compared the radii with the level p itself; compare them with the radius "
                  "that holds a fraction p of a 3-D standard normal: metrics.chi3_quantile(p)")
        if np.allclose(got_coverage, [np.sum(radii <= metrics.chi3_quantile(p)) for p in levels]):
            _fail("coverage is a fraction of the radii (a mean), not a count")
        if np.allclose(got_coverage, [np.mean(radii > metrics.chi3_quantile(p)) for p in levels]):
            _fail("you counted the radii OUTSIDE the ball: coverage is the fraction inside, r <= quantile")
        _fail(f"at level {levels[9]} the coverage is {observed[9]:.3f}, yours is {got_coverage[9]:.3f}: "
              "mean(radii <= metrics.chi3_quantile(level))")
    if got_ece.size != 1:
        _fail("the ECE is one number, the mean over the levels")
    got_ece = float(got_ece.reshape(()))
    if np.isclose(got_ece, ece, atol=1e-9):
        return _passed(f"your coverage and ECE ({got_ece:.3f}) match mdnlib.metrics")
    gaps = observed - levels
    if np.isclose(got_ece, gaps.mean()) or np.isclose(got_ece, -gaps.mean()):
        _fail("over- and under-coverage cancel in a signed mean: average the ABSOLUTE gaps")
    if np.isclose(got_ece, np.abs(gaps).max()):
        _fail("that is the largest gap (a maximum calibration error); the ECE is their mean")
    if np.isclose(got_ece, np.sqrt(np.mean(gaps ** 2))):
        _fail("that is a root-mean-square gap; the ECE here is the mean absolute gap")
    _fail(f"the ECE is {ece:.4f}, yours is {got_ece:.4f}: mean over levels of |coverage - level|")


# --- notebook 07 -----------------------------------------------------------------------------

def _hypotheses_case(rng):
    """Hypotheses (6, 5, 17, 3) mm that disagree mostly in depth, with uneven weights (6, 5)."""
    rng = np.random.default_rng(rng)
    pose = toy.example_pose(0.0)
    hyps = pose + rng.normal(0.0, [15.0, 15.0, 120.0], (6, 5, 17, 3))
    hyps -= hyps[..., :1, :]                                   # root-relative
    weights = rng.dirichlet(np.full(5, 0.7), size=6)
    return hyps, weights


def check_depth_spread(fn):
    """`fn(hyps (N, M, 17, 3) mm, weights (N, M)) -> (N, 17)`: the weighted std over hypotheses of
    each joint's depth relative to its parent, as `mdnlib.hypotheses.depth_spread`."""
    from mdnlib import hypotheses, skeleton

    hyps, weights = _hypotheses_case(9)
    expected = hypotheses.depth_spread(hyps, weights)
    value = _call(fn, hyps.copy(), weights.copy())
    got = np.asarray(value, dtype=float)
    if got.shape == (len(hyps), 16):
        _fail("keep all 17 joints; the root's spread is 0 (it is its own parent)")
    if got.shape != expected.shape:
        _fail(f"{fn.__name__} returned shape {got.shape}, expected {expected.shape}: one spread per "
              "example and joint (the std goes over the hypothesis axis, 1)")
    if np.allclose(got, expected, atol=1e-6):
        return _passed("your depth spreads match mdnlib.hypotheses.depth_spread")
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
            _fail(hint)
    if not np.allclose(got[:, 0], 0.0, atol=1e-6):
        _fail("the root has no parent: its relative depth is 0, and so is its spread "
              "(parents = np.maximum(skeleton.PARENTS_17, 0) makes the root its own parent)")
    _fail(f"for the first example the spread of the left wrist is {expected[0, 13]:.1f} mm, yours is "
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


def check_choose_multiview(fn):
    """`fn(world_hyps (V, M, 17, 3)) -> (V,)`: per view, the hypothesis whose summed MPJPE to the
    closest hypothesis of every other view is lowest, as `mdnlib.hypotheses.choose_multiview`."""
    from mdnlib import hypotheses, metrics

    case = _multiview_case(11)
    expected = hypotheses.choose_multiview(case)
    value = _call(fn, case.copy())
    got = np.asarray(value)
    if got.shape == case.shape[:2]:
        _fail("return one index per view, shape (V,), the argmin of the scores, not the scores")
    if got.shape != expected.shape:
        _fail(f"{fn.__name__} returned shape {got.shape}, expected {expected.shape}: one index per view")
    if np.array_equal(got, expected):
        return _passed("your choices match mdnlib.hypotheses.choose_multiview")
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
            _fail(hint)
    _fail(f"the most consistent hypotheses are {expected.tolist()}, yours are {got.tolist()}: for each "
          "view v and hypothesis k, sum over the other views u of min_l MPJPE(hyp[v, k], hyp[u, l])")
