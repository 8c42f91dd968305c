"""The networks compute what the original code computes, in plain Keras on any backend; they
save and load with their config."""
import math
import subprocess
import sys

import numpy as np
import pytest

from mdnlib import models
from mdnlib.config import import_keras
from mdnlib.dataset import Normalizer

keras = import_keras()
numpy = keras.ops.convert_to_numpy


def original_forward(model, x):
    """The original TF1 graph in inference mode, written in NumPy from the model's weights."""
    c = model.model_config
    weights = {w.path: numpy(w).astype(np.float64) for w in model.weights}

    def linear(name, h, max_norm):
        w = weights[f"{name}/kernel"]
        if max_norm:
            w = w / max(np.sqrt((w ** 2).sum()), 1.0)              # tf.clip_by_norm(w, 1)
        return h @ w + weights[f"{name}/bias"]

    def unit(name, h):
        h = linear(f"{name}_linear", h, c.max_norm)
        if c.batch_norm:
            bn = {key: weights[f"{name}_batch_norm/{key}"] for key in ("gamma", "beta", "moving_mean", "moving_variance")}
            h = (h - bn["moving_mean"]) / np.sqrt(bn["moving_variance"] + 1e-3) * bn["gamma"] + bn["beta"]
        return np.maximum(h, 0.0)

    h = unit("stem", np.asarray(x, np.float64))
    for i in range(c.blocks):
        h = h + unit(f"block{i}_unit2", unit(f"block{i}_unit1", h))
    m = c.num_kernels
    mu = linear("mixture_head/means", h, c.max_norm).reshape(-1, 48, m).transpose(0, 2, 1)
    s = linear("mixture_head/sigmas", h, c.max_norm)
    sigma = np.clip(np.where(s > 0, s, np.expm1(s)) + 1.0, 1e-15, 1e15)
    logits = linear("mixture_head/mixing", h, False)
    alpha = np.exp(logits - logits.max(1, keepdims=True))
    return mu, sigma, np.clip(alpha / alpha.sum(1, keepdims=True), 1e-8, 1.0)


def small_config(**changes):
    return models.ModelConfig(width=64, blocks=2, num_kernels=3).replace(**changes)


def test_paper_configuration_has_the_papers_parameter_count():
    assert models.count_parameters(models.build_model(models.PAPER)) == 4_498_682
    # baseline: the mixture head (246,000 + 2 x 5,125) replaced by one linear layer 1024 -> 48
    assert models.count_parameters(models.build_model(models.BASELINE_PAPER)) == 4_291_632
    assert models.count_parameters(models.build_model(models.COURSE)) == 1_200_890


