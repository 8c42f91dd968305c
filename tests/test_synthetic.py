"""The synthetic source: determinism, anatomy, cameras and noise, the cache."""
import numpy as np
import pytest

from mdnlib.camera import h36m_cameras
from mdnlib.poseset import TEST_SUBJECTS, TRAIN_SUBJECTS
from mdnlib.skeleton import BONES_17, INPUT_16
from mdnlib.sources import synthetic


@pytest.fixture(scope="module")
def poses_by_activity():
    rng = np.random.default_rng(7)
    return {activity: synthetic.generate_poses(400, activity, rng, synthetic.Body.random(rng))
            for activity in synthetic.ACTIVITIES}


def test_same_seed_same_poses_other_seed_other_poses():
    first = synthetic.generate_poses(50, "Walking", np.random.default_rng(3))
    again = synthetic.generate_poses(50, "Walking", np.random.default_rng(3))
    other = synthetic.generate_poses(50, "Walking", np.random.default_rng(4))
    assert np.array_equal(first, again)
    assert np.abs(first - other).mean() > 100


def test_sampled_angles_stay_in_anatomical_ranges():
    rng = np.random.default_rng(0)
    for activity in synthetic.ACTIVITIES:
        angles = synthetic.sample_angles(500, activity, rng)
        assert set(angles) == set(synthetic.ANGLE_NAMES)
        for name, (lo, hi) in synthetic.JOINT_RANGES.items():
            assert lo <= angles[name].min() and angles[name].max() <= hi, (activity, name)
        for side in "lr":
            assert angles[f"knee_{side}"].min() >= 0 and angles[f"elbow_{side}"].min() >= 0


def _rest_angles(**changes):
    angles = {name: np.zeros(1) for name in synthetic.ANGLE_NAMES}
    angles.update({name: np.array([value], float) for name, value in changes.items()})
    return angles


def test_flexion_bends_knees_backwards_and_elbows_forwards():
    # body frame at yaw 0: x forward, y left, z up
    rest = synthetic.pose_from_angles(_rest_angles())[0]
    assert rest[3, 2] < rest[2, 2] < rest[1, 2] and abs(rest[3, 0] - rest[1, 0]) < 1e-9  # straight leg
    bent = synthetic.pose_from_angles(_rest_angles(knee_r=90, knee_l=90, elbow_r=90, elbow_l=90))[0]
    for knee, foot in ((2, 3), (5, 6)):
        assert bent[foot, 0] - bent[knee, 0] == pytest.approx(-synthetic.AVERAGE_BONES["shin"])
    for elbow, wrist in ((12, 13), (15, 16)):
        assert bent[wrist, 0] - bent[elbow, 0] == pytest.approx(synthetic.AVERAGE_BONES["forearm"])
    raised = synthetic.pose_from_angles(_rest_angles(hip_flex_l=90, arm_plane_r=90, arm_elev_r=90))[0]
    assert raised[5, 0] - raised[4, 0] == pytest.approx(synthetic.AVERAGE_BONES["thigh"])  # thigh forward
    assert raised[15, 0] - raised[14, 0] == pytest.approx(synthetic.AVERAGE_BONES["upper_arm"])  # arm forward


def test_knees_never_bend_backwards_and_arms_stay_out_of_the_torso(poses_by_activity):
    for activity, poses in poses_by_activity.items():
        left = poses[:, 4] - poses[:, 1]
        for hip, knee, foot in ((1, 2, 3), (4, 5, 6)):
            hinge = np.cross(poses[:, knee] - poses[:, hip], poses[:, foot] - poses[:, knee])
            # the knee's hinge axis points to the subject's left, whatever the hip does
            assert np.all(np.sum(hinge * left, axis=-1) >= -1e-6), activity
        assert synthetic.limbs_clear_of_torso(poses).all(), activity


def test_torso_check_finds_a_hand_inside_the_body():
    pose = synthetic.pose_from_angles(_rest_angles())
    assert synthetic.limbs_clear_of_torso(pose).all()
    pose[0, 13] = (pose[0, 0] + pose[0, 8]) / 2
    assert not synthetic.limbs_clear_of_torso(pose).any()


