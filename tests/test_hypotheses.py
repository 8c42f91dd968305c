"""mdnlib.hypotheses: spreads of M hypotheses and the multi-view choice, on hand-made cases."""
import numpy as np
import pytest

from mdnlib import camera, hypotheses, toy


def test_depth_spread_of_two_depth_solutions():
    pose = toy.example_pose()
    wrist = 13
    flipped = toy.flip_bones(pose, [wrist])
    hyps = np.stack([pose, flipped])[None] - pose[0]
    gap = (flipped[wrist, 2] - flipped[12, 2]) - (pose[wrist, 2] - pose[12, 2])
    even = hypotheses.depth_spread(hyps, np.array([[0.5, 0.5]]))
    assert even.shape == (1, 17)
    assert even[0, wrist] == pytest.approx(abs(gap) / 2)
    assert np.allclose(np.delete(even[0], wrist), 0.0, atol=1e-9)   # only the flipped bone differs
    uneven = hypotheses.depth_spread(hyps, np.array([[0.9, 0.1]]))
    assert uneven[0, wrist] == pytest.approx(abs(gap) * np.sqrt(0.9 * 0.1))
    assert hypotheses.depth_spread(hyps, np.array([[1.0, 0.0]]))[0, wrist] == 0.0


def test_joint_spread_is_the_weighted_rms_distance_from_the_mean():
    hyps = np.zeros((1, 3, 17, 3))
    hyps[0, 1, 5] = [30.0, 40.0, 0.0]          # 50 mm away
    weights = np.array([[0.5, 0.25, 0.25]])
    spread = hypotheses.joint_spread(hyps, weights)
    mean = 0.25 * np.array([30.0, 40.0, 0.0])
    expected = np.sqrt(0.75 * np.sum(mean ** 2) + 0.25 * np.sum((hyps[0, 1, 5] - mean) ** 2))
    assert spread[0, 5] == pytest.approx(expected)
    assert np.allclose(np.delete(spread[0], 5), 0.0)


def test_to_world_orientation_undoes_the_camera_rotation():
    cam = camera.h36m_camera("S9", camera.CAMERA_IDS[1])
    world = toy.example_pose(0.0) + [500.0, -200.0, 900.0]
    pose_cam = cam.world_to_camera(world)
    turned = hypotheses.to_world_orientation(pose_cam - pose_cam[0], cam)
    assert np.allclose(turned, world - world[0], atol=1e-6)


def test_choose_multiview_finds_the_pose_all_views_share():
    rng = np.random.default_rng(0)
    truth = toy.example_pose(0.0)
    views = truth + rng.normal(0.0, 250.0, (3, 4, 17, 3))
    for v, k in enumerate((2, 0, 3)):
        views[v, k] = truth + rng.normal(0.0, 10.0, (17, 3))
    assert hypotheses.choose_multiview(views).tolist() == [2, 0, 3]
    with pytest.raises(ValueError, match="at least 2 views"):
        hypotheses.choose_multiview(views[:1])


def test_moment_views_groups_the_cameras_of_one_frame():
    info = {"subject": np.array(["S9"] * 6 + ["S11"] * 3), "sequence": np.array(["Walk"] * 9),
            "camera": np.array(["a", "a", "a", "b", "b", "b", "b", "a", "a"]),
            "frame": np.array([0, 1, 2, 0, 1, 2, 0, 0, 1])}
    groups = hypotheses.moment_views(info)
    assert groups.shape == (4, 2)                 # S11 frame 1 has no camera b
    assert {tuple(info["camera"][g]) for g in groups} == {("a", "b")}
    for g in groups:
        assert len({(info["subject"][i], info["frame"][i]) for i in g}) == 1


def test_bone_vectors_are_offsets_from_the_parent():
    pose = toy.example_pose()
    bones = hypotheses.bone_vectors(np.stack([pose, pose]))
    assert np.allclose(bones[:, 0], 0.0)
    assert np.allclose(bones[1, 13], pose[13] - pose[12])               # LWrist - LElbow
    assert np.allclose(np.linalg.norm(bones[0], axis=-1), toy.bone_lengths(pose))


def test_nearest_neighbours_match_a_full_sort():
    rng = np.random.default_rng(0)
    references = rng.normal(size=(500, 6))
    queries = np.concatenate([rng.normal(size=(40, 6)), references[[7, 99]] + 1e-3])
    indices, distances = hypotheses.nearest_neighbours(queries, references, k=5, chunk=16)
    full = np.linalg.norm(queries[:, None] - references[None], axis=-1)
    assert np.array_equal(indices, np.argsort(full, axis=1)[:, :5])
    assert np.allclose(distances, np.sort(full, axis=1)[:, :5], atol=1e-5)
    assert indices[-2, 0] == 7 and indices[-1, 0] == 99
    with pytest.raises(ValueError, match="k must be"):
        hypotheses.nearest_neighbours(queries, references, k=501)


