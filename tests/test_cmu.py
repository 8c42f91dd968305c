"""CMU ASF/AMC loader: hand-checkable forward kinematics on a tiny skeleton, clear errors for bad
files, and plausibility on the real files of the sample shipped in data/cmu-sample."""
import numpy as np
import pytest

from mdnlib import config, skeleton
from mdnlib.sources import cmu

MM = 25.4 / 0.45  # mm per ASF unit with ":units length 0.45"

# A tiny CMU-like skeleton: name -> (parent, direction, length, axis, dofs). Most bones point
# straight up or down with length 1 unit (56.4 mm), so positions are easy to compute by hand.
TINY = {
    "lhipjoint": ("root", (1, 0, 0), 1, (0, 0, 0), ""),
    "lfemur": ("lhipjoint", (0, -1, 0), 4, (0, 0, 0), "rx ry rz"),
    "ltibia": ("lfemur", (0, -1, 0), 4, (0, 0, 0), "rx"),
    "rhipjoint": ("root", (-1, 0, 0), 1, (0, 0, 0), ""),
    "rfemur": ("rhipjoint", (0, -1, 0), 4, (0, 0, 0), "rx ry rz"),
    "rtibia": ("rfemur", (0, 0, 1), 4, (0, 0, 90), "rx"),
    "lowerback": ("root", (0, 1, 0), 2, (0, 0, 0), "rx ry rz"),
    "upperback": ("lowerback", (0, 1, 0), 2, (0, 0, 0), "rx ry rz"),
    "thorax": ("upperback", (0, 1, 0), 2, (0, 0, 0), "rx ry rz"),
    "lowerneck": ("thorax", (0, 1, 0), 1, (0, 0, 0), "rx ry rz"),
    "upperneck": ("lowerneck", (0, 1, 0), 1, (0, 0, 0), "rx ry rz"),
    "head": ("upperneck", (0, 1, 0), 1, (0, 0, 0), "rx ry rz"),
    "lclavicle": ("thorax", (1, 0, 0), 2, (0, 0, 0), "ry rz"),
    "lhumerus": ("lclavicle", (1, 0, 0), 3, (0, 0, 0), "rz rx"),
    "lradius": ("lhumerus", (1, 0, 0), 3, (0, 0, 0), "rx"),
    "rclavicle": ("thorax", (-1, 0, 0), 2, (0, 0, 0), "ry rz"),
    "rhumerus": ("rclavicle", (-1, 0, 0), 3, (0, 0, 0), "rx ry rz"),
    "rradius": ("rhumerus", (0, 0, 1), 3, (0, 0, 0), "rx"),
}


def write_asf(path, bones=TINY):
    """Write an ASF file of `bones` (format as in the CMU database)."""
    lines = [":version 1.10", ":name VICON", ":units", "  mass 1.0", "  length 0.45", "  angle deg",
             ":root", "   order TX TY TZ RX RY RZ", "   axis XYZ", "   position 0 0 0",
             "   orientation 0 0 0", ":bonedata"]
    for i, (name, (_, direction, length, axis, dofs)) in enumerate(bones.items(), start=1):
        lines += ["  begin", f"     id {i}", f"     name {name}",
                  "     direction " + " ".join(map(str, direction)), f"     length {length}",
                  "     axis " + " ".join(map(str, axis)) + "  XYZ"]
        if dofs:
            lines += [f"    dof {dofs}", "    limits " + "\n           ".join(["(-180.0 180.0)"] * len(dofs.split()))]
        lines.append("  end")
    children = {}
    for name, (parent, *_) in bones.items():
        children.setdefault(parent, []).append(name)
    lines += [":hierarchy", "  begin"] + [f"    {p} {' '.join(c)}" for p, c in children.items()] + ["  end"]
    path.write_text("\r\n".join(lines) + "\r\n")  # CRLF like the real files
    return path


def write_amc(path, frames, bones=TINY):
    """Write an AMC file: `frames` is a list of {bone: values} (root: TX TY TZ RX RY RZ); bones
    with dofs that a frame leaves out get zeros."""
    lines = ["#!OML:ASF test.asf", ":FULLY-SPECIFIED", ":DEGREES"]
    for number, values in enumerate(frames, start=1):
        lines.append(str(number))
        lines.append("root " + " ".join(map(str, values.get("root", [0] * 6))))
        for name, (_, _, _, _, dofs) in bones.items():
            if dofs:
                lines.append(name + " " + " ".join(map(str, values.get(name, [0] * len(dofs.split())))))
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


