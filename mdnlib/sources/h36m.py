"""Human3.6M as a PoseSet, from either published layout (notebook 02, README "The data").

- `load_h36m`: the 3d-pose-baseline layout (its ``h36m.zip``): ``h36m/S*/MyPoses/3D_positions/
  <sequence>.h5`` (32 joints, world mm), ``cameras.h5``, and optionally the Stacked Hourglass
  2D detections ``h36m/S*/<sh_folder>/<sequence>.<camera id>.h5`` (16 joints, MPII order).
- `load_h36m_npz`: the VideoPose3D layout: ``data_3d_h36m.npz`` (32 joints, world metres) and
  ``data_2d_h36m_<source>.npz`` (2D ground truth or detections, 17 or 16 joints).

Sequences keep their own entries: each action was recorded twice, and an entry is named by the
canonical action (one of the paper's 15) plus the file's sequence number, e.g. "Walking" and
"Walking 1" (S1's "TakingPhoto 1" becomes "Photo 1"); `action_of` gives back the action.
Without detections, 2D = projection of the ground truth with the subject's cameras.
"""
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np

from mdnlib import skeleton
from mdnlib.camera import CAMERA_IDS, INTRINSICS, Camera, h36m_cameras
from mdnlib.dataset import check_npz_file
from mdnlib.poseset import TEST_SUBJECTS, TRAIN_SUBJECTS, PoseSet

ACTIONS = ("Directions", "Discussion", "Eating", "Greeting", "Phoning", "Photo", "Posing",
           "Purchases", "Sitting", "SittingDown", "Smoking", "Waiting", "WalkDog", "Walking",
           "WalkTogether")
SUBJECTS = TRAIN_SUBJECTS + TEST_SUBJECTS
# Names that some subjects' files use for two of the actions (S1 in the original dataset).
ACTION_ALIASES = {"TakingPhoto": "Photo", "WalkingDog": "WalkDog"}
# The one camera view missing from the Stacked Hourglass detections (a damaged video).
KNOWN_MISSING_VIEWS = {("S11", "Directions", "54138969")}
SH_FOLDERS = ("StackedHourglassFineTuned240", "StackedHourglass")

BASELINE_HINT = (
    "The 3d-pose-baseline layout comes from that project's h36m.zip (github.com/una-dinosauria/"
    "3d-pose-baseline, README 'Data'): unzip it so that h36m/S1/MyPoses/3D_positions/*.h5 exist. "
    "The Stacked Hourglass detections are a separate download of the same project (folders "
    "StackedHourglassFineTuned240 = fine-tuned, the paper's input, and StackedHourglass = "
    "pre-trained), extracted into h36m/S*/. Both archives, and the cameras.h5 they held, are no "
    "longer distributed by their authors: if you have no copy, use the VideoPose3D layout (source 'h36m_npz'), "
    "whose 3D file you build yourself from the official Human3.6M release (h36m.org)")
NPZ_HINT = (
    "The VideoPose3D layout is prepared with that project's scripts (github.com/facebookresearch/"
    "VideoPose3D, DATASETS.md): data_3d_h36m.npz from the official Human3.6M release (h36m.org), "
    "and the 2D detections data_2d_h36m_<source>.npz (cpn_ft_h36m_dbb, sh_ft_h36m, ...) linked there")

NPZ_EXPECTED = "a VideoPose3D .npz (positions_3d or positions_2d: subject -> action -> array)"

_SEQUENCE = re.compile(r"(?P<action>[A-Za-z]+?)(?:[ _](?P<number>\d+))?")


def action_of(sequence):
    """The canonical action of a sequence name: "Walking 1" -> "Walking", "TakingPhoto" -> "Photo"."""
    match = _SEQUENCE.fullmatch(sequence)
    if not match:
        return None
    action = match["action"]
    action = ACTION_ALIASES.get(action, action)
    return action if action in ACTIONS else None


