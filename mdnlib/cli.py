"""The command line: `python -m mdnlib data|train|test|sample|predict|download` (README, "Command line").

It mirrors the workflow of the paper's original script (train, `--test`, `--sample`) with one
command per task. This module only parses options and calls the library; Keras and its backend
are imported lazily (and quietly, through `mdnlib.config.import_keras`) by the modules that need it, so
`--help` and `data` stay fast. Every option is accepted in both spellings, `--train_dir` and
`--train-dir`.
"""
import argparse
import contextlib
import difflib
import json
import sys
import warnings
from pathlib import Path

from mdnlib.files import atomic_path, check_writable

from mdnlib.sources import CAMERAS, SOURCES, trusting_pickles  # light: the sources themselves are imported when loaded

# Options of the original script (predict_3dpose_mdm.py) that have no equivalent here, with the
# way to do the same thing now.
_LEGACY_OPTIONS = {
    "--test": "testing is its own command now: python -m mdnlib test --load_dir DIR [--procrustes]",
    "--sample": "sampling is its own command now: python -m mdnlib sample --load_dir DIR --out DIR",
    "--load": "checkpoints are found by folder, not by step: give the training folder (or one "
              ".keras file) as --load_dir to test, sample or predict; train resumes by itself "
              "when --train_dir holds an unfinished run",
    "--dropout": "the original --dropout was a keep probability; use --dropout_rate, the "
                 "fraction of units dropped (0.5 in the paper)",
    "--cameras_path": "cameras.h5 is read from --data_dir (next to the S* folders)",
    "--use_cpu": "TensorFlow uses a GPU when it sees one; hide it with CUDA_VISIBLE_DEVICES=''",
    "--camera_frame": "3D poses are always expressed in the camera frame, as in the paper",
    "--predict_14": "the network always predicts the 16 non-root joints of the paper",
    "--use_fp16": "training runs in float32",
    "--evaluateActionWise": "test always prints the per-action table",
    "--action": "training and testing always use every action, as in the paper",
    "--residual": "the residual blocks are always on; choose how many with --blocks",
}

_COMMANDS = ("data", "train", "test", "sample", "predict", "download")


