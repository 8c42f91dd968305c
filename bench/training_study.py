"""How the MDN's hypotheses evolve with training length, dropout, width, kernels, the prior and a
per-joint sigma (issue 11): curves of the multimodality figures, epoch after epoch.

    KERAS_BACKEND=jax .venv/bin/python bench/training_study.py [--variants d02,d02_joint,...]
        [--cmu_dir DIR] [--views 4000]
    .venv/bin/python bench/training_study.py --report      # tables and bench/figures/training_study.png

Every variant is the course network (width 512, no max-norm, batch 256, seed 0) trained on the
whole synthetic training split with `mdnlib.train.train`, into data/cache/study/<variant>; a run
killed at any moment resumes from its last epoch when the command is run again. After every
epoch a callback measures, on 4,000 synthetic test views and 4,000 CMU views (subjects 01+02
through the project's loader, never used for training), what issue 11 asks for:
  best of M and heaviest-kernel MPJPE (mm); the median weighted depth spread of the 8 limb
  joints (`hypotheses.depth_spread`) and the mixture's whole depth uncertainty
  (`hypotheses.depth_uncertainty`, the kernels' sigmas included); Spearman correlations of the
  spread with the flip gap, with the heaviest hypothesis's error of the bone's depth, and with
  the data's own conditional spread (10 nearest training poses by the limb's 2D, as
  bench/ambiguity.py); how often the heaviest hypothesis is the best one.
Rows go to data/cache/study/<variant>/figures.csv (one per epoch). The chosen runs become the
shipped checkpoints (copied to data/pretrained).
"""
import argparse
import csv
import time
from pathlib import Path

import numpy as np

from ambiguity import LIMB, bone_depth, data_spreads, geometry, limb_features, rho, sample
from mdnlib import config, dataset, hypotheses, inference, metrics, models, train
from mdnlib.sources import load_source

keras = config.import_keras()

STUDY_DIR = config.cache_dir() / "study"
FIGURE = Path(__file__).parent / "figures" / "training_study.png"
REFERENCE_K = 10
BATCH_SIZE = 256

# name: (settings on top of models.COURSE, epochs, label)
VARIANTS = {
    "d02": ({"dropout": 0.2}, 12, "paper MDN, dropout 0.2"),
    "d02_joint_no_prior": ({"dropout": 0.2, "sigma_per_joint": True, "dirichlet_beta": 1.0}, 8,
                           "dropout 0.2, one sigma per joint, no prior"),
    "baseline_d02": ({"kind": "baseline", "dropout": 0.2}, 12, "baseline, dropout 0.2"),
    "d02_no_prior": ({"dropout": 0.2, "dirichlet_beta": 1.0}, 12, "dropout 0.2, no prior"),
    "d05": ({"dropout": 0.5}, 8, "paper MDN, dropout 0.5 (the old recipe)"),
    "d02_joint": ({"dropout": 0.2, "sigma_per_joint": True}, 12, "dropout 0.2, one sigma per joint"),
    "d02_k10": ({"dropout": 0.2, "num_kernels": 10}, 8, "dropout 0.2, 10 kernels"),
    "d02_w1024": ({"dropout": 0.2, "width": 1024}, 4, "dropout 0.2, width 1024"),
}
COLUMNS = ["epoch", "test", "best", "heaviest", "spread", "uncertainty", "rho_spread_gap",
           "rho_spread_error", "rho_uncertainty_error", "rho_spread_data", "rho_uncertainty_data",
           "heaviest_is_best", "seconds"]


class TestViews:
    """One test set's sampled views with what does not depend on the model: flip gaps and the
    data's own conditional spread."""

    def __init__(self, name, prepared, train_split, train_features, views, seed):
        self.name = name
        self.x, self.gt, gt_cam = sample(prepared, views, seed)
        self.gaps = geometry(gt_cam)[0]
        self.data_spread = data_spreads(self.x, self.gt, train_split, train_features)[0]["own limb"][REFERENCE_K]["spread"]

    def figures(self, model):
        """The study's figures for one model (NaN where a baseline has no spread)."""
        result = inference.predict_normalized(model, self.x)
        errors = metrics.mpjpe(result.hypotheses, self.gt[:, None])
        rows = np.arange(len(self.gt))
        heaviest = metrics.most_likely_kernel(result.weights)
        figures = {"test": self.name, "best": errors.min(axis=1).mean(), "heaviest": errors[rows, heaviest].mean(),
                   "heaviest_is_best": np.mean(heaviest == metrics.best_hypothesis_index(errors))}
        if result.weights.shape[1] == 1:
            return figures
        spread = hypotheses.depth_spread(result.hypotheses, result.weights)[:, LIMB]
        uncertainty = hypotheses.depth_uncertainty(result.hypotheses, result.weights, result.sigmas)[:, LIMB]
        bone_error = np.abs(bone_depth(result.hypotheses[rows, heaviest]) - bone_depth(self.gt))
        return {**figures, "spread": np.median(spread), "uncertainty": np.median(uncertainty),
                "rho_spread_gap": rho(spread, self.gaps)[0], "rho_spread_error": rho(spread, bone_error)[0],
                "rho_uncertainty_error": rho(uncertainty, bone_error)[0],
                "rho_spread_data": rho(spread, self.data_spread)[0],
                "rho_uncertainty_data": rho(uncertainty, self.data_spread)[0]}


