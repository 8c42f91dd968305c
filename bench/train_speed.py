"""Training throughput against the machine's matrix-multiply rate (README, "Speed").

    .venv/bin/python bench/train_speed.py [--batches 64,256,1024,4096] [--configs paper,course]
                                          [--seconds 5] [--threads INTRA,INTER]

Trains each configuration with `mdnlib.train`'s own settings (`compile_model`: fused Adam with
the paper's decay, several steps per call) on random data for about --seconds per batch size,
and reads the single-precision matmul rate before and after each measurement (a 4096^3
tf.matmul, and the product of B rows by a width x width matrix, the shape of a training step at
batch B). The ceiling is the best of all these readings: a shared machine's speed drifts, and
on some CPUs the big square product is not the fastest. Prints samples/s, GFLOP/s and the
fractions of the ceiling. A training sample costs 3 x 2 x the multiply-adds of the forward pass
(forward, and two products backward): about 27 MFLOP for the paper's MDN. --threads sets
TensorFlow's intra- and inter-op thread counts (through TF_NUM_INTRAOP_THREADS /
TF_NUM_INTEROP_THREADS, before TensorFlow starts).
"""
import argparse
import os
import sys
import time

import numpy as np


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", default="64,256,1024,4096", help="batch sizes (comma-separated)")
    parser.add_argument("--configs", default="paper,course", help="presets of mdnlib.models (paper, course)")
    parser.add_argument("--seconds", type=float, default=5.0, help="training time per measurement")
    parser.add_argument("--threads", help="INTRA,INTER thread counts (default: TensorFlow's)")
    return parser.parse_args()


def matmul_ceiling(tf, size=4096):
    """Best single-precision rate (GFLOP/s) of a square matmul, the classic ceiling for dense layers."""
    return batch_matmul_rate(tf, size, size, calls=1)


def batch_matmul_rate(tf, batch_size, width, repeats=5, calls=20):
    """Best rate (GFLOP/s) of (batch_size x width) @ (width x width), the shape of a training step."""
    operands = tf.random.normal((batch_size, width)), tf.random.normal((width, width))
    return product_rate(tf, tf.matmul, operands, 2 * batch_size * width * width, repeats, calls)


def product_rate(tf, product, operands, flop, repeats=5, calls=20):
    """Best rate (GFLOP/s) of `product(*operands)`, a traced function costing `flop` operations."""
    product = tf.function(product)
    product(*operands).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            result = product(*operands)
        result.numpy()
        best = min(best, (time.perf_counter() - start) / calls)
    return flop / best / 1e9


def forward_multiply_adds(config):
    """Multiply-adds of one forward pass (dense layers only; everything else is comparatively small)."""
    width, outputs = config.width, (48 + 2) * config.num_kernels if config.kind == "mdn" else 48
    return 32 * width + config.blocks * 2 * width * width + width * outputs


def measure(models, train, config, batch_size, seconds):
    """Samples per second of `fit` over one epoch sized to last about `seconds`."""
    from mdnlib.dataset import make_tf_dataset

    model = train.compile_model(models.build_model(config, seed=0), batch_size=batch_size)
    rng = np.random.default_rng(0)

    def epoch_data(steps):
        x = rng.normal(size=(steps * batch_size, 32)).astype(np.float32)
        y = rng.normal(size=(steps * batch_size, 48)).astype(np.float32)
        return make_tf_dataset(x, y, batch_size=batch_size, shuffle=True, seed=0)

    steps = train.steps_per_execution(batch_size)
    model.fit(epoch_data(steps), epochs=1, verbose=0, shuffle=False)            # traces the step
    start = time.perf_counter()
    model.fit(epoch_data(steps), epochs=1, verbose=0, shuffle=False)
    rate = steps * batch_size / (time.perf_counter() - start)
    steps = steps * max(1, round(rate * seconds / batch_size / steps))
    data = epoch_data(steps)
    start = time.perf_counter()
    model.fit(data, epochs=1, verbose=0, shuffle=False)
    return steps * batch_size / (time.perf_counter() - start)


def main():
    args = parse_args()
    if args.threads:
        intra, inter = args.threads.split(",")
        os.environ["TF_NUM_INTRAOP_THREADS"], os.environ["TF_NUM_INTEROP_THREADS"] = intra, inter
    from mdnlib import models, train
    from mdnlib.config import import_tensorflow

    tf = import_tensorflow()
    threads = args.threads or "default"
    print(f"{os.cpu_count()} CPUs, threads {threads}")
    readings, results = [], []
    for name in args.configs.split(","):
        config = models.PRESETS[name]
        flop = 6 * forward_multiply_adds(config)
        for batch_size in map(int, args.batches.split(",")):
            readings.append(matmul_ceiling(tf))
            rate = measure(models, train, config, batch_size, args.seconds)
            shape_rate = batch_matmul_rate(tf, batch_size, config.width)
            readings += [shape_rate, matmul_ceiling(tf)]
            results.append((name, config, flop, batch_size, rate, shape_rate))
            print(f"train {name} batch {batch_size}: {rate:,.0f} samples/s; {batch_size}-row matmul "
                  f"{shape_rate:.0f} GFLOP/s; square matmul {readings[-1]:.0f} GFLOP/s", flush=True)
    # A shared machine's speed drifts, and on some CPUs a 4096^3 product is slower than a thinner
    # one (cache): the ceiling is the best matmul rate read during the whole run.
    ceiling = max(readings)
    print(f"matmul ceiling, the best of {len(readings)} readings: {ceiling:.0f} GFLOP/s")
    for name, config, flop, batch_size, rate, shape_rate in results:
        achieved = rate * flop / 1e9
        print(f"train {name} (width {config.width}, {config.blocks} blocks, {flop / 1e6:.1f} MFLOP/sample) "
              f"batch {batch_size}: {rate:,.0f} samples/s = {achieved:.0f} GFLOP/s = "
              f"{100 * achieved / ceiling:.0f}% of the ceiling; the {batch_size}-row matmul alone reaches "
              f"{100 * shape_rate / ceiling:.0f}%, training {100 * achieved / shape_rate:.0f}% of that")
    return 0


if __name__ == "__main__":
    sys.exit(main())
