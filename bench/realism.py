"""Realism of the synthetic poses against real CMU motion capture (notebook 02, README).

For every CMU frame (every 4th frame at 120 Hz by default), the P-MPJPE over the limb joints to its
nearest pose among 100k synthetic poses, on a common skeleton; the same for 100k poses with
independent uniform joint angles, and between the two CMU subjects, as reference lines. Then bone
proportions and joint-angle ranges. Takes a few minutes on one core:

    OMP_NUM_THREADS=1 .venv/bin/python bench/realism.py [--data_dir DIR] [--step 4] [--database 100000]
"""
import argparse
import sys
import time
from pathlib import Path

from mdnlib import config
from mdnlib.realism import cmu_report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default=str(config.cmu_dir()),
                        help="CMU ASF/AMC folder, one sub-folder per subject (default: %(default)s)")
    parser.add_argument("--step", type=int, default=4, help="keep every step-th CMU frame (120 Hz)")
    parser.add_argument("--database", type=int, default=100_000, help="synthetic poses to search")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not Path(args.data_dir).is_dir():
        sys.exit(f"no CMU data at {args.data_dir}: download subjects' ASF/AMC files from "
                 "mocap.cs.cmu.edu and pass --data_dir")
    start = time.perf_counter()
    report = cmu_report(args.data_dir, frame_step=args.step, database_size=args.database, seed=args.seed)
    print(report.format())
    print(f"\n{time.perf_counter() - start:.0f} s; command: OMP_NUM_THREADS=1 .venv/bin/python "
          f"bench/realism.py --step {args.step} --database {args.database} --seed {args.seed}")


if __name__ == "__main__":
    main()
