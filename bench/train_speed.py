"""Training throughput against the machine's matrix-multiply rate (README, "Speed").

    .venv/bin/python bench/train_speed.py [--batches 64,256,1024,4096] [--configs paper,course]
                                          [--seconds 8] [--threads INTRA,INTER]

Measures the single-precision matmul rate (a large tf.matmul) as the ceiling, then trains each
configuration with `mdnlib.train`'s own settings (`compile_model`: fused Adam with the paper's
decay, several steps per call) on random data for about --seconds per batch size, and prints
one line per measurement: samples/s, GFLOP/s and the fraction of the ceiling. A training sample
costs 3 x 2 x the multiply-adds of the forward pass (forward, and two products backward):
about 27 MFLOP for the paper's MDN. --threads sets TensorFlow's intra- and inter-op thread
counts (through TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS, before TensorFlow starts).
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


def matmul_ceiling(tf, size=4096, repeats=5):
    """Best single-precision rate (GFLOP/s) of a square matmul, the ceiling for dense layers."""
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    product = tf.function(lambda a, b: tf.matmul(a, b))
    product(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        product(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


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
    ceiling = matmul_ceiling(tf)
    threads = args.threads or "default"
    print(f"matmul ceiling: {ceiling:.0f} GFLOP/s (float32, 4096x4096, {os.cpu_count()} CPUs, "
          f"threads {threads})")
    results = []
    for name in args.configs.split(","):
        config = models.PRESETS[name]
        flop = 6 * forward_multiply_adds(config)
        for batch_size in map(int, args.batches.split(",")):
            rate = measure(models, train, config, batch_size, args.seconds)
            results.append((name, config, flop, batch_size, rate))
            print(f"train {name} batch {batch_size}: {rate:,.0f} samples/s", flush=True)
    ceiling = max(ceiling, matmul_ceiling(tf))   # a busy machine lowers it: keep the better reading
    print(f"matmul ceiling, best of the readings before and after: {ceiling:.0f} GFLOP/s")
    for name, config, flop, batch_size, rate in results:
        print(f"train {name} (width {config.width}, {config.blocks} blocks, {flop / 1e6:.1f} MFLOP/sample) "
              f"batch {batch_size}: {rate:,.0f} samples/s = {rate * flop / 1e9:.0f} GFLOP/s = "
              f"{100 * rate * flop / 1e9 / ceiling:.0f}% of the matmul ceiling")
    return 0


if __name__ == "__main__":
    sys.exit(main())
