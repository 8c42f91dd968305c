"""Training speed side by side: the original's TF1 loop, mdnlib on TensorFlow, mdnlib on JAX
(bench/README.md, "Training speed").

    .venv/bin/python bench/train_speed.py [--ways original,tensorflow,jax] [--batches 64,256]
                                          [--config paper] [--seconds 10] [--rounds 3]

Every measurement runs in a fresh process (a Keras backend is chosen at start-up) and trains the
same network on random data for about --seconds, after a warm-up epoch that compiles it; the
ways take turns, round after round (a shared machine's speed drifts), and the script prints
samples/s for each round, then the median per way and batch size and the ratios to the original.

- original: the original code's training loop, rebuilt with `tf.compat.v1` (that code no longer
  runs on today's TensorFlow): a static graph, every weight matrix clipped with
  `tf.clip_by_norm(w, 1)` in the forward pass (the mixing layer excepted), batch norm from the
  batch moments with its moving averages as update ops, dropout, the mixture NLL plus the
  Dirichlet prior, `tf.train.AdamOptimizer` with the decayed learning rate, and one
  `session.run` per batch fed from NumPy (batches made per epoch by a permutation and
  `np.split`). The original's per-step summaries are left out, so if anything it is faster here.
- tensorflow / jax: `mdnlib.train`'s own model and settings (`compile_model`: Keras's Adam with
  the paper's decay, `steps_per_execution`), `fit` on NumPy arrays, with KERAS_BACKEND set.

`--config` is a preset of `mdnlib.models` (paper: width 1024, max-norm; course: width 512).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np

INPUT_DIM, OUTPUT_DIM = 32, 48


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ways", default="original,tensorflow,jax", help="ways to compare (comma-separated)")
    parser.add_argument("--batches", default="64,256", help="batch sizes (comma-separated)")
    parser.add_argument("--config", default="paper", help="preset of mdnlib.models (paper, course)")
    parser.add_argument("--seconds", type=float, default=10.0, help="training time per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per way and batch size")
    parser.add_argument("--worker", nargs=2, metavar=("WAY", "BATCH"), help=argparse.SUPPRESS)
    return parser.parse_args()


# ---- the original's loop -----------------------------------------------------------------------

class OriginalStep:
    """The original's training graph for one model configuration, in a session of its own."""

    def __init__(self, tf, losses, config, seed=0):
        v1 = tf.compat.v1
        self.graph = tf.Graph()
        with self.graph.as_default():
            v1.set_random_seed(seed)
            self.inputs = v1.placeholder(tf.float32, [None, INPUT_DIM], name="inputs")
            self.targets = v1.placeholder(tf.float32, [None, OUTPUT_DIM], name="targets")
            self.keep_prob = v1.placeholder(tf.float32, name="keep_prob")
            self.update_ops = []
            features = self._unit(tf, self.inputs, config, "input")
            for block in range(config.blocks):
                hidden = self._unit(tf, features, config, f"block{block}_a")
                features = features + self._unit(tf, hidden, config, f"block{block}_b")
            kernels = config.num_kernels
            mu = tf.reshape(self._linear(tf, features, OUTPUT_DIM * kernels, "means", config.max_norm),
                            [-1, kernels, OUTPUT_DIM])
            sigma = tf.nn.elu(self._linear(tf, features, kernels, "sigmas", config.max_norm)) + 1.0
            alpha = tf.nn.softmax(self._linear(tf, features, kernels, "mixing", max_norm=False))
            self.loss = (losses.mixture_nll(self.targets, mu, sigma, alpha)
                         + losses.dirichlet_prior(alpha, config.dirichlet_beta))
            global_step = tf.Variable(0, trainable=False, name="global_step")
            learning_rate = v1.train.exponential_decay(1e-3, global_step, 100_000, 0.96, staircase=False)
            optimizer = v1.train.AdamOptimizer(learning_rate)
            with tf.control_dependencies(self.update_ops):
                self.train_op = optimizer.minimize(self.loss, global_step=global_step)
            self.session = v1.Session(graph=self.graph)
            self.session.run(v1.global_variables_initializer())

    def _linear(self, tf, x, units, name, max_norm):
        fan_in = int(x.shape[-1])
        init = tf.compat.v1.truncated_normal_initializer(stddev=math.sqrt(2.0 / fan_in))
        w = tf.compat.v1.get_variable(f"{name}/w", [fan_in, units], initializer=init)
        b = tf.compat.v1.get_variable(f"{name}/b", [units], initializer=init)
        return tf.matmul(x, tf.clip_by_norm(w, 1.0) if max_norm else w) + b

    def _unit(self, tf, x, config, name):
        """Linear, batch norm (batch moments; moving averages as update ops), ReLU, dropout."""
        v1 = tf.compat.v1
        y = self._linear(tf, x, config.width, name, config.max_norm)
        gamma = v1.get_variable(f"{name}/gamma", [config.width], initializer=v1.ones_initializer())
        beta = v1.get_variable(f"{name}/beta", [config.width], initializer=v1.zeros_initializer())
        moving_mean = v1.get_variable(f"{name}/moving_mean", [config.width], trainable=False,
                                      initializer=v1.zeros_initializer())
        moving_variance = v1.get_variable(f"{name}/moving_variance", [config.width], trainable=False,
                                          initializer=v1.ones_initializer())
        mean, variance = tf.nn.moments(y, axes=[0])
        self.update_ops += [v1.assign_sub(moving_mean, (moving_mean - mean) * 0.01),
                            v1.assign_sub(moving_variance, (moving_variance - variance) * 0.01)]
        y = tf.nn.relu(tf.nn.batch_normalization(y, mean, variance, beta, gamma, 1e-3))
        return tf.nn.dropout(y, rate=1.0 - self.keep_prob)

    def epoch(self, x, y, batch_size, rng):
        """One epoch as the original runs it: shuffle, split into batches, one `run` per batch."""
        order = rng.permutation(len(x))
        batches = len(x) // batch_size
        for inputs, targets in zip(np.split(x[order][:batches * batch_size], batches),
                                   np.split(y[order][:batches * batch_size], batches)):
            self.session.run([self.loss, self.train_op],
                             {self.inputs: inputs, self.targets: targets, self.keep_prob: 0.5})


