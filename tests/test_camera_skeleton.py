"""Skeleton index maps and camera geometry, checked against hand-computed values."""
import numpy as np
import pytest

from mdnlib import camera, skeleton
from mdnlib.poseset import PoseSet


def test_skeleton_orders_match_the_spec():
    assert len(skeleton.JOINTS_17) == 17
    assert [skeleton.JOINTS_17[i] for i in skeleton.INPUT_16].count("Neck/Nose") == 0
    assert skeleton.JOINTS_17[skeleton.OUTPUT_16[0]] == "RHip" and len(skeleton.OUTPUT_16) == 16
    assert list(skeleton.H36M32_TO_17) == [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]
    # MPII: RAnkle, RKnee, RHip, LHip, LKnee, LAnkle, Pelvis, Thorax, UpperNeck, HeadTop, RWrist, ...
    mpii = ["RFoot", "RKnee", "RHip", "LHip", "LKnee", "LFoot", "Hip", "Thorax", "UpperNeck", "Head",
            "RWrist", "RElbow", "RShoulder", "LShoulder", "LElbow", "LWrist"]
    reordered = [mpii[i] for i in skeleton.MPII16_TO_INPUT16]
    # MPII has no spine: its thorax fills the Spine slot and its upper neck the Thorax slot
    expected = ["Hip", "RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot", "Thorax", "UpperNeck",
                "Head", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist"]
    assert reordered == expected
    assert [skeleton.INPUT_NAMES[i] for i in skeleton.LIMB_INPUT_INDICES] == list(skeleton.LIMB_JOINTS)
    assert skeleton.SIDES_17[skeleton.joint_index("LWrist")] == "L"
    assert skeleton.SIDES_17[skeleton.joint_index("Neck/Nose")] == "C"
    with pytest.raises(KeyError, match="unknown joint"):
        skeleton.joint_index("Tail")


def test_world_camera_round_trip_and_rotation():
    cam = camera.h36m_camera("S9", "55011271")
    assert np.allclose(cam.R @ cam.R.T, np.eye(3)) and np.isclose(np.linalg.det(cam.R), 1)
    points = np.random.default_rng(0).normal(size=(4, 5, 17, 3)) * 500
    assert np.allclose(cam.camera_to_world(cam.world_to_camera(points)), points)
    # the camera centre maps to the origin of the camera frame
    assert np.allclose(cam.world_to_camera(cam.T), 0)


def test_projection_without_distortion_is_pinhole():
    cam = camera.Camera(R=np.eye(3), T=np.zeros(3), f=(1000, 900), c=(500, 400))
    px = cam.project(np.array([[100.0, -200.0, 2000.0]]))
    assert np.allclose(px, [[1000 * 0.05 + 500, 900 * -0.1 + 400]])


def test_projection_with_distortion_matches_hand_formula():
    cam = camera.Camera(R=np.eye(3), T=np.zeros(3), f=(1000, 1000), c=(0, 0),
                        k=(0.1, 0.01, 0.001), p=(0.002, 0.003))
    x, y = 0.2, -0.1
    r2 = x * x + y * y
    radial = 1 + 0.1 * r2 + 0.01 * r2 ** 2 + 0.001 * r2 ** 3
    tan = 0.002 * y + 0.003 * x
    expected = [1000 * (x * (radial + tan) + 0.003 * r2), 1000 * (y * (radial + tan) + 0.002 * r2)]
    assert np.allclose(cam.project(np.array([x * 3000, y * 3000, 3000.0])), expected)


def test_h36m_cameras_look_at_the_capture_area():
    centre = np.array([0.0, 0.0, 900.0])
    for subject in camera.RIG:
        for cid, cam in camera.h36m_cameras(subject).items():
            depth = cam.world_to_camera(centre)[2]
            px = cam.project(centre)
            assert 4000 < depth < 7000, (subject, cid, depth)
            assert np.all((px > 300) & (px < 700)), (subject, cid, px)
    with pytest.raises(KeyError, match="S2"):
        camera.h36m_camera("S2", "54138969")


def test_poseset_validate_names_the_problem():
    cams = camera.h36m_cameras("S1")
    ok = PoseSet("test", {"S1": {"Walk": np.zeros((3, 17, 3))}},
                 {"S1": {"Walk": {"54138969": np.zeros((3, 16, 2))}}}, {"S1": cams})
    ok.validate("here.h5")
    assert "S1" in ok.summary() and ok.num_frames() == 3
    bad = PoseSet("test", {"S1": {"Walk": np.zeros((3, 17, 3))}},
                  {"S1": {"Walk": {"54138969": np.zeros((2, 16, 2))}}}, {"S1": cams})
    with pytest.raises(ValueError, match=r"here.h5.*\(3, 16, 2\)"):
        bad.validate("here.h5")
    nan = np.zeros((3, 16, 2))
    nan[0, 0, 0] = np.nan
    bad.poses_2d["S1"]["Walk"]["54138969"] = nan
    with pytest.raises(ValueError, match="NaN"):
        bad.validate()


def test_recordings_of_one_action_share_the_action_label():
    from mdnlib.dataset import camera_frame_arrays
    from mdnlib.poseset import action_of
    assert action_of("Walking 1") == action_of("Walking") == "Walking"
    assert action_of("01_02") == "01_02" and action_of("Photo 1") == "Photo"
    cams = camera.h36m_cameras("S9")
    world = np.random.default_rng(0).normal(size=(2, 17, 3)) * 200 + [0, 0, 900]
    views = {"54138969": cams["54138969"].project(world[:, skeleton.INPUT_16])}
    poses = PoseSet("test", {"S9": {"Walking": world, "Walking 1": world}},
                    {"S9": {"Walking": views, "Walking 1": views}}, {"S9": cams})
    arrays = camera_frame_arrays(poses, ["S9"])
    assert list(arrays["action"]) == ["Walking"] * 4
    assert list(arrays["sequence"]) == ["Walking"] * 2 + ["Walking 1"] * 2
