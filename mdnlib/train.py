"""Training as in the paper (notebooks 03 and 05): Adam, learning rate 1e-3 decayed
continuously by x0.96 every 100,000 steps, batches reshuffled every epoch. The flow (notebook 08)
decays its learning rate along a cosine to 0 over the run instead (`FLOW_TRAINING`).

`train(...)` runs Keras `fit` on NumPy arrays, on whichever Keras backend is active (TensorFlow
by default; `KERAS_BACKEND=jax` is faster on small batches and runs on GPUs). Everything it
writes comes from Keras callbacks, into `train_dir`:
  backup/                  the latest epoch's weights and optimizer state (`BackupAndRestore`):
                           rerunning the same training resumes from there;
  best.keras               the model with the lowest validation error (`ModelCheckpoint`);
  final.keras              the model after the last epoch, without optimizer state (to share);
  history.csv              one row per epoch (`CSVLogger`): loss, val_mpjpe (mm), val_nll,
                           learning_rate, seconds, samples_per_second (and a baseline's sigma);
  logs/                    TensorBoard logs, when TensorBoard is installed;
  run.json                 the settings of the run.
A run killed at any moment loses at most the epoch it was in. Resuming with other settings
(model, batch size, learning rate, seed, data) is refused; only the number of epochs may grow.
Two trainings cannot write into one folder at once. A new run in a folder that holds a finished
one replaces its results.

Speed comes from choices a user can see: the backend, the batch size, and `steps_per_execution`
(many training steps per call into the backend, so that Python is out of the loop).
"""
import importlib.util
import json
import time
from pathlib import Path

import numpy as np

from mdnlib import dataset, evaluation, inference, models, sources
from mdnlib.runs import RunFolder, read_history
from mdnlib.config import cache_dir, import_keras, pretrained_dir
from mdnlib.files import atomic_path, check_writable

keras = import_keras()

LEARNING_RATE = 1e-3
DECAY_STEPS, DECAY_RATE = 100_000, 0.96
ADAM = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}   # the original optimizer's defaults
SIGMA_SAMPLES = 65_536          # training examples used to set the baseline's sigma

# Training settings of each preset: the paper's, and the course's (smaller, for CPUs).
PRESET_TRAINING = {"paper": {"epochs": 200, "batch_size": 64},
                   "course": {"epochs": 12, "batch_size": 256}}
# The flow's (models.FLOW): larger batches, and fresh noise every epoch keeps it learning longer.
FLOW_TRAINING = {"epochs": 16, "batch_size": 512}
FLOW_VALIDATION_EXAMPLES = 4096   # validation poses sampled after every epoch of a flow


def make_optimizer(learning_rate=LEARNING_RATE, cosine_steps=None):
    """Adam with the paper's continuous exponential decay (x0.96 every 100,000 steps), or with a
    cosine decay to 0 over `cosine_steps` steps (the flow's)."""
    if cosine_steps:
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=cosine_steps)
    else:
        schedule = keras.optimizers.schedules.ExponentialDecay(
            learning_rate, decay_steps=DECAY_STEPS, decay_rate=DECAY_RATE, staircase=False)
    return keras.optimizers.Adam(schedule, **ADAM)


