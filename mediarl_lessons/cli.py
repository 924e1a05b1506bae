"""The ``mediarl-lessons`` command: list the environments and run headless demos.

    mediarl-lessons envs
    mediarl-lessons demo session-retention --seed 0 --episodes 500
    mediarl-lessons demo ad-pacing --json
    mediarl-lessons demo ad-pacing --plot ad_pacing.png

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "envs":
            return _envs()
        if args.command == "demo":
            return _demo(args)
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
    if args.json:
        print(json.dumps({"scenario": args.scenario, "seed": args.seed, "results": results}, indent=2))
    else:
        print(f"{args.scenario} (seed {args.seed}): {scenario.description}")
        print(f"{'policy':<22}{'mean return':>12}{'std':>9}{'episodes':>10}")
        for policy, row in results.items():
            print(f"{policy:<22}{row['mean_return']:>12.3f}{row['std_return']:>9.3f}{row['episodes']:>10d}")
    if args.plot is not None:
        _write_plot(args.plot, args.scenario, returns)
        if not args.json:
            print(f"plot written to {args.plot}")
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
