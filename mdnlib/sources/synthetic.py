"""The embedded default data: realistic synthetic 3D poses filmed by the Human3.6M rig (notebook 02).

A pose is made in three steps, all vectorised over poses (no Python loop per pose):
1. joint angles from an *activity* (a parametric distribution: a walking cycle couples legs and arms
   by one phase, sitting bends hips and knees together, ...), clipped to anatomical ranges;
2. forward kinematics on a *body* (bone lengths near the Human3.6M adult averages, with a height and
   proportions per subject), turned to a random heading and placed in the capture area, lowest
   joint (a foot, mostly) on the floor (world frame like Human3.6M: z up, mm);
3. projection into the four cameras of the subject (`mdnlib.camera.h36m_cameras`), or with
   ``cameras="varied"`` into cameras drawn at random for every shot of 100 frames
   (`mdnlib.sources.filming`), plus a detector-like noise (a few pixels per joint and rare outliers).
`load_synthetic` builds a whole `PoseSet` (subjects S1, S5-S9, S11 like Human3.6M) and caches it.

Angle conventions, in the frame of the parent segment (x forward, y to the subject's left, z up),
degrees: flexion is positive (hip: thigh forward; knee: shank backward; elbow: forearm forward),
abduction moves a limb away from the body, arm_plane is the direction in which the upper arm is
raised (0 = to the side, 90 = forward, -90 = backward), arm_elev how far (0 = hanging, 180 = overhead).
"""
import warnings
from dataclasses import dataclass

import numpy as np

from mdnlib import config
from mdnlib.camera import camera_from_array, camera_to_array, h36m_cameras
from mdnlib.dataset import read_npz, save_npz
from mdnlib.files import remove_stale_temporaries
from mdnlib.poseset import TEST_SUBJECTS, TRAIN_SUBJECTS, PoseSet
from mdnlib.sources.filming import (SHOT_FRAMES, check_cameras, draw_shot_cameras, num_shots,
                                    project_shots, shots_as_sequences)
from mdnlib.skeleton import INPUT_16

# Bump when the generator changes: cached sets of another version are ignored.
GENERATOR_VERSION = "2"

# Bone lengths (mm), close to the Human3.6M training-set averages; hip and shoulder are the offsets
# from the pelvis centre and from the thorax.
AVERAGE_BONES = {
    "hip": 133.0, "thigh": 443.0, "shin": 454.0, "lower_spine": 233.0, "upper_spine": 257.0,
    "neck": 121.0, "head": 115.0, "shoulder": 151.0, "upper_arm": 279.0, "forearm": 252.0,
}
# Rest directions of the bones that are not along a segment axis: the nose lies forward of the
# neck, the head top back above the nose; shoulders sit a little below and behind the thorax.
_NECK_TILT, _HEAD_TILT = np.radians(30.0), np.radians(-20.0)
_SHOULDER_DIRECTION = np.array([-0.10, 0.96, -0.26]) / np.linalg.norm([-0.10, 0.96, -0.26])

ACTIVITIES = ("Standing", "Walking", "Running", "Sitting", "Crouching", "Reaching",
              "ArmsRaised", "Bending", "Waving", "Phoning", "Climbing", "Swinging", "Jumping")

# Anatomical ranges (degrees): every sampled angle is clipped into them.
_LIMB_RANGES = {
    "hip_flex": (-30, 130), "hip_abd": (-25, 55), "hip_rot": (-40, 45), "knee": (0, 150),
    "arm_plane": (-90, 140), "arm_elev": (0, 180), "arm_rot": (-90, 90), "elbow": (0, 150),
}
JOINT_RANGES = {
    "pelvis_pitch": (-25, 80), "pelvis_roll": (-25, 25),
    "spine_flex": (-30, 60), "spine_side": (-35, 35), "spine_twist": (-45, 45),
    "neck_flex": (-50, 60), "neck_side": (-40, 40), "neck_twist": (-70, 70),
    **{f"{name}_{side}": r for name, r in _LIMB_RANGES.items() for side in "lr"},
}
ANGLE_NAMES = ("yaw",) + tuple(JOINT_RANGES)

CAPTURE_RADIUS_MM = 1200.0   # subjects stand within this distance of the centre of the rig
# Detector-like 2D noise: per-joint standard deviation (px) in the 16-joint input order
# (hips and spine are harder to localise than the head), and rare gross outliers.
NOISE_SIGMA_PX = np.array([5.0, 5.0, 4.0, 4.0, 5.0, 4.0, 4.0, 5.0, 3.5, 3.5, 3.5, 4.0, 4.5, 3.5, 4.0, 4.5])
OUTLIER_PROBABILITY, OUTLIER_SIGMA_PX = 0.005, 40.0


@dataclass(frozen=True)
class Body:
    """Bone lengths (mm) of one subject, keyed like AVERAGE_BONES."""

    bones: dict

    @classmethod
    def average(cls):
        return cls(dict(AVERAGE_BONES))

    @classmethod
    def random(cls, rng):
        """A subject: a height (5 % spread) and proportions (3 % per bone) around the averages."""
        height = rng.normal(1.0, 0.05)
        return cls({name: length * height * rng.normal(1.0, 0.03) for name, length in AVERAGE_BONES.items()})


