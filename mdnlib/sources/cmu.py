"""CMU motion capture (ASF skeleton + AMC motion) as 17-joint Human3.6M-like poses (notebook 02).

Real, freely available human motion: the CMU Graphics Lab Motion Capture Database
(mocap.cs.cmu.edu; README "The data"). An ASF file describes one subject's skeleton (bone
directions and lengths in the rest pose, rotation axes, degrees of freedom, hierarchy); each AMC
file gives, per frame (120 Hz), the root translation and every bone's rotation angles.

Forward kinematics follows the Acclaim convention: a bone's axis rotation C comes from its
``axis`` angles, its motion M from the frame's angles (rotations about fixed axes, applied in the
order listed: ``XYZ`` means M = Rz Ry Rx), its global rotation is G = G_parent C M C^-1, and its
end point is the parent's end point plus G (direction * length). Directions are in the global
(rest pose) frame. Lengths are in ASF units: ``:units length 0.45`` means length / 0.45 inches.

The 17 Human3.6M joints are taken from the CMU joints as in `CMU_TO_17` (bone ends, see there);
the y-up CMU world becomes a z-up world in mm with the floor at z = 0, like Human3.6M's.
"""
import lzma
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mdnlib import skeleton
from mdnlib.camera import h36m_cameras
from mdnlib.poseset import PoseSet
from mdnlib.sources.filming import check_cameras, draw_shot_cameras, project_shots, shots_as_sequences

DOWNLOAD_HINT = ("CMU motion capture files (.asf skeleton + .amc motions, or the same compressed "
                 "with xz: .asf.xz, .amc.xz) are free from the CMU Graphics Lab Motion Capture "
                 "Database, http://mocap.cs.cmu.edu: `python -m mdnlib download cmu --subjects 1 2` "
                 "fetches subjects; or put one subject's .asf with its .amc files in a folder, "
                 "or one sub-folder per subject")
MM_PER_INCH = 25.4
# Each of the 17 joints as the end point of CMU bones, averaged. Hip: the middle of the two hip
# joints (CMU's root sits about 10 cm higher, at the lower back), so that the hips sit beside the
# Hip as in Human3.6M. Spine: end of lowerback, about halfway between the hips and the thorax.
# Thorax: end of the thorax bone, where the neck and clavicles start. Neck/Nose: end of upperneck
# (about nose height); Head: end of head (top of the head). Shoulders: ends of the clavicles.
# Wrists: ends of the radius bones (CMU's "wrist" bones are the first segment of the hand).
CMU_TO_17 = {
    "Hip": ("lhipjoint", "rhipjoint"),
    "RHip": ("rhipjoint",), "RKnee": ("rfemur",), "RFoot": ("rtibia",),
    "LHip": ("lhipjoint",), "LKnee": ("lfemur",), "LFoot": ("ltibia",),
    "Spine": ("lowerback",), "Thorax": ("thorax",), "Neck/Nose": ("upperneck",), "Head": ("head",),
    "LShoulder": ("lclavicle",), "LElbow": ("lhumerus",), "LWrist": ("lradius",),
    "RShoulder": ("rclavicle",), "RElbow": ("rhumerus",), "RWrist": ("rradius",),
}
# CMU (x = subject's left at rest, y up, z forward) -> z-up world: a rotation of +90 deg about x.
CMU_TO_ZUP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
# The capture-area radius (mm) that the root may use; see `place_in_capture_area`.
CAPTURE_RADIUS_MM = 1500.0


@dataclass
class Bone:
    """One ASF bone: rest direction (unit, global frame), length (ASF units), axis angles with
    their order, and degrees of freedom in the order the AMC file lists them ("rx", "ry", ...)."""

    name: str
    direction: np.ndarray
    length: float
    axis: np.ndarray
    axis_order: str
    dofs: tuple = ()


