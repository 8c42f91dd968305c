"""Preprocessing of mdnlib.dataset on a small hand-built PoseSet."""
import numpy as np
import pytest

from mdnlib import dataset, skeleton
from mdnlib.camera import h36m_cameras
from mdnlib.poseset import PoseSet

LIMB_COORDS = np.sort(np.concatenate([2 * skeleton.LIMB_INPUT_INDICES, 2 * skeleton.LIMB_INPUT_INDICES + 1]))


def _world_poses(rng, frames, centre, scale=1.0):
    """Person-sized random poses: a fixed skeleton offset plus noise, standing at `centre` (mm)."""
    offsets = rng.normal(size=(17, 3)) * 200 * scale
    offsets[skeleton.ROOT] = 0
    return centre + offsets + rng.normal(size=(frames, 17, 3)) * 50 * scale


def _poseset(train_subjects=("S1", "S5"), test_subjects=("S9",), test_scale=3.0):
    """Two training subjects and one test subject whose poses are much larger (different stats)."""
    rng = np.random.default_rng(0)
    poses_3d, poses_2d, cameras = {}, {}, {}
    for s in train_subjects + test_subjects:
        scale = test_scale if s in test_subjects else 1.0
        cameras[s] = h36m_cameras(s)
        poses_3d[s], poses_2d[s] = {}, {}
        for action, frames in (("Walking", 5), ("Sitting", 3)):
            world = _world_poses(rng, frames, np.array([100.0, -200.0, 900.0]), scale)
            poses_3d[s][action] = world
            poses_2d[s][action] = {cid: cam.project(world)[:, skeleton.INPUT_16]
                                   for cid, cam in cameras[s].items()}
    # like S11 Directions: one camera missing for one action
    del poses_2d[test_subjects[0]]["Sitting"]["54138969"]
    poseset = PoseSet("hand", poses_3d, poses_2d, cameras, tuple(train_subjects), tuple(test_subjects))
    return poseset.validate()


def test_camera_frame_arrays_values_and_labels():
    poseset = _poseset()
    arrays = dataset.camera_frame_arrays(poseset, ["S9"])
    assert len(arrays["pose_2d"]) == 3 * 3 + 5 * 4  # Sitting (3 cameras) then Walking (4 cameras)
    assert arrays["pose_2d"].shape == (29, 16, 2) and arrays["pose_3d_cam"].shape == (29, 17, 3)
    assert np.all(arrays["pose_3d_cam"][:, skeleton.ROOT] == 0)
    assert list(arrays["action"][:9]) == ["Sitting"] * 9
    assert list(arrays["camera"][:4]) == ["55011271"] * 3 + ["58860488"]
    assert list(arrays["frame"][:4]) == [0, 1, 2, 0]
    assert set(arrays["subject"]) == {"S9"}
    # example 10: Walking, first camera, frame 1; root-relative pose + root = camera-frame pose
    i = 9 + 1
    assert (arrays["action"][i], arrays["camera"][i], arrays["frame"][i]) == ("Walking", "54138969", 1)
    camera = poseset.cameras["S9"]["54138969"]
    expected = camera.world_to_camera(poseset.poses_3d["S9"]["Walking"][1])
    rebuilt = arrays["pose_3d_cam"][i] + arrays["root_cam"][i]
    assert np.allclose(rebuilt, expected, atol=1e-3)
    assert np.allclose(arrays["pose_2d"][i], poseset.poses_2d["S9"]["Walking"]["54138969"][1], atol=1e-3)


def test_camera_frame_arrays_empty_and_unknown_subject():
    poseset = _poseset()
    empty = dataset.camera_frame_arrays(poseset, [])
    assert empty["pose_2d"].shape == (0, 16, 2) and empty["pose_3d_cam"].shape == (0, 17, 3)
    with pytest.raises(KeyError, match="S7"):
        dataset.camera_frame_arrays(poseset, ["S7"])


