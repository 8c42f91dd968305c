"""Human3.6M loaders on tiny trees written in the exact published formats: values, layouts,
naming quirks and clear errors for bad files."""
from pathlib import Path

import h5py
import numpy as np
import pytest

from h36m_fixtures import write_h36m_baseline_tree, write_h36m_npz
from mdnlib import skeleton
from mdnlib.camera import CAMERA_IDS, DISTORTION, INTRINSICS, h36m_camera, h36m_cameras
from mdnlib.sources import h36m

FEW = ("Directions", "Sitting", "SittingDown", "Walking")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    root = tmp_path_factory.mktemp("baseline")
    return root, write_h36m_baseline_tree(root, actions=FEW)


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    root = tmp_path_factory.mktemp("npz")
    return root, write_h36m_npz(root, actions=("Directions", "Photo", "Walking"))


def same(a, b):
    return a.shape == b.shape and np.allclose(a, b, rtol=0, atol=1e-6)


# ---- names ----

def test_sequence_names_are_canonical():
    assert h36m.sequence_name("TakingPhoto_1") == "Photo 1"
    assert h36m.sequence_name("WalkingDog") == "WalkDog"
    assert h36m.sequence_name("Walking 1") == "Walking 1"
    assert h36m.sequence_name("SittingDown 2") == "SittingDown 2"
    assert h36m.sequence_name("_ALL 1") is None and h36m.sequence_name("Dancing") is None
    assert h36m.action_of("Eating 2") == "Eating" and h36m.action_of("WalkTogether") == "WalkTogether"


# ---- 3d-pose-baseline layout ----

def test_baseline_3d_and_projected_2d(baseline):
    root, truth = baseline
    poses = h36m.load_h36m(root, subjects=("S1", "S9", "S11"), actions=FEW)
    assert poses.subjects == ["S1", "S9", "S11"]
    assert poses.actions("S9") == sorted(a + n for a in FEW for n in ("", " 1"))  # Sitting != SittingDown
    for s in poses.subjects:
        for sequence, p3 in poses.poses_3d[s].items():
            assert same(p3, truth["poses_17"][s][sequence])
            assert set(poses.poses_2d[s][sequence]) == set(CAMERA_IDS)
            for cid, p2 in poses.poses_2d[s][sequence].items():
                assert same(p2, truth["cameras"][s][cid].project(p3[:, skeleton.INPUT_16]))
    # the 32 -> 17 selection: LShoulder is joint 17 of the 32, RWrist joint 27
    raw = truth["poses_32"]["S9"]["Walking 1"]
    assert same(poses.poses_3d["S9"]["Walking 1"][:, skeleton.joint_index("LShoulder")], raw[:, 17])
    assert same(poses.poses_3d["S9"]["Walking 1"][:, skeleton.joint_index("RWrist")], raw[:, 27])
    assert poses.train_subjects == ("S1", "S5", "S6", "S7", "S8") and poses.test_subjects == ("S9", "S11")
    # both spellings of data_dir work
    again = h36m.load_h36m(root / "h36m", subjects=("S9",), actions=("Walking",))
    assert again.actions() == ["Walking", "Walking 1"]
    assert same(again.poses_3d["S9"]["Walking"], poses.poses_3d["S9"]["Walking"])


