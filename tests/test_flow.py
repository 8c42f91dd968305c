"""The flow-matching lifter (beyond the paper, notebook 08): its path, loss and Heun sampler on
fields whose answer is known, a tiny flow that learns two modes, saving, training with its cosine
decay and resume, hypotheses without sigmas, and the evaluation of samples. Runs on whichever
Keras backend is active."""
import io
import json
import types
import warnings
import zipfile

import h5py
import numpy as np
import pytest

from mdnlib import evaluation, inference, metrics, models, train
from mdnlib.config import import_keras
from mdnlib.dataset import Normalizer
from mdnlib.runs import RunFolder
from toy_problem import DATA

keras = import_keras()
ops = keras.ops
numpy = ops.convert_to_numpy

TINY = models.FLOW.replace(width=32, blocks=1)

namespace = {}
exec(DATA, namespace)
X, Y, NORMALIZER = namespace["x"], namespace["y"], namespace["normalizer"]
TIME_COLUMN = models.INPUT_DIM + models.OUTPUT_DIM    # where t itself enters the velocity network


def tiny_flow(config=TINY, seed=0):
    return models.build_model(config, normalizer=NORMALIZER, seed=seed)


@pytest.fixture(scope="module")
def flow():
    """An untrained tiny flow, shared by the tests that only sample from it (its sampler is
    compiled once)."""
    return tiny_flow()


def rng_noise(seed, n, samples):
    """The noise `sample_flow` documents: NumPy's, from `seed`, one row per (input, sample)."""
    noise = np.random.default_rng(seed).standard_normal((n * samples, 48)).astype(np.float32)
    return noise.reshape(n, samples, 48)


# ---- the model ---------------------------------------------------------------------------------

def test_the_flow_preset_builds_a_velocity_network_of_the_expected_size():
    model = models.build_model(models.FLOW, seed=0)
    assert isinstance(model, models.FlowNetwork) and model.model_config.kind == "flow"
    assert model.model_config.kernels is None                       # as many hypotheses as sampled
    kinds = {type(layer).__name__ for layer in model.velocity.layers}
    assert "BatchNormalization" not in kinds and "TimeFeatures" in kinds
    # inputs 2D (32) + pose_t (48) + t and 8 sin/cos pairs (17) -> 512, 2 blocks of 2 units, -> 48
    width, inputs = 512, 32 + 48 + 17
    expected = (inputs + 1) * width + 4 * (width + 1) * width + (width + 1) * 48
    assert models.count_parameters(model) == expected
    with pytest.raises(ValueError, match="a flow model has no mixture"):
        models.predict_mixture(model, X[:2])
    with pytest.raises(ValueError, match="needs a configuration of kind 'flow'"):
        models.FlowNetwork(models.COURSE)
    with pytest.raises(ValueError, match="miss_num .* not the flow's"):
        models.FLOW.replace(miss_num=1)
    with pytest.raises(ValueError, match="sigma_per_joint is a mixture head's option, not the flow's"):
        models.FLOW.replace(sigma_per_joint=True)


def test_time_features_are_t_and_its_sines_and_cosines():
    layer = models.TimeFeatures(frequencies=3)
    t = np.array([[0.0], [0.1], [0.375], [1.0]], np.float32)
    out = numpy(layer(ops.convert_to_tensor(t)))
    angles = 2 * np.pi * t * np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(out, np.concatenate([t, np.sin(angles), np.cos(angles)], axis=1), atol=1e-5)
    assert layer.compute_output_shape((None, 1)) == (None, 7)
    assert models.TimeFeatures.from_config(layer.get_config()).frequencies == 3


