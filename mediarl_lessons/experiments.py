"""The bandit runs of lessons 01 and 02: a bandit agent against a bandit, oracle quantities recorded.

- :func:`run_testbed`: a vectorised bandit agent on a :class:`BanditTestbed`, thousands of
  runs at once (Sutton & Barto's Fig. 2.2 in about a second); returns per-step curves with
  standard errors for bands.
- :func:`run_bandit_env`: one bandit agent on one Gymnasium bandit environment
  (`LiveChannels-v0`, `NewsFeed-v0`), recording reward, regret and optimality per step.

The return of a fixed policy over seeded episodes, which every agent and demo uses, is
:func:`mediarl_lessons.evaluation.evaluate_policy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from mediarl_lessons._validation import check_int
from mediarl_lessons.agents.bandits import BanditAgent
from mediarl_lessons.envs.live_channels import BanditTestbed

__all__ = ["BanditRun", "TestbedResult", "run_bandit_env", "run_testbed"]


@dataclass(frozen=True)
class TestbedResult:
    """Per-step curves of a testbed experiment, averaged over runs, with standard errors.

    Every curve has one value per step (shape ``(steps,)``). A band of two standard errors,
    ``mean +- 2 * sem``, is a 95% confidence band for the curve of the average run::

        plt.plot(result.mean_reward)
        plt.fill_between(range(result.steps), result.mean_reward - 2 * result.reward_sem,
                         result.mean_reward + 2 * result.reward_sem, alpha=0.3)

    ``rewards``, ``optimal`` and ``regret`` hold every run, ``(steps, n_runs)``, when
    :func:`run_testbed` was called with ``keep_runs=True`` (``None`` otherwise).
    """

    __test__ = False  # a name starting with "Test" is not a pytest test class

    steps: int
    n_runs: int
    mean_reward: np.ndarray
    reward_sem: np.ndarray
    optimal_rate: np.ndarray
    """Fraction of runs whose action was optimal (multiply by 100 for "% optimal action")."""
    optimal_sem: np.ndarray
    mean_regret: np.ndarray
    """Expected regret of the step's action (best true value minus the chosen arm's), averaged."""
    cumulative_regret: np.ndarray
    """Total expected regret up to and including each step, averaged over runs."""
    cumulative_regret_sem: np.ndarray
    rewards: np.ndarray | None = None
    optimal: np.ndarray | None = None
    regret: np.ndarray | None = None

    def summary(self, window: int = 100) -> dict[str, float]:
        """Mean reward and optimal-action rate over the last ``window`` steps, and the total regret."""
        window = check_int("window", window, low=1, high=self.steps)
        return {
            "mean_reward": float(self.mean_reward[-window:].mean()),
            "optimal_rate": float(self.optimal_rate[-window:].mean()),
            "total_regret": float(self.cumulative_regret[-1]),
        }


def _mean_and_sem(per_run: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over runs (axis 1) and its standard error (0 when there is a single run)."""
    n_runs = per_run.shape[1]
    mean = per_run.mean(axis=1)
    if n_runs < 2:
        return mean, np.zeros_like(mean)
    return mean, per_run.std(axis=1, ddof=1) / np.sqrt(n_runs)


