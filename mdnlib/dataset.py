"""From a PoseSet to what the network sees (notebook 02).

The steps follow the original TensorFlow 1 code and 3d-pose-baseline (Martinez et al. 2017):
1. `camera_frame_arrays`: every subject/action/camera becomes examples: 2D pixels (16 input
   joints) and the 3D pose in that camera's frame, root-relative, in mm;
2. `Normalizer`: mean and std per used dimension, from the training subjects only; 2D keeps the
   32 numbers of the 16 input joints, 3D the 48 numbers of the 16 output joints (root excluded);
3. `mask_missing_joints`: hide 1 or 2 of the 8 limb joints of test inputs, after normalisation
   (`--miss_num`; during training the model's own `MissingJoints` layer does it);
`prepare` runs 1-2 on a PoseSet and `export_npz` writes the result for other tools; with
`reference_camera=True` it first maps every view's pixels into the reference camera's
(`mdnlib.camera.to_reference_pixels`), as `predict` does with a user's intrinsics.
Everything here is NumPy: training runs `fit` on these arrays, on any Keras backend.
"""
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdnlib import skeleton
from mdnlib.camera import to_reference_pixels
from mdnlib.files import atomic_path
from mdnlib.poseset import action_of

LABELS = ("subject", "sequence", "action", "camera", "frame")
_CHUNK = 200_000  # rows per step when computing statistics, to keep memory flat


def camera_frame_arrays(poseset, subjects, reference_camera=False):
    """Examples of `subjects` over every action and camera, in that nesting order.

    Returns a dict of per-example arrays:
      pose_2d (N, 16, 2) px, input order; pose_3d_cam (N, 17, 3) camera-frame mm, root-relative
      (the root joint is exactly 0); root_cam (N, 3) the root's camera-frame position in mm
      (what root-relative poses forget, kept for multi-view work); subject, sequence (the
      PoseSet key, e.g. "Walking 1"), action (its action, e.g. "Walking", see
      `poseset.action_of`), camera (strings) and frame (int, index in the action's sequence), so that the views of one
      moment can be found again. reference_camera: give pose_2d in the pixels of the reference
      camera (`mdnlib.camera.REFERENCE_INTRINSICS`), mapped with each view's own fx, fy, cx, cy.
    """
    parts = {key: [] for key in ("pose_2d", "pose_3d_cam", "root_cam", *LABELS)}
    for subject in subjects:
        if subject not in poseset.poses_3d:
            raise KeyError(f"subject {subject!r} is not in the {poseset.source} PoseSet; "
                           f"it has {', '.join(poseset.subjects) or 'no subjects'}")
        for sequence in sorted(poseset.poses_3d[subject]):
            world = poseset.poses_3d[subject][sequence]
            views = poseset.poses_2d.get(subject, {}).get(sequence, {})
            for camera_id in sorted(views):
                camera = poseset.cameras[subject][camera_id]
                pose_cam = camera.world_to_camera(world)
                root = pose_cam[:, skeleton.ROOT]
                n = len(world)
                pose_2d = views[camera_id]
                if reference_camera:
                    pose_2d = to_reference_pixels(pose_2d, np.concatenate([camera.f, camera.c]))
                parts["pose_2d"].append(np.asarray(pose_2d, dtype=np.float32))
                parts["pose_3d_cam"].append((pose_cam - root[:, None]).astype(np.float32))
                parts["root_cam"].append(root.astype(np.float32))
                parts["subject"].append(np.full(n, subject))
                parts["sequence"].append(np.full(n, sequence))
                parts["action"].append(np.full(n, action_of(sequence)))
                parts["camera"].append(np.full(n, camera_id))
                parts["frame"].append(np.arange(n))
    empty = {"pose_2d": np.zeros((0, 16, 2), np.float32), "pose_3d_cam": np.zeros((0, 17, 3), np.float32),
             "root_cam": np.zeros((0, 3), np.float32), "frame": np.zeros(0, int),
             **{key: np.zeros(0, str) for key in ("subject", "sequence", "action", "camera")}}
    return {key: np.concatenate(values) if values else empty[key] for key, values in parts.items()}