class StudyFigures(keras.callbacks.Callback):
    """After every epoch, the figures of every test set, appended to figures.csv."""

    def __init__(self, path, tests):
        super().__init__()
        self.path, self.tests = Path(path), tests

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        rows = [{"epoch": epoch + 1, **test.figures(self.model)} for test in self.tests]
        old = [r for r in read_figures(self.path) if int(r["epoch"]) != epoch + 1]
        with self.path.open("w", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS, restval="nan")
            writer.writeheader()
            for row in old + [{**r, "seconds": time.perf_counter() - start} for r in rows]:
                writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
        print(" | ".join(f"{r['test']}: best {r['best']:.1f}, heaviest {r['heaviest']:.1f}, spread "
                         f"{r.get('spread', float('nan')):.1f}, rho(spread, error) "
                         f"{r.get('rho_spread_error', float('nan')):.2f}, rho(uncertainty, error) "
                         f"{r.get('rho_uncertainty_error', float('nan')):.2f}" for r in rows), flush=True)


def read_figures(path):
    if not Path(path).is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def load_tests(prepared, cmu_dir, views, seed):
    train_features = limb_features(prepared.normalizer.denormalize_2d(prepared.train_2d))
    tests = [TestViews("synthetic", prepared, prepared, train_features, views, seed)]
    cmu = dataset.prepare(load_source("cmu", cmu_dir), normalizer=prepared.normalizer)
    tests.append(TestViews("CMU", cmu, prepared, train_features, min(views, len(cmu.test_2d)), seed))
    return tests


def run(names, cmu_dir, views, seed):
    prepared = dataset.prepare(load_source("synthetic"))
    start = time.perf_counter()
    tests = load_tests(prepared, cmu_dir, views, seed)
    print(f"test views ready in {time.perf_counter() - start:.0f} s (CMU from {cmu_dir})", flush=True)
    for name in names:
        changes, epochs, label = VARIANTS[name]
        folder = STUDY_DIR / name
        print(f"\n== {name}: {label}, {epochs} epochs, {folder}", flush=True)
        train.train(models.COURSE.replace(**changes), prepared.train_2d, prepared.train_3d, prepared.test_2d,
                    prepared.test_3d, prepared.normalizer, folder, epochs=epochs, batch_size=BATCH_SIZE,
                    seed=0, verbose=2, callbacks=[StudyFigures(folder / "figures.csv", tests)],
                    run_info={"data": "synthetic", "data_dir": None, "use_sh": False, "source_2d": None,
                              "config": "course", "cameras": "rig"})


def report():
    """Markdown tables of the last epoch of every variant, and the curves."""
    table = {name: read_figures(STUDY_DIR / name / "figures.csv") for name in VARIANTS}
    table = {name: rows for name, rows in table.items() if rows}
    baseline = {(r["test"], r["epoch"]): float(r["best"]) for r in table.get("baseline_d02", [])}
    for test in ("synthetic", "CMU"):
        print(f"\n### {test} test views, last epoch of each variant\n")
        print("| variant | epochs | best of M | heaviest | best of M / baseline (same epoch) | limb depth spread | "
              "whole uncertainty | Spearman(spread, flip gap) | Spearman(spread, bone-depth error) | "
              "Spearman(uncertainty, bone-depth error) | Spearman(spread, data's spread) | "
              "Spearman(uncertainty, data's spread) | heaviest is best |")
        print("|---" * 13 + "|")
        for name, rows in table.items():
            last = [r for r in rows if r["test"] == test][-1]
            ratio = float(last["best"]) / baseline.get((test, last["epoch"]), np.nan)
            cells = [VARIANTS[name][2], last["epoch"], *(f"{float(last[k]):.1f}" for k in ("best", "heaviest")),
                     f"{ratio:.2f}", *(f"{float(last[k]):.1f}" for k in ("spread", "uncertainty")),
                     *(f"{float(last[k]):.2f}" for k in ("rho_spread_gap", "rho_spread_error",
                                                          "rho_uncertainty_error", "rho_spread_data",
                                                          "rho_uncertainty_data", "heaviest_is_best"))]
            print("| " + " | ".join(str(c) for c in cells) + " |")
    draw(table, baseline)
    print(f"\n{FIGURE} written")


def draw(table, baseline):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("best", "best of M (mm)"), ("ratio", "best of M / baseline"), ("spread", "limb depth spread (mm)"),
              ("rho_spread_error", "Spearman(spread, bone-depth error)"),
              ("rho_uncertainty_error", "Spearman(uncertainty, bone-depth error)"),
              ("heaviest_is_best", "heaviest is best")]
    fig, axes = plt.subplots(2, len(panels), figsize=(3.3 * len(panels), 6.2), squeeze=False)
    for row, test in enumerate(("synthetic", "CMU")):
        for col, (key, label) in enumerate(panels):
            ax = axes[row, col]
            for n, (name, rows) in enumerate(table.items()):
                rows = [r for r in rows if r["test"] == test]
                epochs = [int(r["epoch"]) for r in rows]
                if key == "ratio":
                    values = [float(r["best"]) / baseline.get((test, r["epoch"]), np.nan) for r in rows]
                else:
                    values = [float(r[key]) for r in rows]
                if np.isfinite(values).any():
                    ax.plot(epochs, values, marker="o", ms=2.5, color=f"C{n}", label=VARIANTS[name][2])
            ax.set(xlabel="epoch", title=f"{test}: {label}")
            ax.title.set_fontsize("small")
    axes[0, 0].legend(fontsize="x-small")
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=72)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--cmu_dir", default=str(config.cmu_dir()),
                        help="CMU ASF/AMC folder, one sub-folder per subject (default: %(default)s)")
    parser.add_argument("--views", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", action="store_true", help="only print the tables and draw the curves")
    args = parser.parse_args()
    if args.report:
        return report()
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    run(names, args.cmu_dir, args.views, args.seed)


if __name__ == "__main__":
    main()
