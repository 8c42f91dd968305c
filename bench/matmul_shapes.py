"""The products of a training step, shape by shape (why `mdnlib.models.dense` has its own gradient).

    .venv/bin/python bench/matmul_shapes.py [--widths 512,1024] [--rows 64,128,256,512,1024,4096]

For a layer of `width` x `width` and a batch of `rows`, prints the single-precision rate
(GFLOP/s) of the forward product x @ W, of the weight gradient x^T @ dy, and of the input
gradient in its two forms: the usual dy @ W^T (TensorFlow folds the transpose into the
product) and (W @ dy^T)^T, the same numbers. On the CPUs measured here the usual form ran at
a third of the others' rate for small batches; `dense` uses the second form when a batch has
at most half as many rows as the layer has units.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_speed import product_rate  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--widths", default="512,1024", help="layer widths (comma-separated)")
    parser.add_argument("--rows", default="64,128,256,512,1024,4096", help="batch sizes (comma-separated)")
    args = parser.parse_args()
    from mdnlib.config import import_tensorflow

    tf = import_tensorflow()
    products = {
        "x @ W": lambda x, w, dy: tf.matmul(x, w),
        "x^T @ dy": lambda x, w, dy: tf.matmul(x, dy, transpose_a=True),
        "dy @ W^T (usual)": lambda x, w, dy: tf.matmul(dy, w, transpose_b=True),
        "(W @ dy^T)^T": lambda x, w, dy: tf.transpose(tf.matmul(w, dy, transpose_b=True)),
    }
    print(f"{os.cpu_count()} CPUs; GFLOP/s of each product")
    print(f"{'width':>6} {'rows':>6} " + " ".join(f"{name:>17}" for name in products))
    for width in map(int, args.widths.split(",")):
        for rows in map(int, args.rows.split(",")):
            operands = (tf.random.normal((rows, width)), tf.random.normal((width, width)),
                        tf.random.normal((rows, width)))
            rates = [product_rate(tf, product, operands, 2 * rows * width * width)
                     for product in products.values()]
            print(f"{width:>6} {rows:>6} " + " ".join(f"{rate:>17.0f}" for rate in rates), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