def test_the_flow_path_goes_straight_from_noise_to_pose_at_its_velocity():
    rng = np.random.default_rng(0)
    noise, pose = rng.normal(size=(2, 5, 48))
    start, velocity = models.flow_path(noise, pose, 0.0)
    np.testing.assert_allclose(start, noise)
    np.testing.assert_allclose(velocity, pose - noise)
    np.testing.assert_allclose(models.flow_path(noise, pose, 1.0)[0], pose)
    t = rng.uniform(size=(5, 1))                                   # one time per example
    point, _ = models.flow_path(noise, pose, t)
    np.testing.assert_allclose(point, noise + t * (pose - noise))
    ahead, _ = models.flow_path(noise, pose, t + 1e-3)
    np.testing.assert_allclose((ahead - point) / 1e-3, velocity, rtol=1e-6)   # d/dt of the point
    tensor_point, _ = models.flow_path(*(ops.convert_to_tensor(a.astype(np.float32)) for a in (noise, pose, t)))
    np.testing.assert_allclose(numpy(tensor_point), point, rtol=1e-5, atol=1e-6)


def test_heun_is_exact_for_a_field_linear_in_time_and_euler_is_not():
    a, b = np.array([0.3, -1.0]), np.array([2.0, 0.5])

    def field(pose, t):
        return a + b * t

    pose, t, dt = np.array([1.0, 2.0]), 0.25, 0.5
    exact = pose + a * dt + b * (t * dt + dt ** 2 / 2)              # the integral of a + b t
    np.testing.assert_allclose(models.heun_step(field, pose, t, dt), exact)
    euler = models.heun_step(field, pose, t, dt, last=True)
    np.testing.assert_allclose(euler, pose + dt * field(pose, t))
    np.testing.assert_allclose(exact - euler, b * dt ** 2 / 2)


def test_heun_steps_along_the_field_of_one_pose_end_on_that_pose():
    # the velocity of the straight paths to one pose y, (y - x) / (1 - t): both Heun and the last
    # Euler step stay on the path from the noise, so the integration ends exactly on y
    rng = np.random.default_rng(1)
    noise, y = rng.normal(size=(2, 48))

    def field(pose, t):
        return (y - pose) / (1.0 - t)

    for steps in (1, 3, 8):
        pose = noise
        for i in range(steps):
            pose = models.heun_step(field, pose, i / steps, 1.0 / steps, last=i == steps - 1)
            np.testing.assert_allclose(pose, models.flow_path(noise, y, (i + 1) / steps)[0], atol=1e-12)
        np.testing.assert_allclose(pose, y, atol=1e-12)


def test_the_loss_is_the_mean_squared_error_against_the_paths_velocity(flow, monkeypatch):
    rng = np.random.default_rng(2)
    x, pose = X[:6], Y[:6]
    noise = rng.normal(size=(6, 48)).astype(np.float32)
    t = rng.uniform(size=(6, 1)).astype(np.float32)
    drawn = []

    def fake(values):
        def draw(shape, *args, dtype=None, **kwargs):
            drawn.append(tuple(int(s) for s in shape))
            return ops.convert_to_tensor(values, dtype=dtype)
        return draw

    monkeypatch.setattr(keras.random, "normal", fake(noise))
    monkeypatch.setattr(keras.random, "uniform", fake(t))
    output = flow({"pose_2d": ops.convert_to_tensor(x), "pose_3d": ops.convert_to_tensor(pose)}, training=True)
    assert sorted(drawn) == [(6, 1), (6, 48)]                      # one time and one noise vector per example
    target = pose - noise
    np.testing.assert_allclose(numpy(output["target"]), target, rtol=1e-6, atol=1e-6)
    velocity = numpy(flow.velocity([x, (1 - t) * noise + t * pose, t]))
    np.testing.assert_allclose(numpy(output["velocity"]), velocity, rtol=1e-5, atol=1e-5)
    terms = {name: float(numpy(value)) for name, value in flow.loss_terms(None, output).items()}
    expected = np.mean((velocity.astype(np.float64) - target) ** 2)
    assert terms["loss"] == pytest.approx(expected, rel=1e-5) and terms["mse"] == terms["loss"]
    assert float(numpy(flow.compute_loss(y_pred=output))) == pytest.approx(expected, rel=1e-5)