@pytest.fixture
def tiny(tmp_path):
    return cmu.read_asf(write_asf(tmp_path / "07.asf"))


def fk(asf, tmp_path, **values):
    _, channels = cmu.read_amc(write_amc(tmp_path / "m.amc", [values]), asf)
    return {name: p[0] for name, p in cmu.forward_kinematics(asf, channels).items()}


def test_asf_units_bones_and_hierarchy(tiny):
    assert tiny.mm_per_unit == pytest.approx(56.444, abs=1e-3) and tiny.degrees
    assert tiny.root_order == ("TX", "TY", "TZ", "RX", "RY", "RZ")
    assert tiny.bones["lhumerus"].dofs == ("rz", "rx")
    assert tiny.bones["rtibia"].axis.tolist() == [0, 0, 90] and tiny.bones["rtibia"].axis_order == "XYZ"
    assert tiny.parents["lradius"] == "lhumerus" and tiny.parents["lhipjoint"] == "root"
    order = tiny.ordered_bones()
    assert all(order.index(tiny.parents[b]) < order.index(b) for b in order if tiny.parents[b] != "root")


def test_rest_pose_is_the_sum_of_directions_times_lengths(tiny, tmp_path):
    p = fk(tiny, tmp_path, root=[1, 2, 3, 0, 0, 0])
    root = np.array([1, 2, 3]) * MM
    assert np.allclose(p["root"], root)
    assert np.allclose(p["ltibia"], root + np.array([1, -8, 0]) * MM)
    assert np.allclose(p["head"], root + np.array([0, 9, 0]) * MM)
    assert np.allclose(p["rradius"], root + np.array([-5, 6, 3]) * MM)


def test_motion_rotates_about_the_bone_axes(tiny, tmp_path):
    # rtibia points forward (+z) with axis C = Rz(90): its local x is the global y axis, so rx = 90
    # turns it about global y, from +z to +x. rradius (axis 0 0 0) turns about global x: +z -> -y.
    p = fk(tiny, tmp_path, rtibia=[90], rradius=[90])
    assert np.allclose(p["rtibia"] - p["rfemur"], [4 * MM, 0, 0], atol=1e-9)
    assert np.allclose(p["rradius"] - p["rhumerus"], [0, -3 * MM, 0], atol=1e-9)


def test_dof_order_is_the_order_of_application(tiny, tmp_path):
    # lhumerus lists "rz rx": first z then x (fixed axes). +x -> (rz 90) +y -> (rx 90) +z.
    # The other order would give +y. Children follow the rotation: lradius also points +z.
    p = fk(tiny, tmp_path, lhumerus=[90, 90])
    assert np.allclose(p["lhumerus"] - p["lclavicle"], [0, 0, 3 * MM], atol=1e-9)
    assert np.allclose(p["lradius"] - p["lhumerus"], [0, 0, 3 * MM], atol=1e-9)


def test_root_rotation_applies_x_then_y_then_z(tiny, tmp_path):
    # head offset +y: RX 90 -> +z, then RY 90 -> +x (y first would give +z)
    p = fk(tiny, tmp_path, root=[0, 0, 0, 90, 90, 0])
    assert np.allclose(p["head"] - p["root"], [9 * MM, 0, 0], atol=1e-9)


def test_17_joints_are_the_documented_bone_ends_in_a_z_up_world(tiny, tmp_path):
    _, channels = cmu.read_amc(write_amc(tmp_path / "m.amc", [{"root": [0, 10, 0, 0, 0, 0]}]), tiny)
    joints = cmu.cmu_positions_17(tiny, channels)[0]
    ends = {n: p[0] for n, p in cmu.forward_kinematics(tiny, channels).items()}
    j = {name: joints[i] for i, name in enumerate(skeleton.JOINTS_17)}
    to_zup = lambda p: np.array([p[0], -p[2], p[1]])  # noqa: E731  (y up -> z up, forward -> -y)
    assert np.allclose(j["Hip"], to_zup((ends["lhipjoint"] + ends["rhipjoint"]) / 2))
    assert np.allclose(j["Hip"], [0, 0, 10 * MM])
    assert np.allclose(j["LWrist"], to_zup(ends["lradius"]))
    assert np.allclose(j["Head"], [0, 0, 19 * MM]) and np.allclose(j["Neck/Nose"], [0, 0, 18 * MM])
    assert np.allclose(j["RFoot"], [-1 * MM, -4 * MM, 6 * MM])  # rtibia points forward (+z -> -y)
    assert j["LHip"][0] > 0 > j["RHip"][0]  # CMU's +x is the subject's left, kept as +x