# ---------------------------------------------------------------- sampling joint angles (degrees)

def _u(rng, lo, hi, n):
    return rng.uniform(lo, hi, n)


def _g(rng, mean, sd, n):
    return rng.normal(mean, sd, n)


def _random_sides(rng, n):
    """Per pose, which side leads ("l" or "r") as a boolean mask: True = left."""
    return rng.random(n) < 0.5


def _set_leg(a, side, flex_world, abd, rot, knee):
    """Leg angles, with the thigh's forward angle given in the world (pelvis tilt added back)."""
    a[f"hip_flex_{side}"] = flex_world + a["pelvis_pitch"]
    a[f"hip_abd_{side}"], a[f"hip_rot_{side}"], a[f"knee_{side}"] = abd, rot, knee


def _set_legs_by_lead(a, lead_left, lead, trail):
    """Give the leading leg the angles `lead` and the other one `trail` (tuples for _set_leg)."""
    for side, is_lead in (("l", lead_left), ("r", ~lead_left)):
        chosen = [np.where(is_lead, x, y) for x, y in zip(lead, trail)]
        _set_leg(a, side, *chosen)


@dataclass(frozen=True)
class Gait:
    """A gait cycle: thigh swing (mean, amplitude range), knee flexion (floor, bump after heel
    strike, swing peak per degree of stride and the phase of that peak), trunk lean, arm swing
    (amplitude range, offset: negative = arms mostly behind) and elbow (mean, change per degree of
    arm swing). Degrees; phase 0 = heel strike of the left leg."""

    hip_mean: float
    hip_amp: tuple
    knee_floor: float
    knee_stance: float
    knee_swing_per_amp: float
    swing_peak: float
    lean: float
    arm_amp: tuple
    arm_offset: float
    elbow: float
    elbow_per_swing: float

    def legs(self, phase, amp):
        """Thigh (world flexion) and knee flexion of a leg at `phase`, for stride amplitude `amp`."""
        hip = self.hip_mean + amp * np.cos(phase)
        wrap = lambda t: (t + np.pi) % (2 * np.pi) - np.pi  # noqa: E731
        knee = (self.knee_floor + self.knee_stance * np.exp(-0.5 * (wrap(phase - 0.9) / 0.5) ** 2)
                + self.knee_swing_per_amp * amp * np.exp(-0.5 * (wrap(phase - self.swing_peak) / 0.6) ** 2))
        return hip, knee


WALK = Gait(hip_mean=7, hip_amp=(18, 28), knee_floor=10, knee_stance=22, knee_swing_per_amp=2.4,
            swing_peak=4.9, lean=-2, arm_amp=(12, 25), arm_offset=0, elbow=30, elbow_per_swing=1.0)
RUN = Gait(hip_mean=10, hip_amp=(25, 38), knee_floor=22, knee_stance=25, knee_swing_per_amp=2.4,
           swing_peak=5.4, lean=4, arm_amp=(25, 45), arm_offset=-20, elbow=100, elbow_per_swing=0.4)


def _stance_upright(a, rng, n, shift):
    """Standing, legs nearly straight; with `shift`, the weight on one leg and the other knee bent."""
    a["pelvis_pitch"], a["pelvis_roll"] = _g(rng, 3, 4, n), _g(rng, 0, 6 if shift else 3, n)
    a["spine_flex"], a["spine_side"] = _g(rng, 3, 5, n), _g(rng, 0, 4, n)
    lead = _random_sides(rng, n)
    bent = (_g(rng, 8 if shift else 2, 6, n), _g(rng, 0, 4, n), _g(rng, 5, 8, n),
            np.abs(_g(rng, 22 if shift else 10, 8 if shift else 5, n)))
    straight = (_g(rng, 0, 4, n), _g(rng, 0, 3, n), _g(rng, 5, 8, n), np.abs(_g(rng, 8, 5, n)))
    _set_legs_by_lead(a, lead, bent, straight)


def _stance_step(a, rng, n):
    """A lunge or a step: one leg forward and bent, the other behind."""
    a["pelvis_pitch"], a["spine_flex"] = _g(rng, 8, 8, n), _g(rng, 8, 10, n)
    front = (_u(rng, 15, 60, n), _g(rng, 5, 5, n), _g(rng, 5, 8, n), _u(rng, 5, 80, n))
    back = (_u(rng, -30, -5, n), _g(rng, 5, 5, n), _g(rng, 5, 8, n), _u(rng, 0, 40, n))
    _set_legs_by_lead(a, _random_sides(rng, n), front, back)


def _stance_gait(a, rng, n, gait):
    """Walking or running: one phase drives both legs half a cycle apart (and, later, the arms)."""
    phase = _u(rng, 0, 2 * np.pi, n)
    a["phase"] = phase
    a["pelvis_pitch"], a["spine_flex"] = _g(rng, gait.lean / 2, 3, n), _g(rng, gait.lean / 2, 3, n)
    a["spine_twist"] = 6 * np.cos(phase) + _g(rng, 0, 3, n)
    amp = rng.uniform(*gait.hip_amp, n)
    for side, offset in (("l", 0.0), ("r", np.pi)):
        hip, knee = gait.legs(phase + offset, amp)
        _set_leg(a, side, hip + _g(rng, 0, 4, n), _g(rng, -3, 3, n), _g(rng, 5, 6, n),
                 knee + _g(rng, 0, 6, n))