@dataclass
class AsfSkeleton:
    """A parsed ASF file. `parents` maps every bone to its parent ("root" for the top bones)."""

    path: str
    mm_per_unit: float
    degrees: bool
    root_order: tuple            # channel names of the root line in AMC files, e.g. ("TX", ..., "RZ")
    root_axis_order: str
    root_position: np.ndarray
    root_orientation: np.ndarray
    bones: dict = field(default_factory=dict)     # name -> Bone
    parents: dict = field(default_factory=dict)   # name -> parent name

    def ordered_bones(self):
        """Bone names, every parent before its children."""
        order, pending = [], ["root"]
        children = {}
        for child, parent in self.parents.items():
            children.setdefault(parent, []).append(child)
        while pending:
            name = pending.pop(0)
            order.extend(children.get(name, []))
            pending.extend(children.get(name, []))
        return order


def _motion_files(folder, kind):
    """The `kind` ("asf" or "amc") files of a folder, plain or xz-compressed, sorted."""
    return sorted([*folder.glob(f"*.{kind}"), *folder.glob(f"*.{kind}.xz")], key=lambda p: p.name)


def _stem(path):
    """A CMU file's name without its extensions: "02_01.amc.xz" -> "02_01"."""
    return path.name.split(".")[0]


def _read_lines(path):
    """The lines of a plain or xz-compressed (".xz") text file; ValueError names a damaged one."""
    if path.suffix != ".xz":
        return path.read_text(errors="replace").splitlines()
    try:
        with lzma.open(path, "rt", errors="replace") as file:
            return file.read().splitlines()
    except (lzma.LZMAError, EOFError) as error:
        raise ValueError(f"{path}: not a complete xz file ({error}); copy or download it again") from None


