"""Offline evaluation: logged bandit feedback and the exact value of a policy on it (lesson 02).

A platform that wants to try a new feed policy first asks: "how would it have done on the
traffic we already served?" The logs hold, for every user, what the current (behaviour)
policy showed and whether the user clicked, nothing about the articles not shown. And the
behaviour policy chose what to show from what it knew about the user, so the logs are
confounded: articles it showed often were shown mostly to users who like them. Averaging
logged clicks naively therefore misjudges any other policy; weighting each event by
``target probability / logging probability`` (IPS, SNIPS) does not, if the logging
probabilities (propensities) were recorded.

This module logs `NewsFeed-v0` traffic under a behaviour policy (:func:`collect_logs`),
recording with every event the propensity and, because this is a simulation, the true
click probability of every article, so a lesson can compute the exact value of any target
policy on the logged users (:func:`true_policy_value`) and check the estimators against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from mediarl_lessons._validation import check_float, check_int

__all__ = [
    "BanditLog",
    "behaviour_scores",
    "collect_logs",
    "softmax_probabilities",
    "true_policy_value",
]

#: The behaviour policy's heuristic: "show users what they are into, and catchy headlines".
MATCH_WEIGHT = 3.0
APPEAL_WEIGHT = 1.0


@dataclass(frozen=True)
class BanditLog:
    """Logged bandit feedback: one row per event (a user served by the behaviour policy).

    What a real platform would have:
    - ``contexts`` ``(n, K, d)`` float32: the observation the behaviour policy saw;
    - ``actions`` ``(n,)`` int64: the article it showed;
    - ``rewards`` ``(n,)`` float64: 1 for a click, else 0;
    - ``propensities`` ``(n,)`` float64: the probability the behaviour policy gave to the
      shown article, ``mu(a_i | x_i)``;
    - ``action_probs`` ``(n, K)`` float64: its probabilities for every article, ``mu(. | x_i)``.

    What only a simulation has (the oracle, to check estimators against):
    - ``click_probs`` ``(n, K)`` float64: every article's true click probability for the user;
    - ``segments`` and ``dayparts`` ``(n,)`` int64: who the user was (indices into
      ``mediarl_lessons.envs.news_feed.SEGMENTS`` and ``DAYPARTS``).
    """

    contexts: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    propensities: np.ndarray
    action_probs: np.ndarray
    click_probs: np.ndarray
    segments: np.ndarray
    dayparts: np.ndarray

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def n_arms(self) -> int:
        return self.action_probs.shape[1]


def softmax_probabilities(scores: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(scores / temperature)`` along the last axis, computed without overflow."""
    z = np.asarray(scores, dtype=np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)  # the largest exponent is 0: nothing overflows
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def behaviour_scores(contexts: np.ndarray, feature_names: tuple[str, ...]) -> np.ndarray:
    """The heuristic the softmax behaviour policy ranks articles by, one score per article.

    ``MATCH_WEIGHT * topic_match + APPEAL_WEIGHT * appeal``: a sensible editor's rule that
    favours articles on the user's favourite topics, and the reason the logs are confounded
    (users who like an article's topic see it more often, and click it more often).
    ``contexts`` is ``(..., K, d)``; ``feature_names`` names the ``d`` columns.
    """
    contexts = np.asarray(contexts)
    match = contexts[..., feature_names.index("topic_match")]
    appeal = contexts[..., feature_names.index("appeal")]
    return MATCH_WEIGHT * match.astype(np.float64) + APPEAL_WEIGHT * appeal


