"""Training speed of ``DQNAgent`` before and after a change to ``agents/dqn.py``, side by side.

    python bench/dqn_train_speed.py [--before REV] [--steps N] [--rounds R]

Three agents train on ``InterestFeed-v0`` with the default settings and one torch thread, in
this process, taking turns:

- **before**: ``DQNAgent`` from ``mediarl_lessons/agents/dqn.py`` as it was at the git revision
  ``--before`` (default ``eb9cf98``, the last commit before the speed tricks moved out of
  ``dqn.py`` into ``agents/dqn_fast.py``);
- **after**: ``DQNAgent`` from this working tree, as the course runs it;
- **after, acting through torch**: the same, but acting with ``agent.q_values`` (the
  torch network) instead of ``dqn_fast.NumpyQNetworkMirror``: what the mirror buys.

Each round trains a fresh agent of each for ``--steps`` environment steps and times the
whole ``train`` call (acting, collection, learning, target updates); the order rotates from
round to round, and each agent runs a short warm-up first (the first Adam step and torch's
first kernels are slow once per process). The best round of each is compared: on a shared
machine, slow rounds measure the neighbours. The last line is ``ratio: X``, after's steps per
second over before's (the goal: at least 0.9, no more than 10% slower).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import torch

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons.agents import dqn

ENV_ID = "mediarl/InterestFeed-v0"
ROOT = Path(__file__).resolve().parents[1]


def dqn_module_at(revision: str) -> types.ModuleType:
    """``mediarl_lessons/agents/dqn.py`` as it was at ``revision``, imported as a module of its own."""
    try:
        source = subprocess.run(["git", "show", f"{revision}:mediarl_lessons/agents/dqn.py"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise SystemExit(f"cannot read agents/dqn.py at git revision {revision!r}: {error}") from None
    # The seeded evaluator has since moved from experiments.py to evaluation.py (the same function).
    source = source.replace("from mediarl_lessons.experiments import evaluate_policy",
                            "from mediarl_lessons.evaluation import evaluate_policy")
    module = types.ModuleType("mediarl_lessons.agents._dqn_before")
    module.__file__ = f"{revision}:mediarl_lessons/agents/dqn.py"
    sys.modules[module.__name__] = module  # dataclasses look their module up while the class is made
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def timed_run(module: types.ModuleType, steps: int, seed: int, *, act_with_torch: bool = False) -> float:
    """Seconds for ``module.DQNAgent.train`` to take ``steps`` environment steps."""
    env = gym.make(ENV_ID)
    agent = module.DQNAgent.from_env(env, module.DQNSettings(), seed=seed)
    if act_with_torch:
        agent._q_values_fast = lambda: agent.q_values
    start = time.perf_counter()
    agent.train(env, steps, progress=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="eb9cf98", help="git revision of the 'before' dqn.py (default eb9cf98)")
    parser.add_argument("--steps", type=int, default=6_000, help="environment steps per training run (default 6000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of one run each (default 5)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    before = dqn_module_at(args.before)

    arms: dict[str, Callable[[int, int], float]] = {
        f"before ({args.before})": lambda steps, seed: timed_run(before, steps, seed),
        "after (this tree)": lambda steps, seed: timed_run(dqn, steps, seed),
        "after, acting through torch": lambda steps, seed: timed_run(dqn, steps, seed, act_with_torch=True),
    }
    names = list(arms)
    print(f"InterestFeed-v0, default DQNSettings, {args.steps} environment steps per run, best of "
          f"{args.rounds} rounds, one torch thread; torch {torch.__version__}")
    for run in arms.values():  # warm-up, past learning_starts
        run(dqn.DQNSettings().learning_starts + 200, 0)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        shift = round_ % len(names)  # rotate the order, so no arm always runs after the same one
        for name in names[shift:] + names[:shift]:
            seconds[name].append(arms[name](args.steps, round_))
    rates = {name: args.steps / min(times) for name, times in seconds.items()}
    for name, times in seconds.items():
        per_round = ", ".join(f"{args.steps / t:,.0f}" for t in times)
        print(f"{name:>30}: {rates[name]:7,.0f} env steps/s (best; rounds: {per_round})")
    print(f"acting through torch instead of the numpy mirror: "
          f"{rates['after, acting through torch'] / rates['after (this tree)']:.2f}x the steps/s")
    print(f"ratio: {rates['after (this tree)'] / rates[names[0]]:.2f}")


if __name__ == "__main__":
    main()