def test_read_amc_returns_channels_per_bone(tiny, tmp_path):
    frames, channels = cmu.read_amc(write_amc(tmp_path / "m.amc", [
        {"root": [1, 2, 3, 4, 5, 6], "lhumerus": [7, 8]}, {"lradius": [9.5]}]), tiny)
    assert frames.tolist() == [1, 2]
    assert channels["root"].tolist() == [[1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 0]]
    assert channels["lhumerus"].tolist() == [[7, 8], [0, 0]] and channels["lradius"][:, 0].tolist() == [0, 9.5]


def test_load_cmu_layouts_step_and_cameras(tmp_path):
    for subject in ("07", "08"):
        folder = tmp_path / "all" / subject
        folder.mkdir(parents=True)
        write_asf(folder / f"{subject}.asf")
        # walking along +z (CMU forward) from 0 to 10 units over 11 frames
        write_amc(folder / f"{subject}_01.amc", [{"root": [0, 17, k, 0, 0, 0]} for k in range(11)])
    both = cmu.load_cmu(tmp_path / "all", step=2)
    one = cmu.load_cmu(tmp_path / "all" / "08")
    assert both.subjects == ["07", "08"] and both.test_subjects == ("07", "08") and both.train_subjects == ()
    assert one.subjects == ["08"] and one.actions() == ["08_01"] and one.num_frames() == 11
    poses = both.poses_3d["07"]["07_01"]
    assert poses.shape == (6, 17, 3)
    # mean root position moved to the origin horizontally, height kept, walking direction -y
    assert np.allclose(poses[:, 0, :2].mean(axis=0), 0, atol=1e-9)
    assert np.allclose(poses[:, 0, 2], 17 * MM)  # TINY's hip joints sit level with the root
    assert np.allclose(np.diff(poses[:, 0, 1]), -2 * MM)
    cams = both.cameras["07"]
    assert set(cams) == {"54138969", "55011271", "58860488", "60457274"}
    for cid, p2 in both.poses_2d["07"]["07_01"].items():
        assert np.allclose(p2, cams[cid].project(poses[:, skeleton.INPUT_16]))


def test_capture_area_clamp_keeps_long_walks_in_a_disc():
    poses = np.zeros((5, 17, 3))
    poses[:, :, 0] = np.array([0, 1000, 2000, 3000, 10000])[:, None] + 5000.0
    poses[:, 3, 2] = 80.0
    placed = cmu.place_in_capture_area(poses, radius=1500)
    root = placed[:, 0]
    assert np.all(np.linalg.norm(root[:, :2], axis=1) <= 1500 + 1e-9)
    assert np.allclose(root[:, 0], [-1500, -1500, -1200, -200, 1500])  # mean 3200 -> origin, clamped
    assert np.allclose(placed - placed[:, :1], poses - poses[:, :1])  # poses themselves unchanged


# ---- bad input ----

