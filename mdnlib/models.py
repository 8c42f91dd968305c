"""The networks of the paper (notebooks 03 and 05): Martinez's feature extractor with a
single-regression head (the baseline) or a mixture density head (the MDN).

Everything computes what the original TensorFlow 1 code computes:
- Linear layers are initialised truncated-normal * sqrt(2 / shape[0]) for weights AND biases
  (the original `kaiming` initialiser: for a weight (fan_in, units) that is sqrt(2 / fan_in), for
  a bias (units,) it is sqrt(2 / units));
- "max-norm" clips each whole weight matrix to Frobenius norm 1 in the forward pass
  (`W / max(||W||, 1)`), never the biases, and not in the mixing-coefficient layer. We apply
  the factor to the layer's input, `(x / max(||W||, 1)) @ W`, which is the same function and
  gradient but cheaper than rescaling the matrix at every step;
- mixture head: means (M x 48, linear; the 48*M outputs are read as (48, M), the original
  layout, so its weights could be copied over), one isotropic sigma per kernel
  `ELU(x) + 1` clipped to [1e-15, 1e15], mixing coefficients softmax clipped to [1e-8, 1].
  The issue asks for "ELU + 1 with a small floor": the floor is the paper's 1e-15 (in float32
  ELU(x) + 1 is either >= 6e-8 or exactly 0; the clip only catches the 0);
- 4,498,682 trainable parameters for the paper configuration (`PAPER`).

Every model is a `PoseNetwork` whose output is always a mixture, a dict of `mu` (B, M, 48),
`sigma` (B, M) and `alpha` (B, M) in normalised units; the baseline is the case M = 1,
alpha = 1, and its sigma is the RMS of its training residuals per coordinate (set by
`mdnlib.train`, NaN before), the maximum-likelihood isotropic sigma of a fixed-variance
Gaussian, so that baseline and MDN NLLs compare. The model carries its `ModelConfig` and the
normalisation statistics of its training data, both saved in the `.keras` file; importing
`mdnlib.models` registers the classes, so `load_model(path)` needs nothing else.
"""
import dataclasses
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from mdnlib import losses
from mdnlib.config import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402  (after the quiet TensorFlow import)
from keras import ops  # noqa: E402

INPUT_DIM = 32    # 16 input joints x (x, y)
OUTPUT_DIM = 48   # 16 non-root joints x (x, y, z)
KINDS = ("mdn", "baseline")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """What defines a network. Defaults: the paper's MDN, as in the original code."""

    kind: str = "mdn"            # "mdn" (mixture head) or "baseline" (single regression)
    width: int = 1024            # units of every hidden layer
    blocks: int = 2              # residual blocks of two linear units each
    dropout: float = 0.5         # fraction dropped (the original's keep probability 0.5)
    num_kernels: int = 5         # M, mixture kernels (ignored by the baseline)
    dirichlet_beta: float = 2.0  # Dirichlet prior on alpha; 1.0 switches it off
    max_norm: bool = True        # whole-matrix max-norm in the forward pass
    batch_norm: bool = True

    def __post_init__(self):
        problems = []
        if self.kind not in KINDS:
            problems.append(f"kind must be one of {KINDS}, got {self.kind!r}")
        if int(self.width) < 1 or int(self.blocks) < 0 or int(self.num_kernels) < 1:
            problems.append(f"width >= 1, blocks >= 0 and num_kernels >= 1 needed, got width "
                            f"{self.width}, blocks {self.blocks}, num_kernels {self.num_kernels}")
        if not 0.0 <= float(self.dropout) < 1.0:
            problems.append(f"dropout is the fraction of units dropped, in [0, 1), got {self.dropout}")
        if float(self.dirichlet_beta) < 1.0:
            problems.append(f"dirichlet_beta must be >= 1 (1 = no prior), got {self.dirichlet_beta}")
        if problems:
            raise ValueError("invalid model configuration: " + "; ".join(problems))

    @property
    def kernels(self):
        """Number of hypotheses the model outputs: num_kernels, or 1 for the baseline."""
        return self.num_kernels if self.kind == "mdn" else 1

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown model configuration keys {unknown}; known: {sorted(names)}")
        return cls(**values)

    def replace(self, **changes):
        """A copy with some fields changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


PAPER = ModelConfig()                              # 4,498,682 trainable parameters
# The course's network: half the width (1.2 M parameters: 4x faster, 4.8 MB saved) and no
# max-norm. Whole-matrix max-norm bounds the output of the means layer, which the MDN shares
# among 5 kernels x 48 coordinates; without it the MDN learns faster (README, "Results").
COURSE = ModelConfig(width=512, max_norm=False)
BASELINE_PAPER = ModelConfig(kind="baseline")
PRESETS = {"paper": PAPER, "course": COURSE}


# ---- layers ------------------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="mdnlib")
class KaimingTruncatedNormal(keras.initializers.Initializer):
    """Truncated normal (re-drawn beyond 2 std) with std sqrt(2 / shape[0]), as the original."""

    def __call__(self, shape, dtype=None):
        return keras.random.truncated_normal(shape, stddev=math.sqrt(2.0 / shape[0]), dtype=dtype)

    def get_config(self):
        return {}


@keras.saving.register_keras_serializable(package="mdnlib")
class Linear(keras.layers.Layer):
    """`x @ W + b`, with the original's initialiser and optional whole-matrix max-norm."""

    def __init__(self, units, max_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.max_norm = int(units), bool(max_norm)

    def build(self, input_shape):
        init = KaimingTruncatedNormal()
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer=init, name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer=init, name="bias")

    def call(self, x):
        if self.max_norm:  # x @ (W / max(||W||_F, 1)) computed as (x / max(||W||_F, 1)) @ W
            # l2_loss = sum(W^2) / 2 in one pass, no temporary copy of W (forward or backward)
            x = x / ops.maximum(ops.sqrt(2.0 * tf.nn.l2_loss(self.kernel)), 1.0)
        return dense(x, self.kernel.value, self.bias.value)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "max_norm": self.max_norm}