def test_poses_stand_on_the_floor_without_nan(poses_by_activity):
    for activity, poses in poses_by_activity.items():
        assert np.isfinite(poses).all()
        assert np.allclose(poses[..., 2].min(axis=1), 0.0), activity
        feet = poses[:, [3, 6], 2].min(axis=1)
        share_on_feet = np.mean(feet < 1e-6)
        assert share_on_feet > (0.97 if activity in ("Standing", "Walking", "Running") else 0.7), activity
        radius = np.linalg.norm(poses[:, 0, :2], axis=1)
        assert radius.max() < synthetic.CAPTURE_RADIUS_MM + 300


def test_activities_carry_the_correlations_of_movement(poses_by_activity):
    def thigh_forward(poses, hip, knee):
        pelvis_forward = np.cross(poses[:, 4] - poses[:, 1], [0.0, 0.0, 1.0])
        direction = poses[:, knee] - poses[:, hip]
        return np.sum(direction * pelvis_forward, -1) / np.linalg.norm(pelvis_forward, axis=-1)
    walking = poses_by_activity["Walking"]
    # legs swing half a cycle apart
    assert np.corrcoef(thigh_forward(walking, 1, 2), thigh_forward(walking, 4, 5))[0, 1] < -0.5
    sitting, standing = poses_by_activity["Sitting"], poses_by_activity["Standing"]
    hip_height = lambda p: np.median(p[:, 0, 2])  # noqa: E731
    assert hip_height(sitting) < 0.8 * hip_height(standing)
    raised = poses_by_activity["ArmsRaised"]
    assert np.median(raised[:, [13, 16], 2].max(axis=1) - raised[:, 10, 2]) > 0  # a hand above the head


def test_subjects_differ_but_keep_their_bone_lengths(cache_in_tmp):
    poses = synthetic.load_synthetic(frames_per_action=4, seed=1, cache=False)
    lengths = {}
    for subject in poses.subjects:
        all_poses = np.concatenate(list(poses.poses_3d[subject].values())).astype(np.float64)
        bone = np.stack([np.linalg.norm(all_poses[:, c] - all_poses[:, p], axis=-1) for c, p in BONES_17], 1)
        assert bone.std(axis=0).max() < 0.01  # mm, float32 storage
        lengths[subject] = bone.mean(axis=0)
    assert np.abs(lengths["S1"] - lengths["S9"]).max() > 1.0
    thigh = np.mean([v[1] for v in lengths.values()])   # bone 1 = RKnee-RHip
    assert 0.85 < thigh / synthetic.AVERAGE_BONES["thigh"] < 1.15


def test_poseset_layout_and_split(cache_in_tmp):
    poses = synthetic.load_synthetic(frames_per_action=3, cache=False)
    assert poses.subjects == list(TRAIN_SUBJECTS + TEST_SUBJECTS)
    assert poses.actions() == sorted(synthetic.ACTIVITIES)
    assert poses.train_subjects == TRAIN_SUBJECTS and poses.test_subjects == TEST_SUBJECTS
    assert poses.num_frames() == 7 * 3 * len(synthetic.ACTIVITIES)
    cams = poses.cameras["S9"]
    assert np.allclose(cams["55011271"].T, h36m_cameras("S9")["55011271"].T)


def test_quick_mode_shrinks_the_default(monkeypatch):
    monkeypatch.setenv("MDNLIB_QUICK", "1")
    per_subject = synthetic.default_frames_per_action() * len(synthetic.ACTIVITIES)
    assert 300 <= per_subject < 300 + len(synthetic.ACTIVITIES)
    monkeypatch.setenv("MDNLIB_QUICK", "0")
    assert synthetic.default_frames_per_action() * len(synthetic.ACTIVITIES) >= 40_000


