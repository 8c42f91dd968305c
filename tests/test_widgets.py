"""Explorers driven without a browser: set a control's value, check the figure follows."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mdnlib import camera, toy, widgets  # noqa: E402


@pytest.fixture
def explorer():
    cam = camera.Camera(R=np.eye(3), T=np.zeros(3), f=(1145, 1145), c=(500, 500))
    return widgets.FlipExplorer(toy.example_pose(), cam)


def test_flip_explorer_offers_only_bones_that_move(explorer):
    gaps = toy.flip_gaps(toy.example_pose())
    assert "LWrist" in explorer.controls and gaps[13] > 400
    assert "RHip" not in explorer.controls and gaps[1] < 20   # hip bones lie across the image
    assert explorer.flipped() == [] and "flipped: none" in explorer.figure._suptitle.get_text()


def test_toggling_a_bone_moves_the_3d_pose_but_not_the_2d_one(explorer):
    before_3d = [np.array(line.get_data_3d()) for line in explorer.lines_3d["side"]]
    before_2d = [line.get_xydata().copy() for line in explorer.lines_2d]
    explorer.controls["LWrist"].value = True
    after_3d = [np.array(line.get_data_3d()) for line in explorer.lines_3d["side"]]
    # the bone LElbow -> LWrist (line 12) changed depth, the others did not
    assert not np.allclose(before_3d[12], after_3d[12])
    assert all(np.allclose(b, a) for k, (b, a) in enumerate(zip(before_3d, after_3d)) if k != 12)
    flipped = explorer.current_pose()
    assert np.allclose(explorer.camera.project_camera(flipped),
                       explorer.camera.project_camera(explorer.pose), atol=1e-9)
    assert all(np.allclose(b, line.get_xydata()) for b, line in zip(before_2d, explorer.lines_2d))
    assert "flipped: LWrist" in explorer.figure._suptitle.get_text()
    explorer.controls["LWrist"].value = False
    assert np.allclose(np.array(explorer.lines_3d["side"][12].get_data_3d()), before_3d[12])


def test_a_change_refreshes_the_displayed_figure(explorer):
    class Handle:
        updates = []

        def update(self, obj):
            self.updates.append(obj)

    explorer._display = Handle()
    explorer.controls["RWrist"].value = True
    assert Handle.updates == [explorer.figure]
