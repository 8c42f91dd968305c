"""The command line: both spellings of every option, the original script's habits, clear errors,
and every command run end to end on tiny data (quick mode, a tiny model, one epoch)."""
import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mdnlib import cli, inference, models
from mdnlib.config import CMU_SAMPLE_DIR
from mdnlib.runs import read_history

PARSED = cli.build_parser()


def _parse(*argv):
    return vars(PARSED.parse_args([str(a) for a in argv]))


@pytest.mark.parametrize("underscored, dashed", [
    (["train", "--train_dir", "r", "--data_dir", "d", "--miss_num", "2", "--miss_up_to", "--num_kernels", "3",
      "--batch_size", "8", "--learning_rate", "0.01", "--no_dirichlet", "--use_sh",
      "--dropout_rate", "0.1", "--max_norm", "false", "--batch_norm", "true", "--data", "h36m"],
     ["train", "--train-dir", "r", "--data-dir", "d", "--miss-num", "2", "--miss-up-to", "--num-kernels", "3",
      "--batch-size", "8", "--learning-rate", "0.01", "--no-dirichlet", "--use-sh",
      "--dropout-rate", "0.1", "--max-norm", "false", "--batch-norm", "true", "--data", "h36m"]),
    (["test", "--load_dir", "r", "--procrustes", "--miss_num", "1"],
     ["test", "--load-dir", "r", "--procrustes", "--miss-num", "1"]),
    (["predict", "--load_dir", "r", "--input", "a.npz", "--output", "b.npz"],
     ["predict", "--load-dir", "r", "--input", "a.npz", "--output", "b.npz"]),
    (["data", "--source", "cmu", "--data_dir", "d"], ["data", "--source", "cmu", "--data-dir", "d"]),
])
def test_both_spellings_parse_to_the_same_options(underscored, dashed):
    options = _parse(*underscored)
    assert options == _parse(*dashed)
    assert str(options.get("data_dir") or options.get("load_dir")) in {"d", "r"}


def test_train_options_keep_their_values_and_the_original_names_work():
    options = _parse("train", "--train_dir", "runs/x", "--linear_size", "256", "--num_layers", "3",
                     "--epochs", "4", "--baseline")
    assert options["width"] == 256 and options["blocks"] == 3 and options["epochs"] == 4
    assert options["baseline"] is True and options["no_dirichlet"] is False
    assert options["miss_num"] == 0 and options["miss_up_to"] is False and options["data"] == "synthetic"
    assert options["max_norm"] is None          # None = the preset's value


@pytest.mark.parametrize("written, expected", [([], False), (["--use_sh"], True), (["--use_sh", "True"], True),
                                               (["--use_sh=false"], False), (["--use-sh", "1"], True)])
def test_switches_accept_the_original_explicit_values(written, expected):
    assert _parse("data", "--source", "h36m", *written)["use_sh"] is expected