def run_testbed(
    agent: BanditAgent,
    testbed: BanditTestbed,
    steps: int,
    *,
    seed: int | np.random.Generator | None = None,
    keep_runs: bool = False,
    progress: bool = False,
) -> TestbedResult:
    """Run a vectorised bandit agent on a testbed for ``steps`` steps in every run.

    The agent forgets what it learned (``agent.reset()``) and the testbed draws new problems
    (``testbed.reset(seed)``) first, so every call is a fresh experiment. Passing the same
    ``seed`` to several calls gives every agent the same problems (common random numbers):
    differences between their curves are then differences between agents, not luck.

    Each step: the agent selects one arm per run; the testbed scores the actions against the
    true values (optimal? regret?) before stepping, because with drift the values move at
    the end of ``step``; the rewards go back to the agent. ``progress=True`` shows a tqdm bar.
    """
    steps = check_int("steps", steps, low=1)
    if (agent.n_runs, agent.n_arms) != (testbed.n_runs, testbed.n_arms):
        raise ValueError(f"the agent has n_runs={agent.n_runs}, n_arms={agent.n_arms} but the testbed has "
                         f"n_runs={testbed.n_runs}, n_arms={testbed.n_arms}; they must match")
    agent.reset()
    testbed.reset(seed)
    shape = (steps, testbed.n_runs)
    rewards = np.empty(shape)
    optimal = np.empty(shape, dtype=bool)
    regret = np.empty(shape)

    step_indices: Any = range(steps)
    if progress:
        from tqdm.auto import tqdm

        step_indices = tqdm(step_indices, desc=type(agent).__name__, leave=False)
    for t in step_indices:
        actions = agent.select()
        regret[t] = testbed.regret(actions)
        np.equal(regret[t], 0.0, out=optimal[t])  # same as testbed.is_optimal(actions), one lookup less
        rewards[t] = testbed.step(actions)
        agent.update(actions, rewards[t])

    mean_reward, reward_sem = _mean_and_sem(rewards)
    optimal_rate = optimal.mean(axis=1)
    # 0/1 values: the sample variance is p (1 - p) n / (n - 1), no second pass needed
    n_runs = testbed.n_runs
    optimal_sem = np.sqrt(optimal_rate * (1.0 - optimal_rate) / (n_runs - 1)) if n_runs > 1 else np.zeros(steps)
    cumulative = np.cumsum(regret, axis=0)
    cumulative_regret, cumulative_regret_sem = _mean_and_sem(cumulative)
    return TestbedResult(
        steps=steps,
        n_runs=testbed.n_runs,
        mean_reward=mean_reward,
        reward_sem=reward_sem,
        optimal_rate=optimal_rate,
        optimal_sem=optimal_sem,
        mean_regret=regret.mean(axis=1),
        cumulative_regret=cumulative_regret,
        cumulative_regret_sem=cumulative_regret_sem,
        rewards=rewards if keep_runs else None,
        optimal=optimal if keep_runs else None,
        regret=regret if keep_runs else None,
    )


@dataclass(frozen=True)
class BanditRun:
    """One agent's steps on a bandit environment: per-step arrays of shape ``(steps,)``."""

    actions: np.ndarray
    rewards: np.ndarray
    regret: np.ndarray
    """Expected regret of each step's action, from the environment's ``info["regret"]``."""
    optimal: np.ndarray
    """Whether each step's action was a best one (its expected regret was exactly 0)."""

    @property
    def cumulative_regret(self) -> np.ndarray:
        return np.cumsum(self.regret)


def run_bandit_env(
    agent: BanditAgent,
    env: gym.Env,
    steps: int,
    *,
    seed: int | None = None,
) -> BanditRun:
    """Run a single-run bandit agent (``n_runs=1``) on a bandit environment for ``steps`` steps.

    The agent sees each observation as its ``context`` (context-free agents ignore it) and
    learns from ``(action, reward, context)``. The environment is reset with ``seed`` first
    and again whenever an episode is truncated; note that `LiveChannels-v0` draws new
    channels at every reset, so to study one problem for longer than 1000 steps make it with
    ``gym.make(..., max_episode_steps=steps)``.
    """
    steps = check_int("steps", steps, low=1)
    if agent.n_runs != 1:
        raise ValueError(f"run_bandit_env runs one agent on one environment: the agent needs n_runs=1, "
                         f"got n_runs={agent.n_runs}")
    actions = np.empty(steps, dtype=np.int64)
    rewards = np.empty(steps)
    regret = np.empty(steps)
    obs, _ = env.reset(seed=seed)
    for t in range(steps):
        action = int(agent.select(obs)[0])
        next_obs, reward, terminated, truncated, info = env.step(action)
        agent.update(action, reward, context=obs)
        actions[t], rewards[t], regret[t] = action, reward, info["regret"]
        if (terminated or truncated) and t + 1 < steps:  # no reset after the last step: the
            next_obs, _ = env.reset()  # environment still shows the problem the agent faced
        obs = next_obs
    return BanditRun(actions=actions, rewards=rewards, regret=regret, optimal=regret == 0.0)