def _stance_sit(a, rng, n):
    """Sitting on a chair: hips and knees near right angles, sometimes one leg crossed."""
    a["pelvis_pitch"], a["spine_flex"] = _g(rng, -8, 8, n), _g(rng, 12, 10, n)
    a["spine_side"], a["spine_twist"] = _g(rng, 0, 5, n), _g(rng, 0, 10, n)
    for side in "lr":
        _set_leg(a, side, _g(rng, 85, 10, n), _g(rng, 8, 7, n), _g(rng, 0, 12, n), _g(rng, 85, 22, n))
    crossed = rng.random(n) < 0.2    # one leg crossed over the other
    lead = _random_sides(rng, n)
    for side, mask in (("l", crossed & lead), ("r", crossed & ~lead)):
        m = int(mask.sum())
        a[f"hip_flex_{side}"][mask] += rng.uniform(10, 25, m)
        a[f"hip_abd_{side}"][mask] = rng.uniform(-25, -10, m)
        a[f"knee_{side}"][mask] = rng.uniform(50, 90, m)


def _stance_squat(a, rng, n):
    """Squatting, from a half crouch to a deep squat (hips and knees bend together), or kneeling."""
    a["pelvis_pitch"], a["spine_flex"] = _g(rng, 25, 10, n), _g(rng, 20, 12, n)
    depth = rng.uniform(0, 1, n)
    for side in "lr":
        _set_leg(a, side, 60 + 45 * depth + _g(rng, 0, 8, n) - a["pelvis_pitch"] * 0.5,
                 _g(rng, 18, 8, n), _g(rng, 10, 10, n), 80 + 65 * depth + _g(rng, 0, 6, n))
    kneel = rng.random(n) < 0.25    # one knee down
    side = np.where(_random_sides(rng, n), "l", "r")
    for s in "lr":
        mask = kneel & (side == s)
        a[f"hip_flex_{s}"][mask] = rng.uniform(-5, 25, mask.sum()) + a["pelvis_pitch"][mask]
        a[f"knee_{s}"][mask] = rng.uniform(80, 110, mask.sum())


def _stance_bend(a, rng, n):
    """Bending forward from the hips, legs nearly straight."""
    a["pelvis_pitch"], a["spine_flex"] = _u(rng, 20, 75, n), _u(rng, 5, 45, n)
    a["spine_twist"] = _g(rng, 0, 10, n)
    for side in "lr":
        _set_leg(a, side, _g(rng, 0, 6, n), _g(rng, 6, 4, n), _g(rng, 5, 8, n), _u(rng, 0, 35, n))


def _stance_climb(a, rng, n):
    """On a ladder or climbing frame: one leg lifted high, the other nearly straight."""
    a["pelvis_pitch"], a["spine_flex"] = _g(rng, 12, 10, n), _g(rng, 10, 10, n)
    high = (_u(rng, 30, 110, n), _g(rng, 12, 10, n), _g(rng, 5, 12, n), _u(rng, 50, 135, n))
    low = (_u(rng, -20, 25, n), _g(rng, 6, 6, n), _g(rng, 5, 10, n), _u(rng, 0, 50, n))
    _set_legs_by_lead(a, _random_sides(rng, n), high, low)


def _stance_hang(a, rng, n):
    """Hanging or swinging: legs free, anywhere from straight down to bent forward."""
    a["pelvis_pitch"], a["spine_flex"] = _g(rng, -12, 14, n), _g(rng, -5, 10, n)
    together = _u(rng, -15, 90, n)
    for side in "lr":
        _set_leg(a, side, together + _g(rng, 0, 12, n), _g(rng, 6, 7, n), _g(rng, 5, 10, n),
                 _u(rng, 0, 100, n))


def _stance_swing(a, rng, n):
    """Sitting on a swing or a ledge: leaning back, legs forward and apart, knees half bent."""
    a["pelvis_pitch"], a["spine_flex"] = _g(rng, -15, 12, n), _g(rng, -3, 10, n)
    a["spine_side"] = _g(rng, 0, 6, n)
    for side in "lr":
        _set_leg(a, side, _u(rng, 40, 100, n) + a["pelvis_pitch"] * 0.5, _g(rng, 12, 8, n),
                 _g(rng, 5, 12, n), _u(rng, 10, 100, n))


def _stance_jump(a, rng, n):
    """Take-off crouch, flight with legs tucked or straight, landing."""
    a["pelvis_pitch"], a["spine_flex"] = _u(rng, 0, 40, n), _u(rng, 0, 25, n)
    tuck = rng.uniform(0, 1, n)
    for side in "lr":
        _set_leg(a, side, 90 * tuck + _g(rng, 0, 10, n) - 0.5 * a["pelvis_pitch"], _g(rng, 10, 8, n),
                 _g(rng, 8, 10, n), 120 * tuck + _g(rng, 5, 10, n))


