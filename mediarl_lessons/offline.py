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

The estimators come in two layers, one way to do each thing:

- pure functions of arrays, the formulas of the lesson (and the reference the exercise
  checks grade against): :func:`replay_estimate`, :func:`ips_estimate`,
  :func:`snips_estimate`, :func:`dm_estimate`, :func:`dr_estimate`, with the reward model
  of DM and DR in :func:`fit_reward_model` and :func:`predict_rewards`;
- wrappers that take a :class:`BanditLog` and a target policy (its action per event, or its
  probabilities ``(n, K)``), pick the right columns and call the pure functions:
  :func:`naive_estimate`, :func:`replay_value`, :func:`ips_value`, :func:`snips_value`,
  :func:`dm_value`, :func:`dr_value`, and :func:`off_policy_estimates` for all at once.

Notation, used in every docstring below: event ``i`` has context ``x_i``, logged action
``a_i`` and reward ``r_i``; ``mu(a | x)`` is the logging (behaviour) policy, ``pi(a | x)``
the target policy, ``w_i = pi(a_i | x_i) / mu(a_i | x_i)`` the importance weight of an event,
``r_hat(x, a)`` a model's predicted reward, ``n`` the number of events, ``K`` of actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import gymnasium as gym
import numpy as np

from mediarl_lessons._validation import check_array, check_float, check_int
from mediarl_lessons.agents.bandits import softmax
from mediarl_lessons.sampling import inverse_cdf