def read_asf(path):
    """Parse an ASF skeleton file (".asf" or ".asf.xz"); raise ValueError naming the file for
    anything it cannot use."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ASF skeleton file not found: {path}. {DOWNLOAD_HINT}")
    lines = _read_lines(path)
    units = {"length": "1.0", "angle": "deg"}
    root = {"order": "TX TY TZ RX RY RZ", "axis": "XYZ", "position": "0 0 0", "orientation": "0 0 0"}
    bones, parents, section, bone = {}, {}, None, None
    try:
        for lineno, raw in enumerate(lines, start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith(":"):
                section = line.split()[0][1:]
                continue
            key, _, rest = line.partition(" ")
            rest = rest.strip()
            if section == "units":
                units[key] = rest
            elif section == "root":
                root[key] = rest
            elif section == "bonedata":
                if key == "begin":
                    bone = {}
                elif key == "end":
                    bones[bone["name"]] = _make_bone(bone)
                    bone = None
                elif bone is not None:
                    bone[key] = rest
            elif section == "hierarchy" and key not in ("begin", "end"):
                for child in rest.split():
                    parents[child] = key
    except KeyError as err:
        raise ValueError(f"{path}: line {lineno}: the bone ending here has no {err} line") from None
    except (ValueError, IndexError, TypeError) as err:
        raise ValueError(f"{path}: cannot read the ASF skeleton near line {lineno}: {err}") from None
    asf = AsfSkeleton(
        path=str(path),
        mm_per_unit=MM_PER_INCH / float(units["length"]),
        degrees=units["angle"].lower().startswith("deg"),
        root_order=tuple(root["order"].upper().split()),
        root_axis_order=root["axis"].upper(),
        root_position=np.array(root["position"].split(), dtype=float),
        root_orientation=np.array(root["orientation"].split(), dtype=float),
        bones=bones, parents=parents)
    _check_skeleton(asf)
    return asf


def _make_bone(fields):
    axis = fields["axis"].split()
    direction = np.array(fields["direction"].split(), dtype=float)
    norm = np.linalg.norm(direction) if direction.shape == (3,) else 0.0
    if not np.isfinite(norm) or norm == 0:
        raise ValueError(f"bone {fields['name']!r} has direction {fields['direction']}: it needs three "
                         "numbers, not all zero")
    return Bone(name=fields["name"], direction=direction / norm,
                length=float(fields["length"]), axis=np.array(axis[:3], dtype=float),
                axis_order=axis[3].upper() if len(axis) > 3 else "XYZ",
                dofs=tuple(d.lower() for d in fields.get("dof", "").split()))


def _check_skeleton(asf):
    """The bones that the 17-joint mapping needs must exist and hang from the root."""
    needed = {b for bones in CMU_TO_17.values() for b in bones}
    missing = sorted(needed - set(asf.bones))
    if missing:
        raise ValueError(f"{asf.path}: the ASF skeleton lacks the bones {', '.join(missing)} "
                         "needed for the 17-joint Human3.6M skeleton (a CMU skeleton is expected)")
    if "root" in asf.parents:
        raise ValueError(f"{asf.path}: the :hierarchy gives the root a parent ({asf.parents['root']})")
    unknown = sorted((set(asf.parents) | set(asf.parents.values())) - set(asf.bones) - {"root"})
    if unknown:
        raise ValueError(f"{asf.path}: the :hierarchy names bones without :bonedata: {', '.join(unknown)}")
    unreachable = sorted(needed - set(asf.ordered_bones()))
    if unreachable:
        raise ValueError(f"{asf.path}: the :hierarchy does not connect {', '.join(unreachable)} to the root")
    for name in needed:
        if asf.bones[name].length <= 0:
            raise ValueError(f"{asf.path}: bone {name} has a non-positive length")


def read_amc(path, asf):
    """Parse an AMC motion file (".amc" or ".amc.xz") for the skeleton `asf`.

    Returns (frame numbers (N,), {bone name: (N, number of dofs) values as written}): "root" has
    the root channels in ``asf.root_order`` (translations in ASF length units, angles in degrees).
    Every frame must list the bones in the order of the first frame (as VICON writes them).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"AMC motion file not found: {path}. {DOWNLOAD_HINT}")
    lines = _read_lines(path)
    first = next((i for i, line in enumerate(lines) if line.strip().isdigit()), None)
    if first is None:
        raise ValueError(f"{path}: no frames found (an AMC file lists a frame number, then one "
                         "line per bone: name and angles)")
    header = [line.strip() for line in lines[:first] if line.strip() and not line.startswith("#")]
    if any(not h.startswith(":") for h in header):
        raise ValueError(f"{path}: unexpected text before the first frame: {header[0]!r}")
    layout = _frame_layout(path, lines, first, asf)
    # Fast path: the whole motion as one table of tokens, one row per frame.
    tokens = " ".join(lines[first:]).split()
    name_columns = np.cumsum([1] + [1 + w for _, w in layout])
    width = int(name_columns[-1])
    try:
        if len(tokens) % width:
            raise ValueError("incomplete frame")
        table = np.array(tokens).reshape(-1, width)
        if not all(np.all(table[:, c] == name) for c, (name, _) in zip(name_columns, layout)):
            raise ValueError("bone out of place")
        frames = table[:, 0].astype(int)
        values = table[:, np.setdiff1d(np.arange(1, width), name_columns)].astype(float)
    except ValueError:
        raise ValueError(_locate_amc_error(path, lines, first, layout)) from None
    split_at = np.cumsum([w for _, w in layout])[:-1]
    channels = dict(zip((name for name, _ in layout), np.split(values, split_at, axis=1)))
    missing = sorted(b for b, bone in asf.bones.items() if bone.dofs and b not in channels)
    if "root" not in channels or missing:
        raise ValueError(f"{path}: frames lack the bones {', '.join(['root'] * ('root' not in channels) + missing)}")
    return frames, channels


def _frame_layout(path, lines, first, asf):
    """[(bone name, number of values)] of the first frame, checked against the skeleton."""
    layout = []
    for i in range(first + 1, len(lines)):
        parts = lines[i].split()
        if not parts or parts[0].isdigit():
            break
        name = parts[0]
        if name != "root" and name not in asf.bones:
            raise ValueError(f"{path}: line {i + 1}: bone {name!r} is not in the skeleton {asf.path}")
        layout.append((name, len(asf.root_order) if name == "root" else len(asf.bones[name].dofs)))
    return layout