STANCES = {
    "stand": lambda a, rng, n: _stance_upright(a, rng, n, shift=False),
    "shift": lambda a, rng, n: _stance_upright(a, rng, n, shift=True),
    "step": _stance_step,
    "walk": lambda a, rng, n: _stance_gait(a, rng, n, WALK),
    "run": lambda a, rng, n: _stance_gait(a, rng, n, RUN),
    "sit": _stance_sit, "squat": _stance_squat, "bend": _stance_bend,
    "climb": _stance_climb, "hang": _stance_hang, "swing": _stance_swing, "jump": _stance_jump,
}


def _hanging_arm(a, side, rng, n):
    """An arm hanging under gravity: straight down in the world, whatever the trunk's tilt."""
    pitch = np.radians(a["pelvis_pitch"] + a["spine_flex"])
    roll = np.radians(a["pelvis_roll"] + a["spine_side"])
    down = np.stack([np.sin(pitch), np.sin(roll) * np.cos(pitch), -np.cos(roll) * np.cos(pitch)])
    lateral = down[1] if side == "l" else -down[1]
    # the torso keeps a hanging arm from swinging inwards: its plane stays side to forward
    plane = np.clip(np.degrees(np.arctan2(down[0], lateral)) + _g(rng, 0, 20, n), -30, 100)
    elev = np.degrees(np.arccos(np.clip(-down[2], -1, 1)))
    return plane, elev + np.abs(_g(rng, 8, 6, n)), _g(rng, 0, 15, n), _u(rng, 10, 50, n)


def _sagittal(angle):
    """(plane, elevation) of an arm swung forward (angle > 0) or backward (angle < 0)."""
    return np.where(angle >= 0, 90.0, -90.0), np.abs(angle)


def _swing_arm(a, side, rng, n, gait):
    """Arm swing of gait: forward when the opposite leg is forward, the elbow bending as it comes."""
    phase = np.where(np.isnan(a["phase"]), rng.uniform(0, 2 * np.pi, n), a["phase"])
    own_leg_offset = 0.0 if side == "l" else np.pi
    swing = -rng.uniform(*gait.arm_amp, n) * np.cos(phase + own_leg_offset) + gait.arm_offset
    plane, elev = _sagittal(swing)
    elbow = gait.elbow + gait.elbow_per_swing * swing + _g(rng, 0, 10, n)
    return plane + _g(rng, 0, 15, n), elev, _g(rng, 0, 10, n), elbow


def _reach_down(a, side, rng, n):
    """Hands towards the floor or the knees: a hanging arm brought forward."""
    plane, elev, rot, _ = _hanging_arm(a, side, rng, n)
    return plane + _g(rng, 0, 15, n), elev + _u(rng, 0, 40, n), rot, _u(rng, 0, 60, n)


def _uniform_gesture(plane, elev, rot, elbow):
    """A gesture whose four arm angles are drawn uniformly within (low, high) ranges in degrees."""
    ranges = (plane, elev, rot, elbow)
    return lambda a, side, rng, n: tuple(rng.uniform(lo, hi, n) for lo, hi in ranges)


# Arm gestures: functions (angles so far, side, rng, n) -> (plane, elevation, rotation, elbow).
GESTURES = {
    "hang": _hanging_arm,
    "down": _reach_down,
    "swing_walk": lambda a, side, rng, n: _swing_arm(a, side, rng, n, WALK),
    "swing_run": lambda a, side, rng, n: _swing_arm(a, side, rng, n, RUN),
    #                                plane        elevation    rotation     elbow
    "hips": _uniform_gesture((-25, 25), (25, 50), (-85, -55), (80, 120)),      # hands on the hips
    "crossed": _uniform_gesture((95, 130), (20, 45), (-90, -50), (100, 135)),  # arms folded
    "hold": _uniform_gesture((40, 110), (10, 55), (-40, 20), (50, 120)),       # an object in front
    "lap": _uniform_gesture((50, 100), (10, 40), (-30, 10), (30, 90)),         # hands on the thighs
    "reach": _uniform_gesture((-30, 135), (20, 175), (-40, 40), (5, 60)),      # anywhere, arm long
    "raised": _uniform_gesture((-10, 110), (90, 175), (-30, 50), (10, 90)),    # above the shoulder
    "wave": _uniform_gesture((-10, 70), (60, 140), (40, 90), (40, 120)),       # forearm up
    "phone": _uniform_gesture((30, 100), (20, 65), (-40, 0), (120, 150)),      # hand at the ear
    "guard": _uniform_gesture((60, 110), (15, 50), (-30, 10), (100, 145)),     # fists before the face
    "grip": _uniform_gesture((-20, 110), (30, 110), (-60, 60), (40, 130)),     # holding on to a bar
    "ladder": _uniform_gesture((50, 100), (30, 95), (-40, 20), (50, 130)),     # rungs in front
    "chains": _uniform_gesture((30, 100), (70, 150), (-35, 35), (40, 120)),    # a swing's chains
    "back": _uniform_gesture((-90, -60), (15, 45), (-25, 25), (10, 50)),       # swung behind
}


