"""Prediction throughput (poses/s, all M hypotheses) against the matmul rate (README, "Speed").

    .venv/bin/python bench/predict_speed.py [--batches 4096,16384] [--configs paper,course]
                                            [--poses 200000] [--threads INTRA,INTER]

Runs `mdnlib.models.predict_mixture` (what `predict`, `test` and the notebooks use) on random
normalised inputs and prints one line per measurement: poses/s, GFLOP/s (2 x the forward
multiply-adds per pose) and the fraction of the matmul ceiling: the best matmul rate read
before and after (as in train_speed.py, square and 4096-row products).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_speed import batch_matmul_rate, forward_multiply_adds, matmul_ceiling  # noqa: E402


def ceiling_reading(tf):
    """The better of a square and a 4096-row matmul rate (GFLOP/s): on some CPUs the square is slower."""
    return max(matmul_ceiling(tf), batch_matmul_rate(tf, 4096, 1024))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", default="4096,16384", help="batch sizes (comma-separated)")
    parser.add_argument("--configs", default="paper,course", help="presets of mdnlib.models")
    parser.add_argument("--poses", type=int, default=200_000, help="poses per measurement")
    parser.add_argument("--threads", help="INTRA,INTER thread counts (default: TensorFlow's)")
    args = parser.parse_args()
    if args.threads:
        intra, inter = args.threads.split(",")
        os.environ["TF_NUM_INTRAOP_THREADS"], os.environ["TF_NUM_INTEROP_THREADS"] = intra, inter
    from mdnlib import models
    from mdnlib.config import import_tensorflow

    tf = import_tensorflow()
    ceiling = ceiling_reading(tf)
    print(f"{os.cpu_count()} CPUs, threads {args.threads or 'default'}")
    x = np.random.default_rng(0).normal(size=(args.poses, 32)).astype(np.float32)
    results = []
    for name in args.configs.split(","):
        config = models.PRESETS[name]
        model = models.build_model(config, seed=0)
        flop = 2 * forward_multiply_adds(config)
        for batch_size in map(int, args.batches.split(",")):
            models.predict_mixture(model, x[:2 * batch_size], batch_size=batch_size)   # traces
            start = time.perf_counter()
            mu, sigma, alpha = models.predict_mixture(model, x, batch_size=batch_size)
            rate = len(x) / (time.perf_counter() - start)
            results.append((name, config, flop, batch_size, rate, mu.shape[1]))
            print(f"predict {name} batch {batch_size}: {rate:,.0f} poses/s", flush=True)
    ceiling = max(ceiling, ceiling_reading(tf))   # the machine's speed drifts: keep the best
    print(f"matmul ceiling, the best reading before and after: {ceiling:.0f} GFLOP/s")
    for name, config, flop, batch_size, rate, kernels in results:
        print(f"predict {name} (width {config.width}, M={kernels}, {flop / 1e6:.1f} MFLOP/pose) "
              f"batch {batch_size}: {rate:,.0f} poses/s = {rate * flop / 1e9:.0f} GFLOP/s = "
              f"{100 * rate * flop / 1e9 / ceiling:.0f}% of the matmul ceiling")
    return 0


if __name__ == "__main__":
    sys.exit(main())