def _locate_amc_error(path, lines, first, layout):
    """Message naming the first line that breaks the frame layout (only used on errors)."""
    i, end = first, len(lines)
    while end > first and not lines[end - 1].strip():  # trailing blank lines are fine
        end -= 1
    while i < end:
        frame = lines[i].strip()
        if not frame.isdigit():
            return f"{path}: line {i + 1}: expected a frame number, found {frame!r}"
        for k, (name, width) in enumerate(layout):
            i += 1
            if i >= end:
                return (f"{path}: line {end}: the file ends in frame {frame} after {k} of "
                        f"{len(layout)} bone lines (truncated?)")
            parts = lines[i].split()
            if parts and parts[0].isdigit():
                return f"{path}: line {i + 1}: frame {frame} has {k} bone lines, expected {len(layout)}"
            if not parts or parts[0] != name:
                return f"{path}: line {i + 1}: expected bone {name!r}, found {lines[i].strip()!r}"
            try:
                np.array(parts[1:], dtype=float)
            except ValueError:
                return f"{path}: line {i + 1}: {name} values are not numbers: {lines[i].strip()!r}"
            if len(parts) - 1 != width:
                return f"{path}: line {i + 1}: {name} has {len(parts) - 1} values, expected {width}"
        i += 1
    return f"{path}: the frames do not follow the layout of the first frame"


def _rotation(axis, angles):
    """Rotation matrices (N, 3, 3) about one coordinate axis ("x", "y" or "z"), angles in radians."""
    c, s = np.cos(angles), np.sin(angles)
    one, zero = np.ones_like(angles), np.zeros_like(angles)
    rows = {"x": [[one, zero, zero], [zero, c, -s], [zero, s, c]],
            "y": [[c, zero, s], [zero, one, zero], [-s, zero, c]],
            "z": [[c, -s, zero], [s, c, zero], [zero, zero, one]]}[axis]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def euler_matrix(angles, order):
    """Rotations (N, 3, 3) from angles (N, len(order)) in radians about fixed axes applied in
    `order` (e.g. "xyz": first x, then y, then z, so R = Rz Ry Rx)."""
    angles = np.atleast_2d(angles)
    result = np.broadcast_to(np.eye(3), (len(angles), 3, 3))
    for k, axis in enumerate(order.lower()):
        result = _rotation(axis, angles[:, k]) @ result
    return result


def forward_kinematics(asf, channels):
    """End points of every bone (and "root"), each (N, 3) in mm in CMU's own y-up frame."""
    root_channels = channels["root"]
    scale = np.pi / 180 if asf.degrees else 1.0
    order = [c for c in asf.root_order if c.startswith("R")]
    root_angles = np.stack([root_channels[:, asf.root_order.index(c)] for c in order], axis=1) * scale
    translation = np.stack([root_channels[:, asf.root_order.index(c)] for c in ("TX", "TY", "TZ")], axis=1)
    C = euler_matrix(np.radians(asf.root_orientation)[None], asf.root_axis_order)[0]
    rotations = {"root": C @ euler_matrix(root_angles, "".join(c[1] for c in order)) @ C.T}
    positions = {"root": (asf.root_position + translation) * asf.mm_per_unit}
    for name in asf.ordered_bones():
        bone, parent = asf.bones[name], asf.parents[name]
        C = euler_matrix(np.radians(bone.axis)[None], bone.axis_order)[0]
        G = rotations[parent]
        if bone.dofs:
            M = euler_matrix(channels[name] * scale, "".join(d[1] for d in bone.dofs))
            G = G @ (C @ M @ C.T)
        rotations[name] = G
        positions[name] = positions[parent] + G @ (bone.direction * bone.length * asf.mm_per_unit)
    return positions


def cmu_positions_17(asf, channels):
    """The 17 Human3.6M joints (N, 17, 3) in mm, z-up world with CMU's floor at z = 0."""
    positions = forward_kinematics(asf, channels)
    joints = np.stack([np.mean([positions[b] for b in CMU_TO_17[name]], axis=0)
                       for name in skeleton.JOINTS_17], axis=1)
    return joints @ CMU_TO_ZUP.T