@dataclass(frozen=True)
class Activity:
    """A parametric activity: weights of stances, of gestures for the leading arm and the other one,
    and the chance that both arms do the same gesture (arms crossed, hands on hips, ...)."""

    stances: dict
    lead_arm: dict
    other_arm: dict
    symmetric: float = 0.3


ACTIVITY_SPECS = {
    "Standing": Activity({"stand": 0.5, "shift": 0.5},
                         {"hang": 0.4, "hold": 0.25, "hips": 0.15, "crossed": 0.1, "reach": 0.1},
                         {"hang": 0.6, "hold": 0.2, "hips": 0.1, "crossed": 0.1}, symmetric=0.4),
    "Walking": Activity({"walk": 1.0}, {"swing_walk": 0.75, "hold": 0.15, "phone": 0.1},
                        {"swing_walk": 0.85, "hold": 0.15}, symmetric=0.2),
    "Running": Activity({"run": 1.0}, {"swing_run": 1.0}, {"swing_run": 1.0}, symmetric=0.0),
    "Sitting": Activity({"sit": 1.0}, {"lap": 0.3, "hold": 0.2, "grip": 0.15, "raised": 0.1, "phone": 0.1,
                                       "crossed": 0.05, "hang": 0.1},
                        {"lap": 0.4, "hold": 0.15, "grip": 0.15, "raised": 0.1, "hang": 0.2}, symmetric=0.4),
    "Crouching": Activity({"squat": 1.0},
                          {"down": 0.3, "hold": 0.3, "grip": 0.15, "lap": 0.1, "reach": 0.15},
                          {"down": 0.35, "hold": 0.3, "grip": 0.15, "lap": 0.2}, symmetric=0.4),
    "Reaching": Activity({"stand": 0.4, "step": 0.4, "shift": 0.2}, {"reach": 1.0},
                         {"reach": 0.4, "hang": 0.4, "hold": 0.2}, symmetric=0.2),
    "ArmsRaised": Activity({"stand": 0.35, "shift": 0.15, "hang": 0.3, "step": 0.2},
                           {"raised": 0.8, "grip": 0.2},
                           {"raised": 0.5, "reach": 0.25, "grip": 0.25}, symmetric=0.5),
    "Bending": Activity({"bend": 0.8, "squat": 0.2}, {"hang": 0.4, "down": 0.4, "hold": 0.2},
                        {"hang": 0.5, "down": 0.4, "hold": 0.1}, symmetric=0.4),
    "Waving": Activity({"stand": 0.4, "shift": 0.3, "walk": 0.2, "sit": 0.1}, {"wave": 1.0},
                       {"hang": 0.6, "hold": 0.2, "hips": 0.2}, symmetric=0.1),
    "Phoning": Activity({"stand": 0.35, "shift": 0.25, "walk": 0.2, "sit": 0.2}, {"phone": 1.0},
                        {"hang": 0.4, "hold": 0.3, "crossed": 0.15, "hips": 0.15}, symmetric=0.0),
    "Climbing": Activity({"climb": 0.7, "hang": 0.2, "step": 0.1},
                         {"ladder": 0.5, "raised": 0.2, "grip": 0.2, "reach": 0.1},
                         {"ladder": 0.5, "raised": 0.15, "grip": 0.2, "hold": 0.15}, symmetric=0.2),
    "Swinging": Activity({"swing": 0.75, "hang": 0.25}, {"chains": 0.8, "raised": 0.2},
                         {"chains": 0.8, "raised": 0.1, "lap": 0.1}, symmetric=0.6),
    "Jumping": Activity({"jump": 0.8, "step": 0.2},
                        {"back": 0.35, "raised": 0.3, "swing_run": 0.2, "guard": 0.15},
                        {"back": 0.35, "raised": 0.3, "swing_run": 0.2, "guard": 0.15}, symmetric=0.7),
}