def test_2d_is_the_projection_without_noise_and_close_to_it_with(cache_in_tmp):
    exact = synthetic.load_synthetic(frames_per_action=20, seed=2, noise_2d=False, cache=False)
    noisy = synthetic.load_synthetic(frames_per_action=20, seed=2, noise_2d=True, cache=False)
    deviations = []
    for subject in ("S1", "S11"):
        for cam_id, cam in exact.cameras[subject].items():
            p3 = exact.poses_3d[subject]["Reaching"]
            projected = cam.project(p3.astype(np.float64)[:, INPUT_16])
            assert np.allclose(exact.poses_2d[subject]["Reaching"][cam_id], projected, atol=1e-2)
            assert np.array_equal(noisy.poses_3d[subject]["Reaching"], p3)
            noisy_2d = noisy.poses_2d[subject]["Reaching"][cam_id]
            deviations.append(np.linalg.norm(noisy_2d - projected, axis=-1))
            inside = np.all((projected > 0) & (projected < np.array(cam.size)), axis=-1)
            assert inside.mean() > 0.99
    deviations = np.concatenate(deviations).ravel()
    assert 3.0 < np.median(deviations) < 8.0         # a few pixels
    assert np.mean(deviations > 30) < 0.02          # outliers are rare


def test_detector_noise_has_outliers():
    rng = np.random.default_rng(0)
    clean = np.zeros((20000, 16, 2))
    error = np.linalg.norm(synthetic.add_detector_noise(clean, rng), axis=-1)
    # an outlier (2D Gaussian, sigma 40 px) lands beyond 25 px with probability exp(-25^2 / (2 40^2))
    expected = synthetic.OUTLIER_PROBABILITY * np.exp(-25 ** 2 / (2 * synthetic.OUTLIER_SIGMA_PX ** 2))
    assert np.mean(error > 25) == pytest.approx(expected, rel=0.25)
    rayleigh_median = np.sqrt(2 * np.log(2)) * np.median(synthetic.NOISE_SIGMA_PX)
    assert np.median(error) == pytest.approx(rayleigh_median, rel=0.15)


def test_cache_is_written_atomically_and_read_back(cache_in_tmp):
    first = synthetic.load_synthetic(frames_per_action=2, seed=5)
    files = sorted(p.name for p in cache_in_tmp.iterdir())
    assert len(files) == 1 and files[0].endswith(".npz") and f"v{synthetic.GENERATOR_VERSION}" in files[0]
    second = synthetic.load_synthetic(frames_per_action=2, seed=5)
    for subject in first.subjects:
        for action in first.actions(subject):
            assert np.array_equal(first.poses_3d[subject][action], second.poses_3d[subject][action])
            for cam_id, p2 in first.poses_2d[subject][action].items():
                assert np.array_equal(p2, second.poses_2d[subject][action][cam_id])
    synthetic.load_synthetic(frames_per_action=2, seed=6)
    assert len(list(cache_in_tmp.iterdir())) == 2   # the seed is part of the key


def test_an_interrupted_write_leaves_nothing(cache_in_tmp, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(synthetic.np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        synthetic.load_synthetic(frames_per_action=2)
    assert list(cache_in_tmp.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncated", "empty", "flipped bytes", "text"])
def test_a_broken_cache_is_reported_in_one_line_and_regenerated(cache_in_tmp, damage):
    first = synthetic.load_synthetic(frames_per_action=2)
    path = next(cache_in_tmp.iterdir())
    content = path.read_bytes()
    path.write_bytes({"truncated": content[:len(content) // 2], "empty": b"",
                      "flipped bytes": content[:-5000] + bytes(b ^ 0xFF for b in content[-5000:-4000])
                      + content[-4000:], "text": b"not an npz"}[damage])
    with pytest.warns(UserWarning, match=f"{path.name}: .*generating the synthetic set again") as caught:
        again = synthetic.load_synthetic(frames_per_action=2)
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    assert np.array_equal(again.poses_3d["S1"]["Walking"], first.poses_3d["S1"]["Walking"])
    assert path.read_bytes() == content   # rewritten: the next load reads it silently


def test_temporaries_of_a_killed_writer_are_cleaned(cache_in_tmp):
    synthetic.load_synthetic(frames_per_action=2)
    path = next(cache_in_tmp.iterdir())
    orphan = cache_in_tmp / f".{path.stem}.999999999-0123abcd.tmp.npz"   # no such process
    orphan.write_bytes(b"half a cache")
    synthetic.load_synthetic(frames_per_action=2)
    assert list(cache_in_tmp.iterdir()) == [path]


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="unknown activity 'Dancing'"):
        synthetic.sample_angles(3, "Dancing", np.random.default_rng(0))
    with pytest.raises(ValueError, match="frames_per_action"):
        synthetic.load_synthetic(frames_per_action=0, cache=False)
