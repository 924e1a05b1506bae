"""SessionRetention-v0: the lesson it exists for (optimal beats myopic and constant policies),
an exact model that matches the simulator, and argument checks."""

from __future__ import annotations


import gymnasium as gym
import numpy as np
import pytest

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons import mdp
from mediarl_lessons.envs.session_retention import CLICKBAIT, QUALITY, SessionRetentionEnv
from mediarl_lessons.evaluation import evaluate_policy

GAMMA = mdp.SESSION_RETENTION_GAMMA  # 1.0: every session ends, values are expected clicks per session


@pytest.fixture(scope="module")
def solved():
    env = SessionRetentionEnv()
    P, R = mdp.dense_model(env)
    V, optimal = mdp.value_iteration(P, R, GAMMA)
    return env, P, R, V, optimal


def test_optimal_policy_clearly_beats_the_best_constant_and_the_myopic_policy(solved):
    env, P, R, V, optimal = solved
    values = mdp.compare_policies(P, R, mdp.reference_policies(R, optimal, env.action_names),
                                  env.initial_state_distribution, GAMMA)
    best_constant = max(values["always_clickbait"], values["always_quality"])
    message = (f"optimal {values['optimal']:.2f}, best constant {best_constant:.2f}, "
               f"myopic {values['myopic']:.2f}")
    assert values["optimal"] >= 1.10 * best_constant, message
    assert values["optimal"] >= 1.10 * values["myopic"], message
    assert values["optimal"] == pytest.approx(mdp.start_value(V, env.initial_state_distribution), abs=1e-5)


def test_the_optimal_policy_depends_on_the_state_and_is_not_myopic(solved):
    env, P, R, V, optimal = solved
    levels = optimal[:env.n_levels]
    assert set(levels.tolist()) == {CLICKBAIT, QUALITY}, f"optimal policy {levels} is constant"
    assert mdp.myopic_policy(R)[:env.n_levels].tolist() == [CLICKBAIT] * env.n_levels
    # the story of the lesson: nurture an unhappy viewer, cash in on a delighted one
    assert levels[0] == QUALITY and levels[-1] == CLICKBAIT
    # and a small discount makes the optimal policy myopic again
    assert mdp.value_iteration(P, R, 0.5)[1][:env.n_levels].tolist() == [CLICKBAIT] * env.n_levels


def test_model_rows_are_valid_probabilities(solved):
    env = solved[0]
    assert set(env.P) == set(range(env.observation_space.n))
    for s, by_action in env.P.items():
        assert set(by_action) == {0, 1}
        for a, outcomes in by_action.items():
            assert sum(p for p, *_ in outcomes) == pytest.approx(1.0, abs=1e-12), (s, a)
            for p, s_next, reward, terminated in outcomes:
                assert 0.0 < p <= 1.0
                assert 0 <= s_next < env.observation_space.n and reward in (0.0, 1.0)
                assert terminated == (s_next == env.left_state)
    assert env.P[env.left_state][0] == [(1.0, env.left_state, 0.0, True)]
    assert env.initial_state_distribution.sum() == pytest.approx(1.0)


def test_one_step_frequencies_match_the_model():
    env = SessionRetentionEnv()
    env.reset(seed=123)
    n = 1500
    for level in range(env.n_levels):
        for action in range(2):
            counts: dict[tuple, int] = {}
            for _ in range(n):
                env.reset(options={"state": level})
                s_next, reward, terminated, _, _ = env.step(action)
                key = (s_next, reward, terminated)
                counts[key] = counts.get(key, 0) + 1
            model = {(s_next, r, t): p for p, s_next, r, t in env.P[level][action]}
            assert set(counts) <= set(model), f"level {level}, action {action}: outcomes outside the model"
            for key, p in model.items():
                frequency = counts.get(key, 0) / n
                tolerance = 4.5 * np.sqrt(p * (1 - p) / n) + 1e-9
                assert abs(frequency - p) <= tolerance, (level, action, key, frequency, p)


def test_monte_carlo_return_of_the_optimal_policy_matches_the_dp_value(solved):
    _, _, _, V, optimal = solved
    env = gym.make("mediarl/SessionRetention-v0")  # with its TimeLimit, as a learner meets it
    returns = evaluate_policy(env, lambda obs, info: int(optimal[obs]), episodes=4000, seed=2024)
    expected = mdp.start_value(V, env.unwrapped.initial_state_distribution)
    standard_error = returns.std(ddof=1) / np.sqrt(returns.size)
    assert abs(returns.mean() - expected) < 4 * standard_error, (
        f"simulated {returns.mean():.3f} +- {standard_error:.3f}, DP {expected:.3f}")


