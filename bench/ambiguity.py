"""How much depth ambiguity the data has, and whether the shipped MDNs' spread follows it (issue 11).

    OMP_NUM_THREADS=1 .venv/bin/python bench/ambiguity.py [--views 4000] [--k 10] [--cmu_dir DIR]

On a random sample of test views of the synthetic split (S9, S11) and of the real CMU poses of
subjects 01+02 (--cmu_dir: the library's default, data/cmu after `python -m mdnlib download cmu
--subjects 1 2`, else the sample in data/cmu-sample), per limb joint (knees, feet, elbows, wrists):
1. geometry: the flip gap of the bone ending at the joint (`toy.flip_gaps`) and whether that
   flip keeps the limb inside the synthetic generator's anatomical ranges
   (`toy.single_flips_in_generator_ranges`);
2. the data's own conditional spread: the depth spread (`hypotheses.depth_spread`, equal weights)
   of the K training poses whose normalised 2D input is nearest (`hypotheses.nearest_neighbours`);
3. the issue's figures for the pretrained MDNs, plus Spearman correlations of their weighted
   depth spread with the flip gap, with the heaviest hypothesis's error of the bone's depth and
   with the data's spread; the same for the data's spread as a reference.
Prints Markdown tables and writes bench/figures/ambiguity_spread.png.
"""
import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from mdnlib import config, dataset, evaluation, hypotheses, inference, metrics, skeleton, toy
from mdnlib.sources import load_source
from mdnlib.sources.synthetic import NOISE_SIGMA_PX

LIMB = np.array([skeleton.joint_index(name) for name in skeleton.LIMB_JOINTS])
MODELS = ("mdn", "mdn_no_prior")
K_VALUES = (5, 10, 20, 50)
FIGURE = Path(__file__).parent / "figures" / "ambiguity_spread.png"


def sample(prepared, views, seed):
    """Rows of `views` random test examples: normalised 2D, root-relative and absolute 3D (mm)."""
    rows = np.sort(np.random.default_rng(seed).choice(len(prepared.test_2d), views, replace=False))
    gt = prepared.test_3d_mm[rows].astype(np.float64)
    return prepared.test_2d[rows], gt, gt + prepared.test_info["root_cam"][rows, None].astype(np.float64)


def geometry(poses_cam):
    """Flip gaps of the limb joints (N, 8) mm, whether each single flip stays in the generator's
    ranges (N, 8), and whether the unflipped limb is in range (N, 8)."""
    gaps = np.array([toy.flip_gaps(pose)[LIMB] for pose in poses_cam])
    plausible = np.array([toy.single_flips_in_generator_ranges(pose) for pose in poses_cam])
    inside = toy.limbs_in_generator_ranges(poses_cam)
    limb_of = {j: limb for limb in toy.LIMB_ANGLES for j in skeleton.LIMB_CHAINS[limb]}
    original = np.stack([inside[limb_of[j]] for j in LIMB], axis=-1)
    return gaps, plausible, original


def bone_depth(poses):
    """Each limb joint's depth relative to its parent, (..., 8) mm."""
    return hypotheses.bone_vectors(poses)[..., LIMB, 2]


def limb_features(poses_2d):
    """Per limb: what the 2D says about it alone, (N, 10) for each limb of `toy.LIMB_ANGLES`: its
    middle and end joint from its root joint, the hip line, the shoulder line and the trunk, in
    units of the pose's 2D size (RMS distance of the 16 joints from their centre), so that a
    limb's neighbours need not match the rest of the body or the distance to the camera."""
    p = np.asarray(poses_2d, dtype=np.float64)
    size = np.sqrt(np.mean(np.sum((p - p.mean(axis=1, keepdims=True)) ** 2, axis=-1), axis=1))
    at = {name: p[:, k] for k, name in enumerate(skeleton.INPUT_NAMES)}
    body = [at["LHip"] - at["RHip"], at["LShoulder"] - at["RShoulder"], at["Thorax"] - at["Hip"]]
    features = {}
    for limb in toy.LIMB_ANGLES:
        root, middle, end = (skeleton.JOINTS_17[j] for j in skeleton.LIMB_CHAINS[limb])
        parts = [at[middle] - at[root], at[end] - at[root]] + body
        features[limb] = (np.concatenate(parts, axis=1) / size[:, None]).astype(np.float32)
    return features


