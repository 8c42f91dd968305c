"""Training as in the paper (notebooks 03 and 05): Adam, learning rate 1e-3 decayed
continuously by x0.96 every 100,000 steps, batches of 64 reshuffled every epoch.

`train(...)` runs Keras `fit` (with its progress bar) on arrays and, in `train_dir`:
  checkpoints/epoch_NNNN.keras  the latest epoch, model AND optimizer state (to resume);
  best.keras / final.keras      the model with the lowest validation error / after the last
                                epoch, without optimizer state (to share; `models.load_model`);
  history.json                  one entry per epoch: loss, val_mpjpe (mm), val_nll, lr, time;
  logs/                         TensorBoard logs;
  run.json                      the settings of the run.
Every file is written atomically (a temporary file, then renamed), so a run killed at any
moment resumes from its last complete epoch: `train` does this by itself when `train_dir`
holds a checkpoint (the epoch counter, weights and optimizer state are restored; the data
order after a resume is seeded but not the one the uninterrupted run would have seen).

Speed, without changing what is computed: the optimizer applies Adam with TensorFlow's fused
kernel (one pass over each weight instead of about ten), and `fit` runs many steps per call
(`steps_per_execution`) so that Python is out of the loop. The same code runs under any
`tf.distribute` strategy: pass `strategy=`.
"""
import json
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from mdnlib import losses, metrics, models
from mdnlib.config import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402  (after the quiet TensorFlow import)
from tensorflow.core.framework import summary_pb2  # noqa: E402

LEARNING_RATE = 1e-3
DECAY_STEPS, DECAY_RATE = 100_000, 0.96
ADAM = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}   # tf.train.AdamOptimizer's defaults
SIGMA_SAMPLES = 65_536          # training examples used to set the baseline's sigma
CHECKPOINT = re.compile(r"epoch_(\d{4,})\.keras$")


@keras.saving.register_keras_serializable(package="mdnlib")
class FusedAdam(keras.optimizers.Adam):
    """Keras's Adam, each update done by TensorFlow's fused `ApplyAdam` kernel.

    The same update as `keras.optimizers.Adam` and as the original `tf.train.AdamOptimizer`:
    m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
    w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps),
    in one pass over memory per weight instead of about ten elementwise operations.
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable), m=_handle(self._momentums[index]), v=_handle(self._velocities[index]),
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype), use_locking=False)


def _handle(variable):
    return (variable.value if isinstance(variable, keras.Variable) else variable).handle


def make_optimizer(learning_rate=LEARNING_RATE):
    """Adam with the paper's continuous exponential decay (x0.96 every 100,000 steps)."""
    schedule = keras.optimizers.schedules.ExponentialDecay(
        learning_rate, decay_steps=DECAY_STEPS, decay_rate=DECAY_RATE, staircase=False)
    return FusedAdam(schedule, **ADAM)


