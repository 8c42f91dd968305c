"""A model trained and saved on one Keras backend loads and predicts the same on the other
(TensorFlow <-> JAX). Each side runs in its own process: a backend is chosen at start-up."""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mdnlib.config import PROJECT_DIR
from mdnlib.runs import read_history
from toy_problem import DATA

BACKENDS = ("tensorflow", "jax")
pytestmark = pytest.mark.skipif(any(importlib.util.find_spec(b) is None for b in BACKENDS),
                                reason="needs both TensorFlow and JAX (pip install -e '.[jax]')")

TRAIN = DATA + """
import sys
from mdnlib import models, train
config = models.ModelConfig(width=32, blocks=1, num_kernels=3, miss_num=1, max_norm=True)
train.train(config, x[:512], y[:512], x[:64], y[:64], normalizer, sys.argv[1], epochs=2, batch_size=64, verbose=0)
"""

PREDICT = """
import sys
import numpy as np
from mdnlib import models
model = models.load_model(sys.argv[1] + "/final.keras")
x = np.random.default_rng(1).normal(size=(16, 32)).astype("float32")
mu, sigma, alpha = models.predict_mixture(model, x)
np.savez(sys.argv[2], mu=mu, sigma=sigma, alpha=alpha)
"""


def run(code, backend, *args):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=300, env={**os.environ, "KERAS_BACKEND": backend})
    assert result.returncode == 0, f"{backend}: {result.stderr[-3000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("trained_on", BACKENDS)
def test_a_model_trained_on_one_backend_predicts_the_same_on_the_other(tmp_path, trained_on):
    other = next(b for b in BACKENDS if b != trained_on)
    run(TRAIN, trained_on, tmp_path / "run")
    outputs = {}
    for backend in (trained_on, other):
        run(PREDICT, backend, tmp_path / "run", tmp_path / f"{backend}.npz")
        with np.load(tmp_path / f"{backend}.npz") as arrays:
            outputs[backend] = dict(arrays)
    for key in ("mu", "sigma", "alpha"):
        np.testing.assert_allclose(outputs[other][key], outputs[trained_on][key], rtol=1e-4, atol=1e-5)
    assert not np.allclose(outputs[other]["alpha"], 1 / 3)     # a trained model, not a constant


@pytest.mark.slow
def test_a_run_started_on_tensorflow_resumes_on_jax(tmp_path):
    resume = TRAIN.replace("epochs=2", "epochs=int(sys.argv[2])")
    run(resume, "tensorflow", tmp_path / "run", 1)
    first = read_history(tmp_path / "run")
    run(resume, "jax", tmp_path / "run", 2)
    history = read_history(tmp_path / "run")
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[0] == first[0]                            # epoch 1 kept: resumed, not started anew
    assert json.loads((tmp_path / "run" / "run.json").read_text())["backend"] == "jax"
