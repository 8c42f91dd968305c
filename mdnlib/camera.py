"""Cameras of the Human3.6M kind: world <-> camera frame, and projection with lens distortion.

Explained in notebook 01. Conventions are those of 3d-pose-baseline (Martinez et al. 2017):
``X = R (P - T)`` with T the camera centre in world mm; camera x right, y down, z forward (depth).
All functions take any leading shape (..., J, 3).
"""
from dataclasses import dataclass, field

import numpy as np

CAMERA_IDS = ("54138969", "55011271", "58860488", "60457274")

# fx, fy, cx, cy, width, height, as published with VideoPose3D
INTRINSICS = {
    "54138969": (1145.049, 1143.781, 512.54, 515.45, 1000, 1002),
    "55011271": (1149.676, 1147.592, 508.85, 508.06, 1000, 1000),
    "58860488": (1149.141, 1148.799, 519.82, 501.40, 1000, 1000),
    "60457274": (1145.511, 1144.774, 514.97, 501.88, 1000, 1002),
}
# k1, k2, k3, then the tangential pair in VideoPose3D's order t1, t2 (cameras.h5's p reversed).
DISTORTION = {
    "54138969": (-0.207099, 0.247775, -0.003075, -0.000976, -0.001424),
    "55011271": (-0.194214, 0.240409, 0.006820, -0.001619, -0.002741),
    "58860488": (-0.208338, 0.255488, -0.002460, 0.001484, -0.000760),
    "60457274": (-0.198384, 0.218324, -0.008948, -0.000587, -0.001813),
}
# The published Human3.6M camera rig (from VideoPose3D), per subject in CAMERA_IDS order:
# quaternion (w, x, y, z) camera -> world, centre in world mm. S2-S4 have no cameras.
RIG = {
    "S1": [(0.140706, -0.150070, -0.755241, 0.622328, 1841.1, 4955.3, 1563.4),
           (0.615719, -0.764836, -0.148338, 0.117947, 1761.3, -5078.0, 1606.3),
           (0.146515, -0.146479, 0.765302, -0.609418, -1846.8, 5215.0, 1492.0),
           (0.583401, -0.785316, 0.145488, -0.147496, -1794.8, -3722.7, 1574.9)],
    "S5": [(0.146738, -0.162371, -0.755189, 0.617894, 2097.4, 4880.9, 1605.7),
           (0.615976, -0.762679, -0.157282, 0.118982, 2031.7, -5167.9, 1612.9),
           (0.142914, -0.129078, 0.767838, -0.611014, -1620.6, 5171.7, 1496.4),
           (0.592048, -0.781422, 0.127475, -0.150364, -1637.2, -3867.3, 1547.0)],
    "S6": [(0.133790, -0.156924, -0.757109, 0.619888, 1935.5, 4950.2, 1618.1),
           (0.614720, -0.762881, -0.161748, 0.118192, 1969.8, -5128.7, 1632.8),
           (0.152995, -0.135291, 0.764610, -0.611278, -1769.6, 5185.4, 1477.0),
           (0.591610, -0.780477, 0.128323, -0.156159, -1721.7, -3884.1, 1540.5)],
    "S7": [(0.143524, -0.163134, -0.754833, 0.618882, 1974.5, 4926.4, 1597.8),
           (0.614167, -0.763826, -0.159665, 0.117793, 1937.1, -5119.8, 1631.6),
           (0.145501, -0.128748, 0.766052, -0.612714, -1741.8, 5208.2, 1464.8),
           (0.591285, -0.782176, 0.124455, -0.151965, -1734.7, -3832.4, 1548.6)],
    "S8": [(0.141106, -0.155899, -0.756192, 0.619644, 2150.7, 4896.2, 1611.9),
           (0.616960, -0.764767, -0.148464, 0.111582, 2220.0, -5148.5, 1613.0),
           (0.147144, -0.133771, 0.767013, -0.610037, -1571.2, 5137.0, 1498.2),
           (0.592782, -0.782587, 0.121478, -0.146320, -1476.9, -3896.7, 1548.0)],
    "S9": [(0.155406, -0.155482, -0.753210, 0.619959, 2044.5, 4935.1, 1481.2),
           (0.618784, -0.763474, -0.141322, 0.119340, 1991.0, -5123.8, 1568.8),
           (0.133578, -0.136710, 0.768945, -0.610074, -1671.0, 5212.0, 1528.4),
           (0.587940, -0.782341, 0.142761, -0.147949, -1696.0, -3827.1, 1591.4)],
    "S11": [(0.152325, -0.154423, -0.754756, 0.619107, 2098.4, 4926.6, 1500.3),
            (0.618945, -0.760092, -0.153006, 0.125526, 2083.2, -4912.2, 1561.1),
            (0.149432, -0.156502, 0.768123, -0.602630, -1609.8, 5177.3, 1537.9),
            (0.589425, -0.781888, 0.139912, -0.147154, -1590.7, -3854.2, 1578.0)],
}