def neighbour_spreads(queries, references, gt, train_3d, normalizer):
    """The K nearest training poses by `queries` against `references` (features), for every K of
    K_VALUES: their depth spread (N, 8), the spread of the bone's sideways offset (N, 8: how
    coarse the neighbourhood is, since the 2D pins that offset), and the error of their mean bone
    depth (N, 8); plus the neighbour distances (N, max K)."""
    indices, distances = hypotheses.nearest_neighbours(queries, references, max(K_VALUES))
    result = {}
    for k in K_VALUES:
        poses = normalizer.denormalize_3d(train_3d[indices[:, :k]]).astype(np.float64)   # (N, k, 17, 3)
        result[k] = {"spread": hypotheses.depth_spread(poses, np.ones(poses.shape[:2]))[:, LIMB],
                     "sideways": np.std(hypotheses.bone_vectors(poses)[..., LIMB, 0], axis=1),
                     "mean_error": np.abs(bone_depth(poses).mean(axis=1) - bone_depth(gt))}
    return result, distances


def data_spreads(x, gt, train, train_features):
    """The data's conditional spread two ways: neighbours by the whole normalised 2D input (what
    the network sees), and by each limb's own 2D (`limb_features`), each limb's joints from its
    own search. {"whole input": {K: ...}, "own limb": {K: ...}} as `neighbour_spreads`."""
    whole, distances = neighbour_spreads(x, train.train_2d, gt, train.train_3d, train.normalizer)
    queries = limb_features(train.normalizer.denormalize_2d(x))
    own = {k: {key: np.zeros_like(v) for key, v in values.items()} for k, values in whole.items()}
    limb_distances = []
    for limb, features in train_features.items():
        found, d = neighbour_spreads(queries[limb], features, gt, train.train_3d, train.normalizer)
        columns = [list(LIMB).index(j) for j in skeleton.LIMB_CHAINS[limb][1:]]
        for k, values in found.items():
            for key, v in values.items():
                own[k][key][:, columns] = v[:, columns]
        limb_distances.append(d)
    return {"whole input": whole, "own limb": own}, {"whole input": distances,
                                                     "own limb": np.mean(limb_distances, axis=0)}


def noise_distance(normalizer):
    """Expected distance (normalised units) between two detector-noise draws of one 2D pose."""
    per_coordinate = np.repeat(NOISE_SIGMA_PX, 2) / np.asarray(normalizer.std_2d)
    return float(np.sqrt(2.0 * np.sum(per_coordinate ** 2)))


def rho(a, b):
    """Spearman correlation pooled over views and limb joints, and the mean of the per-joint ones."""
    pooled = metrics.rank_correlation(a, b)
    return pooled, float(np.mean([metrics.rank_correlation(a[:, j], b[:, j]) for j in range(a.shape[1])]))


def model_figures(model, x, gt):
    """Best of M, heaviest kernel (MPJPE mm), weighted depth spread (N, 8), heaviest hypothesis's
    bone-depth error (N, 8) and whether the heaviest hypothesis is the best one (N,)."""
    result = inference.predict_normalized(model, x)
    errors = metrics.mpjpe(result.hypotheses, gt[:, None])
    heaviest = metrics.most_likely_kernel(result.weights)
    rows = np.arange(len(gt))
    return {"best": errors.min(axis=1).mean(), "heaviest": errors[rows, heaviest].mean(),
            "spread": hypotheses.depth_spread(result.hypotheses, result.weights)[:, LIMB],
            "bone_error": np.abs(bone_depth(result.hypotheses[rows, heaviest]) - bone_depth(gt)),
            "heaviest_is_best": heaviest == metrics.best_hypothesis_index(errors)}