def main(argv=None):
    """Entry point of `python -m mdnlib` and of the `mdnlib` console script; returns the exit code.

    An error the user can act on (bad input, a file that cannot be read or written) or Ctrl-C
    ends in one line on stderr and exit code 1 (130 for Ctrl-C); `--debug` shows the traceback.
    Warnings are one line too.
    """
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    parser = build_parser()
    _reject_legacy_usage(parser, argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _reject_unknown(args, unknown)
    prefix = f"mdnlib {args.command}"
    trust = trusting_pickles() if getattr(args, "trust_pickle", False) else contextlib.nullcontext()
    try:
        with trust, _one_line_warnings(prefix, args.debug):
            args.run(args)
    except KeyboardInterrupt as interrupt:
        if args.debug:
            raise
        print(f"{prefix}: interrupted" + (f": {interrupt}" if str(interrupt) else ""), file=sys.stderr)
        return 130
    except (ValueError, OSError, KeyError, RuntimeError, FloatingPointError) as err:
        if args.debug:
            raise
        print(f"{prefix}: error: {_message(err)}", file=sys.stderr)
        return 1
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mdnlib", allow_abbrev=False,
        description="Multiple 3D pose hypotheses with a Mixture Density Network (Li & Lee, CVPR 2019).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = _command(commands, "data", run_data,
                    "load a data source; print a summary or export the network's arrays")
    _option(data, "--source", choices=SOURCES, default="synthetic", help="data source (default: synthetic)")
    _data_location(data)
    _flag(data, "--summary", "print subjects, actions, frames and cameras")
    _option(data, "--export", metavar="FILE.npz", type=Path,
            help="write train_2d/3d, test_2d/3d (normalised), the statistics and test_3d_mm")

    train = _command(commands, "train", run_train, "train an MDN (or the baseline, or the flow) and save it")
    _option(train, "--train_dir", metavar="DIR", type=Path, required=True,
            help="folder for checkpoints, logs and the final model (resumes an unfinished run)")
    _data_options(train, default="synthetic")
    _option(train, "--miss_num", type=int, choices=(0, 1, 2), default=0,
            help="how many of the 8 limb joints to hide per training example (default 0)")
    _flag(train, "--miss_up_to", "hide 0 to --miss_num limb joints instead, as many drawn per example: "
                                 "one model for complete and occluded inputs")
    _flag(train, "--no_dirichlet", "train without the Dirichlet prior on the mixing coefficients")
    _flag(train, "--sigma_per_joint", "beyond the paper: one sigma per kernel and joint, so a hypothesis "
                                      "can be sure of some joints and unsure of others")
    _option(train, "--model", choices=("mdn", "baseline", "flow"), default="mdn",
            help="mdn: the paper's mixture density network (default); baseline: the single regression of "
                 "Martinez et al.; flow: beyond the paper, a flow-matching lifter that samples 3D poses "
                 "(its own preset: width 512, batch 512, 16 epochs)")
    _flag(train, "--baseline", "the same as --model baseline")
    _option(train, "--config", choices=("course", "paper"), default="course",
            help="size preset: 'paper' = width 1024, 2 blocks, batch 64, 200 epochs; "
                 "'course' = width 512 without max-norm, dropout 0.2, batch 256, 12 epochs (default)")
    _option(train, "--num_kernels", type=int, metavar="M", help="mixture kernels (paper: 5)")
    _option(train, "--epochs", type=int, metavar="N", help="training epochs")
    _option(train, "--batch_size", type=int, metavar="B", help="examples per batch")
    _option(train, "--learning_rate", type=float, metavar="LR", help="Adam learning rate (paper: 1e-3)")
    _option(train, "--width", "--linear_size", type=int, metavar="UNITS",
            help="units of every hidden layer (paper: 1024)")
    _option(train, "--blocks", "--num_layers", type=int, metavar="N",
            help="residual blocks of the feature extractor (paper: 2)")
    _option(train, "--dropout_rate", type=float, metavar="RATE",
            help="fraction of units dropped (paper: 0.5)")
    _option(train, "--max_norm", type=_boolean, metavar="BOOL", help="whole-matrix max-norm (paper: True)")
    _option(train, "--batch_norm", type=_boolean, metavar="BOOL", help="batch normalisation (paper: True)")
    _option(train, "--seed", type=int, default=0, help="random seed (default 0)")

    test = _command(commands, "test", run_test,
                    "per-action best-of-M errors (P1, and P2 with --procrustes) and the NLL")
    _load_dir(test)
    _data_options(test)
    _flag(test, "--procrustes", "also report Protocol 2 (P-MPJPE, after similarity alignment)")
    _option(test, "--miss_num", type=int, choices=(0, 1, 2), default=0,
            help="limb joints hidden in every test example (default 0)")
    _option(test, "--json", metavar="FILE", type=Path, help="also write the results as JSON")
    _option(test, "--seed", type=int, default=0,
            help="seed of the hidden-joint draw, and of a flow's test frames and samples (default 0)")
    _option(test, "--frames", type=int, metavar="N",
            help="a flow model: random test frames to sample (default 4000: sampling 200 poses per frame "
                 "is slow); 0 for all")

    sample = _command(commands, "sample", run_sample,
                      "figures of random test frames: 2D input, ground truth, the M hypotheses")
    _load_dir(sample)
    _data_options(sample)
    _option(sample, "--out", metavar="DIR", type=Path, required=True, help="folder for the PNG figures")
    _option(sample, "--num", type=int, default=20, help="number of test frames (default 20)")
    _option(sample, "--seed", type=int, default=0, help="seed of the frame choice (default 0)")

    predict = _command(commands, "predict", run_predict,
                       "3D hypotheses for your own 2D poses (npz in, npz out)")
    _load_dir(predict)
    _option(predict, "--input", metavar="IN.npz", type=Path, required=True,
            help="npz with poses_2d (N, 16, 2): pixels, 16-joint input order, H36M-like camera, "
                 "or any camera with --intrinsics (or an 'intrinsics' array, (4,) or (N, 4), in the file)")
    _option(predict, "--intrinsics", type=float, nargs=4, metavar=("FX", "FY", "CX", "CY"),
            help="your camera's focal lengths and principal point in pixels: the poses are mapped "
                 "into the pixels of the camera the model knows")
    _option(predict, "--output", metavar="OUT.npz", type=Path, required=True,
            help="npz written with hypotheses (N, M, 17, 3) mm, weights (N, M), sigmas (N, M) mm (per joint: "
                 "(N, M, 17); a flow's samples have none)")
    _option(predict, "--num_hypotheses", type=int, metavar="M",
            help="a flow model: how many 3D poses to sample per 2D pose (default 50); an MDN or the "
                 "baseline always gives its own number")
    _option(predict, "--seed", type=int, default=0, help="a flow model: seed of its noise (default 0)")

    download = _command(commands, "download", run_download,
                        "fetch more real data: CMU motion capture subjects (mdnlib.download)")
    download.add_argument("dataset", choices=("cmu",), help="what to fetch: cmu")
    _option(download, "--subjects", type=int, nargs="+", default=[1, 2], metavar="N",
            help="CMU subject numbers, 1-144 (default: 1 2, the full subjects of the sample)")
    _option(download, "--data_dir", metavar="DIR", type=Path,
            help="folder for the subjects (default: data/cmu, which the cmu source then reads)")
    _option(download, "--url", metavar="URL", help="the archive of every ASF/AMC file "
            "(default: CMU's allasfamc.zip; a mirror or a local http server works too)")
    return parser