@tf.custom_gradient
def dense(x, kernel, bias):
    """`x @ kernel + bias` (one fused kernel on CPU), with a faster input gradient for small batches.

    On CPUs the usual input gradient, dy @ kernel^T with the transpose folded into the product,
    ran 2-3x slower than the other products of a training step when the batch has at most half
    as many rows as the layer has units (64 rows, 1024 units: 16 against 40-50 GFLOP/s,
    `bench/matmul_shapes.py`). There the same numbers are formed as (kernel @ dy^T)^T.
    """
    def gradient(dy):
        dx = tf.cond(2 * tf.shape(dy)[0] <= kernel.shape[-1],
                     lambda: tf.transpose(tf.matmul(kernel, dy, transpose_b=True)),
                     lambda: tf.matmul(dy, kernel, transpose_b=True))
        return dx, tf.matmul(x, dy, transpose_a=True), tf.reduce_sum(dy, axis=0)

    return tf.nn.bias_add(tf.matmul(x, kernel), bias), gradient


@keras.saving.register_keras_serializable(package="mdnlib")
class BatchNorm(keras.layers.Layer):
    """Batch normalisation as the original's `tf.layers.batch_normalization` on 2D inputs.

    Training: normalise with the batch mean and (biased) variance, then scale and shift; the
    moving statistics follow `moving = 0.99 moving + 0.01 batch`, with the same biased variance.
    Inference: the moving statistics. On one device it uses TensorFlow's fused kernel (one pass
    forward, one backward). Under `tf.distribute` with several replicas the statistics are
    those of the global batch (all-reduced), so the replicas compute what one device would and
    their moving statistics stay identical.
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def build(self, input_shape):
        size = (input_shape[-1],)
        self.gamma = self.add_weight(shape=size, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=size, initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=size, initializer="zeros", trainable=False,
                                           name="moving_mean")
        self.moving_variance = self.add_weight(shape=size, initializer="ones", trainable=False,
                                               name="moving_variance")

    def call(self, x, training=False):
        if not training:
            return tf.nn.batch_normalization(x, self.moving_mean.value, self.moving_variance.value,
                                             self.beta.value, self.gamma.value, self.epsilon)
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            channels = x.shape[-1]
            y, mean, variance, *_ = tf.compat.v1.nn.fused_batch_norm(
                tf.reshape(x, (-1, 1, 1, channels)), self.gamma.value, self.beta.value,
                epsilon=self.epsilon, is_training=True)
            count = tf.cast(tf.shape(x)[0], x.dtype)
            variance = variance * (count - 1.0) / count   # the kernel returns n/(n-1) x the batch variance
            y = tf.reshape(y, tf.shape(x))
        else:
            mean, variance = _global_moments(x, context)
            y = tf.nn.batch_normalization(x, mean, variance, self.beta.value, self.gamma.value, self.epsilon)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return y

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}


def _global_moments(x, context):
    """Mean and biased variance over the batches of all replicas (two passes, as on one device)."""
    total = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.cast(tf.shape(x)[0], x.dtype))
    mean = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.reduce_sum(x, axis=0)) / total
    squares = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.reduce_sum(tf.square(x - mean), axis=0))
    return mean, squares / total


@keras.saving.register_keras_serializable(package="mdnlib")
class LinearUnit(keras.layers.Layer):
    """Linear -> BatchNorm (momentum 0.99, eps 1e-3) -> ReLU -> Dropout: Martinez's building unit."""

    def __init__(self, units, dropout=0.5, max_norm=True, batch_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.dropout_rate = int(units), float(dropout)
        self.max_norm, self.batch_norm = bool(max_norm), bool(batch_norm)
        self.linear = Linear(units, max_norm=max_norm, name="linear")
        self.norm = BatchNorm(momentum=0.99, epsilon=1e-3, name="batch_norm") if batch_norm else None
        self.drop = keras.layers.Dropout(dropout, name="dropout")

    def build(self, input_shape):
        self.linear.build(input_shape)
        if self.norm is not None:
            self.norm.build((*input_shape[:-1], self.units))

    def call(self, x, training=False):
        y = self.linear(x)
        if self.norm is not None:
            y = self.norm(y, training=training)
        return self.drop(ops.relu(y), training=training)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "dropout": self.dropout_rate,
                "max_norm": self.max_norm, "batch_norm": self.batch_norm}