class Normalizer:
    """Z-scoring of the network's inputs and outputs, with statistics from training data only.

    2D: pixels (..., 16, 2) <-> 32 numbers; 3D: root-relative mm (..., 17, 3) <-> 48 numbers of
    the 16 non-root joints, as in Martinez et al. 2017. Every model stores its Normalizer
    (`to_dict`), so that a prediction is always un-normalised with the statistics it was trained
    with.
    """

    KEYS = {"mean_2d": 32, "std_2d": 32, "mean_3d": 48, "std_3d": 48}

    def __init__(self, mean_2d=None, std_2d=None, mean_3d=None, std_3d=None):
        self.mean_2d, self.std_2d, self.mean_3d, self.std_3d = mean_2d, std_2d, mean_3d, std_3d

    def fit(self, pose_2d, pose_3d):
        """Statistics of training examples: pose_2d (N, 16, 2) px, pose_3d (N, 17, 3) root-relative mm."""
        x = _flat_2d(pose_2d)
        y = _flat_3d(pose_3d)
        if len(x) == 0 or len(y) == 0:
            raise ValueError("no training examples to compute normalisation statistics from; "
                             "pass the Normalizer of a training set instead (e.g. the synthetic one)")
        self.mean_2d, self.std_2d = _mean_std(x)
        self.mean_3d, self.std_3d = _mean_std(y)
        for key, names in (("std_2d", _dimension_names(skeleton.INPUT_16, "xy")),
                           ("std_3d", _dimension_names(skeleton.OUTPUT_16, "xyz"))):
            constant = [names[i] for i in np.flatnonzero(getattr(self, key) == 0)]
            if constant:
                raise ValueError(f"training data never vary in {', '.join(constant)}: "
                                 "cannot z-score a constant coordinate")
        return self

    def normalize_2d(self, pose_2d):
        """Pixels (..., 16, 2) -> z-scored (..., 32) float32."""
        self._check_fitted()
        return ((_flat_2d(pose_2d) - self.mean_2d) / self.std_2d).astype(np.float32)

    def denormalize_2d(self, x):
        """Z-scored (..., 32) -> pixels (..., 16, 2), e.g. to draw a network input."""
        self._check_fitted()
        x = _last_axis(x, 32, "normalised 2D input")
        return (x * self.std_2d + self.mean_2d).reshape(*x.shape[:-1], 16, 2).astype(np.float32)

    def normalize_3d(self, pose_3d):
        """Root-relative camera-frame mm (..., 17, 3) -> z-scored (..., 48) float32."""
        self._check_fitted()
        return ((_flat_3d(pose_3d) - self.mean_3d) / self.std_3d).astype(np.float32)

    def denormalize_3d(self, y):
        """Z-scored (..., 48) -> root-relative mm (..., 17, 3), the root put back at 0.

        Works on any leading axes, e.g. hypotheses (N, M, 48) -> (N, M, 17, 3).
        """
        self._check_fitted()
        y = _last_axis(y, 48, "normalised 3D output")
        joints = (y * self.std_3d + self.mean_3d).reshape(*y.shape[:-1], 16, 3)
        pose = np.zeros((*y.shape[:-1], skeleton.NUM_JOINTS, 3), dtype=np.float32)
        pose[..., skeleton.OUTPUT_16, :] = joints
        return pose

    def sigma_to_mm(self, sigma, per_joint=False):
        """A kernel's isotropic sigma in normalised units -> mm.

        In normalised units every coordinate d has been divided by its own std_3d[d] (mm), so one
        sigma s means a std of s * std_3d[d] mm along coordinate d: not isotropic in mm. We report
        the isotropic sigma in mm with the same expected squared distance,
        s_mm = s * sqrt(mean_d std_3d[d]^2) (the RMS of the 48 stds), so that
        E||y - mu||^2 = 48 s_mm^2 holds in mm as it does in normalised units. With `per_joint`,
        sigma is (..., 16), one per output joint, and each uses the RMS of its joint's 3 stds.
        """
        self._check_fitted()
        sigma = np.asarray(sigma, dtype=np.float64)
        if per_joint:
            return sigma * np.sqrt(np.mean(self.std_3d.reshape(16, 3) ** 2, axis=1))
        return sigma * np.sqrt(np.mean(self.std_3d ** 2))

    def same_as(self, other):
        """True when `other` holds the same statistics (data normalised by one suits the other)."""
        return all(np.allclose(getattr(self, key), getattr(other, key)) for key in self.KEYS)

    def to_dict(self):
        """The four statistics as plain float64 arrays (to store inside a model or a file)."""
        self._check_fitted()
        return {key: np.array(getattr(self, key), dtype=np.float64) for key in self.KEYS}

    @classmethod
    def from_dict(cls, stats, origin="normalizer statistics"):
        missing = [key for key in cls.KEYS if key not in stats]
        if missing:
            raise ValueError(f"{origin}: missing {', '.join(missing)}")
        arrays = {key: np.asarray(stats[key], dtype=np.float64).reshape(-1) for key in cls.KEYS}
        for key, size in cls.KEYS.items():
            if arrays[key].shape != (size,):
                raise ValueError(f"{origin}: {key} must hold {size} numbers, got {arrays[key].size}")
        return cls(**arrays)

    def save(self, path):
        save_npz(path, self.to_dict())

    @classmethod
    def load(cls, path):
        return cls.from_dict(read_npz(path), origin=str(path))

    def _check_fitted(self):
        if self.mean_2d is None:
            raise RuntimeError("this Normalizer has no statistics yet: call fit(), from_dict() or load()")


