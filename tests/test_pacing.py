"""mediarl_lessons.pacing: lesson 06's DQN environment, exact scoring of its greedy policy, budget outcomes."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from mediarl_lessons import mdp, pacing
from mediarl_lessons.agents.dqn import DQNAgent, DQNSettings


@pytest.fixture(scope="module")
def model():
    env = gym.make("mediarl/AdPacing-v0")
    P, R = mdp.model_from_env(env)
    _, optimal = mdp.value_iteration(P, R, mdp.AD_PACING_GAMMA)
    return env, P, R, optimal


def test_make_env_scales_rewards_and_keeps_the_features_at_hand():
    scaled, raw = pacing.make_env(), pacing.make_env(reward_scale=1.0)
    assert scaled.features.shape == (429, 5) and np.array_equal(scaled.features, raw.features)
    obs_s, _ = scaled.reset(seed=3)
    obs_r, _ = raw.reset(seed=3)
    total_s = total_r = 0.0
    for action in [4, 4, 2, 3, 4, 1, 4, 4, 4, 4, 4, 4]:
        obs_s, reward_s, done_s, _, _ = scaled.step(action)
        obs_r, reward_r, done_r, _, _ = raw.step(action)
        assert np.array_equal(obs_s, obs_r) and done_s == done_r
        assert reward_s == pytest.approx(pacing.REWARD_SCALE * reward_r)
        total_s, total_r = total_s + reward_s, total_r + reward_r
        if done_r:
            break
    assert total_r > 0 and total_s == pytest.approx(0.1 * total_r)
    with pytest.raises(ValueError, match="reward_scale"):
        pacing.make_env(reward_scale=0.0)


def test_greedy_policy_is_the_agents_action_in_every_state():
    env = pacing.make_env()
    agent = DQNAgent.from_env(env, DQNSettings(hidden_sizes=(16,)), seed=0)
    policy = pacing.dqn_policy_table(agent, env)
    assert policy.shape == (429,) and policy.dtype.kind == "i"
    assert all(policy[s] == agent.act(env.features[s]) for s in range(0, 429, 7))
    assert len(set(policy.tolist())) > 1  # a random network does not bid the same everywhere
    with pytest.raises(TypeError, match="AdPacingFeatures"):
        pacing.dqn_policy_table(agent, gym.make("mediarl/AdPacing-v0"))


def test_budget_outcomes_add_up_for_the_hard_budget(model):
    env, P, R, optimal = model
    outcomes = pacing.budget_outcomes(env)
    start = env.unwrapped.initial_state_distribution
    value = {name: mdp.start_value(mdp.policy_values(P, getattr(outcomes, name), optimal, 1.0), start)
             for name in outcomes._fields}
    # Everything is either spent or left over at midnight, and the hard budget is never exceeded.
    assert value["spend"] + value["leftover"] == pytest.approx(10.0, abs=1e-9)
    assert 9.0 < value["spend"] < 9.5 and value["overspend"] == 0.0 and value["overspent"] == 0.0
    # Never bidding spends nothing and leaves the whole budget.
    skip = mdp.constant_policy(R.shape[0], 0)
    assert mdp.start_value(mdp.policy_values(P, outcomes.leftover, skip, 1.0), start) == pytest.approx(10.0)


def test_budget_outcomes_measure_overspending_of_a_budget_that_is_only_a_target():
    loose = gym.make("mediarl/AdPacing-v0", n_slots=3, budget=8)
    P, R = mdp.model_from_env(loose)
    start = loose.unwrapped.initial_state_distribution
    outcomes = pacing.budget_outcomes(loose, nominal_budget=4)
    always_max = mdp.constant_policy(R.shape[0], 4)
    spend, overspend, overspent, leftover = (
        mdp.start_value(mdp.policy_values(P, getattr(outcomes, name), always_max, 1.0), start)
        for name in ("spend", "overspend", "overspent", "leftover"))
    assert overspend - leftover == pytest.approx(spend - 4)  # spent - nominal, split by sign
    assert 0.0 < overspent < 1.0 and overspend > 0.0
    with pytest.raises(ValueError, match="nominal_budget"):
        pacing.budget_outcomes(loose, nominal_budget=9)
    with pytest.raises(TypeError, match="AdPacing"):
        pacing.budget_outcomes(gym.make("mediarl/SessionRetention-v0"))
