"""Exercise checks of notebooks 01 and 04: call the learner's function, compare with mdnlib.

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
"""
import numpy as np

from mdnlib import camera, toy


def _fail(message):
    raise AssertionError(message)


def _result(fn, *args, shape=None):
    """Call the learner's function; the result as a float array, checked for None and shape."""
    value = fn(*args)
    if value is None:
        _fail(f"{fn.__name__} returned None: did you forget the `return` statement?")
    value = np.asarray(value, dtype=float)
    if shape is not None and value.shape != tuple(shape):
        _fail(f"{fn.__name__} returned shape {value.shape}, expected {tuple(shape)}.")
    return value


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
        value = fn(*(np.array(v) for v in case))
        if value is None:
            _fail(f"{fn.__name__} returned None: did you forget the `return` statement?")
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
    with np.errstate(over="ignore", invalid="ignore"):
        got = _result(fn, raw.copy(), shape=raw.shape)
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
    value = fn(poses.copy())
    if value is None:
        _fail(f"{fn.__name__} returned None: did you forget the `return` statement?")
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
    value = fn(train.copy(), test.copy())
    if value is None:
        _fail(f"{fn.__name__} returned None: did you forget the `return` statement?")
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        _fail("return two arrays, (train_z, test_z): the training and the test inputs, z-scored")
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
    value = fn(pred.copy(), gt.copy())
    if value is None:
        _fail(f"{fn.__name__} returned None: did you forget the `return` statement?")
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
    value = fn(parent.copy(), child.copy())
    if value is None:
        _fail(f"{fn.__name__} returned None: did you forget the `return` statement?")
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