@pytest.mark.parametrize("argv, hint", [
    (["--train_dir", "r", "--test", "True", "--load", "4338038"], "python -m mdnlib test --load_dir"),
    (["--sample", "True"], "python -m mdnlib sample"),
    (["test", "--load_dir", "r", "--load", "5"], "--load_dir"),
    (["train", "--train_dir", "r", "--dropout", "1"], "keep probability"),
    (["--train_dir", "r"], "start with a command"),
])
def test_the_original_script_habits_point_to_the_new_commands(argv, hint, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert hint in capsys.readouterr().err


def test_abbreviations_are_not_guessed(capsys):
    with pytest.raises(SystemExit):
        cli.main(["test", "--load_d", "r"])
    assert "required: --load_dir" in capsys.readouterr().err


def test_help_is_fast_and_imports_no_tensorflow():
    code = ("import sys; from mdnlib import cli; import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try: cli.main(['predict', '--help'])\n"
            "    except SystemExit: pass\n"
            "print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
    assert result.stderr == ""


# ---- commands end to end on tiny data --------------------------------------------------------

@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setenv("MDNLIB_QUICK", "1")


def test_data_summary_and_export_of_the_synthetic_source(quick, tmp_path, capsys):
    from mdnlib.sources import load_source

    out = tmp_path / "synthetic.npz"
    assert cli.main(["data", "--source", "synthetic", "--summary", "--export", out]) == 0
    printed = capsys.readouterr().out
    assert load_source("synthetic").summary() in printed and f"wrote {out}" in printed
    with np.load(out) as data:
        np.testing.assert_allclose(data["train_2d"].mean(axis=0), 0.0, atol=1e-4)
        np.testing.assert_allclose(data["train_3d"].std(axis=0), 1.0, atol=1e-3)
        np.testing.assert_array_equal(data["test_3d_mm"][:, 0], 0.0)
        expected = (data["test_3d_mm"][:, 1:].reshape(-1, 48) - data["mean_3d"]) / data["std_3d"]
        np.testing.assert_allclose(data["test_3d"], expected, atol=1e-4)


def test_cmu_export_uses_the_synthetic_training_statistics(quick, tmp_path):
    from mdnlib import dataset
    from mdnlib.sources import load_source

    subject = tmp_path / "cmu"
    subject.mkdir()
    for name in ("02.asf.xz", "02_05.amc.xz"):             # one take keeps the test fast
        (subject / name).symlink_to(CMU_SAMPLE_DIR / "02" / name)
    out = tmp_path / "cmu.npz"
    assert cli.main(["data", "--source", "cmu", "--data_dir", subject, "--export", out]) == 0
    synthetic = dataset.prepare(load_source("synthetic")).normalizer
    with np.load(out) as data:
        assert data["train_2d"].shape == (0, 32) and len(data["test_2d"]) > 1000
        np.testing.assert_allclose(data["mean_2d"], synthetic.mean_2d)
        np.testing.assert_allclose(data["std_3d"], synthetic.std_3d)


def test_data_errors_name_the_folder(capsys, tmp_path):
    assert cli.main(["data", "--source", "h36m", "--data_dir", tmp_path / "nowhere"]) == 1
    err = capsys.readouterr().err
    assert "mdnlib data: error:" in err and "nowhere: no such folder" in err and "cameras.h5" in err
    assert cli.main(["data", "--source", "h36m_npz"]) == 1
    assert "needs --data_dir" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_mdn(tmp_path_factory):
    """An untrained 3-kernel MDN saved like a training run: enough for predict's plumbing."""
    from mdnlib.dataset import Normalizer

    rng = np.random.default_rng(0)
    normalizer = Normalizer(mean_2d=rng.normal(500, 50, 32), std_2d=rng.uniform(50, 100, 32),
                            mean_3d=rng.normal(0, 100, 48), std_3d=rng.uniform(50, 300, 48))
    model = models.build_model(models.ModelConfig(width=32, blocks=1, num_kernels=3), normalizer, seed=0)
    folder = tmp_path_factory.mktemp("run")
    models.save_model(model, folder / inference.MODEL_FILES[0])
    return folder, model, normalizer


def test_predict_writes_hypotheses_in_mm(tiny_mdn, tmp_path, capsys):
    folder, model, normalizer = tiny_mdn
    poses_2d = np.random.default_rng(3).normal(500, 80, size=(7, 16, 2))
    np.savez(tmp_path / "in.npz", poses_2d=poses_2d)
    assert cli.main(["predict", "--load-dir", folder, "--input", tmp_path / "in.npz",
                     "--output", tmp_path / "out.npz"]) == 0
    with np.load(tmp_path / "out.npz") as out:
        hypotheses, weights, sigmas = out["hypotheses"], out["weights"], out["sigmas"]
    assert hypotheses.shape == (7, 3, 17, 3) and weights.shape == sigmas.shape == (7, 3)
    np.testing.assert_array_equal(hypotheses[:, :, 0], 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(sigmas > 0)
    # the same numbers by hand: normalise, run the network, un-normalise
    mu, sigma, _ = models.predict_mixture(model, normalizer.normalize_2d(poses_2d))
    np.testing.assert_allclose(hypotheses[:, :, 1:].reshape(7, 3, 48),
                               mu * normalizer.std_3d + normalizer.mean_3d, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(sigmas, sigma * np.sqrt(np.mean(normalizer.std_3d ** 2)), rtol=1e-5)


@pytest.mark.parametrize("poses_2d, message", [
    (np.zeros((4, 17, 2)), "poses_2d: expected (N, 16, 2)"),
    (np.full((4, 16, 2), np.nan), "NaN"),
])
def test_predict_rejects_bad_input_clearly(tiny_mdn, tmp_path, capsys, poses_2d, message):
    np.savez(tmp_path / "in.npz", poses_2d=poses_2d)
    assert cli.main(["predict", "--load_dir", tiny_mdn[0], "--input", tmp_path / "in.npz",
                     "--output", tmp_path / "out.npz"]) == 1
    err = capsys.readouterr().err
    assert message in err and "in.npz" in err
    assert not (tmp_path / "out.npz").exists()


def test_a_missing_checkpoint_names_the_path_and_what_belongs_there(tmp_path, capsys):
    np.savez(tmp_path / "in.npz", poses_2d=PIXELS[:1])
    empty = tmp_path / "empty_run"
    empty.mkdir()
    for load_dir in (empty, tmp_path / "no_run"):
        assert cli.main(["predict", "--load_dir", load_dir, "--input", tmp_path / "in.npz",
                         "--output", tmp_path / "out.npz"]) == 1
        err = capsys.readouterr().err
        assert str(load_dir) in err and "python -m mdnlib train" in err


def test_sample_draws_the_input_the_truth_and_every_hypothesis(quick, tiny_mdn, tmp_path, capsys):
    out = tmp_path / "figures"
    assert cli.main(["sample", "--load_dir", tiny_mdn[0], "--data", "synthetic", "--out", out, "--num", "3"]) == 0
    figures = sorted(out.glob("*.png"))
    assert len(figures) == 3 and f"wrote 3 figures to {out}" in capsys.readouterr().out
    from matplotlib.image import imread
    image = imread(figures[0])
    # 1 + 1 + 3 panels (in one or two rows; the panel count itself is tested in test_viz)
    assert image.shape[0] > 500 and image.shape[1] > 800


# ---- faults: one line on stderr, exit code 1 (130 for Ctrl-C), nothing written half --------------

PIXELS = np.random.default_rng(3).normal(500, 80, size=(7, 16, 2))


def _predict(tiny_mdn, tmp_path, output, *extra, poses_2d=PIXELS):
    if poses_2d is not None:
        np.savez(tmp_path / "in.npz", poses_2d=poses_2d)
    return cli.main(["predict", "--load_dir", tiny_mdn[0], "--input", tmp_path / "in.npz",
                     "--output", output, *extra])


def _one_line_error(capsys, *fragments):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_predict_writes_exactly_the_file_asked_for(tiny_mdn, tmp_path, capsys):
    out = tmp_path / "hypotheses"                          # no .npz: written as named
    assert _predict(tiny_mdn, tmp_path, out) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert not (tmp_path / "hypotheses.npz").exists()
    with np.load(out) as result:
        assert result["hypotheses"].shape == (7, 3, 17, 3)


def test_predict_output_is_atomic(tiny_mdn, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.npz"
    out.write_bytes(b"the previous result")
    np.savez(tmp_path / "in.npz", poses_2d=PIXELS)

    def disk_full(file, **arrays):
        file.write(b"half a result")
        raise OSError(28, "No space left on device", str(out))
    monkeypatch.setattr(np, "savez", disk_full)
    assert _predict(tiny_mdn, tmp_path, out, poses_2d=None) == 1
    _one_line_error(capsys, "out.npz: No space left on device")
    assert out.read_bytes() == b"the previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.npz", "out.npz"]   # no temporary left


def test_a_folder_as_output_is_refused_before_any_work(tiny_mdn, tmp_path, monkeypatch, capsys):
    def no_work(*args):
        raise AssertionError("the output must be checked first")
    monkeypatch.setattr(inference, "load_trained", no_work)
    monkeypatch.setattr(inference, "read_poses_2d", no_work)
    assert _predict(tiny_mdn, tmp_path, tmp_path) == 1
    _one_line_error(capsys, f"{tmp_path}: is a folder; give a file name; choose another --output")
    assert cli.main(["test", "--load_dir", tiny_mdn[0], "--json", tmp_path]) == 1
    _one_line_error(capsys, "is a folder", "--json")
    assert cli.main(["data", "--export", tmp_path]) == 1
    _one_line_error(capsys, "is a folder", "--export")


def test_an_unwritable_output_folder_is_named_before_any_work(tiny_mdn, tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_open = os.open

    def refuse_in_locked(path, *args, **kwargs):      # root ignores permission bits: inject the fault
        if Path(path).parent == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(os, "open", refuse_in_locked)
    monkeypatch.setattr(inference, "read_poses_2d", lambda path: pytest.fail("checked too late"))
    assert _predict(tiny_mdn, tmp_path, locked / "out.npz") == 1
    _one_line_error(capsys, f"{locked}: Permission denied (cannot write out.npz here); choose another --output")
    assert _predict(tiny_mdn, tmp_path, tmp_path / "in.npz" / "out.npz", poses_2d=None) == 1
    _one_line_error(capsys, "in.npz", "--output")          # a file where a folder should be


@pytest.mark.parametrize("write, message", [
    (lambda path: np.save(path, PIXELS), "a single .npy array, not an .npz archive"),
    (lambda path: path.write_text("1,2\n3,4\n"), "not an .npz file"),
    (lambda path: path.write_bytes(b""), "empty input file"),
    (lambda path: np.savez(path, poses_2d=np.full((2, 16, 2), "x")), "poses_2d: expected numbers (pixels)"),
    (lambda path: np.savez(path, poses_2d=PIXELS * 1e6), "poses reach beyond -1000.0 to 2000.0 pixels"),
    (lambda path: np.savez(path, poses_2d=PIXELS / 1000), "normalised coordinates?"),
])
def test_predict_refuses_files_and_numbers_that_are_not_pixel_poses(tiny_mdn, tmp_path, capsys, write, message):
    path = tmp_path / "in.npz"
    write(path)
    path.with_suffix(".npz.npy").replace(path) if path.with_suffix(".npz.npy").exists() else None
    assert _predict(tiny_mdn, tmp_path, tmp_path / "out.npz", poses_2d=None) == 1
    _one_line_error(capsys, "in.npz", message)
    assert not (tmp_path / "out.npz").exists()


def test_failed_detections_among_good_poses_are_a_one_line_warning(tiny_mdn, tmp_path, capsys):
    poses_2d = PIXELS.copy()
    poses_2d[[2, 5]] = 0.0                                   # a detector's "nothing found"
    assert _predict(tiny_mdn, tmp_path, tmp_path / "out.npz", poses_2d=poses_2d) == 0
    err = capsys.readouterr().err
    assert err.startswith("mdnlib predict: warning: ") and err.count("\n") == 1
    assert "2 of 7 poses are under 20.0 pixels" in err and "first: pose 2" in err


def test_a_damaged_model_file_is_not_called_missing(tiny_mdn, tmp_path, capsys):
    damaged = tmp_path / "run"
    damaged.mkdir()
    content = (tiny_mdn[0] / inference.MODEL_FILES[0]).read_bytes()
    (damaged / "final.keras").write_bytes(content[: len(content) // 2])
    assert _predict((damaged,), tmp_path, tmp_path / "out.npz") == 1
    err = _one_line_error(capsys, "final.keras: damaged model file", "train again")
    assert "not found" not in err.lower()


def test_a_damaged_run_json_says_what_helps(tiny_mdn, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "best.keras").symlink_to(tiny_mdn[0] / inference.MODEL_FILES[0])
    (run / "run.json").write_text('{"data": "synth')
    assert cli.main(["test", "--load_dir", run, "--data", "synthetic"]) == 1
    _one_line_error(capsys, "run.json: not readable JSON", "delete it and name the data with --data")
    (run / "run.json").write_text("[1, 2]")
    assert cli.main(["test", "--load_dir", run]) == 1
    _one_line_error(capsys, "run.json: not a JSON object")


def test_ctrl_c_is_one_line_and_debug_shows_the_traceback(tiny_mdn, tmp_path, monkeypatch, capsys):
    def interrupted(path):
        raise KeyboardInterrupt
    monkeypatch.setattr(inference, "read_poses_2d", interrupted)
    assert _predict(tiny_mdn, tmp_path, tmp_path / "out.npz") == 130
    assert capsys.readouterr().err == "mdnlib predict: interrupted\n"
    with pytest.raises(KeyboardInterrupt):
        _predict(tiny_mdn, tmp_path, tmp_path / "out.npz", "--debug")
    monkeypatch.setattr(inference, "read_poses_2d", lambda path: open(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError):
        _predict(tiny_mdn, tmp_path, tmp_path / "out.npz", "--debug")


def test_a_mistyped_option_suggests_the_right_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--train_dir", "r", "--epoch", "3"])
    assert exit_info.value.code == 2
    assert "unrecognized argument --epoch; did you mean --epochs?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["predict", "--load_dir", "r", "--input", "a", "--output", "b", "--outptu=c"])
    assert "did you mean --output?" in capsys.readouterr().err


def test_videopose3d_files_need_trust_on_the_command_line(tmp_path, capsys):
    from h36m_fixtures import write_h36m_npz

    write_h36m_npz(tmp_path, subjects=("S9",), actions=("Walking",), sources=())
    assert cli.main(["data", "--source", "h36m_npz", "--data_dir", tmp_path]) == 1
    _one_line_error(capsys, "data_3d_h36m.npz: VideoPose3D files store their poses as pickled", "--trust_pickle")


# ---- train, then test / predict / sample the trained runs ---------------------------------------

TINY = ["--epochs", "1", "--width", "32", "--blocks", "1", "--batch_size", "256"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny MDN and a tiny baseline, each trained one epoch by the train command (quick mode)."""
    folder = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()) as printed:
        patch.setenv("MDNLIB_QUICK", "1")
        assert cli.main(["train", "--train_dir", folder / "mdn", "--num_kernels", "3", *TINY]) == 0
        assert cli.main(["train", "--train-dir", folder / "baseline", "--baseline", *TINY]) == 0
    (folder / "printed.txt").write_text(printed.getvalue())
    return folder


@pytest.mark.slow
def test_train_writes_the_models_and_the_run_settings(runs):
    import json

    run = json.loads((runs / "mdn" / "run.json").read_text())
    assert run["data"] == "synthetic" and run["epochs"] == 1 and run["model"]["num_kernels"] == 3
    assert run["model"]["width"] == 32 and run["model"]["dirichlet_beta"] == 2.0
    assert json.loads((runs / "baseline" / "run.json").read_text())["model"]["kind"] == "baseline"
    for name in ("mdn", "baseline"):
        assert (runs / name / "best.keras").is_file() and (runs / name / "final.keras").is_file()
    last = read_history(runs / "mdn")[-1]
    assert (f"saved {runs / 'mdn' / 'final.keras'} (and best.keras, history.csv, run.json); epoch 1: loss "
            f"{last['loss']:.3f}, best-of-M MPJPE {last['val_mpjpe']:.1f} mm") in (runs / "printed.txt").read_text()


@pytest.mark.slow
def test_test_prints_the_table_and_writes_json_that_agrees_with_training(quick, runs, tmp_path, capsys):
    import json

    out = tmp_path / "results.json"
    assert cli.main(["test", "--load_dir", runs / "mdn", "--procrustes", "--json", out]) == 0
    printed = capsys.readouterr().out
    assert "best of 3 hypotheses" in printed and "of synthetic" in printed and "P2 (mm)" in printed
    results = json.loads(out.read_text())
    history = read_history(runs / "mdn")
    best = min(history, key=lambda h: h["val_mpjpe"])      # best.keras is the best epoch's model
    assert results["p1"]["all_frames"] == pytest.approx(best["val_mpjpe"], rel=1e-3)
    assert results["nll"] == pytest.approx(best["val_nll"], rel=1e-3)
    assert results["p2"]["average"] < results["p1"]["average"]
    average = next(line for line in printed.splitlines() if line.startswith("Average")).split()
    assert average[1:] == [f"{results['p1']['average']:.1f}", f"{results['p2']['average']:.1f}"]
    assert set(results["p1"]["per_action"]) == set(results["p2"]["per_action"])
    assert 1.0 <= results["kernel_usage"] <= 3.0


@pytest.mark.slow
def test_test_with_hidden_joints_changes_the_inputs(quick, runs, tmp_path, capsys):
    import json

    paths = [tmp_path / "none.json", tmp_path / "two.json"]
    for miss_num, path in zip((0, 2), paths):
        assert cli.main(["test", "--load_dir", runs / "mdn", "--miss_num", miss_num, "--json", path]) == 0
    assert "2 limb joints hidden per frame" in capsys.readouterr().out
    none, two = (json.loads(p.read_text()) for p in paths)
    assert two["miss_num"] == 2 and two["frames"] == none["frames"]
    assert two["p1"]["average"] != pytest.approx(none["p1"]["average"], rel=1e-6)


@pytest.mark.slow
def test_test_on_another_source_needs_its_folder(quick, runs, capsys):
    assert cli.main(["test", "--load_dir", runs / "mdn", "--data", "h36m"]) == 1
    assert "needs --data_dir" in capsys.readouterr().err


@pytest.mark.slow
def test_predict_with_a_baseline_gives_one_hypothesis_and_no_tensorflow_noise(runs, tmp_path):
    poses_2d = np.random.default_rng(5).normal(500, 80, size=(4, 16, 2))
    np.savez(tmp_path / "in.npz", poses_2d=poses_2d)
    result = subprocess.run([sys.executable, "-m", "mdnlib", "predict", "--load_dir", runs / "baseline",
                             "--input", tmp_path / "in.npz", "--output", tmp_path / "out.npz"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""                              # TensorFlow's start-up lines are silenced
    assert result.stdout.strip() == f"wrote {tmp_path / 'out.npz'}"
    with np.load(tmp_path / "out.npz") as out:
        assert out["hypotheses"].shape == (4, 1, 17, 3)
        np.testing.assert_array_equal(out["hypotheses"][:, :, 0], 0.0)
        np.testing.assert_allclose(out["weights"], 1.0)
        sigma = out["sigmas"]
    history = read_history(runs / "baseline")
    normalizer = models.load_model(runs / "baseline" / "best.keras").normalizer
    # the baseline's sigma is its RMS training residual, in mm
    np.testing.assert_allclose(sigma, normalizer.sigma_to_mm(history[0]["sigma"]), rtol=1e-5)
    assert np.all(sigma > 0)
