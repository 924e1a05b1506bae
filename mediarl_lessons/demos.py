"""Headless demos: each scenario trains and evaluates its reference policies.

``mediarl-lessons demo SCENARIO`` runs one of these and prints a table or JSON. Each
scenario returns, per policy, the undiscounted return of every evaluation episode. All
policies of a scenario are evaluated on the same episode seeds (common random numbers), so
differences between them are differences between policies, not luck.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from mediarl_lessons import mdp
from mediarl_lessons.experiments import evaluate_policy


@dataclass(frozen=True)
class Scenario:
    """A demo: what it shows, how many evaluation episodes by default, and how to run it."""

    description: str
    default_episodes: int
    run: Callable[..., dict[str, np.ndarray]]


def tabular_baselines(env_id: str, *, gamma: float, seed: int, episodes: int) -> dict[str, np.ndarray]:
    """Random, myopic, every constant action and the DP-optimal policy on a tabular environment."""
    env = gym.make(env_id)
    P, R = mdp.model_from_env(env)
    _, optimal = mdp.value_iteration(P, R, gamma)
    reference = mdp.reference_policies(R, optimal, env.unwrapped.action_names)
    # Table order: the weakest ideas first, the optimum last.
    policies = {"random": None, **{k: v for k, v in reference.items() if k != "optimal"},
                "optimal": reference["optimal"]}

    returns = {}
    for name, table in policies.items():
        if table is None:
            rng = np.random.default_rng(seed)
            n_actions = R.shape[1]
            act = lambda obs, info: int(rng.integers(n_actions))  # noqa: E731
        else:
            act = lambda obs, info, table=table: int(table[obs])  # noqa: E731
        returns[name] = evaluate_policy(env, act, episodes=episodes, seed=seed)
    return returns


SCENARIOS: dict[str, Scenario] = {
    "session-retention": Scenario(
        description="clickbait vs quality on SessionRetention-v0; return = total reward of a session",
        default_episodes=1000,
        run=lambda seed, episodes: tabular_baselines(
            "mediarl/SessionRetention-v0", gamma=mdp.SESSION_RETENTION_GAMMA, seed=seed, episodes=episodes),
    ),
    "ad-pacing": Scenario(
        description="pacing a day's ad budget on AdPacing-v0; return = clicks in a day",
        default_episodes=1000,
        run=lambda seed, episodes: tabular_baselines(
            "mediarl/AdPacing-v0", gamma=mdp.AD_PACING_GAMMA, seed=seed, episodes=episodes),
    ),
}
