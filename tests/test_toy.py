"""The toy problems: bone flips keep the projection and the bone lengths; Bishop's data; mixtures."""
import numpy as np
import pytest

from mdnlib import skeleton, toy


def project(pose):
    return pose[..., :2] / pose[..., 2:]


def test_bone_candidates_are_on_the_ray_at_the_bone_length():
    ray, parent = np.array([0.1, -0.05, 1.0]), np.array([300.0, -100.0, 4000.0])
    near, far = toy.bone_candidates(ray, parent, 250.0)
    assert np.allclose(np.linalg.norm([near - parent, far - parent], axis=-1), 250.0)
    assert np.allclose(np.cross(near, ray), 0) and np.allclose(np.cross(far, ray), 0)
    assert near[2] < far[2]
    # a ray through the parent: the candidates are parent -/+ length along the ray
    through = toy.bone_candidates(parent, parent, 100.0)
    assert np.allclose(through, parent + np.outer([-100.0, 100.0], parent / np.linalg.norm(parent)))


def test_flips_keep_projection_and_bone_lengths_and_are_involutions():
    pose = toy.example_pose()
    assert np.allclose(toy.flip_bones(pose, []), pose)
    for flips in ([13], [5], [5, 6, 12, 13], [2, 7, 15]):
        flipped = toy.flip_bones(pose, flips)
        assert np.allclose(project(flipped), project(pose), atol=1e-12)
        assert np.allclose(toy.bone_lengths(flipped), toy.bone_lengths(pose), atol=1e-6)
        assert np.allclose(toy.flip_bones(flipped, flips), pose, atol=1e-6)
    # a leaf flip moves only the leaf, by its flip gap
    moved = np.linalg.norm(toy.flip_bones(pose, [13]) - pose, axis=-1)
    assert np.flatnonzero(moved > 1e-9).tolist() == [13]
    assert np.isclose(moved[13], toy.flip_gaps(pose)[13])


def test_example_pose_is_plausible_and_a_backward_knee_is_not():
    pose = toy.example_pose()
    assert not any(toy.joint_limit_violations(pose).values())
    assert skeleton.JOINTS_17[10] == "Head" and pose[10, 1] < pose[0, 1] < pose[3, 1]  # head up, feet down
    hyperextended = pose.copy()
    hyperextended[5, 2] += 250  # left knee pushed far behind the hip-foot line
    broken = toy.joint_limit_violations(hyperextended)
    assert broken["L knee bends forward"] and not broken["R knee bends forward"]


def test_count_flips_on_the_example_pose():
    counts = toy.count_flips(toy.example_pose())
    assert counts["total"] == 2 ** len(counts["bones"]) == 4096
    assert "RHip" not in counts["bones"] and "LWrist" in counts["bones"]
    assert 1 <= counts["plausible"] < counts["total"]
    assert counts["broken"]["L knee bends forward"] == counts["total"] // 2


def test_bishop_data_follows_the_curve():
    x, t = toy.bishop_data(5000, rng=0, noise=0.1)
    assert x.shape == t.shape == (5000,) and 0 <= t.min() and t.max() <= 1
    assert np.all(np.abs(x - toy.bishop_curve(t)) <= 0.1)
    assert np.isclose(toy.bishop_curve(0.25), 0.55)


def test_mixture_pdf_integrates_to_one_and_sampling_follows_the_weights():
    grid = np.linspace(-5, 5, 4001)
    mu, sigma, alpha = np.array([[-1.0, 2.0]]), np.array([[0.3, 0.5]]), np.array([[0.25, 0.75]])
    density = toy.mixture_pdf(grid, mu, sigma, alpha)
    assert density.shape == (1, 4001) and np.isclose(np.trapezoid(density[0], grid), 1.0, atol=1e-6)
    n = 40000
    samples, kernels = toy.sample_mixture(np.repeat(mu, n, 0), np.repeat(sigma, n, 0),
                                          np.repeat(alpha, n, 0), rng=0)
    assert abs(np.mean(kernels == 1) - 0.75) < 0.01
    assert abs(samples[kernels == 1].std() - 0.5) < 0.01
    # D-dimensional means: isotropic samples around the chosen kernel's mean
    samples, kernels = toy.sample_mixture(np.zeros((n, 2, 48)) + [[0.0], [10.0]], np.ones((n, 2)),
                                          np.tile([0.5, 0.5], (n, 1)), rng=1)
    assert samples.shape == (n, 48)
    assert np.allclose(samples.mean(axis=1)[kernels == 1].mean(), 10.0, atol=0.05)


