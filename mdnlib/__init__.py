"""mdnlib: the helper package of the course "Multiple hypotheses for 3D human pose estimation
with Mixture Density Networks" (Li & Lee, CVPR 2019).

Importing mdnlib is light (no Keras); modules that need Keras import it, with its backend,
quietly through `mdnlib.config.import_keras`.
"""
from mdnlib.config import is_quick, setup_notebook

__version__ = "0.1.0"
__all__ = ["is_quick", "setup_notebook", "__version__"]
