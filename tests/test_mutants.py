"""Tests written against mutants that a mutation run found alive (issue 15).

Each test here fails on one deliberately broken version of the package that the rest of the
suite let through:

- value iteration (or policy evaluation) stopping when ``max(V_new - V) < tol``, without
  ``abs``: with per-step costs the values FALL sweep after sweep, ``V_new - V`` is negative,
  and the loop stops after one sweep;
- the vectorised ``random_argmax`` leaving a tie of exactly two arms to ``argmax`` (the lower
  index), where only ties of three or more were tested;
- the dynamic-programming check accepting values 1000 times farther from ``V*`` than it
  should: submissions that are almost right (a fixed 100 sweeps, a stop at ``1e-4`` whatever
  ``tol`` says) must still fail it.
"""

from __future__ import annotations

import numpy as np
import pytest

from mediarl_lessons import mdp
from mediarl_lessons.agents import EpsilonGreedy, random_argmax
from mediarl_lessons.grading import check


# ---- value iteration and policy evaluation with falling values -------------------------------
def corridor(length: int) -> tuple[np.ndarray, np.ndarray]:
    """A corridor of ``length`` rooms to walk out of: "walk" costs 1 and moves one room on
    (out of the last room, the episode ends), "wait" costs 0.5 and stays. ``V*(s) = -(length - s)``."""
    P = np.zeros((length, 2, length))
    R = np.zeros((length, 2))
    for s in range(length):
        if s + 1 < length:
            P[s, 0, s + 1] = 1.0  # walk on (out of the last room: the episode ends, no mass in P)
        P[s, 1, s] = 1.0  # wait
        R[s] = [-1.0, -0.5]
    return P, R


def random_costs_mdp(seed: int, n_states: int = 8, n_actions: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A random MDP in which every step costs something and every policy ends (5% per step)."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(n_states, 0.5), size=(n_states, n_actions)) * 0.95
    R = -0.1 - rng.random((n_states, n_actions))
    return P, R


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_value_iteration_with_per_step_costs_reaches_the_exact_values(gamma):
    P, R = corridor(6)
    V, policy = mdp.value_iteration(P, R, gamma)
    exact = -np.array([sum(gamma**k for k in range(6 - s)) for s in range(6)])  # walk out: the costs, discounted
    assert np.allclose(V, exact, atol=1e-7, rtol=0)
    assert policy.tolist() == [0] * 6  # walking beats waiting everywhere
    assert np.allclose(mdp.policy_evaluation_linear(P, R, mdp.as_policy_matrix(policy, 2), gamma), exact, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_value_iteration_with_costs_is_v_star_checked_by_the_linear_solve(seed):
    P, R = random_costs_mdp(seed)
    V, policy = mdp.value_iteration(P, R, 1.0)
    assert (V < -0.1).all()  # every value fell from its start at 0
    # V* is the value of its greedy policy (a linear solve) and satisfies the optimality equation.
    assert np.allclose(V, mdp.policy_evaluation_linear(P, R, mdp.as_policy_matrix(policy, R.shape[1]), 1.0),
                       atol=1e-6, rtol=0)
    assert np.allclose(V, mdp.q_from_v(P, R, V, 1.0).max(axis=1), atol=1e-7, rtol=0)


@pytest.mark.parametrize("seed", range(5))
def test_policy_evaluation_with_costs_matches_the_linear_solve(seed):
    P, R = random_costs_mdp(seed)
    policy = np.random.default_rng(seed).dirichlet(np.ones(R.shape[1]), size=R.shape[0])
    assert np.allclose(mdp.policy_evaluation(P, R, policy, 1.0), mdp.policy_evaluation_linear(P, R, policy, 1.0),
                       atol=1e-6, rtol=0)


# ---- ties of exactly two arms on the vectorised path ------------------------------------------
def two_way_ties(n_rows: int, n_arms: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of values with exactly two best arms at random places; returns (values, the two arms)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n_rows, n_arms))
    pairs = np.sort(np.array([rng.choice(n_arms, size=2, replace=False) for _ in range(n_rows)]), axis=1)
    values[np.arange(n_rows)[:, None], pairs] = values.max(axis=1, keepdims=True) + 1.0
    return values, pairs


@pytest.mark.parametrize("n_arms", [2, 5, 10])
def test_a_tie_of_two_arms_goes_either_way_on_the_vectorised_path(n_arms):
    values, pairs = two_way_ties(20_000, n_arms, seed=n_arms)
    chosen = random_argmax(values, np.random.default_rng(0))
    assert ((chosen == pairs[:, 0]) | (chosen == pairs[:, 1])).all()
    lower_share = (chosen == pairs[:, 0]).mean()  # 1/2, standard error 0.0035
    assert abs(lower_share - 0.5) < 0.02, lower_share


def test_a_greedy_agent_splits_two_tied_arms_evenly_in_every_run():
    agent = EpsilonGreedy(4, epsilon=0.0, n_runs=20_000, seed=1)
    values, pairs = two_way_ties(20_000, 4, seed=2)
    agent.q_values[...] = values
    chosen = agent.select()
    assert abs((chosen == pairs[:, 0]).mean() - 0.5) < 0.02


# ---- near-miss submissions to the dynamic-programming check ------------------------------------
def value_iteration_fixed_100_sweeps(P, R, gamma, tol=1e-8):
    """NEARLY RIGHT: 100 sweeps whatever tol says (at gamma = 0.9, 0.9**100 ~ 3e-5 of V is still missing)."""
    V = np.zeros(len(R))
    for _ in range(100):
        V = (R + gamma * (P @ V)).max(axis=1)
    return V, np.argmax(R + gamma * (P @ V), axis=1)


def value_iteration_stops_at_1e4(P, R, gamma, tol=1e-8):
    """NEARLY RIGHT: stops when the largest change is below 1e-4, whatever tol says."""
    V = np.zeros(len(R))
    while True:
        V_new = (R + gamma * (P @ V)).max(axis=1)
        change = np.max(np.abs(V_new - V))
        V = V_new
        if change < 1e-4:
            return V, np.argmax(R + gamma * (P @ V), axis=1)


def value_iteration_right(P, R, gamma, tol=1e-8):
    """A correct submission (as a learner would write it), so the check is known to pass something."""
    V = np.zeros(len(R))
    while True:
        V_new = (R + gamma * (P @ V)).max(axis=1)
        change = np.max(np.abs(V_new - V))
        V = V_new
        if change < tol:
            return V, np.argmax(R + gamma * (P @ V), axis=1)


SEEDS = range(10)


@pytest.mark.parametrize("submission", [value_iteration_fixed_100_sweeps, value_iteration_stops_at_1e4])
def test_near_misses_fail_the_value_iteration_check_on_every_seed(submission):
    passed = [seed for seed in SEEDS
              if check("03_dynamic_programming", "value_iteration", submission, seed=seed, quiet=True).passed]
    assert passed == [], f"{submission.__name__} passed the check with seeds {passed}"


def test_a_right_value_iteration_passes_the_check_on_every_seed():
    failed = [seed for seed in SEEDS
              if not check("03_dynamic_programming", "value_iteration", value_iteration_right, seed=seed,
                           quiet=True).passed]
    assert failed == []
