"""From 2D joints in pixels to M 3D pose hypotheses in mm (notebook 07; `python -m mdnlib predict`).

A trained model carries the Normalizer of its training data, so a caller gives raw pixels and
gets back millimetres: `predict_poses(model, poses_2d)` -> `Hypotheses` with
  hypotheses (N, M, 17, 3): kernel means, root-relative camera-frame mm, root joint at 0;
  weights (N, M): the mixing coefficients (they sum to 1); a baseline model gives M = 1;
  sigmas (N, M): each kernel's isotropic sigma converted to mm (`Normalizer.sigma_to_mm`), or
  (N, M, 17) for a model with one sigma per joint (0 for the root, which is not predicted).
A flow model (notebook 08) samples its hypotheses instead: as many as asked (`num_hypotheses`,
`FLOW_HYPOTHESES` by default), equal weights, and no sigmas (None), since a sample has none.
`load_trained(path)` finds the model inside a training folder; `read_poses_2d` and
`save_hypotheses` are the npz files of the `predict` command.

Pixels of another camera than the model's: give its intrinsics (fx, fy, cx, cy) and they are
mapped into the pixels of the reference camera (`mdnlib.camera.to_reference_pixels`), which
removes focal length, image size and principal point. Inputs that still look unlike the model's
training poses (centre or size far off) get an `UnusualInputWarning`.
"""
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdnlib import metrics, models, skeleton
from mdnlib.camera import to_reference_pixels
from mdnlib.config import pretrained_dir
from mdnlib.dataset import read_npz, save_npz
from mdnlib.runs import RunFolder

# Plausible 2D input, in pixels of an H36M-like camera (1000 x 1000 images): coordinates at most
# one image size outside the image, and poses at least this wide or tall (a person far away in
# Human3.6M spans about 150 pixels).
PIXEL_RANGE = (-1000.0, 2000.0)
MIN_POSE_PX = 20.0
# A pose looks unusual to a model (`unusual_poses`) when its centre lies more than this many of the
# training data's standard deviations from their mean, or its size differs from the training mean
# pose's by more than this factor (either way). For the rig, no synthetic test pose and no CMU pose
# filmed by it is flagged, but 18% of CMU poses in raw pixels of varied cameras are (0.1% once
# their intrinsics are normalised away).
UNUSUAL_CENTRE_STD = 6.0
UNUSUAL_SIZE_FACTOR = 3.0
_INTRINSICS_HINT = ("for another camera give its intrinsics (predict --intrinsics FX FY CX CY, or an "
                    "'intrinsics' array in the input file)")

FLOW_HYPOTHESES = 50   # samples a flow draws per pose when not told how many

# Inside a training folder (see mdnlib.runs.RunFolder), the model files tried in this order.
MODEL_FILES = ("best.keras", "final.keras")


@dataclass
class Hypotheses:
    """M weighted 3D pose hypotheses per input pose, in mm."""

    hypotheses: np.ndarray   # (N, M, 17, 3) root-relative camera-frame mm
    weights: np.ndarray      # (N, M), sum to 1 over M
    sigmas: np.ndarray       # (N, M) mm, or (N, M, 17) mm with one sigma per joint; None for samples

    def most_likely(self):
        """The hypothesis with the largest weight per pose: (N, 17, 3) mm."""
        return self.hypotheses[np.arange(len(self.weights)), metrics.most_likely_kernel(self.weights)]


def find_model_file(path):
    """The .keras file a `--load_dir` means: the file itself, or the best/final model in a folder."""
    path = Path(path)
    if path.is_file():
        if path.suffix != ".keras":
            raise ValueError(f"{path}: expected a .keras model file (written by "
                             "'python -m mdnlib train') or its training folder")
        return path
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file or training folder; train one with "
                                f"'python -m mdnlib train --train_dir {path}'")
    for name in MODEL_FILES:
        if (path / name).is_file():
            unfinished = RunFolder(path).unfinished()
            if unfinished:
                warnings.warn(f"{path}: its training stopped after {unfinished[0]} of {unfinished[1]} epochs; "
                              f"using {name} of that unfinished run (rerun the training to finish it)")
            return path / name
    found = sorted(path.glob("*.keras"))
    if len(found) == 1:
        return found[0]
    expected = ", ".join(MODEL_FILES)
    raise FileNotFoundError(f"{path}: no trained model inside (expected one of {expected}, as "
                            "'python -m mdnlib train --train_dir DIR' writes them"
                            + (f"; found several .keras files: name one of {', '.join(f.name for f in found)}"
                               if found else "") + ")")