def mask_missing_joints(x, miss_num, rng):
    """Copy of normalised 2D inputs (N, 32) with `miss_num` limb joints per example set to 0.

    The paper's `--miss_num` (a no-op in the original code): per example, 1 (miss_num 1) or 2
    distinct (miss_num 2) of the 8 limb joints (`skeleton.LIMB_JOINTS`) are drawn; both their
    coordinates become 0, the training mean.
    miss_num 0 returns the inputs unchanged. rng: a numpy Generator.
    """
    x = _last_axis(x, 32, "normalised 2D input")
    _check_miss_num(miss_num)
    x = x.copy()
    if miss_num == 0 or len(x) == 0:
        return x
    flat = x.reshape(-1, 32)
    hidden = np.argsort(rng.random((len(flat), len(skeleton.LIMB_INPUT_INDICES))), axis=1)[:, :miss_num]
    joints = skeleton.LIMB_INPUT_INDICES[hidden]
    rows = np.arange(len(flat))[:, None]
    flat[rows, 2 * joints] = 0.0
    flat[rows, 2 * joints + 1] = 0.0
    return flat.reshape(x.shape)


@dataclass
class PreparedData:
    """What the network sees, for one source (built by `prepare`).

    train_2d (N, 32) / train_3d (N, 48) and test_2d / test_3d: normalised inputs and targets;
    test_3d_mm (N, 17, 3): the test targets in root-relative camera-frame mm (for metrics);
    train_info / test_info: per-example subject, action, camera, frame and root_cam (N, 3) mm.
    """

    source: str
    normalizer: Normalizer
    train_2d: np.ndarray
    train_3d: np.ndarray
    test_2d: np.ndarray
    test_3d: np.ndarray
    test_3d_mm: np.ndarray
    train_info: dict
    test_info: dict


