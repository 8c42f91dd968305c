"""Training: learning, files, resume after a kill, determinism, tf.distribute, fused Adam."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from mdnlib import models, train
from mdnlib.config import PROJECT_DIR, import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

TINY = models.ModelConfig(width=32, blocks=1, num_kernels=3)

# A learnable toy problem: targets are a fixed nonlinear function of the inputs.
DATA = """
import numpy as np
from mdnlib.dataset import Normalizer
rng = np.random.default_rng(0)
x = rng.normal(size=(1024, 32)).astype("float32")
y = np.tanh(x @ rng.normal(size=(32, 48)) / 4).astype("float32")
normalizer = Normalizer.from_dict({"mean_2d": np.zeros(32), "std_2d": np.full(32, 50.0),
                                   "mean_3d": np.zeros(48), "std_3d": np.full(48, 80.0)})
"""
namespace = {}
exec(DATA, namespace)
X, Y, NORMALIZER = namespace["x"], namespace["y"], namespace["normalizer"]


def run_python(code, *args, timeout=240):
    """Run code in a fresh interpreter (for TensorFlow settings that must precede its start)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=timeout)


def test_training_learns_and_writes_its_files(tmp_path):
    model, history = train.train(TINY, X, Y, X[:256], Y[:256], NORMALIZER, tmp_path, epochs=6,
                                 batch_size=32, learning_rate=1e-2, verbose=0)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4, 5, 6]
    assert history[-1]["loss"] < history[0]["loss"] - 5
    assert history[-1]["val_mpjpe"] < history[0]["val_mpjpe"]
    assert np.isfinite(history[-1]["val_nll"])
    assert history[0]["learning_rate"] == pytest.approx(1e-2 * 0.96 ** (32 / 100_000), rel=1e-5)
    assert json.loads((tmp_path / "history.json").read_text()) == history
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["epoch_0006.keras"]
    assert list((tmp_path / "logs").glob("events.out.tfevents.*"))
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["model"] == TINY.to_dict() and run["batch_size"] == 32
    final = models.load_model(tmp_path / "final.keras")
    for a, b in zip(models.predict_mixture(final, X[:8]), models.predict_mixture(model, X[:8])):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(final.normalizer.std_3d, NORMALIZER.std_3d)
    checkpoint = tmp_path / "checkpoints" / "epoch_0006.keras"
    np.testing.assert_array_equal(models.predict_mixture(models.load_model(checkpoint), X[:8])[0],
                                  models.predict_mixture(model, X[:8])[0])
    assert int(models.load_model(checkpoint, compile=True).optimizer.iterations) == 6 * 1024 // 32
    best = min(history, key=lambda h: h["val_mpjpe"])
    best_model = models.load_model(tmp_path / "best.keras")
    metrics = train.validation_metrics(best_model, X[:256], Y[:256], NORMALIZER)
    assert metrics["val_mpjpe"] == pytest.approx(best["val_mpjpe"], rel=1e-6)


def test_validation_metrics_are_best_of_m_in_mm():
    model = models.build_model(TINY, seed=0)
    mu, sigma, alpha = models.predict_mixture(model, X[:50])
    target = mu[:, 1] + 0.01                                  # kernel 1 is 0.01 z-units from the target
    result = train.validation_metrics(model, X[:50], target, NORMALIZER)
    # every coordinate 0.01 * 80 mm off: sqrt(3) * 0.8 mm per joint, over 16 of 17 joints (root exact)
    assert result["val_mpjpe"] == pytest.approx(np.sqrt(3) * 0.8 * 16 / 17, rel=1e-4)


def test_baseline_gets_its_residual_sigma(tmp_path):
    config = TINY.replace(kind="baseline")
    model, history = train.train(config, X, Y, X[:128], Y[:128], NORMALIZER, tmp_path, epochs=1,
                                 batch_size=64, verbose=0)
    mu, sigma, alpha = models.predict_mixture(model, X)
    assert np.all(alpha == 1.0)
    assert sigma[0, 0] == pytest.approx(np.sqrt(np.mean((mu[:, 0] - Y) ** 2)), rel=1e-4)
    assert history[0]["sigma"] == pytest.approx(sigma[0, 0], rel=1e-6)
    assert np.isfinite(history[0]["val_nll"])


def test_fused_adam_equals_keras_adam():
    variables = [keras.Variable(np.linspace(-1, 1, 12).reshape(3, 4).astype("float32"))]
    twins = [keras.Variable(v.numpy()) for v in variables]
    fused = train.FusedAdam(1e-2, **train.ADAM)
    plain = keras.optimizers.Adam(1e-2, **train.ADAM)
    for step in range(5):
        grad = [tf.constant(np.cos(np.arange(12) + step).reshape(3, 4), tf.float32)]
        fused.apply_gradients(zip(grad, variables))
        plain.apply_gradients(zip(grad, twins))
    np.testing.assert_allclose(variables[0].numpy(), twins[0].numpy(), rtol=0, atol=1e-6)  # float rounding
    assert not np.allclose(variables[0].numpy(), np.linspace(-1, 1, 12).reshape(3, 4))