def test_forward_pass_equals_the_original_graph():
    for max_norm in (True, False):
        model = models.build_model(small_config(max_norm=max_norm), seed=0)
        rng = np.random.default_rng(5)
        for layer in model.layers:     # non-trivial moving statistics and affine terms
            if isinstance(layer, keras.layers.BatchNormalization):
                for var, values in ((layer.moving_mean, rng.normal(size=64)),
                                    (layer.moving_variance, rng.uniform(0.5, 2, 64)),
                                    (layer.gamma, rng.uniform(0.5, 2, 64)), (layer.beta, rng.normal(size=64))):
                    var.assign(values.astype(np.float32))
        x = np.random.default_rng(1).normal(size=(7, 32)).astype(np.float32)
        mu, sigma, alpha = models.predict_mixture(model, x)
        ref_mu, ref_sigma, ref_alpha = original_forward(model, x)
        np.testing.assert_allclose(mu, ref_mu, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(sigma, ref_sigma, rtol=1e-4, atol=1e-6)   # float32 ELU(x) + 1 near 0
        np.testing.assert_allclose(alpha, ref_alpha, rtol=1e-4, atol=1e-7)


def test_the_network_is_plain_keras_layers():
    model = models.build_model(small_config(blocks=1), seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["InputLayer"] + ["Linear", "BatchNormalization", "ReLU", "Dropout"] * 3 \
        + ["Add", "MixtureHead"]
    batch_norm = model.get_layer("stem_batch_norm")
    assert batch_norm.momentum == pytest.approx(0.99) and batch_norm.epsilon == pytest.approx(1e-3)
    assert model.get_layer("stem_dropout").rate == 0.5


def test_max_norm_clips_whole_matrices_except_the_mixing_layer():
    model = models.build_model(small_config(), seed=0)
    x = np.random.default_rng(2).normal(size=(5, 64)).astype(np.float32)
    layer = model.head.means
    w = numpy(layer.kernel)
    assert np.sqrt((w ** 2).sum()) > 1.0            # Kaiming weights have a norm above 1 ...
    clipped = w / np.sqrt((w ** 2).sum())            # ... so the clip is active
    np.testing.assert_allclose(numpy(layer(x)), x @ clipped + numpy(layer.bias), rtol=1e-5, atol=1e-6)
    mixing = model.head.mixing
    np.testing.assert_allclose(numpy(mixing(x)), x @ numpy(mixing.kernel) + numpy(mixing.bias),
                               rtol=1e-5, atol=1e-6)
    small = models.Linear(4, max_norm=True)
    small.build((None, 3))
    small.kernel.assign(np.full((3, 4), 0.1, np.float32))    # norm 0.35 < 1: left unchanged
    np.testing.assert_allclose(numpy(small(np.ones((1, 3), np.float32))), 0.3 + numpy(small.bias)[None],
                               rtol=1e-6)


def test_initialisation_is_truncated_normal_scaled_by_first_dimension():
    model = models.build_model(models.PAPER, seed=0)
    w = numpy(model.get_layer("block0_unit1_linear").kernel)
    std = math.sqrt(2 / 1024)
    assert np.abs(w).max() <= 2 * std * 1.0001          # truncated at two standard deviations
    assert w.std() == pytest.approx(0.8796 * std, rel=0.01)   # std of a normal truncated at 2 sigma
    b = numpy(model.head.means.bias)                           # a bias uses its own length: 240
    assert b.std() == pytest.approx(0.8796 * math.sqrt(2 / 240), rel=0.15)


def test_mixture_output_layout_and_ranges():
    model = models.build_model(small_config(), seed=0)
    x = np.random.default_rng(3).normal(size=(4, 32)).astype(np.float32)
    mu, sigma, alpha = models.predict_mixture(model, x)
    assert mu.shape == (4, 3, 48) and sigma.shape == alpha.shape == (4, 3)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0, rtol=1e-6)
    features = keras.Model(model.input, model.get_layer("block1_add").output)(x)
    raw = numpy(model.head.means(features))
    assert mu[2, 1, 5] == pytest.approx(raw[2, 5 * 3 + 1], rel=1e-5)   # coordinate-major, as the original
    s = numpy(model.head.sigmas(features))
    np.testing.assert_allclose(sigma, np.where(s > 0, s, np.expm1(s)) + 1.0, rtol=1e-5)


def test_baseline_is_a_one_kernel_mixture():
    model = models.build_model(small_config(kind="baseline"), seed=0)
    mu, sigma, alpha = models.predict_mixture(model, np.zeros((2, 32), np.float32))
    assert mu.shape == (2, 1, 48) and np.all(alpha == 1.0) and np.isnan(sigma).all()
    model.set_residual_sigma(0.25)
    assert np.all(models.predict_mixture(model, np.zeros((2, 32), np.float32))[1] == 0.25)


def test_dropout_and_batch_norm_only_in_training_mode():
    model = models.build_model(small_config(), seed=0)
    x = np.random.default_rng(1).normal(size=(16, 32)).astype(np.float32)
    assert np.array_equal(numpy(model(x)["mu"]), numpy(model(x)["mu"]))
    assert not np.allclose(numpy(model(x, training=True)["mu"]), numpy(model(x, training=True)["mu"]))
    plain = models.build_model(small_config(batch_norm=False, dropout=0.0, blocks=1), seed=0)
    assert not any("batch_norm" in w.path for w in plain.weights)
    np.testing.assert_allclose(numpy(plain(x, training=True)["mu"]), numpy(plain(x)["mu"]), rtol=1e-6)


def test_missing_joints_hides_limb_joints_in_training_only():
    layer = models.MissingJoints(2, seed=3)
    x = np.random.default_rng(0).normal(size=(500, 32)).astype(np.float32) + 5.0   # no zeros
    np.testing.assert_array_equal(numpy(layer(x)), x)
    masked = numpy(layer(x, training=True))
    hidden = (masked == 0).reshape(500, 16, 2)
    assert np.array_equal(hidden[..., 0], hidden[..., 1])            # both coordinates of a joint
    from mdnlib import skeleton
    limbs = np.zeros(16, bool)
    limbs[skeleton.LIMB_INPUT_INDICES] = True
    assert not hidden[:, ~limbs].any()                               # only limb joints
    assert (hidden[..., 0].sum(axis=1) == 2).all()                   # exactly two per example
    np.testing.assert_array_equal(masked[~(masked == 0)], x[~(masked == 0)])
    counts = hidden[..., 0][:, limbs].sum(axis=0)                    # every limb joint, about equally
    assert counts.min() > 0.5 * counts.mean()
    assert not np.array_equal(numpy(layer(x, training=True)), masked)  # drawn anew every call
    model = models.build_model(small_config(miss_num=1), seed=0)
    assert model.layers[1].name == "missing_joints"


def test_missing_joints_up_to_a_count_hides_zero_to_that_many():
    layer = models.MissingJoints(2, up_to=True, seed=4)
    x = np.random.default_rng(0).normal(size=(3000, 32)).astype(np.float32) + 5.0   # no zeros
    hidden = (numpy(layer(x, training=True)) == 0).reshape(3000, 16, 2)[..., 0].sum(axis=1)
    counts = np.bincount(hidden, minlength=4)
    assert counts[3] == 0 and all(abs(c / 3000 - 1 / 3) < 0.04 for c in counts[:3])   # 0, 1, 2 equally often
    np.testing.assert_array_equal(numpy(layer(x)), x)
    config = small_config(miss_num=2, miss_up_to=True)
    assert models.build_model(config).get_layer("missing_joints").up_to
    with pytest.raises(ValueError, match="miss_up_to needs miss_num 1 or 2"):
        small_config(miss_up_to=True)


def test_a_kernel_whose_sigma_reaches_the_floor_keeps_gradients_finite():
    # ELU(x) + 1 is exactly 0 in float32 for x below about -17: the clip lifts it to 1e-15, where
    # the loss's own gradient overflows; the clip must pass exactly 0, not inf x 0 = NaN (JAX did)
    model = models.build_model(small_config(), seed=0)
    model.head.sigmas.bias.assign(np.array([-200.0, 0.0, 0.0], np.float32))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = np.random.default_rng(0).normal(size=(64, 32)).astype(np.float32)
    sigma = models.predict_mixture(model, x)[1]
    assert np.all(sigma[:, 0] == np.float32(1e-15))
    for _ in range(3):
        model.train_on_batch(x, np.zeros((64, 48), np.float32))
    assert all(np.isfinite(numpy(w)).all() for w in model.weights)


def test_save_and_load_keep_weights_config_and_normalizer(tmp_path):
    rng = np.random.default_rng(4)
    normalizer = Normalizer.from_dict({"mean_2d": rng.normal(size=32), "std_2d": rng.uniform(1, 2, 32),
                                       "mean_3d": rng.normal(size=48), "std_3d": rng.uniform(1, 2, 48)})
    model = models.build_model(small_config(dirichlet_beta=1.0, miss_num=2, miss_up_to=True), normalizer=normalizer,
                               seed=0)
    path = tmp_path / "model.keras"
    models.save_model(model, path)
    loaded = models.load_model(path)
    assert loaded.model_config == model.model_config
    np.testing.assert_array_equal(loaded.normalizer.std_3d, normalizer.std_3d)
    x = rng.normal(size=(3, 32)).astype(np.float32)
    for a, b in zip(models.predict_mixture(model, x), models.predict_mixture(loaded, x)):
        np.testing.assert_array_equal(a, b)
    assert not list(tmp_path.glob(".*"))                 # no temporary file left behind


def test_the_shipped_checkpoints_load(tmp_path):
    from mdnlib.config import pretrained_dir
    shipped = [("mdn", "mdn", 0, (2, 5)), ("mdn_no_prior", "mdn", 0, (2, 5)), ("baseline", "baseline", 0, None),
               ("mdn_missing", "mdn", 2, (2, 5)), ("mdn_joint_sigma", "mdn", 0, (2, 5, 16))]
    for name, kind, miss_num, sigma_shape in shipped:
        model = models.load_model(pretrained_dir() / name / "final.keras")
        assert (model.model_config.kind, model.model_config.miss_num) == (kind, miss_num)
        assert model.model_config.dropout == models.COURSE.dropout and model.normalizer is not None
        mu, sigma, alpha = models.predict_mixture(model, np.zeros((2, 32), np.float32))
        assert np.isfinite(mu).all() and np.isfinite(sigma).all()
        if sigma_shape is not None:
            assert sigma.shape == sigma_shape


def test_loading_needs_only_the_import(tmp_path):
    path = tmp_path / "model.keras"
    models.save_model(models.build_model(small_config(kind="baseline")), path)
    code = ("import mdnlib.models as m; model = m.load_model(r'%s'); "
            "print(model.model_config.kind, m.count_parameters(model))" % path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    expected = models.count_parameters(models.build_model(small_config(kind="baseline")))
    assert out.stdout.split() == ["baseline", str(expected)], out.stderr


def test_sigma_to_mm_uses_the_rms_std():
    std = np.r_[np.full(24, 30.0), np.full(24, 40.0)]
    normalizer = Normalizer.from_dict({"mean_2d": np.zeros(32), "std_2d": np.ones(32),
                                       "mean_3d": np.zeros(48), "std_3d": std})
    assert normalizer.sigma_to_mm(2.0) == pytest.approx(2.0 * math.sqrt((900 + 1600) / 2))


def test_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="kind must be one of"):
        models.ModelConfig(kind="gmm")
    with pytest.raises(ValueError, match="miss_num must be 0, 1 or 2"):
        models.ModelConfig(miss_num=3)
    with pytest.raises(ValueError, match="unknown configuration preset"):
        models.build_model("huge")
    with pytest.raises(FileNotFoundError, match="no such model file"):
        models.load_model(tmp_path / "missing.keras")
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="broken.keras: damaged model file"):
        models.load_model(tmp_path / "broken.keras")
    with pytest.raises(ValueError, match=r"\(N, 32\)"):
        models.predict_mixture(models.build_model(small_config()), np.zeros((2, 16, 2)))


