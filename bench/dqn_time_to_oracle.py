"""Wall time for the course's DQN to beat the myopic oracle by 10% on InterestFeed-v0.

    python bench/dqn_time_to_oracle.py [--seeds 0 1 2] [--check-every N] [--budget S]

The course claims (lesson 05; README, Benchmarks) that a DQN trained for at most 60 s on 2 CPU cores beats
the myopic oracle, which knows the click model, by at least 10% in mean return over 5
evaluation seeds. This measures how much of that budget it needs.

For each training seed, a ``DQNAgent`` with the default settings trains in chunks of
``--check-every`` environment steps. After each chunk its greedy policy plays the claim's
evaluation: 5 evaluation seeds x 100 sessions, the same sessions the oracle played. The clock
counts training only (evaluating is the benchmark's own cost, not the agent's); the run stops
at the first check where the DQN's mean return is >= 1.10 x the oracle's, or when the budget is
spent. The last line is ``ratio: X``, the slowest seed's training time over the 60 s budget
(below 1 means the claim holds within its budget on this machine, with room to spare).
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons.agents.dqn import DQNAgent, DQNSettings
from mediarl_lessons.envs.interest_feed import myopic_oracle_policy
from mediarl_lessons.evaluation import evaluate_policy

ENV_ID = "mediarl/InterestFeed-v0"
#: The claim's evaluation, as in tests/test_dqn.py: evaluation i plays sessions s + j, j < 100.
EVAL_SEEDS = (1_000, 2_000, 3_000, 4_000, 5_000)
EVAL_SESSIONS = 100
#: The claim's training budget in seconds (the README's Benchmarks section states it).
BUDGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default 0 1 2)")
    parser.add_argument("--check-every", type=int, default=500, help="steps between evaluations (default 500)")
    parser.add_argument("--budget", type=float, default=BUDGET_SECONDS, help="seconds of training allowed (default 60)")
    args = parser.parse_args()

    env = gym.make(ENV_ID)
    oracle = np.mean([evaluate_policy(env, lambda obs, info: myopic_oracle_policy(env),
                                      episodes=EVAL_SESSIONS, seed=s).mean() for s in EVAL_SEEDS])
    goal = 1.10 * oracle
    print(f"InterestFeed-v0: myopic oracle {oracle:.2f} clicks per session; goal {goal:.2f} (+10%), "
          f"default DQNSettings, a check every {args.check_every} steps")

    times = []
    for seed in args.seeds:
        agent = DQNAgent.from_env(env, DQNSettings(), seed=seed)
        seconds, clicks = 0.0, 0.0
        while clicks < goal and seconds < args.budget:
            seconds += agent.train(env, args.check_every, progress=False).seconds
            clicks = np.mean([agent.evaluate(env, EVAL_SESSIONS, seed=s).mean() for s in EVAL_SEEDS])
        reached = clicks >= goal
        times.append(seconds if reached else np.inf)
        print(f"  seed {seed}: {'reached' if reached else 'NOT reached'} {clicks / oracle:.2f}x the oracle "
              f"after {agent.steps:,} steps, {seconds:.1f} s of training ({agent.steps / seconds:,.0f} steps/s)")
    print(f"slowest seed: {max(times):.1f} s of the {BUDGET_SECONDS:.0f} s budget")
    print(f"ratio: {max(times) / BUDGET_SECONDS:.2f}")


if __name__ == "__main__":
    main()
