"""NewsFeed-v0: features, the click model, oracle info, and that personalisation pays."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons.envs import news_feed
from mediarl_lessons.envs.news_feed import FEATURE_NAMES, NewsFeedEnv

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
INTERESTS = slice(COLUMN["interest_politics"], COLUMN["interest_business"] + 1)
DAYPARTS = slice(COLUMN["daypart_morning"], COLUMN["daypart_night"] + 1)
TOPICS = slice(COLUMN["topic_politics"], COLUMN["topic_business"] + 1)


def users(env: gym.Env, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Observations, click probabilities and infos of ``n`` users (served article 0)."""
    obs, info = env.reset(seed=seed)
    observations, probs, infos = [], [], []
    for _ in range(n):
        observations.append(obs)
        probs.append(info["click_probs"])
        infos.append(info)
        obs, _, _, _, info = env.step(0)
    return np.array(observations), np.array(probs), infos


@pytest.fixture(scope="module")
def population() -> tuple[np.ndarray, np.ndarray, list[dict]]:
    return users(NewsFeedEnv(), 20_000, seed=0)


def test_observation_layout_matches_the_docstring(population):
    observations, _, infos = population
    env = NewsFeedEnv()
    assert observations.shape == (20_000, 10, 18) and observations.dtype == np.float32
    assert env.observation_space.contains(observations[0])
    first = observations[:, 0, :]
    assert np.all(observations[:, :, COLUMN["bias"]] == 1.0)
    assert np.allclose(first[:, INTERESTS].sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first[:, DAYPARTS].argmax(axis=1), [info["daypart"] for info in infos])
    assert np.all(first[:, DAYPARTS].sum(axis=1) == 1.0)
    # user columns identical in every row; article columns identical at every step
    assert np.all(observations[:, :, : TOPICS.start] == observations[:, :1, : TOPICS.start])
    assert np.all(observations[:, :, TOPICS.start: -1] == observations[:1, :, TOPICS.start: -1])
    assert np.array_equal(observations[0, :, TOPICS].argmax(axis=1), env.article_topics)
    assert np.array_equal(observations[0, :, COLUMN["long_read"]], env.article_long_read)
    assert np.allclose(observations[0, :, COLUMN["appeal"]], env.article_appeal)
    match = np.take_along_axis(first[:, INTERESTS], np.broadcast_to(env.article_topics, (20_000, 10)), axis=1)
    assert np.allclose(observations[:, :, COLUMN["topic_match"]], match)


def test_click_probabilities_follow_the_documented_model(population):
    observations, probs, _ = population
    x = observations.astype(np.float64)
    daypart = x[:, 0, DAYPARTS].argmax(axis=1)
    logit = (news_feed.BASE_LOGIT + 3.5 * x[..., COLUMN["topic_match"]]
             + news_feed.APPEAL_WEIGHT * x[..., COLUMN["appeal"]]
             + np.array(news_feed.DAYPART_LOGIT)[daypart, None]
             + np.array(news_feed.LONG_READ_LOGIT)[daypart, None] * x[..., COLUMN["long_read"]])
    assert np.allclose(probs, 1.0 / (1.0 + np.exp(-logit)), atol=1e-5)  # float32 features


def test_users_arrive_with_the_documented_frequencies(population):
    _, _, infos = population
    segments = np.bincount([info["segment"] for info in infos], minlength=4) / len(infos)
    dayparts = np.bincount([info["daypart"] for info in infos], minlength=4) / len(infos)
    assert np.allclose(segments, news_feed.SEGMENT_PROBABILITIES, atol=0.012)
    assert np.allclose(dayparts, news_feed.DAYPART_PROBABILITIES, atol=0.012)


def test_ctrs_are_realistic_and_personalisation_matters(population):
    _, probs, infos = population
    best_fixed = probs.mean(axis=0).max()  # what a context-free bandit converges to
    oracle = probs.max(axis=1).mean()  # the best article for every user
    assert 0.05 < probs.mean() < 0.10
    assert 0.06 < best_fixed < 0.12
    assert 0.15 < oracle < 0.25 and oracle > 1.8 * best_fixed
    assert probs.min() > 0.003 and probs.max() < 0.8
    # different segments like different articles
    segment = np.array([info["segment"] for info in infos])
    favourites = {int(np.bincount(probs[segment == s].argmax(axis=1)).argmax()) for s in range(4)}
    assert len(favourites) >= 3


def test_without_interest_weight_context_barely_helps():
    _, probs, _ = users(NewsFeedEnv(interest_weight=0.0), 5000, seed=1)
    assert probs.max(axis=1).mean() < 1.25 * probs.mean(axis=0).max()  # only daypart effects remain


