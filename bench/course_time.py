"""How long the whole course takes: execute every notebook top to bottom in a fresh kernel, in
full mode (or --quick), and print the seconds per notebook and in total.

    .venv/bin/python bench/course_time.py [--quick] [--limit-min 20] [--json build/course_time.json] [NOTEBOOK ...]

The course promises at most 20 minutes in full mode on 2 CPU cores with the pretrained
checkpoints (issue 5), and at most 3 minutes per notebook; the script exits with status 1 when a
notebook fails or a limit is broken. The README quotes its latest figures.
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from mdnlib import report

NOTEBOOK_LIMIT_MIN = 3.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="quick mode (MDNLIB_QUICK=1)")
    parser.add_argument("--limit-min", type=float, default=20.0, help="limit for the whole course (minutes)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("notebooks", nargs="*", help="default: every notebooks/NN_*.ipynb")
    args = parser.parse_args(argv)

    results = report.execute_course(args.notebooks, env={"MDNLIB_QUICK": "1" if args.quick else "0"},
                                    log=lambda line: None)
    total = sum(r.seconds for r in results)
    print(f"{'notebook':32s} {'seconds':>8s}")
    for r in results:
        flag = "  FAILED: " + r.error if r.error else (
            "  over 3 min" if not args.quick and r.seconds > 60 * NOTEBOOK_LIMIT_MIN else "")
        print(f"{r.path.name:32s} {r.seconds:8.1f}{flag}")
    print(f"{'total':32s} {total:8.1f}  ({total / 60:.1f} min; limit {args.limit_min:g} min)")

    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({
            "mode": "quick" if args.quick else "full", "date": time.strftime("%Y-%m-%d %H:%M"),
            "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
            "seconds": {r.path.name: round(r.seconds, 1) for r in results}, "total_seconds": round(total, 1),
            "failed": {r.path.name: r.error for r in results if r.error}}, indent=1))
    too_slow = total > 60 * args.limit_min or (not args.quick and any(
        r.seconds > 60 * NOTEBOOK_LIMIT_MIN for r in results))
    return 1 if too_slow or any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