def steps_per_execution(batch_size, examples=None):
    """Training steps per call into TensorFlow: about 32,768 examples per call (at most 50
    steps, at most one epoch), so that Python's per-call overhead disappears. With `examples`,
    a divisor of the steps per epoch is preferred (Keras's progress bar counts whole calls)."""
    steps = max(1, min(50, 32_768 // batch_size))
    if examples is None:
        return steps
    epoch_steps = -(-examples // batch_size)
    if epoch_steps <= steps:
        return epoch_steps
    divisors = [d for d in range(steps, (steps + 1) // 2 - 1, -1) if epoch_steps % d == 0]
    return divisors[0] if divisors else steps


def compile_model(model, learning_rate=LEARNING_RATE, optimizer=None, batch_size=64, steps=None):
    """Compile for `fit`: the model's own loss (`PoseNetwork.compute_loss`) and Adam.

    `steps` per call into TensorFlow default to `steps_per_execution(batch_size)`.
    """
    model.compile(optimizer=optimizer or make_optimizer(learning_rate),
                  steps_per_execution=steps or steps_per_execution(batch_size))
    return model


# ---- per-epoch evaluation ----------------------------------------------------------------------

def validation_metrics(model, x, y, normalizer, batch_size=4096, chunk=65_536):
    """Best-of-M MPJPE (mm, 17 joints, root included) and mixture NLL on normalised data.

    x (N, 32), y (N, 48) normalised; `normalizer` brings the kernel means and targets back to mm.
    The NLL is in normalised units (NaN for a baseline whose sigma is not set yet). Computed
    `chunk` examples at a time, so memory stays bounded on millions of frames.
    """
    best_errors, log_likelihoods = [], []
    for i in range(0, len(x), chunk):
        mu, sigma, alpha = models.predict_mixture(model, x[i:i + chunk], batch_size=batch_size)
        target = np.asarray(y[i:i + chunk], np.float64)
        errors = metrics.mpjpe(normalizer.denormalize_3d(mu), normalizer.denormalize_3d(target)[:, None])
        best_errors.append(metrics.best_of_m(errors))
        log_likelihoods.append(np.asarray(losses.mixture_log_likelihood(
            target, mu.astype(np.float64), sigma.astype(np.float64), alpha.astype(np.float64))))
    return {"val_mpjpe": float(np.concatenate(best_errors).mean()),
            "val_nll": float(-np.concatenate(log_likelihoods).mean())}


def set_baseline_sigma(model, x, y, batch_size=4096):
    """Give a baseline its sigma: the RMS residual per coordinate on (up to 65,536) training examples.

    This is the maximum-likelihood sigma of an isotropic Gaussian around the prediction, so a
    baseline gets an NLL comparable with the MDN's. Returns the value.
    """
    count = min(len(x), SIGMA_SAMPLES)
    mu, _, _ = models.predict_mixture(model, x[:count], batch_size=batch_size)
    rms = float(np.sqrt(np.mean((mu[:, 0].astype(np.float64) - y[:count]) ** 2)))
    model.head.residual_rms.assign(rms)
    return rms


class EpochEnd(keras.callbacks.Callback):
    """After every epoch: baseline sigma, validation metrics, history, checkpoint, best model."""

    def __init__(self, train_dir, x_train, y_train, x_val, y_val, normalizer, history):
        super().__init__()
        self.paths = RunPaths(train_dir)
        self.train_data, self.val_data = (x_train, y_train), (x_val, y_val)
        self.normalizer, self.history = normalizer, history
        self.started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        seconds = time.perf_counter() - self.started
        if self.model.model_config.kind == "baseline":
            logs["sigma"] = set_baseline_sigma(self.model, *self.train_data)
        if self.val_data[0] is not None and len(self.val_data[0]):
            logs.update(validation_metrics(self.model, *self.val_data, self.normalizer))
        entry = {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()},
                 "learning_rate": float(self.model.optimizer.learning_rate),
                 "seconds": seconds, "samples_per_second": len(self.train_data[0]) / seconds}
        self.history.append(entry)
        _write_json_atomically(self.paths.history, self.history)
        previous = self.paths.checkpoints()
        models.save_model(self.model, self.paths.checkpoint(epoch + 1))
        for old in previous:
            old.unlink(missing_ok=True)
        scores = [h.get("val_mpjpe", h["loss"]) for h in self.history]
        if scores[-1] <= min(scores):
            models.save_model(self.model, self.paths.best, include_optimizer=False)


class TensorBoardScalars(keras.callbacks.Callback):
    """Every number of the epoch's logs as a TensorBoard scalar (`tensorboard --logdir DIR/logs`).

    Written with TensorFlow's own summary writer, so logging needs no TensorBoard installed.
    """

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = str(log_dir)
        self.writer = None
        self.metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))

    def on_epoch_end(self, epoch, logs=None):
        if self.writer is None:
            self.writer = tf.summary.create_file_writer(self.log_dir)
        values = {**(logs or {}), "learning_rate": self.model.optimizer.learning_rate}
        with self.writer.as_default():
            for name, value in values.items():
                tf.summary.write(name, tf.cast(value, tf.float32), step=epoch + 1, metadata=self.metadata)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()


class RunPaths:
    """Where a training run keeps its files."""

    def __init__(self, train_dir):
        self.root = Path(train_dir)
        self.history, self.run = self.root / "history.json", self.root / "run.json"
        self.best, self.final = self.root / "best.keras", self.root / "final.keras"
        self.logs, self.checkpoint_dir = self.root / "logs", self.root / "checkpoints"

    def checkpoint(self, epoch):
        return self.checkpoint_dir / f"epoch_{epoch:04d}.keras"

    def checkpoints(self):
        """Complete checkpoints, oldest first (temporary files start with a dot and do not match)."""
        found = [(int(m.group(1)), p) for p in self.checkpoint_dir.glob("epoch_*.keras")
                 if (m := CHECKPOINT.match(p.name))]
        return [p for _, p in sorted(found)]

    def latest(self):
        """(epochs done, path) of the last complete checkpoint, or (0, None)."""
        found = self.checkpoints()
        return (int(CHECKPOINT.match(found[-1].name).group(1)), found[-1]) if found else (0, None)


# ---- training ----------------------------------------------------------------------------------

def train(model_or_config, x_train, y_train, x_val, y_val, normalizer, train_dir, epochs,
          batch_size=64, miss_num=0, seed=0, deterministic=False, strategy=None, resume=True,
          verbose=1, callbacks=(), learning_rate=LEARNING_RATE, run_info=None):
    """Train a model on normalised arrays; returns (model, history list).

    model_or_config: a PoseNetwork (built, uncompiled), a ModelConfig, a dict or a preset name.
    x_train (N, 32), y_train (N, 48), x_val, y_val: normalised (see `mdnlib.dataset.prepare`);
    normalizer: their `Normalizer` (stored in the model; used to report validation MPJPE in mm).
    miss_num: how many of the 8 limb joints to hide per example. deterministic: bit-identical
    results for the same seed (enables TensorFlow's op determinism for this process; slower).
    strategy: a `tf.distribute` strategy (the batch size is then the global one). resume: go on
    from the last checkpoint in train_dir if there is one. run_info: extra settings for run.json.
    """
    from mdnlib.dataset import make_tf_dataset

    _check_arrays(x_train, y_train, "training")
    if x_val is not None:
        _check_arrays(x_val, y_val, "validation")
    paths = RunPaths(train_dir)
    paths.root.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    strategy = strategy or tf.distribute.get_strategy()

    steps = steps_per_execution(batch_size, len(x_train))
    if strategy.num_replicas_in_sync > 1:   # Keras 3 fails on several steps per call there (keras#19246)
        steps = 1
    done, checkpoint = paths.latest() if resume else (0, None)
    with strategy.scope():
        if checkpoint is not None:
            model = models.load_model(checkpoint, compile=True)
            _check_same_config(model, model_or_config, checkpoint)
            compile_model(model, optimizer=model.optimizer, steps=steps)
            history = _read_history(paths.history)[:done]
        else:
            model = (model_or_config if isinstance(model_or_config, models.PoseNetwork)
                     else models.build_model(model_or_config))
            compile_model(model, learning_rate, steps=steps)
            history = []
    model.set_normalizer(normalizer)
    _write_json_atomically(paths.run, {
        "model": model.model_config.to_dict(), "epochs": epochs, "batch_size": batch_size,
        "miss_num": miss_num, "seed": seed, "deterministic": deterministic, "learning_rate": learning_rate,
        "train_examples": len(x_train), "val_examples": 0 if x_val is None else len(x_val),
        "replicas": strategy.num_replicas_in_sync, **(run_info or {})})
    if done < epochs:
        data = make_tf_dataset(x_train, y_train, batch_size=batch_size, shuffle=True, miss_num=miss_num,
                               seed=seed)
        epoch_end = EpochEnd(paths.root, x_train, y_train, x_val, y_val, normalizer, history)
        model.fit(data, epochs=epochs, initial_epoch=done, verbose=verbose, shuffle=False,
                  callbacks=[epoch_end, TensorBoardScalars(paths.logs), *callbacks])
    models.save_model(model, paths.final, include_optimizer=False)
    return model, history


def train_from_options(train_dir, data="synthetic", data_dir=None, use_sh=False, miss_num=0,
                       dirichlet=True, baseline=False, config="course", num_kernels=None, epochs=None,
                       batch_size=None, learning_rate=None, width=None, blocks=None, dropout_rate=None,
                       max_norm=None, batch_norm=None, seed=0, deterministic=False, source_2d=None):
    """What `python -m mdnlib train` does: load a source, prepare it, train, save.

    `config` is a preset ("paper" or "course", see `PRESET_TRAINING`); every other option
    overrides one of its values; `source_2d` picks the h36m_npz source's 2D file.
    Returns (model, history).
    """
    from mdnlib.dataset import prepare
    from mdnlib.sources import load_source

    if config not in PRESET_TRAINING:
        raise ValueError(f"unknown configuration {config!r}; choose from {sorted(PRESET_TRAINING)}")
    preset = PRESET_TRAINING[config]
    model_config = models.PRESETS[config].replace(
        kind="baseline" if baseline else "mdn", num_kernels=num_kernels, width=width, blocks=blocks,
        dropout=dropout_rate, max_norm=max_norm, batch_norm=batch_norm,
        dirichlet_beta=None if dirichlet else 1.0)
    options = {"source_2d": source_2d} if source_2d else {}
    prepared = prepare(load_source(data, data_dir, use_sh=use_sh, **options))
    return train(model_config, prepared.train_2d, prepared.train_3d, prepared.test_2d, prepared.test_3d,
                 prepared.normalizer, train_dir, epochs=epochs or preset["epochs"],
                 batch_size=batch_size or preset["batch_size"], miss_num=miss_num, seed=seed,
                 deterministic=deterministic, learning_rate=learning_rate or LEARNING_RATE,
                 run_info={"data": data, "data_dir": None if data_dir is None else str(Path(data_dir).resolve()),
                           "use_sh": use_sh, "source_2d": source_2d, "config": config})


# Training settings of each preset: the paper's, and the course's (smaller, for CPUs).
PRESET_TRAINING = {"paper": {"epochs": 200, "batch_size": 64},
                   "course": {"epochs": 10, "batch_size": 256}}


# ---- helpers -----------------------------------------------------------------------------------

def _check_arrays(x, y, what):
    x_shape, y_shape = np.shape(x), np.shape(y)
    if len(x_shape) != 2 or x_shape[1] != models.INPUT_DIM or len(y_shape) != 2 \
            or y_shape[1] != models.OUTPUT_DIM or x_shape[0] != y_shape[0]:
        raise ValueError(f"{what} data must be x (N, 32) and y (N, 48) normalised arrays, "
                         f"got x {x_shape} and y {y_shape}")
    if x_shape[0] == 0:
        raise ValueError(f"{what} data are empty")


def _check_same_config(model, requested, checkpoint):
    if isinstance(requested, models.PoseNetwork):
        requested = requested.model_config
    requested = models.as_config(requested)
    if requested != model.model_config:
        raise ValueError(f"{checkpoint}: this training folder holds a run of {model.model_config}, "
                         f"not {requested}; choose another train_dir or pass resume=False")


def _read_history(path):
    return json.loads(path.read_text()) if path.is_file() else []


def _write_json_atomically(path, value):
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(value, file, indent=1)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