def test_cameras_h5_r_is_transposed_and_a_point_on_the_axis_hits_the_principal_point(tmp_path):
    write_h36m_baseline_tree(tmp_path, subjects=("S9",), actions=("Walking",), with_sh=False)
    with h5py.File(tmp_path / "h36m" / "cameras.h5", "r") as f:
        stored = {k: f[f"subject9/camera2/{k}"][()] for k in ("R", "T", "f", "c", "k", "p")}
    R = stored["R"].T  # world -> camera
    assert not np.allclose(stored["R"], R)
    # the Hip at 5 m along camera 2's optical axis, the RHip off-axis
    poses = np.zeros((3, 32, 3)) + [0.0, 0.0, 900.0]
    poses[:, 0] = stored["T"].ravel() + R.T @ [0, 0, 5000.0]
    poses[:, 1] = [300.0, -200.0, 1200.0]
    with h5py.File(tmp_path / "h36m" / "S9" / "MyPoses" / "3D_positions" / "Walking.h5", "w") as f:
        f["3D_positions"] = poses.reshape(3, 96).T
    loaded = h36m.load_h36m(tmp_path, subjects=("S9",), actions=("Walking",))
    assert np.allclose(loaded.cameras["S9"]["55011271"].R, R)
    pixels = loaded.poses_2d["S9"]["Walking"]["55011271"]
    assert np.allclose(pixels[:, 0], stored["c"].ravel())
    # 3d-pose-baseline's distortion formula, by hand, for the off-axis point
    X = R @ (poses[0, 1] - stored["T"].ravel())
    x = X[:2] / X[2]
    r2 = x @ x
    k, p = stored["k"].ravel(), stored["p"].ravel()
    radial = 1 + k[0] * r2 + k[1] * r2 ** 2 + k[2] * r2 ** 3
    expected = stored["f"].ravel() * (x * (radial + p[0] * x[1] + p[1] * x[0]) + np.array([p[1], p[0]]) * r2) \
        + stored["c"].ravel()
    assert np.allclose(pixels[0, 1], expected)


def test_stacked_hourglass_detections_reordered_with_the_s11_gap(baseline):
    root, truth = baseline
    poses = h36m.load_h36m(root, use_sh=True, subjects=("S1", "S9", "S11"), actions=FEW)
    for s in poses.subjects:
        for sequence, views in poses.poses_2d[s].items():
            assert set(views) == set(truth["sh_2d"][s][sequence])
            for cid, p2 in views.items():
                assert same(p2, truth["sh_2d"][s][sequence][cid])
    assert sorted(poses.poses_2d["S11"]["Directions"]) == ["55011271", "58860488", "60457274"]
    assert len(poses.poses_2d["S11"]["Directions 1"]) == 4 and len(poses.poses_2d["S9"]["Directions"]) == 4
    # MPII -> input order: the detection file's slot 6 (Pelvis) is our Hip, slot 15 (LWrist) our LWrist
    path = root / "h36m" / "S9" / "StackedHourglassFineTuned240" / "Walking_1.58860488.h5"
    with h5py.File(path, "r") as f:
        raw = f["poses"][()]
    views = poses.poses_2d["S9"]["Walking 1"]["58860488"]
    assert same(views[:, 0], raw[:, 6]) and same(views[:, skeleton.INPUT_NAMES.index("LWrist")], raw[:, 15])


def test_s1_action_aliases_and_the_pretrained_folder(tmp_path):
    write_h36m_baseline_tree(tmp_path, subjects=("S1",), actions=("Photo", "WalkDog", "Walking"),
                             sh_folder="StackedHourglass",
                             file_names={"Photo": "TakingPhoto", "WalkDog": "WalkingDog"})
    poses = h36m.load_h36m(tmp_path, use_sh=True, sh_folder="StackedHourglass", subjects=("S1",),
                           actions=("Photo", "WalkDog", "Walking"))
    assert poses.actions() == ["Photo", "Photo 1", "WalkDog", "WalkDog 1", "Walking", "Walking 1"]


def test_without_cameras_h5_the_published_rig_is_used(tmp_path):
    truth = write_h36m_baseline_tree(tmp_path, subjects=("S9",), actions=("Walking",), with_sh=False,
                                     with_cameras=False)
    with pytest.warns(UserWarning, match="cameras.h5 not found.*no longer distributed"):
        poses = h36m.load_h36m(tmp_path, subjects=("S9",), actions=("Walking",))
    cam = h36m_camera("S9", "60457274")
    assert np.allclose(poses.cameras["S9"]["60457274"].R, cam.R)
    assert same(poses.poses_2d["S9"]["Walking"]["60457274"],
                cam.project(truth["poses_17"]["S9"]["Walking"][:, skeleton.INPUT_16]))


# ---- baseline layout: bad input ----

