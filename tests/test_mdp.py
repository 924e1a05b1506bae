"""Dynamic programming in ``mediarl_lessons.mdp``: hand-computed cases, agreement between the
methods, and the dense and sparse models of the course environments."""

from __future__ import annotations


import numpy as np
import pytest

from mediarl_lessons import mdp
from mediarl_lessons.envs.ad_pacing import AdPacingEnv
from mediarl_lessons.envs.session_retention import SessionRetentionEnv


def stay_or_cash_in() -> tuple[np.ndarray, np.ndarray]:
    """State 0: action 0 earns 1 and stays; action 1 earns 5 and ends (absorbing state 1).

    With discount gamma, staying forever is worth 1 / (1 - gamma): far-sighted for gamma > 0.8.
    """
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = 1.0  # stay
    P[0, 1, 1] = 1.0  # cash in, then the absorbing terminal state
    P[1, :, 1] = 1.0
    R = np.array([[1.0, 5.0], [0.0, 0.0]])
    return P, R


# ---- hand-computed cases of the exercise contracts ------------------------------------------

def test_q_from_v_by_hand():
    P = np.array([[[0.5, 0.5], [1.0, 0.0]],
                  [[0.0, 1.0], [0.2, 0.8]]])
    R = np.array([[1.0, 0.0], [2.0, -1.0]])
    V = np.array([10.0, 20.0])
    Q = mdp.q_from_v(P, R, V, gamma=0.5)
    # Q[0,0] = 1 + 0.5 * (5 + 10); Q[0,1] = 0 + 0.5 * 10; Q[1,0] = 2 + 0.5 * 20; Q[1,1] = -1 + 0.5 * (2 + 16)
    np.testing.assert_allclose(Q, [[8.5, 5.0], [12.0, 8.0]])


@pytest.mark.parametrize("gamma, value, action", [(0.9, 10.0, 0), (0.5, 5.0, 1), (0.0, 5.0, 1)])
def test_value_iteration_by_hand_far_sighted_and_myopic(gamma, value, action):
    P, R = stay_or_cash_in()
    V, policy = mdp.value_iteration(P, R, gamma)
    assert V[0] == pytest.approx(value, abs=1e-6), f"gamma={gamma}: V(0) should be max(1/(1-gamma), 5)"
    assert V[1] == 0.0
    assert policy[0] == action
    assert policy[1] == 0, "ties (the terminal state's equal values) go to the lowest index"


def test_greedy_policy_breaks_ties_towards_the_lowest_index():
    Q = np.array([[1.0, 1.0], [0.0, 2.0], [3.0, 3.0], [-1.0, -2.0]])
    assert mdp.greedy_policy(Q).tolist() == [0, 1, 0, 0]
    assert mdp.greedy_policy(np.array([[0.5, 2.0, 2.0]])).tolist() == [1]


def test_policy_evaluation_by_hand_with_the_episode_ending():
    # One state: reward 1, then the episode goes on with probability 0.5 (the rest ends it).
    P = np.array([[[0.5]]])
    R = np.array([[1.0]])
    policy = np.ones((1, 1))
    assert mdp.policy_evaluation(P, R, policy, gamma=1.0)[0] == pytest.approx(2.0, abs=1e-7)
    assert mdp.policy_evaluation_linear(P, R, policy, gamma=1.0)[0] == pytest.approx(2.0)
    assert mdp.policy_evaluation_linear(P, R, policy, gamma=0.5)[0] == pytest.approx(1 / (1 - 0.25))


def test_policy_evaluation_of_a_stochastic_policy_by_hand():
    P, R = stay_or_cash_in()
    policy = np.array([[0.5, 0.5], [1.0, 0.0]])
    # V = 0.5 (1 + gamma V) + 0.5 * 5  =>  V = 3 / (1 - 0.5 gamma)
    for gamma in (0.0, 0.5, 0.9, 1.0):
        expected = 3.0 / (1 - 0.5 * gamma)
        assert mdp.policy_evaluation(P, R, policy, gamma)[0] == pytest.approx(expected, abs=1e-6)
        assert mdp.policy_evaluation_linear(P, R, policy, gamma)[0] == pytest.approx(expected)


