"""The checks of exercise ``03_dynamic_programming``.

References: :mod:`mediarl_lessons.mdp` (``q_from_v``, ``policy_evaluation_linear`` for exact
values, ``value_iteration``, ``greedy_policy``). Values (``Q`` included) are compared with a
tolerance of ``1e-5``, as the exercise says: Sutton & Barto's stopping rule (``tol=1e-8``)
meets it for the gammas used here, any exact method (a linear solve) passes too, and so does
a computation in float32, which the exercise does not rule out.

Every function whose name starts with ``wrong_`` is DELIBERATELY WRONG: a mistake learners
make, kept here only so that the check can recognise it and name it in a hint.
"""

from __future__ import annotations

import numpy as np

from mediarl_lessons.grading.cases import close, value_case
from mediarl_lessons.grading.core import Case, Mistake, describe, register
from mediarl_lessons.mdp import greedy_policy, policy_evaluation_linear, q_from_v, value_iteration

EXERCISE = "03_dynamic_programming"

#: How close a learner's values must be to the exact ones.
VALUE_TOLERANCE = 1e-5


def random_mdp(rng: np.random.Generator, n_states: int, n_actions: int, n_terminal: int = 1, *,
               costs: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A random MDP ``(P, R)`` whose last ``n_terminal`` states are absorbing with reward 0.

    With ``costs``, every other reward is negative (at most -0.1): the values then only
    decrease from ``V = 0``, sweep after sweep.
    """
    P = rng.dirichlet(np.full(n_states, 0.5), size=(n_states, n_actions))
    R = np.round(rng.normal(size=(n_states, n_actions)), 2)
    if costs:
        R = -0.1 - np.abs(R)
    for s in range(n_states - n_terminal, n_states):
        P[s] = 0.0
        P[s, :, s] = 1.0
        R[s] = 0.0
    return P, R


def _values_close(got, expected) -> bool:
    return close(got, expected, rtol=0.0, atol=VALUE_TOLERANCE)


# =============================================================================================
# q_from_v
# =============================================================================================
def wrong_q_no_gamma(P, R, V, gamma):
    """DELIBERATELY WRONG: forgets the discount."""
    return q_from_v(P, R, V, 1.0)


def wrong_q_wrong_axis(P, R, V, gamma):
    """DELIBERATELY WRONG: sums over the first state axis instead of the next state."""
    return R + gamma * np.einsum("tas,t->sa", P, V)


def wrong_q_no_reward(P, R, V, gamma):
    """DELIBERATELY WRONG: forgets the immediate reward."""
    return q_from_v(P, np.zeros_like(R), V, gamma)


Q_FROM_V_MISTAKES = [
    ("forgot gamma? Q = R + gamma * sum_s' P[s, a, s'] V[s']", wrong_q_no_gamma),
    ("summed over the wrong axis of P? The next state is the LAST axis: P[s, a, s'] (P @ V)", wrong_q_wrong_axis),
    ("forgot the immediate reward R[s, a]?", wrong_q_no_reward),
]


@register(EXERCISE, "q_from_v")
def q_from_v_cases(rng: np.random.Generator) -> list[Case]:
    P, R = random_mdp(rng, int(rng.integers(3, 7)), int(rng.integers(2, 4)))
    V = np.round(rng.normal(size=len(R)), 2)
    V[-1] = 0.0
    tiny_P = np.array([[[0.0, 1.0], [0.5, 0.5]], [[0.0, 1.0], [0.0, 1.0]]])
    tiny_R = np.array([[1.0, 2.0], [0.0, 0.0]])
    return [
        value_case("2 states, 2 actions, gamma=0.9", (tiny_P, tiny_R, np.array([4.0, 0.0]), 0.9), q_from_v,
                   wrong_variants=Q_FROM_V_MISTAKES, agrees=_values_close),
        value_case(f"random: {len(R)} states, gamma=0.8", (P, R, V, 0.8), q_from_v, wrong_variants=Q_FROM_V_MISTAKES,
                   agrees=_values_close, fallback_hint="Q[s, a] = R[s, a] + gamma * sum_s' P[s, a, s'] V[s']"),
    ]


# =============================================================================================
# policy_evaluation
# =============================================================================================
def wrong_policy_evaluation_max(P, R, policy, gamma, tol=1e-8):
    """DELIBERATELY WRONG: the Bellman OPTIMALITY backup (value iteration), ignoring the policy."""
    return value_iteration(P, R, gamma, tol)[0]


def wrong_policy_evaluation_one_sweep(P, R, policy, gamma, tol=1e-8):
    """DELIBERATELY WRONG: stops after a single sweep from V = 0."""
    return (policy * R).sum(axis=1)


def wrong_policy_evaluation_no_abs(P, R, policy, gamma, tol=1e-8):
    """DELIBERATELY WRONG: stops when max(V_new - V) < tol, without abs (a falling value never counts)."""
    V = np.zeros(len(R))
    for _ in range(100_000):  # stops no later than the right rule, which the reference meets
        V_new = (policy * q_from_v(P, R, V, gamma)).sum(axis=1)
        if np.max(V_new - V) < tol:
            break
        V = V_new
    return V_new


#: The hint for a stopping rule without abs: with costs it stops after the first sweep.
NO_ABS_HINT = ("stopping rule without abs? Stop when max |V_new - V| < tol (np.abs); with negative rewards the "
               "values decrease and V_new - V is negative")

POLICY_EVALUATION_MISTAKES = [
    ("took the max over actions? That is value iteration; weight each action by policy[s, a] instead",
     wrong_policy_evaluation_max),
    # before "one sweep": on the costs case the two agree, and the missing abs is the likelier cause
    (NO_ABS_HINT, wrong_policy_evaluation_no_abs),
    ("stopped after one sweep? Repeat sweeps until the largest change is below tol", wrong_policy_evaluation_one_sweep),
]


@register(EXERCISE, "policy_evaluation")
def policy_evaluation_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, P, R, policy, gamma) -> Case:
        return value_case(name, (P, R, policy, gamma), policy_evaluation_linear, agrees=_values_close,
                          wrong_variants=POLICY_EVALUATION_MISTAKES,
                          fallback_hint="V(s) <- sum_a policy[s, a] (R[s, a] + gamma sum_s' P[s, a, s'] V(s')), "
                                        "until the largest change in a sweep is below tol")

    n_states, n_actions = int(rng.integers(4, 8)), int(rng.integers(2, 4))
    P, R = random_mdp(rng, n_states, n_actions)
    stochastic = rng.dirichlet(np.ones(n_actions), size=n_states)
    deterministic = np.eye(n_actions)[rng.integers(n_actions, size=n_states)]
    cost_P, cost_R = random_mdp(rng, n_states, n_actions, costs=True)
    return [
        case(f"random: {n_states} states, stochastic policy, gamma=0.9", P, R, stochastic, 0.9),
        case(f"random: {n_states} states, deterministic policy, gamma=0.5", P, R, deterministic, 0.5),
        case(f"random: {n_states} states, every reward negative (costs), gamma=0.9", cost_P, cost_R, stochastic, 0.9),
    ]


# =============================================================================================
# value_iteration
# =============================================================================================
def _value_iteration_case(name: str, P: np.ndarray, R: np.ndarray, gamma: float) -> Case:
    """V* within the tolerance, and a policy that is greedy for Q* (any of tied best actions)."""
    expected_values = value_iteration(P, R, gamma, 1e-12)[0]
    q_star = q_from_v(P, R, expected_values, gamma)

    def observe(func) -> tuple:
        values, policy = func(P.copy(), R.copy(), gamma)
        return np.asarray(values, dtype=np.float64), np.asarray(policy)

    def policy_is_greedy(policy) -> bool:
        policy = np.asarray(policy)
        if policy.shape != (len(R),) or policy.dtype.kind not in "iu":
            return False
        return bool(np.all(q_star[np.arange(len(R)), policy] >= q_star.max(axis=1) - 1e-6))

    def agrees(got, expected) -> bool:
        return _values_close(got[0], expected[0]) and policy_is_greedy(got[1])

    try:  # what forgetting gamma gives, if it converges at all
        undiscounted = value_iteration(P, R, 1.0, 1e-10, max_sweeps=10_000)[0]
    except RuntimeError:
        undiscounted = None
    no_abs = wrong_value_iteration_no_abs(P, R, gamma)[0]
    mistakes = [
        Mistake("V* is right but the policy is not greedy: return np.argmax of Q = q_from_v(P, R, V, gamma) "
                "per state, as integer action indices", lambda got: _values_close(got[0], expected_values)),
        Mistake(NO_ABS_HINT, lambda got: not _values_close(no_abs, expected_values) and _values_close(got[0], no_abs)),
        Mistake("forgot gamma in the backup?",
                lambda got: undiscounted is not None and _values_close(got[0], undiscounted)),
        Mistake("took the min over actions? V(s) <- max_a Q(s, a)",
                lambda got: _values_close(got[0], _min_iteration(P, R, gamma))),
    ]
    return Case(name, observe, (expected_values, greedy_policy(q_star)), agrees, mistakes,
                f"V* {describe(expected_values, 40)}; policy {describe(greedy_policy(q_star), 30)}",
                lambda got: f"V {describe(got[0], 40)}; policy {describe(got[1], 30)}",
                "V(s) <- max_a (R[s, a] + gamma sum_s' P[s, a, s'] V(s')) until the largest change is below tol; "
                "then the greedy policy")


def wrong_value_iteration_no_abs(P, R, gamma, tol=1e-8):
    """DELIBERATELY WRONG: stops when max(V_new - V) < tol, without abs (a falling value never counts)."""
    V = np.zeros(len(R))
    for _ in range(100_000):  # stops no later than the right rule, which the reference meets
        V_new = q_from_v(P, R, V, gamma).max(axis=1)
        if np.max(V_new - V) < tol:
            break
        V = V_new
    return V_new, greedy_policy(q_from_v(P, R, V_new, gamma))


def _min_iteration(P: np.ndarray, R: np.ndarray, gamma: float) -> np.ndarray:
    """DELIBERATELY WRONG value iteration (min instead of max), to recognise that mistake."""
    V = np.zeros(len(R))
    for _ in range(10_000):
        V_new = q_from_v(P, R, V, gamma).min(axis=1)
        if np.max(np.abs(V_new - V)) < 1e-12:
            break
        V = V_new
    return V_new


@register(EXERCISE, "value_iteration")
def value_iteration_cases(rng: np.random.Generator) -> list[Case]:
    n_states, n_actions = int(rng.integers(4, 8)), int(rng.integers(2, 4))
    P, R = random_mdp(rng, n_states, n_actions)
    two_P = np.zeros((2, 2, 2))
    two_P[0, 0, 0] = two_P[0, 1, 1] = two_P[1, :, 1] = 1.0  # action 0 stays (reward 1), action 1 ends (reward 5)
    two_R = np.array([[1.0, 5.0], [0.0, 0.0]])
    # costs: waiting costs 1 and goes nowhere, moving on costs 2 and reaches the exit (state 2) in two
    # moves. V* = [-3.8, -2, 0] (move, move); the values fall from V = 0, so V_new - V < 0 in every sweep
    queue_P = np.zeros((3, 2, 3))
    queue_P[0, 0, 0] = queue_P[0, 1, 1] = queue_P[1, 0, 1] = queue_P[1, 1, 2] = queue_P[2, :, 2] = 1.0
    queue_R = np.array([[-1.0, -2.0], [-1.0, -2.0], [0.0, 0.0]])
    return [
        _value_iteration_case("stay (+1 forever) or leave (+5 once), gamma=0.9", two_P, two_R, 0.9),
        _value_iteration_case("costs: wait (-1) or move on (-2) to the exit, gamma=0.9", queue_P, queue_R, 0.9),
        _value_iteration_case(f"random: {n_states} states, {n_actions} actions, gamma=0.9", P, R, 0.9),
    ]


# =============================================================================================
# greedy_policy
# =============================================================================================
def wrong_greedy_last_tie(Q):
    """DELIBERATELY WRONG: ties to the highest index."""
    Q = np.asarray(Q)
    return Q.shape[1] - 1 - np.argmax(Q[:, ::-1], axis=1)


def wrong_greedy_argmin(Q):
    """DELIBERATELY WRONG: the worst action."""
    return np.argmin(Q, axis=1)


def wrong_greedy_values(Q):
    """DELIBERATELY WRONG: the best value, not the best action."""
    return np.max(Q, axis=1)


GREEDY_MISTAKES = [
    ("ties must go to the LOWEST index (np.argmax does that)", wrong_greedy_last_tie),
    ("picked the smallest value? Take the argmax per state", wrong_greedy_argmin),
    ("returned the best values? Return the best ACTIONS (indices): np.argmax(Q, axis=1)", wrong_greedy_values),
]


@register(EXERCISE, "greedy_policy")
def greedy_policy_cases(rng: np.random.Generator) -> list[Case]:
    Q = np.round(rng.normal(size=(int(rng.integers(3, 8)), int(rng.integers(2, 5)))), 1)
    Q[0, :] = Q[0, 0]  # a state where every action ties
    return [
        value_case("3 states, a tie in state 1", (np.array([[1.0, 2.0, 0.0], [3.0, 3.0, 1.0], [0.0, -1.0, 5.0]]),),
                   greedy_policy, wrong_variants=GREEDY_MISTAKES),
        value_case(f"random: {Q.shape[0]} states, {Q.shape[1]} actions, ties", (Q,), greedy_policy,
                   wrong_variants=GREEDY_MISTAKES, fallback_hint="np.argmax(Q, axis=1)"),
        _integer_actions_case(Q),
    ]


def _integer_actions_case(Q: np.ndarray) -> Case:
    """The actions are integer indices: the lesson indexes with them (``np.eye(n_actions)[policy]``)."""

    def observe(func) -> str:
        return np.asarray(func(Q.copy())).dtype.kind

    return Case("returns integer action indices", observe, "i", lambda got, expected: got in ("i", "u"),
                [Mistake("returned floats? Actions are indices: return integers (np.argmax gives them); "
                         "a float cannot index an array", lambda got: got == "f")],
                "an integer array", lambda got: {"i": "integers", "u": "integers", "f": "floats",
                                                 "b": "booleans"}.get(str(got), f"dtype kind {got!r}"),
                "return an integer array of actions, one per state")
