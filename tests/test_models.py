"""The networks compute what the original code computes; they save and load with their config."""
import math
import subprocess
import sys

import numpy as np
import pytest

from mdnlib import models
from mdnlib.config import import_tensorflow
from mdnlib.dataset import Normalizer

tf = import_tensorflow()


def original_forward(model, x):
    """The original TF1 graph in inference mode, written in NumPy from the model's weights."""
    def linear(layer, h, max_norm):
        w = layer.kernel.numpy().astype(np.float64)
        if max_norm:
            w = w / max(np.sqrt((w ** 2).sum()), 1.0)              # tf.clip_by_norm(w, 1)
        return h @ w + layer.bias.numpy()

    def unit(u, h):
        h = linear(u.linear, h, model.model_config.max_norm)
        if u.norm is not None:
            bn = u.norm
            h = (h - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3) \
                * bn.gamma.numpy() + bn.beta.numpy()
        return np.maximum(h, 0.0)

    h = unit(model.stem, np.asarray(x, np.float64))
    for block in model.residual_blocks:
        h = h + unit(block.unit2, unit(block.unit1, h))
    head, m = model.head, model.model_config.num_kernels
    mu = linear(head.means, h, model.model_config.max_norm).reshape(-1, 48, m).transpose(0, 2, 1)
    s = linear(head.sigmas, h, model.model_config.max_norm)
    sigma = np.clip(np.where(s > 0, s, np.expm1(s)) + 1.0, 1e-15, 1e15)
    logits = linear(head.mixing, h, False)
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
    model = models.build_model(small_config(), seed=0)
    for bn in [layer for layer in model._flatten_layers() if isinstance(layer, models.BatchNorm)]:
        rng = np.random.default_rng(len(bn.name))   # non-trivial moving statistics and affine terms
        for var, values in ((bn.moving_mean, rng.normal(size=64)),
                            (bn.moving_variance, rng.uniform(0.5, 2, 64)),
                            (bn.gamma, rng.uniform(0.5, 2, 64)), (bn.beta, rng.normal(size=64))):
            var.assign(values.astype(np.float32))
    x = np.random.default_rng(1).normal(size=(7, 32)).astype(np.float32)
    mu, sigma, alpha = models.predict_mixture(model, x)
    ref_mu, ref_sigma, ref_alpha = original_forward(model, x)
    np.testing.assert_allclose(mu, ref_mu, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(sigma, ref_sigma, rtol=1e-4)
    np.testing.assert_allclose(alpha, ref_alpha, rtol=1e-4, atol=1e-7)


def test_max_norm_clips_whole_matrices_except_the_mixing_layer():
    model = models.build_model(small_config(), seed=0)
    x = np.random.default_rng(2).normal(size=(5, 64)).astype(np.float32)
    layer = model.head.means
    w = layer.kernel.numpy()
    assert np.sqrt((w ** 2).sum()) > 1.0            # Kaiming weights have a norm above 1 ...
    clipped = tf.clip_by_norm(w, 1.0).numpy()       # ... so the clip is active
    np.testing.assert_allclose(layer(x).numpy(), x @ clipped + layer.bias.numpy(), rtol=1e-5, atol=1e-6)
    mixing = model.head.mixing
    np.testing.assert_allclose(mixing(x).numpy(), x @ mixing.kernel.numpy() + mixing.bias.numpy(),
                               rtol=1e-5, atol=1e-6)
    small = models.Linear(4, max_norm=True)
    small.build((None, 3))
    small.kernel.assign(np.full((3, 4), 0.1, np.float32))    # norm 0.35 < 1: left unchanged
    np.testing.assert_allclose(small(np.ones((1, 3), np.float32)).numpy(), 0.3 + small.bias.numpy()[None],
                               rtol=1e-6)


def test_initialisation_is_truncated_normal_scaled_by_first_dimension():
    model = models.build_model(models.PAPER, seed=0)
    w = model.residual_blocks[0].unit1.linear.kernel.numpy()
    std = math.sqrt(2 / 1024)
    assert np.abs(w).max() <= 2 * std * 1.0001          # truncated at two standard deviations
    assert w.std() == pytest.approx(0.8796 * std, rel=0.01)   # std of a normal truncated at 2 sigma
    b = model.head.means.bias.numpy()                          # a bias uses its own length: 240
    assert b.std() == pytest.approx(0.8796 * math.sqrt(2 / 240), rel=0.15)


def test_mixture_output_layout_and_ranges():
    model = models.build_model(small_config(), seed=0)
    x = np.random.default_rng(3).normal(size=(4, 32)).astype(np.float32)
    mu, sigma, alpha = models.predict_mixture(model, x)
    assert mu.shape == (4, 3, 48) and sigma.shape == alpha.shape == (4, 3)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0, rtol=1e-6)
    features = model.stem(x)
    for block in model.residual_blocks:
        features = block(features)
    raw = model.head.means(features).numpy()
    assert mu[2, 1, 5] == pytest.approx(raw[2, 5 * 3 + 1], rel=1e-5)   # coordinate-major, as the original
    np.testing.assert_allclose(sigma, tf.nn.elu(model.head.sigmas(features)).numpy() + 1.0, rtol=1e-5)