def study(name, prepared, train, train_features, models, views, k, seed):
    """All figures of one test set; prints its tables and returns what the figure needs."""
    start = time.perf_counter()
    x, gt, gt_cam = sample(prepared, views, seed)
    gaps, plausible, original = geometry(gt_cam)
    data, distances = data_spreads(x, gt, train, train_features)
    outputs = {m: model_figures(model, x, gt) for m, model in models.items()}
    print(f"\n### {name}: {views} test views, K = {k} ({time.perf_counter() - start:.0f} s)\n")
    print(f"Neighbour distances, median, 1st and {k}th: whole input {np.median(distances['whole input'][:, 0]):.2f}, "
          f"{np.median(distances['whole input'][:, k - 1]):.2f} (two detector-noise draws of one pose: "
          f"{noise_distance(train.normalizer):.2f}); own limb {np.median(distances['own limb'][:, 0]):.3f}, "
          f"{np.median(distances['own limb'][:, k - 1]):.3f} (pose sizes)")
    print("\n| limb joint | half flip gap (median mm) | limb in the generator's ranges | flip in ranges "
          "(of those) | half gap x plausible (mean mm) | data spread, whole input, K=5/10/20/50 | sideways | "
          "data spread, own limb, K=5/10/20/50 | sideways | " + " | ".join(f"{m} spread" for m in models) + " |")
    print("|---" * (9 + len(models)) + "|")
    for j, joint in enumerate(skeleton.LIMB_JOINTS):
        kept = original[:, j]
        flip_ok = plausible[kept, j].mean() if kept.any() else np.nan
        cells = [f"{np.median(gaps[:, j]) / 2:.0f}", f"{kept.mean():.2f}", f"{flip_ok:.2f}",
                 f"{np.mean(gaps[:, j] / 2 * (plausible[:, j] & kept)):.0f}"]
        for variant in data.values():
            cells += ["/".join(f"{np.median(variant[kk]['spread'][:, j]):.0f}" for kk in K_VALUES),
                      f"{np.median(variant[k]['sideways'][:, j]):.0f}"]
        cells += [f"{np.median(o['spread'][:, j]):.0f}" for o in outputs.values()]
        print(f"| {joint} | " + " | ".join(cells) + " |")
    all_kept = original.all(axis=1)
    print(f"\nAll 8 limbs in range: {all_kept.mean():.2f} of the views; of the 8 single flips of those, "
          f"{plausible[all_kept].mean():.2f} stay in range.")
    print("\nSpearman: pooled over views and limb joints (mean of the 8 per-joint values)\n")
    print("| spread of | best of 5 | heaviest kernel | median limb spread | half the flip gap | "
          "Spearman(spread, gap) | Spearman(spread, heaviest's bone-depth error) | heaviest is best | "
          "Spearman(spread, data spread: whole input) | Spearman(spread, data spread: own limb) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    half_gap = np.median(gaps) / 2

    def pair(values):
        return "{:.2f} ({:.2f})".format(*values)

    for m, o in outputs.items():
        print(f"| {m} | {o['best']:.1f} | {o['heaviest']:.1f} | {np.median(o['spread']):.1f} | {half_gap:.1f} | "
              f"{pair(rho(o['spread'], gaps))} | {pair(rho(o['spread'], o['bone_error']))} | "
              f"{o['heaviest_is_best'].mean():.2f} | {pair(rho(o['spread'], data['whole input'][k]['spread']))} | "
              f"{pair(rho(o['spread'], data['own limb'][k]['spread']))} |")
    rng = np.random.default_rng(seed)
    for variant, spreads in data.items():
        ref = spreads[k]["spread"]
        calibrated = ref * np.abs(rng.standard_normal(ref.shape))
        errors = "; ".join(f"{m}'s {pair(rho(ref, o['bone_error']))}" for m, o in outputs.items())
        print(f"| data, {variant}, K={k} | - | - | {np.median(ref):.1f} | {half_gap:.1f} | {pair(rho(ref, gaps))} | "
              f"{errors}; its own mean's {pair(rho(ref, spreads[k]['mean_error']))}; "
              f"calibrated ceiling {pair(rho(ref, calibrated))} | - | - | - |")
    return {"data": data["own limb"][k]["spread"], "gaps": gaps, "plausible": plausible & original,
            "models": {m: o["spread"] for m, o in outputs.items()},
            "whole": data["whole input"][k]["spread"]}


def draw(results, path):
    """Per limb joint: model spread against the data's spread and the plausible half flip gap."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    names = skeleton.LIMB_JOINTS
    synthetic = results["synthetic"]
    bars = {"half flip gap, plausible flips only (mean)": (synthetic["gaps"] / 2 * synthetic["plausible"]).mean(0),
            "data: K nearest by the whole input (median)": np.median(synthetic["whole"], 0),
            "data: K nearest by the limb's own 2D (median)": np.median(synthetic["data"], 0),
            **{f"{m} (median)": np.median(s, 0) for m, s in synthetic["models"].items()}}
    width = 0.8 / len(bars)
    for n, (label, values) in enumerate(bars.items()):
        axes[0].bar(np.arange(len(names)) + (n - (len(bars) - 1) / 2) * width, values, width, label=label)
    axes[0].set_xticks(np.arange(len(names)), names, rotation=30)
    axes[0].set(ylabel="depth spread of the bone (mm)", title="Synthetic test views, per limb joint",
                ylim=(0, 1.5 * max(np.max(v) for v in bars.values())))
    axes[0].legend(fontsize="x-small", ncol=2, loc="upper left")
    for (test, result), style in zip(results.items(), ("-", "--")):
        data = result["data"].ravel()
        edges = np.quantile(data, np.linspace(0, 1, 11))
        which = np.clip(np.digitize(data, edges) - 1, 0, 9)
        centres = [np.median(data[which == b]) for b in range(10)]
        for (m, spread), colour in zip(result["models"].items(), ("C3", "C4")):   # as the bars
            means = [np.median(spread.ravel()[which == b]) for b in range(10)]
            axes[1].plot(centres, means, style, marker="o", ms=3, color=colour, label=f"{m}, {test}")
    top = max(np.quantile(r["data"], 0.95) for r in results.values())
    axes[1].plot([0, top], [0, top], ":", color="k", lw=1, label="model = data")
    axes[1].set(xlabel="data's depth spread, K nearest by the limb's 2D (mm, deciles)",
                ylabel="model's weighted depth spread (median, mm)",
                title="Does the model's spread follow the data's?")
    axes[1].legend(fontsize="x-small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--views", type=int, default=4000, help="test views per test set")
    parser.add_argument("--k", type=int, default=10, choices=K_VALUES, help="neighbours for the data's spread")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cmu_dir", default=str(config.cmu_dir()),
                        help="CMU ASF/AMC folder, one sub-folder per subject (default: %(default)s)")
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()} {platform.processor() or ''}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', '-')}")
    models = {m: inference.load_trained(inference.find_pretrained(m)) for m in MODELS}
    first = next(iter(models.values()))
    if not all(inference.model_normalizer(m).same_as(inference.model_normalizer(first)) for m in models.values()):
        raise SystemExit("the models were trained with different normalisation statistics")
    synthetic = evaluation.load_test_split(first, "synthetic")
    print(f"training examples (neighbour candidates): {len(synthetic.train_2d):,}")
    train_features = limb_features(synthetic.normalizer.denormalize_2d(synthetic.train_2d))
    results = {"synthetic": study("Synthetic test split (S9, S11)", synthetic, synthetic, train_features,
                                  models, args.views, args.k, args.seed)}
    if Path(args.cmu_dir).is_dir():
        cmu = dataset.prepare(load_source("cmu", args.cmu_dir), normalizer=inference.model_normalizer(first))
        results["CMU"] = study("CMU subjects 01+02", cmu, synthetic, train_features, models, args.views,
                               args.k, args.seed)
    draw(results, FIGURE)
    print(f"\n{FIGURE} written; {time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