def sequence_name(name):
    """Our name of a sequence from a file's name: canonical action, a space, its number if any.

    "TakingPhoto_1" -> "Photo 1", "Walking" -> "Walking"; None for names that are no H36M action.
    """
    action = action_of(name)
    if action is None:
        return None
    number = _SEQUENCE.fullmatch(name)["number"]
    return f"{action} {number}" if number else action


# --- 3d-pose-baseline layout -------------------------------------------------------------------

def find_h36m_folder(data_dir):
    """The ``h36m`` folder: `data_dir` itself when it holds S* folders, or ``data_dir/h36m``."""
    data_dir = Path(data_dir)
    for candidate in (data_dir / "h36m", data_dir):
        if candidate.is_dir() and any(candidate.glob("S*/MyPoses")):
            return candidate
    raise FileNotFoundError(
        f"no Human3.6M data in {data_dir}: looked for {data_dir / 'h36m'}/S*/MyPoses and "
        f"{data_dir}/S*/MyPoses. {BASELINE_HINT}")


def read_cameras_h5(path, subjects=SUBJECTS):
    """cameras.h5 -> {subject: {camera id: Camera}}. R is stored transposed (the file holds the
    camera-to-world rotation's matrix as written by MATLAB), T is the camera centre in world mm."""
    cameras = {}
    with _open_h5(path) as f:
        for subject in subjects:
            cameras[subject] = {}
            for index, camera_id in enumerate(CAMERA_IDS, start=1):
                group = f"subject{subject[1:]}/camera{index}"
                if group not in f:
                    raise ValueError(f"{path}: group {group} is missing (cameras of {subject})")
                g = f[group]
                values = {}
                for key, shape in (("R", (3, 3)), ("T", (3,)), ("f", (2,)), ("c", (2,)), ("k", (3,)), ("p", (2,))):
                    if key not in g or g[key].size != int(np.prod(shape)):
                        found = g[key].shape if key in g else "nothing"
                        raise ValueError(f"{path}: {group}/{key} must hold {shape} numbers, found {found}")
                    values[key] = _numbers(g[key][()], f"{path}: {group}/{key}").reshape(shape)
                name = _camera_name(g) if "Name" in g else camera_id
                if name != camera_id:
                    raise ValueError(f"{path}: {group} is camera {name!r}, expected {camera_id}")
                cameras[subject][camera_id] = Camera(
                    R=values["R"].T, T=values["T"], f=values["f"], c=values["c"], k=values["k"],
                    p=values["p"], name=camera_id, size=INTRINSICS[camera_id][4:])
    return cameras


def _camera_name(group):
    """cameras.h5 stores Name as character codes (MATLAB); newer copies may store a string."""
    value = group["Name"][()]
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    return "".join(chr(int(code)) for code in np.ravel(value))


def load_h36m(data_dir, use_sh=False, sh_folder=SH_FOLDERS[0], subjects=SUBJECTS, actions=ACTIONS):
    """Load Human3.6M in the 3d-pose-baseline layout as a PoseSet.

    data_dir: the folder that contains ``h36m/``, or ``h36m/`` itself. use_sh: 2D from the
    Stacked Hourglass detections in ``S*/<sh_folder>`` instead of projected ground truth; S11's
    "Directions" then lacks camera 54138969 (that view has no detections). cameras.h5 is read from
    ``h36m/`` or the folder above; without it the published rig (`mdnlib.camera`) is used, with a
    warning.
    """
    root = find_h36m_folder(data_dir)
    subjects, actions = _check_selection(subjects, actions)
    poses_3d, files_3d = {}, {}
    for subject in subjects:
        folder = root / subject / "MyPoses" / "3D_positions"
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is missing: the 3D poses of {subject}. {BASELINE_HINT}")
        files = _sequence_files(folder)
        for action in actions:
            if not any(action_of(s) == action for s in files):
                raise FileNotFoundError(f"{folder}: no 3D file for {action} (expected '{action}.h5' and "
                                        f"'{action} 1.h5'); the folder is incomplete. {BASELINE_HINT}")
        files_3d[subject] = {s: p for s, p in files.items() if action_of(s) in actions}
        poses_3d[subject] = {s: _read_3d_h5(p) for s, p in files_3d[subject].items()}
    cameras = _baseline_cameras(root, subjects)
    if use_sh:
        poses_2d = {s: _read_sh_subject(root / s / sh_folder, s, poses_3d[s], files_3d[s]) for s in subjects}
    else:
        poses_2d = {s: _project_all(poses_3d[s], cameras[s]) for s in subjects}
    source = f"h36m ({sh_folder} 2D)" if use_sh else "h36m"
    return PoseSet(source, poses_3d, poses_2d, cameras).validate(str(root))


