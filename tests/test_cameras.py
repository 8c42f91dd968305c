"""Cameras beyond the Human3.6M rig: varied cameras for the synthetic and CMU sources, the
reference camera, and `predict` with a user's intrinsics and its warning on unusual input."""
import json

import numpy as np
import pytest

from mdnlib import camera, cli, dataset, inference, models
from mdnlib.config import CMU_SAMPLE_DIR
from mdnlib.dataset import Normalizer
from mdnlib.poseset import action_of
from mdnlib.skeleton import INPUT_16
from mdnlib.sources import filming, load_source, synthetic
from mdnlib.sources.cmu import load_cmu


@pytest.fixture(scope="module")
def varied():
    return synthetic.load_synthetic(120, cameras="varied", cache=False)


# ---- the synthetic source ----------------------------------------------------------------------

def test_the_rig_default_is_unchanged(cache_in_tmp):
    """The rig's poses and pixels are those the shipped checkpoints were trained on."""
    rig = synthetic.load_synthetic(2)
    assert [p.name for p in cache_in_tmp.iterdir()] == ["synthetic_v2_f2_s0_noisy.npz"]
    np.testing.assert_allclose(rig.poses_3d["S9"]["Walking"][1, [0, 3, 13]],
                               [[449.715, -956.333, 881.258], [303.038, -1016.783, 0.0],
                                [318.276, -849.942, 830.856]], atol=2e-3)
    np.testing.assert_allclose(rig.poses_2d["S9"]["Walking"]["58860488"][1, [0, 3, 12]],
                               [[581.919, 362.557], [619.463, 510.849], [600.072, 371.377]], atol=2e-3)
    again = synthetic.load_synthetic(2, cameras="rig", cache=False)
    for subject, actions in rig.poses_2d.items():
        for action, views in actions.items():
            assert sorted(views) == list(camera.CAMERA_IDS)
            for cid in views:
                np.testing.assert_array_equal(views[cid], again.poses_2d[subject][action][cid])


def test_varied_shots_shapes_and_the_rig_s_3d_poses(varied):
    rig = synthetic.load_synthetic(120, cache=False)
    assert varied.actions("S1")[:2] == ["ArmsRaised 1", "ArmsRaised 2"]     # 120 frames = shots of 100 + 20
    assert {action_of(a) for a in varied.actions()} == set(synthetic.ACTIVITIES)
    for subject in varied.subjects:
        assert len(varied.cameras[subject]) == 13 * 2 * filming.VIEWS
        for activity in synthetic.ACTIVITIES:
            shots = [varied.poses_3d[subject][f"{activity} {k}"] for k in (1, 2)]
            assert [len(s) for s in shots] == [100, 20]
            np.testing.assert_array_equal(np.concatenate(shots), rig.poses_3d[subject][activity])
            views = varied.poses_2d[subject][f"{activity} 2"]
            assert sorted(views) == [f"{activity} 2:{v}" for v in range(filming.VIEWS)]
            assert all(v.shape == (20, 16, 2) for v in views.values())
    arrays = dataset.prepare(varied)
    assert arrays.train_2d.shape == (5 * 13 * 120 * 4, 32) and arrays.test_3d_mm.shape == (2 * 13 * 120 * 4, 17, 3)


def test_varied_cameras_are_deterministic_for_a_seed(varied):
    again = synthetic.load_synthetic(120, cameras="varied", cache=False)
    other = synthetic.load_synthetic(120, cameras="varied", cache=False, seed=1)
    cid = "Walking 1:2"
    np.testing.assert_array_equal(again.poses_2d["S5"]["Walking 1"][cid], varied.poses_2d["S5"]["Walking 1"][cid])
    np.testing.assert_array_equal(again.cameras["S5"][cid].R, varied.cameras["S5"][cid].R)
    assert not np.allclose(other.cameras["S5"][cid].T, varied.cameras["S5"][cid].T)


def test_varied_2d_is_the_projection_by_each_shot_s_camera():
    exact = synthetic.load_synthetic(30, cameras="varied", cache=False, noise_2d=False)
    noisy = synthetic.load_synthetic(30, cameras="varied", cache=False)
    for cid, cam in exact.cameras["S11"].items():
        sequence = cid.split(":")[0]
        projected = cam.project(exact.poses_3d["S11"][sequence][:, INPUT_16])
        np.testing.assert_allclose(exact.poses_2d["S11"][sequence][cid], projected, atol=1e-3)
        error = np.abs(noisy.poses_2d["S11"][sequence][cid] - projected)
        assert np.median(error) < 10 * synthetic.noise_scale(cam)   # a detector's few pixels, scaled


