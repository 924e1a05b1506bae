"""Exact models of the tabular environments, and dynamic programming on them (lesson 03).

A finite MDP with ``S`` states and ``A`` actions is two arrays:

* ``P[s, a, s']``: the probability that action ``a`` in state ``s`` leads to state ``s'``;
* ``R[s, a]``: the expected reward of action ``a`` in state ``s``.

Everything in this module is a few lines of numpy around one expression, the one-step
look-ahead of Sutton & Barto (eq. 4.6)::

    Q = R + gamma * (P @ V)          # Q[s, a] = R[s, a] + gamma * sum_s' P[s, a, s'] V[s']

Termination
-----------
Nothing comes after a transition that ends the episode (``terminated=True`` in Gymnasium), so
it must not bootstrap. Sutton & Barto send such transitions to an absorbing terminal state
whose reward is 0, so its value is 0 and it adds nothing to ``P @ V``. The models built here
from an environment (:func:`dense_model`, :func:`sparse_model`) do the same thing more
directly: the probability of a terminating transition is simply left out of ``P`` (its reward
still counts in ``R``). A row ``P[s, a, :]`` then sums to ``1 - Pr(the episode ends | s, a)``,
and an environment's own terminal states (entered only by terminating transitions) get rows
of zeros and value 0. Both conventions give the same values, and every function below accepts
both; leaving the mass out has one advantage: with ``gamma = 1`` the linear system of
:func:`policy_evaluation_linear` is regular as soon as every policy ends its episodes.

Large models
------------
A dense ``(S, A, S)`` array of a few thousand states no longer fits in memory, but the
functions only ever need ``P @ V``. :class:`SparseTransitions` stores the nonzero entries and
implements ``@`` and ``.shape``, so the very same :func:`q_from_v`, :func:`policy_evaluation`
and :func:`value_iteration` run on it unchanged.

The course's choice of discount for each environment is :data:`SESSION_RETENTION_GAMMA` and
:data:`AD_PACING_GAMMA`: 1, so that values are the undiscounted returns an agent collects.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from mediarl_lessons._validation import check_int

__all__ = [
    "AD_PACING_GAMMA",
    "SESSION_RETENTION_GAMMA",
    "SparseTransitions",
    "Transitions",
    "as_policy_matrix",
    "compare_policies",
    "constant_policy",
    "dense_model",
    "greedy_policy",
    "model_from_env",
    "myopic_policy",
    "policy_evaluation",
    "policy_evaluation_linear",
    "policy_transition_matrix",
    "policy_values",
    "q_from_v",
    "reference_policies",
    "sparse_model",
    "start_value",
    "value_iteration",
]

#: Discount used for ``SessionRetention-v0``: every viewer leaves eventually (each state has a
#: chance to quit), so undiscounted values are finite and equal the return of a session.
SESSION_RETENTION_GAMMA: float = 1.0
#: Discount used for ``AdPacing-v0``: a day has a fixed number of slots (finite horizon).
AD_PACING_GAMMA: float = 1.0


class SparseTransitions:
    """``P[s, a, s']`` stored as a list of its nonzero entries.

    It behaves like the dense ``(S, A, S)`` array where dynamic programming needs it:
    ``P @ V`` returns the ``(S, A)`` array of expected next values ``sum_s' P[s, a, s'] V[s']``,
    and ``P.shape`` is ``(S, A, S)``. Memory grows with the number of possible transitions,
    not with ``S * A * S``.

    Args:
        n_states, n_actions: ``S`` and ``A``.
        states, actions, next_states: integer arrays, one entry per nonzero ``P[s, a, s']``
            (repeated triples add up).
        probabilities: the matching probabilities.
    """

    def __init__(self, n_states: int, n_actions: int, states: np.ndarray, actions: np.ndarray,
                 next_states: np.ndarray, probabilities: np.ndarray) -> None:
        self.shape = (n_states, n_actions, n_states)
        self.ndim = 3
        states, actions, next_states = (np.asarray(x, dtype=np.int64) for x in (states, actions, next_states))
        self.probabilities = np.asarray(probabilities, dtype=np.float64)
        if not (states.shape == actions.shape == next_states.shape == self.probabilities.shape):
            raise ValueError("states, actions, next_states and probabilities must have the same length")
        for name, index, size in [("states", states, n_states), ("actions", actions, n_actions),
                                  ("next_states", next_states, n_states)]:
            if index.size and (index.min() < 0 or index.max() >= size):
                raise ValueError(f"{name} must lie in [0, {size - 1}]")
        self.rows = states * n_actions + actions  # the flat index of (s, a)
        self.next_states = next_states

    def __matmul__(self, values: np.ndarray) -> np.ndarray:
        """Expected next values: ``(P @ V)[s, a] = sum_s' P[s, a, s'] V[s']``."""
        values = np.asarray(values, dtype=np.float64)
        n_states, n_actions, _ = self.shape
        if values.shape != (n_states,):
            raise ValueError(f"values must have shape ({n_states},), got {values.shape}")
        weighted = self.probabilities * values[self.next_states]
        expected = np.bincount(self.rows, weights=weighted, minlength=n_states * n_actions)
        return expected.reshape(n_states, n_actions)

    def sum(self, axis: int = -1) -> np.ndarray:
        """Row sums ``P[s, a, :].sum()`` (only ``axis=-1``/``2`` is supported): the chance to go on."""
        if axis not in (-1, 2):
            raise ValueError("SparseTransitions.sum supports only axis=-1 (sum over next states)")
        n_states, n_actions, _ = self.shape
        return np.bincount(self.rows, weights=self.probabilities,
                           minlength=n_states * n_actions).reshape(n_states, n_actions)

    def to_dense(self) -> np.ndarray:
        """The full ``(S, A, S)`` array (only sensible for small models)."""
        n_states, n_actions, _ = self.shape
        dense = np.zeros(n_states * n_actions * n_states)
        np.add.at(dense, self.rows * n_states + self.next_states, self.probabilities)
        return dense.reshape(self.shape)

    def __repr__(self) -> str:
        return f"SparseTransitions(shape={self.shape}, nonzeros={self.probabilities.size})"


#: What the functions accept as ``P``: a dense ``(S, A, S)`` array or a :class:`SparseTransitions`.
Transitions = np.ndarray | SparseTransitions


# --------------------------------------------------------------------------------------------
# The exercise contracts of lesson 03 (docs/exercises.md): the grader's reference.
# --------------------------------------------------------------------------------------------

def q_from_v(P: Transitions, R: np.ndarray, V: np.ndarray, gamma: float) -> np.ndarray:
    """Action values from state values: ``Q[s, a] = R[s, a] + gamma * sum_s' P[s, a, s'] V[s']``."""
    return R + gamma * (P @ V)


def policy_evaluation(P: Transitions, R: np.ndarray, policy: np.ndarray, gamma: float,
                      tol: float = 1e-8, *, max_sweeps: int = 100_000) -> np.ndarray:
    """``V^pi`` by iterative policy evaluation (Sutton & Barto, section 4.1).

    ``policy[s, a]`` is the probability of action ``a`` in state ``s``. Each sweep applies the
    Bellman expectation equation to every state at once (the book's two-array version),
    ``V(s) <- sum_a pi(a|s) [R(s, a) + gamma sum_s' P(s'|s, a) V(s')]``, and the loop stops when
    the largest change in a sweep is below ``tol``.

    ``max_sweeps`` guards against a loop that never ends (``gamma = 1`` and a policy that can
    keep an episode going forever): it raises ``RuntimeError`` instead.
    """
    V = np.zeros(R.shape[0])
    for _ in range(max_sweeps):
        V_new = (policy * q_from_v(P, R, V, gamma)).sum(axis=1)
        delta = np.max(np.abs(V_new - V))
        V = V_new
        if delta < tol:
            return V
    raise RuntimeError(f"policy evaluation did not converge in {max_sweeps} sweeps (with gamma=1, "
                       "does every episode end under this policy?)")


def value_iteration(P: Transitions, R: np.ndarray, gamma: float, tol: float = 1e-8, *,
                    max_sweeps: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """``(V*, a greedy optimal policy as action indices)`` by value iteration (Sutton & Barto 4.4).

    Each sweep applies the Bellman optimality equation to every state at once (two arrays),
    ``V(s) <- max_a [R(s, a) + gamma sum_s' P(s'|s, a) V(s')]``, until the largest change in a
    sweep is below ``tol``; the policy is greedy with respect to the final ``V``.
    """
    V = np.zeros(R.shape[0])
    for _ in range(max_sweeps):
        V_new = q_from_v(P, R, V, gamma).max(axis=1)
        delta = np.max(np.abs(V_new - V))
        V = V_new
        if delta < tol:
            return V, greedy_policy(q_from_v(P, R, V, gamma))
    raise RuntimeError(f"value iteration did not converge in {max_sweeps} sweeps (with gamma=1, "
                       "does every episode end?)")


def greedy_policy(Q: np.ndarray, atol: float = 1e-9) -> np.ndarray:
    """The action with the largest value in each state, ties broken towards the lowest index.

    Values within ``atol`` of the largest count as ties: two actions with the same outcomes
    (bidding 3 or 4 with 2 units of budget left) must not be told apart by rounding errors.
    """
    is_best = Q >= Q.max(axis=1, keepdims=True) - atol
    return np.argmax(is_best, axis=1)  # the first True


# --------------------------------------------------------------------------------------------
# Exact policy evaluation and the reference policies of the lessons.
# --------------------------------------------------------------------------------------------

def policy_transition_matrix(P: Transitions, policy: np.ndarray) -> np.ndarray:
    """``P_pi[s, s'] = sum_a pi(a|s) P[s, a, s']``, a dense ``(S, S)`` array."""
    if isinstance(P, SparseTransitions):
        n_states, n_actions, _ = P.shape
        weights = P.probabilities * policy.reshape(-1)[P.rows]
        states = P.rows // n_actions
        dense = np.zeros(n_states * n_states)
        np.add.at(dense, states * n_states + P.next_states, weights)
        return dense.reshape(n_states, n_states)
    return np.einsum("sa,sat->st", policy, P)


def policy_evaluation_linear(P: Transitions, R: np.ndarray, policy: np.ndarray, gamma: float) -> np.ndarray:
    """``V^pi`` exactly, by solving the Bellman equation ``(I - gamma P_pi) V = R_pi``.

    ``R_pi[s] = sum_a pi(a|s) R[s, a]``. A state that the policy never leaves and that earns
    nothing (an absorbing terminal state in Sutton & Barto's convention) has value 0 by
    definition; it is taken out of the system, which keeps it regular with ``gamma = 1``.
    Builds an ``(S, S)`` matrix: fine for a few thousand states.
    """
    P_pi = policy_transition_matrix(P, policy)
    R_pi = (policy * R).sum(axis=1)
    absorbing = np.isclose(np.diag(P_pi), 1.0) & (R_pi == 0.0)
    keep = ~absorbing
    V = np.zeros(R.shape[0])
    A = np.eye(int(keep.sum())) - gamma * P_pi[np.ix_(keep, keep)]
    V[keep] = np.linalg.solve(A, R_pi[keep])
    return V


def as_policy_matrix(policy: np.ndarray, n_actions: int) -> np.ndarray:
    """An ``(S, A)`` probability array from action indices ``(S,)`` (one-hot) or from itself."""
    policy = np.asarray(policy)
    if policy.ndim == 1:
        check_int("n_actions", n_actions, low=1)
        if policy.size and (not np.issubdtype(policy.dtype, np.integer)
                            or policy.min() < 0 or policy.max() >= n_actions):
            raise ValueError(f"policy indices must be integers in [0, {n_actions - 1}]")
        return np.eye(n_actions)[policy]
    if policy.ndim != 2 or policy.shape[1] != n_actions:
        raise ValueError(f"policy must have shape (S,) or (S, {n_actions}), got {policy.shape}")
    if np.any(policy < 0) or not np.allclose(policy.sum(axis=1), 1.0):
        raise ValueError("policy rows must be probabilities that sum to 1")
    return policy.astype(np.float64)


def myopic_policy(R: np.ndarray) -> np.ndarray:
    """The action with the largest expected IMMEDIATE reward in each state (ties to lowest).

    It is the optimal policy for ``gamma = 0``: it ignores where an action leads.
    """
    return greedy_policy(R)


def constant_policy(n_states: int, action: int) -> np.ndarray:
    """The same action in every state, as action indices."""
    return np.full(check_int("n_states", n_states, low=1), check_int("action", action, low=0))


def start_value(V: np.ndarray, initial_distribution: np.ndarray) -> float:
    """The value of a policy from the start: ``V`` averaged over the start distribution."""
    return float(np.asarray(initial_distribution) @ V)


def policy_values(P: Transitions, R: np.ndarray, policy: np.ndarray, gamma: float) -> np.ndarray:
    """``V^pi`` for action indices ``(S,)`` or probabilities ``(S, A)``, by the best method.

    A direct linear solve for models up to a few thousand states, iterative policy evaluation
    for larger ones.
    """
    matrix = as_policy_matrix(policy, R.shape[1])
    if R.shape[0] <= 2000:
        return policy_evaluation_linear(P, R, matrix, gamma)
    return policy_evaluation(P, R, matrix, gamma)


def compare_policies(P: Transitions, R: np.ndarray, policies: dict[str, np.ndarray],
                     initial_distribution: np.ndarray, gamma: float) -> dict[str, float]:
    """The start value (:func:`start_value`) of each named policy: the numbers a lesson prints."""
    return {name: start_value(policy_values(P, R, policy, gamma), initial_distribution)
            for name, policy in policies.items()}


def reference_policies(R: np.ndarray, optimal: np.ndarray,
                       action_names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The lessons' line-up as action indices: ``optimal``, ``myopic`` and ``always_<name>`` per action."""
    n_states = R.shape[0]
    policies = {"optimal": np.asarray(optimal), "myopic": myopic_policy(R)}
    for action, name in enumerate(action_names):
        policies[f"always_{name}"] = constant_policy(n_states, action)
    return policies


# --------------------------------------------------------------------------------------------
# From an environment's toy-text model to arrays.
# --------------------------------------------------------------------------------------------

def _model_size(env) -> tuple[int, int]:
    """``(S, A)`` of an environment that has a toy-text model, or a ``TypeError``."""
    env = getattr(env, "unwrapped", env)
    if not (isinstance(env.observation_space, gym.spaces.Discrete)
            and isinstance(env.action_space, gym.spaces.Discrete) and hasattr(env, "P")):
        raise TypeError(f"{type(env).__name__} has no toy-text model "
                        "P[s][a] = [(prob, next, reward, terminated)] with Discrete observations and actions")
    return int(env.observation_space.n), int(env.action_space.n)


def _model_entries(env) -> tuple[int, int, np.ndarray, list[int], list[int], list[int], list[float]]:
    """Walk ``env.P`` once: ``R`` and the non-terminating transitions as flat lists."""
    n_states, n_actions = _model_size(env)
    toy_text = getattr(env, "unwrapped", env).P
    R = np.zeros((n_states, n_actions))
    states: list[int] = []
    actions: list[int] = []
    next_states: list[int] = []
    probabilities: list[float] = []
    for s in range(n_states):
        for a in range(n_actions):
            for prob, s_next, reward, terminated in toy_text[s][a]:
                R[s, a] += prob * reward
                if not terminated:  # an ending transition does not bootstrap: leave it out of P
                    states.append(s)
                    actions.append(a)
                    next_states.append(s_next)
                    probabilities.append(prob)
    return n_states, n_actions, R, states, actions, next_states, probabilities


def sparse_model(env) -> tuple[SparseTransitions, np.ndarray]:
    """``(P, R)`` of an environment with a toy-text model ``env.P``, with ``P`` sparse."""
    n_states, n_actions, R, states, actions, next_states, probabilities = _model_entries(env)
    return SparseTransitions(n_states, n_actions, np.array(states), np.array(actions),
                             np.array(next_states), np.array(probabilities)), R


def dense_model(env, *, max_entries: int = 20_000_000) -> tuple[np.ndarray, np.ndarray]:
    """``(P, R)`` as dense arrays ``(S, A, S)`` and ``(S, A)`` of a toy-text environment.

    ``env.P[s][a]`` lists ``(probability, next_state, reward, terminated)``; ``R`` is the
    expected reward and terminating transitions are left out of ``P`` (see the module
    docstring). Refuses models with more than ``max_entries`` entries in ``P`` (160 MB):
    use :func:`sparse_model` for those.
    """
    n_states, n_actions = _model_size(env)
    if n_states * n_actions * n_states > max_entries:
        raise ValueError(f"a dense model of {n_states} states x {n_actions} actions has "
                         f"{n_states * n_actions * n_states:,} entries (max_entries={max_entries:,}); "
                         "use sparse_model(env)")
    P_sparse, R = sparse_model(env)
    return P_sparse.to_dense(), R


def model_from_env(env, *, dense: bool | None = None) -> tuple[Transitions, np.ndarray]:
    """``(P, R)`` of a toy-text environment: dense when it is small, sparse otherwise.

    ``dense=None`` picks dense up to about two thousand states (a few million entries).
    """
    if dense is None:
        n_states, n_actions = _model_size(env)
        dense = n_states * n_actions * n_states <= 5_000_000
    return dense_model(env) if dense else sparse_model(env)