def test_a_linear_model_per_article_beats_the_best_fixed_article_by_far():
    """The dynamics behind lesson 02's claim: ridge regression per article on uniformly logged
    clicks (the per-arm model of disjoint LinUCB), then greedy, on fresh users."""
    env = NewsFeedEnv()
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=2)
    features, actions, clicks = [], [], []
    for _ in range(5000):
        action = int(rng.integers(10))
        features.append(obs[action])
        actions.append(action)
        obs, reward, _, _, _ = env.step(action)
        clicks.append(reward)
    features, actions, clicks = np.array(features, dtype=np.float64), np.array(actions), np.array(clicks)
    d = features.shape[1]
    theta = np.array([np.linalg.solve(features[actions == a].T @ features[actions == a] + np.eye(d),
                                      features[actions == a].T @ clicks[actions == a]) for a in range(10)])

    observations, probs, _ = users(env, 5000, seed=3)
    greedy = np.einsum("nkd,kd->nk", observations.astype(np.float64), theta).argmax(axis=1)
    learned_ctr = probs[np.arange(5000), greedy].mean()
    best_fixed = probs.mean(axis=0).max()
    assert learned_ctr > 1.3 * best_fixed, (learned_ctr, best_fixed)


def test_info_describes_the_next_user_and_step_info_the_action_just_taken():
    env = gym.make("mediarl/NewsFeed-v0")
    obs, info = env.reset(seed=4)
    for t in range(600):  # crosses the 256-user blocks drawn ahead
        assert info["optimal_action"] == int(info["click_probs"].argmax())
        action = (3 * t) % 10
        served = info["click_probs"]
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["expected_reward"] == served[action]
        assert info["regret"] == pytest.approx(served.max() - served[action], abs=1e-15)
        assert reward in (0.0, 1.0) and not terminated and not truncated


def test_clicks_happen_at_the_true_click_probability():
    env = NewsFeedEnv()
    env.reset(seed=5)
    clicks, expected = [], []
    for _ in range(20_000):
        _, reward, _, _, info = env.step(1)
        clicks.append(reward)
        expected.append(info["expected_reward"])
    assert abs(np.mean(clicks) - np.mean(expected)) < 0.006  # standard error 0.002


def test_catalogue_is_fixed_by_catalogue_seed_and_survives_resets():
    env = NewsFeedEnv()
    topics = env.article_topics.copy()
    obs_a, _ = env.reset(seed=1)
    obs_b, _ = env.reset(seed=2)
    assert np.array_equal(obs_a[:, TOPICS.start:-1], obs_b[:, TOPICS.start:-1])
    assert np.array_equal(NewsFeedEnv().article_appeal, env.article_appeal)
    assert not np.array_equal(NewsFeedEnv(catalogue_seed=1).article_appeal, env.article_appeal)
    assert np.array_equal(np.bincount(topics), [2, 2, 2, 2, 2])  # every topic equally often
    assert [article["topic"] for article in env.articles] == [news_feed.TOPICS[t] for t in topics]
    with pytest.raises(ValueError):
        env.article_appeal[0] = 1.0


def test_infos_and_observations_are_fresh_copies():
    env = NewsFeedEnv()
    obs, info = env.reset(seed=0)
    kept = info["click_probs"].copy()
    info["click_probs"][:] = 0.0
    obs[:] = 0.0
    _, _, _, _, info = env.step(0)
    assert info["expected_reward"] == kept[0]


def test_time_limit_truncates_after_1000_users():
    env = gym.make("mediarl/NewsFeed-v0")
    env.reset(seed=0)
    truncated = [env.step(0)[3] for _ in range(1000)]
    assert truncated.index(True) == 999


def test_step_before_reset_is_a_clear_error():
    with pytest.raises(RuntimeError, match="reset"):
        NewsFeedEnv().step(0)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (dict(n_articles=1), ValueError, r"n_articles must be an integer in \[2, 100\]"),
        (dict(n_articles=101), ValueError, "n_articles"),
        (dict(n_articles=3.0), TypeError, "n_articles"),
        (dict(catalogue_seed=-1), ValueError, "catalogue_seed"),
        (dict(interest_weight=-1.0), ValueError, "interest_weight"),
        (dict(interest_noise=5.0), ValueError, "interest_noise"),
        (dict(render_mode="video"), ValueError, "render_mode"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        NewsFeedEnv(**kwargs)


def test_other_catalogue_sizes_work():
    for n_articles in (2, 7, 100):
        env = gym.make("mediarl/NewsFeed-v0", n_articles=n_articles)
        obs, info = env.reset(seed=0)
        assert obs.shape == (n_articles, 18) and info["click_probs"].shape == (n_articles,)
        env.step(n_articles - 1)


def test_render_tells_who_came_and_what_was_shown():
    env = NewsFeedEnv(render_mode="ansi")
    env.reset(seed=0)
    env.step(4)
    text = env.render()
    assert "featured article 4" in text and "next user" in text and "best article" in text