# ---- one measurement (in its own process) -------------------------------------------------------

def measure(way, config_name, batch_size, seconds):
    """Samples per second of one way, over an epoch sized to last about `seconds`."""
    from mdnlib import losses, models, train

    config, rng = models.PRESETS[config_name], np.random.default_rng(0)
    if way == "original":
        import tensorflow as tf
        step = OriginalStep(tf, losses, config)

        def run(x, y):
            step.epoch(x, y, batch_size, rng)
    else:
        calls = train.steps_per_execution(batch_size)
        model = train.compile_model(models.build_model(config, seed=0), batch_size=batch_size, steps=calls)

        def run(x, y):
            model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)

    def timed_epoch(steps):
        x = rng.normal(size=(steps * batch_size, INPUT_DIM)).astype(np.float32)
        y = rng.normal(size=(steps * batch_size, OUTPUT_DIM)).astype(np.float32)
        start = time.perf_counter()
        run(x, y)
        return steps * batch_size / (time.perf_counter() - start)

    unit = 1 if way == "original" else train.steps_per_execution(batch_size)
    timed_epoch(2 * unit)                                  # compiles (the same shapes as below)
    rate = timed_epoch(4 * unit)                           # sizes the measured epoch
    steps = max(4, round(rate * seconds / batch_size / unit)) * unit
    return timed_epoch(steps)


def measure_in_a_new_process(way, config_name, batch_size, seconds):
    backend = "tensorflow" if way == "original" else way
    result = subprocess.run([sys.executable, __file__, "--worker", way, str(batch_size), "--config", config_name,
                             "--seconds", str(seconds)], capture_output=True, text=True,
                            env={**os.environ, "KERAS_BACKEND": backend})
    if result.returncode != 0:
        raise RuntimeError(f"{way} at batch {batch_size} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["samples_per_second"]


def main():
    args = parse_args()
    if args.worker:
        from mdnlib.config import import_keras
        import_keras()
        way, batch_size = args.worker[0], int(args.worker[1])
        print(json.dumps({"samples_per_second": measure(way, args.config, batch_size, args.seconds)}))
        return 0
    ways, batches = args.ways.split(","), [int(b) for b in args.batches.split(",")]
    print(f"{os.cpu_count()} CPUs; {args.config} MDN; {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    rates = {}
    for round_number in range(args.rounds):
        for batch_size in batches:
            for way in ways:
                rate = measure_in_a_new_process(way, args.config, batch_size, args.seconds)
                rates.setdefault((way, batch_size), []).append(rate)
                print(f"round {round_number + 1}, batch {batch_size}, {way}: {rate:,.0f} samples/s", flush=True)
    print("\nmedian samples/s" + "".join(f" | {way}" for way in ways))
    for batch_size in batches:
        medians = {way: statistics.median(rates[way, batch_size]) for way in ways}
        cells = [f"{medians[way]:,.0f}" + (f" ({medians[way] / medians['original']:.2f}x)"
                                           if "original" in medians and way != "original" else "")
                 for way in ways]
        print(f"batch {batch_size} | " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
