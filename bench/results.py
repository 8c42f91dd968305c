"""The README's results table: every pretrained model on the synthetic test split (0, 1 and 2
hidden limb joints) and, trained on synthetic only, on real CMU poses. The flow, which was not
trained with hidden joints, is tested on complete inputs only, on 4,000 random test frames
(`evaluation.FLOW_FRAMES`), its best of 50 samples in the best-of-M columns.

    KERAS_BACKEND=jax .venv/bin/python bench/results.py [--models baseline,mdn,mdn_no_prior,mdn_missing,mdn_joint_sigma,flow] [--cmu_dir DIR]

The README's CMU figures are on all of subjects 01 and 02 (`python -m mdnlib download cmu
--subjects 1 2` puts them in data/cmu, which is then the default); without them, the sample
shipped in data/cmu-sample is used.

Writes data/pretrained/<name>/evaluation_<test>.json (read by the course report) and prints a
Markdown table. Full test splits: a few minutes on 2 cores.
"""
import argparse
import json
import time
from pathlib import Path

from mdnlib import config, evaluation, inference

MODELS = ("baseline", "mdn", "mdn_no_prior", "mdn_missing", "mdn_joint_sigma", "flow")


def evaluate_model(name, cmu_dir):
    path = inference.find_pretrained(name)
    if path is None:
        raise SystemExit(f"no pretrained model {name!r} in {config.pretrained_dir()}: see the README")
    model = inference.load_trained(path)
    synthetic = evaluation.load_test_split(model, "synthetic")
    hidden = (0,) if model.model_config.kind == "flow" else (0, 1, 2)
    results = {f"synthetic_miss{k}": evaluation.evaluate(model, synthetic, procrustes=True, miss_num=k)
               for k in hidden}
    if Path(cmu_dir).is_dir():
        cmu = evaluation.load_test_split(model, "cmu", data_dir=cmu_dir)
        results["cmu"] = evaluation.evaluate(model, cmu, procrustes=True)
    for test, result in results.items():
        (path / f"evaluation_{test}.json").write_text(json.dumps(result, indent=1))
    return results


def row(name, results):
    def average(key, table="p1"):
        return f"{results[key][table]['average']:.1f}" if key in results else "-"

    main = results["synthetic_miss0"]
    nll = "-" if main["nll"] is None else f"{main['nll']:.2f}"
    ece = "-" if main["calibration_ece"] is None else f"{main['calibration_ece']:.3f}"
    used = "-" if main["kernel_usage"] is None else f"{main['kernel_usage']:.2f}"
    return (f"| {name} | {average('synthetic_miss0')} | {average('synthetic_miss0', 'p2')} | "
            f"{average('synthetic_miss0', 'most_likely_p1')} | {average('synthetic_miss1')} | "
            f"{average('synthetic_miss2')} | {nll} | {ece} | {used} | "
            f"{average('cmu')} | {average('cmu', 'p2')} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--cmu_dir", default=str(config.cmu_dir()),
                        help="CMU ASF/AMC folder, one sub-folder per subject (default: %(default)s)")
    args = parser.parse_args()
    start = time.perf_counter()
    print("| model | P1 best-of-M | P2 best-of-M | P1 most likely | P1, 1 joint hidden | "
          "P1, 2 joints hidden | NLL | ECE | kernels > 5% | CMU P1 | CMU P2 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.models.split(","):
        print(row(name, evaluate_model(name, args.cmu_dir)), flush=True)
    print(f"\n(mm, unweighted mean over activities; {time.perf_counter() - start:.0f} s; "
          "command: .venv/bin/python bench/results.py)")


if __name__ == "__main__":
    main()