def test_normalizer_uses_training_subjects_only():
    poseset = _poseset()
    train = dataset.camera_frame_arrays(poseset, ["S1", "S5"])
    prepared = dataset.prepare(poseset)
    stats = prepared.normalizer
    assert np.allclose(stats.mean_2d, train["pose_2d"].reshape(-1, 32).mean(axis=0), atol=1e-3)
    assert np.allclose(stats.std_2d, train["pose_2d"].reshape(-1, 32).std(axis=0), rtol=1e-5)
    used_3d = train["pose_3d_cam"][:, 1:].reshape(-1, 48)  # root (joint 0) excluded
    assert np.allclose(stats.mean_3d, used_3d.mean(axis=0), atol=1e-3)
    assert np.allclose(stats.std_3d, used_3d.std(axis=0), rtol=1e-5)
    # the much larger test poses did not leak into the statistics ...
    everything = dataset.camera_frame_arrays(poseset, ["S1", "S5", "S9"])
    std_everything = everything["pose_3d_cam"][:, 1:].reshape(-1, 48).std(axis=0)
    assert np.mean(std_everything / stats.std_3d) > 1.5
    # ... and z-scoring makes the training data mean 0, std 1, while test data stay wider
    assert np.allclose(prepared.train_2d.mean(axis=0), 0, atol=1e-4)
    assert np.allclose(prepared.train_3d.std(axis=0), 1, atol=1e-4)
    assert prepared.test_3d.std() > 2


def test_normalise_denormalise_round_trip_with_hypothesis_axis():
    poseset = _poseset()
    prepared = dataset.prepare(poseset)
    norm = prepared.normalizer
    back = norm.denormalize_3d(prepared.test_3d)
    assert back.shape == prepared.test_3d_mm.shape
    assert np.allclose(back, prepared.test_3d_mm, atol=1e-2)
    assert np.all(back[:, skeleton.ROOT] == 0)
    hypotheses = np.stack([prepared.test_3d, prepared.test_3d + 1.0], axis=1)  # (N, 2, 48)
    poses = norm.denormalize_3d(hypotheses)
    assert poses.shape == (len(prepared.test_3d), 2, 17, 3)
    # one std per dimension apart, root still at 0
    assert np.allclose(poses[:, 1, 1:] - poses[:, 0, 1:], norm.std_3d.reshape(16, 3), atol=1e-2)
    assert np.all(poses[:, :, skeleton.ROOT] == 0)
    pixels = poseset.poses_2d["S9"]["Walking"]["54138969"]
    assert np.allclose(norm.denormalize_2d(norm.normalize_2d(pixels)), pixels, atol=1e-3)


def test_normalizer_save_load_and_bad_files(tmp_path):
    norm = dataset.prepare(_poseset()).normalizer
    path = tmp_path / "stats.npz"
    norm.save(path)
    loaded = dataset.Normalizer.load(path)
    for key, value in norm.to_dict().items():
        assert np.array_equal(getattr(loaded, key), value)
    assert not [p for p in tmp_path.iterdir() if p.name != "stats.npz"]  # no temporary left
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated.npz"):
        dataset.Normalizer.load(truncated)
    with pytest.raises(ValueError, match="std_3d must hold 48"):
        dataset.Normalizer.from_dict({**norm.to_dict(), "std_3d": np.ones(51)})


def test_clear_errors_for_bad_input():
    norm = dataset.prepare(_poseset()).normalizer
    pixels = np.full((4, 16, 2), 500.0)
    pixels[2, 5, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*1 of 4 poses.*index 2"):
        norm.normalize_2d(pixels)
    with pytest.raises(ValueError, match=r"\(\.\.\., 16, 2\)"):
        norm.normalize_2d(np.zeros((4, 17, 2)))
    with pytest.raises(ValueError, match="root-relative"):
        norm.normalize_3d(np.ones((4, 17, 3)))
    with pytest.raises(ValueError, match=r"\(\.\.\., 48\)"):
        norm.denormalize_3d(np.zeros((4, 51)))
    with pytest.raises(RuntimeError, match="fit"):
        dataset.Normalizer().normalize_2d(pixels[:2])
    with pytest.raises(ValueError, match="never vary in RHip.x"):
        varying = np.random.default_rng(0).normal(size=(5, 17, 3))
        varying[:, 0] = 0
        varying[:, 1, 0] = 7.0
        dataset.Normalizer().fit(np.random.default_rng(1).normal(size=(5, 16, 2)), varying)


@pytest.mark.parametrize("miss_num", [1, 2])
def test_masking_hides_exactly_miss_num_distinct_limb_joints(miss_num):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8000, 32)).astype(np.float32) + 10  # no zeros before masking
    masked = dataset.mask_missing_joints(x, miss_num, rng)
    assert np.all(x > 0)  # input untouched
    zero = masked == 0
    assert np.all(zero[:, 0::2] == zero[:, 1::2])                      # x and y hidden together
    assert np.all(zero.sum(axis=1) == 2 * miss_num)                     # exactly miss_num joints
    assert not zero[:, np.setdiff1d(np.arange(32), LIMB_COORDS)].any()  # only limb joints
    assert np.array_equal(masked[~zero], x[~zero])                      # nothing else touched
    frequency = zero[:, 2 * skeleton.LIMB_INPUT_INDICES].mean(axis=0)
    assert np.allclose(frequency, miss_num / 8, atol=0.02)              # each limb equally often


