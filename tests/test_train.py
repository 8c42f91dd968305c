"""Training: learning, its files, resume after a kill or Ctrl-C, settings kept, one writer per
folder, seeded runs identical. Runs on whichever Keras backend is active."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
import warnings

import numpy as np
import pytest

from mdnlib import evaluation, models, train
from mdnlib.config import PROJECT_DIR, import_keras, pretrained_dir
from mdnlib.runs import RunFolder, read_history
from toy_problem import DATA

keras = import_keras()

TINY = models.ModelConfig(width=32, blocks=1, num_kernels=3)

namespace = {}
exec(DATA, namespace)
X, Y, NORMALIZER = namespace["x"], namespace["y"], namespace["normalizer"]


def run_python(code, *args, timeout=240):
    """Run code in a fresh interpreter (same backend as this one)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "KERAS_BACKEND": keras.config.backend()})


def test_training_learns_and_writes_its_files(tmp_path):
    model, history = train.train(TINY, X, Y, X[:256], Y[:256], NORMALIZER, tmp_path, epochs=6,
                                 batch_size=32, learning_rate=1e-2, verbose=0)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4, 5, 6]
    assert history[-1]["loss"] < history[0]["loss"] - 5
    assert history[-1]["val_mpjpe"] < history[0]["val_mpjpe"]
    assert np.isfinite(history[-1]["val_nll"])
    assert history[0]["learning_rate"] == pytest.approx(1e-2 * 0.96 ** (32 / 100_000), rel=1e-5)
    assert read_history(tmp_path) == history
    assert sorted(p.name for p in (tmp_path / "backup").iterdir() if not p.name.endswith(".bkp")) == \
        ["latest.weights.h5", "training_metadata.json"]
    assert RunFolder(tmp_path).epochs_done() == 6
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["model"] == TINY.to_dict() and run["batch_size"] == 32
    assert run["backend"] == keras.config.backend()
    final = models.load_model(tmp_path / "final.keras")
    for a, b in zip(models.predict_mixture(final, X[:8]), models.predict_mixture(model, X[:8])):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(final.normalizer.std_3d, NORMALIZER.std_3d)
    best = min(history, key=lambda h: h["val_mpjpe"])
    metrics = evaluation.validation_metrics(models.load_model(tmp_path / "best.keras"), X[:256], Y[:256],
                                            NORMALIZER)
    assert metrics["val_mpjpe"] == pytest.approx(best["val_mpjpe"], rel=1e-6)


def test_validation_metrics_are_best_of_m_in_mm():
    model = models.build_model(TINY, seed=0)
    mu, sigma, alpha = models.predict_mixture(model, X[:50])
    target = mu[:, 1] + 0.01                                  # kernel 1 is 0.01 z-units from the target
    result = evaluation.validation_metrics(model, X[:50], target, NORMALIZER)
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
    np.testing.assert_array_equal(models.predict_mixture(models.load_model(tmp_path / "final.keras"), X[:4])[1],
                                  sigma[:4])


def test_the_optimizer_is_kerass_adam_with_the_papers_decay():
    optimizer = train.make_optimizer()
    assert type(optimizer) is keras.optimizers.Adam
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.9, 0.999, 1e-8)
    schedule = keras.saving.deserialize_keras_object(optimizer.get_config()["learning_rate"])
    assert isinstance(schedule, keras.optimizers.schedules.ExponentialDecay)
    assert float(keras.ops.convert_to_numpy(schedule(100_000))) == pytest.approx(1e-3 * 0.96, rel=1e-6)
    assert float(keras.ops.convert_to_numpy(schedule(50_000))) == pytest.approx(1e-3 * 0.96 ** 0.5, rel=1e-6)


def test_resume_refuses_other_settings(tmp_path):
    train.train(TINY, X[:64], Y[:64], None, None, NORMALIZER, tmp_path, epochs=1, batch_size=32, verbose=0)
    for change, named in [({"model_or_config": TINY.replace(width=16)}, "'width': 32"),
                          ({"batch_size": 16}, "batch_size 32 -> 16"),
                          ({"learning_rate": 0.1}, "learning_rate 0.001 -> 0.1"),
                          ({"seed": 5}, "seed 0 -> 5"),
                          ({"model_or_config": TINY.replace(miss_num=1)}, "'miss_num': 0")]:
        options = {"model_or_config": TINY, "batch_size": 32, **change}
        with pytest.raises(ValueError, match="holds a run started with other settings") as error:
            train.train(x_train=X[:64], y_train=Y[:64], x_val=None, y_val=None, normalizer=NORMALIZER,
                        train_dir=tmp_path, epochs=2, verbose=0, **options)
        assert named in str(error.value) and "repeat its settings" in str(error.value)
    assert RunFolder(tmp_path).epochs_done() == 1          # nothing was changed
    _, history = train.train(TINY, X[:64], Y[:64], None, None, NORMALIZER, tmp_path, epochs=2, batch_size=32,
                             verbose=0)                          # more epochs: allowed
    assert [h["epoch"] for h in history] == [1, 2]


