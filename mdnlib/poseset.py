"""The one in-memory structure that every data source produces (notebook 02).

A PoseSet maps subject -> action -> world 3D positions in mm (N, 17, 3), and
subject -> action -> camera id -> 2D pixels (N, 16, 2) in the network's input order,
with the cameras of every subject. Sources build it; `mdnlib.dataset` consumes it.
"""
import re
from dataclasses import dataclass, field

import numpy as np

from mdnlib.camera import Camera

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")


@dataclass
class PoseSet:
    """Poses of one source. ``poses_2d[s][a][cam]`` pairs frame by frame with ``poses_3d[s][a]``."""

    source: str
    poses_3d: dict = field(default_factory=dict)   # subject -> action -> (N, 17, 3) world mm
    poses_2d: dict = field(default_factory=dict)   # subject -> action -> camera id -> (N, 16, 2) px
    cameras: dict = field(default_factory=dict)    # subject -> camera id -> Camera
    train_subjects: tuple = TRAIN_SUBJECTS
    test_subjects: tuple = TEST_SUBJECTS

    @property
    def subjects(self):
        return sorted(self.poses_3d, key=_subject_key)

    def actions(self, subject=None):
        """Sorted action names of one subject, or of all subjects together."""
        subjects = [subject] if subject else self.poses_3d
        return sorted({a for s in subjects for a in self.poses_3d[s]})

    def num_frames(self, subjects=None):
        subjects = self.subjects if subjects is None else subjects
        return sum(len(p) for s in subjects if s in self.poses_3d for p in self.poses_3d[s].values())

    def validate(self, origin=None):
        """Check shapes, pairing and finiteness; raise ValueError naming `origin` and the problem."""
        where = f" in {origin}" if origin else ""
        for s, actions in self.poses_3d.items():
            for a, p3 in actions.items():
                if p3.ndim != 3 or p3.shape[1:] != (17, 3):
                    raise ValueError(f"{s}/{a}{where}: 3D poses must be (N, 17, 3), got {p3.shape}")
                if not np.all(np.isfinite(p3)):
                    raise ValueError(f"{s}/{a}{where}: 3D poses contain NaN or infinite values")
                for cam, p2 in self.poses_2d.get(s, {}).get(a, {}).items():
                    if p2.shape != (len(p3), 16, 2):
                        raise ValueError(f"{s}/{a} camera {cam}{where}: 2D poses must be "
                                         f"({len(p3)}, 16, 2) to match the 3D frames, got {p2.shape}")
                    if not np.all(np.isfinite(p2)):
                        raise ValueError(f"{s}/{a} camera {cam}{where}: 2D poses contain NaN values")
                    if not isinstance(self.cameras.get(s, {}).get(cam), Camera):
                        raise ValueError(f"{s}/{a}{where}: no camera {cam} for subject {s}")
        return self

    def summary(self):
        """A short text table: subjects, actions (recordings and shots of one action count once),
        frames and cameras."""
        lines = [f"source: {self.source}",
                 f"{'subject':<8} {'split':<6} {'actions':>7} {'frames':>9}  cameras"]
        for s in self.subjects:
            split = "train" if s in self.train_subjects else "test" if s in self.test_subjects else "-"
            ids = sorted(self.cameras.get(s, {}))
            cams = ", ".join(ids) if len(ids) <= 8 else f"{len(ids)} cameras"
            actions = len({action_of(sequence) for sequence in self.poses_3d[s]})
            lines.append(f"{s:<8} {split:<6} {actions:>7} {self.num_frames([s]):>9}  {cams}")
        lines.append(f"actions: {', '.join(sorted({action_of(sequence) for sequence in self.actions()}))}")
        lines.append(f"frames: {self.num_frames()} 3D poses")
        return "\n".join(lines)


def action_of(sequence):
    """The action of a sequence key: recordings "Walking" and "Walking 1" are both "Walking".

    Per-action tables group by this, so that the reported figure is the mean over actions
    (as in the paper), not over recordings.
    """
    return re.sub(r" \d+$", "", sequence)


def _subject_key(subject):
    digits = "".join(ch for ch in subject if ch.isdigit())
    return (int(digits) if digits else 0, subject)
