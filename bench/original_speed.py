"""Our training against the original's way of training, on the same machine (README, "Speed").

    .venv/bin/python bench/original_speed.py [--batches 64,256] [--seconds 10] [--rounds 2]

The original code (TensorFlow 1) builds a static graph and calls `session.run` once per batch,
feeding NumPy arrays through placeholders. That code no longer runs on today's TensorFlow
(`tf.layers` is gone), so this script rebuilds its training step with `tf.compat.v1`, the way it
was written: every weight matrix clipped with `tf.clip_by_norm(w, 1)` in the forward pass (the
mixing head excepted), batch norm from its batch moments with moving averages updated before
the optimizer step, dropout with a keep-probability of 0.5, the mixture NLL plus the Dirichlet
prior (`mdnlib.losses`, the same formulas), `tf.train.AdamOptimizer` with the decayed learning
rate, and batches made per epoch by a NumPy permutation and `np.split`. It leaves out the
original's per-step summary ops, so if anything the reference here is faster than the original.

Both ways train the paper's MDN (width 1024, 2 blocks, 5 kernels) on the same random data,
in alternating rounds (a shared machine's speed drifts), and the script prints samples/s for each
and their ratio: the best of --rounds measurements per way and batch size.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_speed import measure  # noqa: E402

INPUT_DIM, OUTPUT_DIM = 32, 48


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", default="64,256", help="batch sizes (comma-separated)")
    parser.add_argument("--seconds", type=float, default=10.0, help="training time per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="measurements per way and batch size")
    return parser.parse_args()


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

    def train(self, x, y, batch_size, rng):
        """One epoch as the original runs it: shuffle, split into batches, one `run` per batch."""
        order = rng.permutation(len(x))
        batches = len(x) // batch_size
        for inputs, targets in zip(np.split(x[order][:batches * batch_size], batches),
                                   np.split(y[order][:batches * batch_size], batches)):
            self.session.run([self.loss, self.train_op],
                             {self.inputs: inputs, self.targets: targets, self.keep_prob: 0.5})


def measure_original(step, batch_size, seconds, rng):
    """Samples per second of the original's loop over an epoch sized to last about `seconds`."""
    def epoch(steps):
        x = rng.normal(size=(steps * batch_size, INPUT_DIM)).astype(np.float32)
        y = rng.normal(size=(steps * batch_size, OUTPUT_DIM)).astype(np.float32)
        start = time.perf_counter()
        step.train(x, y, batch_size, rng)
        return steps * batch_size / (time.perf_counter() - start)

    rate = epoch(20)                                      # warms up, and sizes the epoch
    return epoch(max(20, round(rate * seconds / batch_size)))


def main():
    args = parse_args()
    from mdnlib import losses, models, train
    from mdnlib.config import import_tensorflow

    tf = import_tensorflow()
    config, rng = models.PAPER, np.random.default_rng(0)
    original = OriginalStep(tf, losses, config)
    print(f"{os.cpu_count()} CPUs; paper MDN, {config.width} wide, {config.blocks} blocks")
    best = {}
    for round_number in range(args.rounds):
        for batch_size in map(int, args.batches.split(",")):
            rates = {"original": measure_original(original, batch_size, args.seconds, rng),
                     "mdnlib": measure(models, train, config, batch_size, args.seconds)}
            for way, rate in rates.items():
                best[way, batch_size] = max(best.get((way, batch_size), 0.0), rate)
            print(f"round {round_number + 1}, batch {batch_size}: original's loop {rates['original']:,.0f} "
                  f"samples/s, mdnlib {rates['mdnlib']:,.0f}", flush=True)
    for batch_size in map(int, args.batches.split(",")):
        ours, theirs = best["mdnlib", batch_size], best["original", batch_size]
        print(f"batch {batch_size}: mdnlib {ours:,.0f} samples/s, the original's way {theirs:,.0f}: "
              f"{ours / theirs:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