def prepare(poseset, normalizer=None, reference_camera=False):
    """PoseSet -> PreparedData: camera frame, root-relative, z-scored.

    Statistics come from the PoseSet's training subjects, unless `normalizer` is given (a
    trained model's, or the synthetic one for CMU, which has test subjects only).
    reference_camera: map each view's pixels into the reference camera's first (see
    `camera_frame_arrays`): the intrinsics normalised away, as `predict` does when it is given them.
    """
    train_subjects = [s for s in poseset.train_subjects if s in poseset.poses_3d]
    test_subjects = [s for s in poseset.test_subjects if s in poseset.poses_3d]
    train = camera_frame_arrays(poseset, train_subjects, reference_camera)
    test = camera_frame_arrays(poseset, test_subjects, reference_camera)
    if len(test["pose_2d"]) == 0:
        raise ValueError(f"the {poseset.source} PoseSet has no test examples: its test subjects "
                         f"{', '.join(poseset.test_subjects) or '(none)'} have no 2D views")
    if normalizer is None:
        if len(train["pose_2d"]) == 0:
            raise ValueError(f"the {poseset.source} PoseSet has no training examples, so it cannot "
                             "define normalisation statistics: pass normalizer= (e.g. the "
                             "synthetic training set's)")
        normalizer = Normalizer().fit(train["pose_2d"], train["pose_3d_cam"])
    return PreparedData(
        source=poseset.source, normalizer=normalizer,
        train_2d=normalizer.normalize_2d(train["pose_2d"]),
        train_3d=normalizer.normalize_3d(train["pose_3d_cam"]),
        test_2d=normalizer.normalize_2d(test["pose_2d"]),
        test_3d=normalizer.normalize_3d(test["pose_3d_cam"]),
        test_3d_mm=test["pose_3d_cam"], train_info=_info(train), test_info=_info(test))


def export_npz(prepared, path):
    """Write a PreparedData as one .npz (atomically: a temporary file, then renamed).

    Keys: train_2d (N, 32), train_3d (N, 48), test_2d, test_3d, mean_2d, std_2d, mean_3d,
    std_3d, test_3d_mm (N, 17, 3), source, and per split <split>_subject, <split>_action,
    <split>_camera, <split>_frame, <split>_root_cam (N, 3). Loads without pickle.
    """
    arrays = {"source": np.array(prepared.source)}
    for name in ("train_2d", "train_3d", "test_2d", "test_3d", "test_3d_mm"):
        arrays[name] = getattr(prepared, name)
    arrays.update(prepared.normalizer.to_dict())
    for split in ("train", "test"):
        for key, values in getattr(prepared, f"{split}_info").items():
            arrays[f"{split}_{key}"] = values
    save_npz(path, arrays)


def load_npz(path):
    """Read back what `export_npz` wrote, as a PreparedData."""
    arrays = read_npz(path)
    needed = ["source", "train_2d", "train_3d", "test_2d", "test_3d", "test_3d_mm"]
    needed += [f"{split}_{key}" for split in ("train", "test") for key in (*LABELS, "root_cam")]
    missing = [key for key in needed if key not in arrays]
    if missing:
        raise ValueError(f"{path}: not an mdnlib export, missing {', '.join(missing)}")
    return PreparedData(
        source=str(arrays["source"]), normalizer=Normalizer.from_dict(arrays, origin=str(path)),
        train_2d=arrays["train_2d"], train_3d=arrays["train_3d"], test_2d=arrays["test_2d"],
        test_3d=arrays["test_3d"], test_3d_mm=arrays["test_3d_mm"],
        train_info={key: arrays[f"train_{key}"] for key in (*LABELS, "root_cam")},
        test_info={key: arrays[f"test_{key}"] for key in (*LABELS, "root_cam")})


def _info(examples):
    return {key: examples[key] for key in (*LABELS, "root_cam")}


def _flat_2d(pose_2d):
    pose_2d = np.asarray(pose_2d)  # no float64 copy: arithmetic with the statistics promotes
    if pose_2d.ndim < 2 or pose_2d.shape[-2:] != (16, 2):
        raise ValueError(f"2D poses must be (..., 16, 2) pixels in the input order, got {pose_2d.shape}")
    bad = ~np.isfinite(pose_2d).reshape(-1, 32).all(axis=1)
    if bad.any():
        raise ValueError(f"2D poses contain NaN or infinite values in {bad.sum()} of {bad.size} poses "
                         f"(first at flat index {np.flatnonzero(bad)[0]}): fill or drop missing "
                         "detections before normalising")
    return pose_2d.reshape(*pose_2d.shape[:-2], 32)


