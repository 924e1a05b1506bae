"""N DQN runs trained together (``train_together``) against the same N runs one after the other.

    python bench/dqn_together.py [--runs 5] [--steps 4000]

The lessons train the seeds of an experiment side by side with
``mediarl_lessons.agents.dqn_together.train_together``: the same algorithm as
``DQNAgent.train`` for each agent, the networks' arithmetic batched. This measures what that
saves on ``InterestFeed-v0`` with the course's default settings: the wall time of ``--runs``
agents trained one after the other with ``agent.train``, and of the same agents (same seeds)
trained together, in the same process, one after the other. The last line is ``speedup: X``,
the first time over the second.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import torch

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons import agent_rng
from mediarl_lessons.agents.dqn import DQNAgent, DQNSettings
from mediarl_lessons.agents.dqn_together import train_together

ENV_ID = "mediarl/InterestFeed-v0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="agents (seeds) per experiment (default 5, as lesson 05)")
    parser.add_argument("--steps", type=int, default=4000, help="training steps per agent (default 4000)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    def fresh() -> tuple[list[DQNAgent], list[gym.Env]]:
        envs = [gym.make(ENV_ID) for _ in range(args.runs)]
        return [DQNAgent.from_env(envs[0], DQNSettings(), seed=agent_rng(seed)) for seed in range(args.runs)], envs

    agents, envs = fresh()
    started = time.perf_counter()
    for agent, env in zip(agents, envs):
        agent.train(env, args.steps, progress=False)
    alone = time.perf_counter() - started

    agents, envs = fresh()
    started = time.perf_counter()
    train_together(agents, envs, args.steps)
    together = time.perf_counter() - started

    print(f"{args.runs} DQN runs of {args.steps:,} steps on {ENV_ID}, default settings, one thread:")
    print(f"  one after the other (agent.train): {alone:6.1f} s")
    print(f"  together (train_together):         {together:6.1f} s")
    print(f"speedup: {alone / together:.2f}")


if __name__ == "__main__":
    main()
