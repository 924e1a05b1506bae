"""The ``mediarl-lessons`` command: list the environments and run headless demos.

    mediarl-lessons envs
    mediarl-lessons demo session-retention --seed 0 --episodes 500
    mediarl-lessons demo ad-pacing --json
    mediarl-lessons demo ad-pacing --plot ad_pacing.png
    mediarl-lessons build-exercises            # write exercises/ (and nbgrader's metadata) from solutions/
    mediarl-lessons build-exercises --check    # exit 1 if exercises/ or solutions/ is out of date
    mediarl-lessons export --otter otter/      # otter-grader master notebooks made from solutions/
    mediarl-lessons grade 01_bandits submissions/ --csv grades.csv --jobs 2 --seed 123
    mediarl-lessons book                       # the course's website, from the committed notebooks

A mistake on the command line exits with status 2 and one line saying what was wrong,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

import numpy as np

import mediarl_lessons


class UsageError(Exception):
    """A mistake on the command line that we can explain in one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2**32 - 1], got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2**32 - 1], got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from mediarl_lessons.demos import SCENARIOS

    parser = _Parser(
        prog="mediarl-lessons",
        description="Reinforcement learning for media decisions: the course's command line.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {mediarl_lessons.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    commands.add_parser("envs", help="list the course environments with a one-line description each")

    demo = commands.add_parser(
        "demo",
        help="train and evaluate a scenario's reference policies, headless",
        description="Train and evaluate a scenario's reference policies and print their returns.",
    )
    demo.add_argument("scenario", metavar="SCENARIO",
                      help="one of: " + ", ".join(SCENARIOS))
    demo.add_argument("--seed", type=_seed, default=0, help="seed for everything random (default 0)")
    demo.add_argument("--episodes", type=_positive_int, default=None,
                      help="evaluation episodes per policy (default: the scenario's own)")
    demo.add_argument("--json", action="store_true", help="print the results as JSON")
    demo.add_argument("--plot", metavar="FILE", help="also write a PNG bar chart of the returns")

    build = commands.add_parser(
        "build-exercises",
        help="generate exercises/ from solutions/ (solution regions stubbed, outputs cleared), as nbgrader would",
        description="Give every cell of solutions/NN_name.ipynb nbgrader's cell metadata (solution cells, "
                    "check(...) cells as autograded tests with a hidden strict assert, cells tagged 'instructor' "
                    "as hidden tests worth 0 points, the other code cells read-only), then write "
                    "exercises/NN_name.ipynb as nbgrader generate_assignment releases it: every region between "
                    "'### BEGIN SOLUTION' and '### END SOLUTION' becomes '# YOUR CODE HERE' + "
                    "'raise NotImplementedError()', hidden tests and outputs are removed. exercises/README.md "
                    "is written from solutions/README.md.",
    )
    build.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 with one line per stale file if exercises/ or solutions/ is "
                            "out of date")
    build.add_argument("--solutions", metavar="DIR", default="solutions",
                       help="the solution notebooks (default: ./solutions)")
    build.add_argument("--exercises", metavar="DIR", default="exercises",
                       help="where the exercise notebooks go (default: ./exercises)")

    export = commands.add_parser(
        "export",
        help="write the exercises in another grading tool's format (otter-grader's master notebooks)",
        description="Write DIR/NN_name.ipynb, an otter-grader master notebook (the input of 'otter assign') for "
                    "each solution: each exercise function is a question worth 1 point whose test is "
                    "check(f, strict=True, quiet=True). See docs/grading.md.",
    )
    export.add_argument("--otter", metavar="DIR", required=True,
                        help="the folder for otter-grader's master notebooks (created if missing)")
    export.add_argument("--solutions", metavar="DIR", default="solutions",
                        help="the solution notebooks (default: ./solutions)")

    grade = commands.add_parser(
        "grade",
        help="grade a folder of submissions (each in its own sandbox) into a table, CSV or JSON",
        description="Grade submissions of one exercise. Each SUBMISSION is a .ipynb or .py file, or a folder of "
                    "them: a file directly in a folder belongs to the student of its stem (alice.ipynb), a file "
                    "in a sub-folder to that sub-folder (alice/01_bandits.ipynb, and nbgrader's "
                    "submitted/alice/01_bandits/01_bandits.ipynb). Only the exercise's functions and what they "
                    "need are taken from a submission; it runs in a bubblewrap sandbox (a plain subprocess "
                    "where bubblewrap is missing, said on stderr and in every row). One row per student, "
                    "whatever the submission does; exit status 0 whenever grading ran.",
    )
    grade.add_argument("exercise", metavar="EXERCISE", help="the exercise's stem, e.g. 01_bandits")
    grade.add_argument("submissions", metavar="SUBMISSION", nargs="+", help="a .ipynb or .py file, or a folder")
    grade.add_argument("--csv", metavar="FILE", help="also write the gradebook as CSV")
    grade.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    grade.add_argument("--feedback", metavar="DIR",
                       help="also write each student's feedback to DIR/<student>.txt, ready to send back")
    grade.add_argument("--jobs", type=_positive_int, default=1, help="submissions graded at once (default 1)")
    grade.add_argument("--timeout", type=_positive_float, default=60.0,
                       help="seconds allowed for one submission, all its functions together; each function "
                            "gets a fair share of what is left (default 60)")
    grade.add_argument("--seed", type=_seed, default=None,
                       help="seed of the randomised cases (default: a fresh one, printed to stderr)")

    book = commands.add_parser(
        "book",
        help="build the course's website from the committed notebooks (nothing is executed)",
        description="Build the course as a static website with Sphinx and MyST-NB (docs/conf.py): the lessons "
                    "and exercises as committed, outputs and all (nothing is executed), a page per environment, "
                    "the API reference and the guides in docs/. Any Sphinx or MyST warning fails the build. "
                    "Needs the course's repository (a clone installed with pip install -e .).",
    )
    book.add_argument("--out", metavar="DIR", default=None,
                      help="the folder the website is written to (default: _build/site in the course's folder)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "envs":
            return _envs()
        if args.command == "demo":
            return _demo(args)
        if args.command == "build-exercises":
            return _build_exercises(args)
        if args.command == "export":
            return _export(args)
        if args.command == "grade":
            return _grade(args)
        if args.command == "book":
            return _book(args)
    except UsageError as error:
        print(f"mediarl-lessons: error: {error}", file=sys.stderr)
        return 2
    raise AssertionError(f"unhandled command {args.command!r}")


def _envs() -> int:
    from mediarl_lessons import ENVIRONMENTS

    width = max(len(env_id) for env_id in ENVIRONMENTS)
    for env_id, (_, _, description) in ENVIRONMENTS.items():
        print(f"{env_id:<{width}}  {description}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from mediarl_lessons.demos import SCENARIOS

    if args.scenario not in SCENARIOS:
        raise UsageError(f"unknown scenario {args.scenario!r}; choose one of: {', '.join(SCENARIOS)}")
    if args.plot is not None:
        if not args.plot.lower().endswith(".png"):
            raise UsageError(f"--plot writes a PNG; give a file name ending in .png, got {args.plot!r}")
        folder = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(folder):  # say so now, not after minutes of training
            raise UsageError(f"cannot write --plot file {args.plot!r}: its folder does not exist")
    scenario = SCENARIOS[args.scenario]
    episodes = scenario.default_episodes if args.episodes is None else args.episodes
    returns = scenario.run(seed=args.seed, episodes=episodes)

    results = {
        policy: {
            "mean_return": float(np.mean(values)),
            "std_return": float(np.std(values)),
            "episodes": int(len(values)),
        }
        for policy, values in returns.items()
    }
    differences = {f"{policy} - {baseline}": _paired_difference(returns[policy], returns[baseline])
                   for policy, baseline in scenario.comparisons}
    if args.json:
        report = {"scenario": args.scenario, "seed": args.seed, "results": results}
        if differences:
            report["differences"] = differences
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.scenario} (seed {args.seed}): {scenario.description}")
        print(f"{'policy':<22}{'mean return':>12}{'std':>9}{'episodes':>10}")
        for policy, row in results.items():
            print(f"{policy:<22}{row['mean_return']:>12.3f}{row['std_return']:>9.3f}{row['episodes']:>10d}")
        if differences:
            print("paired differences (same episodes), mean return per episode:")
        for pair, row in differences.items():
            if row["standard_error"] is None:
                spread = "(one episode: no standard error)"
            elif row["standard_error"] == 0.0:
                spread = "(no spread over episodes)"
            else:
                spread = (f"+- {row['standard_error']:.3f} (standard error), "
                          f"{row['mean'] / row['standard_error']:+.1f} standard errors from 0")
            print(f"  {pair:<32}{row['mean']:>+12.3f}  {spread}")
    if args.plot is not None:
        _write_plot(args.plot, args.scenario, returns)
        if not args.json:
            print(f"plot written to {args.plot}")
    return 0


def _paired_difference(values: np.ndarray, baseline: np.ndarray) -> dict:
    """Mean and standard error of the per-episode difference of two policies' returns.

    Both met the same episodes, so the luck they shared cancels episode by episode.
    ``standard_error`` is None for a single episode (no spread to estimate it from).
    """
    difference = np.asarray(values, dtype=float) - np.asarray(baseline, dtype=float)
    n = len(difference)
    sem = float(difference.std(ddof=1) / np.sqrt(n)) if n > 1 else None
    return {"mean": float(difference.mean()), "standard_error": sem, "episodes": n}


def _build_exercises(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mediarl_lessons.grading.build import SolutionFormatError, build_exercises

    solutions, exercises = Path(args.solutions), Path(args.exercises)
    if not solutions.is_dir():
        raise UsageError(f"no solutions folder {str(solutions)!r} here; run from the course's root or pass --solutions")
    if not args.check and not exercises.is_dir():
        raise UsageError(f"no exercises folder {str(exercises)!r}; create it or pass --exercises")
    try:
        builds, orphans = build_exercises(solutions, exercises)
    except SolutionFormatError as error:
        print(f"mediarl-lessons: error: {error}", file=sys.stderr)
        return 1
    if args.check:
        problems = [(f"{build.exercise} lacks the nbgrader metadata and grade cells build-exercises gives it"
                     if build.exercise == build.solution else f"{build.exercise} is out of date with {build.solution}")
                    + "; run 'mediarl-lessons build-exercises'" for build in builds if build.stale]
        problems += [f"{orphan} has no solution in {solutions}/; delete it or add its solution" for orphan in orphans]
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(f"{len(builds)} file(s) up to date with {solutions}/ (solutions, exercises, README)")
        return 1 if problems else 0
    for build in builds:
        if build.stale:
            build.exercise.write_text(build.text, encoding="utf-8")
            print(f"wrote {build.exercise}")
        else:
            print(f"{build.exercise} is up to date")
    for orphan in orphans:
        print(f"warning: {orphan} has no solution in {solutions}/ (left alone)", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    import nbformat

    from mediarl_lessons.grading.build import SolutionFormatError, notebook_text, otter_master

    solutions, target = Path(args.solutions), Path(args.otter)
    paths = sorted(solutions.glob("*.ipynb")) if solutions.is_dir() else []
    if not paths:
        raise UsageError(f"no solution notebooks in {str(solutions)!r}; run from the course's root or pass --solutions")
    try:
        masters = {path.name: notebook_text(otter_master(nbformat.read(path, as_version=4), name=str(path)))
                   for path in paths}
    except SolutionFormatError as error:
        print(f"mediarl-lessons: error: {error}", file=sys.stderr)
        return 1
    target.mkdir(parents=True, exist_ok=True)
    for name, text in masters.items():
        (target / name).write_text(text, encoding="utf-8")
        print(f"wrote {target / name}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    import secrets
    from pathlib import Path

    from mediarl_lessons.grading import EXERCISES
    from mediarl_lessons.grading import sandbox
    from mediarl_lessons.grading.grader import (feedback_name, find_submissions, grade_all, one_line, to_csv,
                                                to_feedback, to_json, to_table)

    if args.exercise not in EXERCISES:
        raise UsageError(f"unknown exercise {args.exercise!r}; choose one of: {', '.join(EXERCISES)}")
    missing = [path for path in args.submissions if not os.path.exists(path)]
    if missing:
        raise UsageError(f"no such file or folder: {missing[0]!r}")
    submissions, notes = find_submissions([Path(path) for path in args.submissions], args.exercise)
    for note in notes:
        print(f"note: {one_line(note)}", file=sys.stderr)
    if not submissions:
        raise UsageError("no .py or .ipynb submissions found in the folder(s) given")
    if args.csv is not None and not os.path.isdir(os.path.dirname(os.path.abspath(args.csv))):
        raise UsageError(f"cannot write --csv file {args.csv!r}: its folder does not exist")
    if args.feedback is not None and not os.path.isdir(os.path.dirname(os.path.abspath(args.feedback))):
        raise UsageError(f"cannot write --feedback folder {args.feedback!r}: its parent folder does not exist")
    print("submissions run in a bubblewrap sandbox" if sandbox.available() else f"submissions {sandbox.NO_SANDBOX}",
          file=sys.stderr)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**32)
    if args.seed is None:
        print(f"grading with --seed {seed} (pass it again to reproduce these results)", file=sys.stderr)
    results = grade_all(args.exercise, submissions, seed=seed, timeout=args.timeout, jobs=args.jobs)
    if args.csv is not None:
        with open(args.csv, "w", encoding="utf-8", newline="") as file:
            file.write(to_csv(results, args.exercise))
    if args.feedback is not None:
        os.makedirs(args.feedback, exist_ok=True)
        written: set[str] = set()
        for result in results:
            name = feedback_name(result.student)
            stem, number = name[:-4], 2
            while name.lower() in written:  # two ids that differ only in characters a file name cannot hold
                name, number = f"{stem}-{number}.txt", number + 1
            written.add(name.lower())
            with open(os.path.join(args.feedback, name), "w", encoding="utf-8") as file:
                file.write(to_feedback(result, seed=seed))
    print(to_json(results) if args.json else to_table(results))
    return 0


def _book(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    repo = Path(mediarl_lessons.__file__).resolve().parent.parent
    if not (repo / "docs" / "conf.py").is_file() or not (repo / "notebooks").is_dir():
        raise UsageError(f"the website is built from the course's repository (docs/conf.py, notebooks/), which is not "
                         f"at {repo}: run it from a clone installed with 'pip install -e .'")
    try:
        from sphinx.cmd.build import build_main
    except ImportError:
        raise UsageError("building the website needs Sphinx and MyST-NB: pip install -r requirements.txt") from None
    out = Path(args.out).resolve() if args.out is not None else repo / "_build" / "site"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out!r} is a file, not a folder")
    started = time.perf_counter()
    # -E: every page read afresh, so a warning is never hidden by a page left over from an earlier build.
    code = build_main(["-W", "--keep-going", "-E", "-q", "-b", "html", "-c", str(repo / "docs"), str(repo), str(out)])
    if code != 0:
        print(f"mediarl-lessons: error: the website did not build (Sphinx's warnings above); {out} is incomplete",
              file=sys.stderr)
        return 1
    print(f"website built in {time.perf_counter() - started:.0f} s: open {out / 'index.html'} in a browser, or serve "
          f"it with: python -m http.server --directory {out}")
    return 0


def _write_plot(path: str, scenario: str, returns: dict[str, np.ndarray]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mediarl_lessons.plotting import plot_policy_returns

    ax = plot_policy_returns(returns, title=f"{scenario}: mean episode return (95% CI)")
    try:
        ax.figure.savefig(path, dpi=120)
    except OSError as error:
        raise UsageError(f"cannot write --plot file {path!r}: {error.strerror}") from None
    finally:
        plt.close(ax.figure)


if __name__ == "__main__":
    raise SystemExit(main())