__all__ = [
    "BanditLog",
    "behaviour_scores",
    "collect_logs",
    "dm_estimate",
    "dm_value",
    "dr_estimate",
    "dr_value",
    "fit_reward_model",
    "ips_estimate",
    "ips_value",
    "naive_estimate",
    "off_policy_estimates",
    "predict_rewards",
    "replay_estimate",
    "replay_value",
    "snips_estimate",
    "snips_value",
    "softmax_probabilities",
    "target_probabilities",
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

    def __getitem__(self, events: slice | np.ndarray) -> BanditLog:
        """The log of some events only: ``log[:1000]``, ``log[mask]``, ``log[indices]``."""
        return BanditLog(**{field.name: getattr(self, field.name)[events] for field in fields(self)})

    def split(self, size: int) -> list[BanditLog]:
        """Consecutive pieces of ``size`` events each (a last, shorter piece is dropped)."""
        size = check_int("size", size, low=1, high=len(self))
        return [self[start:start + size] for start in range(0, len(self) - size + 1, size)]


def softmax_probabilities(scores: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(scores / temperature)`` along the last axis (lesson 01's stable :func:`softmax`)."""
    return softmax(np.asarray(scores, dtype=np.float64) / temperature)


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
        action = int(inverse_cdf(np.cumsum(probs), luck[i]))  # an article drawn with probabilities `probs`

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


def target_probabilities(log: BanditLog, target: np.ndarray) -> np.ndarray:
    """A target policy on the logged users as probabilities ``pi(a | x_i)``, shape ``(n, K)``.

    ``target`` is either the probabilities themselves (checked: non-negative, every row
    summing to 1) or, for a deterministic policy, its action for every event ``(n,)``
    (integers in ``[0, K-1]``), which becomes one-hot rows.
    """
    target = np.asarray(target)
    n_events, n_arms = log.click_probs.shape
    if target.shape == (n_events,) and target.dtype.kind in "iu":
        if target.min(initial=0) < 0 or target.max(initial=0) >= n_arms:
            raise ValueError(f"target actions must be integers in [0, {n_arms - 1}]")
        one_hot = np.zeros((n_events, n_arms))
        one_hot[np.arange(n_events), target] = 1.0
        return one_hot
    if target.shape == (n_events, n_arms) and target.dtype.kind in "iuf":
        target = target.astype(np.float64)
        if not np.all(np.isfinite(target)) or target.min(initial=0.0) < 0.0 \
                or not np.allclose(target.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError("target probabilities must be non-negative and sum to 1 in every row")
        return target
    raise ValueError(f"target must be actions of shape ({n_events},) (integers) or probabilities of "
                     f"shape ({n_events}, {n_arms}), got shape {target.shape} and dtype {target.dtype}")


def true_policy_value(log: BanditLog, target: np.ndarray) -> float:
    """The exact expected CTR of a target policy on the logged users.

    ``mean_i sum_a pi(a | x_i) P(click | x_i, a)``, from the true click probabilities the
    simulation recorded: the number an off-policy estimator is trying to recover (up to the
    luck of which users were logged). ``target`` is either the target policy's
    probabilities ``(n, K)`` or, for a deterministic policy, its actions ``(n,)``.
    """
    probs = target_probabilities(log, target)
    return float(np.einsum("ik,ik->i", probs, log.click_probs).mean())


# ---------------------------------------------------------------------------------------------
# Off-policy estimators: pure functions of arrays (the formulas of lesson 02)
# ---------------------------------------------------------------------------------------------


def replay_estimate(rewards: np.ndarray, logged_actions: np.ndarray, target_actions: np.ndarray) -> float:
    """Replay (Li et al. 2011): the mean reward of the events where the target agrees with the log.

        V_replay = sum_i 1[pi(x_i) = a_i] r_i  /  sum_i 1[pi(x_i) = a_i]

    Play the log back to the target policy, user by user: when it would have shown what was
    shown, the logged click is what it would have got, so keep the event; otherwise the log
    says nothing about its choice, so skip the event. Returns ``nan`` if no event matches
    (there is nothing to average).

    Unbiased when the logging policy chose uniformly at random (Li et al.'s setting, and the
    point of their exploration bucket): every user is then kept with the same probability
    ``1/K`` whatever the target does, so the kept events are a random sample of about
    ``n/K`` users served as the target would serve them. On logs from a context-dependent
    policy it is biased: the kept events are the users the behaviour policy happened to
    agree with the target on, not a random sample. (That biased number is the "CTR when
    shown" of a dashboard.)

    ``rewards``, ``logged_actions`` and ``target_actions`` are ``(n,)``; the target policy
    must be deterministic (one action per event).
    """
    rewards = _rewards(rewards)
    logged_actions = _actions("logged_actions", logged_actions, len(rewards))
    target_actions = _actions("target_actions", target_actions, len(rewards))
    kept = logged_actions == target_actions
    if not kept.any():
        return float("nan")
    return float(rewards[kept].mean())


def ips_estimate(rewards: np.ndarray, target_probs: np.ndarray, logging_probs: np.ndarray) -> float:
    """Inverse propensity scoring (Horvitz & Thompson 1952): reweight each logged reward.

        V_IPS = (1/n) sum_i w_i r_i,    w_i = pi(a_i | x_i) / mu(a_i | x_i)

    ``target_probs[i]`` and ``logging_probs[i]`` are the two policies' probabilities of the
    LOGGED action ``a_i`` (not of the target's favourite action).

    Why it works: for one user, ``E_{a ~ mu}[w r] = sum_a mu(a) (pi(a) / mu(a)) r(x, a)
    = sum_a pi(a) r(x, a)``, the target's expected reward. So IPS is unbiased whenever
    ``mu(a | x) > 0`` wherever ``pi(a | x) > 0`` (the logs must contain every choice the
    target might make) and the recorded propensities are the true ones. Its price is
    variance: an event the behaviour policy rarely produces but the target favours gets a
    large weight, and a few such events can swing the estimate.
    """
    rewards, target_probs, logging_probs = _weighted_inputs(rewards, target_probs, logging_probs)
    if len(rewards) == 0:
        raise ValueError("rewards must hold at least one event, got an empty array")
    return float(np.mean(rewards * target_probs / logging_probs))


def snips_estimate(rewards: np.ndarray, target_probs: np.ndarray, logging_probs: np.ndarray) -> float:
    """Self-normalised IPS (Swaminathan & Joachims 2015): divide by the total weight, not by n.

        V_SNIPS = sum_i w_i r_i  /  sum_i w_i,    w_i = pi(a_i | x_i) / mu(a_i | x_i)

    Arguments as in :func:`ips_estimate` (probabilities of the logged actions). The weights
    average to 1 in expectation (``E_mu[w] = sum_a pi(a | x) = 1``); in a finite log they
    do not, and SNIPS corrects for that luck. It is a weighted average of logged rewards,
    so it always lies between the smallest and the largest reward (IPS can leave that
    range), and adding a constant to every reward adds it to the estimate. Slightly biased
    (the bias shrinks like 1/n), but consistent, and with a smaller variance than IPS when
    the weights vary a lot. Returns ``nan`` if every weight is 0 (the target never makes
    any of the logged choices: no information).
    """
    rewards, target_probs, logging_probs = _weighted_inputs(rewards, target_probs, logging_probs)
    weights = target_probs / logging_probs
    total = weights.sum()
    if total == 0.0:
        return float("nan")
    return float(np.dot(weights, rewards) / total)


def dm_estimate(target_policy: np.ndarray, predicted_rewards: np.ndarray) -> float:
    """The direct method: ask a reward model what the target would earn, user by user.

        V_DM = (1/n) sum_i sum_a pi(a | x_i) r_hat(x_i, a)

    ``target_policy`` is the target's probabilities ``(n, K)`` (one-hot rows for a
    deterministic policy) and ``predicted_rewards`` the model's ``r_hat(x_i, a)`` for every
    logged user and every action ``(n, K)`` (:func:`predict_rewards`). No propensities, no
    weights: low variance. But as good as the model and no better: a model fitted on
    confounded logs learns most about the choices the behaviour policy made often and has
    to extrapolate to the rest, and where it is wrong, DM is wrong (biased) however many
    events there are.
    """
    target_policy = _policy_matrix("target_policy", target_policy)
    predicted_rewards = check_array("predicted_rewards", predicted_rewards, shape=target_policy.shape)
    if len(target_policy) == 0:
        raise ValueError("target_policy must hold at least one event, got an empty array")
    return float(np.einsum("ik,ik->i", target_policy, predicted_rewards).mean())


def dr_estimate(
    rewards: np.ndarray,
    logged_actions: np.ndarray,
    logging_probs: np.ndarray,
    target_policy: np.ndarray,
    predicted_rewards: np.ndarray,
) -> float:
    """Doubly robust (Dudik, Langford & Li 2011): the direct method plus IPS on its errors.

        V_DR = (1/n) sum_i [ sum_a pi(a | x_i) r_hat(x_i, a)  +  w_i (r_i - r_hat(x_i, a_i)) ],
        w_i = pi(a_i | x_i) / mu(a_i | x_i)

    Start from the model's answer (DM), then correct it with an importance-weighted average
    of the model's mistakes on the logged events. If the propensities are right, the
    correction removes the model's bias in expectation (unbiased like IPS, whatever the
    model); if the model is right, the correction averages to zero (as good as DM). And
    the better the model, the smaller the residuals the weights multiply, so the variance
    is usually lower than IPS's. Identities the tests check: with ``r_hat = 0`` DR is IPS;
    with a model that reproduces every logged reward, DR is DM.

    ``rewards``, ``logged_actions`` and ``logging_probs`` (``mu(a_i | x_i)``, the logged
    propensities) are ``(n,)``; ``target_policy`` (``pi(a | x_i)``) and
    ``predicted_rewards`` (``r_hat(x_i, a)``) are ``(n, K)``.
    """
    target_policy = _policy_matrix("target_policy", target_policy)
    n_events, n_arms = target_policy.shape
    rewards = _rewards(rewards, n_events, against="target_policy")
    logged_actions = _actions("logged_actions", logged_actions, n_events, n_arms)
    logging_probs = _logging_probs(logging_probs, n_events)
    predicted_rewards = check_array("predicted_rewards", predicted_rewards, shape=(n_events, n_arms))
    if n_events == 0:
        raise ValueError("rewards must hold at least one event, got an empty array")
    events = np.arange(n_events)
    direct = np.einsum("ik,ik->i", target_policy, predicted_rewards)
    weights = target_policy[events, logged_actions] / logging_probs
    residuals = rewards - predicted_rewards[events, logged_actions]
    return float(np.mean(direct + weights * residuals))


def fit_reward_model(
    contexts: np.ndarray, actions: np.ndarray, rewards: np.ndarray, *, ridge: float = 1.0
) -> np.ndarray:
    """A linear reward model per action, fitted by ridge regression on the logged events.

    For every action ``a``, on the events where ``a`` was logged (features ``x_{i,a}``, the
    row of the context that describes action ``a``)::

        theta_a = (ridge * I + sum_i x_{i,a} x_{i,a}^T)^-1  sum_i r_i x_{i,a}

    the same ``A_a^-1 b_a`` that disjoint LinUCB keeps (Li et al. 2010), fitted once on the
    whole log. An action never logged gets ``theta_a = 0``. It is an honest, simple model and
    a misspecified one for NewsFeed, where the click probability is a sigmoid, not a linear
    function, of the features: good enough to show what DM and DR do with an imperfect model.

    ``contexts`` is ``(n, K, d)``, ``actions`` and ``rewards`` ``(n,)``; returns the weights
    ``(K, d)`` for :func:`predict_rewards`. ``ridge > 0`` keeps the solve well posed when
    features are collinear (in NewsFeed an article's own columns are constant for it).
    """
    contexts = check_array("contexts", contexts, shape=(None, None, None))
    n_events, n_arms, n_features = contexts.shape
    rewards = _rewards(rewards, n_events, against="contexts")
    actions = _actions("actions", actions, n_events, n_arms)
    ridge = check_float("ridge", ridge, 0.0, low_open=True)
    shown = contexts[np.arange(n_events), actions]  # (n, d): the features of what was shown
    weights = np.zeros((n_arms, n_features))
    for arm in range(n_arms):
        x, r = shown[actions == arm], rewards[actions == arm]
        if len(x):
            # x^T x and x^T r, written with einsum: numpy's matmul would hand these small
            # products to a multi-threaded BLAS, which can stall on a busy 2-core machine
            gram = ridge * np.eye(n_features) + np.einsum("ij,ik->jk", x, x)
            weights[arm] = np.linalg.solve(gram, np.einsum("ij,i->j", x, r))
    return weights


def predict_rewards(weights: np.ndarray, contexts: np.ndarray) -> np.ndarray:
    """The reward model's prediction ``r_hat(x_i, a) = theta_a . x_{i,a}`` for every event and action.

    ``weights`` ``(K, d)`` from :func:`fit_reward_model`, ``contexts`` ``(n, K, d)``; returns
    ``(n, K)``. Not clipped to ``[0, 1]``: a linear model can stray outside, and the lesson
    shows DM and DR with the model as it is.
    """
    weights = check_array("weights", weights, shape=(None, None))
    contexts = check_array("contexts", contexts, shape=(None, *weights.shape))
    return np.einsum("ikd,kd->ik", contexts, weights)


# ---------------------------------------------------------------------------------------------
# The same estimators on a BanditLog (what a lesson calls)
# ---------------------------------------------------------------------------------------------


def naive_estimate(log: BanditLog) -> float:
    """The plain mean of the logged rewards: the behaviour policy's CTR, what a dashboard shows.

    It estimates the behaviour policy's value well, and nothing else: read as the value of
    any other policy, it is off by however much that policy differs from the behaviour one.
    """
    return float(np.mean(log.rewards))


def replay_value(log: BanditLog, target: np.ndarray) -> float:
    """:func:`replay_estimate` of a deterministic target policy on a log.

    ``target``: the target's action for every event ``(n,)``, or one-hot probabilities
    ``(n, K)``. Unbiased on uniform logs (``collect_logs(..., behaviour="uniform")``) only.
    """
    probs = target_probabilities(log, target)
    actions = probs.argmax(axis=1)
    if not np.all(probs[np.arange(len(probs)), actions] == 1.0):
        raise ValueError("replay needs a deterministic target policy: pass its actions (n,) or one-hot "
                         "probabilities; for a stochastic policy use IPS or SNIPS")
    return replay_estimate(log.rewards, log.actions, actions)


def ips_value(log: BanditLog, target: np.ndarray) -> float:
    """:func:`ips_estimate` of a target policy (actions ``(n,)`` or probabilities ``(n, K)``) on a log."""
    return ips_estimate(log.rewards, _logged_action_probs(log, target), log.propensities)


def snips_value(log: BanditLog, target: np.ndarray) -> float:
    """:func:`snips_estimate` of a target policy (actions ``(n,)`` or probabilities ``(n, K)``) on a log."""
    return snips_estimate(log.rewards, _logged_action_probs(log, target), log.propensities)


def dm_value(log: BanditLog, target: np.ndarray, *, predicted_rewards: np.ndarray | None = None) -> float:
    """:func:`dm_estimate` of a target policy on a log.

    ``predicted_rewards`` ``(n, K)`` defaults to the per-action ridge model fitted on the log
    itself (:func:`fit_reward_model` with its defaults, then :func:`predict_rewards`).
    """
    if predicted_rewards is None:
        predicted_rewards = _default_predictions(log)
    return dm_estimate(target_probabilities(log, target), predicted_rewards)


def dr_value(log: BanditLog, target: np.ndarray, *, predicted_rewards: np.ndarray | None = None) -> float:
    """:func:`dr_estimate` of a target policy on a log; ``predicted_rewards`` as in :func:`dm_value`."""
    if predicted_rewards is None:
        predicted_rewards = _default_predictions(log)
    return dr_estimate(log.rewards, log.actions, log.propensities, target_probabilities(log, target),
                       predicted_rewards)


def off_policy_estimates(
    log: BanditLog, target: np.ndarray, *, predicted_rewards: np.ndarray | None = None
) -> dict[str, float]:
    """Every estimate of a target policy's value from one log, for a comparison table.

    Keys ``"naive"``, ``"replay"`` (only for a deterministic target), ``"ips"``, ``"snips"``,
    ``"dm"``, ``"dr"``; the reward model of DM and DR is fitted once (as in :func:`dm_value`)
    unless ``predicted_rewards`` is given. Add ``true_policy_value(log, target)`` to see
    how far off each one is.
    """
    probs = target_probabilities(log, target)
    if predicted_rewards is None:
        predicted_rewards = _default_predictions(log)
    estimates = {"naive": naive_estimate(log)}
    if np.all(probs.max(axis=1) == 1.0):
        estimates["replay"] = replay_value(log, probs)
    estimates["ips"] = ips_value(log, probs)
    estimates["snips"] = snips_value(log, probs)
    estimates["dm"] = dm_value(log, probs, predicted_rewards=predicted_rewards)
    estimates["dr"] = dr_value(log, probs, predicted_rewards=predicted_rewards)
    return estimates


# ---------------------------------------------------------------------------------------------
# Input checks shared by the estimators: every error names the argument
# ---------------------------------------------------------------------------------------------


def _logged_action_probs(log: BanditLog, target: np.ndarray) -> np.ndarray:
    """``pi(a_i | x_i)``: the target's probability of each logged action."""
    return target_probabilities(log, target)[np.arange(len(log)), log.actions]


def _default_predictions(log: BanditLog) -> np.ndarray:
    return predict_rewards(fit_reward_model(log.contexts, log.actions, log.rewards), log.contexts)


def _rewards(rewards: object, n_events: int | None = None, *, against: str = "") -> np.ndarray:
    rewards = check_array("rewards", rewards, shape=(None,))
    if n_events is not None and len(rewards) != n_events:
        raise ValueError(f"rewards must have one entry per event of {against} ({n_events}), got {len(rewards)}")
    return rewards


def _actions(name: str, actions: object, n_events: int, n_arms: int | None = None) -> np.ndarray:
    """Integer actions ``(n_events,)`` (integer-valued floats are accepted), in range if ``n_arms``."""
    array = np.asarray(actions)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an array of integer actions, got dtype {array.dtype}")
    if array.shape != (n_events,):
        raise ValueError(f"{name} must have shape ({n_events},), one action per reward, got {array.shape}")
    if n_arms is not None and len(array) and (array.min() < 0 or array.max() >= n_arms):
        raise ValueError(f"{name} must be integers in [0, {n_arms - 1}], got values in "
                         f"[{array.min()}, {array.max()}]")
    return array


def _logging_probs(logging_probs: object, n_events: int) -> np.ndarray:
    logging_probs = check_array("logging_probs", logging_probs, shape=(None,), low=0.0, high=1.0)
    if len(logging_probs) != n_events:
        raise ValueError(f"logging_probs must have one entry per reward ({n_events}), got {len(logging_probs)}")
    if len(logging_probs) and logging_probs.min() <= 0.0:
        raise ValueError("logging_probs must be > 0: every logged action had a positive probability "
                         f"of being chosen (the propensity IPS divides by), got {logging_probs.min():.4g}")
    return logging_probs


def _weighted_inputs(rewards: object, target_probs: object, logging_probs: object) -> tuple[np.ndarray, ...]:
    rewards = _rewards(rewards)
    target_probs = check_array("target_probs", target_probs, shape=(None,), low=0.0, high=1.0)
    if len(target_probs) != len(rewards):
        raise ValueError(f"target_probs must have one entry per reward ({len(rewards)}), got {len(target_probs)}")
    return rewards, target_probs, _logging_probs(logging_probs, len(rewards))


def _policy_matrix(name: str, policy: object) -> np.ndarray:
    policy = check_array(name, policy, shape=(None, None), low=0.0, high=1.0)
    if not np.allclose(policy.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError(f"{name} must hold probabilities summing to 1 in every row (one row per event)")
    return policy