def test_missing_folders_name_the_paths_and_the_downloads(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)nothing.h36m.*h36m\.zip.*no longer distributed"):
        h36m.load_h36m(tmp_path / "nothing")
    write_h36m_baseline_tree(tmp_path, subjects=("S9",), actions=("Walking",), with_sh=False)
    with pytest.raises(FileNotFoundError, match=r"S9.StackedHourglassFineTuned240 is missing.*Stacked Hourglass"):
        h36m.load_h36m(tmp_path, use_sh=True, subjects=("S9",), actions=("Walking",))
    with pytest.raises(FileNotFoundError, match=r"S11.MyPoses.3D_positions is missing"):
        h36m.load_h36m(tmp_path, subjects=("S9", "S11"), actions=("Walking",))
    with pytest.raises(FileNotFoundError, match=r"3D_positions: no 3D file for Eating.*incomplete"):
        h36m.load_h36m(tmp_path, subjects=("S9",), actions=("Walking", "Eating"))
    with pytest.raises(ValueError, match="unknown subjects or actions: S2, Dancing"):
        h36m.load_h36m(tmp_path, subjects=("S2",), actions=("Dancing",))


def test_missing_detection_file_is_named(tmp_path):
    write_h36m_baseline_tree(tmp_path, subjects=("S9",), actions=("Walking",))
    (tmp_path / "h36m" / "S9" / "StackedHourglassFineTuned240" / "Walking_1.55011271.h5").unlink()
    expected = r"no detections for Walking 1, camera 55011271 \(expected Walking_1.55011271.h5\)"
    with pytest.raises(FileNotFoundError, match=expected):
        h36m.load_h36m(tmp_path, use_sh=True, subjects=("S9",), actions=("Walking",))


