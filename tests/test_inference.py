"""From pixels to hypotheses in mm: un-normalisation, input checks, the predict files, model lookup."""
import numpy as np
import pytest

from mdnlib import inference
from mdnlib.dataset import Normalizer


# Three plausible poses in pixels of an H36M camera.
PIXELS = np.random.default_rng(7).uniform(300.0, 700.0, size=(3, 16, 2))


@pytest.fixture
def normalizer():
    rng = np.random.default_rng(1)
    return Normalizer(mean_2d=rng.normal(500, 50, 32), std_2d=rng.uniform(50, 100, 32),
                      mean_3d=rng.normal(0, 100, 48), std_3d=np.full(48, 200.0))


def test_mixture_outputs_become_root_relative_millimetres(normalizer):
    rng = np.random.default_rng(2)
    mu = rng.normal(size=(4, 3, 48))
    alpha = rng.uniform(0.1, 1.0, size=(4, 3))
    result = inference.hypotheses_from_mixture(mu, np.full((4, 3), 0.25), alpha, normalizer)
    assert result.hypotheses.shape == (4, 3, 17, 3)
    np.testing.assert_array_equal(result.hypotheses[:, :, 0], 0.0)            # root at 0
    expected_rhip = mu[0, 1, :3] * 200.0 + normalizer.mean_3d[:3]              # first output joint
    np.testing.assert_allclose(result.hypotheses[0, 1, 1], expected_rhip, rtol=1e-5)
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(result.sigmas, 0.25 * 200.0)                   # sigma x std in mm
    np.testing.assert_array_equal(result.most_likely(), result.hypotheses[np.arange(4), alpha.argmax(1)])


@pytest.mark.parametrize("poses, message", [
    (np.zeros((5, 17, 2)), "drop Neck/Nose"),
    (np.zeros((5, 16, 3)), r"expected \(N, 16, 2\)"),
    (np.zeros((0, 16, 2)), "no poses"),
    (np.where(np.arange(5)[:, None, None] == 3, np.nan, np.zeros((5, 16, 2))), "first: pose 3"),
])
def test_bad_2d_input_is_named(poses, message):
    with pytest.raises(ValueError, match=message):
        inference.check_poses_2d(poses)


def test_a_single_pose_is_accepted():
    assert inference.check_poses_2d(PIXELS[0]).shape == (1, 16, 2)


@pytest.mark.parametrize("poses, message", [
    (PIXELS.astype(str), "expected numbers \\(pixels\\), found <U"),
    (PIXELS * 1e9, "2 of 3 poses reach beyond -1000.0 to 2000.0 pixels \\(first: pose 0"),
    (PIXELS - 2000.0, "3 of 3 poses reach beyond"),
    ((PIXELS - 500) / 250, "every pose is under 20.0 pixels wide and tall.*normalised coordinates\\?"),
    (np.zeros((3, 16, 2)), "every pose is under 20.0 pixels"),
])
def test_numbers_that_are_not_pixels_are_refused(poses, message):
    if message.startswith("2 of 3"):
        poses[2] = PIXELS[2]
    with pytest.raises(ValueError, match=message):
        inference.check_poses_2d(poses, origin="in.npz: poses_2d")


def test_failed_detections_among_good_poses_are_a_warning():
    poses = PIXELS.copy()
    poses[1] = 0.0
    with pytest.warns(inference.TinyPoseWarning, match=r"1 of 3 poses are under 20.0 pixels .*first: pose 1"):
        assert inference.check_poses_2d(poses).shape == (3, 16, 2)


def test_predict_files_are_read_and_written(tmp_path, normalizer):
    path = tmp_path / "in.npz"
    np.savez(path, poses_2d=PIXELS[:2])
    np.testing.assert_array_equal(inference.read_poses_2d(path), PIXELS[:2])
    result = inference.hypotheses_from_mixture(np.zeros((2, 5, 48)), np.ones((2, 5)), np.ones((2, 5)), normalizer)
    out = inference.save_hypotheses(result, tmp_path / "sub" / "out.npz")
    with np.load(out) as saved:
        assert sorted(saved.files) == ["hypotheses", "sigmas", "weights"]
        np.testing.assert_allclose(saved["weights"], 0.2)
        np.testing.assert_allclose(saved["hypotheses"][0, 0, 1], normalizer.mean_3d[:3], rtol=1e-6)