def test_resume_refuses_another_configuration(tmp_path):
    train.train(TINY, X[:64], Y[:64], None, None, NORMALIZER, tmp_path, epochs=1, batch_size=32, verbose=0)
    with pytest.raises(ValueError, match="holds a run of"):
        train.train(TINY.replace(width=16), X[:64], Y[:64], None, None, NORMALIZER, tmp_path, epochs=2,
                    batch_size=32, verbose=0)


def test_bad_arrays_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"x \(N, 32\) and y \(N, 48\)"):
        train.train(TINY, X[:, :30], Y, None, None, NORMALIZER, tmp_path, epochs=1)


CHILD = DATA + """
import sys, time, keras
from mdnlib import models, train

class Report(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        print("START", int(self.model.optimizer.iterations.numpy()), flush=True)
    def on_epoch_begin(self, epoch, logs=None):
        print("EPOCH", epoch, flush=True)
        if epoch >= 1 and sys.argv[2] == "slow":
            time.sleep(300)

train.train(models.ModelConfig(width=32, blocks=1, num_kernels=3), x, y, x[:64], y[:64], normalizer,
            sys.argv[1], epochs=3, batch_size=32, verbose=0, callbacks=[Report()])
print("DONE", flush=True)
"""


@pytest.mark.slow
def test_a_killed_run_resumes_at_the_next_epoch(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), "slow"], cwd=PROJECT_DIR,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = []
        deadline = time.time() + 180
        while "EPOCH 1" not in lines and time.time() < deadline:   # epoch 1 begins after checkpoint 1
            lines.append(child.stdout.readline().strip())
        assert "EPOCH 1" in lines, lines
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    first_epoch = json.loads((tmp_path / "history.json").read_text())
    assert [h["epoch"] for h in first_epoch] == [1]
    resumed = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), "fast"], cwd=PROJECT_DIR,
                             capture_output=True, text=True, timeout=180)
    lines = resumed.stdout.split("\n")
    assert lines[:2] == ["START 32", "EPOCH 1"], resumed.stdout + resumed.stderr   # 1024 / 32 steps done
    assert "DONE" in lines
    history = json.loads((tmp_path / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3] and history[0] == first_epoch[0]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["epoch_0003.keras"]


@pytest.mark.slow
def test_deterministic_mode_gives_identical_weights(tmp_path):
    result = run_python(DATA + """
    import sys
    import numpy as np
    from mdnlib import models, train
    weights = []
    for run in ("a", "b"):
        model, _ = train.train(models.ModelConfig(width=32, blocks=1, num_kernels=3), x, y, None, None,
                               normalizer, sys.argv[1] + run, epochs=2, batch_size=32, miss_num=2,
                               seed=3, deterministic=True, verbose=0)
        weights.append(model.get_weights())
    print("IDENTICAL" if all(np.array_equal(a, b) for a, b in zip(*weights)) else "DIFFERENT")
    """.replace("\n    ", "\n"), tmp_path / "run")
    assert result.stdout.strip().endswith("IDENTICAL"), result.stdout + result.stderr


@pytest.mark.slow
def test_training_runs_under_a_mirrored_strategy_on_two_devices(tmp_path):
    result = run_python("""
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    """ + DATA.replace("\n", "\n    ") + """
    import json, sys
    from mdnlib import models, train
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    model, history = train.train(models.ModelConfig(width=32, blocks=1, num_kernels=3), x, y, x[:128],
                                 y[:128], normalizer, sys.argv[1], epochs=3, batch_size=64,
                                 learning_rate=1e-2, strategy=strategy, verbose=0)
    loaded = models.load_model(sys.argv[1] + "/final.keras")
    same = bool(np.allclose(models.predict_mixture(loaded, x[:8])[0],
                            models.predict_mixture(model, x[:8])[0]))
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "loss": [h["loss"] for h in history],
                      "val_nll": history[-1]["val_nll"], "same": same}))
    """, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().split("\n")[-1])
    assert report["replicas"] == 2 and report["same"]
    assert report["loss"][-1] < report["loss"][0] and np.isfinite(report["val_nll"])


def test_steps_per_call_divide_the_epoch_when_possible():
    assert train.steps_per_execution(64) == 50 and train.steps_per_execution(4096) == 8
    assert train.steps_per_execution(64, 5200) == 41          # 82 steps per epoch = 2 x 41
    assert train.steps_per_execution(64, 100) == 2            # never more than one epoch
    assert train.steps_per_execution(64, 64 * 97) == 50       # 97 steps: no divisor in [25, 50]