def test_varied_camera_parameters_stay_in_their_ranges():
    rng = np.random.default_rng(5)
    r = camera.VARIED_RANGES
    cams = [camera.varied_camera(rng) for _ in range(300)]
    for cam in cams:
        assert r["height_mm"][0] <= cam.T[2] <= r["height_mm"][1]
        assert r["distance_mm"][0] <= np.linalg.norm(cam.T[:2]) <= r["distance_mm"][1]
        pitch = np.degrees(-np.arcsin(cam.R[2, 2]))      # optical axis below the horizon
        assert -30 <= pitch <= 50
        assert cam.size in camera.IMAGE_SIZES
        fov = np.degrees(2 * np.arctan(max(cam.size) / 2 / cam.f[0]))
        assert r["fov_deg"][0] - 1e-6 <= fov <= r["fov_deg"][1] + 1e-6
        assert np.all(np.abs(cam.c / cam.size - 0.5) <= r["centre_jitter"] + 1e-9)
        assert not cam.k.any() and not cam.p.any()
        assert camera.sees_capture_area(cam, 1200.0)
        np.testing.assert_allclose(cam.R @ cam.R.T, np.eye(3), atol=1e-12)
    heights = np.array([c.T[2] for c in cams])
    assert heights.min() < 800 and heights.max() > 2500          # really varied
    assert len({c.size for c in cams}) == len(camera.IMAGE_SIZES)


def test_varied_cache_has_its_own_name_and_reads_back(cache_in_tmp):
    first = synthetic.load_synthetic(3, cameras="varied")
    assert sorted(p.name for p in cache_in_tmp.iterdir()) == ["synthetic_v2_f3_s0_noisy_varied.npz"]
    cached = synthetic.load_synthetic(3, cameras="varied")
    cid = "Jumping 1:3"
    np.testing.assert_array_equal(cached.poses_2d["S9"]["Jumping 1"][cid], first.poses_2d["S9"]["Jumping 1"][cid])
    np.testing.assert_allclose(cached.cameras["S9"][cid].R, first.cameras["S9"][cid].R)
    assert cached.cameras["S9"][cid].size == first.cameras["S9"][cid].size


def test_unknown_cameras_are_refused():
    with pytest.raises(ValueError, match="unknown cameras 'random'.*'rig'.*'varied'"):
        synthetic.load_synthetic(2, cameras="random", cache=False)


# ---- CMU and load_source -----------------------------------------------------------------------

def test_cmu_poses_filmed_by_varied_cameras():
    rig = load_cmu(CMU_SAMPLE_DIR, step=40)
    varied = load_cmu(CMU_SAMPLE_DIR, step=40, cameras="varied")
    again = load_cmu(CMU_SAMPLE_DIR, step=40, cameras="varied")
    for subject, motions in rig.poses_3d.items():
        for motion, poses in motions.items():
            shots = sorted((a for a in varied.poses_3d[subject] if action_of(a) == motion),
                           key=lambda a: int(a.split()[-1]))
            np.testing.assert_array_equal(np.concatenate([varied.poses_3d[subject][s] for s in shots]), poses)
    cid = next(iter(varied.cameras["02"]))
    np.testing.assert_array_equal(again.cameras["02"][cid].T, varied.cameras["02"][cid].T)
    assert len(varied.cameras["02"]) > 4 and varied.test_subjects == rig.test_subjects


def test_load_source_passes_the_cameras_on(monkeypatch):
    calls = []
    monkeypatch.setattr(synthetic, "load_synthetic", lambda **kwargs: calls.append(kwargs) or "poseset")
    load_source("synthetic")
    load_source("synthetic", cameras="varied")
    load_source("synthetic", cameras="rig")
    assert calls == [{}, {"cameras": "varied"}, {}]
    with pytest.raises(ValueError, match="'h36m' source comes with its recorded cameras"):
        load_source("h36m", "somewhere", cameras="varied")
    with pytest.raises(ValueError, match="unknown cameras"):
        load_source("synthetic", cameras="fisheye")


def test_prepare_can_normalise_the_intrinsics_away():
    poses = load_cmu(CMU_SAMPLE_DIR, step=40, cameras="varied")
    raw = dataset.camera_frame_arrays(poses, ["02"])
    mapped = dataset.camera_frame_arrays(poses, ["02"], reference_camera=True)
    row = 7
    cam = poses.cameras["02"][raw["camera"][row]]
    f_ref, c_ref = np.array(camera.REFERENCE_INTRINSICS[:2]), np.array(camera.REFERENCE_INTRINSICS[2:])
    np.testing.assert_allclose(mapped["pose_2d"][row], (raw["pose_2d"][row] - cam.c) / cam.f * f_ref + c_ref,
                               rtol=1e-5)
    np.testing.assert_array_equal(mapped["pose_3d_cam"], raw["pose_3d_cam"])


