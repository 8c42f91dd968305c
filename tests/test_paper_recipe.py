"""The README's paper-reproduction recipe, run end to end on tiny format-exact Human3.6M trees.

The commands below are the README's ("Reproducing the paper"), with two substitutions: the data
folders point at fixtures written by `h36m_fixtures`, and the network is shrunk (one epoch,
width 32, one block) so that the run takes seconds. Everything else (loaders, the Stacked
Hourglass detections, the paper's preset, the evaluation per action with Protocol 2) is real.
"""
import json
import shlex

import numpy as np
import pytest

from h36m_fixtures import ACTIONS, write_h36m_baseline_tree, write_h36m_npz
from mdnlib import cli
from mdnlib.poseset import TEST_SUBJECTS, TRAIN_SUBJECTS

# The recipe as the README shows it (DATA = where the user unpacked Human3.6M).
RECIPE_BASELINE_LAYOUT = [
    "data --source h36m --data_dir DATA/h36m --use_sh --summary",
    "train --train_dir runs/paper_mdn --data h36m --data_dir DATA/h36m --use_sh --config paper",
    "test --load_dir runs/paper_mdn --procrustes --json runs/paper_mdn/test.json",
]
RECIPE_NPZ_LAYOUT = [
    "data --source h36m_npz --data_dir DATA/h36m_npz --source_2d sh_ft_h36m --trust_pickle --summary",
    "train --train_dir runs/paper_mdn_npz --data h36m_npz --data_dir DATA/h36m_npz --source_2d sh_ft_h36m --trust_pickle --config paper",
    "test --load_dir runs/paper_mdn_npz --trust_pickle --procrustes --json runs/paper_mdn_npz/test.json",
]
SHRINK = ["--epochs", "1", "--width", "32", "--blocks", "1"]
SUBJECTS = TRAIN_SUBJECTS + TEST_SUBJECTS


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Both layouts, every subject and action, a few frames per sequence."""
    root = tmp_path_factory.mktemp("human36m")
    truth_h5 = write_h36m_baseline_tree(root / "h36m", subjects=SUBJECTS, frames=4)
    truth_npz = write_h36m_npz(root / "h36m_npz", subjects=SUBJECTS, frames=4)
    return root, truth_h5, truth_npz


def _run_recipe(recipe, data_root, workdir, capsys):
    """Run the recipe's commands; returns what each printed and the test results."""
    printed = []
    for line in recipe:
        argv = shlex.split(line.replace("DATA", str(data_root)).replace("runs/", f"{workdir}/"))
        if argv[0] == "train":
            argv += SHRINK
        assert cli.main(argv) == 0, capsys.readouterr().err
        printed.append(capsys.readouterr().out)
    results_file = next(argv[i + 1] for i, a in enumerate(argv) if a == "--json")
    return printed, json.loads(open(results_file).read())


def _test_frames(poses_2d):
    """Number of test examples: frames x views of the test subjects."""
    return sum(len(views) for s in TEST_SUBJECTS
               for sequence in poses_2d[s].values() for views in sequence.values())


@pytest.mark.slow
def test_recipe_on_the_3d_pose_baseline_layout_with_stacked_hourglass(data, tmp_path, capsys):
    root, truth, _ = data
    printed, results = _run_recipe(RECIPE_BASELINE_LAYOUT, root, tmp_path, capsys)
    assert "source: h36m (StackedHourglassFineTuned240 2D)" in printed[0]
    run = json.loads((tmp_path / "paper_mdn" / "run.json").read_text())
    assert run["data"] == "h36m" and run["use_sh"] is True and run["batch_size"] == 64
    assert run["model"]["num_kernels"] == 5 and run["model"]["dropout"] == 0.5
    # test reads the same data as training (from run.json): the detections of S9 and S11, with
    # S11's Directions missing camera 54138969 as in the real files
    assert results["data"] == "h36m (StackedHourglassFineTuned240 2D)"
    assert results["frames"] == _test_frames(truth["sh_2d"])
    # one row per action of the paper (its two recordings together), and both protocols
    assert sorted(results["p1"]["per_action"]) == sorted(ACTIONS)
    assert results["p1"]["average"] == pytest.approx(np.mean(list(results["p1"]["per_action"].values())))
    assert 0 < results["p2"]["average"] < results["p1"]["average"]
    assert results["num_kernels"] == 5 and np.isfinite(results["nll"])
    table = printed[2]
    assert "best of 5 hypotheses" in table and "P2 (mm)" in table and "WalkTogether" in table


@pytest.mark.slow
def test_recipe_on_the_videopose3d_layout(data, tmp_path, capsys):
    root, _, truth = data
    printed, results = _run_recipe(RECIPE_NPZ_LAYOUT, root, tmp_path, capsys)
    assert "source: h36m_npz" in printed[0]
    assert json.loads((tmp_path / "paper_mdn_npz" / "run.json").read_text())["data"] == "h36m_npz"
    assert results["data"].startswith("h36m_npz")
    assert results["frames"] == _test_frames(truth["poses_2d"]["gt"])
    assert sorted(results["p1"]["per_action"]) == sorted(ACTIONS)   # S11 lacks one Directions, S9 has both
    assert 0 < results["p2"]["average"] < results["p1"]["average"]
    # trained and tested on the detections (from run.json); the same model on ground-truth 2D differs
    assert results["data"] == "h36m_npz (sh_ft_h36m 2D)"
    out = tmp_path / "gt.json"
    assert cli.main(["test", "--load_dir", tmp_path / "paper_mdn_npz", "--source_2d", "gt", "--trust_pickle",
                     "--json", out]) == 0
    on_truth = json.loads(out.read_text())
    assert on_truth["frames"] == results["frames"]
    assert on_truth["p1"]["average"] != pytest.approx(results["p1"]["average"], rel=1e-9)  # 1 tiny epoch: close