def test_absorbing_terminal_state_and_leaving_the_mass_out_give_the_same_values():
    P_absorbing, R = stay_or_cash_in()
    P_left_out = P_absorbing.copy()
    P_left_out[0, 1, 1] = 0.0  # the ending transition does not bootstrap
    P_left_out[1] = 0.0
    policy = np.array([[0.25, 0.75], [1.0, 0.0]])
    for gamma in (0.5, 1.0):
        a = mdp.policy_evaluation_linear(P_absorbing, R, policy, gamma)
        b = mdp.policy_evaluation_linear(P_left_out, R, policy, gamma)
        np.testing.assert_allclose(a, b)
        assert a[0] == pytest.approx(4.0 / (1 - 0.25 * gamma))  # V = 0.25 (1 + gamma V) + 0.75 * 5
    for gamma in (0.5, 0.9):  # (with gamma = 1, "stay forever" is worth infinitely much)
        np.testing.assert_allclose(mdp.value_iteration(P_absorbing, R, gamma)[0],
                                   mdp.value_iteration(P_left_out, R, gamma)[0], atol=1e-6)


def test_myopic_and_constant_policies():
    _, R = stay_or_cash_in()
    assert mdp.myopic_policy(R).tolist() == [1, 0]
    assert mdp.constant_policy(3, 1).tolist() == [1, 1, 1]
    np.testing.assert_array_equal(mdp.as_policy_matrix(np.array([1, 0]), 2), [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="policy indices"):
        mdp.as_policy_matrix(np.array([0, 2]), 2)
    with pytest.raises(ValueError, match="sum to 1"):
        mdp.as_policy_matrix(np.array([[0.5, 0.6]]), 2)


def test_a_loop_that_never_ends_is_reported_instead_of_hanging():
    P, R = stay_or_cash_in()
    with pytest.raises(RuntimeError, match="did not converge"):
        mdp.policy_evaluation(P, R, np.array([[1.0, 0.0], [1.0, 0.0]]), gamma=1.0, max_sweeps=500)
    with pytest.raises(RuntimeError, match="did not converge"):
        mdp.value_iteration(P, R, gamma=1.0, max_sweeps=500)


# ---- the course environments ---------------------------------------------------------------

@pytest.fixture(scope="module")
def session_model():
    env = SessionRetentionEnv()
    return env, *mdp.dense_model(env)


@pytest.fixture(scope="module")
def ad_model():
    env = AdPacingEnv()
    return env, *mdp.dense_model(env)


@pytest.mark.parametrize("which", ["session", "ad"])
def test_value_iteration_equals_the_linear_solve_and_iterative_evaluation(which, session_model, ad_model):
    env, P, R = session_model if which == "session" else ad_model
    gamma = 1.0
    V, greedy = mdp.value_iteration(P, R, gamma)
    greedy_matrix = mdp.as_policy_matrix(greedy, R.shape[1])
    V_linear = mdp.policy_evaluation_linear(P, R, greedy_matrix, gamma)
    V_sweeps = mdp.policy_evaluation(P, R, greedy_matrix, gamma)
    np.testing.assert_allclose(V, V_linear, atol=1e-5)
    np.testing.assert_allclose(V_sweeps, V_linear, atol=1e-5)
    # V* satisfies the Bellman optimality equation, and the greedy policy is greedy for it
    Q = mdp.q_from_v(P, R, V_linear, gamma)
    np.testing.assert_allclose(Q.max(axis=1), V_linear, atol=1e-5)


@pytest.mark.parametrize("gamma", [0.9, 0.99])
def test_discounted_values_agree_too(gamma, session_model):
    _, P, R = session_model
    V, greedy = mdp.value_iteration(P, R, gamma)
    np.testing.assert_allclose(V, mdp.policy_values(P, R, greedy, gamma), atol=1e-5)


def test_dense_model_matches_the_toy_text_model(session_model):
    env, P, R = session_model
    assert P.shape == (7, 2, 7) and R.shape == (7, 2)
    for s in range(P.shape[0]):
        for a in range(P.shape[1]):
            expected_reward = sum(p * r for p, _, r, _ in env.P[s][a])
            going_on = sum(p for p, _, _, terminated in env.P[s][a] if not terminated)
            assert R[s, a] == pytest.approx(expected_reward)
            assert P[s, a].sum() == pytest.approx(going_on), "terminating mass must be left out of P"
    assert np.all(P[env.left_state] == 0.0) and np.all(R[env.left_state] == 0.0)


def test_sparse_model_equals_the_dense_model_on_a_medium_instance():
    env = AdPacingEnv(n_slots=16, budget=12)  # 663 states
    P_dense, R_dense = mdp.dense_model(env)
    P_sparse, R_sparse = mdp.sparse_model(env)
    assert isinstance(P_sparse, mdp.SparseTransitions) and P_sparse.shape == P_dense.shape
    np.testing.assert_array_equal(R_sparse, R_dense)
    values = np.random.default_rng(0).normal(size=P_dense.shape[0])
    np.testing.assert_allclose(P_sparse @ values, P_dense @ values, atol=1e-12)
    np.testing.assert_allclose(P_sparse.sum(axis=-1), P_dense.sum(axis=-1), atol=1e-12)
    np.testing.assert_allclose(P_sparse.to_dense(), P_dense, atol=1e-15)
    V_dense, policy_dense = mdp.value_iteration(P_dense, R_dense, 1.0)
    V_sparse, policy_sparse = mdp.value_iteration(P_sparse, R_sparse, 1.0)
    np.testing.assert_allclose(V_sparse, V_dense, atol=1e-9)
    np.testing.assert_array_equal(policy_sparse, policy_dense)
    policy = mdp.as_policy_matrix(policy_dense, R_dense.shape[1])
    np.testing.assert_allclose(mdp.policy_transition_matrix(P_sparse, policy),
                               mdp.policy_transition_matrix(P_dense, policy), atol=1e-12)
    V_linear = mdp.policy_evaluation_linear(P_sparse, R_sparse, policy, 1.0)
    np.testing.assert_allclose(V_linear, V_dense, atol=1e-6)


def test_a_large_ad_pacing_day_solves_without_a_dense_array():
    env = AdPacingEnv(n_slots=48, budget=30)
    n_states = env.observation_space.n
    assert n_states == 49 * 31 * 3 == 4557
    with pytest.raises(ValueError, match="sparse_model"):
        mdp.dense_model(env)  # 4557 * 5 * 4557 entries: 830 MB
    P, R = mdp.model_from_env(env)
    assert isinstance(P, mdp.SparseTransitions)
    V, policy = mdp.value_iteration(P, R, 1.0)
    # With one slot left, the future is worth nothing: the optimal bid is the myopic one.
    last_slot = [env.encode(1, b, c) for b in range(1, env.budget + 1) for c in range(env.n_ctr_levels)]
    np.testing.assert_allclose(V[last_slot], R[last_slot].max(axis=1), atol=1e-12)
    # More budget or more time is never worth less.
    grid = V.reshape(env.n_slots + 1, env.budget + 1, env.n_ctr_levels)
    assert np.all(np.diff(grid, axis=1) >= -1e-9) and np.all(np.diff(grid, axis=0) >= -1e-9)
    start_value = mdp.start_value(V, env.initial_state_distribution)
    best_constant = max(mdp.start_value(mdp.policy_values(P, R, mdp.constant_policy(n_states, a), 1.0),
                                        env.initial_state_distribution) for a in range(env.action_space.n))
    assert start_value > best_constant


def test_model_conversion_rejects_environments_without_a_toy_text_model():
    import gymnasium as gym

    with pytest.raises(TypeError, match="toy-text model"):
        mdp.dense_model(gym.make("CartPole-v1"))


def test_sparse_transitions_check_their_inputs():
    with pytest.raises(ValueError, match="next_states must lie in"):
        mdp.SparseTransitions(2, 1, np.array([0]), np.array([0]), np.array([2]), np.array([1.0]))
    P = mdp.SparseTransitions(2, 1, np.array([0]), np.array([0]), np.array([1]), np.array([1.0]))
    with pytest.raises(ValueError, match="shape"):
        P @ np.zeros(3)
    np.testing.assert_array_equal(P @ np.array([0.0, 7.0]), [[7.0], [0.0]])
