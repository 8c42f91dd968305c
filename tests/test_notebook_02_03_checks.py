"""Notebooks 02 and 03: every exercise check passes on the reference solution, fails on the student
stub and on typical mistakes with the message that names them; the pose explorer's callback."""
import numpy as np
import pytest

from mdnlib import checks, toy


def stub(*args):
    raise NotImplementedError()


def returns_none(*args):
    return None


# --- notebook 02: root-centring --------------------------------------------------------------

def root_centre(poses):
    return poses - poses[:, :1]


def test_check_root_centre(capsys):
    checks.check_root_centre(root_centre)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_root_centre(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_root_centre(returns_none)
    with pytest.raises(AssertionError, match="centre of all joints"):
        checks.check_root_centre(lambda p: p - p.mean(axis=1, keepdims=True))
    with pytest.raises(AssertionError, match="first whole pose"):
        checks.check_root_centre(lambda p: p - p[0])
    with pytest.raises(AssertionError, match="nothing changed"):
        checks.check_root_centre(lambda p: p)
    with pytest.raises(AssertionError, match="keep all 17 joints"):
        checks.check_root_centre(lambda p: (p - p[:, :1])[:, 1:])


# --- notebook 02: z-scoring ------------------------------------------------------------------

def zscore(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0)
    return (train - mean) / std, (test - mean) / std


def zscore_each_set(train, test):
    return ((train - train.mean(axis=0)) / train.std(axis=0),
            (test - test.mean(axis=0)) / test.std(axis=0))


def zscore_pooled(train, test):
    both = np.concatenate([train, test])
    mean, std = both.mean(axis=0), both.std(axis=0)
    return (train - mean) / std, (test - mean) / std


def zscore_sample_std(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
    return (train - mean) / std, (test - mean) / std


def test_check_zscore(capsys):
    checks.check_zscore(zscore)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_zscore(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_zscore(returns_none)
    with pytest.raises(AssertionError, match="its own statistics"):
        checks.check_zscore(zscore_each_set)
    with pytest.raises(AssertionError, match="leaks"):
        checks.check_zscore(zscore_pooled)
    with pytest.raises(AssertionError, match="ddof=0"):
        checks.check_zscore(zscore_sample_std)
    with pytest.raises(AssertionError, match="per column"):
        checks.check_zscore(lambda tr, te: ((tr - tr.mean(1, keepdims=True)) / tr.std(1, keepdims=True), te))
    with pytest.raises(AssertionError, match="two arrays"):
        checks.check_zscore(lambda tr, te: zscore(tr, te)[0])


# --- notebook 03: MPJPE ----------------------------------------------------------------------

def mpjpe(pred, gt):
    return np.linalg.norm(pred - gt, axis=-1).mean(axis=-1)


def test_check_mpjpe(capsys):
    checks.check_mpjpe(mpjpe)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_mpjpe(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_mpjpe(returns_none)
    with pytest.raises(AssertionError, match="root-mean-square"):
        checks.check_mpjpe(lambda p, g: np.sqrt(np.mean((p - g) ** 2, axis=(1, 2))))
    with pytest.raises(AssertionError, match="square root per joint"):
        checks.check_mpjpe(lambda p, g: np.sum((p - g) ** 2, axis=-1).mean(axis=-1))
    with pytest.raises(AssertionError, match="instead of summing"):
        checks.check_mpjpe(lambda p, g: np.linalg.norm(p - g, axis=-1).sum(axis=-1))
    with pytest.raises(AssertionError, match="one error per pose"):
        checks.check_mpjpe(lambda p, g: mpjpe(p, g).mean())


# --- notebook 03: the averaged bone ----------------------------------------------------------

def averaged_bone_length(parent, child):
    length = np.linalg.norm(child - parent, axis=-1)
    midpoint = toy.bone_candidates(child, parent, length).mean(axis=-2)
    return np.linalg.norm(midpoint - parent, axis=-1)


def test_check_averaged_bone_length(capsys):
    checks.check_averaged_bone_length(averaged_bone_length)
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError):
        checks.check_averaged_bone_length(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_averaged_bone_length(returns_none)
    with pytest.raises(AssertionError, match="bone's own length"):
        checks.check_averaged_bone_length(lambda p, c: np.linalg.norm(c - p, axis=-1))
    with pytest.raises(AssertionError, match="orthographic"):
        checks.check_averaged_bone_length(lambda p, c: np.linalg.norm((c - p)[:, :2], axis=-1))
    with pytest.raises(AssertionError, match="one length per bone"):
        checks.check_averaged_bone_length(
            lambda p, c: toy.bone_candidates(c, p, np.linalg.norm(c - p, axis=-1)).mean(axis=-2))


def test_averaged_bone_is_the_distance_from_the_parent_to_the_ray():
    """The midpoint of the two candidates is the foot of the perpendicular from the parent onto
    the ray, so the averaged bone is never longer than the bone."""
    parent, child = np.array([100.0, -200.0, 4500.0]), np.array([180.0, 50.0, 4200.0])
    ray = child / np.linalg.norm(child)
    to_ray = np.linalg.norm(parent - (parent @ ray) * ray)
    assert averaged_bone_length(parent[None], child[None])[0] == pytest.approx(to_ray)
    assert to_ray < np.linalg.norm(child - parent)


# --- notebook 02: the pose explorer ----------------------------------------------------------

def test_pose_explorer_redraws_from_its_controls():
    from mdnlib import realism, skeleton, widgets

    explorer = widgets.PoseExplorer(activity="Sitting", sample=3)
    # the sliders show the drawn angles, and the figure shows the pose they make
    sitting_knee = explorer.values["knee_r"]
    assert sitting_knee > 45
    pose = explorer.current_pose()
    assert min(pose[3, 2], pose[6, 2]) == pytest.approx(0.0)      # lowest foot on the floor
    shin = explorer.lines_3d[2].get_data_3d()                      # bone RKnee -> RFoot
    np.testing.assert_allclose(np.array(shin)[:, 1], pose[3])

    explorer.controls["knee_r"].value = 90.0
    pose = explorer.current_pose()
    right_knee = realism.joint_angles(pose[None])["knee flexion"][0]
    assert right_knee == pytest.approx(90.0, abs=1e-6)
    np.testing.assert_allclose(np.array(explorer.lines_3d[2].get_data_3d())[:, 1], pose[3])
    cam = explorer.cameras[explorer.values["camera"]]
    image = cam.project(pose[skeleton.INPUT_16])
    np.testing.assert_allclose(explorer.image(), image)
    np.testing.assert_allclose(np.array(explorer.lines_2d[2].get_data())[:, 1], image[3])

    # another camera: same 3D pose, another image
    explorer.controls["camera"].value = "58860488"
    np.testing.assert_allclose(explorer.current_pose(), pose)
    assert np.abs(explorer.image() - image).max() > 50

    # another activity draws new angles and moves the sliders to them
    explorer.controls["activity"].value = "Walking"
    assert explorer.values["knee_r"] != 90.0
    assert explorer.values["knee_r"] == pytest.approx(explorer.angles()["knee_r"][0])
    assert "Walking" in explorer.figure._suptitle.get_text()


# --- notebook 02: the real-data cells, with and without files ---------------------------------

@pytest.mark.notebook
@pytest.mark.slow
def test_notebook_02_loads_human36m_and_skips_missing_cmu_files(tmp_path):
    """With a (miniature, format-exact) Human3.6M folder the loader cell prints its summary; without
    CMU files the realism comparison is skipped with the download hint, and nothing fails."""
    import nbformat
    from h36m_fixtures import write_h36m_baseline_tree

    from mdnlib import course
    from mdnlib.poseset import TEST_SUBJECTS, TRAIN_SUBJECTS

    write_h36m_baseline_tree(tmp_path / "h36m_data", subjects=TRAIN_SUBJECTS + TEST_SUBJECTS)
    path = course.NOTEBOOK_DIR / "02_data.ipynb"
    nb = nbformat.read(path, as_version=4)
    parameters = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source += (f"\ncmu_dir = {str(tmp_path / 'no_cmu')!r}"
                          f"\nh36m_dir = {str(tmp_path / 'h36m_data')!r}")
    course.execute_notebook(nb, path.parent, env={"MDNLIB_QUICK": "1"})
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "source: h36m" in text and "S11" in text
    assert "No CMU files at" in text and "mocap.cs.cmu.edu" in text
    assert "nearest synthetic" not in text
