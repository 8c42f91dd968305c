"""Tiny Human3.6M trees in the exact published formats, for tests.

Each writer returns the ground truth it wrote, so that tests compare loaded values with it:
- `write_h36m_baseline_tree`: the 3d-pose-baseline layout (h36m/S*/MyPoses/3D_positions/*.h5,
  h36m/cameras.h5, Stacked Hourglass detections h36m/S*/<folder>/<sequence>.<camera>.h5);
- `write_h36m_npz`: the VideoPose3D layout (data_3d_h36m.npz, data_2d_h36m_<source>.npz).
Poses are random 32-joint bodies around the capture-area centre, so every camera sees them.
"""
import h5py
import numpy as np

from mdnlib import skeleton
from mdnlib.camera import CAMERA_IDS, h36m_cameras

ACTIONS = ("Directions", "Discussion", "Eating", "Greeting", "Phoning", "Photo", "Posing",
           "Purchases", "Sitting", "SittingDown", "Smoking", "Waiting", "WalkDog", "Walking",
           "WalkTogether")
# How VideoPose3D's files name two of S1's actions.
S1_FILE_NAMES = {"Photo": "TakingPhoto", "WalkDog": "WalkingDog"}
# Inverse of skeleton.MPII16_TO_INPUT16: input order -> MPII order, to write detection files.
INPUT16_TO_MPII16 = np.argsort(skeleton.MPII16_TO_INPUT16)


def random_poses_32(rng, frames):
    """(frames, 32, 3) world mm: joints scattered around a standing body at the origin."""
    centre = np.array([rng.uniform(-500, 500), rng.uniform(-500, 500), 900.0])
    return centre + rng.normal(size=(frames, 32, 3)) * [150.0, 150.0, 400.0]


def sequence_frames(frames, subject_index, sequence_index):
    """A different, small frame count per sequence, so that mix-ups change shapes."""
    return frames + (3 * subject_index + sequence_index) % 4


def write_cameras_h5(path, subjects):
    """cameras.h5 as 3d-pose-baseline's: subject{s}/camera{c}/R (transposed), T, f, c, k, p, Name.

    Values from the published rig (mdnlib.camera), so both layouts share one truth;
    p is written in cameras.h5's order (the Camera's own). Returns {subject: {id: Camera}}.
    """
    cameras = {s: h36m_cameras(s) for s in subjects}
    with h5py.File(path, "w") as f:
        for subject in subjects:
            for index, camera_id in enumerate(CAMERA_IDS, start=1):
                cam = cameras[subject][camera_id]
                g = f.create_group(f"subject{subject[1:]}/camera{index}")
                g["R"] = cam.R.T  # stored transposed
                g["T"] = cam.T.reshape(3, 1)
                g["f"] = cam.f.reshape(2, 1)
                g["c"] = cam.c.reshape(2, 1)
                g["k"] = cam.k.reshape(3, 1)
                g["p"] = cam.p.reshape(2, 1)
                g["Name"] = np.array([ord(ch) for ch in camera_id], dtype=np.uint8).reshape(-1, 1)
    return cameras