def test_a_new_run_replaces_the_results_of_a_finished_one(tmp_path):
    train.train(TINY, X[:64], Y[:64], X[:32], Y[:32], NORMALIZER, tmp_path, epochs=2, batch_size=32, verbose=0)
    best_before = (tmp_path / "best.keras").stat().st_mtime_ns
    _, history = train.train(TINY, X[:64], Y[:64], None, None, NORMALIZER, tmp_path, epochs=1, batch_size=32,
                             resume=False, verbose=0)
    assert [h["epoch"] for h in history] == [1]
    assert (tmp_path / "best.keras").stat().st_mtime_ns != best_before     # not the old run's model


def test_a_model_of_an_unfinished_run_is_used_with_a_warning(tmp_path):
    from mdnlib import inference

    train.train(TINY, X[:64], Y[:64], X[:32], Y[:32], NORMALIZER, tmp_path, epochs=1, batch_size=32, verbose=0)
    run = json.loads((tmp_path / "run.json").read_text())
    (tmp_path / "run.json").write_text(json.dumps({**run, "epochs": 3}))   # as a run killed after epoch 1 of 3
    with pytest.warns(UserWarning, match="its training stopped after 1 of 3 epochs; using best.keras"):
        assert inference.find_model_file(tmp_path) == tmp_path / "best.keras"
    (tmp_path / "run.json").write_text(json.dumps(run))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert inference.find_model_file(tmp_path) == tmp_path / "best.keras"
        for name in ("mdn", "baseline"):      # finished runs reduced to their model: no backup, no warning
            inference.find_model_file(pretrained_dir() / name)


def test_a_damaged_backup_record_falls_back_to_the_previous_one(tmp_path):
    folder = RunFolder(tmp_path)
    assert folder.epochs_done() == 0
    folder.backup.mkdir(parents=True)
    (folder.backup / "training_metadata.json").write_text('{"epoch": 4')          # cut off while written
    (folder.backup / "training_metadata.json.bkp").write_text('{"epoch": 3, "batch": 0}')
    assert folder.epochs_done() == 3


def test_bad_arrays_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"x \(N, 32\) and y \(N, 48\)"):
        train.train(TINY, X[:, :30], Y, None, None, NORMALIZER, tmp_path, epochs=1)
    with pytest.raises(ValueError, match="training data contain NaN"):
        train.train(TINY, np.where(X > 3, np.nan, X), Y, None, None, NORMALIZER, tmp_path, epochs=1)


def test_a_diverging_run_stops_with_the_last_good_epoch_saved(tmp_path):
    train.train(TINY, X[:256], Y[:256], None, None, NORMALIZER, tmp_path, epochs=1, batch_size=32, verbose=0)
    backup = (tmp_path / "backup" / "latest.weights.h5").read_bytes()
    with pytest.raises(FloatingPointError, match="the training loss became (nan|inf) in epoch 2; 1 finished epochs"):
        # the same settings, resumed on targets so large that the loss overflows
        train.train(TINY, X[:256], Y[:256] * 1e30, None, None, NORMALIZER, tmp_path, epochs=2, batch_size=32,
                    verbose=0)
    assert (tmp_path / "backup" / "latest.weights.h5").read_bytes() == backup


def test_an_unusable_train_dir_stops_the_command_before_the_data_are_loaded(tmp_path, capsys, monkeypatch):
    from mdnlib import cli, sources

    monkeypatch.setattr(sources, "load_source", lambda *a, **k: pytest.fail("the data were loaded"))
    (tmp_path / "a_file").write_text("")
    assert cli.main(["train", "--train_dir", tmp_path / "a_file", "--epochs", "1"]) == 1
    assert capsys.readouterr().err.startswith(f"mdnlib train: error: {tmp_path / 'a_file'}")


def test_load_or_train_loads_a_pretrained_model_with_its_history(capsys):
    model, history = train.load_or_train("mdn", TINY, None, epochs=1, batch_size=32)
    assert model.model_config.kind == "mdn" and len(history) == 12
    printed = capsys.readouterr().out
    assert printed.startswith("mdn: loaded") and printed.count("\n") == 1      # one neutral line
    assert model.model_config.width == 512                    # the checkpoint's settings, not TINY's
    with pytest.raises(ValueError, match="holds a model of kind 'mdn', not 'flow' as asked"):
        train.load_or_train("mdn", models.FLOW, None, epochs=1, batch_size=32)


def test_load_or_train_trains_the_chosen_rows_when_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MDNLIB_DATA_DIR", str(tmp_path))
    prepared = types.SimpleNamespace(train_2d=X, train_3d=Y, test_2d=X[:100], test_3d=Y[:100], normalizer=NORMALIZER)
    model, history = train.load_or_train("mdn", TINY, prepared, epochs=2, batch_size=32, use_pretrained=False,
                                         train_rows=slice(256), val_rows=slice(50), verbose=0)
    assert "use_pretrained is False; training one (2 epochs on 256 examples)" in capsys.readouterr().out
    assert model.model_config == TINY and [h["epoch"] for h in history] == [1, 2]
    assert json.loads((tmp_path / "cache" / "runs" / "mdn" / "run.json").read_text())["train_examples"] == 256


