"""Each course environment's ``step`` against Gymnasium CartPole's ``step``, side by side.

    python bench/env_step.py [--steps N] [--repeats R]

Absolute times on a shared machine are noise; ratios measured in the same run, with the
environments interleaved, are not. The course's budget (README, Benchmarks): bandit and tabular
environments no slower than CartPole (ratio <= 1), NewsFeed and InterestFeed at most 2x.
Both sides are timed on the unwrapped environment, so no wrapper hides a slow ``step``.
The last line is the worst ratio relative to its budget.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import mediarl_lessons

BUDGET = {
    "mediarl/LiveChannels-v0": 1.0,
    "mediarl/NewsFeed-v0": 2.0,
    "mediarl/SessionRetention-v0": 1.0,
    "mediarl/AdPacing-v0": 1.0,
    "mediarl/InterestFeed-v0": 2.0,
}


def seconds_per_step(env_id: str, steps: int, seed: int = 0) -> float:
    """Mean wall time of ``env.unwrapped.step`` over ``steps`` steps of random actions.

    Only the ``step`` calls are timed; the resets between episodes are not.
    """
    env = gym.make(env_id).unwrapped
    actions = np.random.default_rng(seed).integers(env.action_space.n, size=steps).tolist()
    env.reset(seed=seed)
    clock = time.perf_counter
    total = 0.0
    for action in actions:
        start = clock()
        _, _, terminated, truncated, _ = env.step(action)
        total += clock() - start
        if terminated or truncated:
            env.reset()
    return total / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="steps per measurement")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved measurements (best is kept)")
    args = parser.parse_args()

    ids = ["CartPole-v1", *mediarl_lessons.ENVIRONMENTS]
    best = {env_id: float("inf") for env_id in ids}
    for _ in range(args.repeats):  # interleave, so a noisy moment hits every environment alike
        for env_id in ids:
            best[env_id] = min(best[env_id], seconds_per_step(env_id, args.steps))

    cartpole = best["CartPole-v1"]
    print(f"{'environment':<30}{'us/step':>9}{'x CartPole':>12}{'budget':>8}")
    print(f"{'CartPole-v1':<30}{cartpole * 1e6:>9.2f}{1.0:>12.2f}{'':>8}")
    worst = 0.0
    for env_id in mediarl_lessons.ENVIRONMENTS:
        ratio = best[env_id] / cartpole
        worst = max(worst, ratio / BUDGET[env_id])
        verdict = "ok" if ratio <= BUDGET[env_id] else "OVER"
        print(f"{env_id:<30}{best[env_id] * 1e6:>9.2f}{ratio:>12.2f}{BUDGET[env_id]:>7.1f} {verdict}")
    print(f"worst ratio / budget: {worst:.2f}")


if __name__ == "__main__":
    main()