def quaternion_to_matrix(q):
    """Rotation matrix of a unit quaternion (w, x, y, z)."""
    w, x, y, z = np.asarray(q, dtype=float) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


@dataclass
class Camera:
    """A calibrated camera: R world->camera rotation, T centre (world mm), f, c in pixels,
    k radial (3,) and p tangential (2,) distortion in the order of cameras.h5."""

    R: np.ndarray
    T: np.ndarray
    f: np.ndarray
    c: np.ndarray
    k: np.ndarray = field(default_factory=lambda: np.zeros(3))
    p: np.ndarray = field(default_factory=lambda: np.zeros(2))
    name: str = ""
    size: tuple = (1000, 1000)

    def __post_init__(self):
        self.R = np.asarray(self.R, dtype=np.float64).reshape(3, 3)
        self.T = np.asarray(self.T, dtype=np.float64).reshape(3)
        self.f = np.asarray(self.f, dtype=np.float64).reshape(2)
        self.c = np.asarray(self.c, dtype=np.float64).reshape(2)
        self.k = np.asarray(self.k, dtype=np.float64).reshape(3)
        self.p = np.asarray(self.p, dtype=np.float64).reshape(2)

    def world_to_camera(self, points):
        """World mm (..., 3) -> camera frame mm (..., 3): X = R (P - T)."""
        return (np.asarray(points, dtype=np.float64) - self.T) @ self.R.T

    def camera_to_world(self, points):
        """Camera frame mm (..., 3) -> world mm (..., 3)."""
        return np.asarray(points, dtype=np.float64) @ self.R + self.T

    def project(self, points_world):
        """World mm (..., 3) -> pixels (..., 2), with radial and tangential distortion."""
        return self.project_camera(self.world_to_camera(points_world))

    def project_camera(self, points_camera):
        """Camera frame mm (..., 3) -> pixels (..., 2), distortion as in 3d-pose-baseline."""
        X = np.asarray(points_camera, dtype=np.float64)
        xy = X[..., :2] / X[..., 2:3]
        r2 = np.sum(xy ** 2, axis=-1, keepdims=True)
        k1, k2, k3 = self.k
        p1, p2 = self.p
        radial = 1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3
        tangential = p1 * xy[..., 1:2] + p2 * xy[..., 0:1]
        distorted = xy * (radial + tangential) + np.array([p2, p1]) * r2
        return distorted * self.f + self.c


def h36m_camera(subject, camera_id):
    """The published Human3.6M camera of a subject (S1, S5-S9, S11) and camera id."""
    if subject not in RIG:
        raise KeyError(f"no Human3.6M cameras for subject {subject!r}; known: {', '.join(RIG)}")
    if camera_id not in CAMERA_IDS:
        raise KeyError(f"unknown camera id {camera_id!r}; known: {', '.join(CAMERA_IDS)}")
    w, x, y, z, *centre = RIG[subject][CAMERA_IDS.index(camera_id)]
    fx, fy, cx, cy, width, height = INTRINSICS[camera_id]
    k1, k2, k3, t1, t2 = DISTORTION[camera_id]
    return Camera(R=quaternion_to_matrix((w, x, y, z)).T, T=centre, f=(fx, fy), c=(cx, cy),
                  k=(k1, k2, k3), p=(t2, t1), name=camera_id, size=(width, height))


def h36m_cameras(subject):
    """The four cameras of a subject, keyed by camera id."""
    return {cid: h36m_camera(subject, cid) for cid in CAMERA_IDS}


# ---- beyond the rig: the reference camera, and cameras drawn at random -----------------------------

# fx, fy, cx, cy of the Human3.6M rig on average: the camera whose pixels a model trained on the rig
# knows. `to_reference_pixels` maps another camera's pixels into it (what `predict` does with the
# user's intrinsics).
REFERENCE_INTRINSICS = tuple(float(np.mean([values[i] for values in INTRINSICS.values()])) for i in range(4))

# Varied cameras (`varied_camera`), as people film: anywhere around the subject, from the floor to
# a first-floor window, phone to zoom lenses, landscape or portrait images.
VARIED_RANGES = {
    "distance_mm": (3000.0, 8000.0),    # horizontal distance from the centre of the capture area
    "height_mm": (300.0, 3000.0),       # the camera's height above the floor
    "aim_height_mm": (700.0, 1200.0),   # it looks at this height above the centre ...
    "aim_jitter_deg": 5.0,              # ... give or take this much in pitch and in yaw
    "roll_deg": 3.0,                    # a hand-held tilt, either way
    "fov_deg": (40.0, 80.0),            # field of view across the image's longer side
    "centre_jitter": 0.02,              # principal point off the image centre, fraction of the size
}
IMAGE_SIZES = ((640, 480), (1000, 1000), (1280, 720), (1920, 1080), (720, 1280), (1080, 1920))
# A varied camera must see the whole capture area: a cylinder of the capture radius, floor to this.
_VISIBLE_HEIGHT_MM = 1900.0


