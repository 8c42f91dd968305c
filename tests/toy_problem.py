"""A learnable toy problem for training tests, as code to run here or in a fresh interpreter (a
Keras backend is chosen per process): `x` (1024, 32) inputs, `y` (1024, 48) targets, a fixed
nonlinear function of the inputs, and a `normalizer` that maps them to mm."""

DATA = """
import numpy as np
from mdnlib.dataset import Normalizer
rng = np.random.default_rng(0)
x = rng.normal(size=(1024, 32)).astype("float32")
y = np.tanh(x @ rng.normal(size=(32, 48)) / 4).astype("float32")
normalizer = Normalizer.from_dict({"mean_2d": np.zeros(32), "std_2d": np.full(32, 50.0),
                                   "mean_3d": np.zeros(48), "std_3d": np.full(48, 80.0)})
"""