def _choose(rng, weights, n):
    """Per pose, the index of a key of `weights` drawn with those weights."""
    p = np.array(list(weights.values()), dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def sample_angles(n, activity, rng):
    """Joint angles (dict name -> (n,) degrees, names in ANGLE_NAMES) of `n` poses of one activity."""
    if activity not in ACTIVITY_SPECS:
        raise ValueError(f"unknown activity {activity!r}; choose one of {', '.join(ACTIVITIES)}")
    spec = ACTIVITY_SPECS[activity]
    a = {name: np.zeros(n) for name in ANGLE_NAMES}
    a["phase"] = np.full(n, np.nan)
    stance = _choose(rng, spec.stances, n)
    for k, name in enumerate(spec.stances):
        _fill(a, stance == k, lambda sub, m, name=name: STANCES[name](sub, rng, m))
    lead_left = _random_sides(rng, n)
    same = rng.random(n) < spec.symmetric
    lead_gesture = _choose(rng, spec.lead_arm, n)
    other_names = list(spec.other_arm)
    other_gesture = _choose(rng, spec.other_arm, n)
    for side in "lr":
        is_lead = lead_left if side == "l" else ~lead_left
        for names, chosen, who in ((list(spec.lead_arm), lead_gesture, is_lead | same),
                                   (other_names, other_gesture, ~is_lead & ~same)):
            for k, name in enumerate(names):
                _fill(a, who & (chosen == k), lambda sub, m, name=name, side=side: _set_arm(
                    sub, side, GESTURES[name](sub, side, rng, m)))
    a["yaw"] = rng.uniform(-180, 180, n)
    a["spine_twist"] += _g(rng, 0, 6, n)
    a["neck_flex"] = _g(rng, 5, 12, n) - 0.4 * (a["pelvis_pitch"] + a["spine_flex"])
    a["neck_side"], a["neck_twist"] = _g(rng, 0, 8, n), _g(rng, 0, 20, n)
    for name, (lo, hi) in JOINT_RANGES.items():
        a[name] = np.clip(a[name] + _g(rng, 0, 3, n), lo, hi)
    del a["phase"]
    return a


def _fill(a, mask, sampler):
    """Run `sampler` on the poses selected by `mask` and write back what it set."""
    m = int(mask.sum())
    if m == 0:
        return
    sub = {name: values[mask] for name, values in a.items()}
    sampler(sub, m)
    for name, values in sub.items():
        a[name][mask] = values


def _set_arm(a, side, angles):
    for name, values in zip(("arm_plane", "arm_elev", "arm_rot", "elbow"), angles):
        a[f"{name}_{side}"] = values


# ---------------------------------------------------------------- forward kinematics

def _rot(axis, degrees):
    """Rotation matrices (n, 3, 3) about a coordinate axis (0 = x, 1 = y, 2 = z)."""
    t = np.radians(degrees)
    c, s = np.cos(t), np.sin(t)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R = np.zeros(t.shape + (3, 3))
    R[..., axis, axis] = 1.0
    R[..., i, i], R[..., j, j] = c, c
    R[..., i, j], R[..., j, i] = -s, s
    return R


def _chain(*rotations):
    out = rotations[0]
    for R in rotations[1:]:
        out = out @ R
    return out


def pose_from_angles(angles, body=None):
    """Body-frame 3D poses (n, 17, 3) in mm, root at the origin, from joint angles in degrees."""
    bones = (body or Body.average()).bones
    a = angles
    n = len(a["yaw"])
    P = np.zeros((n, 17, 3))
    pelvis = _chain(_rot(2, a["yaw"]), _rot(1, a["pelvis_pitch"]), _rot(0, a["pelvis_roll"]))
    half = {k: a[f"spine_{k}"] / 2 for k in ("flex", "side", "twist")}
    lower = pelvis @ _chain(_rot(1, half["flex"]), _rot(0, -half["side"]), _rot(2, half["twist"]))
    chest = lower @ _chain(_rot(1, half["flex"]), _rot(0, -half["side"]), _rot(2, half["twist"]))
    head = chest @ _chain(_rot(1, a["neck_flex"]), _rot(0, -a["neck_side"]), _rot(2, a["neck_twist"]))
    up = lambda R: R[..., 2]  # noqa: E731  (a segment's z axis in the world)
    P[:, 7] = bones["lower_spine"] * up(lower)
    P[:, 8] = P[:, 7] + bones["upper_spine"] * up(chest)
    P[:, 9] = P[:, 8] + bones["neck"] * (head @ [np.sin(_NECK_TILT), 0, np.cos(_NECK_TILT)])
    P[:, 10] = P[:, 9] + bones["head"] * (head @ [np.sin(_HEAD_TILT), 0, np.cos(_HEAD_TILT)])
    for s, sign, (hip, knee, foot) in (("r", -1, (1, 2, 3)), ("l", 1, (4, 5, 6))):
        P[:, hip] = sign * bones["hip"] * pelvis[..., 1]
        thigh = pelvis @ _chain(_rot(1, -a[f"hip_flex_{s}"]), _rot(0, sign * a[f"hip_abd_{s}"]),
                                _rot(2, sign * a[f"hip_rot_{s}"]))
        P[:, knee] = P[:, hip] - bones["thigh"] * up(thigh)
        shank = thigh @ _rot(1, a[f"knee_{s}"])
        P[:, foot] = P[:, knee] - bones["shin"] * up(shank)
    for s, sign, (shoulder, elbow, wrist) in (("r", -1, (14, 15, 16)), ("l", 1, (11, 12, 13))):
        # the shoulder girdle rises with the arm (a quarter of the elevation above 60 degrees)
        shrug = np.radians(np.clip(a[f"arm_elev_{s}"] - 60, 0, None) / 4)
        d = _SHOULDER_DIRECTION
        offset = np.stack([np.full(n, d[0]), sign * (d[1] * np.cos(shrug) - d[2] * np.sin(shrug)),
                           d[1] * np.sin(shrug) + d[2] * np.cos(shrug)], axis=-1)
        P[:, shoulder] = P[:, 8] + bones["shoulder"] * (chest @ offset[..., None])[..., 0]
        # swing the hanging arm about a horizontal axis into its plane (no twist), then twist it
        plane = a[f"arm_plane_{s}"]
        upper = chest @ _chain(_rot(2, -sign * plane), _rot(0, sign * a[f"arm_elev_{s}"]),
                               _rot(2, sign * (plane + a[f"arm_rot_{s}"])))
        P[:, elbow] = P[:, shoulder] - bones["upper_arm"] * up(upper)
        fore = upper @ _rot(1, -a[f"elbow_{s}"])
        P[:, wrist] = P[:, elbow] - bones["forearm"] * up(fore)
    return P


# ---------------------------------------------------------------- poses, cameras, PoseSet

def limbs_clear_of_torso(poses, half_width=110.0, half_depth=80.0):
    """(n,) True where no elbow or wrist lies inside the torso (an elliptic cylinder from the
    pelvis to the thorax, in the chest's own frame)."""
    poses = np.asarray(poses, dtype=np.float64)
    base, top = poses[:, 0], poses[:, 8]
    axis = top - base
    length = np.linalg.norm(axis, axis=-1, keepdims=True)
    axis = axis / length
    lateral = poses[:, 11] - poses[:, 14]
    lateral -= np.sum(lateral * axis, -1, keepdims=True) * axis
    lateral /= np.linalg.norm(lateral, axis=-1, keepdims=True)
    forward = np.cross(lateral, axis)
    rel = poses[:, [12, 13, 15, 16]] - base[:, None]
    h = np.sum(rel * axis[:, None], -1)
    y = np.sum(rel * lateral[:, None], -1) / half_width
    x = np.sum(rel * forward[:, None], -1) / half_depth
    inside = (h > 0) & (h < length) & (x ** 2 + y ** 2 < 1)
    return ~inside.any(axis=-1)


def generate_poses(n, activity, rng, body=None):
    """`n` world poses (n, 17, 3) in mm of one activity: random heading, random place in the
    capture area, on the floor: the lowest joint (a foot, unless the subject kneels or touches
    the ground) at z = 0. Poses with an arm through the torso are redrawn."""
    poses = np.empty((n, 17, 3))
    todo = np.arange(n)
    while todo.size:
        fresh = pose_from_angles(sample_angles(todo.size, activity, rng), body)
        ok = limbs_clear_of_torso(fresh)
        poses[todo[ok]] = fresh[ok]
        todo = todo[~ok]
    radius = CAPTURE_RADIUS_MM * np.sqrt(rng.random(n))
    angle = rng.uniform(0, 2 * np.pi, n)
    poses[..., 0] += (radius * np.cos(angle))[:, None]
    poses[..., 1] += (radius * np.sin(angle))[:, None]
    poses[..., 2] -= poses[..., 2].min(axis=1, keepdims=True)
    return poses


def add_detector_noise(points_2d, rng, scale=None):
    """Detector-like noise on 2D joints (..., 16, 2): Gaussian per joint plus rare outliers.

    scale: None for the rig's pixels, else a factor per pose (the leading axes of `points_2d`) by
    which a camera shows a person larger than the rig does (`noise_scale`): a detector's error
    grows with the person's size in the image.
    """
    if scale is None:
        noisy = points_2d + rng.normal(size=points_2d.shape) * NOISE_SIGMA_PX[:, None]
        outlier = rng.random(points_2d.shape[:-1]) < OUTLIER_PROBABILITY
        noisy[outlier] += rng.normal(0.0, OUTLIER_SIGMA_PX, (int(outlier.sum()), 2))
        return noisy
    scale = np.asarray(scale, dtype=np.float64)                            # per pose
    noisy = points_2d + rng.normal(size=points_2d.shape) * NOISE_SIGMA_PX[:, None] * scale[..., None, None]
    outlier = rng.random(points_2d.shape[:-1]) < OUTLIER_PROBABILITY
    spread = np.broadcast_to(scale[..., None], outlier.shape)[outlier][:, None] * OUTLIER_SIGMA_PX
    noisy[outlier] += rng.normal(0.0, 1.0, (int(outlier.sum()), 2)) * spread
    return noisy


def _apparent_size(camera):
    """Pixels per mm at the centre of the capture area, 1 m up: how large the camera shows a person."""
    return float(np.mean(camera.f)) / np.linalg.norm(camera.T - [0.0, 0.0, 1000.0])


_RIG_APPARENT_SIZE = float(np.mean([_apparent_size(cam) for s in TRAIN_SUBJECTS + TEST_SUBJECTS
                                    for cam in h36m_cameras(s).values()]))


def noise_scale(camera):
    """How much larger `camera` shows a person than the rig does on average (scales the noise)."""
    return _apparent_size(camera) / _RIG_APPARENT_SIZE


def default_frames_per_action():
    """About 40k 3D poses per subject (300 in quick mode), spread over the activities."""
    per_subject = 300 if config.is_quick() else 40_000
    return -(-per_subject // len(ACTIVITIES))


def load_synthetic(frames_per_action=None, seed=0, noise_2d=True, cache=True, cameras="rig"):
    """The synthetic PoseSet: subjects S1, S5-S8 (train) and S9, S11 (test), one action per
    activity. cameras: "rig" films every pose with the subject's four Human3.6M cameras; "varied"
    films shots of 100 poses each with four cameras drawn at random (`mdnlib.sources.filming`;
    the same 3D poses as the rig's for a seed). Deterministic for a seed; cached in
    `config.cache_dir()` (float32 arrays; the file name says "varied" for varied cameras)."""
    frames = default_frames_per_action() if frames_per_action is None else int(frames_per_action)
    if frames < 1:
        raise ValueError(f"frames_per_action must be at least 1, got {frames_per_action}")
    check_cameras(cameras)
    subjects = TRAIN_SUBJECTS + TEST_SUBJECTS
    path = config.cache_dir() / (f"synthetic_v{GENERATOR_VERSION}_f{frames}_s{seed}"
                                 f"_{'noisy' if noise_2d else 'exact'}"
                                 f"{'' if cameras == 'rig' else '_' + cameras}.npz")
    generate = _generate_arrays if cameras == "rig" else _generate_varied_arrays
    arrays = _read_cache(path) if cache else None
    if arrays is None:
        arrays = generate(subjects, frames, seed, noise_2d)
        if cache:
            save_npz(path, arrays)
    if cameras == "varied":
        return _varied_poseset(arrays, path)
    poses_3d, poses_2d = {}, {}
    for key, values in arrays.items():
        kind, subject, action, *cam = key.split("/")
        if kind == "3d":
            poses_3d.setdefault(subject, {})[action] = values
        else:
            poses_2d.setdefault(subject, {}).setdefault(action, {})[cam[0]] = values
    cameras = {s: h36m_cameras(s) for s in subjects}
    return PoseSet("synthetic", poses_3d, poses_2d, cameras).validate(path.name)


def subject_body(subject, seed=0):
    """The body (height and proportions) of a synthetic subject, fixed by the seed."""
    number = int(subject.lstrip("S"))
    return Body.random(np.random.default_rng([seed, number, 0]))


def _generate_arrays(subjects, frames, seed, noise_2d):
    arrays = {}
    for subject in subjects:
        body = subject_body(subject, seed)
        cameras = h36m_cameras(subject)
        for k, activity in enumerate(ACTIVITIES):
            rng = np.random.default_rng([seed, int(subject.lstrip("S")), k + 1])
            poses = generate_poses(frames, activity, rng, body)
            arrays[f"3d/{subject}/{activity}"] = poses.astype(np.float32)
            for cam_id, cam in cameras.items():
                points = cam.project(poses[:, INPUT_16])
                if noise_2d:
                    points = add_detector_noise(points, rng)
                arrays[f"2d/{subject}/{activity}/{cam_id}"] = points.astype(np.float32)
    return arrays


def _generate_varied_arrays(subjects, frames, seed, noise_2d):
    """Like `_generate_arrays` (the same 3D poses), filmed by varied cameras: per subject and
    activity, 3d (N, 17, 3), 2d (N, VIEWS, 16, 2) and cam (shots, VIEWS, 23) (`camera_to_array`)."""
    arrays = {}
    for subject in subjects:
        body = subject_body(subject, seed)
        number = int(subject.lstrip("S"))
        for k, activity in enumerate(ACTIVITIES):
            rng = np.random.default_rng([seed, number, k + 1])
            poses = generate_poses(frames, activity, rng, body)
            shot_cameras = draw_shot_cameras(frames, np.random.default_rng([seed, number, k + 1, 1]),
                                             CAPTURE_RADIUS_MM)
            views = project_shots(poses, shot_cameras)
            if noise_2d:
                scale = np.repeat([[noise_scale(cam) for cam in shot] for shot in shot_cameras],
                                  SHOT_FRAMES, axis=0)[:frames]
                views = add_detector_noise(views, rng, scale)
            arrays[f"3d/{subject}/{activity}"] = poses.astype(np.float32)
            arrays[f"2d/{subject}/{activity}"] = views.astype(np.float32)
            arrays[f"cam/{subject}/{activity}"] = np.array([[camera_to_array(cam) for cam in shot]
                                                            for shot in shot_cameras])
    return arrays


def _varied_poseset(arrays, path):
    """The PoseSet of `_generate_varied_arrays`'s arrays: one sequence per shot (filming.py)."""
    poses_3d, poses_2d, cameras = {}, {}, {}
    for key in sorted(k for k in arrays if k.startswith("3d/")):
        _, subject, activity = key.split("/")
        poses, views = arrays[key], arrays.get(f"2d/{subject}/{activity}")
        stored = arrays.get(f"cam/{subject}/{activity}")
        if views is None or stored is None or len(stored) != num_shots(len(poses)):
            raise ValueError(f"{path}: {subject}/{activity} lacks its views or cameras; delete the file "
                             "to generate it again")
        shot_cameras = [[camera_from_array(values) for values in shot] for shot in stored]
        p3, p2, cams = shots_as_sequences(activity, poses, views, shot_cameras)
        poses_3d.setdefault(subject, {}).update(p3)
        poses_2d.setdefault(subject, {}).update(p2)
        cameras.setdefault(subject, {}).update(cams)
    return PoseSet("synthetic", poses_3d, poses_2d, cameras).validate(path.name)


def _read_cache(path):
    """The cached arrays, or None when there is no usable cache (an unreadable one is reported).

    Temporary files of writers killed mid-write are removed first.
    """
    remove_stale_temporaries(path)
    if not path.exists():
        return None
    try:
        return read_npz(path, what="synthetic cache")
    except ValueError as error:
        warnings.warn(f"{error}; generating the synthetic set again", stacklevel=3)
        return None