# ---- the commands: each one calls the library with the parsed options -------------------------

def run_data(args):
    from mdnlib import dataset
    from mdnlib.sources import load_source

    if args.export:
        _check_output(args.export, "--export")
    poses = load_source(args.source, args.data_dir, use_sh=args.use_sh, cameras=args.cameras,
                        **_source_options(args, args.source))
    if args.summary or not args.export:
        print(poses.summary())
    if args.export:
        normalizer = None
        if args.source == "cmu":  # all CMU frames are test frames, seen with the synthetic statistics
            normalizer = dataset.prepare(load_source("synthetic", cameras=args.cameras)).normalizer
        dataset.export_npz(dataset.prepare(poses, normalizer), args.export)
        print(f"wrote {args.export}")


def run_train(args):
    from mdnlib import runs, train

    try:
        _, history = train.train_from_options(
            train_dir=args.train_dir, data=args.data, data_dir=args.data_dir, use_sh=args.use_sh,
            miss_num=args.miss_num, miss_up_to=args.miss_up_to, dirichlet=not args.no_dirichlet,
            baseline=args.baseline, config=args.config, num_kernels=args.num_kernels, epochs=args.epochs,
            batch_size=args.batch_size, learning_rate=args.learning_rate, width=args.width,
            blocks=args.blocks, dropout_rate=args.dropout_rate, max_norm=args.max_norm,
            batch_norm=args.batch_norm, seed=args.seed, sigma_per_joint=args.sigma_per_joint,
            cameras=args.cameras or "rig", model=args.model, **_source_options(args, args.data))
    except KeyboardInterrupt:
        done = runs.RunFolder(args.train_dir).epochs_done()
        raise KeyboardInterrupt(f"{done} finished epochs are saved in {args.train_dir}; rerun the same "
                                "command to resume") from None
    last = history[-1]
    figures = f"loss {last['loss']:.3f}" + (f", best-of-M MPJPE {last['val_mpjpe']:.1f} mm on the test split"
                                            if "val_mpjpe" in last else "")
    print(f"saved {args.train_dir / 'final.keras'} (and best.keras, history.csv, run.json); "
          f"epoch {last['epoch']}: {figures}")


