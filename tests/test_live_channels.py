"""LiveChannels-v0: reward models, oracle info, drift, offline channels, argument checks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons.agents import EpsilonGreedy
from mediarl_lessons.envs.live_channels import LiveChannelsEnv
from mediarl_lessons.experiments import run_bandit_env


def test_default_channels_and_oracle_info():
    env = gym.make("mediarl/LiveChannels-v0")
    obs, info = env.reset(seed=0)
    means = env.unwrapped.channel_means
    assert obs.dtype == np.int8 and obs.tolist() == [1] * 10
    assert means.shape == (10,) and 0.0 <= means.min() and means.max() <= 1.0
    assert np.array_equal(info["expected_rewards"], means)
    assert info["optimal_action"] == int(means.argmax())
    for action in range(10):
        _, reward, terminated, truncated, info = env.step(action)
        assert reward in (0.0, 1.0) and not terminated and not truncated
        assert info["regret"] == pytest.approx(means.max() - means[action], abs=1e-15)
        assert info["expected_reward"] == means[action]
        assert info["featured_live"]
    assert info["regret"] >= 0.0


def test_time_limit_truncates_after_1000_viewers_and_never_terminates():
    env = gym.make("mediarl/LiveChannels-v0")
    env.reset(seed=0)
    flags = [env.step(0)[2:4] for _ in range(1000)]
    assert not any(terminated for terminated, _ in flags)
    assert [truncated for _, truncated in flags].index(True) == 999


def test_stay_rewards_are_bernoulli_at_the_channel_probability():
    env = LiveChannelsEnv(channel_means=[0.1, 0.65, 0.3])
    env.reset(seed=1)
    rewards = np.array([env.step(1)[1] for _ in range(5000)])
    assert set(np.unique(rewards)) == {0.0, 1.0}
    assert abs(rewards.mean() - 0.65) < 0.025  # standard error 0.0067


def test_minutes_rewards_are_gaussian_around_the_channel_mean():
    env = LiveChannelsEnv(reward_type="minutes", channel_means=[12.0, 30.0], minutes_std=4.0)
    env.reset(seed=2)
    rewards = np.array([env.step(1)[1] for _ in range(5000)])
    assert abs(rewards.mean() - 30.0) < 0.2 and abs(rewards.std() - 4.0) < 0.15


def test_same_seed_gives_the_same_channels_under_both_reward_designs():
    """Lesson 00's reward-design comparison relies on this."""
    stay = LiveChannelsEnv(n_channels=50)
    minutes = LiveChannelsEnv(n_channels=50, reward_type="minutes")
    stay.reset(seed=3)
    minutes.reset(seed=3)
    p, m = stay.channel_means, minutes.channel_means
    # minutes = 2 (1 - p) + p L with L in [20, 60]
    assert np.all(m >= 2 * (1 - p) + 20 * p - 1e-9) and np.all(m <= 2 * (1 - p) + 60 * p + 1e-9)
    assert np.corrcoef(p, m)[0, 1] > 0.5  # related ...
    assert np.argsort(p)[-5:].tolist() != np.argsort(m)[-5:].tolist()  # ... but not the same ranking


def test_a_hundred_channels_work():
    env = gym.make("mediarl/LiveChannels-v0", n_channels=100)
    obs, info = env.reset(seed=0)
    assert obs.shape == (100,) and info["expected_rewards"].shape == (100,)
    _, _, _, _, info = env.step(99)
    assert env.action_space.n == 100 and 0 <= info["optimal_action"] < 100


def test_info_arrays_are_copies_a_learner_cannot_corrupt_the_environment():
    env = LiveChannelsEnv()
    obs, info = env.reset(seed=0)
    before = env.channel_means
    info["expected_rewards"][:] = 0.0
    obs[:] = 0
    env.channel_means[:] = 0.0
    assert np.array_equal(env.channel_means, before)
    _, _, _, _, info = env.step(0)
    assert np.array_equal(info["expected_rewards"], before)


def test_random_policy_regret_grows_linearly():
    """Lesson 00's claim: expected regret per step of a uniform policy = best - average mean."""
    env = gym.make("mediarl/LiveChannels-v0")
    run = run_bandit_env(EpsilonGreedy(10, epsilon=1.0, seed=0), env, 1000, seed=4)
    means = env.unwrapped.channel_means
    per_step = means.max() - means.mean()
    cumulative = run.cumulative_regret
    assert abs(cumulative[-1] / 1000 - per_step) < 0.1 * per_step
    # linear: the second half adds as much regret as the first
    assert 0.8 < (cumulative[-1] - cumulative[499]) / cumulative[499] < 1.25
    # a learner's regret grows much more slowly
    learner = run_bandit_env(EpsilonGreedy(10, epsilon=0.1, seed=0), gym.make("mediarl/LiveChannels-v0"), 1000, seed=4)
    assert learner.cumulative_regret[-1] < 0.6 * cumulative[-1]