@keras.saving.register_keras_serializable(package="mdnlib")
class ResidualBlock(keras.layers.Layer):
    """Two LinearUnits plus the skip connection: `x + unit2(unit1(x))`."""

    def __init__(self, units, dropout=0.5, max_norm=True, batch_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.options = dict(units=int(units), dropout=float(dropout), max_norm=bool(max_norm),
                            batch_norm=bool(batch_norm))
        self.unit1 = LinearUnit(**self.options, name="unit1")
        self.unit2 = LinearUnit(**self.options, name="unit2")

    def build(self, input_shape):
        self.unit1.build(input_shape)
        self.unit2.build((*input_shape[:-1], self.options["units"]))

    def call(self, x, training=False):
        return x + self.unit2(self.unit1(x, training=training), training=training)

    def get_config(self):
        return {**super().get_config(), **self.options}


@keras.saving.register_keras_serializable(package="mdnlib")
class MixtureHead(keras.layers.Layer):
    """Features -> mu (B, M, 48), sigma (B, M), alpha (B, M), as in the original code."""

    def __init__(self, num_kernels=5, max_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels, self.max_norm = int(num_kernels), bool(max_norm)
        self.means = Linear(OUTPUT_DIM * num_kernels, max_norm=max_norm, name="means")
        self.sigmas = Linear(num_kernels, max_norm=max_norm, name="sigmas")
        self.mixing = Linear(num_kernels, max_norm=False, name="mixing")   # never max-normed

    def build(self, input_shape):
        for layer in (self.means, self.sigmas, self.mixing):
            layer.build(input_shape)

    def call(self, features):
        # Output j of the means layer is coordinate j // M of kernel j % M (the original layout).
        mu = ops.reshape(self.means(features), (-1, OUTPUT_DIM, self.num_kernels))
        sigma = ops.clip(ops.elu(self.sigmas(features)) + 1.0, losses.SIGMA_MIN, losses.SIGMA_MAX)
        alpha = ops.clip(ops.softmax(self.mixing(features), axis=-1), losses.ALPHA_MIN, losses.ALPHA_MAX)
        return {"mu": ops.transpose(mu, (0, 2, 1)), "sigma": sigma, "alpha": alpha}

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "max_norm": self.max_norm}


@keras.saving.register_keras_serializable(package="mdnlib")
class RegressionHead(keras.layers.Layer):
    """Features -> one pose, given as a one-kernel mixture: mu (B, 1, 48), alpha 1, and a fixed
    sigma (a non-trainable weight: the RMS training residual, set by training; NaN before)."""

    def __init__(self, max_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.max_norm = bool(max_norm)
        self.pose = Linear(OUTPUT_DIM, max_norm=max_norm, name="pose")

    def build(self, input_shape):
        self.pose.build(input_shape)
        self.residual_rms = self.add_weight(shape=(), initializer=keras.initializers.Constant(float("nan")),
                                            trainable=False, name="residual_rms")

    def call(self, features):
        mu = ops.expand_dims(self.pose(features), 1)
        ones = ops.ones_like(mu[:, :, 0])
        return {"mu": mu, "sigma": ones * ops.cast(self.residual_rms, mu.dtype), "alpha": ones}

    def get_config(self):
        return {**super().get_config(), "max_norm": self.max_norm}


# ---- the model ---------------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="mdnlib")
class PoseNetwork(keras.Model):
    """2D pose (B, 32) normalised -> mixture over 3D poses {mu, sigma, alpha}, normalised units.

    `model_config`: a ModelConfig; `normalization`: the Normalizer statistics of the training
    data (`Normalizer.to_dict()`), saved with the model (see the `normalizer` property).
    Its loss (`compute_loss`, used by `fit`): MDN: mixture NLL + Dirichlet prior; baseline: the
    mean squared error of Martinez et al.
    """

    def __init__(self, model_config=None, normalization=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(model_config, dict):
            model_config = ModelConfig.from_dict(model_config)
        self.model_config = model_config or ModelConfig()
        self.normalization = _plain_statistics(normalization)
        c = self.model_config
        unit = dict(units=c.width, dropout=c.dropout, max_norm=c.max_norm, batch_norm=c.batch_norm)
        self.stem = LinearUnit(**unit, name="stem")
        self.residual_blocks = [ResidualBlock(**unit, name=f"block{i}") for i in range(c.blocks)]
        self.head = (MixtureHead(c.num_kernels, max_norm=c.max_norm, name="mixture_head") if c.kind == "mdn"
                     else RegressionHead(max_norm=c.max_norm, name="regression_head"))

    def build(self, input_shape):
        self.stem.build(input_shape)
        feature_shape = (*input_shape[:-1], self.model_config.width)
        for block in self.residual_blocks:
            block.build(feature_shape)
        self.head.build(feature_shape)

    def call(self, x, training=False):
        features = self.stem(x, training=training)
        for block in self.residual_blocks:
            features = block(features, training=training)
        return self.head(features)

    def loss_terms(self, y, output):
        """The training loss and its parts, as scalars: {"loss", "nll", "prior"} or {"loss", "mse"}."""
        if self.model_config.kind == "baseline":
            mse = ops.mean(ops.square(ops.convert_to_tensor(y) - output["mu"][:, 0]))
            return {"loss": mse, "mse": mse}
        nll = losses.mixture_nll(y, output["mu"], output["sigma"], output["alpha"])
        beta = self.model_config.dirichlet_beta
        prior = losses.dirichlet_prior(output["alpha"], beta) if beta != 1.0 else ops.zeros_like(nll)
        return {"loss": nll + prior, "nll": nll, "prior": prior}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # scaled by 1 / replicas under tf.distribute, as Keras does for compiled losses
        return _scale_for_replicas(self.loss_terms(y, y_pred)["loss"])

    @property
    def normalizer(self):
        """The training data's `mdnlib.dataset.Normalizer`, or None if the model has none."""
        if self.normalization is None:
            return None
        from mdnlib.dataset import Normalizer
        return Normalizer.from_dict(self.normalization, origin=f"model {self.name}")

    def set_normalizer(self, normalizer):
        """Store a Normalizer's statistics in the model (they are saved with it)."""
        self.normalization = _plain_statistics(normalizer.to_dict())

    def get_config(self):
        return {**super().get_config(), "model_config": self.model_config.to_dict(),
                "normalization": self.normalization}


def _scale_for_replicas(loss):
    from keras.src.losses.loss import scale_loss_for_distribution
    return scale_loss_for_distribution(loss)


def _plain_statistics(stats):
    """Normalizer statistics as {name: list of floats} (JSON, for the saved config)."""
    if stats is None:
        return None
    return {key: np.asarray(value, dtype=np.float64).reshape(-1).tolist() for key, value in stats.items()}


# ---- public API --------------------------------------------------------------------------------

def build_model(config=None, normalizer=None, seed=None):
    """A built (weights created) PoseNetwork for a ModelConfig, a preset name or a dict.

    `normalizer`: a `mdnlib.dataset.Normalizer` stored in the model; `seed`: seeds Keras first,
    for reproducible initial weights.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    config = as_config(config)
    model = PoseNetwork(config, normalization=normalizer.to_dict() if normalizer is not None else None,
                        name=f"{config.kind}_network")
    model.build((None, INPUT_DIM))
    return model


def as_config(config):
    """A ModelConfig from a ModelConfig, a dict, a preset name ("paper", "course") or None (the paper's)."""
    if config is None:
        return ModelConfig()
    if isinstance(config, str):
        if config not in PRESETS:
            raise ValueError(f"unknown configuration preset {config!r}; choose from {sorted(PRESETS)}")
        return PRESETS[config]
    if isinstance(config, dict):
        return ModelConfig.from_dict(config)
    if isinstance(config, ModelConfig):
        return config
    raise TypeError(f"config must be a ModelConfig, a dict or a preset name, got {type(config).__name__}")


def count_parameters(model):
    """Number of trainable parameters (the paper's MDN: 4,498,682)."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def predict_mixture(model, x, batch_size=4096):
    """Mixture parameters for normalised inputs x (N, 32), as float32 NumPy arrays.

    Returns mu (N, M, 48), sigma (N, M), alpha (N, M), in normalised units; the baseline gives
    M = 1, alpha = 1 and its RMS training residual as sigma (NaN if it was never set).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != INPUT_DIM:
        raise ValueError(f"inputs must be normalised 2D poses (N, {INPUT_DIM}), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("inputs contain NaN or infinite values")
    if len(x) == 0:
        m = model.model_config.kernels
        return (np.zeros((0, m, OUTPUT_DIM), np.float32), np.zeros((0, m), np.float32),
                np.zeros((0, m), np.float32))
    out = model.predict(x, batch_size=batch_size, verbose=0)
    return out["mu"], out["sigma"], out["alpha"]


def sigma_to_mm(sigma, std_3d):
    """Isotropic sigma in normalised units -> mm.

    In normalised units every coordinate d has been divided by its own std_3d[d] (mm), so one
    sigma s means a std of s * std_3d[d] mm along coordinate d: not isotropic in mm. We report
    the isotropic sigma in mm with the same expected squared distance,
    s_mm = s * sqrt(mean_d std_3d[d]^2) (the RMS of the 48 stds), so that
    E||y - mu||^2 = 48 s_mm^2 holds in mm as it does in normalised units.
    """
    std_3d = np.asarray(std_3d, dtype=np.float64).reshape(-1)
    if std_3d.shape != (OUTPUT_DIM,):
        raise ValueError(f"std_3d must hold {OUTPUT_DIM} numbers, got {std_3d.size}")
    return np.asarray(sigma, dtype=np.float64) * math.sqrt(np.mean(std_3d ** 2))


def save_model(model, path, include_optimizer=True):
    """Write a .keras file atomically (a temporary file in the same folder, then renamed).

    With `include_optimizer=False` the optimizer state is left out (a file to share: 3x smaller).
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: a model file must end in .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".keras")
    os.close(handle)
    try:
        if include_optimizer or getattr(model, "optimizer", None) is None:
            model.save(temporary, overwrite=True)
        else:
            copy = PoseNetwork.from_config(model.get_config())
            copy.build((None, INPUT_DIM))
            copy.set_weights(model.get_weights())
            copy.save(temporary, overwrite=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_model(path, compile=False):
    """Read a model written by `save_model` (or `model.save`), with its configuration and
    normalisation statistics; ready for prediction.

    compile=True also restores the optimizer and its state from a training checkpoint (this is
    how `mdnlib.train` resumes a run).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file (train one with 'python -m mdnlib train')")
    if compile:
        import mdnlib.train  # noqa: F401  (registers the optimizer that checkpoints are saved with)
    try:
        model = keras.saving.load_model(path, compile=compile)
    except (ValueError, OSError, KeyError) as error:
        raise ValueError(f"{path}: not a readable mdnlib model: {error}") from None
    if not isinstance(model, PoseNetwork):
        raise ValueError(f"{path}: holds a {type(model).__name__}, not an mdnlib PoseNetwork")
    return model
