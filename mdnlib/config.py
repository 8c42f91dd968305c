"""Paths, quick mode, and a quiet Keras import (notebook 00).

`MDNLIB_QUICK=1` shrinks every notebook and example to a fast run (the tests use it);
`MDNLIB_DATA_DIR` moves the data folder (default: `data/` beside the package).
"""
import contextlib
import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Real CMU motion capture shipped with the course: 12 xz-compressed files of subjects 01 and 02
CMU_SAMPLE_DIR = PROJECT_DIR / "data" / "cmu-sample"


def data_dir():
    """Folder for caches and pretrained checkpoints."""
    return Path(os.environ.get("MDNLIB_DATA_DIR", PROJECT_DIR / "data"))


def cache_dir():
    """Folder for generated data (ignored by git)."""
    path = data_dir() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pretrained_dir():
    return data_dir() / "pretrained"


def cmu_download_dir():
    """Where `python -m mdnlib download cmu` puts subjects (ignored by git)."""
    return data_dir() / "cmu"


def cmu_dir():
    """The CMU motion capture used by default: downloaded subjects if there are any, else the
    sample shipped with the course (`CMU_SAMPLE_DIR`)."""
    downloaded = cmu_download_dir()
    return downloaded if any(downloaded.glob("*/*.asf*")) else CMU_SAMPLE_DIR


def is_quick():
    """True when MDNLIB_QUICK is set to a true value: small data, few epochs."""
    return os.environ.get("MDNLIB_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}


@contextlib.contextmanager
def _stderr_silenced():
    """Send the process's stderr (file descriptor 2) to /dev/null for a moment.

    TensorFlow's C++ start-up lines (oneDNN, absl) ignore TF_CPP_MIN_LOG_LEVEL and are written
    straight to fd 2, which Jupyter shows as red boxes; silencing the import keeps oneDNN on.
    """
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_keras():
    """Import Keras (and its backend) without start-up log noise; returns the keras module.

    The backend is Keras's own choice: TensorFlow unless `KERAS_BACKEND` (or ~/.keras/keras.json)
    names another, e.g. `KERAS_BACKEND=jax` (README, "Backends"). TensorFlow, when installed, is
    imported here too whatever the backend: Keras imports it later anyway (to seed it, for
    instance), and then its start-up lines would show.
    """
    import importlib.util
    import sys
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_silenced():
        if importlib.util.find_spec("tensorflow") is not None:
            import tensorflow as tf
            tf.constant(0.0) + 0.0  # its first op starts the runtime, which logs again
            tf.get_logger().setLevel("ERROR")
        import keras
        keras.ops.add(keras.ops.zeros(()), 0.0)  # so does the backend's first op
    return keras


def set_seed(seed):
    """Seed Python, NumPy and (if loaded) Keras and its backend."""
    import random
    import sys

    import numpy as np
    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)


def setup_notebook(seed=0, keras=True):
    """One call at the top of every notebook: seeds, quiet Keras, plot style, versions.

    `keras=False` leaves Keras and its backend unloaded (notebooks 01-02 need none).

    Returns a dict of what was set up (quick mode, versions) so the notebook can print it.
    """
    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np

    info = {"quick": is_quick(), "numpy": np.__version__, "matplotlib": matplotlib.__version__}
    if keras:
        keras_module = import_keras()
        backend = keras_module.config.backend()
        info.update(keras=keras_module.__version__, backend=backend,
                    **{backend: __import__(backend).__version__})
    set_seed(seed)
    _inline_figures()
    plt.rcParams.update({"figure.dpi": 100, "figure.figsize": (7, 4), "axes.grid": True,
                         "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False})
    return info


def _inline_figures():
    """In a notebook, switch matplotlib's inline backend on now, so that a widget's figure shown
    before any plain pyplot figure is drawn as an image and not as "<Figure size ...>"."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "kernel"):
        shell.run_line_magic("matplotlib", "inline")
