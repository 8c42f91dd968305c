"""Realism measures: the common skeleton, nearest-pose errors, bone and angle tables."""
import numpy as np
import pytest

from mdnlib import config, metrics, realism
from mdnlib.sources import synthetic


def _rotation_z(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@pytest.fixture(scope="module")
def poses():
    rng = np.random.default_rng(0)
    return np.concatenate([synthetic.generate_poses(40, a, rng) for a in synthetic.ACTIVITIES])


def test_common_skeleton_keeps_directions_and_sets_common_lengths(poses):
    rng = np.random.default_rng(1)
    other_body = synthetic.Body({k: v * rng.uniform(0.8, 1.2) for k, v in synthetic.AVERAGE_BONES.items()})
    angles = synthetic.sample_angles(30, "Climbing", rng)
    common_a = realism.common_skeleton(synthetic.pose_from_angles(angles))
    common_b = realism.common_skeleton(synthetic.pose_from_angles(angles, other_body))
    assert np.allclose(common_a, common_b, atol=1e-6)     # bodies differ, poses do not
    for side in "lr":  # arms below 60 degrees: no shrug, so the average body is its own common skeleton
        angles[f"arm_elev_{side}"] = np.minimum(angles[f"arm_elev_{side}"], 60)
    average = synthetic.pose_from_angles(angles)
    assert np.allclose(realism.common_skeleton(average), average - average[:, :1], atol=1e-6)
    lengths = realism.bone_lengths(common_b)
    assert lengths["forearm"] == pytest.approx(synthetic.AVERAGE_BONES["forearm"])
    assert lengths["thigh"] == pytest.approx(synthetic.AVERAGE_BONES["thigh"])


def test_identical_sets_are_zero_apart(poses):
    errors, indices = realism.nearest_pose_errors(poses, poses)
    assert np.allclose(errors, 0.0, atol=1e-6)
    assert np.mean(indices == np.arange(len(poses))) > 0.99


def test_moved_scaled_and_turned_copies_are_zero_apart(poses):
    moved = 1.3 * poses @ _rotation_z(0.7).T + np.array([500.0, -200.0, 40.0])
    errors, _ = realism.nearest_pose_errors(moved, poses)
    assert np.allclose(errors, 0.0, atol=1e-6)


def test_error_of_a_known_displacement():
    pose = synthetic.pose_from_angles({n: np.zeros(1) for n in synthetic.ANGLE_NAMES})
    database = np.concatenate([pose, pose + 5000.0])
    rest = {n: np.zeros(1) for n in synthetic.ANGLE_NAMES}
    bent = synthetic.pose_from_angles(rest | {"elbow_l": np.array([90.0])})
    errors, indices = realism.nearest_pose_errors(bent, database)
    limbs = realism.LIMB_JOINTS_17
    assert indices[0] == 0
    # the database pose is aligned onto the query, like a prediction onto its ground truth
    assert errors[0] == pytest.approx(metrics.p_mpjpe(pose[0, limbs], bent[0, limbs]))
    assert 0 < errors[0] < np.sqrt(2) * synthetic.AVERAGE_BONES["forearm"]  # the wrist moved that far


def test_uniform_angles_are_further_from_real_movement_than_activities(poses):
    rng_poses = realism.uniform_angle_poses(len(poses), seed=3)
    near_synthetic, _ = realism.nearest_pose_errors(poses[::2], poses[1::2])
    near_uniform, _ = realism.nearest_pose_errors(poses[::2], rng_poses)
    assert np.median(near_synthetic) < np.median(near_uniform)


def test_bone_table_compares_proportions(poses):
    rows = realism.bone_table(poses, 2.0 * poses)
    assert [r[0] for r in rows] == list(realism.BONES)
    for name, a, b, ratio in rows:
        assert b == pytest.approx(2 * a) and ratio == pytest.approx(1.0)


def test_joint_angles_of_a_hand_made_pose():
    angles = {n: np.zeros(1) for n in synthetic.ANGLE_NAMES}
    angles.update(knee_r=np.array([90.0]), elbow_l=np.array([60.0]), hip_flex_l=np.array([45.0]),
                  arm_elev_r=np.array([120.0]), arm_elev_l=np.array([30.0]), pelvis_pitch=np.array([20.0]))
    measured = realism.joint_angles(synthetic.pose_from_angles(angles))
    # left and right are concatenated: right first
    assert measured["knee flexion"] == pytest.approx([90.0, 0.0], abs=1e-6)
    assert measured["elbow flexion"] == pytest.approx([0.0, 60.0], abs=1e-6)
    assert measured["hip elevation"] == pytest.approx([0.0, 45.0], abs=1e-6)
    # the raised arm lifts its shoulder (shrug), which tilts the chest frame the shoulders define
    assert measured["shoulder elevation"] == pytest.approx([120.0, 30.0], abs=10.0)
    assert measured["trunk lean"] == pytest.approx([20.0], abs=1.0)
    table = realism.angle_table({"a": synthetic.pose_from_angles(angles)})
    assert table[0][:2] == ("knee flexion", "a")


def test_report_on_a_small_case(poses):
    half = len(poses) // 2
    report = realism.compare_with_real({"A": poses[:half], "B": poses[half:]}, database_size=600)
    names = [row[0] for row in report.summary_rows()]
    assert names[0] == "real -> nearest synthetic" and len(names) == 4
    assert all(np.isfinite(row[2]) and row[3] >= row[2] for row in report.summary_rows())
    text = report.format()
    assert "median" in text and "forearm" in text and "knee flexion" in text


def test_synthetic_poses_are_nearer_to_cmu_than_uniform_angles():
    from mdnlib.sources.cmu import load_cmu
    cmu = load_cmu(config.CMU_SAMPLE_DIR / "02", step=40)
    real = np.concatenate([cmu.poses_3d["02"][a] for a in cmu.actions("02")])
    report = realism.compare_with_real({"02": real}, database_size=5000)
    median = {name: med for name, _, med, _ in report.summary_rows()}
    assert median["real -> nearest synthetic"] < 0.8 * median["real -> nearest uniform-angle pose"]
    ratio = {name: r for name, _, _, r in report.bones}
    assert 0.8 < ratio["thigh"] < 1.2 and 0.8 < ratio["shin"] < 1.2