def test_every_call_draws_fresh_standard_noise(flow):
    pose = np.repeat(Y[:1], 256, axis=0)
    inputs = {"pose_2d": ops.convert_to_tensor(np.repeat(X[:1], 256, axis=0)),
              "pose_3d": ops.convert_to_tensor(pose)}
    first, second = (pose - numpy(flow(inputs, training=True)["target"]) for _ in range(2))
    assert not np.allclose(first, second)
    assert not np.allclose(first[0], first[1])                     # each example its own noise
    assert abs(first.mean()) < 0.04 and first.std() == pytest.approx(1.0, abs=0.03)


def set_linear_field(model, b, c):
    """Weights that make the velocity exactly c + b t (a flow of width >= 1, no blocks)."""
    stem, head = model.velocity.get_layer("stem_linear"), model.velocity.get_layer("velocity")
    kernel = np.zeros(tuple(stem.kernel.shape), np.float32)
    kernel[TIME_COLUMN, 0] = 1.0                                    # unit 0 = ReLU(t) = t
    stem.kernel.assign(kernel)
    stem.bias.assign(np.zeros(tuple(stem.bias.shape), np.float32))
    out = np.zeros(tuple(head.kernel.shape), np.float32)
    out[0] = b
    head.kernel.assign(out)
    head.bias.assign(c.astype(np.float32))


def test_the_compiled_sampler_integrates_heun_then_one_euler_step():
    model = tiny_flow(models.FLOW.replace(width=4, blocks=0))
    rng = np.random.default_rng(3)
    b, c = rng.normal(size=(2, 48)).astype(np.float32)
    set_linear_field(model, b, c)
    x = X[:3]
    for steps, rho in ((1, 1.0), (3, 1.0), (3, 2.0), (6, models.SAMPLER_RHO)):
        samples = models.sample_flow(model, x, 4, seed=7, steps=steps, rho=rho)
        # exact integral c + b / 2, less the last Euler step's error b dt^2 / 2, dt = (1 / steps)^rho
        expected = rng_noise(7, 3, 4) + c + b * (0.5 - 0.5 * (1.0 / steps) ** (2 * rho))
        np.testing.assert_allclose(samples, expected, rtol=1e-5, atol=1e-5)
    assert models.flow_sampler(model, 3) is models.flow_sampler(model, 3)      # made once


def test_sampler_times_shrink_towards_the_end():
    np.testing.assert_allclose(models.sampler_times(4, 1.0), [0, 0.25, 0.5, 0.75, 1])
    times = models.sampler_times(4, 2.0)
    np.testing.assert_allclose(times, [0, 1 - 0.75 ** 2, 0.75, 1 - 0.25 ** 2, 1])
    assert np.all(np.diff(np.diff(times)) < 0)                       # every step shorter than the last
    for steps, rho in ((0, 1.0), (3, 0.5)):
        with pytest.raises(ValueError, match="at least 1 step and rho >= 1"):
            models.sampler_times(steps, rho)


def test_sample_flow_shapes_seeds_and_checks(flow):
    samples = models.sample_flow(flow, X[:5], 6, seed=1)
    assert samples.shape == (5, 6, 48) and samples.dtype == np.float32 and np.isfinite(samples).all()
    np.testing.assert_array_equal(models.sample_flow(flow, X[:5], 6, seed=1), samples)
    other = models.sample_flow(flow, X[:5], 6, seed=2)
    assert np.all(np.any(other != samples, axis=-1))              # another seed: every sample differs
    assert not np.allclose(samples[:, 0], samples[:, 1])           # samples of one input differ
    looped = models.sample_flow(flow, X[:5], 6, seed=1, batch_size=8)   # predict in batches of 8
    np.testing.assert_allclose(looped, samples, rtol=1e-5, atol=1e-5)
    assert models.sample_flow(flow, X[:0], 3).shape == (0, 3, 48)
    for bad, message in [((X[:2], 0), "num_samples must be at least 1"),
                         ((X[:2, :30], 2), r"inputs must be normalised 2D poses \(N, 32\)"),
                         ((np.full((2, 32), np.nan), 2), "NaN or infinite")]:
        with pytest.raises(ValueError, match=message):
            models.sample_flow(flow, *bad)
    with pytest.raises(ValueError, match="at least 1 step"):
        models.sample_flow(flow, X[:2], 2, steps=0)