def test_toy_networks_output_a_valid_mixture_and_a_finite_loss():
    from mdnlib import config, losses

    config.import_keras()
    config.set_seed(0)
    model = toy.build_mdn_1d(num_kernels=4, beta=2.0)
    mu, sigma, alpha = toy.split_mixture(model.predict(np.array([-5.0, 0.5, 50.0]), verbose=0))
    assert mu.shape == sigma.shape == alpha.shape == (3, 4)
    assert np.all(sigma >= 1e-3) and np.allclose(alpha.sum(axis=1), 1.0, atol=1e-5)
    x, t = toy.bishop_data(64, rng=0)
    mu, sigma, alpha = toy.split_mixture(model.predict(x, verbose=0))
    expected = (float(losses.mixture_nll(t[:, None], mu[..., None], sigma, alpha))
                + float(losses.dirichlet_prior(alpha, 2.0)))
    assert np.isclose(model.evaluate(x, t, batch_size=64, verbose=0), expected, rtol=1e-4)
    regression = toy.build_regression_1d()
    assert regression.predict(x[:5], verbose=0).shape == (5, 1)


def _generated(angles, rng=None):
    """Poses of the synthetic generator for given joint angles (missing ones 0), body frame."""
    from mdnlib.sources import synthetic
    full = {name: np.zeros(np.size(angles[next(iter(angles))])) for name in synthetic.ANGLE_NAMES}
    full.update({name: np.atleast_1d(np.asarray(v, dtype=float)) for name, v in angles.items()})
    body = synthetic.Body.random(rng) if rng is not None else None
    return synthetic.pose_from_angles(full, body)


def test_limb_angles_invert_the_generator():
    from mdnlib.sources import synthetic
    rng = np.random.default_rng(3)
    for activity in ("Walking", "Sitting", "Climbing", "Waving"):
        angles = synthetic.sample_angles(300, activity, rng)
        poses = _generated(angles, rng)
        turned = poses @ toy._rotation(2, 0.7).T                  # any orientation of the body
        recovered = toy.limb_angles(turned)
        assert set(recovered) == {n for n in synthetic.JOINT_RANGES if n[:3] in ("hip", "kne", "arm", "elb")}
        for name, values in recovered.items():
            defined = ~np.isnan(values)
            assert defined.mean() > 0.8, name
            assert np.allclose(toy._wrap(values[defined] - angles[name][defined]), 0.0, atol=1e-4), name
        inside = toy.limbs_in_generator_ranges(turned)
        clear = synthetic.limbs_clear_of_torso(poses)
        assert inside["left leg"].all() and inside["right leg"].all()
        assert np.array_equal(inside["left arm"], clear) and np.array_equal(inside["right arm"], clear)


def test_flips_that_bend_a_joint_backwards_are_outside_the_generator():
    # facing the camera: body forward = towards the camera (-z), left = +x, up = -y
    to_camera = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])
    body = _generated({"knee_r": 60.0, "arm_plane_l": 90.0, "arm_elev_l": 20.0, "elbow_l": 90.0})[0]
    pose = body @ to_camera.T + [0.0, 0.0, 4500.0]
    assert all(v for v in toy.limbs_in_generator_ranges(pose).values())
    flips = dict(zip(skeleton.LIMB_JOINTS, toy.single_flips_in_generator_ranges(pose)))
    assert not flips["RFoot"]       # the shank would point forward: a knee bent backwards
    assert not flips["LWrist"]      # the forearm would point backward: an elbow bent backwards
    assert not flips["LFoot"]       # even a straight leg: its flipped foot comes forward
    assert flips["LKnee"]           # the thigh tilts forward, the knee bends backwards: fine
    assert flips["LElbow"]          # the upper arm swings from forward to backward: fine
    backward_knee = toy.flip_bones(pose, [skeleton.joint_index("RFoot")])
    assert abs(toy.limb_angles(backward_knee)["hip_rot_r"]) > 150


def test_bishop_conditional_draws_exact_answers_and_the_distance_tells_them_apart():
    """Notebook 08 judges its samplers by these: exact answers of y given x, and a distance."""
    x = np.random.default_rng(0).uniform(-0.1, 1.1, 3000)
    exact = toy.bishop_conditional(x, rng=1)
    assert exact.shape == x.shape and np.all((exact >= 0) & (exact <= 1))
    assert np.all(np.abs(x - toy.bishop_curve(exact)) <= 0.1)
    middle = np.abs(x - 0.5) < 0.05                      # three branches there: all of them drawn
    assert set(np.digitize(exact[middle], [0.35, 0.65])) == {0, 1, 2}
    again = toy.bishop_conditional(x, rng=2)
    averaged = np.interp(x, np.sort(x), np.convolve(exact[np.argsort(x)], np.ones(51) / 51, mode="same"))
    assert toy.conditional_distance(x, again, exact) < 0.03 < 0.05 < toy.conditional_distance(x, averaged, exact)
    with pytest.raises(ValueError, match="x must lie in"):
        toy.bishop_conditional([1.5])
    with pytest.raises(ValueError, match=r"\(n,\) each"):
        toy.conditional_distance(x, exact[:10], exact)