def run_test(args):
    from mdnlib import evaluation, inference

    if args.json:
        _check_output(args.json, "--json")
    model = inference.load_trained(args.load_dir)
    prepared = evaluation.load_test_split(model, args.data, args.data_dir, args.use_sh, args.source_2d,
                                          run=inference.training_run(args.load_dir), cameras=args.cameras)
    frames = evaluation.FLOW_FRAMES if args.frames is None else (args.frames or None)
    results = evaluation.evaluate(model, prepared, procrustes=args.procrustes,
                                  miss_num=args.miss_num, seed=args.seed, frames=frames)
    print(evaluation.format_results(results))
    if args.json:
        with atomic_path(args.json) as temporary:
            temporary.write_text(json.dumps(results, indent=2))
        print(f"wrote {args.json}")


def run_download(args):
    from mdnlib import download

    options = {"url": args.url} if args.url else {}
    folders = download.download_cmu(args.subjects, args.data_dir, **options)
    print(f"load them with: python -m mdnlib data --source cmu --data_dir {folders[0].parent} --summary")


def run_sample(args):
    from mdnlib import evaluation, inference

    model = inference.load_trained(args.load_dir)
    prepared = evaluation.load_test_split(model, args.data, args.data_dir, args.use_sh, args.source_2d,
                                          run=inference.training_run(args.load_dir), cameras=args.cameras)
    paths = evaluation.save_sample_figures(model, prepared, args.out, num=args.num, seed=args.seed)
    print(f"wrote {len(paths)} figures to {args.out}")


def run_predict(args):
    from mdnlib import inference

    _check_output(args.output, "--output")
    camera = {} if args.intrinsics is None else {"intrinsics": args.intrinsics}
    poses_2d = inference.read_poses_2d(args.input, **camera)
    model = inference.load_trained(args.load_dir)
    with warnings.catch_warnings():   # read_poses_2d has said it, naming the file
        warnings.simplefilter("ignore", inference.TinyPoseWarning)
        result = inference.predict_poses(model, poses_2d, num_hypotheses=args.num_hypotheses, seed=args.seed)
    inference.save_hypotheses(result, args.output)
    print(f"wrote {args.output}")


# ---- option helpers ------------------------------------------------------------------------------

def _command(commands, name, run, help_text):
    parser = commands.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
    parser.set_defaults(run=run, parser=parser, spellings=[])
    _flag(parser, "--debug", "show the full traceback of an error instead of one line")
    return parser


def _option(parser, name, *aliases, **kwargs):
    """Add an option under its own name, its dashed spelling and any alias (`--train_dir`, `--train-dir`)."""
    spellings = []
    for spelling in (name, *aliases):
        for variant in (spelling, spelling.replace("_", "-")):
            if variant not in spellings:
                spellings.append(variant)
    kwargs.setdefault("dest", name.lstrip("-"))
    parser.add_argument(*spellings, **kwargs)
    parser.set_defaults(spellings=parser.get_default("spellings") + spellings)  # for suggestions


def _flag(parser, name, help_text, default=False):
    """A switch that also takes the original script's explicit value: `--use_sh`, `--use_sh True`."""
    _option(parser, name, type=_boolean, nargs="?", const=True, default=default, metavar="BOOL", help=help_text)


def _boolean(text):
    value = str(text).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")