CHILD = DATA + """
import sys, time, keras
from mdnlib import models, train

class Report(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        print("START", int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)), flush=True)
    def on_epoch_begin(self, epoch, logs=None):
        print("EPOCH", epoch, flush=True)
        if epoch >= 1 and sys.argv[2] == "slow":
            time.sleep(300)

train.train(models.ModelConfig(width=32, blocks=1, num_kernels=3), x, y, x[:64], y[:64], normalizer,
            sys.argv[1], epochs=3, batch_size=32, verbose=0, callbacks=[Report()])
print("DONE", flush=True)
"""


def _start_child(folder, mode):
    return subprocess.Popen([sys.executable, "-c", CHILD, str(folder), mode], cwd=PROJECT_DIR,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "KERAS_BACKEND": keras.config.backend()})


def _wait_for(child, line, seconds=180):
    lines, deadline = [], time.time() + seconds
    while line not in lines and time.time() < deadline:
        lines.append(child.stdout.readline().strip())
    assert line in lines, lines


@pytest.mark.slow
def test_a_killed_run_resumes_at_the_next_epoch(tmp_path):
    child = _start_child(tmp_path, "slow")
    try:
        _wait_for(child, "EPOCH 1")                  # epoch 1 begins after the backup of epoch 0
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    first_epoch = read_history(tmp_path)
    assert [h["epoch"] for h in first_epoch] == [1]
    resumed = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), "fast"], cwd=PROJECT_DIR,
                             capture_output=True, text=True, timeout=180,
                             env={**os.environ, "KERAS_BACKEND": keras.config.backend()})
    lines = resumed.stdout.split("\n")
    assert lines[:2] == ["START 32", "EPOCH 1"], resumed.stdout + resumed.stderr   # 1024 / 32 steps done
    assert "DONE" in lines
    history = read_history(tmp_path)
    assert [h["epoch"] for h in history] == [1, 2, 3] and history[0] == first_epoch[0]


@pytest.mark.slow
def test_ctrl_c_on_the_command_line_says_how_to_resume(tmp_path):
    code = """
    import sys, time, keras
    from mdnlib import cli, train
    class Stop(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt
    original = train.train
    train.train = lambda *a, **k: original(*a, **{**k, "callbacks": [Stop()]})
    sys.exit(cli.main(["train", "--train_dir", sys.argv[1], "--epochs", "3", "--width", "16"]))
    """
    result = run_python(code, tmp_path, timeout=400)
    assert result.returncode == 130, result.stderr[-2000:]
    assert "1 finished epochs are saved in" in result.stderr and "rerun the same command" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_two_trainings_cannot_share_a_folder(tmp_path):
    child = _start_child(tmp_path, "slow")
    try:
        _wait_for(child, "EPOCH 1")
        with pytest.raises(RuntimeError, match=rf"another training \(process {child.pid}\) is writing into this folder"):
            train.train(TINY, X[:64], Y[:64], None, None, NORMALIZER, tmp_path, epochs=1, batch_size=32,
                        verbose=0)
    finally:
        child.kill()
        child.wait()
    train.train(TINY, X[:64], Y[:64], None, None, NORMALIZER, tmp_path, epochs=1, batch_size=32,
                resume=False, verbose=0)                  # the lock goes with its process


@pytest.mark.slow
def test_seeded_runs_give_identical_weights(tmp_path):
    result = run_python(DATA + """
    import sys
    import numpy as np
    from mdnlib import models, train
    weights = []
    for run in ("a", "b"):
        model, _ = train.train(models.ModelConfig(width=32, blocks=1, num_kernels=3, miss_num=2), x, y, None,
                               None, normalizer, sys.argv[1] + run, epochs=2, batch_size=32, seed=3, verbose=0)
        weights.append(model.get_weights())
    print("IDENTICAL" if all(np.array_equal(a, b) for a, b in zip(*weights)) else "DIFFERENT")
    """.replace("\n    ", "\n"), tmp_path / "run")
    assert result.stdout.strip().endswith("IDENTICAL"), result.stdout + result.stderr


def test_steps_per_call_divide_the_epoch_when_possible():
    assert train.steps_per_execution(64) == 50 and train.steps_per_execution(4096) == 8
    assert train.steps_per_execution(64, 5200) == 41          # 82 steps per epoch = 2 x 41
    assert train.steps_per_execution(64, 100) == 2            # never more than one epoch
    assert train.steps_per_execution(64, 64 * 91) == 13       # 91 = 7 x 13: 13 is at least 50 / 4
    assert train.steps_per_execution(64, 64 * 97) == 50       # 97 steps, a prime: speed first