def test_baseline_is_a_one_kernel_mixture():
    model = models.build_model(small_config(kind="baseline"), seed=0)
    mu, sigma, alpha = models.predict_mixture(model, np.zeros((2, 32), np.float32))
    assert mu.shape == (2, 1, 48) and np.all(alpha == 1.0) and np.isnan(sigma).all()
    model.head.residual_rms.assign(0.25)
    assert np.all(models.predict_mixture(model, np.zeros((2, 32), np.float32))[1] == 0.25)


def test_dropout_and_batch_norm_only_in_training_mode():
    model = models.build_model(small_config(), seed=0)
    x = tf.random.normal((16, 32), seed=1)
    assert np.array_equal(model(x)["mu"].numpy(), model(x)["mu"].numpy())
    assert not np.allclose(model(x, training=True)["mu"].numpy(), model(x, training=True)["mu"].numpy())
    plain = models.build_model(small_config(batch_norm=False, dropout=0.0, blocks=1), seed=0)
    assert not any("batch_norm" in w.path for w in plain.weights)
    np.testing.assert_allclose(plain(x, training=True)["mu"], plain(x)["mu"], rtol=1e-6)


def test_save_and_load_keep_weights_config_and_normalizer(tmp_path):
    rng = np.random.default_rng(4)
    normalizer = Normalizer.from_dict({"mean_2d": rng.normal(size=32), "std_2d": rng.uniform(1, 2, 32),
                                       "mean_3d": rng.normal(size=48), "std_3d": rng.uniform(1, 2, 48)})
    model = models.build_model(small_config(dirichlet_beta=1.0), normalizer=normalizer, seed=0)
    path = tmp_path / "model.keras"
    models.save_model(model, path)
    loaded = models.load_model(path)
    assert loaded.model_config == model.model_config
    np.testing.assert_array_equal(loaded.normalizer.std_3d, normalizer.std_3d)
    x = rng.normal(size=(3, 32)).astype(np.float32)
    for a, b in zip(models.predict_mixture(model, x), models.predict_mixture(loaded, x)):
        np.testing.assert_array_equal(a, b)
    assert not list(tmp_path.glob(".*"))                 # no temporary file left behind


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
    assert models.sigma_to_mm(2.0, std) == pytest.approx(2.0 * math.sqrt((900 + 1600) / 2))


def test_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="kind must be one of"):
        models.ModelConfig(kind="gmm")
    with pytest.raises(ValueError, match="unknown configuration preset"):
        models.build_model("huge")
    with pytest.raises(FileNotFoundError, match="no such model file"):
        models.load_model(tmp_path / "missing.keras")
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="broken.keras"):
        models.load_model(tmp_path / "broken.keras")
    with pytest.raises(ValueError, match=r"\(N, 32\)"):
        models.predict_mixture(models.build_model(small_config()), np.zeros((2, 16, 2)))


def test_batch_norm_trains_on_batch_statistics_like_the_original():
    layer = models.BatchNorm()
    layer.build((None, 6))
    rng = np.random.default_rng(7)
    layer.gamma.assign(rng.uniform(0.5, 2, 6).astype(np.float32))
    layer.beta.assign(rng.normal(size=6).astype(np.float32))
    x = rng.normal(loc=3.0, scale=2.0, size=(10, 6)).astype(np.float32)
    y = layer(x, training=True).numpy()
    mean, var = x.mean(axis=0), x.var(axis=0)                    # biased variance, as tf.nn.moments
    expected = (x - mean) / np.sqrt(var + 1e-3) * layer.gamma.numpy() + layer.beta.numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.01 * mean, rtol=1e-4)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.99 + 0.01 * var, rtol=1e-5)
    inference = (x - layer.moving_mean.numpy()) / np.sqrt(layer.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(layer(x).numpy(), inference * layer.gamma.numpy() + layer.beta.numpy(),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("rows", [3, 16])          # below and above half the layer's 8 units
def test_dense_gradient_equals_the_plain_products(rows):
    rng = np.random.default_rng(3)
    x, kernel, bias, weights = (tf.constant(rng.normal(size=shape).astype(np.float32))
                                for shape in [(rows, 5), (5, 8), (8,), (rows, 8)])
    gradients = []
    for layer in (models.dense, lambda x, kernel, bias: tf.matmul(x, kernel) + bias):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel, bias])
            output = layer(x, kernel, bias)
            loss = tf.reduce_sum(output * weights)
        np.testing.assert_allclose(output.numpy(), x.numpy() @ kernel.numpy() + bias.numpy(), rtol=1e-5, atol=1e-5)
        gradients.append([g.numpy() for g in tape.gradient(loss, [x, kernel, bias])])
    for ours, plain in zip(*gradients):
        np.testing.assert_allclose(ours, plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gradients[0][0], weights.numpy() @ kernel.numpy().T, rtol=1e-5, atol=1e-6)