def to_reference_pixels(points, intrinsics, reference=REFERENCE_INTRINSICS):
    """Pixels (..., 2) of a camera with `intrinsics` (fx, fy, cx, cy; shape (4,) or (..., 4) per
    pose) -> the pixels that a camera with the `reference` intrinsics, at the same place, records:
    x' = (x - c) / f * f_ref + c_ref. Exact for undistorted images."""
    points = np.asarray(points, dtype=np.float64)
    intrinsics = np.asarray(intrinsics, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    # per-pose intrinsics (N, 4) broadcast over the joints of (N, J, 2)
    expand = (slice(None),) * (intrinsics.ndim - 1) + (None,) * (points.ndim - intrinsics.ndim)
    f, c = intrinsics[..., 0:2][expand], intrinsics[..., 2:4][expand]
    return (points - c) / f * reference[0:2] + reference[2:4]


def look_at(centre, yaw_deg, pitch_deg, roll_deg=0.0):
    """World -> camera rotation R of a camera at `centre` whose optical axis points along the
    horizontal heading `yaw_deg` (from the world x axis towards y), `pitch_deg` below the horizon,
    turned by `roll_deg` about that axis; camera x right, y down, z forward, world z up."""
    yaw, pitch, roll = np.radians([yaw_deg, pitch_deg, roll_deg])
    forward = np.array([np.cos(pitch) * np.cos(yaw), np.cos(pitch) * np.sin(yaw), -np.sin(pitch)])
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    right, down = (np.cos(roll) * right + np.sin(roll) * down, np.cos(roll) * down - np.sin(roll) * right)
    return np.stack([right, down, forward])


def varied_camera(rng, capture_radius_mm=1200.0, name=""):
    """One camera drawn from `VARIED_RANGES` and `IMAGE_SIZES` (no lens distortion), redrawn until
    it sees the whole capture area (radius `capture_radius_mm` around the world origin, floor to
    1.9 m) inside its image, as a person filming someone would frame them."""
    r = VARIED_RANGES
    while True:
        azimuth = rng.uniform(0.0, 360.0)
        distance, height = rng.uniform(*r["distance_mm"]), rng.uniform(*r["height_mm"])
        aim = rng.uniform(*r["aim_height_mm"])
        pitch = np.degrees(np.arctan2(height - aim, distance)) + rng.uniform(-1, 1) * r["aim_jitter_deg"]
        yaw = azimuth + 180.0 + rng.uniform(-1, 1) * r["aim_jitter_deg"]
        roll = rng.uniform(-1, 1) * r["roll_deg"]
        width, height_px = IMAGE_SIZES[rng.integers(len(IMAGE_SIZES))]
        fov = np.radians(rng.uniform(*r["fov_deg"]))
        focal = max(width, height_px) / 2 / np.tan(fov / 2)
        centre = np.array([width, height_px]) * (0.5 + rng.uniform(-1, 1, 2) * r["centre_jitter"])
        position = distance * np.array([np.cos(np.radians(azimuth)), np.sin(np.radians(azimuth)), 0.0])
        position[2] = height
        camera = Camera(R=look_at(position, yaw, pitch, roll), T=position, f=(focal, focal), c=centre,
                        name=name, size=(int(width), int(height_px)))
        if sees_capture_area(camera, capture_radius_mm):
            return camera


def sees_capture_area(camera, capture_radius_mm, top_mm=_VISIBLE_HEIGHT_MM):
    """True when the capture cylinder (radius around the world origin, floor to `top_mm`) lies in
    front of the camera and inside its image."""
    angles = np.linspace(0.0, 2 * np.pi, 16, endpoint=False)
    ring = np.stack([capture_radius_mm * np.cos(angles), capture_radius_mm * np.sin(angles), np.zeros(16)], -1)
    points = np.concatenate([ring, ring + [0.0, 0.0, top_mm]])
    if np.any(camera.world_to_camera(points)[:, 2] < 100.0):
        return False
    pixels = camera.project(points)
    return bool(np.all((pixels >= 0) & (pixels <= np.asarray(camera.size, dtype=float))))


def camera_to_array(camera):
    """A camera as 23 numbers (R, T, f, c, k, p, image size), to store it in an npz."""
    return np.concatenate([camera.R.ravel(), camera.T, camera.f, camera.c, camera.k, camera.p,
                           np.asarray(camera.size, dtype=np.float64)])


def camera_from_array(values, name=""):
    """The camera that `camera_to_array` stored."""
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (23,):
        raise ValueError(f"a stored camera is 23 numbers, got shape {v.shape}")
    return Camera(R=v[:9], T=v[9:12], f=v[12:14], c=v[14:16], k=v[16:19], p=v[19:21], name=name,
                  size=(int(v[21]), int(v[22])))
