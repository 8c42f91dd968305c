"""Speed of the synthetic source: 3D poses plus their 2D in the four cameras, per minute.

Measures `load_synthetic` without its cache (kinematics, projection, detector noise, checks), the
way a learner's first run pays for it. Run it on one core:

    OMP_NUM_THREADS=1 .venv/bin/python bench/synthetic_speed.py [--frames-per-action N]
"""
import argparse
import os
import time

from mdnlib.sources.synthetic import ACTIVITIES, load_synthetic

COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python bench/synthetic_speed.py"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames-per-action", type=int, default=3000,
                        help="poses per subject and activity (7 subjects, %d activities)" % len(ACTIVITIES))
    parser.add_argument("--repeats", type=int, default=3, help="runs; the fastest one is reported")
    args = parser.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: OMP_NUM_THREADS is not 1, so numpy may use several cores")
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        poses = load_synthetic(frames_per_action=args.frames_per_action, cache=False)
        best = min(best, time.perf_counter() - start)
    frames = poses.num_frames()
    cameras = len(next(iter(poses.cameras.values())))
    per_minute = frames / best * 60
    print(f"{frames:,} poses (3D + 2D in {cameras} cameras, with detector noise) in {best:.2f} s "
          f"(best of {args.repeats}) = {per_minute / 1e6:.2f} M poses per minute")
    print(f"README: synthetic source, `{COMMAND}`: {per_minute / 1e6:.1f} M poses (3D + 2D in "
          f"{cameras} cameras) per minute on one core")


if __name__ == "__main__":
    main()
