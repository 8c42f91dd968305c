"""The command line: both spellings of every option, the original script's habits, clear errors,
and every command run end to end on tiny data (quick mode, a tiny model, one epoch)."""
import subprocess
import sys

import pytest

from mdnlib import cli

PARSED = cli.build_parser()


def _parse(*argv):
    return vars(PARSED.parse_args([str(a) for a in argv]))


@pytest.mark.parametrize("underscored, dashed", [
    (["train", "--train_dir", "r", "--data_dir", "d", "--miss_num", "2", "--num_kernels", "3",
      "--batch_size", "8", "--learning_rate", "0.01", "--no_dirichlet", "--use_sh",
      "--dropout_rate", "0.1", "--max_norm", "false", "--batch_norm", "true", "--data", "h36m"],
     ["train", "--train-dir", "r", "--data-dir", "d", "--miss-num", "2", "--num-kernels", "3",
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
    assert options["miss_num"] == 0 and options["data"] == "synthetic"
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
