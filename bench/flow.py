"""The generative lifter against the paper's MDN (issue 20), on the same random test views.

    KERAS_BACKEND=jax .venv/bin/python bench/flow.py [--views 2000] [--cmu_dir DIR] [--steps N --rho R]

For the pretrained `flow` (200 samples per view; its first 5 / 50 stand for 5 / 50 hypotheses)
and `mdn` (5 kernels), on the synthetic test split (S9, S11) and on real CMU poses (subjects
01+02 filmed by the rig; --cmu_dir as in bench/ambiguity.py):
- best of M (MPJPE, mm), the mean of the hypotheses (the weighted mean pose), one hypothesis
  (the flow's first sample, the MDN's heaviest kernel);
- the median limb depth spread (`hypotheses.depth_spread`) against the data's own conditional
  spread (the K = 10 training poses nearest by each limb's own 2D, bench/ambiguity.py);
- Spearman(spread, that one hypothesis's bone-depth error), pooled over views and limb joints;
- for limb bones whose two depth solutions lie >= 150 mm apart, the share of views with at
  least 10% of the weight on the flipped solution (`hypotheses.weight_on_flipped`), for flips
  the generator can make (`hypotheses.limb_flips`) and flips it cannot;
- calibration: ECE of the samples (`metrics.sample_coverage`) and of the MDN's heaviest kernel;
- speed: `inference.predict_poses` of 50 samples for 4,000 poses, samples per second.
--steps and --rho choose the sampler's time grid (`models.sampler_times`; default the library's).
Prints Markdown tables (bench/README.md, "Generative lifter").
"""
import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from ambiguity import LIMB, bone_depth, data_spreads, limb_features, sample
from mdnlib import config, dataset, evaluation, hypotheses, inference, metrics, models
from mdnlib.sources import load_source

GAP_MM = 150.0          # flips whose two solutions lie at least this far apart
ON_FLIPPED = 0.10       # "covers the flipped solution": at least this share of the weight on it
SPEED_POSES, SPEED_SAMPLES = 4000, 50


def figures(result, gt, gt_cam, flips):
    """The table's figures for one model's Hypotheses on N views."""
    weights = result.weights
    errors = metrics.mpjpe(result.hypotheses, gt[:, None])                         # (N, M)
    one = metrics.most_likely_kernel(weights)            # the heaviest kernel; a flow's first sample
    rows = np.arange(len(gt))
    mean_pose = np.einsum("nm,nmjc->njc", weights, result.hypotheses)
    spread = hypotheses.depth_spread(result.hypotheses, weights)[:, LIMB]
    bone_error = np.abs(bone_depth(result.hypotheses[rows, one]) - bone_depth(gt))
    gaps, possible, flipped_depth = flips
    on_flipped = hypotheses.weight_on_flipped(result.hypotheses, weights, gt_cam, flipped_depth) >= ON_FLIPPED
    far = gaps >= GAP_MM
    return {"best": errors.min(axis=1).mean(), "one": errors[rows, one].mean(),
            "mean": metrics.mpjpe(mean_pose, gt).mean(), "spread": spread,
            "rho": metrics.rank_correlation(spread, bone_error),
            "possible": on_flipped[far & possible].mean(), "impossible": on_flipped[far & ~possible].mean(),
            "possible_views": int((far & possible).sum()), "impossible_views": int((far & ~possible).sum())}


def draw_samples(flow, x, count, seed, grid):
    """Hypotheses of `count` samples per normalised input, on the sampler grid (steps, rho)."""
    samples = models.sample_flow(flow, x, count, seed=seed, steps=grid[0], rho=grid[1])
    return inference.hypotheses_from_samples(samples, flow.normalizer)


