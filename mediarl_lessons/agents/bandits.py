"""Bandit agents and the one-step rules they run (lessons 01 and 02).

The pure functions are the one-step rules of the exercises, exactly as their contracts in
``docs/exercises.md`` state them (the grader checks a student's function against these):
:func:`epsilon_greedy` (with :func:`random_argmax`, the greedy choice with ties broken at
random), :func:`sample_average` and :func:`recency_weighted_average` (the two ways to update
an estimate), :func:`ucb_scores`, :func:`thompson_bernoulli`, :func:`softmax` (defined in
:mod:`mediarl_lessons.sampling`, beside the sampler, because the simulators use it too) and
:func:`gradient_bandit_update`, :func:`linucb_scores` and :func:`linucb_update`. Every
agent below calls them, so the rule a learner writes in an exercise is the rule the agent
runs (``tests/test_one_rule.py`` replaces each rule and watches the agents change).

The agents (Sutton & Barto = *Reinforcement Learning: An Introduction*, 2nd ed., 2018):

- :class:`EpsilonGreedy`: action values + epsilon-greedy exploration (S&B 2.2-2.6);
- :class:`OptimisticGreedy`: greedy with optimistic initial values (S&B 2.6);
- :class:`UCB1`: upper-confidence-bound action selection (S&B 2.7, eq. 2.10);
- :class:`ThompsonBernoulli`, :class:`ThompsonGaussian`: Thompson sampling with Beta and
  normal posteriors (Thompson 1933; Russo et al. 2018);
- :class:`GradientBandit`: softmax over learned preferences (S&B 2.8, eq. 2.12);
- :class:`LinUCB`: disjoint LinUCB, a contextual bandit (Li et al. 2010).

Every agent learns ``n_runs`` independent copies of itself at once: its estimates are
arrays with one row per run, ``select()`` returns one action per run and
``update(actions, rewards)`` takes one action and one reward per run. With ``n_runs=1`` (the
default) it is an ordinary agent for a Gymnasium loop::

    agent = EpsilonGreedy(n_arms=10, epsilon=0.1, seed=0)
    action = int(agent.select()[0])
    obs, reward, terminated, truncated, info = env.step(action)
    agent.update(action, reward)

and with ``n_runs=2000`` it runs Sutton & Barto's testbed
(:class:`mediarl_lessons.envs.live_channels.BanditTestbed`,
:func:`mediarl_lessons.experiments.run_testbed`). To make that possible the rules also
accept a leading axis of runs (``(n_runs, K)`` instead of ``(K,)``), handled by the helpers
at the end of this module.

The common interface (:class:`BanditAgent`):

- ``select(context=None) -> ndarray[int64] (n_runs,)``: one action per run. Contextual agents
  (LinUCB) read ``context``, the per-arm features ``(n_runs, n_arms, d)`` (or ``(n_arms, d)``
  when ``n_runs == 1``); context-free agents ignore it, so one run loop serves both.
- ``update(actions, rewards, context=None) -> None``: learn from one action and reward per
  run (scalars are accepted when ``n_runs == 1``); ``context`` is what ``select`` saw.
- ``reset() -> None``: forget everything learned (the random generator carries on).
- ``n_arms``, ``n_runs``, ``rng`` attributes.

Every constructor validates its arguments (``epsilon=1.5`` raises
``ValueError: epsilon must be a finite number in [0.0, 1.0], got 1.5``) and takes a ``seed``:
an ``int``, a ``numpy.random.Generator`` (used, not copied) or ``None``. Same seed, same
actions, bit for bit.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from mediarl_lessons._validation import as_generator, check_action, check_float, check_int
from mediarl_lessons.sampling import inverse_cdf, softmax

__all__ = [
    "BanditAgent",
    "EpsilonGreedy",
    "GradientBandit",
    "LinUCB",
    "OptimisticGreedy",
    "ThompsonBernoulli",
    "ThompsonGaussian",
    "UCB1",
    "epsilon_greedy",
    "gradient_bandit_update",
    "linucb_scores",
    "linucb_update",
    "random_argmax",
    "recency_weighted_average",
    "sample_average",
    "softmax",
    "thompson_bernoulli",
    "ucb_scores",
]


# =============================================================================================
# The one-step rules (exercises 01_bandits and 02_contextual; contracts in docs/exercises.md)
# =============================================================================================
def random_argmax(values: np.ndarray | list[float], rng: np.random.Generator) -> int | np.ndarray:
    """The index of the largest value, ties broken uniformly at random.

    ``np.argmax`` alone always picks the first of tied values, which makes a greedy agent
    with equal initial estimates favour arm 0. ``+inf`` counts as a value like any other
    (UCB's score of an untried arm); NaN is not allowed.

    ``values`` is ``(K,)`` (an array or a list of numbers): returns an ``int``. Many runs: an
    ``(n_runs, K)`` array gives an ``int64`` array, one index per row
    (:func:`_random_argmax_runs`).
    """
    if type(values) is not list:  # an array: one row per run, or one row
        if _is_many_runs(values):
            return _random_argmax_runs(values, rng)
        values = _as_list("values", values)
    best = max(values)
    if values.count(best) == 1:  # the common case: one best value
        return values.index(best)
    ties = [a for a, value in enumerate(values) if value == best]
    return ties[int(rng.integers(len(ties)))]


def epsilon_greedy(q_values: np.ndarray | list[float], epsilon: float,
                   rng: np.random.Generator) -> int | np.ndarray:
    """Choose an arm epsilon-greedily (Sutton & Barto, section 2.2).

    With probability ``epsilon`` explore: an arm drawn uniformly from ALL ``K`` arms (the
    greedy one included). Otherwise exploit: an arm with the largest value, ties broken
    uniformly at random. So a unique greedy arm is chosen with probability
    ``1 - epsilon + epsilon / K`` and every other arm with ``epsilon / K``.

    ``q_values`` is ``(K,)`` (an array or a list of numbers): returns an ``int``. Many runs:
    an ``(n_runs, K)`` array gives an ``int64`` array, one arm per row
    (:func:`_epsilon_greedy_runs`).
    """
    if type(epsilon) is not float or not 0.0 <= epsilon <= 1.0:
        epsilon = check_float("epsilon", epsilon, 0.0, 1.0)  # converts an int, or says what is wrong
    if type(q_values) is not list:  # an array: one row per run, or one row
        if _is_many_runs(q_values):
            return _epsilon_greedy_runs(q_values, epsilon, rng)
        q_values = _as_list("q_values", q_values)
    if rng.random() < epsilon:  # explore
        return int(rng.integers(len(q_values)))
    return random_argmax(q_values, rng)  # exploit


def sample_average(q: float, n: int, reward: float) -> float:
    """The incremental sample average (Sutton & Barto, eq. 2.3): ``q + (reward - q) / n``.

    ``q`` is the arm's estimate before this reward and ``n >= 1`` its number of rewards
    counting this one, so after ``n`` rewards ``q`` is exactly their mean, without storing
    them. (Works elementwise on arrays too; the agents use it that way.)
    """
    if np.less(n, 1).any():
        raise ValueError(f"n must be >= 1 (the number of rewards, this one included), got {n}")
    return q + (reward - q) / n


def recency_weighted_average(q: float, reward: float, step_size: float) -> float:
    """The constant-step-size update (Sutton & Barto, eq. 2.5): ``q + step_size * (reward - q)``.

    Where :func:`sample_average` moves the estimate by ``1 / n`` of the error, a constant
    ``step_size`` in (0, 1] moves it by the same fraction every time: the estimate is then an
    exponential recency-weighted average (eq. 2.6), in which a reward ``k`` steps old weighs
    ``step_size * (1 - step_size) ** k``. It forgets old rewards, so it tracks an arm whose
    value drifts. (Works elementwise on arrays too; the agents use it that way.)
    """
    if not 0.0 < step_size <= 1.0:
        raise ValueError(f"step_size must be a number in (0.0, 1.0], got {step_size}")
    return q + step_size * (reward - q)


def ucb_scores(q_values: np.ndarray, counts: np.ndarray, t: float, c: float) -> np.ndarray:
    r"""Upper confidence bounds of every arm (Sutton & Barto, eq. 2.10).

    .. math:: \mathrm{score}(a) = Q(a) + c \sqrt{\frac{\ln t}{N(a)}},

    where ``t >= 1`` is the current step (the number of pulls so far plus one) and ``N(a)``
    the arm's pulls so far. An arm never pulled (``N(a) = 0``) scores ``+inf``: it is
    maximising, so every arm is tried once before any is tried twice. At ``t = 1``,
    ``ln t = 0``: no bonus. ``q_values`` and ``counts`` are ``(n_arms,)`` or, for many runs,
    ``(n_runs, n_arms)``; the result has their shape.
    """
    t = check_float("t", t, 1.0)
    c = check_float("c", c, 0.0)
    q_values = np.asarray(q_values, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    tried = counts > 0
    if not tried.all() and counts.min() < 0:
        raise ValueError(f"counts must be >= 0, got values down to {counts.min()}")
    # ln t / N(a) where N(a) > 0; untried arms get 0 here (no division by 0) and +inf below.
    ratio = np.divide(math.log(t), counts, out=np.zeros(np.broadcast(q_values, counts).shape), where=tried)
    return np.where(tried, q_values + c * np.sqrt(ratio), np.inf)


def thompson_bernoulli(successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator, *,
                       prior_successes: float = 1.0, prior_failures: float = 1.0) -> int | np.ndarray:
    """One Thompson-sampling choice for 0/1 rewards with uniform priors.

    Each arm's success probability has the posterior ``Beta(1 + s_a, 1 + f_a)`` after ``s_a``
    successes and ``f_a`` failures (the uniform prior ``Beta(1, 1)``, updated by Bayes' rule).
    Draw one ``theta_a`` from every posterior and play the arm with the largest draw: each
    arm is chosen with exactly the posterior probability that it is the best.

    ``prior_successes`` and ``prior_failures`` replace the 1s of another Beta prior
    (:class:`ThompsonBernoulli`'s arguments). Counts of shape ``(K,)`` give an ``int``. Many
    runs: ``(n_runs, K)`` counts give an ``int64`` array, one arm per row
    (:func:`_thompson_bernoulli_runs`).
    """
    if _is_many_runs(successes):
        return _thompson_bernoulli_runs(successes, failures, rng, prior_successes, prior_failures)
    successes = np.asarray(successes, dtype=np.float64)
    failures = np.asarray(failures, dtype=np.float64)
    if successes.ndim != 1 or successes.shape != failures.shape or successes.size == 0:
        raise ValueError(f"successes and failures must be 1-D arrays of the same length (one count per arm), "
                         f"got shapes {successes.shape} and {failures.shape}")
    if successes.min() < 0 or failures.min() < 0:
        raise ValueError("successes and failures must be counts >= 0")
    theta = rng.beta(prior_successes + successes, prior_failures + failures)
    return int(np.argmax(theta))  # continuous draws: ties have probability 0


def gradient_bandit_update(preferences: np.ndarray, action: int, reward: float, baseline: float,
                           alpha: float) -> np.ndarray:
    r"""The new preferences after one step of the gradient bandit (Sutton & Barto, eq. 2.12).

    .. math::
        H_{t+1}(A_t) &= H_t(A_t) + \alpha (R_t - \bar R_t)(1 - \pi_t(A_t)), \\
        H_{t+1}(a) &= H_t(a) - \alpha (R_t - \bar R_t)\, \pi_t(a) \quad \text{for } a \ne A_t,

    with ``pi_t = softmax(H_t)`` (computed stably) and ``baseline`` = ``R̄_t``. A reward above
    the baseline makes the action taken more likely and every other less likely; below, the
    reverse. Returns a new array; ``preferences`` is not changed.

    Many runs: ``(n_runs, K)`` preferences with one action, reward and baseline per run
    (arrays ``(n_runs,)``) give the ``(n_runs, K)`` new preferences
    (:func:`_gradient_bandit_update_runs`).
    """
    preferences = np.asarray(preferences, dtype=np.float64)
    if preferences.ndim == 2:
        return _gradient_bandit_update_runs(preferences, action, reward, baseline, alpha)
    if preferences.ndim != 1 or preferences.size == 0:
        raise ValueError(f"preferences must be a non-empty 1-D array (one per arm), got shape {preferences.shape}")
    action = check_action(action, preferences.size)
    alpha = check_float("alpha", alpha, 0.0, low_open=True)
    probabilities = softmax(preferences)
    chosen = np.zeros_like(preferences)
    chosen[action] = 1.0  # the indicator 1{a = A_t}
    return preferences + alpha * (reward - baseline) * (chosen - probabilities)


def linucb_scores(A: np.ndarray, b: np.ndarray, x: np.ndarray, alpha: float) -> np.ndarray:
    r"""Disjoint LinUCB's upper confidence bound of every arm (Li et al. 2010, Algorithm 1).

    Arm ``a`` keeps a ridge regression of its rewards on its features:
    ``A_a = ridge * I + sum x x^T`` and ``b_a = sum r x`` over the rounds it was played.

    .. math:: \hat\theta_a = A_a^{-1} b_a, \qquad
        \mathrm{score}(a) = \hat\theta_a^\top x_a + \alpha \sqrt{x_a^\top A_a^{-1} x_a}.

    The first term is the predicted reward, the second the width of its confidence interval:
    large for feature vectors unlike those seen before. ``A`` is ``(K, d, d)``, ``b`` is
    ``(K, d)``, ``x`` is ``(K, d)`` (one feature vector per arm); leading axes (runs) are
    allowed. ``A^{-1} v`` is computed with ``np.linalg.solve``, never by inverting ``A``:
    solving is cheaper and more accurate. Returns ``(K,)`` scores.
    """
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if A.shape[:-1] != x.shape or A.shape[-1] != x.shape[-1] or b.shape != x.shape:
        raise ValueError(f"A must be (K, d, d), b (K, d) and x (K, d), got shapes {A.shape}, {b.shape}, {x.shape}")
    alpha = check_float("alpha", alpha, 0.0)
    # One solve per arm for both right-hand sides: A_a [theta_a, A_a^-1 x_a] = [b_a, x_a].
    solutions = np.linalg.solve(A, np.stack([b, x], axis=-1))
    theta, a_inv_x = solutions[..., 0], solutions[..., 1]
    predicted = (theta * x).sum(axis=-1)
    # x^T A^-1 x >= 0 for a positive definite A; clip the -1e-17 that rounding can produce.
    width = np.sqrt(np.maximum((x * a_inv_x).sum(axis=-1), 0.0))
    return predicted + alpha * width


def linucb_update(A: np.ndarray, b: np.ndarray, action: int, x: np.ndarray, reward: float) -> None:
    """Disjoint LinUCB's update, in place (Li et al. 2010, Algorithm 1).

    ``A[action] += x x^T`` and ``b[action] += reward * x``, where ``x`` is the ``(d,)``
    feature vector of the arm played. Only the played arm learns: it is the only one whose
    reward was seen.

    Many runs: ``A`` ``(n_runs, K, d, d)`` and ``b`` ``(n_runs, K, d)`` with one action,
    feature vector ``(n_runs, d)`` and reward per run (:func:`_linucb_update_runs`).
    """
    if np.ndim(A) == 4:
        _linucb_update_runs(A, b, action, x, reward)
        return
    action = check_action(action, len(A))
    x = np.asarray(x, dtype=np.float64)
    if x.shape != A.shape[-1:]:
        raise ValueError(f"x must be the chosen arm's features, shape ({A.shape[-1]},), got {x.shape}")
    A[action] += np.outer(x, x)
    b[action] += reward * x


# =============================================================================================
# The agents
# =============================================================================================
class BanditAgent(ABC):
    """What every bandit agent of the course shares: the interface, validation, the generator."""

    def __init__(self, n_arms: int, *, n_runs: int = 1, seed: int | np.random.Generator | None = None) -> None:
        self.n_arms = check_int("n_arms", n_arms, low=1)
        self.n_runs = check_int("n_runs", n_runs, low=1)
        self.rng = as_generator(seed)
        self._row_offsets = np.arange(self.n_runs) * self.n_arms

    def _flat_index(self, actions: np.ndarray) -> np.ndarray:
        """Positions of ``(run, actions[run])`` in a flattened ``(n_runs, n_arms)`` array.

        ``table.reshape(-1)[flat_index]`` reads and writes one entry per run several times
        faster than ``table[np.arange(n_runs), actions]`` does.
        """
        return self._row_offsets + actions

    def _update_estimates(self, actions: np.ndarray, rewards: np.ndarray, step_size: float | None = None) -> None:
        """The incremental update of the chosen arms' ``q_values`` and ``counts`` (S&B eq. 2.3, 2.5).

        ``Q[a] += step * (reward - Q[a])`` with ``step = 1 / N[a]`` (:func:`sample_average`) or
        a constant ``step_size`` (:func:`recency_weighted_average`). For agents that keep value
        estimates (``q_values`` and ``counts``, both ``(n_runs, n_arms)``).
        """
        index = self._flat_index(actions)
        counts = self.counts.reshape(-1)  # views: writing to them writes to the tables
        q_values = self.q_values.reshape(-1)
        counts[index] += 1
        if step_size is None:
            q_values[index] = sample_average(q_values[index], counts[index], rewards)
        else:
            q_values[index] = recency_weighted_average(q_values[index], rewards, step_size)

    @abstractmethod
    def select(self, context: np.ndarray | None = None) -> np.ndarray:
        """One action per run, an ``int64`` array of shape ``(n_runs,)``."""

    @abstractmethod
    def update(self, actions: np.ndarray | int, rewards: np.ndarray | float,
               context: np.ndarray | None = None) -> None:
        """Learn from one action and its reward per run."""

    @abstractmethod
    def reset(self) -> None:
        """Forget everything learned; the random generator carries on."""

    def _check_feedback(self, actions: np.ndarray | int, rewards: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """``actions`` and ``rewards`` as ``(n_runs,)`` arrays, or an error that says what is wrong."""
        if self.n_runs == 1 and (type(actions) is int or isinstance(actions, np.integer)) \
                and isinstance(rewards, (float, int, np.floating, np.integer)):
            # One run and plain numbers (a Gymnasium loop): the same checks, without array work.
            if not 0 <= actions < self.n_arms:
                raise ValueError(f"actions must be integers in [0, {self.n_arms - 1}], got values in "
                                 f"[{actions}, {actions}]")
            if not math.isfinite(rewards):
                raise ValueError("rewards must be finite numbers")
            return np.array([actions], dtype=np.int64), np.array([rewards], dtype=np.float64)
        actions = np.asarray(actions)
        rewards = np.asarray(rewards, dtype=np.float64)
        if actions.ndim == 0:
            actions = actions.reshape(1)
        if rewards.ndim == 0:
            rewards = rewards.reshape(1)
        if actions.shape != (self.n_runs,) or actions.dtype.kind not in "iu":
            raise ValueError(f"actions must be {self.n_runs} integer(s), one per run, got shape "
                             f"{actions.shape} and dtype {actions.dtype}")
        if actions.min() < 0 or actions.max() >= self.n_arms:
            raise ValueError(f"actions must be integers in [0, {self.n_arms - 1}], got values in "
                             f"[{actions.min()}, {actions.max()}]")
        if rewards.shape != (self.n_runs,):
            raise ValueError(f"rewards must be {self.n_runs} number(s), one per run, got shape {rewards.shape}")
        if not np.isfinite(rewards).all():
            raise ValueError("rewards must be finite numbers")
        return actions, rewards

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_arms={self.n_arms}, n_runs={self.n_runs})"


class EpsilonGreedy(BanditAgent):
    """Epsilon-greedy action-value method (Sutton & Barto, sections 2.2-2.6).

    Each run keeps an estimate ``Q[a]`` of every arm's value and a count ``N[a]`` of its
    pulls. ``select`` explores with probability ``epsilon`` (an arm drawn uniformly from ALL
    arms, the greedy one included) and otherwise exploits (an arm with the largest estimate,
    ties broken uniformly at random). ``update`` moves the chosen arm's estimate towards the
    reward: ``Q[a] += step * (reward - Q[a])``, with ``step = 1 / N[a]`` (the sample average,
    exact for a stationary bandit) or a constant ``step_size`` (an exponential recency-weighted
    average, which tracks a drifting one).

    Arguments:
    - ``n_arms``: number of arms, >= 1.
    - ``epsilon``: exploration probability in [0, 1]; 0 is greedy, 1 is uniformly random.
    - ``n_runs``: independent copies learning side by side (default 1).
    - ``step_size``: ``None`` (default) for sample averages, or a constant in (0, 1].
    - ``initial_value``: every estimate's starting value (default 0; a large value, e.g. 5
      on the testbed, is Sutton & Barto's optimistic initial values, section 2.6:
      ``EpsilonGreedy(10, epsilon=0.0, step_size=0.1, initial_value=5.0)`` is their
      optimistic greedy of Fig. 2.3, also available as :class:`OptimisticGreedy`).
    - ``seed``: an ``int``, a ``numpy.random.Generator`` or ``None``.

    Attributes: ``q_values`` ``(n_runs, n_arms)`` estimates and ``counts`` ``(n_runs, n_arms)``
    pulls (read them, copy them to keep them).
    """

    def __init__(
        self,
        n_arms: int,
        epsilon: float,
        *,
        n_runs: int = 1,
        step_size: float | None = None,
        initial_value: float = 0.0,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(n_arms, n_runs=n_runs, seed=seed)
        self.epsilon = check_float("epsilon", epsilon, 0.0, 1.0)
        self.step_size = None if step_size is None else check_float("step_size", step_size, 0.0, 1.0,
                                                                    low_open=True)
        self.initial_value = check_float("initial_value", initial_value)
        self.reset()

    def reset(self) -> None:
        self.q_values = np.full((self.n_runs, self.n_arms), self.initial_value)
        self.counts = np.zeros((self.n_runs, self.n_arms), dtype=np.int64)

    def select(self, context: np.ndarray | None = None) -> np.ndarray:
        return epsilon_greedy(self.q_values, self.epsilon, self.rng)

    def update(self, actions: np.ndarray | int, rewards: np.ndarray | float,
               context: np.ndarray | None = None) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        self._update_estimates(actions, rewards, self.step_size)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_arms={self.n_arms}, epsilon={self.epsilon}, n_runs={self.n_runs}, "
                f"step_size={self.step_size}, initial_value={self.initial_value})")


class OptimisticGreedy(EpsilonGreedy):
    """Greedy with optimistic initial values (Sutton & Barto, section 2.6, Fig. 2.3).

    Every estimate starts at ``initial_value``, far above any arm's true value (5 on the
    testbed, where true values are about N(0, 1)). Whatever an arm pays, its estimate drops,
    so a purely greedy agent turns to the arms it has not disappointed yet: it explores
    without ``epsilon``, a lot at first and less and less. Exactly
    ``EpsilonGreedy(n_arms, epsilon, step_size=step_size, initial_value=initial_value)``.

    The default constant ``step_size=0.1`` is the book's: with sample averages (``None``) the
    first reward replaces the initial value entirely (step ``1/1``), so the optimism would be
    gone after one pull of each arm.
    """

    def __init__(
        self,
        n_arms: int,
        initial_value: float = 5.0,
        *,
        epsilon: float = 0.0,
        step_size: float | None = 0.1,
        n_runs: int = 1,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(n_arms, epsilon, n_runs=n_runs, step_size=step_size, initial_value=initial_value,
                         seed=seed)


class UCB1(BanditAgent):
    r"""Upper-confidence-bound action selection (Sutton & Barto, section 2.7, eq. 2.10).

    Each run keeps sample-average estimates ``Q[a]`` and pull counts ``N[a]``, and plays

    .. math:: A_t = \arg\max_a \Big[ Q_t(a) + c \sqrt{\frac{\ln t}{N_t(a)}} \Big]

    (:func:`ucb_scores`; ties broken uniformly at random). The bonus is large for an arm
    that has been tried little compared with how long the agent has been playing, so it is
    explored "in proportion to its uncertainty"; an untried arm counts as maximising, so
    every arm is played once first (in random order). Unlike epsilon-greedy it never wastes
    pulls on arms that are known to be bad.

    Auer, Cesa-Bianchi & Fischer (2002, "Finite-time analysis of the multiarmed bandit
    problem") proved that ``c = sqrt(2)`` (their UCB1) has regret growing as ``log t`` for
    rewards in [0, 1]; Sutton & Barto use ``c = 2`` on their Gaussian testbed (Fig. 2.4).
    ``c`` is in reward units: scale it with the spread of the rewards.

    Arguments:
    - ``n_arms``: number of arms, >= 1.
    - ``c``: the width of the confidence bonus, >= 0 (default 2.0; 0 is greedy after every
      arm has been tried once).
    - ``n_runs``: independent copies learning side by side (default 1).
    - ``seed``: an ``int``, a ``numpy.random.Generator`` or ``None``.

    Attributes: ``q_values`` and ``counts``, ``(n_runs, n_arms)``; ``steps``, the number of
    updates so far (the same in every run), so the current step is ``t = steps + 1``.
    """

    def __init__(self, n_arms: int, c: float = 2.0, *, n_runs: int = 1,
                 seed: int | np.random.Generator | None = None) -> None:
        super().__init__(n_arms, n_runs=n_runs, seed=seed)
        self.c = check_float("c", c, 0.0)
        self.reset()

    def reset(self) -> None:
        self.q_values = np.zeros((self.n_runs, self.n_arms))
        self.counts = np.zeros((self.n_runs, self.n_arms), dtype=np.int64)
        self.steps = 0

    def select(self, context: np.ndarray | None = None) -> np.ndarray:
        t = self.steps + 1  # the current step
        return random_argmax(ucb_scores(self.q_values, self.counts, t, self.c), self.rng)

    def update(self, actions: np.ndarray | int, rewards: np.ndarray | float,
               context: np.ndarray | None = None) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        self._update_estimates(actions, rewards)
        self.steps += 1

    def __repr__(self) -> str:
        return f"UCB1(n_arms={self.n_arms}, c={self.c}, n_runs={self.n_runs})"


class ThompsonBernoulli(BanditAgent):
    r"""Thompson sampling for 0/1 rewards (Thompson 1933; Russo et al. 2018, "A Tutorial on
    Thompson Sampling", section 3).

    Each arm's unknown success probability ``theta_a`` (a click-through or "stayed 5
    minutes" rate) gets a Beta prior; after ``s_a`` successes and ``f_a`` failures its
    posterior is

    .. math:: \theta_a \mid \text{data} \sim \mathrm{Beta}(\alpha_0 + s_a,\ \beta_0 + f_a).

    Each step draws one ``theta_a`` from every posterior and plays the arm with the largest
    draw (:func:`thompson_bernoulli` for the uniform prior ``alpha_0 = beta_0 = 1``). An arm is
    played with exactly the probability, under the posterior, that it is the best: uncertain
    arms get tried, arms that are surely worse almost never. Sutton & Barto mention it at the
    end of chapter 2 (section 2.10); Chapelle & Li (2011) showed how well it does on clicks.

    Arguments:
    - ``n_arms``: number of arms, >= 1.
    - ``n_runs``: independent copies learning side by side (default 1).
    - ``prior_successes``, ``prior_failures``: the prior ``Beta(alpha_0, beta_0)``, both > 0
      (default 1 and 1: uniform; read them as pseudo-counts).
    - ``seed``: an ``int``, a ``numpy.random.Generator`` or ``None``.

    Rewards must be 0 or 1 (``ValueError`` otherwise; for real-valued rewards use
    :class:`ThompsonGaussian`). Attributes: ``successes`` and ``failures``,
    ``(n_runs, n_arms)`` counts; the posterior is ``Beta(prior_successes + successes,
    prior_failures + failures)``.
    """

    def __init__(self, n_arms: int, *, n_runs: int = 1, prior_successes: float = 1.0,
                 prior_failures: float = 1.0, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(n_arms, n_runs=n_runs, seed=seed)
        self.prior_successes = check_float("prior_successes", prior_successes, 0.0, low_open=True)
        self.prior_failures = check_float("prior_failures", prior_failures, 0.0, low_open=True)
        self.reset()

    def reset(self) -> None:
        self.successes = np.zeros((self.n_runs, self.n_arms))
        self.failures = np.zeros((self.n_runs, self.n_arms))

    def select(self, context: np.ndarray | None = None) -> np.ndarray:
        return thompson_bernoulli(self.successes, self.failures, self.rng,
                                  prior_successes=self.prior_successes, prior_failures=self.prior_failures)

    def update(self, actions: np.ndarray | int, rewards: np.ndarray | float,
               context: np.ndarray | None = None) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        is_binary = (rewards == 0.0) | (rewards == 1.0)
        if not is_binary.all():
            bad = rewards[~is_binary][0]
            raise ValueError(f"ThompsonBernoulli needs rewards of 0 or 1 (a click or not), got {bad}; "
                             f"for real-valued rewards use ThompsonGaussian")
        index = self._flat_index(actions)
        self.successes.reshape(-1)[index] += rewards
        self.failures.reshape(-1)[index] += 1.0 - rewards

    def __repr__(self) -> str:
        return (f"ThompsonBernoulli(n_arms={self.n_arms}, n_runs={self.n_runs}, "
                f"prior_successes={self.prior_successes}, prior_failures={self.prior_failures})")


class ThompsonGaussian(BanditAgent):
    r"""Thompson sampling for real-valued rewards with Gaussian noise of known size.

    Model: arm ``a`` pays ``N(mu_a, sigma^2)`` with ``sigma = reward_std`` known and the mean
    unknown, with prior ``mu_a ~ N(m_0, s_0^2)``. The normal prior is conjugate: after rewards
    ``r_1..r_n`` from the arm, the posterior is normal again, with precision (1 / variance)
    and mean

    .. math::
        \tau_n = \frac{1}{s_0^2} + \frac{n}{\sigma^2}, \qquad
        m_n = \frac{1}{\tau_n}\Big(\frac{m_0}{s_0^2} + \frac{\sum_i r_i}{\sigma^2}\Big),

    computed incrementally: each reward adds ``1 / sigma^2`` to the precision and moves the
    mean, ``m <- (tau m + r / sigma^2) / (tau + 1 / sigma^2)``. Each step draws
    ``mu_a ~ N(m_a, 1 / tau_a)`` for every arm and plays the largest draw. On Sutton & Barto's
    testbed (true values ``N(0, 1)``, noise ``N(0, 1)``) the defaults are the true model.
    (Russo et al. 2018, "A Tutorial on Thompson Sampling", section 4; Murphy 2007,
    "Conjugate Bayesian analysis of the Gaussian distribution", section 2.)

    Arguments:
    - ``n_arms``: number of arms, >= 1.
    - ``n_runs``: independent copies learning side by side (default 1).
    - ``prior_mean``: ``m_0``, any finite number (default 0).
    - ``prior_std``: ``s_0`` > 0 (default 1); make it wide when unsure of the reward scale.
    - ``reward_std``: ``sigma`` > 0, the known noise of a reward (default 1).
    - ``seed``: an ``int``, a ``numpy.random.Generator`` or ``None``.

    Attributes: ``posterior_mean`` and ``posterior_precision``, ``(n_runs, n_arms)``, and the
    property ``posterior_std`` (``1 / sqrt(precision)``).
    """

    def __init__(self, n_arms: int, *, n_runs: int = 1, prior_mean: float = 0.0, prior_std: float = 1.0,
                 reward_std: float = 1.0, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(n_arms, n_runs=n_runs, seed=seed)
        self.prior_mean = check_float("prior_mean", prior_mean)
        self.prior_std = check_float("prior_std", prior_std, 0.0, low_open=True)
        self.reward_std = check_float("reward_std", reward_std, 0.0, low_open=True)
        self._reward_precision = 1.0 / self.reward_std**2
        self.reset()

    def reset(self) -> None:
        self.posterior_mean = np.full((self.n_runs, self.n_arms), self.prior_mean)
        self.posterior_precision = np.full((self.n_runs, self.n_arms), 1.0 / self.prior_std**2)

    @property
    def posterior_std(self) -> np.ndarray:
        """Standard deviation of each arm's posterior, ``(n_runs, n_arms)``."""
        return 1.0 / np.sqrt(self.posterior_precision)

    def select(self, context: np.ndarray | None = None) -> np.ndarray:
        noise = self.rng.standard_normal((self.n_runs, self.n_arms))
        draws = self.posterior_mean + noise / np.sqrt(self.posterior_precision)
        return draws.argmax(axis=1)  # continuous draws: ties have probability 0

    def update(self, actions: np.ndarray | int, rewards: np.ndarray | float,
               context: np.ndarray | None = None) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        index = self._flat_index(actions)
        mean = self.posterior_mean.reshape(-1)  # views: writing to them writes to the tables
        precision = self.posterior_precision.reshape(-1)
        old_precision = precision[index]
        new_precision = old_precision + self._reward_precision
        mean[index] = (old_precision * mean[index] + self._reward_precision * rewards) / new_precision
        precision[index] = new_precision

    def __repr__(self) -> str:
        return (f"ThompsonGaussian(n_arms={self.n_arms}, n_runs={self.n_runs}, prior_mean={self.prior_mean}, "
                f"prior_std={self.prior_std}, reward_std={self.reward_std})")


class GradientBandit(BanditAgent):
    r"""Gradient bandit: a softmax policy over learned preferences (Sutton & Barto, section 2.8).

    Each run keeps a preference ``H(a)`` per arm (start 0: all arms equally likely) and
    plays arm ``a`` with probability ``pi(a) = softmax(H)(a)`` (eq. 2.11, :func:`softmax`).
    After reward ``R_t`` for action ``A_t`` (eq. 2.12, :func:`gradient_bandit_update`):

    .. math:: H_{t+1}(a) = H_t(a) + \alpha (R_t - \bar R_t)(\mathbb 1\{a = A_t\} - \pi_t(a)),

    stochastic gradient ascent on the expected reward. The baseline ``R̄_t`` is the average
    of the rewards before step ``t`` (with ``R̄_1 = R_1``, as in the book's final text; some
    drafts and popular code include ``R_t`` itself, which changes little), or 0 with
    ``baseline=False``. The baseline does not change the expected update, but it matters
    enormously when rewards are far from 0 (Fig. 2.5: true values around +4).

    Arguments:
    - ``n_arms``: number of arms, >= 1.
    - ``alpha``: the step size, > 0 (default 0.1).
    - ``baseline``: subtract the average reward (default True).
    - ``n_runs``: independent copies learning side by side (default 1).
    - ``seed``: an ``int``, a ``numpy.random.Generator`` or ``None``.

    Attributes: ``preferences`` ``(n_runs, n_arms)``, ``average_reward`` ``(n_runs,)``,
    ``steps`` (updates so far); the property ``probabilities`` is the current policy.
    """

    def __init__(self, n_arms: int, alpha: float = 0.1, *, baseline: bool = True, n_runs: int = 1,
                 seed: int | np.random.Generator | None = None) -> None:
        super().__init__(n_arms, n_runs=n_runs, seed=seed)
        self.alpha = check_float("alpha", alpha, 0.0, low_open=True)
        if not isinstance(baseline, (bool, np.bool_)):
            raise TypeError(f"baseline must be True or False, got {baseline!r}")
        self.baseline = bool(baseline)
        self.reset()

    def reset(self) -> None:
        self.preferences = np.zeros((self.n_runs, self.n_arms))
        self.average_reward = np.zeros(self.n_runs)
        self.steps = 0

    @property
    def probabilities(self) -> np.ndarray:
        """The policy ``pi = softmax(H)`` of every run, ``(n_runs, n_arms)``."""
        return softmax(self.preferences)

    def select(self, context: np.ndarray | None = None) -> np.ndarray:
        # An arm drawn from pi = softmax(H): where a uniform number falls among the cumulative probabilities.
        return inverse_cdf(np.cumsum(self.probabilities, axis=1), self.rng.random(self.n_runs))

    def update(self, actions: np.ndarray | int, rewards: np.ndarray | float,
               context: np.ndarray | None = None) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        if not self.baseline:
            baseline = np.zeros(self.n_runs)
        elif self.steps == 0:
            baseline = rewards  # R̄_1 = R_1: the first reward teaches nothing about better or worse
        else:
            baseline = self.average_reward
        self.preferences = gradient_bandit_update(self.preferences, actions, rewards, baseline, self.alpha)
        self.steps += 1
        self.average_reward = sample_average(self.average_reward, self.steps, rewards)  # R̄ of the rewards so far

    def __repr__(self) -> str:
        return (f"GradientBandit(n_arms={self.n_arms}, alpha={self.alpha}, baseline={self.baseline}, "
                f"n_runs={self.n_runs})")


class LinUCB(BanditAgent):
    r"""Disjoint LinUCB, a contextual bandit (Li, Chu, Langford & Schapire 2010, "A
    contextual-bandit approach to personalized news article recommendation", Algorithm 1).

    Every step the agent sees one feature vector ``x_a`` (``d`` numbers) per arm, e.g. a
    user's interests next to an article's topic in ``NewsFeed-v0``, and assumes each arm's
    expected reward is linear in its features, ``E[r | x_a] = theta_a . x_a``, with its own
    unknown ``theta_a`` ("disjoint": no parameters shared between arms). Each arm keeps a
    ridge regression, ``A_a = ridge * I + sum x x^T`` and ``b_a = sum r x`` over the rounds
    it was played (:func:`linucb_update`), and the agent plays the arm with the largest
    upper confidence bound (:func:`linucb_scores`):

    .. math:: \hat\theta_a = A_a^{-1} b_a, \qquad
        a_t = \arg\max_a\ \hat\theta_a^\top x_a + \alpha \sqrt{x_a^\top A_a^{-1} x_a}.

    ``alpha`` trades exploration for exploitation (Li et al. use values around 0.1-1 on
    clicks; with ``alpha = 0`` it is greedy on the ridge estimates).

    ``select(context)`` needs the context: ``(n_arms, n_features)`` for one run (a
    Gymnasium observation) or ``(n_runs, n_arms, n_features)``; ``update(actions, rewards,
    context)`` needs the same context, and learns from the chosen arm's features. So this
    agent works with :func:`mediarl_lessons.experiments.run_bandit_env` (which passes each
    observation), not with the context-free testbed.

    Arguments:
    - ``n_arms``: number of arms, >= 1.
    - ``n_features``: ``d``, features per arm, >= 1.
    - ``alpha``: width of the confidence bonus, >= 0 (default 1.0).
    - ``n_runs``: independent copies learning side by side (default 1).
    - ``ridge``: the ridge penalty ``lambda``, > 0, so ``A_a`` starts at ``lambda I``
      (default 1.0, the paper's identity).
    - ``seed``: an ``int``, a ``numpy.random.Generator`` or ``None`` (ties between equal
      scores are broken at random).

    Attributes: ``A`` ``(n_runs, n_arms, d, d)`` and ``b`` ``(n_runs, n_arms, d)``; the
    property ``theta`` (``(n_runs, n_arms, d)``, the ridge estimates ``A^-1 b``).
    """

    def __init__(self, n_arms: int, n_features: int, alpha: float = 1.0, *, n_runs: int = 1, ridge: float = 1.0,
                 seed: int | np.random.Generator | None = None) -> None:
        super().__init__(n_arms, n_runs=n_runs, seed=seed)
        self.n_features = check_int("n_features", n_features, low=1)
        self.alpha = check_float("alpha", alpha, 0.0)
        self.ridge = check_float("ridge", ridge, 0.0, low_open=True)
        self._rows = np.arange(self.n_runs)
        self.reset()

    def reset(self) -> None:
        d = self.n_features
        self.A = np.broadcast_to(self.ridge * np.eye(d), (self.n_runs, self.n_arms, d, d)).copy()
        self.b = np.zeros((self.n_runs, self.n_arms, d))

    @property
    def theta(self) -> np.ndarray:
        """The ridge-regression estimates ``theta_a = A_a^-1 b_a``, ``(n_runs, n_arms, n_features)``."""
        return np.linalg.solve(self.A, self.b[..., np.newaxis])[..., 0]

    def _check_context(self, context: np.ndarray | None) -> np.ndarray:
        """The context as a float ``(n_runs, n_arms, d)`` array, or an error that says what is wrong."""
        if context is None:
            raise ValueError("LinUCB needs the context: the features of every arm, "
                             f"shape ({self.n_arms}, {self.n_features}) per run")
        context = np.asarray(context, dtype=np.float64)
        one_run = (self.n_arms, self.n_features)
        if context.shape == one_run and self.n_runs == 1:
            context = context[np.newaxis]
        if context.shape != (self.n_runs, *one_run):
            wanted = f"({self.n_runs}, {self.n_arms}, {self.n_features})"
            if self.n_runs == 1:
                wanted = f"({self.n_arms}, {self.n_features}) or {wanted}"
            raise ValueError(f"context must have shape {wanted} (runs, arms, features), got {context.shape}")
        if not np.isfinite(context).all():
            raise ValueError("context must contain only finite numbers")
        return context

    def select(self, context: np.ndarray | None = None) -> np.ndarray:
        context = self._check_context(context)
        return random_argmax(linucb_scores(self.A, self.b, context, self.alpha), self.rng)

    def update(self, actions: np.ndarray | int, rewards: np.ndarray | float,
               context: np.ndarray | None = None) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        context = self._check_context(context)
        x = context[self._rows, actions]  # (n_runs, d): the chosen arm's features in every run
        linucb_update(self.A, self.b, actions, x, rewards)

    def __repr__(self) -> str:
        return (f"LinUCB(n_arms={self.n_arms}, n_features={self.n_features}, alpha={self.alpha}, "
                f"n_runs={self.n_runs}, ridge={self.ridge})")


# =============================================================================================
# Helpers: many runs at once
# =============================================================================================
# The rules above read as the textbook writes them, for one problem. An agent with
# n_runs=2000 (Sutton & Barto's testbed) hands them (n_runs, K) arrays, and the _runs helpers
# apply the same rule to every row with a few numpy calls, because a Python loop over 2000 runs
# at each of 1000 steps would take minutes instead of about a second. With a single row
# (n_runs=1) each helper makes the 1-D rule's random draws (except where its docstring says
# otherwise); with several rows, each row's choice has the rule's probabilities, but the draws
# are made for all rows at once.
def _is_many_runs(values: object) -> bool:
    """Whether a rule was given one row per run, an ``(n_runs, K)`` array."""
    return isinstance(values, np.ndarray) and values.ndim == 2


def _as_list(name: str, values: np.ndarray | tuple[float, ...]) -> list[float]:
    """A ``(K,)`` array as a list of numbers, for the rules' one-row code (or a ``ValueError``).

    Why a list: ``max``, ``count`` and ``index`` on a list of a few numbers take a tenth of
    the time of numpy's calls on an array. (The tabular agents keep their table as lists of
    rows and pass a row as it is; an empty list fails in ``max``.)
    """
    values = np.asarray(values)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (one value per arm), got shape {values.shape}")
    if values.dtype.kind == "f" and np.isnan(values).any():
        raise ValueError(f"{name} must not contain NaN")
    return values.tolist()


def _random_argmax_runs(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:func:`random_argmax` of every row of ``(n_runs, K)`` ``values``: ``(n_runs,)`` int64."""
    n_runs, n_arms = values.shape
    if n_runs == 1:
        return np.array([random_argmax(values[0], rng)], dtype=np.int64)
    choice = values.argmax(axis=1)  # the first best arm; right unless the row has a tie
    best = values[np.arange(n_runs), choice]
    is_best = values == best[:, np.newaxis]
    # Best arms per row, counted by a float32 matrix product: faster than is_best.sum(axis=1).
    n_best = is_best.astype(np.float32) @ np.ones(n_arms, dtype=np.float32)
    tied = np.flatnonzero(n_best > 1)
    if tied.size:
        # In a tied row, give every best arm a uniform random number (the others 0): the
        # largest wins, and each best arm is equally likely to hold it.
        lottery = is_best[tied] * rng.random((tied.size, n_arms))
        choice[tied] = lottery.argmax(axis=1)
    return choice.astype(np.int64, copy=False)


def _epsilon_greedy_runs(q_values: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """:func:`epsilon_greedy` for every row of ``(n_runs, K)`` ``q_values``: ``(n_runs,)`` int64.

    The same rule: every run tosses its exploration coin (also when ``epsilon`` is 0 or 1), an
    exploring run draws any arm uniformly, the others take a best arm, ties broken at random.
    One row draws exactly what the 1-D rule draws; with several rows, the ties are broken first
    and the coins tossed after, all rows at once.
    """
    n_runs, n_arms = q_values.shape
    if n_runs == 1:
        return np.array([epsilon_greedy(q_values[0], epsilon, rng)], dtype=np.int64)
    actions = random_argmax(q_values, rng)
    explore = np.flatnonzero(rng.random(n_runs) < epsilon)
    actions[explore] = rng.integers(n_arms, size=explore.size)
    return actions


def _thompson_bernoulli_runs(successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator,
                             prior_successes: float, prior_failures: float) -> np.ndarray:
    """:func:`thompson_bernoulli` for every row of ``(n_runs, K)`` counts: ``(n_runs,)`` int64.

    The counts are an agent's own (never negative), so only their shapes are checked: checking
    every count would cost a fifth of a single agent's step. The draws are the 1-D rule's, row
    after row.
    """
    failures = np.asarray(failures)
    if failures.shape != successes.shape:
        raise ValueError(f"successes and failures must have the same shape, got {successes.shape} and {failures.shape}")
    theta = rng.beta(prior_successes + successes, prior_failures + failures)
    return theta.argmax(axis=1)  # continuous draws: ties have probability 0


def _gradient_bandit_update_runs(preferences: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                                 baselines: np.ndarray, alpha: float) -> np.ndarray:
    """:func:`gradient_bandit_update` for every row of ``(n_runs, K)`` ``preferences``.

    Eq. 2.12 written as ``H - step * pi`` for every arm, then ``+ step`` for the arm played
    (``step = alpha (R - R̄)``): the same update as the 1-D rule's, rounded differently in
    the last bit.
    """
    n_runs, n_arms = preferences.shape
    actions = np.asarray(actions)
    rewards, baselines = np.asarray(rewards, dtype=np.float64), np.asarray(baselines, dtype=np.float64)
    if actions.shape != (n_runs,) or rewards.shape != (n_runs,) or baselines.shape != (n_runs,):
        raise ValueError(f"with {n_runs} rows of preferences, action, reward and baseline must have shape "
                         f"({n_runs},), got {actions.shape}, {rewards.shape} and {baselines.shape}")
    if n_runs == 1:
        return gradient_bandit_update(preferences[0], int(actions[0]), float(rewards[0]), float(baselines[0]),
                                      alpha)[np.newaxis]
    _check_actions(actions, n_arms)
    alpha = check_float("alpha", alpha, 0.0, low_open=True)
    step = alpha * (rewards - baselines)
    new = preferences - step[:, np.newaxis] * softmax(preferences)
    new.reshape(-1)[np.arange(n_runs) * n_arms + actions] += step
    return new


def _linucb_update_runs(A: np.ndarray, b: np.ndarray, actions: np.ndarray, x: np.ndarray,
                        rewards: np.ndarray) -> None:
    """:func:`linucb_update` in every run, in place: ``A`` ``(n_runs, K, d, d)``, ``b`` ``(n_runs, K, d)``.

    ``actions`` and ``rewards`` are ``(n_runs,)``; ``x`` ``(n_runs, d)`` holds the features of
    each run's chosen arm.
    """
    n_runs, n_arms, d = b.shape
    actions = np.asarray(actions)
    x = np.asarray(x, dtype=np.float64)
    rewards = np.asarray(rewards, dtype=np.float64)
    if actions.shape != (n_runs,) or x.shape != (n_runs, d) or rewards.shape != (n_runs,):
        raise ValueError(f"with {n_runs} runs, action, x and reward must have shapes ({n_runs},), ({n_runs}, {d}) "
                         f"and ({n_runs},), got {actions.shape}, {x.shape} and {rewards.shape}")
    if n_runs == 1:
        linucb_update(A[0], b[0], int(actions[0]), x[0], float(rewards[0]))
        return
    _check_actions(actions, n_arms)
    rows = np.arange(n_runs)
    A[rows, actions] += x[:, :, np.newaxis] * x[:, np.newaxis, :]  # x x^T in every run
    b[rows, actions] += rewards[:, np.newaxis] * x


def _check_actions(actions: np.ndarray, n_arms: int) -> None:
    """One integer arm per run, each in ``[0, n_arms - 1]``, or a ``ValueError`` that says what is wrong."""
    if actions.dtype.kind not in "iu" or actions.min() < 0 or actions.max() >= n_arms:
        raise ValueError(f"action must hold integers in [0, {n_arms - 1}], got {actions!r}")
