"""The networks (notebooks 03, 05 and 08): Martinez's feature extractor with a single-regression
head (the baseline) or a mixture density head (the MDN) as in the paper, and beyond the paper a
flow-matching lifter that samples 3D poses (`FlowNetwork`), in plain Keras 3.

The feature extractor is a chain of ordinary Keras layers: `Linear -> BatchNormalization ->
ReLU -> Dropout` units, and residual blocks of two units joined by `Add`. It runs on any Keras
backend (TensorFlow by default, JAX, PyTorch) and computes what the original TensorFlow 1 code
computes:
- `Linear` is `x @ W + b` with the original's initialiser, truncated-normal * sqrt(2 / shape[0])
  for weights AND biases (for a weight (fan_in, units) that is sqrt(2 / fan_in), for a bias
  (units,) sqrt(2 / units)), and its optional "max-norm": the whole weight matrix clipped to
  Frobenius norm 1 in the forward pass (`W / max(||W||, 1)`), never the biases, never the
  mixing-coefficient layer. (Keras's `max_norm` constraint differs: it acts per column, after
  each update.) Batch normalisation has the original's momentum 0.99 and epsilon 1e-3;
- mixture head: means (M x 48, linear; the 48*M outputs are read as (48, M), the original
  layout), one isotropic sigma per kernel `ELU(x) + 1` clipped to [1e-15, 1e15], mixing
  coefficients softmax clipped to [1e-8, 1]; beyond the paper, `sigma_per_joint` gives each
  kernel one sigma per output joint instead;
- 4,498,682 trainable parameters for the paper configuration (`PAPER`).

The flow (`kind="flow"`, conditional flow matching, Lipman et al. 2023; notebook 08) uses the
same feature extractor as a velocity field v(pose_t, t | 2D): its input is the 2D pose, a noisy
3D pose and Fourier features of the time t in [0, 1]; its output the velocity that carries noise
(t = 0) to poses (t = 1). Training draws a time and a noise vector per example (`call`, like
Dropout draws its mask); sampling integrates the velocity from fresh noise with Heun's method
(`sample_flow`), so every noise vector becomes one 3D hypothesis.

Every model is a `PoseNetwork` whose output is always a mixture, a dict of `mu` (B, M, 48),
`sigma` (B, M) (or (B, M, 16) per joint) and `alpha` (B, M) in normalised units; the baseline is the case M = 1,
alpha = 1, and its sigma is the RMS of its training residuals per coordinate (set by
`mdnlib.train`, NaN before), the maximum-likelihood isotropic sigma of a fixed-variance
Gaussian, so that baseline and MDN NLLs compare. A model trained with hidden joints
(`miss_num`, or up to it: `miss_up_to`) starts with a `MissingJoints` layer that hides them,
during training only. The
model carries its `ModelConfig` and the normalisation statistics of its training data, both
saved in the `.keras` file; importing `mdnlib.models` registers the classes, so
`load_model(path)` needs nothing else.
"""
import dataclasses
import math
import weakref
import zipfile
from pathlib import Path

import numpy as np

from mdnlib import losses, skeleton
from mdnlib.config import import_keras
from mdnlib.dataset import Normalizer
from mdnlib.files import atomic_path

keras = import_keras()
ops = keras.ops

