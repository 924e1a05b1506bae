r"""Budget pacing with a deep Q-network on AdPacing-v0 (lesson 06 and the ``ad-pacing`` demo).

Wu et al. (2018, "Budget Constrained Bidding by Model-free Reinforcement Learning in Display
Advertising", CIKM) pace a campaign's budget with a DQN: the day is cut into time steps; in
each step the agent sees the time and budget left (and a few market signals) and picks how
aggressively to bid for the step's auctions (an adjustment of its bid multiplier); the reward
is the value (clicks) won in the step. Lesson 06 does the same on ``AdPacing-v0``, whose time
steps hold one package auction each, so the choice of the step is the bid itself:

- the observation is :class:`~mediarl_lessons.envs.ad_pacing.AdPacingFeatures` (fraction of
  the day left, fraction of the budget left, one-hot CTR level), which a network can
  generalise over;
- the training rewards are scaled by :data:`REWARD_SCALE` (0.1) with Gymnasium's
  ``TransformReward``, so that TD errors stay mostly below 1, in the quadratic zone of the
  Huber loss (the lesson measures why this matters);
- the agent is :class:`~mediarl_lessons.agents.dqn.DQNAgent` with :data:`DQN_SETTINGS`
  (``gamma = 1``: a day is a finite horizon and the time left is in the observation),
  trained for :data:`TRAINING_STEPS` steps;
- its greedy policy is a plain table, one action per state index (:func:`dqn_policy_table`),
  so :mod:`mediarl_lessons.mdp` scores it EXACTLY on the model, like any tabular policy.

:func:`budget_outcomes` gives, per state and action, the expected spend and (at the end of
the day) the leftover and overspent budget: the quantities the lesson's section on reward
design compares policies by.

The greedy policy's exact value after 10,000 training steps, as a fraction of the DP optimum
(38.19 clicks), over 48 training seeds: 0.928-0.990 with the rewards scaled by 0.1,
0.861-0.969 unscaled (``bench/claims.py``, ``docs/claims.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import TransformReward

from mediarl_lessons._validation import check_float, check_int
from mediarl_lessons.agents.dqn import DQNAgent, DQNSettings, DQNTrainingLog
from mediarl_lessons.agents.dqn_together import train_together
from mediarl_lessons.envs.ad_pacing import AdPacingEnv, AdPacingFeatures
from mediarl_lessons import mdp
from mediarl_lessons.mdp import AD_PACING_GAMMA

__all__ = [
    "DQN_SETTINGS",
    "REWARD_SCALE",
    "TRAINING_STEPS",
    "BudgetOutcomes",
    "TrainedPacingDQN",
    "budget_outcomes",
    "dqn_policy_table",
    "make_env",
    "train_dqn",
    "train_dqns",
]

#: Training rewards are multiplied by this: a day's clicks (about 38) become about 3.8, and
#: the TD errors of a learning network mostly stay below 1, where the Huber loss is quadratic.
REWARD_SCALE: float = 0.1
#: The DQN's settings: undiscounted (``gamma = 1``, as the DP optimum it is compared with),
#: :class:`DQNSettings`' defaults otherwise.
DQN_SETTINGS: DQNSettings = DQNSettings(gamma=AD_PACING_GAMMA)
#: Environment steps of training (about 900 days; about 10 s on one CPU thread).
TRAINING_STEPS: int = 10_000


def make_env(reward_scale: float = REWARD_SCALE, **env_kwargs: object) -> AdPacingFeatures:
    """``AdPacing-v0`` as a DQN sees it: feature observations, rewards times ``reward_scale``.

    ``AdPacingFeatures(TransformReward(gym.make("mediarl/AdPacing-v0", **env_kwargs), ...))``;
    with ``reward_scale=1`` there is no reward wrapper (evaluate in clicks with that one). The
    feature wrapper is outermost, so ``env.features`` (one row per state index) is at hand.
    """
    reward_scale = check_float("reward_scale", reward_scale, 0.0, low_open=True)
    env = gym.make("mediarl/AdPacing-v0", **env_kwargs)
    if reward_scale != 1.0:
        env = TransformReward(env, lambda reward: reward_scale * reward)
    return AdPacingFeatures(env)


class TrainedPacingDQN(NamedTuple):
    """What :func:`train_dqn` returns."""

    agent: DQNAgent
    log: DQNTrainingLog
    """The training log; its ``episode_returns`` are in SCALED clicks (divide by ``reward_scale``)."""
    env: AdPacingFeatures
    """The training environment (rewards scaled)."""
    reward_scale: float


def train_dqn(seed: int | np.random.Generator = 0, steps: int = TRAINING_STEPS, *,
              reward_scale: float = REWARD_SCALE, settings: DQNSettings | None = None,
              progress: bool = False) -> TrainedPacingDQN:
    """Train a fresh :class:`DQNAgent` on :func:`make_env` ``(reward_scale)``.

    ``seed`` seeds the agent (an ``int``, or a ``numpy.random.Generator`` such as
    ``mediarl_lessons.agent_rng(run)``, used, not copied); the agent draws its training days
    from it too. ``settings`` defaults to :data:`DQN_SETTINGS`. The same seed gives the same
    agent on the same machine (the floats of another CPU or math library make another network).
    """
    steps = check_int("steps", steps, low=1)
    agent, env = _fresh_agent(seed, "seed", reward_scale, settings)
    log = agent.train(env, steps, progress=progress)
    return TrainedPacingDQN(agent, log, env, float(reward_scale))


def train_dqns(seeds: Sequence[int | np.random.Generator], steps: int = TRAINING_STEPS, *,
               reward_scale: float = REWARD_SCALE, settings: DQNSettings | None = None,
               progress: bool = False) -> list[TrainedPacingDQN]:
    """:func:`train_dqn` for several seeds at once, one :class:`TrainedPacingDQN` per seed.

    The agents train side by side with
    :func:`~mediarl_lessons.agents.dqn_together.train_together` (each on its own environment,
    as ``train_dqn`` would train it, with the networks' arithmetic batched): the way to get
    the several runs every claim about a learned agent needs, in far less time than one after
    the other.
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise TypeError(f"seeds must be a non-empty sequence of seeds (ints or Generators), got {seeds!r}")
    steps = check_int("steps", steps, low=1)
    agents, envs = zip(*(_fresh_agent(seed, f"seeds[{i}]", reward_scale, settings) for i, seed in enumerate(seeds)))
    logs = train_together(agents, envs, steps, progress=progress)
    return [TrainedPacingDQN(agent, log, env, float(reward_scale)) for agent, log, env in zip(agents, logs, envs)]


def _fresh_agent(seed: int | np.random.Generator, name: str, reward_scale: float,
                 settings: DQNSettings | None) -> tuple[DQNAgent, AdPacingFeatures]:
    """An untrained agent with :data:`DQN_SETTINGS` (or ``settings``) and its own :func:`make_env`."""
    if not isinstance(seed, np.random.Generator):
        seed = check_int(name, seed, low=0)
    env = make_env(reward_scale)
    return DQNAgent.from_env(env, DQN_SETTINGS if settings is None else settings, seed=seed), env


def dqn_policy_table(agent: DQNAgent, env: gym.Env) -> np.ndarray:
    """The DQN agent's greedy policy as a table: its greedy action in every state of an
    ``AdPacingFeatures`` env, as action indices.

    :func:`mdp.greedy_policy` of the network's Q-values on every state's features, a table
    ``(S,)`` that ``mdp.policy_values`` / ``mdp.compare_policies`` evaluate exactly on the model.
    (Exact ties go to the lowest action, as in :meth:`DQNAgent.greedy_action`.)
    """
    try:
        features = env.get_wrapper_attr("features")
    except AttributeError:
        raise TypeError("env must be wrapped in AdPacingFeatures (it has no `features` table)") from None
    return mdp.greedy_policy(agent.q_values(np.asarray(features)), atol=0.0)


class BudgetOutcomes(NamedTuple):
    """Expected budget quantities of each state and action, ``(S, A)`` arrays like ``R``.

    Used as a policy's "reward" in ``mdp.policy_values``, each gives the expected total of that
    quantity over a day: ``policy_values(P, spend, policy, 1)`` is the expected spend from
    every state. ``leftover``, ``overspend`` and ``overspent`` count only at the end of the
    day (on the transitions that end it).
    """

    spend: np.ndarray
    """Expected budget units paid in this slot's auction."""
    leftover: np.ndarray
    """Expected units of the nominal budget left unspent when the day ends here."""
    overspend: np.ndarray
    """Expected units spent beyond the nominal budget when the day ends here."""
    overspent: np.ndarray
    """Probability that the day ends here with more than the nominal budget spent."""


def budget_outcomes(env: gym.Env, nominal_budget: int | None = None) -> BudgetOutcomes:
    """:class:`BudgetOutcomes` of an ``AdPacing-v0`` environment, read off its exact model ``P``.

    ``nominal_budget`` is the budget the advertiser set (default: the environment's own
    ``budget``, which it can never overspend). Give a larger environment ``budget`` and a
    smaller ``nominal_budget`` to model a budget that is only a target: spending beyond it is
    possible, and ``overspend`` measures it.
    """
    base = env.unwrapped
    if not isinstance(base, AdPacingEnv):
        raise TypeError(f"env must be an AdPacing-v0 environment, got {type(base).__name__}")
    nominal = base.budget if nominal_budget is None else check_int("nominal_budget", nominal_budget, 1, base.budget)
    n_states, n_actions = base.observation_space.n, base.action_space.n
    spend, leftover, overspend, overspent = (np.zeros((n_states, n_actions)) for _ in range(4))
    for state in range(n_states):
        time_left, budget_left, _ = base.decode(state)
        if time_left == 0 or budget_left == 0:  # the day is over: nothing more happens
            continue
        for action in range(n_actions):
            for probability, next_state, _, terminated in base.P[state][action]:
                next_budget = base.decode(next_state).budget_left
                spend[state, action] += probability * (budget_left - next_budget)
                if terminated:
                    spent = base.budget - next_budget
                    leftover[state, action] += probability * max(nominal - spent, 0)
                    overspend[state, action] += probability * max(spent - nominal, 0)
                    overspent[state, action] += probability * (spent > nominal)
    return BudgetOutcomes(spend, leftover, overspend, overspent)