def place_in_capture_area(poses, radius=CAPTURE_RADIUS_MM):
    """Move a sequence (N, 17, 3) horizontally into the Human3.6M capture area around the origin.

    The sequence's mean root position goes to the origin; frames whose root would then be more
    than `radius` mm from it are shifted back to the circle's edge (whole pose, horizontally), so
    that long walks stay in view of the four cameras while short motions keep their trajectory.
    """
    root = poses[:, skeleton.ROOT, :2]
    offset = root - root.mean(axis=0)
    distance = np.linalg.norm(offset, axis=1, keepdims=True)
    clamped = offset * np.minimum(1.0, radius / np.maximum(distance, 1e-9))
    shift = clamped - root
    return poses + np.concatenate([shift, np.zeros((len(poses), 1))], axis=1)[:, None, :]


def _subject_folders(data_dir):
    """(subject name, asf path, amc paths) for a folder of one subject or of subject folders."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"CMU data folder not found: {data_dir}. {DOWNLOAD_HINT}")
    folders = [data_dir] if _motion_files(data_dir, "asf") else sorted(
        d for d in data_dir.iterdir() if d.is_dir() and _motion_files(d, "asf"))
    if not folders:
        raise FileNotFoundError(f"no .asf skeleton file in {data_dir} or its sub-folders. {DOWNLOAD_HINT}")
    subjects = []
    for folder in folders:
        asfs = _motion_files(folder, "asf")
        if len(asfs) > 1:
            raise ValueError(f"{folder}: several .asf files ({', '.join(a.name for a in asfs)}); "
                             "keep one subject per folder")
        amcs = _motion_files(folder, "amc")
        if not amcs:
            raise FileNotFoundError(f"{folder}: no .amc motion files beside {asfs[0].name}. {DOWNLOAD_HINT}")
        subjects.append((_stem(asfs[0]), asfs[0], amcs))
    return subjects


def load_cmu(data_dir, step=1, cameras="rig", seed=0):
    """Load CMU ASF/AMC motions as a PoseSet (all subjects are test subjects).

    `data_dir` holds one subject's .asf with its .amc files, or one sub-folder per subject (each
    file plain or xz-compressed). Subjects are named by the .asf stem ("01"), actions by the .amc
    stem ("01_01"). `step` keeps every step-th frame (CMU records at 120 Hz, Human3.6M at 50 Hz).
    Every subject is placed with `place_in_capture_area`, then filmed (2D = projection of the 16
    input joints) by the four Human3.6M cameras of S9 (cameras="rig"), or with cameras="varied" by
    cameras drawn at random for every shot of 100 frames (`mdnlib.sources.filming`; a motion
    "01_01" becomes shots "01_01 1", "01_01 2", ...), fixed by `seed` and the motion's name.
    """
    if int(step) < 1:
        raise ValueError(f"step must be a positive integer, got {step}")
    check_cameras(cameras)
    rig = h36m_cameras("S9")
    poses_3d, poses_2d, subject_cameras = {}, {}, {}
    for subject, asf_path, amc_paths in _subject_folders(data_dir):
        asf = read_asf(asf_path)
        for amc_path in amc_paths:
            _, channels = read_amc(amc_path, asf)
            poses = place_in_capture_area(cmu_positions_17(asf, channels)[::int(step)])
            motion = _stem(amc_path)
            if cameras == "rig":
                poses_3d.setdefault(subject, {})[motion] = poses
                poses_2d.setdefault(subject, {})[motion] = {
                    cid: cam.project(poses[:, skeleton.INPUT_16]) for cid, cam in rig.items()}
                subject_cameras[subject] = dict(rig)
                continue
            rng = np.random.default_rng([seed, zlib.crc32(f"{subject}/{motion}".encode())])
            shot_cameras = draw_shot_cameras(len(poses), rng, CAPTURE_RADIUS_MM)
            p3, p2, cams = shots_as_sequences(motion, poses, project_shots(poses, shot_cameras), shot_cameras)
            poses_3d.setdefault(subject, {}).update(p3)
            poses_2d.setdefault(subject, {}).update(p2)
            subject_cameras.setdefault(subject, {}).update(cams)
    subjects = tuple(sorted(poses_3d))
    return PoseSet("cmu", poses_3d, poses_2d, subject_cameras,
                   train_subjects=(), test_subjects=subjects).validate(str(data_dir))