def test_per_joint_sigma_gives_each_kernel_one_sigma_per_joint(tmp_path):
    model = models.build_model(small_config(sigma_per_joint=True), seed=0)
    x = np.random.default_rng(3).normal(size=(4, 32)).astype(np.float32)
    mu, sigma, alpha = models.predict_mixture(model, x)
    assert mu.shape == (4, 3, 48) and sigma.shape == (4, 3, 16) and alpha.shape == (4, 3)
    features = keras.Model(model.input, model.get_layer("block1_add").output)(x)
    s = numpy(model.head.sigmas(features)).reshape(4, 3, 16)
    np.testing.assert_allclose(sigma, np.where(s > 0, s, np.expm1(s)) + 1.0, rtol=1e-5)
    assert models.predict_mixture(model, x[:0])[1].shape == (0, 3, 16)
    path = tmp_path / "model.keras"
    models.save_model(model, path)
    np.testing.assert_array_equal(models.predict_mixture(models.load_model(path), x)[1], sigma)
    with pytest.raises(ValueError, match="sigma_per_joint"):
        small_config(kind="baseline", sigma_per_joint=True)


def test_sigma_to_mm_per_joint_uses_each_joints_rms_std():
    std = np.tile([30.0, 40.0, 50.0], 16) * np.repeat(np.arange(1, 17), 3)
    normalizer = Normalizer.from_dict({"mean_2d": np.zeros(32), "std_2d": np.ones(32),
                                       "mean_3d": np.zeros(48), "std_3d": std})
    got = normalizer.sigma_to_mm(np.full((2, 16), 2.0), per_joint=True)
    np.testing.assert_allclose(got[0], 2.0 * np.arange(1, 17) * math.sqrt((900 + 1600 + 2500) / 3))
