"""Seeded evaluation: the return of a fixed policy, on episodes every policy shares.

Every comparison of policies in the course (the lessons, the demos, the agents' own
``evaluate``) scores each policy with :func:`evaluate_policy` on the same episode seeds:
episode ``i`` starts from ``env.reset(seed=seed + i)``. Two policies evaluated with the same
``seed`` then meet the same viewers, users or auctions (common random numbers), so the
difference between their returns is a difference between policies, not luck.

A policy is any ``policy(obs, info) -> action``: a table lookup, an agent's greedy action,
the simulator's oracle. It must not draw from the environment's generator; a random policy
draws from a generator of its own (:func:`mediarl_lessons.agent_rng`).

This module knows environments and policies, not agents: the agents, the demos and the
lessons import it, never the other way round (``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from mediarl_lessons._validation import check_int

__all__ = ["evaluate_policy"]


def evaluate_policy(
    env: gym.Env,
    policy: Callable[[Any, dict[str, Any]], Any],
    *,
    episodes: int,
    seed: int = 0,
    max_steps: int | None = None,
) -> np.ndarray:
    """The undiscounted return of each of ``episodes`` episodes of a fixed policy.

    ``policy(obs, info) -> action``. Episode ``i`` starts from ``env.reset(seed=seed + i)``,
    so two policies evaluated with the same ``seed`` meet the same episode seeds (common
    random numbers). An episode ends when the environment terminates or truncates it, or
    after ``max_steps`` steps if given (needed for an environment without a time limit).
    """
    episodes = check_int("episodes", episodes, low=1)
    seed = check_int("seed", seed, low=0)
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, low=1)
    returns = np.zeros(episodes)
    for episode in range(episodes):
        obs, info = env.reset(seed=seed + episode)
        steps_taken = 0
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy(obs, info))
            returns[episode] += float(reward)
            steps_taken += 1
            done = terminated or truncated or (max_steps is not None and steps_taken >= max_steps)
    return returns