def steps_per_execution(batch_size, examples=None):
    """Training steps per call into the backend: about 32,768 examples per call (at most 50
    steps), so that Python's per-call overhead disappears. With `examples`, a number of steps
    that divides the epoch's steps is preferred, down to a quarter of that: Keras's progress bar
    counts whole calls, so it then ends exactly at the epoch's last step (otherwise its last call
    shows a few steps too many; fewer steps per call would cost speed)."""
    steps = max(1, min(50, 32_768 // batch_size))
    if examples is None:
        return steps
    epoch_steps = -(-examples // batch_size)
    if epoch_steps <= steps:
        return epoch_steps
    divisors = [d for d in range(steps, -(-steps // 4) - 1, -1) if epoch_steps % d == 0]
    return divisors[0] if divisors else steps


def compile_model(model, learning_rate=LEARNING_RATE, batch_size=64, steps=None, cosine_steps=None):
    """Compile for `fit`: the model's own loss (`PoseNetwork.compute_loss`, `FlowNetwork.compute_loss`)
    and Adam (`make_optimizer`).

    `steps` per call into the backend default to `steps_per_execution(batch_size)` (Keras's
    PyTorch backend runs one step per call).
    """
    if keras.config.backend() == "torch":
        steps = 1
    model.compile(optimizer=make_optimizer(learning_rate, cosine_steps),
                  steps_per_execution=steps or steps_per_execution(batch_size))
    return model


def fit_arrays(model, x, y):
    """What `fit` takes for a model: (x, y) for the MDN and the baseline; for the flow, which
    draws its own targets (the velocity of a path from noise to y), ({"pose_2d", "pose_3d"}, None)."""
    if model.model_config.kind == "flow":
        return {"pose_2d": x, "pose_3d": y}, None
    return x, y


# ---- what happens after every epoch ------------------------------------------------------------

def set_baseline_sigma(model, x, y, batch_size=4096):
    """Give a baseline its sigma: the RMS residual per coordinate on (up to 65,536) training examples.

    This is the maximum-likelihood sigma of an isotropic Gaussian around the prediction, so a
    baseline gets an NLL comparable with the MDN's. Returns the value.
    """
    count = min(len(x), SIGMA_SAMPLES)
    mu, _, _ = models.predict_mixture(model, x[:count], batch_size=batch_size)
    rms = float(np.sqrt(np.mean((mu[:, 0].astype(np.float64) - y[:count]) ** 2)))
    model.set_residual_sigma(rms)
    return rms


class EpochReport(keras.callbacks.Callback):
    """Adds to every epoch's logs, before the other callbacks read them: the baseline's sigma,
    the validation metrics (`evaluation.validation_metrics`), the learning rate and the speed."""

    def __init__(self, x_train, y_train, x_val, y_val, normalizer):
        super().__init__()
        self.train_data, self.val_data, self.normalizer = (x_train, y_train), (x_val, y_val), normalizer
        self.started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        if self.model.model_config.kind == "baseline":
            logs["sigma"] = set_baseline_sigma(self.model, *self.train_data)
        if self.val_data[0] is not None:
            logs.update(evaluation.validation_metrics(self.model, *self.val_data, self.normalizer))
        logs.update(learning_rate=float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
                    seconds=seconds, samples_per_second=len(self.train_data[0]) / seconds)


class StopOnNaN(keras.callbacks.Callback):
    """Stop at the first batch whose loss is NaN or infinite, with an error, before any callback
    saves the broken weights (Keras's `TerminateOnNaN` lets the epoch end, and with it the
    backup and the best model, run on them). The backup of the last good epoch stays."""

    def __init__(self, folder):
        super().__init__()
        self.folder, self.epoch = folder, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if logs and not np.isfinite(float(logs["loss"])):
            raise FloatingPointError(
                f"the training loss became {logs['loss']} in epoch {self.epoch + 1}; {self.epoch} finished "
                f"epochs are saved in {self.folder.backup} (rerunning the same training resumes from there); "
                "to try a lower learning rate, start anew in another train_dir")


# ---- training ----------------------------------------------------------------------------------

def train(model_or_config, x_train, y_train, x_val, y_val, normalizer, train_dir, epochs,
          batch_size=64, seed=0, resume=True, verbose=1, callbacks=(), learning_rate=LEARNING_RATE,
          run_info=None):
    """Train a model on normalised arrays; returns (model, history list).

    model_or_config: a PoseNetwork or FlowNetwork (uncompiled), a ModelConfig, a dict or a preset
    name; its `miss_num` hides limb joints during training. A flow's learning rate follows a
    cosine to 0 over `epochs` (resuming with more epochs stretches the rest of the cosine). x_train (N, 32), y_train (N, 48), x_val, y_val:
    normalised (see `mdnlib.dataset.prepare`); normalizer: their `Normalizer` (stored in the
    model; used to report validation MPJPE in mm). seed: initial weights, data order and hidden
    joints (seeded runs are bit-identical on CPUs). resume: go on from the backup in train_dir if
    there is one (with the same settings); False starts anew. run_info: extra settings for
    run.json (checked on resume, like the others).
    """
    _check_arrays(x_train, y_train, "training")
    if x_val is not None:
        _check_arrays(x_val, y_val, "validation")
    folder = RunFolder(train_dir)
    given = isinstance(model_or_config, (models.PoseNetwork, models.FlowNetwork))
    requested = model_or_config.model_config if given else models.as_config(model_or_config)
    settings = {"model": requested.to_dict(), "batch_size": batch_size, "seed": seed,
                "learning_rate": learning_rate, "train_examples": len(x_train), **(run_info or {})}
    folder.lock()
    try:
        done = folder.epochs_done() if resume else 0
        if done:
            _check_same_settings(folder, settings)
        else:
            folder.clear_results()
        keras.utils.set_random_seed(seed)
        model = model_or_config if given else models.build_model(requested)
        model.set_normalizer(normalizer)
        cosine_steps = epochs * -(-len(x_train) // batch_size) if requested.kind == "flow" else None
        compile_model(model, learning_rate, steps=steps_per_execution(batch_size, len(x_train)),
                      cosine_steps=cosine_steps)
        _write_json(folder.run, {**settings, "epochs": epochs,
                                 "val_examples": 0 if x_val is None else len(x_val),
                                 "backend": keras.config.backend()})
        history = read_history(folder.root)[:done]
        monitor = "val_mpjpe" if x_val is not None else "loss"
        best_so_far = min((h[monitor] for h in history), default=None)
        standard = [
            StopOnNaN(folder),
            EpochReport(x_train, y_train, *_validation_rows(requested, x_val, y_val), normalizer),
            keras.callbacks.BackupAndRestore(folder.backup, double_checkpoint=True, delete_checkpoint=False),
            keras.callbacks.ModelCheckpoint(folder.best, monitor=monitor, mode="min", save_best_only=True,
                                            initial_value_threshold=best_so_far),
            keras.callbacks.CSVLogger(folder.history, append=done > 0),
        ]
        if importlib.util.find_spec("tensorboard") is not None:
            standard.append(keras.callbacks.TensorBoard(folder.logs))
        model.fit(*fit_arrays(model, x_train, y_train), batch_size=batch_size, epochs=epochs, shuffle=True,
                  verbose=verbose, callbacks=[*standard, *callbacks])
        models.save_model(model, folder.final, include_optimizer=False)
        return model, read_history(folder.root)
    finally:
        folder.unlock()


def train_from_options(train_dir, data="synthetic", data_dir=None, use_sh=False, miss_num=0, miss_up_to=False,
                       dirichlet=True, baseline=False, config="course", num_kernels=None, epochs=None,
                       batch_size=None, learning_rate=None, width=None, blocks=None, dropout_rate=None,
                       max_norm=None, batch_norm=None, seed=0, source_2d=None, sigma_per_joint=False,
                       cameras="rig", model="mdn"):
    """What `python -m mdnlib train` does: load a source, prepare it, train, save.

    `model`: "mdn", "baseline" (as `baseline=True`) or "flow". `config` is a preset ("paper" or
    "course", see `PRESET_TRAINING`; the flow has one of its own, `models.FLOW` and
    `FLOW_TRAINING`); every other option overrides one of its values; `source_2d` picks the
    h36m_npz source's 2D file; `cameras` films the synthetic or cmu poses ("rig" or "varied",
    recorded in run.json for test and sample). Returns (model, history).
    """
    if config not in PRESET_TRAINING:
        raise ValueError(f"unknown configuration {config!r}; choose from {sorted(PRESET_TRAINING)}")
    kind = "baseline" if baseline else model
    if kind not in models.KINDS:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(models.KINDS)}")
    if baseline and model != "mdn":
        raise ValueError(f"--baseline and --model {model} disagree: give one of them")
    if kind == "flow" and config != "course":
        raise ValueError("the paper has no flow: --config paper applies to the MDN and the baseline; "
                         "the flow has its own preset (leave --config out)")
    if kind == "flow" and (miss_num or sigma_per_joint or not dirichlet or num_kernels):
        raise ValueError("--miss_num, --sigma_per_joint, --no_dirichlet and --num_kernels are options of "
                         "the MDN (and the baseline); the flow samples as many hypotheses as asked")
    check_writable(RunFolder(train_dir).run)          # before the data are loaded
    preset = FLOW_TRAINING if kind == "flow" else PRESET_TRAINING[config]
    base = models.FLOW if kind == "flow" else models.PRESETS[config]
    model_config = base.replace(
        kind=kind, num_kernels=num_kernels, width=width, blocks=blocks,
        dropout=dropout_rate, max_norm=max_norm, batch_norm=batch_norm, miss_num=miss_num,
        miss_up_to=miss_up_to, sigma_per_joint=sigma_per_joint,
        dirichlet_beta=None if dirichlet else 1.0)
    options = {"source_2d": source_2d} if source_2d else {}
    prepared = dataset.prepare(sources.load_source(data, data_dir, use_sh=use_sh, cameras=cameras, **options))
    return train(model_config, prepared.train_2d, prepared.train_3d, prepared.test_2d, prepared.test_3d,
                 prepared.normalizer, train_dir, epochs=epochs or preset["epochs"],
                 batch_size=batch_size or preset["batch_size"], seed=seed,
                 learning_rate=learning_rate or LEARNING_RATE,
                 run_info={"data": data, "data_dir": None if data_dir is None else str(Path(data_dir).resolve()),
                           "use_sh": use_sh, "source_2d": source_2d, "config": config, "cameras": cameras})


def load_or_train(name, model_config, prepared, epochs, batch_size, use_pretrained=True, train_rows=None,
                  val_rows=None, verbose=1):
    """The pretrained model data/pretrained/<name> and its history, or one trained now.

    What the notebooks do: with `use_pretrained` and a checkpoint there, load it; otherwise train
    `model_config` on the PreparedData `prepared` (`train_rows` / `val_rows`: which training and
    test examples to use, all by default) into data/cache/runs/<name>, from scratch. Returns
    (model, history); a loaded model's data may be normalised differently from `prepared`
    (`Normalizer.same_as` tells), and its settings are its own (its run.json; `model_config` is
    used only to train), but a checkpoint of another kind (a flow for an MDN) is refused.
    """
    found = inference.find_pretrained(name) if use_pretrained else None
    if found is not None:
        run = inference.training_run(found)
        print(f"{name}: loaded {inference.find_model_file(found)} ({run.get('epochs', '?')} epochs on "
              f"{run.get('train_examples', 0):,} examples, see its run.json)")
        model = inference.load_trained(found)
        if model.model_config.kind != models.as_config(model_config).kind:
            raise ValueError(f"{found}: holds a model of kind {model.model_config.kind!r}, not "
                             f"{models.as_config(model_config).kind!r} as asked; restore the checkpoint or "
                             f"set use_pretrained = False to train one")
        return model, read_history(found)
    train_rows = slice(None) if train_rows is None else train_rows
    val_rows = slice(None) if val_rows is None else val_rows
    x_train, y_train = prepared.train_2d[train_rows], prepared.train_3d[train_rows]
    why = "use_pretrained is False" if not use_pretrained else f"no checkpoint in {pretrained_dir()}"
    print(f"{name}: {why}; training one ({epochs} epochs on {len(x_train):,} examples)")
    return train(model_config, x_train, y_train, prepared.test_2d[val_rows], prepared.test_3d[val_rows],
                 prepared.normalizer, cache_dir() / "runs" / name, epochs=epochs,
                 batch_size=batch_size, resume=False, verbose=verbose)


# ---- helpers -----------------------------------------------------------------------------------

def _validation_rows(config, x_val, y_val):
    """The validation examples reported after every epoch: all of them, or for a flow, whose
    validation samples poses, `FLOW_VALIDATION_EXAMPLES` spread evenly over them."""
    if x_val is None or config.kind != "flow" or len(x_val) <= FLOW_VALIDATION_EXAMPLES:
        return x_val, y_val
    rows = np.linspace(0, len(x_val) - 1, FLOW_VALIDATION_EXAMPLES).astype(int)
    return x_val[rows], y_val[rows]


def _check_arrays(x, y, what):
    x_shape, y_shape = np.shape(x), np.shape(y)
    if len(x_shape) != 2 or x_shape[1] != models.INPUT_DIM or len(y_shape) != 2 \
            or y_shape[1] != models.OUTPUT_DIM or x_shape[0] != y_shape[0]:
        raise ValueError(f"{what} data must be x (N, 32) and y (N, 48) normalised arrays, "
                         f"got x {x_shape} and y {y_shape}")
    if x_shape[0] == 0:
        raise ValueError(f"{what} data are empty")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(f"{what} data contain NaN or infinite values")


def _check_same_settings(folder, settings):
    """Refuse to resume a run with other settings than it was started with."""
    try:
        before = json.loads(folder.run.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{folder.run}: unreadable ({error}), so this run cannot be resumed safely; "
                         f"delete {folder.root} to start anew, or choose another train_dir") from None
    changed = [f"{key} {before[key]!r} -> {value!r}" for key, value in settings.items()
               if key in before and before[key] != value]
    if changed:
        raise ValueError(f"{folder.root} holds a run started with other settings ({'; '.join(changed)}). "
                         "To resume it, repeat its settings (see its run.json); to start anew, delete "
                         "the folder or choose another train_dir")


def _write_json(path, value):
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(value, indent=1))
