"""How a source films its world poses: with the Human3.6M rig, or with varied cameras (notebook 02).

The synthetic and CMU sources make their 2D views by projecting 3D poses. `cameras="rig"` (the
default) uses four Human3.6M cameras for every frame, as the course always did. `cameras="varied"`
films a sequence in *shots* of `SHOT_FRAMES` consecutive frames, each seen by `VIEWS` cameras drawn
at random (`mdnlib.camera.varied_camera`: height, distance, pitch, yaw around the subject, focal
length, image size, principal point), so a model meets thousands of cameras instead of four.

A PoseSet pairs every camera with every frame of a sequence, so each shot becomes a sequence of
its own, "Walking 3" (shot 3 of Walking: `poseset.action_of` still gives "Walking"), and its
cameras are named "Walking 3:0" to "Walking 3:3".
"""
import numpy as np

from mdnlib.camera import varied_camera
from mdnlib.skeleton import INPUT_16

CAMERAS = ("rig", "varied")
SHOT_FRAMES = 100   # consecutive frames filmed by one set of varied cameras
VIEWS = 4           # cameras per shot, as many as the rig has


def check_cameras(cameras):
    """`cameras` if it is one of CAMERAS; otherwise a ValueError that lists them."""
    if cameras not in CAMERAS:
        raise ValueError(f"unknown cameras {cameras!r}: choose 'rig' (the four Human3.6M cameras) "
                         "or 'varied' (cameras drawn at random for every shot)")
    return cameras


def num_shots(frames):
    """How many shots a sequence of `frames` frames is cut into (the last one may be shorter)."""
    return -(-int(frames) // SHOT_FRAMES)


def draw_shot_cameras(frames, rng, capture_radius_mm):
    """Varied cameras for a sequence: a list with one list of VIEWS cameras per shot."""
    return [[varied_camera(rng, capture_radius_mm) for _ in range(VIEWS)] for _ in range(num_shots(frames))]


def project_shots(poses, shot_cameras):
    """World poses (N, 17, 3) mm -> 2D (N, VIEWS, 16, 2) px, each shot's frames by its own cameras."""
    views = np.empty((len(poses), VIEWS, 16, 2))
    for shot, cameras in enumerate(shot_cameras):
        frames = slice(shot * SHOT_FRAMES, (shot + 1) * SHOT_FRAMES)
        for view, camera in enumerate(cameras):
            views[frames, view] = camera.project(poses[frames][:, INPUT_16])
    return views


def shots_as_sequences(sequence, poses, views, shot_cameras):
    """Cut one filmed sequence into PoseSet entries, one sequence per shot.

    poses (N, 17, 3), views (N, VIEWS, 16, 2) and shot_cameras as `project_shots` takes them.
    Returns (poses_3d {name: (n, 17, 3)}, poses_2d {name: {camera id: (n, 16, 2)}},
    cameras {camera id: Camera}) with names "<sequence> <shot, from 1>" and ids "<name>:<view>".
    """
    poses_3d, poses_2d, cameras = {}, {}, {}
    for shot, shot_cams in enumerate(shot_cameras):
        frames = slice(shot * SHOT_FRAMES, (shot + 1) * SHOT_FRAMES)
        name = f"{sequence} {shot + 1}"
        poses_3d[name] = poses[frames]
        poses_2d[name] = {}
        for view, camera in enumerate(shot_cams):
            camera_id = f"{name}:{view}"
            camera.name = camera_id
            cameras[camera_id] = camera
            poses_2d[name][camera_id] = views[frames, view]
    return poses_3d, poses_2d, cameras