def _check_selection(subjects, actions):
    subjects, actions = tuple(subjects), tuple(actions)
    unknown = [s for s in subjects if s not in SUBJECTS] + [a for a in actions if a not in ACTIONS]
    if unknown:
        raise ValueError(f"unknown subjects or actions: {', '.join(unknown)}; subjects are "
                         f"{', '.join(SUBJECTS)}, actions {', '.join(ACTIONS)}")
    return subjects, actions


def _baseline_cameras(root, subjects):
    for path in (root / "cameras.h5", root.parent / "cameras.h5"):
        if path.is_file():
            return read_cameras_h5(path, subjects)
    warnings.warn(f"cameras.h5 not found in {root} or {root.parent} (it is no longer distributed); "
                  "using the published Human3.6M camera rig instead", stacklevel=3)
    return {s: h36m_cameras(s) for s in subjects}


def _sequence_files(folder):
    """{our sequence name: path} of the 3D .h5 files in `folder`; other files are ignored."""
    found = {}
    for path in sorted(folder.glob("*.h5")):
        name = sequence_name(path.stem)
        if name is None:
            continue
        if name in found:
            raise ValueError(f"{folder}: {found[name].name} and {path.name} are both sequence {name!r}")
        found[name] = path
    return found


def _open_h5(path):
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path}: not a readable HDF5 file ({err}); the file is empty, truncated or "
                         "not HDF5: extract it again from its archive") from None


def _read_3d_h5(path):
    """(96, N) rows = joint*3 + coordinate, world mm, 32 joints -> (N, 17, 3)."""
    with _open_h5(path) as f:
        if "3D_positions" not in f:
            raise ValueError(f"{path}: no dataset '3D_positions' (found: {', '.join(f.keys()) or 'nothing'})")
        data = _numbers(f["3D_positions"][()], f"{path}: '3D_positions'")
    if data.ndim != 2 or data.shape[0] != 96 or data.shape[1] == 0:
        raise ValueError(f"{path}: '3D_positions' must have shape (96, N) = 32 joints x 3 coordinates "
                         f"by N frames, found {data.shape}")
    poses = data.T.reshape(-1, 32, 3)[:, skeleton.H36M32_TO_17]
    if not np.all(np.isfinite(poses)):
        raise ValueError(f"{path}: '3D_positions' contains NaN or infinite values")
    return poses


