"""Data sources: each one turns its files (or a generator) into a `PoseSet` (notebook 02).

`load_source(name, ...)` is the single entry point used by the notebooks and the command line;
it imports the chosen source only when asked, so using one source never needs another's files.
"""
import contextlib
import contextvars
from pathlib import Path

from mdnlib import config
from mdnlib.sources.filming import CAMERAS, check_cameras

SOURCES = ("synthetic", "h36m", "h36m_npz", "cmu")
# Sources whose 2D views are projections, so that they can be filmed with other cameras.
FILMED_SOURCES = ("synthetic", "cmu")

# Where to get the files of each real source, for the error raised when no folder is given.
_WHERE_TO_GET = {
    "h36m": "the 3d-pose-baseline layout: h36m/S*/MyPoses/3D_positions/*.h5, cameras.h5 and, "
            "with --use_sh, the Stacked Hourglass detections (see README, 'Human3.6M')",
    "h36m_npz": "VideoPose3D's data_3d_h36m.npz and data_2d_h36m_<source>.npz (see README, 'Human3.6M')",
    "cmu": "one subject's .asf with its .amc files, or one sub-folder per subject, from "
           "mocap.cs.cmu.edu (see README, 'CMU motion capture')",
}

# Set by `trusting_pickles` (the command line's --trust_pickle).
_PICKLES_TRUSTED = contextvars.ContextVar("pickles_trusted", default=False)


@contextlib.contextmanager
def trusting_pickles():
    """Inside this block the h36m_npz source may unpickle its files (as with trust_pickle=True).

    For code that loads sources through other functions (training, evaluation), like the
    command line's --trust_pickle: unpickling a crafted file runs its code.
    """
    token = _PICKLES_TRUSTED.set(True)
    try:
        yield
    finally:
        _PICKLES_TRUSTED.reset(token)


def load_source(name, data_dir=None, use_sh=False, cameras=None, **options):
    """Load one source as a PoseSet.

    name: one of SOURCES. data_dir: the folder of a real source (for ``cmu`` it defaults to
    `config.cmu_dir()`: downloaded subjects, else the sample shipped with the course). use_sh:
    Human3.6M ``h36m`` only, read the Stacked Hourglass detections instead of projecting the
    ground truth. cameras: "rig" (the four Human3.6M cameras) or "varied" (cameras drawn at random
    per shot) for the sources that film their poses, synthetic and cmu; None = "rig". options:
    passed on to the source's loader (for example the size of the synthetic set; ``trust_pickle``
    for ``h36m_npz``, whose pickled files are refused otherwise, see `trusting_pickles`).
    """
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; choose one of {', '.join(SOURCES)}")
    if use_sh and name != "h36m":
        raise ValueError(f"use_sh (Stacked Hourglass detections) applies to the 'h36m' source, not {name!r}")
    cameras = check_cameras("rig" if cameras is None else cameras)
    if cameras != "rig" and name not in FILMED_SOURCES:
        raise ValueError(f"the {name!r} source comes with its recorded cameras; other cameras "
                         f"({cameras!r}) apply to the sources that film their poses: "
                         f"{', '.join(FILMED_SOURCES)}")
    if cameras != "rig":                     # the loaders' default is the rig
        options["cameras"] = cameras
    if name == "synthetic":
        if data_dir is not None:
            raise ValueError("the synthetic source is generated, it reads no data_dir; "
                             "leave --data_dir out or choose a real source")
        from mdnlib.sources.synthetic import load_synthetic
        return load_synthetic(**options)

    if data_dir is None and name == "cmu":
        data_dir = config.cmu_dir()
    if data_dir is None:
        raise ValueError(f"the {name!r} source needs --data_dir: a folder with {_WHERE_TO_GET[name]}")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"{data_dir}: no such folder; the {name!r} source needs "
                                f"{_WHERE_TO_GET[name]}")
    if name == "h36m":
        from mdnlib.sources.h36m import load_h36m
        return load_h36m(data_dir, use_sh=use_sh, **options)
    if name == "h36m_npz":
        from mdnlib.sources.h36m import load_h36m_npz
        options.setdefault("trust_pickle", _PICKLES_TRUSTED.get())
        return load_h36m_npz(data_dir, **options)
    from mdnlib.sources.cmu import load_cmu
    return load_cmu(data_dir, **options)
