"""Logging NewsFeed traffic: propensities, the oracle, and logs confounded as lesson 02 needs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons.envs.news_feed import FEATURE_NAMES, NewsFeedEnv
from mediarl_lessons.offline import (
    BanditLog,
    behaviour_scores,
    collect_logs,
    softmax_probabilities,
    true_policy_value,
)

N = 8000


@pytest.fixture(scope="module")
def softmax_log() -> BanditLog:
    return collect_logs(gym.make("mediarl/NewsFeed-v0"), N, seed=0)


@pytest.fixture(scope="module")
def uniform_log() -> BanditLog:
    return collect_logs(gym.make("mediarl/NewsFeed-v0"), N, behaviour="uniform", seed=1)


def test_log_has_one_row_per_event_with_consistent_propensities(softmax_log):
    log = softmax_log
    assert len(log) == N and log.n_arms == 10
    assert log.contexts.shape == (N, 10, 18) and log.contexts.dtype == np.float32
    assert log.actions.dtype == np.int64 and log.rewards.shape == (N,)
    assert set(np.unique(log.rewards)) == {0.0, 1.0}
    assert np.allclose(log.action_probs.sum(axis=1), 1.0)
    assert np.array_equal(log.propensities, log.action_probs[np.arange(N), log.actions])
    assert log.propensities.min() > 0.0
    # the probabilities are the documented softmax of the heuristic, at temperature 1
    expected = softmax_probabilities(behaviour_scores(log.contexts, FEATURE_NAMES), 1.0)
    assert np.allclose(log.action_probs, expected)


def test_logged_actions_are_drawn_from_the_logged_probabilities(softmax_log):
    chosen = np.bincount(softmax_log.actions, minlength=10) / N
    assert np.allclose(chosen, softmax_log.action_probs.mean(axis=0), atol=0.012)


def test_rewards_are_clicks_at_the_true_probability(softmax_log):
    log = softmax_log
    shown = log.click_probs[np.arange(N), log.actions]
    assert abs(log.rewards.mean() - shown.mean()) < 0.012  # standard error 0.0035
    # the behaviour policy's exact value on these users
    assert true_policy_value(log, log.action_probs) == pytest.approx(
        np.einsum("ik,ik->i", log.action_probs, log.click_probs).mean())


def test_oracle_columns_match_the_environment():
    env = NewsFeedEnv()
    log = collect_logs(env, 300, seed=5)  # the unwrapped environment works too
    replay = NewsFeedEnv()
    obs, info = replay.reset(seed=int(np.random.SeedSequence(5).spawn(2)[0].generate_state(1)[0]))
    for i in range(300):
        assert np.array_equal(log.contexts[i], obs) and np.array_equal(log.click_probs[i], info["click_probs"])
        assert (log.segments[i], log.dayparts[i]) == (info["segment"], info["daypart"])
        obs, _, _, _, info = replay.step(int(log.actions[i]))


def test_same_seed_same_log_other_seed_other_log():
    env = gym.make("mediarl/NewsFeed-v0")
    first, again, other = (collect_logs(env, 200, seed=s) for s in (3, 3, 4))
    assert np.array_equal(first.actions, again.actions) and np.array_equal(first.contexts, again.contexts)
    assert not np.array_equal(first.actions, other.actions)


def test_uniform_logging_supports_replay(uniform_log):
    log = uniform_log
    assert np.all(log.propensities == 0.1)
    assert np.allclose(np.bincount(log.actions, minlength=10) / N, 0.1, atol=0.012)
    # replay of a deterministic policy keeps about 1/K of the events, and is unbiased here
    target = log.contexts[:, :, FEATURE_NAMES.index("topic_match")].argmax(axis=1)
    kept = target == log.actions
    assert abs(kept.mean() - 0.1) < 0.012
    assert abs(log.rewards[kept].mean() - true_policy_value(log, target)) < 0.04  # ~800 events


def test_softmax_logs_are_confounded_and_propensities_fix_it(softmax_log):
    """What lesson 02 shows: naive averages of confounded logs misjudge a target policy,
    importance weighting with the logged propensities does not. (Over 50,000 events, the
    naive "CTR when shown" of article 8 is 0.147 against a true 0.079 if always shown:
    the behaviour policy shows it mostly to users who like its topic.)"""
    log = softmax_log
    always_8 = np.full(N, 8)
    truth = true_policy_value(log, always_8)
    shown = always_8 == log.actions
    naive = log.rewards[shown].mean()  # "how did article 8 do when it was shown?"
    ips = np.mean(log.rewards * shown / log.propensities)
    assert naive > 1.4 * truth, (naive, truth)
    # IPS is unbiased but, for one article shown to ~12% of 8000 users, noisy (about +-16%)
    assert abs(ips - truth) < 0.5 * abs(naive - truth), (ips, naive, truth)

    uniform_target = np.full((N, 10), 0.1)
    truth = true_policy_value(log, uniform_target)
    assert log.rewards.mean() > 1.4 * truth  # the behaviour policy's clicks flatter a random feed
    ips = np.mean(log.rewards * 0.1 / log.propensities)
    assert abs(ips - truth) < 0.08 * truth, (ips, truth)


def test_a_custom_behaviour_function_is_used_and_checked():
    env = gym.make("mediarl/NewsFeed-v0")
    first_two = lambda context: np.array([0.5, 0.5] + [0.0] * 8)  # noqa: E731
    log = collect_logs(env, 400, behaviour=first_two, seed=0)
    assert set(np.unique(log.actions)) == {0, 1} and np.all(log.propensities == 0.5)
    with pytest.raises(ValueError, match="probabilities"):
        collect_logs(env, 10, behaviour=lambda context: np.ones(10), seed=0)


def test_logging_carries_on_across_time_limits():
    log = collect_logs(gym.make("mediarl/NewsFeed-v0"), 1500, behaviour="uniform", seed=2)
    assert len(log) == 1500 and np.isfinite(log.contexts).all()


def test_true_policy_value_of_actions_and_probabilities_agree(uniform_log):
    log = uniform_log
    actions = np.arange(N) % 10
    one_hot = np.eye(10)[actions]
    assert true_policy_value(log, actions) == pytest.approx(true_policy_value(log, one_hot))
    assert true_policy_value(log, np.full((N, 10), 0.1)) == pytest.approx(log.click_probs.mean())
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        true_policy_value(log, np.full(N, 10))
    with pytest.raises(ValueError, match="sum to 1"):
        true_policy_value(log, np.full((N, 10), 0.2))
    with pytest.raises(ValueError, match="shape"):
        true_policy_value(log, np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (dict(n_events=0), ValueError, "n_events"),
        (dict(temperature=0.0), ValueError, "temperature"),
        (dict(behaviour="greedy"), ValueError, "behaviour"),
        (dict(behaviour=3), TypeError, "behaviour"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, pattern):
    arguments = dict(n_events=10) | kwargs
    with pytest.raises(error, match=pattern):
        collect_logs(gym.make("mediarl/NewsFeed-v0"), **arguments)


def test_softmax_behaviour_needs_named_features():
    with pytest.raises(ValueError, match="feature_names"):
        collect_logs(gym.make("mediarl/LiveChannels-v0"), 10)


def test_softmax_probabilities_do_not_overflow():
    probs = softmax_probabilities(np.array([1000.0, 1001.0, -5000.0]), 1.0)
    assert np.all(np.isfinite(probs)) and probs.sum() == pytest.approx(1.0) and probs[1] > probs[0]