def collect_logs(
    env: gym.Env,
    n_events: int,
    *,
    behaviour: str | Callable[[np.ndarray], np.ndarray] = "softmax",
    temperature: float = 1.0,
    seed: int | None = None,
) -> BanditLog:
    """Serve ``n_events`` users of a NewsFeed environment with a stochastic behaviour policy.

    ``behaviour``:
    - ``"softmax"`` (default): ``softmax(behaviour_scores(x) / temperature)``, a
      context-dependent policy, so the logs are confounded. Lower temperatures are greedier
      (and give rarer articles tiny propensities: large IPS weights); every propensity is
      positive, as IPS needs.
    - ``"uniform"``: every article with probability ``1/K``; replay (Li et al. 2011) needs
      this, and keeps about ``1/K`` of the events for a deterministic target policy.
    - a function ``context (K, d) -> probabilities (K,)``.

    ``seed`` seeds both the environment (its first reset) and the policy's draws, from two
    independent streams; the same seed gives the same log. An environment made with
    ``gym.make`` is reset whenever its time limit truncates an episode (NewsFeed's catalogue
    stays, so the log is one long stream of users).
    """
    n_events = check_int("n_events", n_events, low=1)
    temperature = check_float("temperature", temperature, 0.0, low_open=True)
    if isinstance(behaviour, str):
        if behaviour not in ("softmax", "uniform"):
            raise ValueError(f"behaviour must be 'softmax', 'uniform' or a function, got {behaviour!r}")
        feature_names = getattr(env.unwrapped, "feature_names", None)
        if behaviour == "softmax" and feature_names is None:
            raise ValueError("behaviour='softmax' needs an environment with feature_names (NewsFeed-v0)")
    elif not callable(behaviour):
        raise TypeError(f"behaviour must be 'softmax', 'uniform' or a function, got {behaviour!r}")

    env_seed, policy_seed = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(policy_seed)
    obs, info = env.reset(seed=int(env_seed.generate_state(1)[0]))
    n_arms = env.action_space.n
    uniform = np.full(n_arms, 1.0 / n_arms)

    def policy(context: np.ndarray) -> np.ndarray:
        """The behaviour policy's probabilities for every article, given the context."""
        if behaviour == "uniform":
            return uniform
        if behaviour == "softmax":
            return softmax_probabilities(behaviour_scores(context, feature_names), temperature)
        return _checked_probabilities(behaviour(context), n_arms)

    # Lists while logging (appending is cheap), arrays at the end. The environment returns
    # fresh arrays every step, so keeping references is safe.
    contexts, action_probs, click_probs, segments, dayparts, actions, rewards = [], [], [], [], [], [], []
    luck = rng.random(n_events).tolist()  # one uniform per event decides its action
    for i in range(n_events):
        probs = policy(obs)
        cumulative = np.cumsum(probs)  # inverse-CDF sampling: the first arm whose cumulative
        action = min(int(np.searchsorted(cumulative, luck[i] * cumulative[-1], side="right")), n_arms - 1)

        contexts.append(obs)
        action_probs.append(probs)
        click_probs.append(info["click_probs"])
        segments.append(info["segment"])
        dayparts.append(info["daypart"])
        actions.append(action)
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        if terminated or truncated:
            obs, info = env.reset()

    actions_array = np.array(actions, dtype=np.int64)
    action_probs_array = np.array(action_probs, dtype=np.float64)
    return BanditLog(
        contexts=np.array(contexts, dtype=np.float32),
        actions=actions_array,
        rewards=np.array(rewards, dtype=np.float64),
        propensities=action_probs_array[np.arange(n_events), actions_array],
        action_probs=action_probs_array,
        click_probs=np.array(click_probs, dtype=np.float64),
        segments=np.array(segments, dtype=np.int64),
        dayparts=np.array(dayparts, dtype=np.int64),
    )


def _checked_probabilities(probs: object, n_arms: int) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape != (n_arms,) or not np.all(np.isfinite(probs)) or probs.min() < 0.0 \
            or abs(probs.sum() - 1.0) > 1e-6:
        raise ValueError(f"the behaviour function must return {n_arms} non-negative probabilities "
                         f"summing to 1, got {probs!r}")
    return probs


def true_policy_value(log: BanditLog, target: np.ndarray) -> float:
    """The exact expected CTR of a target policy on the logged users.

    ``mean_i sum_a pi(a | x_i) P(click | x_i, a)``, from the true click probabilities the
    simulation recorded: the number an off-policy estimator is trying to recover (up to the
    luck of which users were logged). ``target`` is either the target policy's
    probabilities ``(n, K)`` or, for a deterministic policy, its actions ``(n,)``.
    """
    target = np.asarray(target)
    n_events, n_arms = log.click_probs.shape
    if target.shape == (n_events,) and target.dtype.kind in "iu":
        if target.min() < 0 or target.max() >= n_arms:
            raise ValueError(f"target actions must be integers in [0, {n_arms - 1}]")
        return float(log.click_probs[np.arange(n_events), target].mean())
    if target.shape == (n_events, n_arms):
        if target.min() < 0.0 or not np.allclose(target.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError("target probabilities must be non-negative and sum to 1 in every row")
        return float(np.einsum("ik,ik->i", target, log.click_probs).mean())
    raise ValueError(f"target must be actions of shape ({n_events},) (integers) or probabilities of "
                     f"shape ({n_events}, {n_arms}), got shape {target.shape} and dtype {target.dtype}")