def test_masking_zero_and_bad_miss_num():
    x = np.ones((3, 32), np.float32)
    assert np.array_equal(dataset.mask_missing_joints(x, 0, np.random.default_rng(0)), x)
    with pytest.raises(ValueError, match="miss_num"):
        dataset.mask_missing_joints(x, 3, np.random.default_rng(0))


def test_export_npz_keys_shapes_values(tmp_path):
    poseset = _poseset()
    prepared = dataset.prepare(poseset)
    path = tmp_path / "out" / "export.npz"
    dataset.export_npz(prepared, path)
    with np.load(path, allow_pickle=False) as data:
        files = dict(data)
    n_train, n_test = (5 + 3) * 4 * 2, 3 * 3 + 5 * 4
    expected = {"train_2d": (n_train, 32), "train_3d": (n_train, 48), "test_2d": (n_test, 32),
                "test_3d": (n_test, 48), "mean_2d": (32,), "std_2d": (32,), "mean_3d": (48,),
                "std_3d": (48,), "test_3d_mm": (n_test, 17, 3), "test_action": (n_test,),
                "test_root_cam": (n_test, 3), "train_subject": (n_train,)}
    for key, shape in expected.items():
        assert files[key].shape == shape, key
    test = dataset.camera_frame_arrays(poseset, ["S9"])
    assert np.allclose(files["test_3d_mm"], test["pose_3d_cam"])
    z_2d = (test["pose_2d"].reshape(-1, 32) - files["mean_2d"]) / files["std_2d"]
    assert np.allclose(files["test_2d"], z_2d, atol=1e-4)
    assert np.allclose(files["test_3d"] * files["std_3d"] + files["mean_3d"],
                       test["pose_3d_cam"][:, 1:].reshape(-1, 48), atol=1e-2)
    assert set(files["train_subject"]) == {"S1", "S5"} and str(files["source"]) == "hand"
    loaded = dataset.load_npz(path)
    assert np.array_equal(loaded.test_3d, prepared.test_3d)
    assert list(loaded.test_info["action"]) == list(prepared.test_info["action"])
    assert [p.name for p in path.parent.iterdir()] == ["export.npz"]


def test_test_only_source_needs_a_normalizer(tmp_path):
    reference = dataset.prepare(_poseset()).normalizer
    cmu_like = _poseset(train_subjects=(), test_subjects=("S9",))
    with pytest.raises(ValueError, match="normalizer="):
        dataset.prepare(cmu_like)
    prepared = dataset.prepare(cmu_like, normalizer=reference)
    assert prepared.train_2d.shape == (0, 32) and prepared.train_3d.shape == (0, 48)
    assert np.array_equal(prepared.normalizer.mean_3d, reference.mean_3d)
    dataset.export_npz(prepared, tmp_path / "cmu.npz")
    with np.load(tmp_path / "cmu.npz") as data:
        assert data["train_2d"].shape == (0, 32) and data["train_3d"].shape == (0, 48)
        assert data["test_2d"].shape == (29, 32)


def test_load_npz_names_the_file_and_the_problem(tmp_path):
    partial = tmp_path / "partial.npz"
    np.savez(partial, train_2d=np.zeros((1, 32)))
    with pytest.raises(ValueError, match="partial.npz.*missing"):
        dataset.load_npz(partial)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.npz"):
        dataset.load_npz(empty)
