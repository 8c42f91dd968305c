"""Prediction throughput, poses/s with all M hypotheses, on the active Keras backend
(bench/README.md, "Prediction speed").

    .venv/bin/python bench/predict_speed.py [--batches 4096,16384] [--configs paper,course] [--poses 200000]
    KERAS_BACKEND=jax .venv/bin/python bench/predict_speed.py

Runs `mdnlib.models.predict_mixture` (what `predict`, `test` and the notebooks use) on random
normalised inputs, after one call that compiles, and prints one line per configuration and batch
size.
"""
import argparse
import os
import sys
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", default="4096,16384", help="batch sizes (comma-separated)")
    parser.add_argument("--configs", default="paper,course", help="presets of mdnlib.models")
    parser.add_argument("--poses", type=int, default=200_000, help="poses per measurement")
    args = parser.parse_args()
    from mdnlib import models
    from mdnlib.config import import_keras

    keras = import_keras()
    print(f"{os.cpu_count()} CPUs, backend {keras.config.backend()}, {time.strftime('%Y-%m-%d %H:%M')}")
    x = np.random.default_rng(0).normal(size=(args.poses, 32)).astype(np.float32)
    for name in args.configs.split(","):
        model = models.build_model(models.PRESETS[name], seed=0)
        for batch_size in map(int, args.batches.split(",")):
            models.predict_mixture(model, x[:2 * batch_size], batch_size=batch_size)   # compiles
            start = time.perf_counter()
            models.predict_mixture(model, x, batch_size=batch_size)
            rate = len(x) / (time.perf_counter() - start)
            print(f"predict {name} (width {model.model_config.width}) batch {batch_size}: {rate:,.0f} poses/s",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