def _read_sh_subject(folder, subject, poses_3d, sequences_3d):
    """Stacked Hourglass detections of one subject: {sequence: {camera id: (N, 16, 2)}}."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is missing: the Stacked Hourglass detections of {subject}. "
                                f"{BASELINE_HINT}")
    files = {}
    for path in sorted(folder.glob("*.h5")):
        stem, _, camera_id = path.stem.rpartition(".")
        name = sequence_name(stem)
        if name is not None and camera_id in CAMERA_IDS:
            files[(name, camera_id)] = path
    views = {}
    for sequence, poses in poses_3d.items():
        views[sequence] = {}
        for camera_id in CAMERA_IDS:
            path = files.get((sequence, camera_id))
            if path is None:
                if (subject, sequence, camera_id) in KNOWN_MISSING_VIEWS:
                    continue
                raise FileNotFoundError(f"{folder}: no detections for {sequence}, camera {camera_id} "
                                        f"(expected {sequence.replace(' ', '_')}.{camera_id}.h5). {BASELINE_HINT}")
            detections = _read_sh_h5(path)
            if len(detections) != len(poses):
                raise ValueError(f"{path}: {len(detections)} frames of detections, but the 3D file "
                                 f"{sequences_3d[sequence]} has {len(poses)}")
            views[sequence][camera_id] = detections
    return views


def _read_sh_h5(path):
    """Dataset 'poses' (N, 16, 2) px in MPII order -> (N, 16, 2) in the input order."""
    with _open_h5(path) as f:
        if "poses" not in f:
            raise ValueError(f"{path}: no dataset 'poses' (found: {', '.join(f.keys()) or 'nothing'})")
        poses = _numbers(f["poses"][()], f"{path}: 'poses'")
    if poses.ndim != 3 or poses.shape[1:] != (16, 2):
        raise ValueError(f"{path}: 'poses' must have shape (N, 16, 2) (16 MPII joints), found {poses.shape}")
    if not np.all(np.isfinite(poses)):
        raise ValueError(f"{path}: 'poses' contains NaN or infinite values")
    return poses[:, skeleton.MPII16_TO_INPUT16]


def _numbers(array, where):
    """`array` as float64, or an error naming `where` if it holds text or objects instead."""
    array = np.asarray(array)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{where} holds {array.dtype} values, expected numbers")
    return array.astype(np.float64)


def _project_all(poses_3d, cameras):
    """Ground-truth 2D: every sequence seen by every camera, 16 input joints."""
    return {sequence: {cid: cam.project(poses[:, skeleton.INPUT_16]) for cid, cam in cameras.items()}
            for sequence, poses in poses_3d.items()}


# --- VideoPose3D layout ------------------------------------------------------------------------

def load_h36m_npz(data_dir, source_2d="gt", subjects=SUBJECTS, actions=ACTIONS, trust_pickle=False):
    """Load Human3.6M in the VideoPose3D layout as a PoseSet.

    Its files hold pickled Python objects, and unpickling a crafted file runs its code:
    `trust_pickle=True` says the files are yours (`--trust_pickle` on the command line).

    Reads ``data_3d_h36m.npz`` (metres -> mm, 32 -> 17 joints) and ``data_2d_h36m_<source_2d>.npz``
    (17 joints in Human3.6M order, or 16 in MPII order; 2D longer than 3D is trimmed). Without
    that file, source "gt" projects the ground truth. Cameras: the published rig
    (`mdnlib.camera`); S11 has no "Directions" sequence in this layout.
    """
    data_dir = Path(data_dir)
    subjects, actions = _check_selection(subjects, actions)
    path_3d = data_dir / "data_3d_h36m.npz"
    if not path_3d.is_file():
        raise FileNotFoundError(f"{path_3d} not found. {NPZ_HINT}")
    positions_3d = _read_npz_dict(path_3d, "positions_3d", trust_pickle)
    poses_3d = {}
    for subject in subjects:
        if subject not in positions_3d:
            raise ValueError(f"{path_3d}: no subject {subject} (found: {', '.join(map(str, positions_3d))})")
        poses_3d[subject] = {}
        for name, array in positions_3d[subject].items():
            sequence = sequence_name(name)
            if sequence is None or action_of(sequence) not in actions:
                continue
            array = _numbers(array, f"{path_3d}: {subject} {name!r}")
            if array.ndim != 3 or array.shape[1:] != (32, 3) or len(array) == 0:
                raise ValueError(f"{path_3d}: {subject} {name!r} must be (N, 32, 3) world metres, found {array.shape}")
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{path_3d}: {subject} {name!r} contains NaN or infinite values")
            poses_3d[subject][sequence] = array[:, skeleton.H36M32_TO_17] * 1000.0
    cameras = {s: h36m_cameras(s) for s in subjects}
    path_2d = data_dir / f"data_2d_h36m_{source_2d}.npz"
    if path_2d.is_file():
        poses_2d = _read_npz_2d(path_2d, poses_3d, trust_pickle)
    elif source_2d == "gt":
        poses_2d = {s: _project_all(poses_3d[s], cameras[s]) for s in subjects}
    else:
        raise FileNotFoundError(f"{path_2d} not found (2D source {source_2d!r}). {NPZ_HINT}")
    return PoseSet(f"h36m_npz ({source_2d} 2D)", poses_3d, poses_2d, cameras).validate(str(data_dir))


def _read_npz_dict(path, key, trust_pickle, with_metadata=False):
    """The pickled dict `key` of a VideoPose3D npz file (and its metadata dict if asked).

    Unpickling can run code hidden in a crafted file: refused unless `trust_pickle`.
    """
    check_npz_file(path, "VideoPose3D file", expected=NPZ_EXPECTED)
    if not trust_pickle:
        raise ValueError(f"{path}: VideoPose3D files store their poses as pickled Python objects, and "
                         "unpickling a file runs whatever code it was made to run. If you made this file "
                         "(VideoPose3D's prepare_data_h36m.py) or trust where it comes from, pass "
                         "--trust_pickle (in Python: trust_pickle=True)")
    try:   # a damaged pickle raises almost anything; numpy leaves a damaged archive open
        with path.open("rb") as file, np.load(file, allow_pickle=True) as npz:
            files = npz.files
            value = npz[key].item() if key in files and npz[key].shape == () else None
            metadata = npz["metadata"].item() if "metadata" in files and npz["metadata"].shape == () else None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, pickle.UnpicklingError, ImportError,
            AttributeError) as err:
        raise ValueError(f"{path}: damaged VideoPose3D file ({type(err).__name__}: {err}); prepare or "
                         "download it again") from None
    if key not in files:
        raise ValueError(f"{path}: no array {key!r} (found: {', '.join(files) or 'nothing'}); expected {NPZ_EXPECTED}")
    if not isinstance(value, dict):
        raise ValueError(f"{path}: {key!r} must be a pickled dict subject -> action -> array")
    if with_metadata:
        if not isinstance(metadata, dict) or "num_joints" not in metadata:
            raise ValueError(f"{path}: 'metadata' must be a dict with 'num_joints'")
        return value, metadata
    return value


def _read_npz_2d(path, poses_3d, trust_pickle):
    """{subject: {sequence: {camera id: (N, 16, 2)}}} paired with the 3D sequences."""
    positions_2d, metadata = _read_npz_dict(path, "positions_2d", trust_pickle, with_metadata=True)
    num_joints = int(metadata["num_joints"])
    if num_joints == 17:
        to_input = skeleton.INPUT_16
    elif num_joints == 16:
        to_input = skeleton.MPII16_TO_INPUT16
    else:
        raise ValueError(f"{path}: {num_joints} joints per 2D pose; expected 17 (Human3.6M order) or 16 (MPII order)")
    by_sequence = {s: {sequence_name(a): v for a, v in actions.items() if sequence_name(a)}
                   for s, actions in positions_2d.items()}
    views = {}
    for subject, sequences in poses_3d.items():
        views[subject] = {}
        for sequence, poses in sequences.items():
            arrays = by_sequence.get(subject, {}).get(sequence)
            where = f"{path}: {subject} {sequence!r}"
            if arrays is None:
                raise ValueError(f"{where}: no 2D poses for this 3D sequence")
            if len(arrays) != len(CAMERA_IDS):
                raise ValueError(f"{where}: {len(arrays)} camera views, expected {len(CAMERA_IDS)}")
            views[subject][sequence] = {}
            for camera_id, array in zip(CAMERA_IDS, arrays):
                array = _numbers(array, f"{where} camera {camera_id}")
                if array.ndim != 3 or array.shape[1:] != (num_joints, 2):
                    raise ValueError(f"{where} camera {camera_id}: 2D poses must be (N, {num_joints}, 2), "
                                     f"found {array.shape}")
                if len(array) < len(poses):
                    raise ValueError(f"{where} camera {camera_id}: {len(array)} frames of 2D poses, "
                                     f"fewer than the {len(poses)} frames of 3D")
                array = array[:len(poses), to_input]
                if not np.all(np.isfinite(array)):
                    raise ValueError(f"{where} camera {camera_id}: 2D poses contain NaN or infinite values")
                views[subject][sequence][camera_id] = array
    return views