def _data_location(parser, from_training=False):
    same = " (default: as in training)" if from_training else ""
    _option(parser, "--data_dir", metavar="DIR", type=Path,
            help="folder of a real source (h36m: h36m/ with S*/ and cameras.h5, or its parent; "
                 "h36m_npz: the VideoPose3D npz files; cmu: .asf/.amc files)" + same)
    _flag(parser, "--use_sh", "h36m: read the fine-tuned Stacked Hourglass 2D detections (the paper's input)"
          + same, default=None if from_training else False)
    _flag(parser, "--trust_pickle", "h36m_npz: the VideoPose3D files are yours or trusted; they hold pickled "
          "Python objects, and unpickling a crafted file runs its code (refused without this flag)")
    _option(parser, "--cameras", choices=CAMERAS, default=None if from_training else "rig",
            help="synthetic and cmu: film the poses with the four Human3.6M cameras (rig) or with "
                 "cameras drawn at random for every shot of 100 frames (varied)"
                 + (" (default: as in training)" if from_training else " (default: rig)"))
    _option(parser, "--source_2d", metavar="NAME",
            help="h36m_npz: read 2D from data_2d_h36m_NAME.npz (sh_ft_h36m: fine-tuned Stacked "
                 "Hourglass, the paper's input; cpn_ft_h36m_dbb: CPN; " + (
                     "default: as in training)" if from_training else "default gt: projected ground truth)"))


def _data_options(parser, default=None):
    help_text = "data source" + (f" (default: {default})" if default else
                                 " (default: the one the model was trained on, from its run.json)")
    _option(parser, "--data", choices=SOURCES, default=default, help=help_text)
    _data_location(parser, from_training=default is None)


def _load_dir(parser):
    _option(parser, "--load_dir", metavar="DIR", type=Path, required=True,
            help="a training folder (its best or final model is used) or one .keras file")


def _source_options(args, source):
    """Options that only one source understands, passed on to `mdnlib.sources.load_source`."""
    if args.source_2d is None:
        return {}
    if source != "h36m_npz":
        raise ValueError(f"--source_2d chooses a VideoPose3D 2D file: it applies to the h36m_npz "
                         f"source only, not {source}")
    return {"source_2d": args.source_2d}


def _check_output(path, option):
    """Before any long work: `path` must be a file name in a folder that accepts files."""
    try:
        check_writable(path)
    except OSError as error:
        raise OSError(error.errno, f"{error.strerror}; choose another {option}", error.filename) from None


def _message(error):
    """One line for an error: an OS error as 'PATH: reason', others as their text."""
    if isinstance(error, KeyError) and error.args:
        return error.args[0]
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        return f"{error.filename}: {error.strerror}"
    return str(error)


@contextlib.contextmanager
def _one_line_warnings(prefix, debug):
    """Show warnings as 'mdnlib COMMAND: warning: ...' (with --debug, where they come from)."""
    if debug:
        yield
        return
    shown = warnings.showwarning

    def one_line(message, category, filename, lineno, file=None, line=None):
        print(f"{prefix}: warning: {message}", file=sys.stderr)

    warnings.showwarning = one_line
    try:
        yield
    finally:
        warnings.showwarning = shown


def _reject_unknown(args, unknown):
    """Stop at the first unknown argument, suggesting the option it most likely means (`--epoch`)."""
    name = unknown[0].split("=", 1)[0]
    close = difflib.get_close_matches(name, args.spellings, n=1, cutoff=0.6) if name.startswith("-") else []
    hint = f"; did you mean {close[0]}?" if close else ""
    args.parser.error(f"unrecognized argument {unknown[0]}{hint}")


def _reject_legacy_usage(parser, argv):
    """Point users of the original script (`--test True --load 4338038`) to the new commands."""
    for token in (t for t in argv if t.startswith("--")):
        name = token.split("=", 1)[0]
        hint = _LEGACY_OPTIONS.get("--" + name.lstrip("-").replace("-", "_"))
        if hint:
            parser.error(f"{name} is an option of the original script: {hint}")
    if argv and argv[0].startswith("-") and argv[0] not in {"-h", "--help"}:
        parser.error(f"start with a command ({', '.join(_COMMANDS)}), for example "
                     "'python -m mdnlib train --train_dir runs/mdn'")