# ---- the reference camera and predict ----------------------------------------------------------

def test_the_reference_mapping_is_exact():
    """Pixels of any undistorted camera, mapped, are those of the reference camera at its place."""
    rng = np.random.default_rng(2)
    cam = camera.varied_camera(rng)
    ref = camera.Camera(R=cam.R, T=cam.T, f=camera.REFERENCE_INTRINSICS[:2], c=camera.REFERENCE_INTRINSICS[2:])
    poses = synthetic.generate_poses(5, "Walking", rng)[:, INPUT_16]
    intrinsics = np.concatenate([cam.f, cam.c])
    np.testing.assert_allclose(camera.to_reference_pixels(cam.project(poses), intrinsics), ref.project(poses),
                               atol=1e-9)
    per_pose = np.tile(intrinsics, (5, 1))
    np.testing.assert_allclose(camera.to_reference_pixels(cam.project(poses), per_pose), ref.project(poses),
                               atol=1e-9)
    mapped = inference.check_poses_2d(cam.project(poses), intrinsics=intrinsics)
    np.testing.assert_allclose(mapped, ref.project(poses), atol=1e-9)


@pytest.mark.parametrize("intrinsics, message", [
    ([1000.0, 1000.0, 500.0], r"4 numbers, or \(3, 4\)"),
    (np.ones((2, 4)), r"4 numbers, or \(3, 4\)"),
    ([0.0, 1000.0, 500.0, 500.0], "must be positive"),
    ([np.nan, 1000.0, 500.0, 500.0], "must be positive and every value finite"),
    (["a", "b", "c", "d"], "expected numbers fx, fy, cx, cy"),
])
def test_bad_intrinsics_are_named(intrinsics, message):
    poses = np.random.default_rng(0).uniform(300, 700, (3, 16, 2))
    with pytest.raises(ValueError, match=message):
        inference.check_poses_2d(poses, intrinsics=intrinsics)


RIG_NORMALIZER = Normalizer(
    mean_2d=np.tile([534.0, 423.0], 16) + np.repeat(np.linspace(-150, 150, 16), 2) * np.tile([0.0, 1.0], 16),
    std_2d=np.tile([156.0, 61.0], 16), mean_3d=np.zeros(48), std_3d=np.ones(48))


def _pose(centre, height):
    """A 16-joint stand-in pose: joints spread over `height` px vertically around `centre`."""
    pose = np.zeros((16, 2))
    pose[:, 1] = np.linspace(-height / 2, height / 2, 16)
    pose[:, 0] = np.linspace(-height / 8, height / 8, 16)
    return pose + centre


def test_unusual_inputs_are_named_and_usual_ones_are_not():
    usual = np.stack([_pose((500, 430), 300), _pose((700, 380), 450), _pose((350, 500), 150)])
    assert inference.unusual_poses(usual, RIG_NORMALIZER)[0].size == 0
    odd = np.stack([_pose((500, 430), 300),        # fine
                    _pose((1900, 1000), 300),      # pixels of a 4K image
                    _pose((500, 430), 60),         # a person far away, seen wide
                    _pose((0, 0), 300)])           # root-relative pixels
    with pytest.warns(inference.UnusualInputWarning,
                      match=r"3 of 4 poses do not look like pixels of the model's camera \(first: pose 1, "
                            r"centred at \(1900, 1000\).*--intrinsics FX FY CX CY"):
        assert list(inference.warn_unusual_poses(odd, RIG_NORMALIZER)) == [1, 2, 3]


@pytest.fixture(scope="module")
def rig_model(tmp_path_factory):
    """An untrained MDN carrying rig-like statistics, saved like a training run."""
    model = models.build_model(models.ModelConfig(width=16, blocks=1, num_kernels=2), RIG_NORMALIZER, seed=0)
    folder = tmp_path_factory.mktemp("run")
    models.save_model(model, folder / inference.MODEL_FILES[0])
    return folder, model