def test_depth_uncertainty_adds_the_kernels_own_variance():
    hyps = np.zeros((1, 2, 17, 3))
    hyps[0, 1, 3, 2] = 40.0                    # the two kernels disagree by 40 mm on joint 3's depth
    weights = np.array([[0.5, 0.5]])
    per_kernel = hypotheses.depth_uncertainty(hyps, weights, np.array([[10.0, 10.0]]))
    assert per_kernel[0, 0] == 0.0
    assert per_kernel[0, 1] == pytest.approx(10.0)                       # the root's child: sigma alone
    assert per_kernel[0, 3] == pytest.approx(np.sqrt(20.0 ** 2 + 2 * 10.0 ** 2))
    per_joint = np.zeros((1, 2, 17))
    per_joint[..., 2] = 30.0                   # joint 3's parent
    result = hypotheses.depth_uncertainty(hyps, weights, per_joint)
    assert result[0, 3] == pytest.approx(np.sqrt(20.0 ** 2 + 30.0 ** 2))
    assert result[0, 2] == pytest.approx(30.0)
    assert result[0, 1] == 0.0


def test_the_weight_on_flipped_limbs_finds_each_single_flip():
    pose = toy.example_pose()                  # camera frame: the rays from the camera matter
    joints = hypotheses.LIMB_JOINT_INDICES
    gaps, possible, flipped_depth = hypotheses.limb_flips(np.stack([pose] * 8))
    assert gaps.shape == possible.shape == flipped_depth.shape == (8, 8)
    np.testing.assert_allclose(gaps[0], toy.flip_gaps(pose)[joints])
    np.testing.assert_array_equal(possible[0], toy.single_flips_in_generator_ranges(pose))
    flipped = np.stack([toy.flip_bones(pose, [joint]) for joint in joints])          # pose k: limb bone k flipped
    np.testing.assert_allclose(np.diagonal(hypotheses.bone_vectors(flipped)[:, joints, 2]), flipped_depth[0])
    # hypotheses (root-relative): the flipped pose with weight 1, the truth with weight 3
    hyps = np.stack([flipped, np.stack([pose] * 8)], axis=1) - pose[0]
    share = hypotheses.weight_on_flipped(hyps, np.tile([1.0, 3.0], (8, 1)), np.stack([pose] * 8))
    np.testing.assert_allclose(share, 0.25 * np.eye(8), atol=1e-12)
    np.testing.assert_allclose(hypotheses.weight_on_flipped(hyps, np.ones((8, 2)), np.stack([pose] * 8),
                                                            flipped_depth=flipped_depth), 0.5 * np.eye(8))
    truth_only = hypotheses.weight_on_flipped(hyps[:, 1:], np.ones((8, 1)), np.stack([pose] * 8), flipped_depth)
    assert np.all(truth_only == 0.0)
    # where both solutions coincide, the truth does not lie nearer the flipped one
    true_depth = hypotheses.bone_vectors(np.stack([pose] * 8))[:, joints, 2]
    assert np.all(hypotheses.weight_on_flipped(hyps[:, 1:], np.ones((8, 1)), np.stack([pose] * 8), true_depth) == 0.0)


def test_flip_patterns_count_the_distinct_combinations_of_plausible_flips():
    from mdnlib import toy
    pose = toy.example_pose()
    joints = hypotheses.LIMB_JOINT_INDICES
    # hypotheses: the truth, bone 0 flipped, bones 0 and 1 flipped, bone 2 flipped (twice)
    variants = [pose, toy.flip_bones(pose, [joints[0]]), toy.flip_bones(pose, [joints[0], joints[1]]),
                toy.flip_bones(pose, [joints[2]]), toy.flip_bones(pose, [joints[2]])]
    hyps = np.stack(variants)[None] - pose[0]
    plausible = np.zeros((1, 8), bool)
    plausible[0, :2] = True                              # bones 0 and 1 only: bone 2's flip is not counted
    assert hypotheses.flip_patterns(hyps, pose[None], plausible)[0] == 3     # (0,0), (1,0), (1,1)
    plausible[0, 2] = True
    assert hypotheses.flip_patterns(hyps, pose[None], plausible)[0] == 4
    nearer = hypotheses.nearer_flipped(hyps, pose[None])
    assert nearer.shape == (1, 5, 8) and nearer[0, 2, :2].all() and not nearer[0, 0].any()