def _flat_3d(pose_3d):
    pose_3d = np.asarray(pose_3d)
    if pose_3d.ndim < 2 or pose_3d.shape[-2:] != (skeleton.NUM_JOINTS, 3):
        raise ValueError(f"3D poses must be (..., 17, 3) root-relative mm, got {pose_3d.shape}")
    if pose_3d.size and np.abs(pose_3d[..., skeleton.ROOT, :]).max() > 1e-3:
        raise ValueError("3D poses must be root-relative (root joint at 0): subtract the root first")
    return pose_3d[..., skeleton.OUTPUT_16, :].reshape(*pose_3d.shape[:-2], 48)


def _last_axis(x, size, what):
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 1 or x.shape[-1] != size:
        raise ValueError(f"{what} must be (..., {size}), got {x.shape}")
    return x


def _check_miss_num(miss_num):
    if miss_num not in (0, 1, 2):
        raise ValueError(f"miss_num must be 0, 1 or 2 hidden limb joints per example, got {miss_num!r}")


def _mean_std(x):
    """Mean and (population) std of each column, in float64, a chunk of rows at a time."""
    x = x.reshape(-1, x.shape[-1])
    mean = sum(chunk.sum(axis=0, dtype=np.float64) for chunk in _chunks(x)) / len(x)
    var = sum(((chunk - mean) ** 2).sum(axis=0) for chunk in _chunks(x)) / len(x)
    return mean, np.sqrt(var)


def _chunks(x):
    return (x[i:i + _CHUNK] for i in range(0, len(x), _CHUNK))


def _dimension_names(joints, coords):
    return [f"{skeleton.JOINTS_17[j]}.{c}" for j in joints for c in coords]


def save_npz(path, arrays):
    """Write named arrays to an .npz at exactly `path`, atomically (`mdnlib.files.atomic_path`).

    Through a file object, as numpy would append .npz to any other name.
    """
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        np.savez(file, **arrays)


def read_npz(path, what="file", expected=None):
    """Every array of an .npz file, numeric or text, never pickles.

    Errors name the file and say what is wrong with it (see `check_npz_file`), or which array
    holds Python objects.
    """
    path = check_npz_file(path, what, expected)
    should_be = f"; expected {expected}" if expected else ""
    arrays, pickled = {}, None
    try:   # numpy leaves the file open when the archive is damaged: open and close it here
        with path.open("rb") as file, np.load(file, allow_pickle=False) as data:
            for key in data.files:
                try:
                    arrays[key] = data[key]
                except ValueError as error:
                    if "allow_pickle" not in str(error):
                        raise
                    pickled = key
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise ValueError(f"{path}: damaged or incomplete .npz archive ({error}){should_be}") from None
    if pickled is not None:
        raise ValueError(f"{path}: array {pickled!r} holds Python objects, which mdnlib does not load "
                         f"(unpickling a file can run code){should_be}")
    return arrays


def check_npz_file(path, what="file", expected=None):
    """`path` as a Path if it exists and starts like an .npz (a zip archive); otherwise an error
    that says what it is instead: missing, empty, a single .npy array, or another kind of file."""
    path = Path(path)
    should_be = f"; expected {expected}" if expected else ""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what}{should_be}")
    with path.open("rb") as file:
        head = file.read(6)
    if not head:
        raise ValueError(f"{path}: empty {what} (0 bytes){should_be}")
    if head == b"\x93NUMPY":
        raise ValueError(f"{path}: a single .npy array, not an .npz archive of named arrays{should_be} "
                         "(write one with numpy.savez(FILE, name=array))")
    if not head.startswith(b"PK"):
        raise ValueError(f"{path}: not an .npz file (an .npz is a zip archive; this file starts "
                         f"with {head!r}){should_be}")
    return path
