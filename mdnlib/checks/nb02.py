"""Exercise checks of notebook 02 (the data): root-centring and z-scoring."""
import numpy as np

from mdnlib import camera
from mdnlib.checks.helpers import call, call_pair, exercise, fail, passed


def _small_poseset():
    """Eight synthetic poses filmed by one Human3.6M camera, as a PoseSet (for the data checks)."""
    from mdnlib import poseset, skeleton
    from mdnlib.sources import synthetic

    world = synthetic.generate_poses(8, "Reaching", np.random.default_rng(5))
    cam = camera.h36m_camera("S1", camera.CAMERA_IDS[0])
    pose_2d = cam.project(world[:, skeleton.INPUT_16])
    return poseset.PoseSet("check", {"S1": {"Reaching": world}}, {"S1": {"Reaching": {cam.name: pose_2d}}},
                           {"S1": {cam.name: cam}}, train_subjects=("S1",), test_subjects=())


@exercise("mdnlib.dataset.camera_frame_arrays")
def check_root_centre(fn):
    """`fn(poses (N, 17, 3) camera frame mm) -> (N, 17, 3)`: each pose moved so that its root
    (joint 0, the Hip) is at the origin, as `mdnlib.dataset.camera_frame_arrays` does."""
    from mdnlib import dataset

    data = _small_poseset()
    cam = next(iter(data.cameras["S1"].values()))
    poses = cam.world_to_camera(data.poses_3d["S1"]["Reaching"])
    expected = dataset.camera_frame_arrays(data, ["S1"])["pose_3d_cam"]
    value = call(fn, poses.copy())
    got = np.asarray(value, dtype=float)
    if got.shape == (len(poses), 16, 3):
        fail("keep all 17 joints: the root stays in the array, at (0, 0, 0)")
    if got.shape != poses.shape:
        fail(f"{fn.__name__} returned shape {got.shape}, expected {poses.shape} (one pose per row)")
    if np.allclose(got, expected, atol=1e-3):
        return passed("your root-centred poses match mdnlib.dataset.camera_frame_arrays")
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
            fail(hint)
    if not np.allclose(got[:, 0], 0.0, atol=1e-3):
        fail(f"the root of your first pose is at {got[0, 0].round(1)} mm, it should be at (0, 0, 0)")
    fail("the root is at 0 but the other joints moved differently: subtract the same root position "
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


@exercise("mdnlib.dataset.Normalizer")
def check_zscore(fn):
    """`fn(train (N, D), test (M, D)) -> (train_z, test_z)`: both z-scored per dimension with the
    mean and (population) std of the training set only, as `mdnlib.dataset.Normalizer`."""
    train, test, expected_train, expected_test = _zscore_case()
    value = call_pair(fn, train.copy(), test.copy(),
                       hint="return two arrays, (train_z, test_z): the training and the test inputs, z-scored")
    got_train, got_test = (np.asarray(v, dtype=float) for v in value)
    if got_train.shape != train.shape or got_test.shape != test.shape:
        fail(f"keep the shapes: train {train.shape} and test {test.shape}, got {got_train.shape} "
              f"and {got_test.shape}")
    if np.allclose(got_train, expected_train, atol=1e-4) and np.allclose(got_test, expected_test, atol=1e-4):
        return passed("your z-scores match mdnlib.dataset.Normalizer, with training statistics only")
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
            fail(hint)
    if not np.allclose(got_train, expected_train, atol=1e-4):
        fail("your training z-scores differ from (train - train.mean(axis=0)) / train.std(axis=0)")
    fail("your test z-scores differ from (test - train_mean) / train_std")