def test_a_trained_flow_samples_both_modes_of_a_bimodal_toy():
    # a "pose and its mirror": y = +-1.5 on every coordinate, the sign a coin flip the 2D input
    # does not tell; a regression (or a collapsed sampler) would answer near 0
    rng = np.random.default_rng(0)
    n, mode = 2048, 1.5
    x = np.zeros((n, 32), np.float32)
    y = np.repeat(mode * rng.choice([-1.0, 1.0], size=(n, 1)), 48, axis=1).astype(np.float32)
    model = models.build_model(models.FLOW.replace(width=128, blocks=1), seed=0)
    train.compile_model(model, 1e-2, batch_size=128, cosine_steps=10 * n // 128)
    model.fit(*train.fit_arrays(model, x, y), batch_size=128, epochs=10, shuffle=True, verbose=0)
    along = models.sample_flow(model, x[:2], 300, seed=0).mean(axis=-1)     # (2, 300): where on the line
    assert np.all((along > 0).mean(axis=1) > 0.3) and np.all((along < 0).mean(axis=1) > 0.3)
    assert np.mean(np.abs(along) < mode / 2) < 0.1                 # few samples between the modes
    assert np.median(np.abs(np.abs(along) - mode)) < 0.35          # the rest near one of them


# ---- training ----------------------------------------------------------------------------------

def test_fit_arrays_and_the_cosine_optimizer(flow):
    mdn = models.build_model(models.COURSE.replace(width=8, blocks=0))
    inputs, target = train.fit_arrays(flow, X, Y)
    assert target is None and inputs["pose_2d"] is X and inputs["pose_3d"] is Y
    assert train.fit_arrays(mdn, X, Y) == (X, Y)
    optimizer = train.make_optimizer(1e-2, cosine_steps=100)
    schedule = keras.saving.deserialize_keras_object(optimizer.get_config()["learning_rate"])
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    for step, factor in [(0, 1.0), (25, 0.5 + 0.5 * np.cos(np.pi / 4)), (50, 0.5), (100, 0.0)]:
        assert float(numpy(schedule(step))) == pytest.approx(1e-2 * factor, abs=1e-9)


def test_a_flow_validates_on_evenly_spread_rows(monkeypatch):
    monkeypatch.setattr(train, "FLOW_VALIDATION_EXAMPLES", 4)
    x, y = X[:10], Y[:10]
    rows_x, rows_y = train._validation_rows(TINY, x, y)
    np.testing.assert_array_equal(rows_x, x[[0, 3, 6, 9]])
    np.testing.assert_array_equal(rows_y, y[[0, 3, 6, 9]])
    few = (x[:4], y[:4])
    assert all(a is b for a, b in zip(train._validation_rows(TINY, *few), few))    # no more than that: all
    assert train._validation_rows(models.COURSE, x, y)[0] is x          # an MDN validates on all
    assert train._validation_rows(TINY, None, None) == (None, None)


def test_validation_metrics_of_a_flow_are_its_best_of_five_samples(flow):
    result = evaluation.validation_metrics(flow, X[:20], Y[:20], NORMALIZER)
    samples = inference.predict_normalized(flow, X[:20], num_hypotheses=evaluation.FLOW_VALIDATION_SAMPLES,
                                           seed=0)
    errors = metrics.mpjpe(samples.hypotheses, NORMALIZER.denormalize_3d(Y[:20])[:, None])
    assert errors.shape == (20, 5)
    assert result["val_mpjpe"] == pytest.approx(np.mean(errors.min(axis=1)), rel=1e-6)
    assert np.isnan(result["val_nll"])


def check_save_and_load(model, folder):
    """A trained flow (with optimizer state) saved with and without its optimizer loads as the same
    sampler, and saving leaves the model itself as it was."""
    iterations = int(numpy(model.optimizer.iterations))
    before = models.sample_flow(model, X[:4], 5, seed=3, steps=2)
    for include_optimizer in (True, False):
        path = folder / f"flow_{include_optimizer}.keras"
        models.save_model(model, path, include_optimizer=include_optimizer)
        loaded = models.load_model(path)
        assert isinstance(loaded, models.FlowNetwork) and loaded.model_config == model.model_config
        np.testing.assert_array_equal(loaded.normalizer.std_3d, NORMALIZER.std_3d)
        np.testing.assert_array_equal(models.sample_flow(loaded, X[:4], 5, seed=3, steps=2), before)
        with zipfile.ZipFile(path) as archive:
            weights = io.BytesIO(archive.read("model.weights.h5"))
        with h5py.File(weights, "r") as weights:
            assert ("optimizer" in weights) == include_optimizer
    assert iterations > 0 and int(numpy(model.optimizer.iterations)) == iterations     # its own optimizer kept
    assert not list(folder.glob(".*"))                             # no temporary file left behind


def test_training_a_flow_follows_a_cosine_and_resumes(tmp_path):
    lr = 1e-2                                                   # 1024 examples / 128 = 8 steps per epoch
    model, history = train.train(tiny_flow(), X, Y, X[:64], Y[:64], NORMALIZER, tmp_path, epochs=2,
                                 batch_size=128, learning_rate=lr, verbose=0)
    assert isinstance(model, models.FlowNetwork) and [h["epoch"] for h in history] == [1, 2]
    assert history[0]["learning_rate"] == pytest.approx(lr / 2, rel=1e-5)      # halfway down the cosine
    assert history[1]["learning_rate"] == pytest.approx(0.0, abs=1e-9)
    assert all(np.isnan(h["val_nll"]) and np.isfinite(h["val_mpjpe"]) for h in history)
    assert history[1]["loss"] < history[0]["loss"]
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["model"] == TINY.to_dict() and run["model"]["kind"] == "flow"
    final = models.load_model(tmp_path / "final.keras")                 # saved without its optimizer
    np.testing.assert_array_equal(models.sample_flow(final, X[:3], 4, steps=2),
                                  models.sample_flow(model, X[:3], 4, steps=2))
    check_save_and_load(model, tmp_path / "copies")
    best = min(history, key=lambda h: h["val_mpjpe"])
    again = evaluation.validation_metrics(models.load_model(tmp_path / "best.keras"), X[:64], Y[:64], NORMALIZER)
    assert again["val_mpjpe"] == pytest.approx(best["val_mpjpe"], rel=1e-5)

    for change, named in [({"batch_size": 64}, "batch_size 128 -> 64"),
                          ({"model_or_config": TINY.replace(width=16)}, "'width': 32")]:
        options = {"model_or_config": TINY, "batch_size": 128, "learning_rate": lr, **change}
        with pytest.raises(ValueError, match="holds a run started with other settings") as error:
            train.train(x_train=X, y_train=Y, x_val=None, y_val=None, normalizer=NORMALIZER,
                        train_dir=tmp_path, epochs=3, verbose=0, **options)
        assert named in str(error.value)
    assert RunFolder(tmp_path).epochs_done() == 2

    _, resumed = train.train(TINY, X, Y, X[:64], Y[:64], NORMALIZER, tmp_path, epochs=3, batch_size=128,
                             learning_rate=lr, verbose=0)                 # more epochs: the cosine stretches
    assert [h["epoch"] for h in resumed] == [1, 2, 3]
    assert [(h["loss"], h["val_mpjpe"]) for h in resumed[:2]] == [(h["loss"], h["val_mpjpe"]) for h in history]
    assert resumed[2]["learning_rate"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("options, message", [
    ({"config": "paper"}, "the paper has no flow"),
    ({"miss_num": 1}, "options of the MDN"),
    ({"sigma_per_joint": True}, "options of the MDN"),
    ({"dirichlet": False}, "options of the MDN"),
    ({"num_kernels": 3}, "options of the MDN"),
    ({"baseline": True}, "--baseline and --model flow disagree"),
    ({"model": "gan"}, "unknown model 'gan'; choose from mdn, baseline, flow"),
])
def test_train_from_options_refuses_what_a_flow_does_not_have(tmp_path, monkeypatch, options, message):
    def not_refused(path):
        raise AssertionError("not refused before the data were loaded")

    monkeypatch.setattr(train, "check_writable", not_refused)     # the first step after the checks
    with pytest.raises(ValueError, match=message):
        train.train_from_options(tmp_path / "run", **{"model": "flow", **options})
    assert not (tmp_path / "run").exists()


# ---- inference ---------------------------------------------------------------------------------

def test_a_flow_predicts_equally_weighted_samples_without_sigmas(flow, tmp_path):
    result = inference.predict_normalized(flow, X[:3], num_hypotheses=7, seed=4)
    assert result.hypotheses.shape == (3, 7, 17, 3) and result.sigmas is None
    np.testing.assert_allclose(result.weights, 1 / 7)
    np.testing.assert_array_equal(result.hypotheses[:, :, 0], 0.0)             # root-relative
    samples = models.sample_flow(flow, X[:3], 7, seed=4)
    np.testing.assert_allclose(result.hypotheses, NORMALIZER.denormalize_3d(samples), rtol=1e-6)
    assert not np.allclose(inference.predict_normalized(flow, X[:3], num_hypotheses=7, seed=5).hypotheses,
                           result.hypotheses)
    assert inference.predict_normalized(flow, X[:2]).hypotheses.shape[1] == inference.FLOW_HYPOTHESES
    with pytest.raises(ValueError, match="num_samples must be at least 1"):
        inference.predict_normalized(flow, X[:2], num_hypotheses=0)
    # predict_poses passes the number and the seed on, from pixels
    rng = np.random.default_rng(8)
    pixel_stats = Normalizer(mean_2d=rng.normal(500, 50, 32), std_2d=rng.uniform(50, 100, 32),
                             mean_3d=NORMALIZER.mean_3d, std_3d=NORMALIZER.std_3d)
    flow.set_normalizer(pixel_stats)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", inference.UnusualInputWarning)   # random "poses" are unusual
            poses = inference.predict_poses(flow, pixel_stats.denormalize_2d(X[:3]), num_hypotheses=7, seed=4)
    finally:
        flow.set_normalizer(NORMALIZER)                           # the shared flow as it was
    assert poses.sigmas is None
    np.testing.assert_allclose(poses.hypotheses, result.hypotheses, rtol=1e-4, atol=1e-2)

    out = inference.save_hypotheses(result, tmp_path / "flow.npz")
    with np.load(out) as saved:
        assert sorted(saved.files) == ["hypotheses", "weights"]
        np.testing.assert_allclose(saved["hypotheses"], result.hypotheses, rtol=1e-6)


def test_an_mdn_or_baseline_refuses_a_number_of_hypotheses():
    small = models.COURSE.replace(width=8, blocks=0)
    for config, message in [(small.replace(num_kernels=3), "always gives 3 hypotheses"),
                            (small.replace(kind="baseline"), "always gives 1 hypothesis ")]:
        model = models.build_model(config, normalizer=NORMALIZER, seed=0)
        with pytest.raises(ValueError, match=message):
            inference.predict_normalized(model, X[:2], num_hypotheses=5)
        assert inference.predict_normalized(model, X[:2]).sigmas is not None


# ---- evaluation of samples ---------------------------------------------------------------------

def _poses(rng, n):
    poses = rng.normal(scale=200.0, size=(n, 17, 3))
    return poses - poses[:, :1]


def test_samples_that_hold_the_truth_have_a_best_of_m_of_zero():
    rng = np.random.default_rng(5)
    gt = _poses(rng, 4)
    samples = gt[:, None] + rng.normal(scale=30.0, size=(4, 200, 17, 3))
    samples[:, :, 0] = 0.0
    samples[:, 3] = gt                                             # the fourth sample is the truth
    actions = np.array(["Walking", "Walking", "Walking", "Eating"])
    results = evaluation.evaluate_samples(samples, gt, actions, procrustes=True)
    assert results["kind"] == "flow" and results["frames"] == 4 and results["num_kernels"] == 50
    assert results["nll"] is None and results["kernel_usage"] is None
    assert sorted(results["best_of"], key=int) == ["1", "5", "20", "50", "200"]
    assert results["best_of"]["1"] > 20
    assert all(results["best_of"][m] == pytest.approx(0.0, abs=1e-9) for m in ("5", "20", "50", "200"))
    assert results["p1"]["average"] == pytest.approx(0.0, abs=1e-9)
    assert results["p2"]["average"] == pytest.approx(0.0, abs=1e-6)
    first = metrics.mpjpe(samples[:, 0], gt)                       # "most likely": the first sample
    assert results["most_likely_p1"]["per_action"]["Eating"] == pytest.approx(first[3])
    assert results["most_likely_p1"]["average"] == pytest.approx((first[:3].mean() + first[3]) / 2)
    assert results["best_of"]["1"] == pytest.approx(results["most_likely_p1"]["average"])
    mean_error = metrics.mpjpe(samples[:, :50].mean(axis=1), gt)
    assert results["mixture_mean_p1"]["all_frames"] == pytest.approx(mean_error.mean())
    json.dumps(results)
    with pytest.raises(ValueError, match="200 samples per frame needed, got 100"):
        evaluation.evaluate_samples(samples[:, :100], gt, actions)
    few = evaluation.evaluate_samples(samples[:, :10], gt, None, best_of=(1, 5), hypotheses=10)
    assert list(few["best_of"]) == ["1", "5"] and few["p1"]["average"] == 0.0 and few["num_kernels"] == 10


def test_samples_from_the_truths_distribution_are_calibrated_and_narrow_ones_are_not():
    rng = np.random.default_rng(6)
    n, s, sigma = 100, 200, 40.0
    centre = _poses(rng, n)
    gt = centre + rng.normal(scale=sigma, size=(n, 17, 3))
    spread = rng.normal(size=(n, s, 17, 3))
    gt[:, 0] = 0.0
    eces = {}
    for name, scale in [("calibrated", 1.0), ("narrow", 0.3), ("wide", 3.0)]:
        samples = centre[:, None] + scale * sigma * spread
        samples[:, :, 0] = 0.0
        eces[name] = evaluation.evaluate_samples(samples, gt, None)["calibration_ece"]
    assert eces["calibrated"] < 0.03
    assert eces["narrow"] > 0.3 and eces["wide"] > 0.2


def test_evaluate_samples_a_flow_on_a_random_subset_of_the_test_frames(flow):
    y = Y[:12]
    prepared = types.SimpleNamespace(source="toy", normalizer=NORMALIZER, test_2d=X[:12], test_3d=y,
                                     test_3d_mm=NORMALIZER.denormalize_3d(y),
                                     test_info={"action": np.array(["Walking", "Eating"] * 6)})
    results = evaluation.evaluate(flow, prepared, frames=5, seed=1)
    assert results["data"] == "toy" and results["frames"] == 5 and results["kind"] == "flow"
    best = [results["best_of"][m] for m in ("1", "5", "20", "50", "200")]
    assert all(a >= b for a, b in zip(best, best[1:])) and best[0] > best[-1]   # more samples, closer
    assert results["p1"]["average"] == pytest.approx(results["best_of"]["50"])
    assert evaluation.evaluate(flow, prepared, frames=5, seed=1) == results
    assert evaluation.evaluate(flow, prepared, frames=None)["frames"] == 12