INPUT_DIM = 32    # 16 input joints x (x, y)
OUTPUT_DIM = 48   # 16 non-root joints x (x, y, z)
KINDS = ("mdn", "baseline", "flow")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """What defines a network. Defaults: the paper's MDN, as in the original code."""

    kind: str = "mdn"            # "mdn" (mixture head), "baseline" (single regression) or "flow" (sampler)
    width: int = 1024            # units of every hidden layer
    blocks: int = 2              # residual blocks of two linear units each
    dropout: float = 0.5         # fraction dropped (the original's keep probability 0.5)
    num_kernels: int = 5         # M, mixture kernels (ignored by the baseline)
    dirichlet_beta: float = 2.0  # Dirichlet prior on alpha; 1.0 switches it off
    max_norm: bool = True        # whole-matrix max-norm in the forward pass
    batch_norm: bool = True
    miss_num: int = 0            # limb joints hidden in every training example (0, 1 or 2)
    miss_up_to: bool = False     # hide 0 to miss_num joints instead, as many drawn per example
    sigma_per_joint: bool = False  # beyond the paper: one sigma per kernel and joint, not per kernel

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
        if self.miss_num not in (0, 1, 2):
            problems.append(f"miss_num must be 0, 1 or 2 hidden limb joints, got {self.miss_num!r}")
        if self.miss_up_to and not self.miss_num:
            problems.append("miss_up_to needs miss_num 1 or 2: the most joints to hide")
        if self.sigma_per_joint and self.kind != "mdn":
            problems.append(f"sigma_per_joint is a mixture head's option, not the {self.kind}'s")
        if self.kind == "flow" and self.miss_num:
            problems.append("miss_num (hidden joints) is an option of the MDN and the baseline, not the flow's")
        if problems:
            raise ValueError("invalid model configuration: " + "; ".join(problems))

    @property
    def kernels(self):
        """Number of hypotheses the model outputs: num_kernels, 1 for the baseline, None for the
        flow (as many as are sampled)."""
        return {"mdn": self.num_kernels, "baseline": 1}.get(self.kind)

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
# The course's network: half the width (1.2 M parameters: 4x faster, 4.8 MB saved), no max-norm
# and dropout 0.2. Whole-matrix max-norm bounds the output of the means layer, which the MDN shares
# among 5 kernels x 48 coordinates; without it, and with less dropout, the MDN learns faster
# (bench/README.md, "Training study").
COURSE = ModelConfig(width=512, max_norm=False, dropout=0.2)
BASELINE_PAPER = ModelConfig(kind="baseline")
# The flow's velocity network: the course's width, no batch normalisation (its statistics would mix
# every time t of the path) and no dropout (the noise of the path already regularises it).
FLOW = ModelConfig(kind="flow", width=512, max_norm=False, dropout=0.0, batch_norm=False)
PRESETS = {"paper": PAPER, "course": COURSE}


# ---- layers ------------------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="mdnlib")
class KaimingTruncatedNormal(keras.initializers.Initializer):
    """Truncated normal (re-drawn beyond 2 std) with std sqrt(2 / shape[0]), as the original.

    Keras's `HeNormal` differs: it scales by fan-in for biases too and widens the std to undo
    the truncation."""

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
        kernel = self.kernel
        if self.max_norm:
            kernel = kernel / ops.maximum(ops.sqrt(ops.sum(ops.square(kernel))), 1.0)
        return ops.matmul(x, kernel) + self.bias

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "max_norm": self.max_norm}


