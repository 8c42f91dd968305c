"""Joint layouts of the paper: the 17-joint Human3.6M skeleton and the orders the network uses.

Explained in notebooks 01 and 02. All index maps follow 3d-pose-baseline (Martinez et al. 2017),
as the paper's original code does.
"""
import numpy as np

JOINTS_17 = (
    "Hip", "RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot", "Spine", "Thorax",
    "Neck/Nose", "Head", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist",
)
PARENTS_17 = np.array([-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15])
ROOT = 0
NUM_JOINTS = 17

# Side of each joint: "L", "R" or "C" (centre), for colouring skeletons.
SIDES_17 = tuple("C" if n[0] not in "LR" or n == "Neck/Nose" else n[0] for n in JOINTS_17)

# The network's 2D input: the 17 joints without Neck/Nose (16 joints, 32 numbers).
INPUT_16 = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16])
# The network's 3D output: the 17 joints without the root Hip (16 joints, 48 numbers).
OUTPUT_16 = np.arange(1, 17)

# Indices of the 17 joints in Human3.6M's 32-joint files.
H36M32_TO_17 = np.array([0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27])
# MPII order of the Stacked Hourglass detections -> the 16-joint input order.
MPII16_TO_INPUT16 = np.array([6, 2, 1, 0, 3, 4, 5, 7, 8, 9, 13, 14, 15, 12, 11, 10])

# The 8 limb joints that `--miss_num` may hide, as indices into INPUT_16 order.
LIMB_JOINTS = ("RKnee", "RFoot", "LKnee", "LFoot", "LElbow", "LWrist", "RElbow", "RWrist")
INPUT_NAMES = tuple(JOINTS_17[i] for i in INPUT_16)
LIMB_INPUT_INDICES = np.array([INPUT_NAMES.index(n) for n in LIMB_JOINTS])

# Bones as (child, parent) pairs of the 17-joint skeleton.
BONES_17 = tuple((j, int(p)) for j, p in enumerate(PARENTS_17) if p >= 0)

# Limb chains (for plots and analyses), in 17-joint indices from the body outwards.
LIMB_CHAINS = {
    "right leg": (1, 2, 3),
    "left leg": (4, 5, 6),
    "left arm": (11, 12, 13),
    "right arm": (14, 15, 16),
    "torso": (0, 7, 8, 9, 10),
}


def joint_index(name):
    """Index of a joint in the 17-joint order, with a clear error for unknown names."""
    try:
        return JOINTS_17.index(name)
    except ValueError:
        raise KeyError(f"unknown joint {name!r}; the 17 joints are {', '.join(JOINTS_17)}") from None


def input_parents():
    """Parents of the 16 input joints, as indices into the 16-joint input order (-1 for the root)."""
    position = {int(j): i for i, j in enumerate(INPUT_16)}
    parents = []
    for j in INPUT_16:
        p = int(PARENTS_17[j])
        while p >= 0 and p not in position:  # skip Neck/Nose: Head hangs from Thorax
            p = int(PARENTS_17[p])
        parents.append(position[p] if p >= 0 else -1)
    return np.array(parents)
