"""Wall time of the DQN lessons, each in a fresh kernel, against its budget.

    python bench/lessons.py [--busy N] [--lessons 05 06]

A lesson is only usable if a learner can run it top to bottom while reading: lessons 05 and 06
must each run in under 90 s on 2 quiet cores, and under 120 s on a busy machine (a load of
about 4 on 2 cores). This runs each lesson as a learner's "Run All" does, in a fresh Jupyter
kernel of this environment (nbclient, from the repository root), and prints its wall time
next to its budget. ``--busy N`` starts N busy-looping processes for the duration (N = 4 on
a 2-core machine gives a load of about 4; the reported load average is measured) and uses
the busy budget.

Absolute seconds on a shared machine are noisy; compare them with the budget, and rerun
when the machine was doing something else. The last line is ``ratio: X``, the slowest
lesson's wall time over its budget (below 1: every lesson fits).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = {"05": "05_deep_q_networks.ipynb", "06": "06_capstone_ad_pacing_dqn.ipynb"}
#: Seconds a lesson may take on 2 cores: quiet, and busy (load about 4).
QUIET_BUDGET, BUSY_BUDGET = 90.0, 120.0


def run_lesson(name: str) -> float:
    """Seconds to start a kernel and run every cell of ``notebooks/name``."""
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def busy_loop() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lessons", nargs="+", default=list(LESSONS), choices=list(LESSONS),
                        help="which lessons (default: 05 06)")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="busy-looping processes to run meanwhile (4 on 2 cores: a busy machine)")
    args = parser.parse_args()
    budget = BUSY_BUDGET if args.busy else QUIET_BUDGET
    os.environ.setdefault("MPLBACKEND", "Agg")

    hogs = [multiprocessing.Process(target=busy_loop, daemon=True) for _ in range(args.busy)]
    for hog in hogs:
        hog.start()
    try:
        ratios = []
        print(f"{os.cpu_count()} cores, {args.busy} busy loops; budget {budget:.0f} s per lesson")
        for key in args.lessons:
            seconds = run_lesson(LESSONS[key])
            load = os.getloadavg()[0]
            ratios.append(seconds / budget)
            print(f"  {LESSONS[key]:<34} {seconds:6.1f} s of {budget:.0f} s ({seconds / budget:.2f}); "
                  f"load average {load:.1f}")
    finally:
        for hog in hogs:
            hog.terminate()
    print(f"ratio: {max(ratios):.2f}")


if __name__ == "__main__":
    main()