@pytest.mark.parametrize("damage, message", [
    ("empty", r"Walking 1\.h5: not a readable HDF5 file"),
    ("truncated", r"Walking 1\.h5: not a readable HDF5 file"),
    ("transposed", r"Walking 1\.h5: '3D_positions' must have shape \(96, N\).*found \(6, 96\)"),
    ("renamed", r"Walking 1\.h5: no dataset '3D_positions' \(found: poses\)"),
    ("nan", r"Walking 1\.h5: '3D_positions' contains NaN"),
    ("text", r"Walking 1\.h5: '3D_positions' holds \|S\d+ values, expected numbers"),
])
def test_bad_3d_files_are_named(tmp_path, damage, message):
    write_h36m_baseline_tree(tmp_path, subjects=("S9",), actions=("Walking",), with_sh=False)
    path = tmp_path / "h36m" / "S9" / "MyPoses" / "3D_positions" / "Walking 1.h5"
    content = path.read_bytes()
    with h5py.File(path, "r") as f:
        data = f["3D_positions"][()]
    if damage in ("empty", "truncated"):
        path.write_bytes(b"" if damage == "empty" else content[: len(content) // 2])
    else:
        path.unlink()
        with h5py.File(path, "w") as f:
            if damage == "nan":
                data[5, 1] = np.nan
            if damage == "text":
                data = data.astype(bytes)
            f["poses" if damage == "renamed" else "3D_positions"] = data.T if damage == "transposed" else data
    with pytest.raises(ValueError, match=message):
        h36m.load_h36m(tmp_path, subjects=("S9",), actions=("Walking",))


@pytest.mark.parametrize("damage, message", [
    ("frames", r"Walking\.54138969\.h5: 4 frames of detections, but the 3D file .*Walking\.h5 has 5"),
    ("joints", r"Walking\.54138969\.h5: 'poses' must have shape \(N, 16, 2\).*found \(5, 17, 2\)"),
    ("nan", r"Walking\.54138969\.h5: 'poses' contains NaN"),
    ("empty", r"Walking\.54138969\.h5: not a readable HDF5 file"),
])
def test_bad_detection_files_are_named(tmp_path, damage, message):
    write_h36m_baseline_tree(tmp_path, subjects=("S9",), actions=("Walking",))
    path = tmp_path / "h36m" / "S9" / "StackedHourglassFineTuned240" / "Walking.54138969.h5"
    with h5py.File(path, "r") as f:
        data = f["poses"][()]
    path.unlink()
    if damage == "empty":
        path.write_bytes(b"")
    else:
        with h5py.File(path, "w") as f:
            if damage == "nan":
                data[2, 3, 0] = np.nan
            f["poses"] = {"frames": data[:4], "joints": np.zeros((5, 17, 2))}.get(damage, data)
    with pytest.raises(ValueError, match=message):
        h36m.load_h36m(tmp_path, use_sh=True, subjects=("S9",), actions=("Walking",))


def test_bad_cameras_h5_is_named(tmp_path):
    write_h36m_baseline_tree(tmp_path, subjects=("S9",), actions=("Walking",), with_sh=False)
    with h5py.File(tmp_path / "h36m" / "cameras.h5", "a") as f:
        del f["subject9/camera3/k"]
        f["subject9/camera3/k"] = np.zeros(2)
    with pytest.raises(ValueError, match=r"cameras\.h5: subject9/camera3/k must hold \(3,\) numbers, found \(2,\)"):
        h36m.load_h36m(tmp_path, subjects=("S9",), actions=("Walking",))


# ---- VideoPose3D layout ----

def test_npz_metres_to_mm_names_and_ground_truth_2d(npz):
    root, truth = npz
    poses = h36m.load_h36m_npz(root, subjects=("S1", "S9", "S11"), actions=("Directions", "Photo", "Walking"), trust_pickle=True)
    assert poses.actions("S1") == ["Directions", "Directions 1", "Photo", "Photo 1", "Walking", "Walking 1"]
    assert poses.actions("S11") == ["Directions 1", "Photo", "Photo 1", "Walking", "Walking 1"]
    with np.load(root / "data_3d_h36m.npz", allow_pickle=True) as f:
        raw = f["positions_3d"].item()["S1"]["TakingPhoto 1"]
    lwrist = poses.poses_3d["S1"]["Photo 1"][:, skeleton.joint_index("LWrist")]
    assert same(lwrist, raw[:, 19].astype(np.float64) * 1000.0)
    for s in poses.subjects:
        for sequence, p3 in poses.poses_3d[s].items():
            assert same(p3, truth["poses_17"][s][sequence])
            for cid, p2 in poses.poses_2d[s][sequence].items():
                assert same(p2, truth["poses_2d"]["gt"][s][sequence][cid])  # trimmed to the 3D length
    assert poses.test_subjects == ("S9", "S11")


@pytest.mark.parametrize("source", ["cpn_ft_h36m_dbb", "sh_ft_h36m"])
def test_npz_detections_17_and_16_joint_layouts(npz, source):
    root, truth = npz
    poses = h36m.load_h36m_npz(root, source_2d=source, subjects=("S9", "S11"), actions=("Walking", "Photo"), trust_pickle=True)
    for s in poses.subjects:
        for sequence, views in poses.poses_2d[s].items():
            assert list(views) == list(CAMERA_IDS)
            for cid, p2 in views.items():
                assert same(p2, truth["poses_2d"][source][s][sequence][cid])


def test_npz_without_a_2d_file_projects_with_the_rig(tmp_path):
    truth = write_h36m_npz(tmp_path, subjects=("S5",), actions=("Eating",), sources=("sh_ft_h36m",))
    poses = h36m.load_h36m_npz(tmp_path, subjects=("S5",), actions=("Eating",), trust_pickle=True)
    cams = h36m_cameras("S5")
    for sequence, p3 in truth["poses_17"]["S5"].items():
        for cid, cam in cams.items():
            assert same(poses.poses_2d["S5"][sequence][cid], cam.project(p3[:, skeleton.INPUT_16]))
    with pytest.raises(FileNotFoundError, match=r"data_2d_h36m_cpn_ft_h36m_dbb\.npz not found.*VideoPose3D"):
        h36m.load_h36m_npz(tmp_path, source_2d="cpn_ft_h36m_dbb", subjects=("S5",), actions=("Eating",), trust_pickle=True)


def test_rig_distortion_matches_videopose3d_projection():
    """VideoPose3D's tangential pair (t1, t2) is cameras.h5's p reversed."""
    def videopose3d_project(X, f, c, k, t):
        x = X[..., :2] / X[..., 2:]
        r2 = np.sum(x ** 2, axis=-1, keepdims=True)
        radial = 1 + k[0] * r2 + k[1] * r2 ** 2 + k[2] * r2 ** 3
        tan = np.sum(np.asarray(t) * x, axis=-1, keepdims=True)
        return f * (x * (radial + tan) + np.asarray(t) * r2) + c

    points = np.random.default_rng(0).normal(size=(50, 3)) * [600, 600, 500] + [0, 0, 900]
    for cid in CAMERA_IDS:
        cam = h36m_camera("S7", cid)
        k1, k2, k3, t1, t2 = DISTORTION[cid]
        fx, fy, cx, cy = INTRINSICS[cid][:4]
        expected = videopose3d_project(cam.world_to_camera(points), np.array([fx, fy]), np.array([cx, cy]),
                                       (k1, k2, k3), (t1, t2))
        assert np.allclose(cam.project(points), expected)
        assert not np.allclose(expected, videopose3d_project(cam.world_to_camera(points), np.array([fx, fy]),
                                                             np.array([cx, cy]), (k1, k2, k3), (t2, t1)))


# ---- VideoPose3D layout: bad input ----

def _rewrite(path, key, edit):
    with np.load(path, allow_pickle=True) as f:
        arrays = {name: f[name].item() for name in f.files}
    edit(arrays[key])
    np.savez(path, **arrays)


@pytest.mark.parametrize("damage, error, message", [
    ("missing", FileNotFoundError, r"data_3d_h36m\.npz not found.*VideoPose3D"),
    ("empty", ValueError, r"data_3d_h36m\.npz: empty VideoPose3D file \(0 bytes\)"),
    ("truncated", ValueError, r"data_3d_h36m\.npz: damaged VideoPose3D file \(BadZipFile"),
    ("text", ValueError, r"data_3d_h36m\.npz: not an \.npz file \(an \.npz is a zip archive; this file "
                         r"starts with b'S1,Wal'\)"),
    ("joints", ValueError, r"data_3d_h36m\.npz: S9 'Walking' must be \(N, 32, 3\).*found \(5, 17, 3\)"),
    ("subject", ValueError, r"data_3d_h36m\.npz: no subject S9"),
    ("strings", ValueError, r"data_3d_h36m\.npz: S9 'Walking' holds <U\d+ values, expected numbers"),
])
def test_bad_3d_npz_is_named(tmp_path, damage, error, message):
    write_h36m_npz(tmp_path, subjects=("S9",), actions=("Walking",), sources=("gt",))
    path = tmp_path / "data_3d_h36m.npz"
    if damage == "missing":
        path.unlink()
    elif damage in ("empty", "truncated", "text"):
        content = path.read_bytes()
        path.write_bytes({"empty": b"", "truncated": content[: len(content) // 2],
                          "text": b"S1,Walking,0.1,0.2\n"}[damage])
    elif damage == "joints":
        _rewrite(path, "positions_3d", lambda d: d["S9"].update(Walking=d["S9"]["Walking"][:, :17]))
    elif damage == "strings":
        _rewrite(path, "positions_3d", lambda d: d["S9"].update(Walking=d["S9"]["Walking"].astype(str)))
    else:
        _rewrite(path, "positions_3d", lambda d: d.update(S5=d.pop("S9")))
    with pytest.raises(error, match=message):
        h36m.load_h36m_npz(tmp_path, subjects=("S9",), actions=("Walking",), trust_pickle=True)


@pytest.mark.parametrize("damage, message", [
    ("short", r"S9 'Walking' camera 55011271: 4 frames of 2D poses, fewer than the 5 frames of 3D"),
    ("nan", r"S9 'Walking' camera 58860488: 2D poses contain NaN"),
    ("joints", r"S9 'Walking' camera 54138969: 2D poses must be \(N, 17, 2\), found \(7, 15, 2\)"),
    ("cameras", r"S9 'Walking': 3 camera views, expected 4"),
    ("sequence", r"S9 'Walking 1': no 2D poses for this 3D sequence"),
    ("metadata", r"15 joints per 2D pose; expected 17 \(Human3\.6M order\) or 16 \(MPII order\)"),
    ("strings", r"S9 'Walking' camera 54138969 holds <U\d+ values, expected numbers"),
])
def test_bad_2d_npz_is_named(tmp_path, damage, message):
    write_h36m_npz(tmp_path, subjects=("S9",), actions=("Walking",), sources=("cpn_ft_h36m_dbb",))
    path = tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz"

    def edit(d):
        if damage == "metadata":
            d["num_joints"] = 15
            return
        views = d["S9"]["Walking"]
        if damage == "short":
            views[1] = views[1][:4]
        elif damage == "nan":
            views[2][3, 5, 1] = np.nan
        elif damage == "joints":
            views[0] = views[0][:, :15]
        elif damage == "cameras":
            views.pop()
        elif damage == "strings":
            views[0] = views[0].astype(str)
        else:
            del d["S9"]["Walking 1"]

    _rewrite(path, "metadata" if damage == "metadata" else "positions_2d", edit)
    with pytest.raises(ValueError, match=r"data_2d_h36m_cpn_ft_h36m_dbb\.npz.*" + message):
        h36m.load_h36m_npz(tmp_path, source_2d="cpn_ft_h36m_dbb", subjects=("S9",), actions=("Walking",), trust_pickle=True)


def test_npz_pickles_are_refused_unless_trusted(tmp_path):
    """A crafted VideoPose3D file runs code when unpickled: nothing is unpickled without trust."""
    marker = tmp_path / "code_ran"
    write_h36m_npz(tmp_path, subjects=("S9",), actions=("Walking",), sources=())
    np.savez(tmp_path / "data_3d_h36m.npz", positions_3d=np.array(_Crafted(marker), dtype=object))
    with pytest.raises(ValueError, match=r"data_3d_h36m\.npz: VideoPose3D files store their poses as "
                                         r"pickled Python objects.*pass --trust_pickle"):
        h36m.load_h36m_npz(tmp_path, subjects=("S9",), actions=("Walking",))
    assert not marker.exists()
    with pytest.raises(ValueError, match="must be a pickled dict"):   # trusted: it is unpickled
        h36m.load_h36m_npz(tmp_path, subjects=("S9",), actions=("Walking",), trust_pickle=True)
    assert marker.exists()


class _Crafted:
    """Unpickling it creates the file `marker`: what a malicious pickle could do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_full_layouts_load_with_the_defaults(tmp_path):
    """Every subject and action, every default: the real archives' shape in miniature."""
    truth = write_h36m_baseline_tree(tmp_path / "baseline", subjects=h36m.SUBJECTS, frames=2)
    poses = h36m.load_h36m(tmp_path / "baseline", use_sh=True)
    assert poses.subjects == list(h36m.SUBJECTS) and poses.source.startswith("h36m")
    assert all(len(poses.actions(s)) == 30 for s in poses.subjects)
    assert sorted({h36m.action_of(a) for a in poses.actions()}) == sorted(h36m.ACTIONS)
    assert sum(len(v) for s in poses.subjects for v in poses.poses_2d[s].values()) == 7 * 30 * 4 - 1
    assert same(poses.poses_2d["S6"]["Greeting 1"]["60457274"], truth["sh_2d"]["S6"]["Greeting 1"]["60457274"])
    write_h36m_npz(tmp_path / "npz", subjects=h36m.SUBJECTS, frames=2, sources=())
    poses = h36m.load_h36m_npz(tmp_path / "npz", trust_pickle=True)
    assert poses.subjects == list(h36m.SUBJECTS) and poses.num_frames(["S11"]) > 0
    assert "Directions" not in poses.poses_3d["S11"] and len(poses.actions("S1")) == 30