def test_predict_maps_a_user_camera_and_warns_only_without_its_intrinsics(rig_model, tmp_path, capsys):
    folder, model = rig_model
    rng = np.random.default_rng(4)
    cam = camera.Camera(R=camera.look_at((0, -4000, 1000), 90.0, 0.0), T=(0, -4000, 1000),
                        f=(3000.0, 3000.0), c=(1920.0, 1080.0), size=(3840, 2160))   # a 4K zoom camera
    pixels = cam.project(synthetic.generate_poses(6, "Standing", rng)[:, INPUT_16])
    intrinsics = [3000.0, 3000.0, 1920.0, 1080.0]
    expected = inference.predict_poses(model, camera.to_reference_pixels(pixels, intrinsics))
    with pytest.warns(inference.UnusualInputWarning):
        inference.predict_poses(model, pixels, intrinsics=[1000.0, 1000.0, 1920.0, 1080.0])  # wrong focal

    np.savez(tmp_path / "in.npz", poses_2d=pixels)
    args = ["predict", "--load_dir", folder, "--input", tmp_path / "in.npz", "--output", tmp_path / "out.npz"]
    assert cli.main(args) == 1                                   # beyond the rig's pixel range
    assert "give its intrinsics (predict --intrinsics FX FY CX CY" in capsys.readouterr().err
    assert cli.main([*args, "--intrinsics", *intrinsics]) == 0
    assert capsys.readouterr().err == ""
    with np.load(tmp_path / "out.npz") as out:
        np.testing.assert_allclose(out["hypotheses"], expected.hypotheses, rtol=1e-5, atol=1e-3)
    np.savez(tmp_path / "in.npz", poses_2d=pixels, intrinsics=intrinsics)   # the file may carry them
    assert cli.main(args) == 0
    with np.load(tmp_path / "out.npz") as out:
        np.testing.assert_allclose(out["hypotheses"], expected.hypotheses, rtol=1e-5, atol=1e-3)
    assert cli.main([*args, "--intrinsics", *intrinsics]) == 1
    assert "holds its own 'intrinsics'" in capsys.readouterr().err


def test_predict_warns_in_one_line_on_pixels_of_another_camera(rig_model, tmp_path, capsys):
    folder, _ = rig_model
    poses = np.stack([_pose((500, 430), 300), _pose((1500, 900), 700)])
    np.savez(tmp_path / "in.npz", poses_2d=poses)
    assert cli.main(["predict", "--load_dir", folder, "--input", tmp_path / "in.npz",
                     "--output", tmp_path / "out.npz"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("mdnlib predict: warning: ") and err.count("\n") == 1
    assert "1 of 2 poses do not look like pixels of the model's camera (first: pose 1" in err


# ---- the command line --------------------------------------------------------------------------

def test_the_cameras_option_of_every_data_command():
    parser = cli.build_parser()
    parse = lambda *argv: vars(parser.parse_args([str(a) for a in argv]))  # noqa: E731
    assert parse("data")["cameras"] == "rig" and parse("data", "--cameras", "varied")["cameras"] == "varied"
    assert parse("train", "--train_dir", "r")["cameras"] == "rig"
    assert parse("train", "--train-dir", "r", "--cameras", "varied")["cameras"] == "varied"
    assert parse("test", "--load_dir", "r")["cameras"] is None            # as in training
    assert parse("sample", "--load_dir", "r", "--out", "o", "--cameras", "rig")["cameras"] == "rig"
    assert parse("predict", "--load_dir", "r", "--input", "i", "--output", "o",
                 "--intrinsics", 1, 2, 3, 4)["intrinsics"] == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(SystemExit):
        parse("data", "--cameras", "fisheye")


def test_data_summary_with_varied_cameras(capsys):
    assert cli.main(["data", "--source", "cmu", "--cameras", "varied", "--summary"]) == 0
    out = capsys.readouterr().out
    assert "cameras" in out and "54138969" not in out
    assert cli.main(["data", "--source", "h36m_npz", "--data_dir", CMU_SAMPLE_DIR, "--cameras", "varied"]) == 1
    assert "comes with its recorded cameras" in capsys.readouterr().err


def test_train_records_its_cameras_and_test_uses_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MDNLIB_QUICK", "1")
    monkeypatch.setenv("MDNLIB_DATA_DIR", str(tmp_path))
    run = tmp_path / "run"
    assert cli.main(["train", "--train_dir", run, "--cameras", "varied", "--epochs", "1", "--width", "16"]) == 0
    assert json.loads((run / "run.json").read_text())["cameras"] == "varied"
    trained = capsys.readouterr().out.split("MPJPE ")[-1].split(" mm")[0]
    assert cli.main(["test", "--load_dir", run]) == 0          # on the varied data it was trained on
    average = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Average")][0]
    assert average.split()[-1] == trained
    assert cli.main(["train", "--train_dir", run, "--epochs", "2", "--width", "16"]) == 1
    assert "cameras 'varied' -> 'rig'" in capsys.readouterr().err   # resume refuses other cameras