def test_reset_draws_from_the_initial_state_distribution():
    env = SessionRetentionEnv()
    env.reset(seed=5)
    n = 4000
    starts = np.bincount([env.reset()[0] for _ in range(n)], minlength=env.observation_space.n) / n
    p = env.initial_state_distribution
    assert np.all(np.abs(starts - p) <= 4.5 * np.sqrt(p * (1 - p) / n) + 1e-9), (starts, p)


def test_states_decode_to_their_meaning_and_info_reports_the_satisfaction():
    env = SessionRetentionEnv(render_mode="ansi")
    assert [env.decode(env.encode(level)) for level in range(env.n_levels)] == list(range(env.n_levels))
    assert env.decode(env.left_state) is None and env.state_names[env.left_state] == "left"
    assert env.state_names[:env.n_levels] == ("fed up", "bored", "neutral", "content", "happy", "delighted")
    with pytest.raises(ValueError, match=r"satisfaction must be an integer in \[0, 5\]"):
        env.encode(6)
    obs, info = env.reset(seed=0)
    assert info == {"satisfaction": obs, "left": False}
    for _ in range(300):
        obs, reward, terminated, truncated, info = env.step(QUALITY)
        assert set(info) == {"satisfaction", "clicked", "left"}
        assert reward == float(info["clicked"]) and terminated == info["left"] and not truncated
        assert obs == (env.left_state if terminated else info["satisfaction"])
        if terminated:
            break
    assert terminated, "a session of 300 steps: the viewer should have left long before"
    assert "left" in env.render()
    # the model's absorbing state: nothing more happens
    assert env.step(CLICKBAIT)[:4] == (env.left_state, 0.0, True, False)


def test_step_before_reset_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"reset\(\) before step\(\)"):
        SessionRetentionEnv().step(0)


@pytest.mark.parametrize("kwargs, match", [
    ({"quit_probability": (0.5, 0.1, 0.0, 0.04, 0.04, 0.04)}, r"quit_probability must lie in \(0, 1\]"),
    ({"quit_probability": (0.5, 1.2, 0.1, 0.04, 0.04, 0.04)}, r"quit_probability must lie in \[0.0, 1.0\]"),
    ({"quit_probability": (0.5,), "clickbait_click_probability": (0.9,), "quality_click_probability": (0.4,),
      "start_probability": (1.0,)}, "at least 2 satisfaction levels"),
    ({"clickbait_click_probability": (0.6, 0.7)}, r"clickbait_click_probability must have shape \(6\)"),
    ({"quality_click_probability": (0.4, 0.4, 0.4, 0.4, 0.4, -0.1)}, "quality_click_probability must lie in"),
    ({"clickbait_letdown": 1.5}, r"clickbait_letdown must be a finite number in \[0.0, 1.0\]"),
    ({"quality_uplift": -0.2}, r"quality_uplift must be a finite number in \[0.0, 1.0\]"),
    ({"start_probability": (0, 0.5, 0.5, 0.5, 0, 0)}, "start_probability must sum to 1"),
    ({"render_mode": "human"}, "render_mode must be None or one of"),
])
def test_bad_arguments_name_the_argument_and_its_range(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SessionRetentionEnv(**kwargs)


def test_wrongly_typed_arguments_raise_type_error():
    with pytest.raises(TypeError, match="clickbait_letdown must be a number"):
        SessionRetentionEnv(clickbait_letdown="high")
    with pytest.raises(TypeError, match=r"options\['state'\] must be an integer"):
        SessionRetentionEnv().reset(options={"state": 1.5})
    with pytest.raises(ValueError, match=r"options\['state'\] must be an integer in \[0, 5\]"):
        SessionRetentionEnv().reset(options={"state": 6})


def test_other_numbers_of_levels_work():
    env = SessionRetentionEnv(quit_probability=(0.3, 0.1, 0.05), clickbait_click_probability=(0.8, 0.8, 0.9),
                              quality_click_probability=(0.4, 0.4, 0.4), start_probability=(0, 1, 0))
    assert env.observation_space.n == 4 and env.state_names == ("level 0", "level 1", "level 2", "left")
    P, R = mdp.dense_model(env)
    V, _ = mdp.value_iteration(P, R, 1.0)
    assert np.all(np.isfinite(V)) and V[env.left_state] == 0.0