def study(name, prepared, train, train_features, mdn, flow, views, seed, grid):
    start = time.perf_counter()
    x, gt, gt_cam = sample(prepared, views, seed)
    flips = hypotheses.limb_flips(gt_cam)
    data = np.median(data_spreads(x, gt, train, train_features)[0]["own limb"][10]["spread"], axis=0)
    kernels = inference.predict_normalized(mdn, x)
    samples = draw_samples(flow, x, 200, seed, grid)
    rows = {"MDN, 5 kernels": figures(kernels, gt, gt_cam, flips)}
    for m in (5, 50, 200):
        subset = inference.Hypotheses(samples.hypotheses[:, :m], np.full((len(x), m), 1.0 / m), None)
        rows[f"flow, {m} samples"] = figures(subset, gt, gt_cam, flips)
    mdn_ece = metrics.calibration(prepared.test_3d[_rows(prepared, views, seed)],
                                  *models.predict_mixture(mdn, x))["ece"]
    flow_ece = metrics.expected_calibration_error(metrics.sample_coverage(samples.hypotheses[:, :50], gt))
    print(f"\n### {name}: {views} random test views ({time.perf_counter() - start:.0f} s)\n")
    print("| model | best of M (mm) | mean of the hypotheses (mm) | one hypothesis (mm) | median limb depth "
          "spread (mm) | spread / data's | Spearman(spread, one's bone-depth error) | possible flips >= 150 mm: "
          f"views >= {ON_FLIPPED:.0%} on the flip | impossible flips: the same |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, r in rows.items():
        ratio = np.median(r["spread"], axis=0) / data
        print(f"| {label} | {r['best']:.1f} | {r['mean']:.1f} | {r['one']:.1f} | {np.median(r['spread']):.0f} | "
              f"{np.median(ratio):.2f} ({ratio.min():.2f}-{ratio.max():.2f}) | {r['rho']:.2f} | "
              f"{r['possible']:.2f} ({r['possible_views']}) | {r['impossible']:.2f} ({r['impossible_views']}) |")
    print(f"\nData's conditional limb depth spread (median per limb joint, mm): "
          + ", ".join(f"{v:.0f}" for v in data))
    print(f"Calibration ECE: flow's 50 samples {flow_ece:.3f}; MDN's heaviest kernel {mdn_ece:.3f}")


def _rows(prepared, views, seed):
    """The test rows `ambiguity.sample` draws."""
    return np.sort(np.random.default_rng(seed).choice(len(prepared.test_2d), views, replace=False))


def speed(flow, prepared, grid):
    """Seconds and samples per second of 50 samples for 4,000 poses (what `predict_poses` does:
    pixels in, mm out), after one warm-up call that compiles the sampler."""
    poses_2d = prepared.normalizer.denormalize_2d(prepared.test_2d[:SPEED_POSES]).reshape(-1, 16, 2)
    draw_samples(flow, flow.normalizer.normalize_2d(poses_2d[:10]), SPEED_SAMPLES, 0, grid)
    start = time.perf_counter()
    inference.check_poses_2d(poses_2d)
    draw_samples(flow, flow.normalizer.normalize_2d(poses_2d), SPEED_SAMPLES, 0, grid)
    seconds = time.perf_counter() - start
    print(f"\npredict_poses, {SPEED_SAMPLES} samples for {SPEED_POSES:,} poses: {seconds:.1f} s, "
          f"{SPEED_POSES * SPEED_SAMPLES / seconds:,.0f} samples/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--views", type=int, default=2000, help="test views per test set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=models.SAMPLER_STEPS, help="sampler steps (default %(default)s)")
    parser.add_argument("--rho", type=float, default=models.SAMPLER_RHO, help="sampler time grid (default %(default)s)")
    parser.add_argument("--cmu_dir", default=str(config.cmu_dir()),
                        help="CMU ASF/AMC folder, one sub-folder per subject (default: %(default)s)")
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}, backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}, "
          f"sampler: {args.steps} steps, rho {args.rho}")
    mdn, flow = (inference.load_trained(inference.find_pretrained(name)) for name in ("mdn", "flow"))
    if not inference.model_normalizer(mdn).same_as(inference.model_normalizer(flow)):
        raise SystemExit("the MDN and the flow were trained with different normalisation statistics")
    synthetic = evaluation.load_test_split(mdn, "synthetic")
    train_features = limb_features(synthetic.normalizer.denormalize_2d(synthetic.train_2d))
    grid = (args.steps, args.rho)
    speed(flow, synthetic, grid)
    study("Synthetic test split (S9, S11)", synthetic, synthetic, train_features, mdn, flow, args.views, args.seed, grid)
    if Path(args.cmu_dir).is_dir():
        cmu = dataset.prepare(load_source("cmu", args.cmu_dir), normalizer=inference.model_normalizer(mdn))
        study(f"CMU ({args.cmu_dir})", cmu, synthetic, train_features, mdn, flow, args.views, args.seed, grid)
    print(f"\n{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
