"""AdPacing-v0: the DP policy beats every constant bid and the myopic "bid max", the exact
model matches the simulator, the budget is accounted for, and arguments are checked."""

from __future__ import annotations


import gymnasium as gym
import numpy as np
import pytest

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons import mdp
from mediarl_lessons.envs.ad_pacing import AdPacingEnv, AdPacingState
from mediarl_lessons.evaluation import evaluate_policy

GAMMA = mdp.AD_PACING_GAMMA  # 1.0: a finite day, values are expected clicks per day


@pytest.fixture(scope="module")
def solved():
    env = AdPacingEnv()
    P, R = mdp.dense_model(env)
    V, optimal = mdp.value_iteration(P, R, GAMMA)
    return env, P, R, V, optimal


def test_optimal_policy_clearly_beats_every_constant_bid_and_the_myopic_policy(solved):
    env, P, R, V, optimal = solved
    values = mdp.compare_policies(P, R, mdp.reference_policies(R, optimal, env.action_names),
                                  env.initial_state_distribution, GAMMA)
    constant = {name: v for name, v in values.items() if name.startswith("always_")}
    best_name = max(constant, key=constant.get)
    message = (f"optimal {values['optimal']:.2f}, best constant {constant[best_name]:.2f} ({best_name}), "
               f"myopic {values['myopic']:.2f}, always_max {values['always_max']:.2f}")
    assert values["optimal"] >= 1.10 * constant[best_name], message
    assert values["optimal"] >= 1.10 * values["myopic"], message
    assert values["optimal"] >= 1.10 * values["always_max"], message
    # the myopic policy bids as much as it can: it is "always bid max" (ties go to the lower,
    # equivalent bid once the budget caps the bid)
    assert values["myopic"] == pytest.approx(values["always_max"], abs=1e-9)


def test_the_optimal_policy_paces(solved):
    env, _, _, _, optimal = solved
    bid = {state: env.bid_levels[optimal[env.encode(*state)]] for state in
           [(env.n_slots, env.budget, 0), (env.n_slots, env.budget, 2), (1, env.budget, 0)]}
    assert bid[(env.n_slots, env.budget, 0)] == 0, "early in the day, a low-CTR slot is not worth the budget"
    assert bid[(env.n_slots, env.budget, 2)] >= 3, "a high-CTR slot is worth a high bid"
    assert bid[(1, env.budget, 0)] == max(env.bid_levels), "in the last slot, leftover budget is worthless"


def test_model_rows_are_valid_and_follow_the_rules(solved):
    env = solved[0]
    assert len(env.P) == env.observation_space.n
    for s, by_action in env.P.items():
        time_left, budget_left, level = env.decode(s)
        for a, outcomes in by_action.items():
            assert sum(p for p, *_ in outcomes) == pytest.approx(1.0, abs=1e-12), (s, a)
            if time_left == 0 or budget_left == 0:
                assert outcomes == [(1.0, s, 0.0, True)]
                continue
            bid = min(env.bid_levels[a], budget_left)
            for p, s_next, reward, terminated in outcomes:
                t2, b2, level2 = env.decode(s_next)
                cost = budget_left - b2
                assert 0.0 < p <= 1.0 and t2 == time_left - 1
                assert 0 <= cost <= bid, "pay at most the bid, never more than the budget left"
                assert reward == (env.clicks_per_level[level] if cost > 0 else 0.0)
                assert terminated == (t2 == 0 or b2 == 0)
                assert not terminated or level2 == 0


def test_one_step_frequencies_match_the_model():
    env = AdPacingEnv()
    env.reset(seed=7)
    n = 1500
    states = [env.encode(env.n_slots, env.budget, 2), env.encode(5, 3, 1),
              env.encode(1, 10, 0), env.encode(2, 1, 2)]
    for state in states:
        for action in (0, 2, 4):
            counts: dict[tuple, int] = {}
            for _ in range(n):
                env.reset(options={"state": state})
                s_next, reward, terminated, _, _ = env.step(action)
                counts[(s_next, reward, terminated)] = counts.get((s_next, reward, terminated), 0) + 1
            model: dict[tuple, float] = {}
            for p, s_next, r, t in env.P[state][action]:
                model[(s_next, r, t)] = model.get((s_next, r, t), 0.0) + p
            assert set(counts) <= set(model), f"{env.decode(state)}, action {action}: outcome not in P"
            for key, p in model.items():
                frequency = counts.get(key, 0) / n
                tolerance = 4.5 * np.sqrt(p * (1 - p) / n) + 1e-9
                assert abs(frequency - p) <= tolerance, (state, action, key, frequency, p)


def test_monte_carlo_return_of_the_optimal_policy_matches_the_dp_value(solved):
    _, _, _, V, optimal = solved
    env = gym.make("mediarl/AdPacing-v0")
    returns = evaluate_policy(env, lambda obs, info: int(optimal[obs]), episodes=3000, seed=99)
    expected = mdp.start_value(V, env.unwrapped.initial_state_distribution)
    standard_error = returns.std(ddof=1) / np.sqrt(returns.size)
    assert abs(returns.mean() - expected) < 4 * standard_error, (
        f"simulated {returns.mean():.3f} +- {standard_error:.3f}, DP {expected:.3f}")