def test_missing_folder_says_where_to_get_the_data(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing_here.*mocap\.cs\.cmu\.edu"):
        cmu.load_cmu(tmp_path / "nothing_here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no \.asf.*empty"):
        cmu.load_cmu(tmp_path / "empty")


def test_asf_without_the_expected_bones_names_file_and_bones(tmp_path):
    bones = {k: v for k, v in TINY.items() if k not in ("lradius", "rtibia")}
    path = write_asf(tmp_path / "bad.asf", bones)
    with pytest.raises(ValueError, match=r"bad\.asf.*lacks the bones lradius, rtibia"):
        cmu.read_asf(path)


def test_truncated_amc_names_file_and_line(tiny, tmp_path):
    path = write_amc(tmp_path / "cut.amc", [{}, {}, {}])
    lines = path.read_text().splitlines()  # 3 header lines, then 18 lines per frame
    path.write_text("\n".join(lines[:-5]) + "\n")  # the last frame loses 5 of its 17 bone lines
    with pytest.raises(ValueError, match=r"cut\.amc: line 52: the file ends in frame 3 after 12 of 17 bone lines"):
        cmu.read_amc(path, tiny)
    path.write_text("\n".join(lines[:30] + lines[35:]) + "\n")  # frame 2 loses 5 lines in the middle
    with pytest.raises(ValueError, match=r"cut\.amc: line 31: expected bone 'lowerneck', found 'lradius 0'"):
        cmu.read_amc(path, tiny)
    path.write_text("\n".join(lines[:35] + lines[39:]) + "\n")  # frame 2 loses its last 4 lines
    with pytest.raises(ValueError, match=r"cut\.amc: line 36: frame 2 has 13 bone lines, expected 17"):
        cmu.read_amc(path, tiny)


def test_garbled_amc_values_name_file_and_line(tiny, tmp_path):
    path = write_amc(tmp_path / "bad.amc", [{}, {}])
    text = path.read_text().replace("lradius 0\n", "lradius zero\n", 1)
    path.write_text(text)
    with pytest.raises(ValueError, match=r"bad\.amc: line 18: lradius values are not numbers"):
        cmu.read_amc(path, tiny)
    path.write_text(text.replace("lradius zero", "lradius 1 2"))
    with pytest.raises(ValueError, match=r"bad\.amc: line 18: lradius has 2 values, expected 1"):
        cmu.read_amc(path, tiny)
    path.write_text(text.replace("lradius zero", "lknuckle 0"))
    with pytest.raises(ValueError, match=r"bad\.amc: line 18: bone 'lknuckle' is not in the skeleton"):
        cmu.read_amc(path, tiny)
    path.write_text(":FULLY-SPECIFIED\n:DEGREES\n")
    with pytest.raises(ValueError, match=r"bad\.amc: no frames"):
        cmu.read_amc(path, tiny)


# ---- the real files ----

def _real(subject, action):
    asf = cmu.read_asf(config.CMU_SAMPLE_DIR / subject / f"{subject}.asf.xz")
    _, channels = cmu.read_amc(config.CMU_SAMPLE_DIR / subject / f"{action}.amc.xz", asf)
    return cmu.cmu_positions_17(asf, channels)


@pytest.mark.parametrize("subject, action", [("01", "01_01"), ("02", "02_01")])
def test_real_subjects_stand_at_human_height_on_the_floor(subject, action):
    poses = _real(subject, action)
    ankles = poses[:, [skeleton.joint_index("LFoot"), skeleton.joint_index("RFoot")], 2].min(axis=1)
    on_floor = ankles < 150  # subject 01 also climbs playground frames
    assert on_floor.mean() > 0.5 and 40 < np.median(ankles[on_floor]) < 130
    head = np.percentile(poses[on_floor, skeleton.joint_index("Head"), 2], 95)
    # 1.62 m (02) and 1.66 m (01): the end of CMU's head bone, a few cm below the top of the head
    assert 1550 < head < 1800


def test_real_bone_lengths_are_constant_and_knees_and_elbows_bend_the_right_way():
    poses = _real("02", "02_01")
    lengths = np.stack([np.linalg.norm(poses[:, j] - poses[:, p], axis=1) for j, p in skeleton.BONES_17], axis=1)
    # Spine, Thorax and Neck/Nose each span two CMU bones, so the spine may bend between them
    one_cmu_bone = [i for i, (j, _) in enumerate(skeleton.BONES_17)
                    if skeleton.JOINTS_17[j] not in ("Spine", "Thorax", "Neck/Nose")]
    assert np.allclose(lengths[:, one_cmu_bone], lengths[0, one_cmu_bone], atol=1e-6)
    assert np.all(np.abs(lengths / lengths.mean(axis=0) - 1) < 0.1)
    assert 350 < lengths[0, skeleton.joint_index("RKnee") - 1] < 500  # a thigh
    left = poses[:, 4] - poses[:, 1]
    for hip, knee, foot in [(1, 2, 3), (4, 5, 6)]:
        flex = _bend_sine(poses, hip, knee, foot, left)
        assert np.all(flex > -0.1), "a knee bends forwards"
        assert np.max(flex) > 0.5  # walking really bends the knees
    for shoulder, elbow, wrist in [(11, 12, 13), (14, 15, 16)]:
        assert np.all(_bend_sine(poses, shoulder, elbow, wrist, left) < 0.1), "an elbow bends backwards"


def _bend_sine(poses, a, b, c, left):
    """Sine of the bend at joint b, signed about the body's left axis (knees +, elbows -)."""
    upper, lower = poses[:, b] - poses[:, a], poses[:, c] - poses[:, b]
    bend = np.einsum("ij,ij->i", np.cross(upper, lower), left / np.linalg.norm(left, axis=1, keepdims=True))
    return bend / (np.linalg.norm(upper, axis=1) * np.linalg.norm(lower, axis=1))


def test_real_walking_speed_is_plausible():
    poses = _real("02", "02_01")  # "walk", 120 Hz
    root = poses[:, 0, :2]
    speed = np.linalg.norm(root[-1] - root[0]) / 1000 / ((len(root) - 1) / 120)
    assert 0.8 < speed < 1.8  # metres per second


def test_real_data_loads_and_stays_in_view():
    poses = cmu.load_cmu(config.CMU_SAMPLE_DIR / "02", step=10)
    assert poses.subjects == ["02"] and len(poses.actions()) == 10
    for action in poses.actions():
        assert np.all(np.linalg.norm(poses.poses_3d["02"][action][:, 0, :2], axis=1) <= cmu.CAPTURE_RADIUS_MM + 1e-6)
        for cid, p2 in poses.poses_2d["02"][action].items():
            assert np.all((p2 > 0) & (p2 < 1000)), (action, cid)


def test_garbled_asf_names_file_and_line(tmp_path):
    path = write_asf(tmp_path / "bad.asf")
    text = path.read_text()
    path.write_text(text.replace("     length 4\n", "", 1))  # lfemur loses its length
    with pytest.raises(ValueError, match=r"bad\.asf: line 29: the bone ending here has no 'length' line"):
        cmu.read_asf(path)
    path.write_text(text.replace("direction 0 -1 0", "direction 0 -1 zero", 1))
    with pytest.raises(ValueError, match=r"bad\.asf: cannot read the ASF skeleton near line \d+: .*zero"):
        cmu.read_asf(path)
    path.write_text(text.replace("direction 0 -1 0", "direction 0 0 0", 1))
    with pytest.raises(ValueError, match=r"bad\.asf: cannot read the ASF skeleton near line \d+: bone "
                                         r"'\w+' has direction 0 0 0: it needs three numbers, not all zero"):
        cmu.read_asf(path)
    path.write_text(text.replace("    lfemur ltibia", "    lfemur ltibia root", 1))
    with pytest.raises(ValueError, match=r"bad\.asf: the :hierarchy gives the root a parent"):
        cmu.read_asf(path)


def test_the_sample_is_small_credited_and_loads_by_default():
    from mdnlib.sources import load_source
    files = sorted(p.relative_to(config.CMU_SAMPLE_DIR).as_posix() for p in config.CMU_SAMPLE_DIR.rglob("*.xz"))
    assert files[:2] == ["01/01.asf.xz", "01/01_01.amc.xz"] and len(files) == 13
    assert sum(p.stat().st_size for p in config.CMU_SAMPLE_DIR.rglob("*")) < 4e6
    assert "NSF EIA-0196217" in (config.CMU_SAMPLE_DIR / "README.md").read_text()
    poses = load_source("cmu", step=60) if config.cmu_dir() == config.CMU_SAMPLE_DIR else None
    if poses is not None:   # (unless subjects were downloaded into data/cmu)
        assert poses.subjects == ["01", "02"] and poses.actions("01") == ["01_01"]


def test_a_damaged_xz_file_names_the_file(tmp_path):
    path = tmp_path / "02.asf.xz"
    path.write_bytes((config.CMU_SAMPLE_DIR / "02" / "02.asf.xz").read_bytes()[:300])
    with pytest.raises(ValueError, match=r"02\.asf\.xz: not a complete xz file.*again"):
        cmu.read_asf(path)
