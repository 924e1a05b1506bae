"""A class of notebooks graded by ``mediarl-lessons grade``, sandbox included.

    python bench/grading.py [--students 200] [--jobs 2] [--exercises 01_bandits 05_dqn]

For each exercise, writes ``--students`` notebooks into a temporary class folder: the course's
solution, the untouched exercise, and the realistic right and wrong submissions of the test
bank (``tests/grading_bank.py``), each as a notebook of its own, in turn. Then it runs the
real command, ``mediarl-lessons grade EXERCISE FOLDER --jobs N``, in a fresh process and
prints its wall time, the time per notebook, and whether every notebook got exactly one row.
Targets (2 cores, ``--jobs 2``): 200 notebooks of 01 in under 3 minutes, of 05 in under 6.

Where bubblewrap is installed, it also grades the first ``--compare`` notebooks again without
the sandbox, in the same run, and prints ``sandbox cost: X`` (the time with the sandbox over
the time without): what the isolation costs, measured side by side.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from grading_bank import PREAMBLE, RIGHT, TORCH, WRONG  # noqa: E402

from mediarl_lessons.grading import sandbox  # noqa: E402


def write_class(exercise: str, folder: Path, students: int) -> None:
    """``students`` notebooks: the solution, the untouched exercise and the bank's submissions, in turn."""
    sources = [PREAMBLE + (TORCH if exercise == "05_dqn" else "") + submission.source
               for submission in RIGHT + WRONG if submission.exercise == exercise]
    for number in range(students):
        path = folder / f"student{number:03d}.ipynb"
        kind = number % (len(sources) + 2)
        if kind == 0:
            shutil.copy(ROOT / "solutions" / f"{exercise}.ipynb", path)
        elif kind == 1:
            shutil.copy(ROOT / "exercises" / f"{exercise}.ipynb", path)
        else:
            notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(sources[kind - 2])])
            nbformat.write(notebook, path)


def grade(exercise: str, folder: Path, jobs: int, *, without_sandbox: bool = False) -> tuple[float, list[dict]]:
    """Wall time of the real command, and its CSV rows."""
    csv_path = folder.parent / f"{folder.name}.csv"
    command = [sys.executable, "-m", "mediarl_lessons", "grade", exercise, str(folder), "--jobs", str(jobs),
               "--seed", "1", "--csv", str(csv_path)]
    env = dict(os.environ)
    if without_sandbox:  # a PATH without bwrap: the grader's own fallback
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                      if not (Path(p) / "bwrap").exists())
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    elapsed = time.perf_counter() - started
    return elapsed, list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=200, help="notebooks per exercise (default 200)")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    parser.add_argument("--exercises", nargs="+", default=["01_bandits", "05_dqn"])
    parser.add_argument("--compare", type=int, default=20,
                        help="notebooks graded with and without the sandbox, side by side (default 20; 0: skip)")
    args = parser.parse_args()
    print(f"sandbox: {'bubblewrap' if sandbox.available() else 'none (' + sandbox.NO_SANDBOX + ')'}")
    with tempfile.TemporaryDirectory() as temporary:
        for exercise in args.exercises:
            folder = Path(temporary) / exercise
            folder.mkdir()
            write_class(exercise, folder, args.students)
            elapsed, rows = grade(exercise, folder, args.jobs)
            one_row_each = len(rows) == args.students and len({row["student"] for row in rows}) == args.students
            period = sum(1 for s in RIGHT + WRONG if s.exercise == exercise) + 2
            kinds = {row["student"]: int(row["student"][len("student"):]) % period for row in rows}
            right = all(row["total"] == (row["max"] if kinds[row["student"]] == 0 else "0")
                        for row in rows if kinds[row["student"]] in (0, 1))  # the solution, the untouched exercise
            print(f"{exercise}: {args.students} notebooks, --jobs {args.jobs}: {elapsed:.1f} s "
                  f"({elapsed / args.students:.2f} s per notebook); one row each: {one_row_each}; "
                  f"solutions full marks and untouched exercises 0: {right}")
            if args.compare and sandbox.available():
                small = Path(temporary) / f"{exercise}-compare"
                small.mkdir()
                write_class(exercise, small, args.compare)
                with_sandbox, _ = grade(exercise, small, args.jobs)
                without, _ = grade(exercise, small, args.jobs, without_sandbox=True)
                print(f"{exercise}: sandbox cost: {with_sandbox / without:.2f} "
                      f"({args.compare} notebooks: {with_sandbox:.1f} s with bubblewrap, {without:.1f} s without)")


if __name__ == "__main__":
    main()