def write_h36m_baseline_tree(root, subjects=("S1", "S9", "S11"), actions=ACTIONS, frames=5,
                             with_sh=True, sh_folder="StackedHourglassFineTuned240",
                             with_cameras=True, file_names=None, rng=None):
    """Write ``root/h36m`` in the 3d-pose-baseline layout; two sequences per action.

    file_names: {canonical action: name used in the files} (e.g. {"Photo": "TakingPhoto"}).
    The detections are the ground truth's projection plus a known offset (+3 px x, -2 px y),
    written in MPII order; S11's "Directions.54138969.h5" is left out, as in the real data.
    Returns {"poses_32": {subject: {sequence: (N, 32, 3)}}, "poses_17": same (N, 17, 3),
    "sh_2d": {subject: {sequence: {camera id: (N, 16, 2) input order}}}, "cameras": {...}}.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    file_names = file_names or {}
    h36m = root / "h36m"
    h36m.mkdir(parents=True, exist_ok=True)
    cameras = {s: h36m_cameras(s) for s in subjects}
    if with_cameras:
        cameras = write_cameras_h5(h36m / "cameras.h5", subjects)
    truth = {"poses_32": {}, "poses_17": {}, "sh_2d": {}, "cameras": cameras}
    for i, subject in enumerate(subjects):
        folder_3d = h36m / subject / "MyPoses" / "3D_positions"
        folder_3d.mkdir(parents=True)
        if with_sh:
            (h36m / subject / sh_folder).mkdir()
        for action in actions:
            for j, number in enumerate(("", " 1")):
                sequence = action + number
                file_stem = file_names.get(action, action) + number
                poses = random_poses_32(rng, sequence_frames(frames, i, j))
                with h5py.File(folder_3d / f"{file_stem}.h5", "w") as f:
                    f["3D_positions"] = poses.reshape(len(poses), 96).T  # (96, N)
                truth["poses_32"].setdefault(subject, {})[sequence] = poses
                truth["poses_17"].setdefault(subject, {})[sequence] = poses[:, skeleton.H36M32_TO_17]
                if not with_sh:
                    continue
                for camera_id, cam in cameras[subject].items():
                    if (subject, sequence, camera_id) == ("S11", "Directions", "54138969"):
                        continue
                    detections = cam.project(poses[:, skeleton.H36M32_TO_17][:, skeleton.INPUT_16]) + [3.0, -2.0]
                    path = h36m / subject / sh_folder / f"{file_stem.replace(' ', '_')}.{camera_id}.h5"
                    with h5py.File(path, "w") as f:
                        f["poses"] = detections[:, INPUT16_TO_MPII16]
                    truth["sh_2d"].setdefault(subject, {}).setdefault(sequence, {})[camera_id] = detections
    return truth


def write_h36m_npz(root, subjects=("S1", "S9", "S11"), actions=ACTIONS, frames=5,
                   sources=("gt", "cpn_ft_h36m_dbb", "sh_ft_h36m"), extra_2d_frames=2, rng=None):
    """Write the VideoPose3D layout in `root`: data_3d_h36m.npz (metres, float32) and one
    data_2d_h36m_<source>.npz per source, `extra_2d_frames` longer than the 3D.

    As in the real files: S1 names two actions "TakingPhoto" and "WalkingDog", S11 has no
    "Directions" (only "Directions 1"). 2D sources: "gt" = projection (17 joints, H36M order),
    "cpn..." = projection + (1, 1) px (17 joints), "sh..." = projection - (2, 0) px in MPII order
    (16 joints). Returns {"poses_17": {subject: {sequence: (N, 17, 3) mm}}, "poses_2d":
    {source: {subject: {sequence: {camera id: (N, 16, 2) input order, trimmed}}}}}.
    """
    rng = np.random.default_rng(1) if rng is None else rng
    root.mkdir(parents=True, exist_ok=True)
    positions_3d, positions_2d = {}, {source: {} for source in sources}
    truth = {"poses_17": {}, "poses_2d": {source: {} for source in sources}}
    for i, subject in enumerate(subjects):
        cameras = h36m_cameras(subject)
        positions_3d[subject] = {}
        for action in actions:
            file_action = S1_FILE_NAMES.get(action, action) if subject == "S1" else action
            for j, number in enumerate(("", " 1")):
                if subject == "S11" and action == "Directions" and not number:
                    continue
                sequence = action + number
                n = sequence_frames(frames, i, j)
                poses = random_poses_32(rng, n + extra_2d_frames)
                positions_3d[subject][file_action + number] = (poses[:n] / 1000.0).astype(np.float32)
                stored = positions_3d[subject][file_action + number].astype(np.float64) * 1000.0
                truth["poses_17"].setdefault(subject, {})[sequence] = stored[:, skeleton.H36M32_TO_17]
                for source in sources:
                    views, kept = [], {}
                    for camera_id in CAMERA_IDS:
                        pixels = cameras[camera_id].project(poses[:, skeleton.H36M32_TO_17])  # (N + extra, 17, 2)
                        if source.startswith("sh"):
                            detections = (pixels[:, skeleton.INPUT_16] - [2.0, 0.0])[:, INPUT16_TO_MPII16]
                            kept[camera_id] = detections[:n, skeleton.MPII16_TO_INPUT16]
                        else:
                            detections = pixels + (1.0 if source.startswith("cpn") else 0.0)
                            kept[camera_id] = detections[:n, skeleton.INPUT_16]
                        views.append(detections.astype(np.float32))
                        kept[camera_id] = kept[camera_id].astype(np.float32).astype(np.float64)
                    positions_2d[source].setdefault(subject, {})[file_action + number] = views
                    truth["poses_2d"][source].setdefault(subject, {})[sequence] = kept
    np.savez_compressed(root / "data_3d_h36m.npz", positions_3d=positions_3d)
    for source in sources:
        num_joints = 16 if source.startswith("sh") else 17
        metadata = {"num_joints": num_joints, "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
        if num_joints == 16:
            metadata["layout_name"] = "mpii"
        np.savez_compressed(root / f"data_2d_h36m_{source}.npz", positions_2d=positions_2d[source], metadata=metadata)
    return truth
