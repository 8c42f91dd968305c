"""Cameras beyond the Human3.6M rig (README "Results", bench/README.md "Cameras").

Trains two MDNs of the course configuration on the synthetic data, one filmed by the rig and one
by varied cameras (`--cameras varied`), on JAX, then tests both on the synthetic test split and on
real CMU poses, each filmed by the rig and by varied cameras, the varied views also with their
intrinsics normalised away (what `predict --intrinsics` does). Best-of-5 and most-likely MPJPE,
mean over actions (mm).

    .venv/bin/python bench/cameras.py [--epochs 3] [--cmu_dir DIR] [--runs DIR] [--json FILE]

Trainings run as `nice -n 10 python -m mdnlib train ... --train_dir RUNS/<name>` with
KERAS_BACKEND=jax and OMP_NUM_THREADS=1 (a run killed midway resumes when this is run again; a
finished one is reused). Without --cmu_dir the CMU poses are `config.cmu_dir()`: data/cmu when
downloaded, else the sample shipped in data/cmu-sample.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

from mdnlib import config, dataset, evaluation, inference, runs  # noqa: E402
from mdnlib.sources import load_source  # noqa: E402

MODELS = ("rig", "varied")   # what each model was trained on (its --cameras)
TESTS = (                    # (label, source, cameras, intrinsics normalised)
    ("synthetic, rig", "synthetic", "rig", False),
    ("synthetic, varied", "synthetic", "varied", False),
    ("synthetic, varied, intrinsics normalised", "synthetic", "varied", True),
    ("CMU, rig", "cmu", "rig", False),
    ("CMU, varied", "cmu", "varied", False),
    ("CMU, varied, intrinsics normalised", "cmu", "varied", True),
)


def train(name, epochs, folder):
    """Train (or resume, or reuse) the model filmed with `name` cameras in folder/name."""
    train_dir = folder / name
    if (train_dir / "final.keras").is_file() and runs.RunFolder(train_dir).epochs_done() >= epochs \
            and not runs.RunFolder(train_dir).unfinished():
        print(f"{name}: reusing the finished run in {train_dir}")
        return train_dir
    command = ["nice", "-n", "10", sys.executable, "-m", "mdnlib", "train", "--data", "synthetic",
               "--cameras", name, "--epochs", str(epochs), "--train_dir", str(train_dir)]
    env = {**os.environ, "KERAS_BACKEND": "jax", "OMP_NUM_THREADS": "1"}
    print(" ".join(command[3:]), flush=True)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    print(f"{name}: trained in {time.perf_counter() - start:.0f} s", flush=True)
    return train_dir


def evaluate(model, cmu_dir):
    """{test label: {"best": mm, "likely": mm, "frames": n}} for one model."""
    normalizer = inference.model_normalizer(model)
    results, posesets = {}, {}
    for label, source, cameras, reference in TESTS:
        key = (source, cameras)
        if key not in posesets:
            posesets[key] = load_source(source, cmu_dir if source == "cmu" else None, cameras=cameras)
        prepared = dataset.prepare(posesets[key], normalizer=normalizer, reference_camera=reference)
        result = evaluation.evaluate(model, prepared)
        results[label] = {"best": result["p1"]["average"], "likely": result["most_likely_p1"]["average"],
                          "frames": result["frames"]}
        print(f"  {label}: best of 5 {results[label]['best']:.1f} mm, most likely "
              f"{results[label]['likely']:.1f} mm ({result['frames']} frames)", flush=True)
    return results


def table(results):
    """Markdown: one row per test, best-of-5 / most likely per model."""
    lines = ["| test data | " + " | ".join(f"trained on {m}: best of 5 | most likely" for m in results) + " |",
             "|---|" + "---|---|" * len(results)]
    for label, *_ in TESTS:
        cells = [f"{results[m][label]['best']:.1f} | {results[m][label]['likely']:.1f}" for m in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per model (default 3)")
    parser.add_argument("--cmu_dir", type=Path, default=config.cmu_dir(),
                        help="CMU ASF/AMC folder (default: %(default)s)")
    parser.add_argument("--runs", type=Path, default=config.cache_dir() / "cameras",
                        help="training folders (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    start = time.perf_counter()
    results = {}
    for name in MODELS:
        model = inference.load_trained(train(name, args.epochs, args.runs))
        print(f"trained on {name} cameras:", flush=True)
        results[name] = evaluate(model, args.cmu_dir)
    print(f"\n{date.today()}, {args.epochs} epochs each, CMU from {args.cmu_dir}, "
          f"{time.perf_counter() - start:.0f} s in all\n")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps({"date": str(date.today()), "epochs": args.epochs,
                                         "cmu_dir": str(args.cmu_dir), "results": results}, indent=1))


if __name__ == "__main__":
    main()
