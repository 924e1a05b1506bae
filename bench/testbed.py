"""Sutton & Barto's Fig. 2.2 experiment: the vectorised testbed against a per-run Python loop.

    python bench/testbed.py [--loop-runs N] [--runs R] [--steps T]

The experiment: epsilon-greedy with sample averages, epsilon = 0, 0.01 and 0.1, on 2000 ten-armed
problems for 1000 steps each, recording the reward and whether the action was optimal at
every step (what the figure plots).

- Vectorised: :func:`mediarl_lessons.experiments.run_testbed` with ``EpsilonGreedy(n_runs=2000)``
  and ``BanditTestbed(n_runs=2000)``: every step is a few numpy calls on all 2000 runs at once.
- Per-run loop: the straightforward way, one run at a time and one step at a time: the same
  agent class with ``n_runs=1`` (its scalar fast path, as in a Gymnasium loop) and one
  problem's true values, the reward drawn with plain numpy. It is timed on ``--loop-runs``
  runs per epsilon (default 50) and extrapolated linearly to the full 2000 runs (each run
  costs the same: 1000 steps of the same work), as the output says.

Absolute times on a shared machine are noise; the ratio of the two, measured in the same
process one after the other, is the number. The last line is ``speedup: X`` (the goal is >= 50).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mediarl_lessons.agents import EpsilonGreedy
from mediarl_lessons.envs.live_channels import BanditTestbed
from mediarl_lessons.experiments import run_testbed

EPSILONS = (0.0, 0.01, 0.1)


def vectorised(runs: int, steps: int, seed: int) -> tuple[float, dict[float, tuple[float, float]]]:
    """Wall time of the whole experiment and, per epsilon, (last-100 mean reward, optimal rate)."""
    testbed = BanditTestbed(n_runs=runs, n_arms=10, seed=seed)
    start = time.perf_counter()
    results = {eps: run_testbed(EpsilonGreedy(10, eps, n_runs=runs, seed=seed + 1), testbed, steps, seed=seed)
               for eps in EPSILONS}
    elapsed = time.perf_counter() - start
    window = min(100, steps)
    return elapsed, {eps: (r.summary(window)["mean_reward"], r.summary(window)["optimal_rate"])
                     for eps, r in results.items()}


def one_run(epsilon: float, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One run of the experiment, step by step: rewards and optimal-action flags, ``(steps,)`` each."""
    q_star = rng.normal(0.0, 1.0, size=10)  # this problem's true values
    best = int(q_star.argmax())
    agent = EpsilonGreedy(10, epsilon, seed=rng)
    rewards = np.empty(steps)
    optimal = np.empty(steps, dtype=bool)
    for t in range(steps):
        action = int(agent.select()[0])
        reward = q_star[action] + rng.standard_normal()
        agent.update(action, reward)
        rewards[t] = reward
        optimal[t] = action == best
    return rewards, optimal


def per_run_loop(loop_runs: int, steps: int, seed: int) -> tuple[float, dict[float, tuple[float, float]]]:
    """Wall time of ``loop_runs`` runs per epsilon, one at a time, and their summaries."""
    rng = np.random.default_rng(seed)
    window = min(100, steps)
    summaries = {}
    start = time.perf_counter()
    for eps in EPSILONS:
        rewards, optimal = zip(*(one_run(eps, steps, rng) for _ in range(loop_runs)))
        summaries[eps] = (float(np.mean(rewards, axis=0)[-window:].mean()),
                          float(np.mean(optimal, axis=0)[-window:].mean()))
    return time.perf_counter() - start, summaries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs of the experiment (default 2000)")
    parser.add_argument("--steps", type=int, default=1000, help="steps per run (default 1000)")
    parser.add_argument("--loop-runs", type=int, default=50,
                        help="runs per epsilon actually timed in the per-run loop (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 1 <= args.loop_runs <= args.runs or args.steps < 1:
        parser.error("need 1 <= --loop-runs <= --runs and --steps >= 1")

    print(f"Fig. 2.2: epsilon in {EPSILONS}, {args.runs} runs x {args.steps} steps each")
    fast, fast_summary = vectorised(args.runs, args.steps, args.seed)
    print(f"vectorised (run_testbed, all {args.runs} runs at once): {fast:.2f} s")
    slow_part, slow_summary = per_run_loop(args.loop_runs, args.steps, args.seed)
    slow = slow_part * args.runs / args.loop_runs
    print(f"per-run loop: {slow_part:.2f} s for {args.loop_runs} runs per epsilon, "
          f"extrapolated x{args.runs / args.loop_runs:g} to {args.runs} runs: {slow:.1f} s")
    print("last-100-step mean reward / % optimal action (the loop's few runs are noisier):")
    for eps in EPSILONS:
        (fr, fo), (sr, so) = fast_summary[eps], slow_summary[eps]
        print(f"  epsilon {eps:<5}: vectorised {fr:.3f} / {100 * fo:4.1f}%   "
              f"per-run loop ({args.loop_runs} runs) {sr:.3f} / {100 * so:4.1f}%")
    print(f"speedup: {slow / fast:.0f}")


if __name__ == "__main__":
    main()