@pytest.mark.parametrize("content, message", [
    ({"points": np.zeros((2, 16, 2))}, "no array 'poses_2d' \\(found: points\\)"),
    ({"poses_2d": np.zeros((2, 16))}, r"poses_2d: expected \(N, 16, 2\)"),
    (b"", "empty input file"),
    (b"PK\x03\x04 truncated", "damaged or incomplete .npz archive"),
    (b"\x93NUMPY\x01\x00", "a single .npy array, not an .npz archive"),
    (b"x,y\n1,2\n", "not an .npz file"),
])
def test_bad_predict_files_are_named(tmp_path, content, message):
    path = tmp_path / "in.npz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.savez(path, **content)
    with pytest.raises(ValueError, match=message) as error:
        inference.read_poses_2d(path)
    assert str(path) in str(error.value)


def test_a_missing_input_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz: no such input file"):
        inference.read_poses_2d(tmp_path / "missing.npz")


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04 cut short"])
def test_a_damaged_model_file_is_called_damaged(tmp_path, content):
    (tmp_path / "final.keras").write_bytes(content)
    with pytest.raises(ValueError, match=r"final\.keras: damaged model file .*train again"):
        inference.load_trained(tmp_path)


@pytest.mark.parametrize("text, reason", [('{"data": "h36', "not readable JSON"), ("[]", "not a JSON object"),
                                          ("\udcff", "not readable JSON")])
def test_a_damaged_run_json_says_what_to_do(tmp_path, text, reason):
    (tmp_path / "run.json").write_text(text, errors="surrogateescape")
    with pytest.raises(ValueError, match=rf"run\.json: {reason}.*restore it, or delete it and name the data with --data"):
        inference.training_run(tmp_path)


def test_a_training_folder_leads_to_its_model(tmp_path):
    (tmp_path / "final.keras").write_bytes(b"")
    assert inference.find_model_file(tmp_path) == tmp_path / "final.keras"
    (tmp_path / "best.keras").write_bytes(b"")
    assert inference.find_model_file(tmp_path) == tmp_path / "best.keras"
    assert inference.find_model_file(tmp_path / "final.keras") == tmp_path / "final.keras"


def test_missing_models_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file or training folder"):
        inference.find_model_file(tmp_path / "nowhere")
    expected = f"{tmp_path}: no trained model inside \\(expected one of best.keras"
    with pytest.raises(FileNotFoundError, match=expected):
        inference.find_model_file(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="expected a .keras model file"):
        inference.find_model_file(tmp_path / "notes.txt")


def test_find_pretrained_looks_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MDNLIB_DATA_DIR", str(tmp_path))
    assert inference.find_pretrained("mdn") is None
    (tmp_path / "pretrained" / "mdn").mkdir(parents=True)
    (tmp_path / "pretrained" / "baseline.keras").write_bytes(b"")
    assert inference.find_pretrained("mdn") == tmp_path / "pretrained" / "mdn"
    assert inference.find_pretrained("baseline") == tmp_path / "pretrained" / "baseline.keras"


def test_per_joint_sigmas_become_millimetres_with_the_root_at_zero(normalizer):
    rng = np.random.default_rng(2)
    sigma = np.full((4, 3, 16), 0.25)
    sigma[:, :, 5] = 0.5
    result = inference.hypotheses_from_mixture(rng.normal(size=(4, 3, 48)), sigma, np.ones((4, 3)), normalizer)
    assert result.sigmas.shape == (4, 3, 17)
    np.testing.assert_array_equal(result.sigmas[..., 0], 0.0)
    np.testing.assert_allclose(result.sigmas[..., 6], 0.5 * 200.0)        # output joint 5 is joint 6
    np.testing.assert_allclose(np.delete(result.sigmas[..., 1:], 5, axis=-1), 0.25 * 200.0)
