r"""Tabular temporal-difference control: Q-learning, SARSA and Expected SARSA (lesson 04).

An agent keeps a table ``Q[s, a]``, its estimate of the return of taking action ``a`` in
state ``s`` and acting well afterwards, and improves it after every step from one
transition ``(s, a, r, s')`` (Sutton & Barto = *Reinforcement Learning: An Introduction*,
2nd ed., 2018, chapter 6):

.. math:: Q(s, a) \leftarrow Q(s, a) + \alpha \,\big[\underbrace{r + \gamma\, \hat v(s')}_{\text{TD target}}
    - Q(s, a)\big],

where ``v̂(s')``, the value of what comes next, is the only difference between the three
algorithms:

- :class:`QLearning` (S&B 6.5, eq. 6.8): ``max_a' Q(s', a')``, the value of the GREEDY policy,
  whatever the agent does next. Off-policy: it learns the optimal ``Q*`` while exploring.
- :class:`Sarsa` (S&B 6.4, eq. 6.7): ``Q(s', a')`` for the action ``a'`` the agent WILL take
  next (chosen before the update). On-policy: it learns the value of its own epsilon-greedy
  policy, exploration included.
- :class:`ExpectedSarsa` (S&B 6.6, eq. 6.9): ``sum_a' pi(a' | s') Q(s', a')``, the expectation
  of SARSA's target under the epsilon-greedy policy: SARSA without the noise of drawing
  ``a'``.

Terminated versus truncated: THE rule of this module
----------------------------------------------------
Gymnasium's ``step`` returns two flags, and they mean opposite things for the TD target:

- ``terminated=True``: the episode really ended (the viewer left, the day of auctions is
  over). Nothing comes after, the value of the future is 0, so the target is just ``r``:
  **do not bootstrap**. (``Q`` of a terminal state is never updated: it keeps its initial
  value, so bootstrapping from it would add an invented future, worse with optimistic
  initial values.)
- ``truncated=True``: the episode was cut off from outside, typically by the ``TimeLimit``
  wrapper of ``gym.make``. The state ``s'`` still has a future, we just stopped watching, so
  the target is ``r + gamma v̂(s')`` as usual: **bootstrap**.

So the update functions take ``terminated`` only, and a training loop passes
``terminated``, never ``terminated or truncated``; the episode loop stops on either.

What is in here
---------------
The pure functions are the one-step rules of the exercises, exactly as their contracts in
``docs/exercises.md`` state them (the grader checks a student's function against these), and the
agents run them, so the rule a learner writes is the rule the agent runs:
:func:`q_learning_update`, :func:`sarsa_update`, :func:`expected_sarsa_update` and
:func:`linear_schedule` (the epsilon schedule).

The agents share :class:`TabularAgent`: ``act(state)`` (lesson 01's
:func:`~mediarl_lessons.agents.bandits.epsilon_greedy` on the state's row of ``Q``),
``update(...)`` (one TD step), ``train(env, episodes)`` (the episode loop, returning a
:class:`TrainingLog`), ``greedy_policy()`` (:func:`mediarl_lessons.mdp.greedy_policy` of
``Q``), ``q_values`` and ``reset()``. Every constructor
validates its arguments and takes a ``seed`` (an ``int``, a ``numpy.random.Generator`` or
``None``); the same seed gives the same table, bit for bit.

The agents keep ``Q`` as a Python list of rows (see :meth:`TabularAgent.reset` for why);
the update functions work on a list as on a numpy array (they only index ``Q[s][a]``), and
``q_values`` returns the table as a numpy array. Q-learning learns SessionRetention-v0
(2,000 episodes) and AdPacing-v0 (10,000 episodes) in under a second each.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from mediarl_lessons import mdp
from mediarl_lessons._validation import as_generator, check_float, check_int
from mediarl_lessons.agents.bandits import epsilon_greedy

__all__ = [
    "ExpectedSarsa",
    "QLearning",
    "Sarsa",
    "TabularAgent",
    "TrainingLog",
    "expected_sarsa_update",
    "linear_schedule",
    "q_learning_update",
    "sarsa_update",
]

#: A Q table as the update functions accept it: a ``(S, A)`` numpy array or a list of rows.
QTable = np.ndarray | list[list[float]]


# =============================================================================================
# The one-step rules (exercise 04_q_learning; contracts in docs/exercises.md)
# =============================================================================================
def _check_step_arguments(alpha: float, gamma: float) -> None:
    # Chained comparisons, not check_float: these run on every step of training (and reject NaN).
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be a finite number in (0.0, 1.0], got {alpha}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be a finite number in [0.0, 1.0], got {gamma}")


def q_learning_update(Q: QTable, s: int, a: int, r: float, s_next: int, terminated: bool,
                      alpha: float, gamma: float) -> float:
    r"""One Q-learning step, in place (Sutton & Barto, eq. 6.8); returns the TD error.

    .. math:: \delta = r + \gamma\,(1 - \text{terminated}) \max_{a'} Q(s', a') - Q(s, a),
        \qquad Q(s, a) \leftarrow Q(s, a) + \alpha\,\delta.

    ``terminated=True`` means nothing comes after ``s_next``: the target is ``r`` alone. A
    truncated episode (a time limit) is NOT terminated: pass ``terminated=False`` and the
    target bootstraps from ``s_next`` as usual. The TD error ``delta`` is the one computed
    BEFORE the update. ``Q`` is a ``(S, A)`` numpy array (or a list of rows).
    """
    _check_step_arguments(alpha, gamma)
    # The value of what follows s_next: 0 after a real ending, the greedy value otherwise.
    future = 0.0 if terminated else gamma * max(Q[s_next])
    td_error = r + future - Q[s][a]
    Q[s][a] += alpha * td_error
    return float(td_error)


def sarsa_update(Q: QTable, s: int, a: int, r: float, s_next: int, a_next: int, terminated: bool,
                 alpha: float, gamma: float) -> float:
    r"""One SARSA step, in place (Sutton & Barto, eq. 6.7); returns the TD error.

    .. math:: \delta = r + \gamma\,(1 - \text{terminated})\, Q(s', a') - Q(s, a),
        \qquad Q(s, a) \leftarrow Q(s, a) + \alpha\,\delta,

    where ``a_next`` is the action the agent takes next in ``s_next`` (chosen BEFORE this
    update, by the policy being learned: that is what makes SARSA on-policy). With
    ``terminated=True`` ``a_next`` is not used. Same conventions as :func:`q_learning_update`.
    """
    _check_step_arguments(alpha, gamma)
    future = 0.0 if terminated else gamma * Q[s_next][a_next]
    td_error = r + future - Q[s][a]
    Q[s][a] += alpha * td_error
    return float(td_error)


def expected_sarsa_update(Q: QTable, s: int, a: int, r: float, s_next: int, terminated: bool,
                          alpha: float, gamma: float, epsilon: float) -> float:
    r"""One Expected SARSA step, in place (Sutton & Barto, eq. 6.9); returns the TD error.

    .. math:: \delta = r + \gamma\,(1 - \text{terminated}) \sum_{a'} \pi(a' \mid s')\, Q(s', a')
        - Q(s, a), \qquad Q(s, a) \leftarrow Q(s, a) + \alpha\,\delta,

    with ``pi`` the epsilon-greedy policy of lesson 01 over the ``K`` actions: every action
    gets ``epsilon / K``, and the greedy mass ``1 - epsilon`` is split evenly over the actions
    with the largest value. The split does not change the expectation (each tied action has
    the same value, the maximum), so

    .. math:: \sum_{a'} \pi(a' \mid s') Q(s', a') = \frac{\epsilon}{K} \sum_{a'} Q(s', a')
        + (1 - \epsilon) \max_{a'} Q(s', a').

    (Giving ``1 - epsilon`` to EACH tied action would count the greedy mass twice.)
    ``epsilon = 0`` makes it Q-learning's target. Same conventions as :func:`q_learning_update`.
    """
    _check_step_arguments(alpha, gamma)
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be a finite number in [0.0, 1.0], got {epsilon}")
    if terminated:
        future = 0.0
    else:
        row = Q[s_next]
        expected = epsilon * sum(row) / len(row) + (1.0 - epsilon) * max(row)
        future = gamma * expected
    td_error = r + future - Q[s][a]
    Q[s][a] += alpha * td_error
    return float(td_error)


def linear_schedule(step: int, start: float, end: float, duration: int) -> float:
    """A value that moves linearly from ``start`` (at step 0) to ``end`` (at step ``duration``).

    After ``duration`` it stays at ``end`` (returned exactly, not ``start + (end - start)``,
    which rounding can leave a hair away). ``duration = 0`` means ``end`` from the start. The
    usual use: epsilon decaying from 1 (explore everything) to 0.05 (mostly exploit).
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if duration < 0:
        raise ValueError(f"duration must be >= 0, got {duration}")
    if step >= duration:
        return float(end)
    return start + (end - start) * (step / duration)


# =============================================================================================
# The agents
# =============================================================================================
@dataclass(frozen=True)
class TrainingLog:
    """What happened in each episode of :meth:`TabularAgent.train`, one entry per episode.

    Plot ``returns`` (smoothed with :meth:`moving_average`) for a learning curve. The returns
    are those of the exploring policy that collected them, so they stay below the greedy
    policy's value while epsilon is large.
    """

    returns: np.ndarray
    """Undiscounted return (sum of rewards) of each episode."""
    lengths: np.ndarray
    """Number of steps of each episode."""
    truncated: np.ndarray
    """Whether each episode was cut off by a time limit (``truncated`` and not ``terminated``)."""
    epsilons: np.ndarray
    """The exploration rate at the end of each episode."""
    seconds: float
    """Wall-clock time of the whole training run."""

    @property
    def episodes(self) -> int:
        return int(self.returns.size)

    @property
    def steps(self) -> int:
        return int(self.lengths.sum())

    def moving_average(self, window: int = 100) -> np.ndarray:
        """The mean return of each run of ``window`` consecutive episodes (``episodes - window + 1`` values)."""
        window = check_int("window", window, low=1, high=max(self.episodes, 1))
        cumulative = np.cumsum(np.insert(self.returns, 0, 0.0))
        return (cumulative[window:] - cumulative[:-window]) / window


class TabularAgent(ABC):
    """What Q-learning, SARSA and Expected SARSA share: the table, exploration, step sizes, training.

    Arguments (all keyword arguments after ``n_states`` and ``n_actions``):

    - ``n_states``, ``n_actions``: size of the table, >= 1 each (``from_env`` reads them from
      an environment with ``Discrete`` observations and actions).
    - ``gamma``: discount in [0, 1] (default 1: the course's tabular environments are
      episodic and are valued undiscounted, see ``mdp.SESSION_RETENTION_GAMMA`` and
      ``mdp.AD_PACING_GAMMA``).
    - ``alpha``: a constant step size in (0, 1], or ``None`` (default) for the visit-count
      schedule ``alpha = 1 / N(s, a) ** alpha_exponent``, where ``N(s, a)`` counts the updates
      of that entry, this one included. A constant step size keeps forgetting old targets
      (good when the world drifts), so a rarely visited entry of a noisy environment keeps
      jittering; the decaying schedule averages all of them. The first update of an entry then
      uses ``alpha = 1``: the initial value is replaced by the first target.
    - ``alpha_exponent``: ``omega`` in (0.5, 1] (default 0.6). ``omega = 1`` is the sample
      average, which learns slowly when early targets are bad (they bootstrap from a table
      still being learned); ``omega`` in (0.5, 1) forgets them faster and still satisfies the
      stochastic-approximation conditions (S&B eq. 2.7: the alphas sum to infinity, their
      squares do not). Even-Dar & Mansour (2003, "Learning rates for Q-learning") show that
      ``omega < 1`` converges polynomially faster.
    - ``epsilon_start``, ``epsilon_end``: exploration rate in [0, 1] at the first update and
      after ``epsilon_decay_steps`` updates; between them it falls linearly
      (:func:`linear_schedule`). Defaults 1.0 and 0.05. Equal values give a constant epsilon.
    - ``epsilon_decay_steps``: >= 0 updates (steps of experience) to go from start to end
      (default 20,000).
    - ``initial_value``: every entry's starting value (default 0; a value above every return
      is "optimism in the face of uncertainty": untried actions look best).
    - ``seed``: an ``int``, a ``numpy.random.Generator`` (used, not copied) or ``None``.

    Attributes: ``steps`` (updates so far: epsilon's clock), ``epsilon`` (the exploration rate
    now, :func:`linear_schedule` of ``steps``), ``episodes`` (episodes trained by
    :meth:`train`), ``rng``; properties ``q_values`` and ``visit_counts`` (numpy copies).

    What the defaults reach (greedy policy's value as a fraction of the DP optimum, worst and
    best of 48 training seeds, ``docs/claims.md``): Q-learning 0.986-1.000 on
    SessionRetention-v0 after 2,000 episodes and 0.963-0.986 on AdPacing-v0 after 10,000; SARSA
    and Expected SARSA 0.986-1.000 on SessionRetention-v0 but only 0.86-0.91 on AdPacing-v0:
    they learn the value of the exploring policy, and rare states converge slowly. Why these
    defaults (measured when they were chosen, seeds 0-2): on AdPacing-v0, whose rewards (2, 6
    or 15 clicks) make targets noisy, the visit-count step size matters: a constant
    ``alpha=0.1`` reaches only about 0.81 after 10,000 episodes, ``alpha_exponent`` 0.55-0.7
    all work. A slow epsilon decay matters too: decaying over 5,000 steps instead of 20,000
    gives about 0.94.
    """

    def __init__(
        self,
        n_states: int,
        n_actions: int,
        *,
        gamma: float = 1.0,
        alpha: float | None = None,
        alpha_exponent: float = 0.6,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.05,
        epsilon_decay_steps: int = 20_000,
        initial_value: float = 0.0,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.n_states = check_int("n_states", n_states, low=1)
        self.n_actions = check_int("n_actions", n_actions, low=1)
        self.gamma = check_float("gamma", gamma, 0.0, 1.0)
        self.alpha = None if alpha is None else check_float("alpha", alpha, 0.0, 1.0, low_open=True)
        self.alpha_exponent = check_float("alpha_exponent", alpha_exponent, 0.5, 1.0, low_open=True)
        self.epsilon_start = check_float("epsilon_start", epsilon_start, 0.0, 1.0)
        self.epsilon_end = check_float("epsilon_end", epsilon_end, 0.0, 1.0)
        self.epsilon_decay_steps = check_int("epsilon_decay_steps", epsilon_decay_steps, low=0)
        self.initial_value = check_float("initial_value", initial_value)
        self.rng = as_generator(seed)
        self._draws = _BatchedGenerator(self.rng)  # what act draws its random numbers from
        self.reset()

    @classmethod
    def from_env(cls, env: gym.Env, **kwargs: Any) -> TabularAgent:
        """An agent sized for ``env`` (``Discrete`` observations and actions); ``kwargs`` as in the constructor."""
        n_states, n_actions = _discrete_sizes(env)
        return cls(n_states, n_actions, **kwargs)

    def reset(self) -> None:
        """Forget everything learned: the table, the visit counts, epsilon's clock (the generator carries on)."""
        # Python lists of rows, because with 2 to 5 actions max() of a list takes a tenth of the time of
        # numpy's max of a row, which would make the agent slower than the environment it learns from.
        self._q: list[list[float]] = [[self.initial_value] * self.n_actions for _ in range(self.n_states)]
        self._visits: list[list[int]] = [[0] * self.n_actions for _ in range(self.n_states)]
        self.steps = 0
        self.episodes = 0
        self.epsilon = self.epsilon_start

    # ---- reading the agent ---------------------------------------------------------------
    @property
    def q_values(self) -> np.ndarray:
        """The table ``Q[s, a]`` as a ``(n_states, n_actions)`` array (a copy; assign to replace it)."""
        return np.array(self._q, dtype=np.float64)

    @q_values.setter
    def q_values(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (self.n_states, self.n_actions) or not np.isfinite(values).all():
            raise ValueError(f"q_values must be a finite ({self.n_states}, {self.n_actions}) array, "
                             f"got shape {values.shape}")
        self._q = values.tolist()

    @property
    def visit_counts(self) -> np.ndarray:
        """``N[s, a]``: how many updates each entry has had, ``(n_states, n_actions)`` (a copy)."""
        return np.array(self._visits, dtype=np.int64)

    def greedy_policy(self) -> np.ndarray:
        """The greedy action of every state, ``(n_states,)`` integers: what the agent has learned.

        Ties (values within 1e-9) go to the LOWEST index, as in ``mdp.greedy_policy``, so the
        policy is a deterministic function of the table; a state never visited (all values
        equal) gets action 0. Evaluate it exactly with ``mdp.policy_values``.
        """
        return mdp.greedy_policy(self.q_values)

    # ---- acting --------------------------------------------------------------------------
    def act(self, state: int) -> int:
        """An epsilon-greedy action in ``state``, with the current :attr:`epsilon`.

        Lesson 01's rule, :func:`mediarl_lessons.agents.bandits.epsilon_greedy`: with
        probability epsilon an action drawn uniformly from ALL actions, otherwise one with the
        largest value, ties broken uniformly at random (with ties towards index 0, an agent
        whose table starts at 0 would keep trying action 0 only).
        """
        return epsilon_greedy(self._q[state], self.epsilon, self._draws)

    # ---- learning ------------------------------------------------------------------------
    def step_size(self, state: int, action: int) -> float:
        """The step size of the NEXT update of ``Q[state, action]``: ``alpha``, or ``1 / (N + 1) ** omega``."""
        if self.alpha is not None:
            return self.alpha
        return (self._visits[state][action] + 1) ** -self.alpha_exponent

    def update(self, state: int, action: int, reward: float, next_state: int, terminated: bool,
               next_action: int | None = None) -> float:
        """Learn from one transition; returns the TD error (before the update).

        Pass ``terminated`` as Gymnasium's ``step`` returned it, NOT ``terminated or
        truncated``: a truncated episode's last state still has a future, and the update
        must bootstrap from it. ``next_action`` is the action the agent will take in
        ``next_state`` (only :class:`Sarsa` needs it, and only when not terminated).
        """
        self._check_transition(state, action, next_state, next_action)
        reward = float(reward)
        if not math.isfinite(reward):
            raise ValueError(f"reward must be a finite number, got {reward}")
        return self._learn(state, action, reward, next_state, bool(terminated), next_action)

    def _learn(self, state: int, action: int, reward: float, next_state: int, terminated: bool,
               next_action: int | None) -> float:
        """The update without argument checks (the training loop's own transitions need none)."""
        alpha = self.step_size(state, action)
        self._visits[state][action] += 1
        self.steps += 1
        # The exploration rate of the policy that picks the next action (Expected SARSA's expectation uses it).
        self.epsilon = linear_schedule(self.steps, self.epsilon_start, self.epsilon_end, self.epsilon_decay_steps)
        return self._td_update(state, action, reward, next_state, terminated, next_action, alpha)

    @abstractmethod
    def _td_update(self, state: int, action: int, reward: float, next_state: int, terminated: bool,
                   next_action: int | None, alpha: float) -> float:
        """Apply the algorithm's one-step rule to the table with step size ``alpha``; return the TD error."""

    #: Whether the update needs the next action (SARSA): then the next action is chosen
    #: BEFORE the update, and is the one taken (on-policy).
    needs_next_action: bool = False

    # ---- the episode loop ----------------------------------------------------------------
    def train(self, env: gym.Env, episodes: int, *, seed: int | None = None,
              progress: bool = False) -> TrainingLog:
        """Learn from ``episodes`` episodes of ``env``; returns what happened in each.

        Works with a ``gym.make``'d environment (wrappers and all) as well as an unwrapped
        one. An episode runs until ``terminated`` OR ``truncated``, but only ``terminated``
        reaches the update: a time limit is not an ending (see the module docstring).

        The first ``env.reset`` is seeded with ``seed``, or, by default, with a number drawn
        from the agent's generator, so the agent's seed alone fixes the whole run.
        ``progress=True`` shows a tqdm progress bar over the episodes.
        """
        episodes = check_int("episodes", episodes, low=1)
        n_states, n_actions = _discrete_sizes(env)
        if (n_states, n_actions) != (self.n_states, self.n_actions):
            raise ValueError(f"the agent has n_states={self.n_states}, n_actions={self.n_actions} but the "
                             f"environment has {n_states} states and {n_actions} actions")
        if seed is None:
            seed = int(self.rng.integers(2**31))
        else:
            seed = check_int("seed", seed, low=0)
        returns = np.zeros(episodes)
        lengths = np.zeros(episodes, dtype=np.int64)
        was_truncated = np.zeros(episodes, dtype=bool)
        epsilons = np.zeros(episodes)

        episode_indices: Any = range(episodes)
        if progress:
            from tqdm.auto import tqdm

            episode_indices = tqdm(episode_indices, desc=type(self).__name__, unit="episode", leave=False)
        started = time.perf_counter()
        act, learn, needs_next_action = self.act, self._learn, self.needs_next_action
        for episode in episode_indices:
            state, _ = env.reset(seed=seed if episode == 0 else None)
            action = act(state)
            total, steps, done = 0.0, 0, False
            while not done:
                next_state, reward, terminated, truncated, _ = env.step(action)
                total += reward
                steps += 1
                done = terminated or truncated  # the episode stops on either...
                # ...but only `terminated` reaches the update: after a truncation s' has a future.
                if needs_next_action:
                    # SARSA: choose a' first, learn from Q(s', a'), then really take a'. After a
                    # truncation a' is still drawn: it is what the policy would have done next.
                    next_action = None if terminated else act(next_state)
                    learn(state, action, reward, next_state, terminated, next_action)
                else:
                    # Q-learning, Expected SARSA: learn first, then choose a' with the updated Q.
                    learn(state, action, reward, next_state, terminated, None)
                    next_action = None if done else act(next_state)
                state, action = next_state, next_action
            # (TimeLimit reports truncated=True on its last step even when the episode also terminated.)
            returns[episode], lengths[episode] = total, steps
            was_truncated[episode] = truncated and not terminated
            epsilons[episode] = self.epsilon
            self.episodes += 1
            if progress and (episode + 1) % 100 == 0:
                episode_indices.set_postfix(mean_return_last_100=f"{returns[episode - 99:episode + 1].mean():.3g}",
                                            epsilon=f"{self.epsilon:.3f}", refresh=False)
        return TrainingLog(returns=returns, lengths=lengths, truncated=was_truncated, epsilons=epsilons,
                           seconds=time.perf_counter() - started)

    # ---- helpers -------------------------------------------------------------------------
    def _check_transition(self, state: int, action: int, next_state: int, next_action: int | None) -> None:
        for name, value, size in (("state", state, self.n_states), ("action", action, self.n_actions),
                                  ("next_state", next_state, self.n_states)):
            check_int(name, value, 0, size - 1)
        if next_action is not None:
            check_int("next_action", next_action, 0, self.n_actions - 1)

    def __repr__(self) -> str:
        alpha = self.alpha if self.alpha is not None else f"1/N^{self.alpha_exponent}"
        return (f"{type(self).__name__}(n_states={self.n_states}, n_actions={self.n_actions}, gamma={self.gamma}, "
                f"alpha={alpha}, epsilon={self.epsilon_start}->{self.epsilon_end} over "
                f"{self.epsilon_decay_steps} steps, initial_value={self.initial_value})")


class QLearning(TabularAgent):
    """Q-learning (Watkins 1989; Sutton & Barto, section 6.5): off-policy TD control.

    Behaves epsilon-greedily, but its target ``r + gamma max_a' Q(s', a')`` is the value of
    acting GREEDILY from ``s'``: it learns ``Q*`` whatever the exploration, as long as every
    state-action pair keeps being tried. Its :meth:`greedy_policy` is the one to deploy.
    See :class:`TabularAgent` for the arguments and :func:`q_learning_update` for the rule.
    """

    def _td_update(self, state: int, action: int, reward: float, next_state: int, terminated: bool,
                   next_action: int | None, alpha: float) -> float:
        return q_learning_update(self._q, state, action, reward, next_state, terminated, alpha, self.gamma)


class Sarsa(TabularAgent):
    """SARSA (Rummery & Niranjan 1994; Sutton & Barto, section 6.4): on-policy TD control.

    Its name is the transition it learns from: ``(S, A, R, S', A')``. The next action ``A'``
    is chosen by the epsilon-greedy policy BEFORE the update and is the action then taken, so
    ``Q`` is the value of the policy actually followed, exploration included; as epsilon
    decays, that policy approaches the greedy one. (In a state that leads back to itself the
    order matters: choosing ``A'`` after the update would learn about a different policy.)
    See :class:`TabularAgent` for the arguments and :func:`sarsa_update` for the rule.
    """

    needs_next_action = True

    def update(self, state: int, action: int, reward: float, next_state: int, terminated: bool,
               next_action: int | None = None) -> float:
        if next_action is None and not terminated:
            raise ValueError("Sarsa.update needs next_action (the action chosen in next_state) unless terminated")
        return super().update(state, action, reward, next_state, terminated, next_action)

    def _td_update(self, state: int, action: int, reward: float, next_state: int, terminated: bool,
                   next_action: int | None, alpha: float) -> float:
        return sarsa_update(self._q, state, action, reward, next_state, next_action, terminated, alpha, self.gamma)


class ExpectedSarsa(TabularAgent):
    """Expected SARSA (van Seijen et al. 2009; Sutton & Barto, section 6.6).

    SARSA's target with the random next action replaced by its expectation under the current
    epsilon-greedy policy (:func:`expected_sarsa_update`): the same on-policy values, less
    variance, so it tolerates larger step sizes. With ``epsilon = 0`` it is Q-learning.
    See :class:`TabularAgent` for the arguments.
    """

    def _td_update(self, state: int, action: int, reward: float, next_state: int, terminated: bool,
                   next_action: int | None, alpha: float) -> float:
        return expected_sarsa_update(self._q, state, action, reward, next_state, terminated, alpha, self.gamma,
                                     self.epsilon)


class _BatchedGenerator:
    """The agent's generator, read 1024 uniform numbers at a time, for :meth:`TabularAgent.act`.

    Why: one ``rng.random()`` call costs about 0.5 µs, as much as the rest of ``act``, and
    taking the next number of a batch a tenth of that. The numbers are the generator's, in
    order, so the seed still fixes everything. It has the two methods ``epsilon_greedy`` calls
    on a ``numpy.random.Generator``: ``random()`` and ``integers(n)``, which is ``int(u * n)``
    for the next uniform ``u`` (uniform on ``{0, ..., n - 1}``, like the generator's own).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._batch: Iterator[float] = iter(())

    def random(self) -> float:
        try:
            return next(self._batch)
        except StopIteration:
            self._batch = iter(self._rng.random(1024).tolist())
            return next(self._batch)

    def integers(self, n: int) -> int:
        return int(self.random() * n)


def _discrete_sizes(env: gym.Env) -> tuple[int, int]:
    """``(number of states, number of actions)`` of an environment with ``Discrete`` spaces."""
    observation_space, action_space = env.observation_space, env.action_space
    if not (isinstance(observation_space, gym.spaces.Discrete) and isinstance(action_space, gym.spaces.Discrete)):
        raise TypeError("a tabular agent needs Discrete observations and actions, got "
                        f"{observation_space} and {action_space}")
    if observation_space.start != 0 or action_space.start != 0:
        raise ValueError("a tabular agent needs Discrete spaces that start at 0")
    return int(observation_space.n), int(action_space.n)