@keras.saving.register_keras_serializable(package="mdnlib")
class MissingJoints(keras.layers.Layer):
    """During training only: hide `miss_num` of the 8 limb joints of every example, drawn anew for
    every batch (both coordinates become 0, the training mean). The paper's `--miss_num`, which
    the original code parsed but never applied. With `up_to`, each example hides 0 to `miss_num`
    joints, as many drawn uniformly, so that one model serves complete and occluded inputs. At
    inference it passes inputs through."""

    def __init__(self, miss_num, up_to=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.miss_num, self.up_to = int(miss_num), bool(up_to)
        self.seed_generator = keras.random.SeedGenerator(seed)
        spread = np.zeros((len(skeleton.LIMB_INPUT_INDICES), INPUT_DIM), np.float32)
        for limb, joint in enumerate(skeleton.LIMB_INPUT_INDICES):
            spread[limb, 2 * joint:2 * joint + 2] = 1.0   # limb -> its x and y inputs
        self.spread = spread

    def call(self, x, training=False):
        if not training or self.miss_num == 0:
            return x
        batch = ops.shape(x)[0]
        scores = keras.random.uniform((batch, self.spread.shape[0]), seed=self.seed_generator)
        rank = ops.argsort(ops.argsort(scores, axis=-1), axis=-1)       # (B, 8): a random order of the limbs
        count = self.miss_num
        if self.up_to:                                                   # (B, 1): 0 to miss_num per example
            count = ops.floor(keras.random.uniform((batch, 1), seed=self.seed_generator) * (self.miss_num + 1))
        hidden = ops.cast(ops.cast(rank, "float32") < count, x.dtype)    # (B, 8), count ones a row
        return x * (1.0 - ops.matmul(hidden, ops.convert_to_tensor(self.spread, x.dtype)))

    def get_config(self):
        return {**super().get_config(), "miss_num": self.miss_num, "up_to": self.up_to}


@keras.saving.register_keras_serializable(package="mdnlib")
class MixtureHead(keras.layers.Layer):
    """Features -> mu (B, M, 48), sigma (B, M), alpha (B, M), as in the original code.

    With `per_joint`, sigma is (B, M, 16): one isotropic sigma per kernel and output joint
    ("beyond the paper"), so a kernel can be sure of some joints and unsure of others.
    """

    def __init__(self, num_kernels=5, max_norm=True, per_joint=False, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels, self.max_norm, self.per_joint = int(num_kernels), bool(max_norm), bool(per_joint)
        self.means = Linear(OUTPUT_DIM * num_kernels, max_norm=max_norm, name="means")
        sigmas_per_kernel = OUTPUT_DIM // 3 if self.per_joint else 1
        self.sigmas = Linear(num_kernels * sigmas_per_kernel, max_norm=max_norm, name="sigmas")
        self.mixing = Linear(num_kernels, max_norm=False, name="mixing")   # never max-normed

    def build(self, input_shape):
        for layer in (self.means, self.sigmas, self.mixing):
            layer.build(input_shape)

    def call(self, features):
        # Output j of the means layer is coordinate j // M of kernel j % M (the original layout).
        mu = ops.reshape(self.means(features), (-1, OUTPUT_DIM, self.num_kernels))
        sigma = losses.clip(ops.elu(self.sigmas(features)) + 1.0, losses.SIGMA_MIN, losses.SIGMA_MAX)
        if self.per_joint:
            sigma = ops.reshape(sigma, (-1, self.num_kernels, OUTPUT_DIM // 3))
        alpha = losses.clip(ops.softmax(self.mixing(features), axis=-1), losses.ALPHA_MIN, losses.ALPHA_MAX)
        return {"mu": ops.transpose(mu, (0, 2, 1)), "sigma": sigma, "alpha": alpha}

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "max_norm": self.max_norm,
                "per_joint": self.per_joint}


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

def _unit(x, config, name):
    """Martinez's building unit: Linear -> BatchNormalization -> ReLU -> Dropout."""
    x = Linear(config.width, max_norm=config.max_norm, name=f"{name}_linear")(x)
    if config.batch_norm:
        x = keras.layers.BatchNormalization(momentum=0.99, epsilon=1e-3, name=f"{name}_batch_norm")(x)
    x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return keras.layers.Dropout(config.dropout, name=f"{name}_dropout")(x)


def feature_extractor(x, config):
    """Martinez's network body, shared by every model: a stem unit, then `config.blocks` residual
    blocks of two units joined by `Add`; (B, any) -> (B, config.width)."""
    x = _unit(x, config, "stem")
    for i in range(config.blocks):
        y = _unit(_unit(x, config, f"block{i}_unit1"), config, f"block{i}_unit2")
        x = keras.layers.Add(name=f"block{i}_add")([x, y])
    return x


class ModelBase:
    """What every mdnlib model has: its `model_config` and the normalisation statistics of its
    training data (`self.normalization`, plain lists), both saved in its Keras config; the
    Normalizer made of them; and, for `fit`, the loss of its `loss_terms`."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return self.loss_terms(y, y_pred)["loss"]

    def get_config(self):
        return {"name": self.name, "model_config": self.model_config.to_dict(),
                "normalization": self.normalization}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def normalizer(self):
        """The training data's `mdnlib.dataset.Normalizer`, or None if the model has none."""
        if self.normalization is None:
            return None
        return Normalizer.from_dict(self.normalization, origin=f"model {self.name}")

    def set_normalizer(self, normalizer):
        """Store a Normalizer's statistics in the model (they are saved with it)."""
        self.normalization = _plain_statistics(normalizer.to_dict())


@keras.saving.register_keras_serializable(package="mdnlib")
class PoseNetwork(ModelBase, keras.Model):
    """2D pose (B, 32) normalised -> mixture over 3D poses {mu, sigma, alpha}, normalised units.

    A functional Keras model (`model.summary()` lists its layers). `model_config`: a ModelConfig;
    `normalization`: the Normalizer statistics of the training data (`Normalizer.to_dict()`),
    saved with the model (see the `normalizer` property). Its loss (`compute_loss`, used by
    `fit`): MDN: mixture NLL + Dirichlet prior; baseline: the mean squared error of Martinez et al.
    """

    def __init__(self, model_config=None, normalization=None, name=None, **kwargs):
        if isinstance(model_config, dict):
            model_config = ModelConfig.from_dict(model_config)
        config = model_config or ModelConfig()
        inputs = keras.Input((INPUT_DIM,), name="pose_2d")
        x = (MissingJoints(config.miss_num, up_to=config.miss_up_to, name="missing_joints")(inputs)
             if config.miss_num else inputs)
        x = feature_extractor(x, config)
        head = (MixtureHead(config.num_kernels, max_norm=config.max_norm, per_joint=config.sigma_per_joint,
                            name="mixture_head")
                if config.kind == "mdn" else RegressionHead(max_norm=config.max_norm, name="regression_head"))
        super().__init__(inputs, head(x), name=name or f"{config.kind}_network", **kwargs)
        self.model_config = config
        self.normalization = _plain_statistics(normalization)

    def loss_terms(self, y, output):
        """The training loss and its parts, as scalars: {"loss", "nll", "prior"} or {"loss", "mse"}."""
        if self.model_config.kind == "baseline":
            mse = ops.mean(ops.square(ops.convert_to_tensor(y) - output["mu"][:, 0]))
            return {"loss": mse, "mse": mse}
        nll = losses.mixture_nll(y, output["mu"], output["sigma"], output["alpha"])
        beta = self.model_config.dirichlet_beta
        prior = losses.dirichlet_prior(output["alpha"], beta) if beta != 1.0 else ops.zeros_like(nll)
        return {"loss": nll + prior, "nll": nll, "prior": prior}


    @property
    def head(self):
        """The output layer: a MixtureHead, or a RegressionHead for the baseline."""
        return self.layers[-1]

    def set_residual_sigma(self, value):
        """A baseline's sigma, the RMS training residual per coordinate (see `mdnlib.train`)."""
        self.head.residual_rms.assign(value)



# ---- beyond the paper: the flow-matching lifter ------------------------------------------------

@keras.saving.register_keras_serializable(package="mdnlib")
class TimeFeatures(keras.layers.Layer):
    """t (B, 1) in [0, 1] -> (B, 1 + 2F): t and sin, cos of 2 pi f t for F frequencies f from 1 to
    2^(F-1), so that a ReLU network can tell nearby times apart."""

    def __init__(self, frequencies=8, **kwargs):
        super().__init__(**kwargs)
        self.frequencies = int(frequencies)

    def call(self, t):
        angles = 2.0 * math.pi * t * (2.0 ** np.arange(self.frequencies, dtype=np.float32))
        return ops.concatenate([t, ops.sin(angles), ops.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1 + 2 * self.frequencies)

    def get_config(self):
        return {**super().get_config(), "frequencies": self.frequencies}


def velocity_network(config):
    """v(pose_t, t | 2D): inputs pose_2d (B, 32), pose_t (B, 48), t (B, 1), all normalised ->
    velocity (B, 48), the feature extractor in between."""
    pose_2d = keras.Input((INPUT_DIM,), name="pose_2d")
    pose_t = keras.Input((OUTPUT_DIM,), name="pose_t")
    t = keras.Input((1,), name="t")
    x = keras.layers.Concatenate(name="inputs")([pose_2d, pose_t, TimeFeatures(name="time_features")(t)])
    velocity = Linear(OUTPUT_DIM, max_norm=config.max_norm, name="velocity")(feature_extractor(x, config))
    return keras.Model([pose_2d, pose_t, t], velocity, name="velocity_network")


@keras.saving.register_keras_serializable(package="mdnlib")
class FlowNetwork(ModelBase, keras.Model):
    """Conditional flow matching (notebook 08): a velocity field that carries Gaussian noise to
    the 3D poses that fit a 2D pose, so that every noise vector becomes one hypothesis.

    Training (`fit` on {"pose_2d": x, "pose_3d": y}): per example a time t ~ U(0, 1) and noise
    z ~ N(0, I) are drawn, pose_t = (1 - t) z + t y lies on the straight path from the noise to
    the pose, and the network learns the velocity of that path, y - z (`compute_loss`: the mean
    squared error). Sampling: `sample_flow`. `model_config` (kind "flow") and `normalization` as
    for `PoseNetwork`.
    """

    def __init__(self, model_config=None, normalization=None, seed=None, name=None, **kwargs):
        super().__init__(name=name or "flow_network", **kwargs)
        if isinstance(model_config, dict):
            model_config = ModelConfig.from_dict(model_config)
        self.model_config = model_config or FLOW
        if self.model_config.kind != "flow":
            raise ValueError(f"a FlowNetwork needs a configuration of kind 'flow', got {self.model_config.kind!r}")
        self.normalization = _plain_statistics(normalization)
        self.velocity = velocity_network(self.model_config)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.build()

    def build(self, input_shape=None):
        pass    # the velocity network is built when it is made

    def call(self, inputs, training=False):
        """{"pose_2d", "pose_3d"} -> {"velocity": predicted, "target": y - z} at random points of the paths."""
        pose_2d, pose_3d = inputs["pose_2d"], inputs["pose_3d"]
        noise = keras.random.normal(ops.shape(pose_3d), seed=self.seed_generator, dtype=pose_3d.dtype)
        t = keras.random.uniform((ops.shape(pose_3d)[0], 1), seed=self.seed_generator, dtype=pose_3d.dtype)
        pose_t, target = flow_path(noise, pose_3d, t)
        return {"velocity": self.velocity([pose_2d, pose_t, t], training=training), "target": target}

    def loss_terms(self, y, output):
        """The training loss as scalars: {"loss", "mse"}, the velocity's mean squared error."""
        mse = ops.mean(ops.square(output["velocity"] - output["target"]))
        return {"loss": mse, "mse": mse}




def flow_path(noise, pose, t):
    """The straight path from `noise` (t = 0) to `pose` (t = 1) at time t: (the point on it, its
    velocity pose - noise), the flow's training input and target (notebook 08). NumPy arrays or
    tensors; t broadcasts (a column (B, 1) for a batch)."""
    return (1.0 - t) * noise + t * pose, pose - noise


def heun_step(velocity, pose, t, dt, last=False):
    """One step of the sampler (notebook 08): from `pose` at time t to t + dt along the field
    `velocity(pose, t)`, with Heun's method (the mean of the slopes at both ends, after an Euler
    step to find the far end), or a plain Euler step when `last` (Karras et al. 2022)."""
    slope = velocity(pose, t)
    if not last:
        slope = 0.5 * (slope + velocity(pose + dt * slope, t + dt))
    return pose + dt * slope


SAMPLER_STEPS = 6    # Heun steps from noise to pose (11 velocity evaluations)
SAMPLER_RHO = 2.0    # time grid t_i = 1 - (1 - i / steps)^rho: shorter steps near the end
_SAMPLERS = weakref.WeakKeyDictionary()   # FlowNetwork -> {(steps, rho): its compiled sampler}


def sampler_times(steps=SAMPLER_STEPS, rho=SAMPLER_RHO):
    """The sampler's time grid, steps + 1 times from 0 to 1: t_i = 1 - (1 - i / steps)^rho. With
    rho = 1 the steps are equal; with rho > 1 they shrink towards t = 1, where the velocity field
    turns sharply towards the answer it has chosen (it points at the mean answer of the paths
    through the current point, and that mean changes fastest at the end). Equal steps cut those
    turns short and pull the samples towards their mean (bench/README.md, "Generative lifter")."""
    if int(steps) < 1 or not float(rho) >= 1.0:
        raise ValueError(f"the sampler needs at least 1 step and rho >= 1, got steps {steps}, rho {rho}")
    return 1.0 - (1.0 - np.linspace(0.0, 1.0, int(steps) + 1)) ** float(rho)


def flow_sampler(model, steps=SAMPLER_STEPS, rho=SAMPLER_RHO):
    """A Keras model (pose_2d (B, 32), noise (B, 48)) -> pose (B, 48), normalised: Heun's method
    (the trapezoid rule, exact on straight paths) from t = 0 to 1 over `sampler_times(steps, rho)`,
    the last step a plain Euler step (Karras et al. 2022). Made once per model and grid, so that
    `predict` compiles the whole integration into one function."""
    cached = _SAMPLERS.setdefault(model, {})
    if (steps, rho) not in cached:
        times = sampler_times(steps, rho)
        pose_2d = keras.Input((INPUT_DIM,), name="pose_2d")
        pose = noise = keras.Input((OUTPUT_DIM,), name="noise")
        one = ops.ones_like(pose_2d[:, :1])

        def velocity(pose_t, t):
            return model.velocity([pose_2d, pose_t, one * t])

        for i in range(steps):
            pose = heun_step(velocity, pose, float(times[i]), float(times[i + 1] - times[i]), last=i == steps - 1)
        cached[steps, rho] = keras.Model([pose_2d, noise], pose, name=f"flow_sampler_{steps}_steps")
    return cached[steps, rho]


def sample_flow(model, x, num_samples, seed=0, steps=SAMPLER_STEPS, rho=SAMPLER_RHO, batch_size=8192):
    """`num_samples` 3D poses (N, S, 48), normalised, for normalised 2D inputs x (N, 32): each from
    its own noise vector, drawn with NumPy from `seed` (the same seed gives the same samples, and
    nearby inputs with the same seed give nearby samples: the pose editor's poses move smoothly).
    `steps` and `rho`: the sampler's time grid (`sampler_times`)."""
    x = _check_inputs(x)
    if int(num_samples) < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    noise = np.random.default_rng(seed).standard_normal((len(x) * num_samples, OUTPUT_DIM)).astype(np.float32)
    if len(x) == 0:
        return np.zeros((0, num_samples, OUTPUT_DIM), np.float32)
    conditions = np.repeat(x, num_samples, axis=0)
    sampler = flow_sampler(model, steps, rho)
    if len(conditions) <= batch_size:     # one batch (the pose editor): no predict loop
        poses = sampler.predict_on_batch([conditions, noise])
    else:
        poses = sampler.predict([conditions, noise], batch_size=batch_size, verbose=0)
    return np.asarray(poses).reshape(len(x), num_samples, OUTPUT_DIM)


def _plain_statistics(stats):
    """Normalizer statistics as {name: list of floats} (JSON, for the saved config)."""
    if stats is None:
        return None
    return {key: np.asarray(value, dtype=np.float64).reshape(-1).tolist() for key, value in stats.items()}


# ---- public API --------------------------------------------------------------------------------

def build_model(config=None, normalizer=None, seed=None):
    """A PoseNetwork (or, for kind "flow", a FlowNetwork) for a ModelConfig, a preset name or a dict.

    `normalizer`: a `mdnlib.dataset.Normalizer` stored in the model; `seed`: seeds Keras first,
    for reproducible initial weights.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    config = as_config(config)
    network = FlowNetwork if config.kind == "flow" else PoseNetwork
    return network(config, normalization=normalizer.to_dict() if normalizer is not None else None)


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

    Returns mu (N, M, 48), sigma (N, M) (or (N, M, 16) per joint), alpha (N, M), in normalised
    units; the baseline gives
    M = 1, alpha = 1 and its RMS training residual as sigma (NaN if it was never set).
    """
    x = _check_inputs(x)
    if model.model_config.kind == "flow":
        raise ValueError("a flow model has no mixture: draw hypotheses with sample_flow")
    if len(x) == 0:
        m = model.model_config.kernels
        sigma_shape = (0, m, OUTPUT_DIM // 3) if model.model_config.sigma_per_joint else (0, m)
        return (np.zeros((0, m, OUTPUT_DIM), np.float32), np.zeros(sigma_shape, np.float32),
                np.zeros((0, m), np.float32))
    out = model.predict(x, batch_size=batch_size, verbose=0)
    return (*(np.asarray(out[key]) for key in ("mu", "sigma", "alpha")),)


def _check_inputs(x):
    """Normalised 2D inputs as float32 (N, 32), or a ValueError that says what is wrong."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != INPUT_DIM:
        raise ValueError(f"inputs must be normalised 2D poses (N, {INPUT_DIM}), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("inputs contain NaN or infinite values")
    return x


def save_model(model, path, include_optimizer=True):
    """Write a .keras file atomically (a temporary file in the same folder, then renamed).

    With `include_optimizer=False` the optimizer state is left out (a file to share: 3x smaller).
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: a model file must end in .keras")
    if not include_optimizer and getattr(model, "optimizer", None) is not None:
        copy = type(model).from_config(model.get_config())
        copy.set_weights(model.get_weights())
        model = copy
    with atomic_path(path) as temporary:
        model.save(temporary)


def load_model(path):
    """Read a model written by `save_model` (or `model.save`), with its configuration and
    normalisation statistics; ready for prediction, on any backend."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file (train one with 'python -m mdnlib train')")
    _check_archive(path)
    try:
        model = keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a readable mdnlib model ({error}); copy it again, or retrain it "
                         "with 'python -m mdnlib train'") from None
    if not isinstance(model, (PoseNetwork, FlowNetwork)):
        raise ValueError(f"{path}: holds a {type(model).__name__}, not an mdnlib PoseNetwork or FlowNetwork")
    return model


def _check_archive(path):
    """Refuse a .keras file that is not a complete zip archive, saying it is damaged (Keras itself
    calls such a file "not found"; a crash or a full disk while copying is the usual cause)."""
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
        damaged = damaged and f"{damaged} fails its checksum"
    except (zipfile.BadZipFile, EOFError) as error:
        damaged = str(error) or "not a zip archive"
    if damaged is not None:
        raise ValueError(f"{path}: damaged model file (not a complete .keras archive: {damaged}); "
                         "copy it again or train again ('python -m mdnlib train')")