def test_drift_moves_the_means_as_a_random_walk_and_regret_uses_the_means_of_the_step():
    env = LiveChannelsEnv(n_channels=20, drift=0.01)
    _, info = env.reset(seed=5)
    previous = info["expected_rewards"]
    changes = []
    for t in range(600):  # crosses the 256-step blocks of pre-drawn randomness
        action = t % 20
        _, _, _, _, info = env.step(action)
        # regret and expected_reward refer to the means the viewer met; the rest to the next viewer
        assert info["expected_reward"] == previous[action]
        assert info["regret"] == pytest.approx(previous.max() - previous[action], abs=1e-12)
        assert info["optimal_action"] == int(info["expected_rewards"].argmax())
        changes.append(info["expected_rewards"] - previous)
        previous = info["expected_rewards"]
        assert 0.0 <= previous.min() and previous.max() <= 1.0
    changes = np.array(changes)
    assert abs(changes.std() - 0.01) < 0.001
    assert abs(changes.mean()) < 0.001


def test_minutes_drift_stays_non_negative():
    env = LiveChannelsEnv(reward_type="minutes", channel_means=[0.5, 1.0], drift=0.5)
    env.reset(seed=0)
    means = np.array([env.step(0)[4]["expected_rewards"] for _ in range(500)])
    assert means.min() >= 0.0 and means.std() > 0.5


def test_offline_channels_pay_nothing_and_show_in_the_observation():
    env = LiveChannelsEnv(n_channels=5, offline_probability=0.1, online_probability=0.1)
    obs, info = env.reset(seed=6)
    means = env.channel_means
    live_counts = np.zeros(5)
    for t in range(3000):
        action = t % 5
        live_now = obs[action] == 1
        expected_now = info["expected_rewards"]
        obs, reward, _, _, info = env.step(action)
        assert info["featured_live"] == live_now
        if not live_now:
            assert reward == 0.0 and info["expected_reward"] == 0.0
            assert info["regret"] == pytest.approx(expected_now.max())
        assert obs.sum() >= 1  # never an empty home screen
        assert np.array_equal(info["expected_rewards"], np.where(obs == 1, means, 0.0))
        assert obs[info["optimal_action"]] == 1
        live_counts += obs
    # stationary share of live channels: 0.1 / (0.1 + 0.1) = 0.5
    assert abs(live_counts.sum() / (3000 * 5) - 0.5) < 0.06


def test_step_before_reset_is_a_clear_error():
    with pytest.raises(RuntimeError, match="reset"):
        LiveChannelsEnv().step(0)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (dict(n_channels=1), ValueError, "n_channels"),
        (dict(n_channels=2.5), TypeError, "n_channels"),
        (dict(reward_type="revenue"), ValueError, "reward_type"),
        (dict(channel_means=[0.2, 1.2]), ValueError, r"channel_means must lie in \[0.0, 1.0\]"),
        (dict(reward_type="minutes", channel_means=[-1.0, 3.0]), ValueError, "channel_means"),
        (dict(channel_means=[0.5]), ValueError, "at least 2"),
        (dict(channel_means=[0.1, 0.2, 0.3], n_channels=4), ValueError, "n_channels"),
        (dict(minutes_std=0.0), ValueError, "minutes_std"),
        (dict(drift=-0.01), ValueError, "drift"),
        (dict(drift=0.2), ValueError, r"drift .*0\.1"),
        (dict(offline_probability=1.0), ValueError, "offline_probability"),
        (dict(online_probability=0.0), ValueError, "online_probability"),
        (dict(render_mode="human"), ValueError, "render_mode"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        LiveChannelsEnv(**kwargs)


def test_render_names_the_featured_channel_and_the_best():
    env = LiveChannelsEnv(channel_means=[0.1, 0.9, 0.3], render_mode="ansi")
    env.reset(seed=0)
    env.step(2)
    text = env.render()
    assert "featured channel 2" in text and "regret 0.6" in text and "1: 0.9" in text


def test_drifting_offline_trajectories_repeat_with_the_seed_across_blocks():
    def trajectory(seed):
        env = LiveChannelsEnv(reward_type="minutes", drift=0.05, offline_probability=0.05)
        obs, info = env.reset(seed=seed)
        rows = []
        for t in range(600):  # more than two blocks of pre-drawn randomness
            obs, reward, _, _, info = env.step(t % 10)
            rows.append((obs.tolist(), reward, info["expected_rewards"].tolist()))
        return rows

    assert trajectory(9) == trajectory(9)
    assert trajectory(9) != trajectory(10)
