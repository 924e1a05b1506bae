"""Bandit agents, vectorised over independent runs (lessons 01 and 02).

Every agent here learns ``n_runs`` independent copies of itself at once: its estimates are
arrays with one row per run, ``select()`` returns one action per run and
``update(actions, rewards)`` takes one action and one reward per run. With ``n_runs=1`` (the
default) it is an ordinary agent for a Gymnasium loop::

    agent = EpsilonGreedy(n_arms=10, epsilon=0.1, seed=0)
    action = int(agent.select()[0])
    obs, reward, terminated, truncated, info = env.step(action)
    agent.update(action, reward)

and with ``n_runs=2000`` it runs Sutton & Barto's testbed in one numpy call per step
(:class:`mediarl_lessons.envs.live_channels.BanditTestbed`,
:func:`mediarl_lessons.experiments.run_testbed`).

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

from abc import ABC, abstractmethod

import numpy as np

from mediarl_lessons._validation import as_generator, check_float, check_int

__all__ = ["BanditAgent", "EpsilonGreedy", "random_argmax"]


def random_argmax(values: np.ndarray, rng: np.random.Generator) -> np.ndarray | int:
    """The index of the largest value along the last axis, ties broken uniformly at random.

    ``values`` is ``(n_arms,)`` (returns an ``int``) or ``(n_runs, n_arms)`` (returns an
    ``int64`` array with one index per row). ``np.argmax`` alone always picks the first of
    tied values, which makes a greedy agent with equal initial estimates favour arm 0.
    ``+inf`` counts as a value like any other (UCB's score of an untried arm).
    """
    values = np.asarray(values)
    if values.ndim == 1:  # one run: a few scalar operations beat the vectorised path below
        best = np.flatnonzero(values == values.max())
        return int(best[0]) if best.size == 1 else int(best[rng.integers(best.size)])
    choice = values.argmax(axis=1)  # the first best arm; right unless the row has a tie
    best = values[np.arange(len(values)), choice]  # (faster than values.max(axis=1) on short rows)
    is_best = values == best[:, np.newaxis]
    # Best arms per row; a float32 matrix product counts them several times faster than
    # is_best.sum(axis=1) when rows are short (10 arms) and many (2000 runs).
    n_best = is_best.astype(np.float32) @ np.ones(values.shape[1], dtype=np.float32)
    tied = np.flatnonzero(n_best > 1)
    if tied.size:
        # In a tied row, give every best arm a uniform random number (the others 0): the
        # largest wins, and each best arm is equally likely to hold it.
        lottery = is_best[tied] * rng.random((tied.size, values.shape[1]))
        choice[tied] = lottery.argmax(axis=1)
    return choice.astype(np.int64, copy=False)


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
      on the testbed, is Sutton & Barto's optimistic initial values, section 2.6).
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
        if self.epsilon == 1.0:
            return self.rng.integers(self.n_arms, size=self.n_runs)
        if self.n_runs == 1:  # an ordinary Gymnasium loop: scalar draws are several times cheaper
            if self.epsilon > 0.0 and self.rng.random() < self.epsilon:
                return np.array([self.rng.integers(self.n_arms)])
            return np.array([random_argmax(self.q_values[0], self.rng)])
        actions = random_argmax(self.q_values, self.rng)
        if self.epsilon > 0.0:
            explore = np.flatnonzero(self.rng.random(self.n_runs) < self.epsilon)
            actions[explore] = self.rng.integers(self.n_arms, size=explore.size)
        return actions

    def update(self, actions: np.ndarray | int, rewards: np.ndarray | float,
               context: np.ndarray | None = None) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        index = self._flat_index(actions)
        counts = self.counts.reshape(-1)  # views: writing to them writes to the tables
        q_values = self.q_values.reshape(-1)
        counts[index] += 1
        step = 1.0 / counts[index] if self.step_size is None else self.step_size
        q_values[index] += step * (rewards - q_values[index])

    def __repr__(self) -> str:
        return (f"EpsilonGreedy(n_arms={self.n_arms}, epsilon={self.epsilon}, n_runs={self.n_runs}, "
                f"step_size={self.step_size}, initial_value={self.initial_value})")