def find_pretrained(name):
    """The pretrained model `name` in data/pretrained (a training folder or `name`.keras), or None.

    Notebooks use it through `mdnlib.train.load_or_train`.
    """
    found = [p for p in (pretrained_dir() / name, pretrained_dir() / f"{name}.keras") if p.exists()]
    return found[0] if found else None


def load_trained(path):
    """Load a trained model from a .keras file or a training folder (see `find_model_file`)."""
    return models.load_model(find_model_file(path))


def training_run(path):
    """The settings of the training run a model comes from (its folder's run.json), or {}."""
    path = Path(path)
    run_file = (path if path.is_dir() else path.parent) / "run.json"
    if not run_file.is_file():
        return {}
    try:
        run = json.loads(run_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        run = error
    if not isinstance(run, dict):
        reason = f"not readable JSON ({run})" if isinstance(run, Exception) else "not a JSON object"
        raise ValueError(f"{run_file}: {reason}. It records the training data for 'test' and 'sample': "
                         "restore it, or delete it and name the data with --data (and --data_dir)")
    return run


def predict_poses(model, poses_2d, batch_size=4096, intrinsics=None, num_hypotheses=None, seed=0):
    """Hypotheses for 2D poses (N, 16, 2) in pixels, 16-joint input order.

    Pixels of an H36M-like camera, or of any camera whose `intrinsics` (fx, fy, cx, cy in pixels:
    (4,), or (N, 4) one camera per pose) are given: they are mapped into the reference camera's
    pixels first. Poses unlike the model's training poses get an `UnusualInputWarning`.
    `num_hypotheses` and `seed`: for a flow, how many samples per pose and their noise (see
    `predict_normalized`).
    """
    poses_2d = check_poses_2d(poses_2d, intrinsics=intrinsics)
    normalizer = model_normalizer(model)
    warn_unusual_poses(poses_2d, normalizer)
    return predict_normalized(model, normalizer.normalize_2d(poses_2d), batch_size=batch_size,
                              num_hypotheses=num_hypotheses, seed=seed)


def predict_normalized(model, x, batch_size=4096, num_hypotheses=None, seed=0):
    """Hypotheses for already normalised inputs (N, 32), e.g. a test split with hidden joints.

    A flow draws `num_hypotheses` samples per input (default `FLOW_HYPOTHESES`) from noise seeded
    by `seed`; an MDN or the baseline has a fixed number of hypotheses, so asking for a number
    is refused.
    """
    if model.model_config.kind == "flow":
        count = FLOW_HYPOTHESES if num_hypotheses is None else num_hypotheses   # 0 is refused, not 50
        samples = models.sample_flow(model, x, count, seed=seed, batch_size=2 * batch_size)
        return hypotheses_from_samples(samples, model_normalizer(model))
    if num_hypotheses is not None:
        raise ValueError(f"this {model.model_config.kind} model always gives {model.model_config.kernels} "
                         "hypothes" + ("is" if model.model_config.kernels == 1 else "es") +
                         " (its kernels); only a flow model samples as many as asked")
    mu, sigma, alpha = models.predict_mixture(model, x, batch_size=batch_size)
    return hypotheses_from_mixture(mu, sigma, alpha, model_normalizer(model))


def hypotheses_from_samples(samples, normalizer):
    """A flow's samples (N, S, 48), normalised -> Hypotheses in mm, equal weights, no sigmas."""
    samples = np.asarray(samples, dtype=np.float64)
    weights = np.full(samples.shape[:2], 1.0 / samples.shape[1])
    return Hypotheses(hypotheses=normalizer.denormalize_3d(samples), weights=weights, sigmas=None)


def hypotheses_from_mixture(mu, sigma, alpha, normalizer):
    """Network outputs in normalised units -> Hypotheses in mm.

    mu (N, M, 48), sigma (N, M) or (N, M, 16), alpha (N, M), as `models.predict_mixture` returns them.
    """
    mu, sigma, alpha = (np.asarray(a, dtype=np.float64) for a in (mu, sigma, alpha))
    per_joint = sigma.ndim == mu.ndim
    sigmas = normalizer.sigma_to_mm(sigma, per_joint=per_joint)
    if per_joint:                                # the 16 output joints -> all 17, root at 0
        sigmas = np.insert(sigmas, skeleton.ROOT, 0.0, axis=-1)
    return Hypotheses(hypotheses=normalizer.denormalize_3d(mu),
                      weights=alpha / alpha.sum(axis=-1, keepdims=True), sigmas=sigmas)


def model_normalizer(model):
    """The Normalizer of a model's training data, stored in the model."""
    normalizer = model.normalizer
    if normalizer is None:
        raise ValueError(f"model {model.name} carries no normalisation statistics; build it with "
                         "models.build_model(config, normalizer=...) before training")
    return normalizer


class TinyPoseWarning(UserWarning):
    """Some 2D input poses are only a few pixels wide: their hypotheses mean nothing."""


class UnusualInputWarning(UserWarning):
    """Some 2D input poses are centred or sized unlike the model's training poses (pixels of
    another camera?): their hypotheses are unreliable."""


def check_intrinsics(intrinsics, num_poses, origin="intrinsics"):
    """A camera's fx, fy, cx, cy in pixels as float64: (4,) for every pose, or (N, 4) one row per
    pose; a ValueError names `origin` and what is wrong."""
    values = np.asarray(intrinsics)
    if values.dtype.kind not in "iuf":
        raise ValueError(f"{origin}: expected numbers fx, fy, cx, cy (pixels), found {values.dtype} values")
    values = values.astype(np.float64)
    if values.shape not in {(4,), (num_poses, 4)}:
        raise ValueError(f"{origin}: expected fx, fy, cx, cy: 4 numbers, or ({num_poses}, 4) with one row "
                         f"per pose, got shape {values.shape}")
    if not np.all(np.isfinite(values)) or np.any(values[..., :2] <= 0):
        raise ValueError(f"{origin}: focal lengths fx, fy must be positive and every value finite "
                         "(pixels, as a calibration gives them)")
    return values


def check_poses_2d(poses_2d, origin="2D poses", intrinsics=None):
    """Validate 2D input: (N, 16, 2) finite pixels of an H36M-like camera (one (16, 2) pose is
    accepted), or of a camera with the given `intrinsics` (fx, fy, cx, cy; see `check_intrinsics`):
    those are mapped into the reference camera's pixels first, and returned so.

    Numbers far outside the image (`PIXEL_RANGE`) are refused, as are inputs whose every pose is
    only a few pixels wide (normalised coordinates, not pixels); if only some poses are that
    small (a failed detection, all joints at 0), a warning names them. The network would return
    confident nonsense for any of these.
    """
    poses_2d = np.asarray(poses_2d)
    if poses_2d.dtype.kind not in "iuf":
        raise ValueError(f"{origin}: expected numbers (pixels), found {poses_2d.dtype} values")
    poses_2d = poses_2d.astype(np.float64)
    if poses_2d.shape == (16, 2):
        poses_2d = poses_2d[None]
    if poses_2d.ndim != 3 or poses_2d.shape[1:] != (16, 2):
        hint = (" (17 joints: drop Neck/Nose, index 9, to get the 16-joint input order)"
                if poses_2d.shape[-2:] == (17, 2) else "")
        raise ValueError(f"{origin}: expected (N, 16, 2) pixels in the 16-joint input order, "
                         f"got shape {poses_2d.shape}{hint}")
    if len(poses_2d) == 0:
        raise ValueError(f"{origin}: no poses (N = 0)")
    bad = np.flatnonzero(~np.isfinite(poses_2d).all(axis=(1, 2)))
    if bad.size:
        raise ValueError(f"{origin}: {bad.size} of {len(poses_2d)} poses contain NaN or infinite "
                         f"values (first: pose {bad[0]}); fill or drop missing detections first")
    if intrinsics is not None:
        poses_2d = to_reference_pixels(poses_2d, check_intrinsics(intrinsics, len(poses_2d), f"{origin}, intrinsics"))
    low, high = PIXEL_RANGE
    outside = np.flatnonzero(((poses_2d < low) | (poses_2d > high)).any(axis=(1, 2)))
    if outside.size:
        raise ValueError(f"{origin}: {outside.size} of {len(poses_2d)} poses reach beyond {low} to {high} "
                         f"pixels (first: pose {outside[0]}, {np.abs(poses_2d[outside[0]]).max():.3g}); "
                         "expected pixels of an H36M-like camera (images of 1000 x 1000); "
                         + ("check the intrinsics" if intrinsics is not None else _INTRINSICS_HINT))
    size = np.ptp(poses_2d, axis=1).max(axis=1)
    tiny = np.flatnonzero(size < MIN_POSE_PX)
    if tiny.size == len(poses_2d):
        raise ValueError(f"{origin}: every pose is under {MIN_POSE_PX} pixels wide and tall (largest "
                         f"{size.max():.3g}): normalised coordinates? expected pixels of an H36M-like "
                         "camera, where a person spans 150 to 600 pixels")
    if tiny.size:
        warnings.warn(f"{origin}: {tiny.size} of {len(poses_2d)} poses are under {MIN_POSE_PX} pixels "
                      f"wide and tall (first: pose {tiny[0]}), failed detections? their hypotheses mean "
                      "nothing", TinyPoseWarning, stacklevel=2)
    return poses_2d


def unusual_poses(poses_2d, normalizer):
    """Indices of the poses (N, 16, 2) px whose centre or size lies far from the training poses
    that `normalizer` summarises (`UNUSUAL_CENTRE_STD`, `UNUSUAL_SIZE_FACTOR`; poses under
    `MIN_POSE_PX` are left to `check_poses_2d`), and a phrase that says what those are like."""
    mean = np.asarray(normalizer.mean_2d).reshape(16, 2)
    spread = np.asarray(normalizer.std_2d).reshape(16, 2).mean(axis=0)   # about the centre's std
    centre, size = mean.mean(axis=0), np.ptp(mean, axis=0).max()
    poses_2d = np.asarray(poses_2d, dtype=np.float64)
    sizes = np.ptp(poses_2d, axis=1).max(axis=1)
    off_centre = (np.abs(poses_2d.mean(axis=1) - centre) > UNUSUAL_CENTRE_STD * spread).any(axis=1)
    off_size = (sizes > size * UNUSUAL_SIZE_FACTOR) | (sizes < size / UNUSUAL_SIZE_FACTOR)
    low, high = centre - UNUSUAL_CENTRE_STD * spread, centre + UNUSUAL_CENTRE_STD * spread
    usual = (f"its training poses are centred within x {low[0]:.0f} to {high[0]:.0f} and y {low[1]:.0f} "
             f"to {high[1]:.0f} px and span about {size:.0f} px")
    return np.flatnonzero((off_centre | off_size) & (sizes >= MIN_POSE_PX)), usual


def warn_unusual_poses(poses_2d, normalizer, origin="2D poses"):
    """An `UnusualInputWarning` naming the poses that `unusual_poses` finds; returns their indices."""
    unusual, usual = unusual_poses(poses_2d, normalizer)
    if unusual.size:
        first = np.asarray(poses_2d[unusual[0]], dtype=np.float64)
        centre, size = first.mean(axis=0), np.ptp(first, axis=0).max()
        warnings.warn(f"{origin}: {unusual.size} of {len(poses_2d)} poses do not look like pixels of the "
                      f"model's camera (first: pose {unusual[0]}, centred at ({centre[0]:.0f}, {centre[1]:.0f}) "
                      f"px, {size:.0f} px across; {usual}); {_INTRINSICS_HINT}; their hypotheses are "
                      "unreliable", UnusualInputWarning, stacklevel=3)
    return unusual


def read_poses_2d(path, intrinsics=None):
    """The `poses_2d` array of a `predict` input file, validated; in the reference camera's pixels
    when the camera's intrinsics (fx, fy, cx, cy) are known, given here or as the file's own
    `intrinsics` array ((4,) or (N, 4)); both at once are refused."""
    path = Path(path)
    arrays = read_npz(path, what="input file", expected="an .npz with poses_2d (N, 16, 2) pixels")
    if "poses_2d" not in arrays:
        raise ValueError(f"{path}: no array 'poses_2d' (found: {', '.join(arrays) or 'nothing'}); "
                         "expected poses_2d (N, 16, 2) pixels in the 16-joint input order")
    if "intrinsics" in arrays:
        if intrinsics is not None:
            raise ValueError(f"{path}: holds its own 'intrinsics' and --intrinsics gives others: "
                             "give the camera once")
        intrinsics = arrays["intrinsics"]
    return check_poses_2d(arrays["poses_2d"], origin=f"{path}: poses_2d", intrinsics=intrinsics)


def save_hypotheses(result, path):
    """Write Hypotheses to exactly `path`, atomically, as an npz: hypotheses (N, M, 17, 3) mm,
    weights (N, M), sigmas (N, M) or, per joint, (N, M, 17) mm (float32); a flow's samples have
    no sigmas, so the file has none."""
    arrays = {"hypotheses": result.hypotheses, "weights": result.weights}
    if result.sigmas is not None:
        arrays["sigmas"] = result.sigmas
    save_npz(path, {name: values.astype(np.float32) for name, values in arrays.items()})
    return Path(path)