def test_an_episode_spends_the_budget_honestly():
    env = AdPacingEnv(render_mode="ansi")
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=3)
    assert env.decode(obs) == AdPacingState(env.n_slots, env.budget, info["ctr_level"])
    assert info["ctr"] == env.ctr_levels[info["ctr_level"]]
    for _ in range(20):
        obs, info = env.reset()
        spent, steps, terminated = 0, 0, False
        while not terminated:
            action = int(rng.integers(env.action_space.n))
            obs, reward, terminated, truncated, info = env.step(action)
            steps += 1
            assert not truncated
            assert info["bid"] == min(env.bid_levels[action], env.budget - spent)
            assert info["won"] == (info["bid"] >= info["market_price"] >= 1)
            assert info["cost"] == (info["market_price"] if info["won"] else 0)
            spent += info["cost"]
            assert (reward > 0) == info["won"]
            assert env.decode(obs) == AdPacingState(info["time_left"], info["budget_left"], info["ctr_level"])
            assert info["budget_left"] == env.budget - spent >= 0 and info["time_left"] == env.n_slots - steps
        assert info["time_left"] == 0 or info["budget_left"] == 0
    assert "budget left" in env.render()
    # the model's absorbing terminal states: nothing more happens
    assert env.step(4)[1:3] == (0.0, True)


def test_reset_draws_from_the_initial_state_distribution():
    env = AdPacingEnv()
    env.reset(seed=11)
    n = 4000
    starts = np.bincount([env.reset()[0] for _ in range(n)], minlength=env.observation_space.n) / n
    p = env.initial_state_distribution
    assert p.sum() == pytest.approx(1.0)
    assert np.all(np.abs(starts - p) <= 4.5 * np.sqrt(p * (1 - p) / n) + 1e-9)


def test_larger_days_are_cheap_to_create_and_the_model_is_built_on_first_use():
    env = AdPacingEnv(n_slots=96, budget=60)
    assert env.observation_space.n == 97 * 61 * 3
    assert "P" not in vars(env), "the exact model should wait until it is asked for"
    small = AdPacingEnv(n_slots=3, budget=2)
    assert len(small.P) == small.observation_space.n == 4 * 3 * 3 and "P" in vars(small)


def test_custom_bid_levels_get_names():
    env = AdPacingEnv(bid_levels=(0, 2, 5), market_price_probability=[[0.2] * 5] * 3)
    assert env.action_names == ("bid0", "bid2", "bid5") and env.action_space.n == 3
    env = AdPacingEnv(bid_levels=(0, 3), action_names=("pass", "bid"))
    assert env.action_names == ("pass", "bid")
    assert AdPacingEnv().action_names == ("skip", "low", "mid", "high", "max")


def test_step_before_reset_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"reset\(\) before step\(\)"):
        AdPacingEnv().step(0)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_slots": 0}, "n_slots must be an integer >= 1, got 0"),
    ({"budget": -5}, "budget must be an integer >= 1, got -5"),
    ({"impressions_per_slot": 0}, "impressions_per_slot must be an integer >= 1"),
    ({"bid_levels": (0, 2, 2)}, "bid_levels must be at least 2 distinct integers >= 0 in increasing order"),
    ({"bid_levels": (-1, 2)}, "bid_levels must be an integer >= 0"),
    ({"ctr_levels": (0.01, 1.5, 0.2)}, r"ctr_levels must lie in \[0.0, 1.0\]"),
    ({"ctr_level_probability": (0.5, 0.5, 0.5)}, "ctr_level_probability must sum to 1"),
    ({"ctr_level_probability": (1.2, -0.1, -0.1)}, r"ctr_level_probability must lie in \[0.0, 1.0\]"),
    ({"market_price_probability": [[0.5, 0.5]] * 2}, r"market_price_probability must have shape \(3, any\)"),
    ({"market_price_probability": [[0.5, 0.6]] * 3}, "market_price_probability must sum to 1"),
    ({"action_names": ("a", "b")}, "action_names must be 5 distinct lowercase identifiers"),
    ({"action_names": ("skip", "low", "mid", "High", "max")}, "action_names must be 5 distinct lowercase"),
    ({"render_mode": "human"}, "render_mode must be None or one of"),
])
def test_bad_arguments_name_the_argument_and_its_range(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdPacingEnv(**kwargs)


def test_wrongly_typed_arguments_raise_type_error():
    with pytest.raises(TypeError, match="n_slots must be an integer"):
        AdPacingEnv(n_slots=12.5)
    with pytest.raises(TypeError, match="bid_levels must be an integer"):
        AdPacingEnv(bid_levels=(0, 1.5))
    env = AdPacingEnv()
    with pytest.raises(ValueError, match=r"budget_left must be an integer in \[0, 10\]"):
        env.encode(3, 11, 0)
    with pytest.raises(ValueError, match=r"state must be an integer in \[0, 428\]"):
        env.decode(429)
    with pytest.raises(ValueError, match=r"options\['state'\] must be an integer in \[0, 428\]"):
        env.reset(options={"state": -1})


def test_feature_observation_describes_the_state_without_losing_it():
    from mediarl_lessons.envs import AdPacingFeatures

    env = AdPacingFeatures(gym.make("mediarl/AdPacing-v0"))
    base = env.unwrapped
    assert env.observation_space.shape == (2 + base.n_ctr_levels,)
    # Every state index has its own feature row: nothing a policy could need is lost.
    assert len(np.unique(env.features, axis=0)) == base.observation_space.n
    obs, info = env.reset(seed=4)
    assert env.observation_space.contains(obs)
    np.testing.assert_allclose(obs, [info["time_left"] / base.n_slots, info["budget_left"] / base.budget,
                                     *np.eye(base.n_ctr_levels)[info["ctr_level"]]], rtol=1e-6)
    obs[0] = 99.0  # a learner's change to an observation must not reach the table
    assert env.features.max() <= 1.0
