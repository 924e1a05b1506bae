"""Logging NewsFeed traffic and evaluating policies off-line from it (lesson 02).

Part 1: the logs (propensities, the oracle, confounding). Part 2: the estimators (replay,
IPS, SNIPS, DM, DR): exact hand-computed cases, exact identities between them, and their
accuracy on NewsFeed logs against the exact value of the target policy on the logged users.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons.envs.news_feed import FEATURE_NAMES, NewsFeedEnv
from mediarl_lessons.offline import (
    BanditLog,
    behaviour_scores,
    collect_logs,
    dm_estimate,
    dm_value,
    dr_estimate,
    dr_value,
    fit_reward_model,
    ips_estimate,
    ips_value,
    naive_estimate,
    off_policy_estimates,
    predict_rewards,
    replay_estimate,
    replay_value,
    snips_estimate,
    snips_value,
    softmax_probabilities,
    target_probabilities,
    true_policy_value,
)

N = 8000
N_BIG = 30_000  # enough for IPS on a personalised target to land within a few percent


def _head(log: BanditLog, n: int) -> BanditLog:
    """The first ``n`` events of a log (the same log ``collect_logs`` gives for ``n`` events)."""
    return BanditLog(**{field.name: getattr(log, field.name)[:n] for field in dataclasses.fields(log)})


@pytest.fixture(scope="module")
def big_softmax_log() -> BanditLog:
    return collect_logs(gym.make("mediarl/NewsFeed-v0"), N_BIG, seed=0)


@pytest.fixture(scope="module")
def softmax_log(big_softmax_log) -> BanditLog:
    # A log's first N events are the N-event log of the same seed: one collection serves both.
    return _head(big_softmax_log, N)


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


def test_a_short_log_is_the_head_of_a_long_one_with_the_same_seed(big_softmax_log):
    short = collect_logs(gym.make("mediarl/NewsFeed-v0"), 300, seed=0)
    head = _head(big_softmax_log, 300)
    for field in dataclasses.fields(BanditLog):
        assert np.array_equal(getattr(short, field.name), getattr(head, field.name)), field.name


# ---------------------------------------------------------------------------------------------
# The estimators as pure functions: tiny cases computed by hand
# ---------------------------------------------------------------------------------------------


def test_replay_averages_the_matching_events_by_hand():
    rewards = [1.0, 0.0, 1.0, 0.0]
    logged = [0, 1, 2, 1]
    # events 0, 2 and 3 match: (1 + 1 + 0) / 3
    assert replay_estimate(rewards, logged, [0, 0, 2, 1]) == pytest.approx(2 / 3)
    assert replay_estimate(rewards, logged, [0, 1, 2, 1]) == pytest.approx(0.5)  # all match: the mean
    assert replay_estimate(rewards, logged, np.array([0.0, 0.0, 2.0, 0.0])) == 1.0  # whole floats are actions
    assert np.isnan(replay_estimate(rewards, logged, [1, 0, 0, 0]))  # nothing matches: no information
    assert np.isnan(replay_estimate([], [], []))


def test_ips_and_snips_by_hand():
    rewards = [1.0, 0.0, 1.0]
    target = [0.5, 1.0, 0.0]  # pi(a_i | x_i) of the LOGGED actions
    logging = [0.25, 0.5, 0.5]  # mu(a_i | x_i)
    # weights 2, 2, 0: IPS = (1*2 + 0*2 + 1*0) / 3, SNIPS = 2 / (2 + 2 + 0)
    assert ips_estimate(rewards, target, logging) == pytest.approx(2 / 3)
    assert snips_estimate(rewards, target, logging) == pytest.approx(0.5)
    # IPS can leave the range of the rewards, SNIPS cannot
    assert ips_estimate([1.0], [1.0], [0.25]) == pytest.approx(4.0)
    assert snips_estimate([1.0], [1.0], [0.25]) == pytest.approx(1.0)
    # the same policy on both sides: every weight is 1, both are the plain mean
    assert ips_estimate([1.0, 0.0, 0.0, 1.0], [0.3] * 4, [0.3] * 4) == pytest.approx(0.5)
    assert snips_estimate([1.0, 0.0, 0.0, 1.0], [0.3] * 4, [0.3] * 4) == pytest.approx(0.5)
    assert np.isnan(snips_estimate([1.0, 0.0], [0.0, 0.0], [0.5, 0.5]))  # no weight anywhere


def test_snips_shifts_with_the_rewards_and_ips_does_not():
    rewards, target, logging = np.array([1.0, 0.0, 1.0]), [0.5, 1.0, 0.0], [0.25, 0.5, 0.5]
    snips, ips = snips_estimate(rewards, target, logging), ips_estimate(rewards, target, logging)
    assert snips_estimate(rewards + 10.0, target, logging) == pytest.approx(snips + 10.0)
    # IPS adds 10 * mean(w) = 10 * 4/3 here, not 10
    assert ips_estimate(rewards + 10.0, target, logging) == pytest.approx(ips + 40 / 3)


def test_dm_and_dr_by_hand():
    policy = np.array([[0.5, 0.5], [1.0, 0.0]])
    predicted = np.array([[0.2, 0.4], [0.1, 0.3]])
    # DM: (0.5*0.2 + 0.5*0.4 + 1.0*0.1) / 2
    assert dm_estimate(policy, predicted) == pytest.approx(0.2)
    # DR, event 0: logged action 1, mu 0.5, w = 0.5/0.5 = 1, direct 0.3, residual 1 - 0.4 -> 0.9;
    # event 1: logged action 0, mu 0.25, w = 1/0.25 = 4, direct 0.1, residual 0 - 0.1 -> -0.3.
    assert dr_estimate([1.0, 0.0], [1, 0], [0.5, 0.25], policy, predicted) == pytest.approx(0.3)


def test_reward_model_is_per_arm_ridge_regression():
    # one feature, two arms; arm 0 logged twice (x = 1, r = 1 and 0), arm 1 never:
    # theta_0 = (ridge + 1 + 1)^-1 * (1*1 + 1*0) = 1/3, theta_1 = 0
    contexts = np.ones((2, 2, 1))
    weights = fit_reward_model(contexts, [0, 0], [1.0, 0.0], ridge=1.0)
    assert weights == pytest.approx(np.array([[1 / 3], [0.0]]))
    assert predict_rewards(weights, np.array([[[3.0], [5.0]]])) == pytest.approx(np.array([[1.0, 0.0]]))


def test_reward_model_recovers_linear_rewards():
    rng = np.random.default_rng(0)
    n, k, d = 400, 3, 4
    contexts = rng.random((n, k, d))
    true_weights = rng.normal(size=(k, d))
    actions = rng.integers(k, size=n)
    rewards = np.einsum("id,id->i", contexts[np.arange(n), actions], true_weights[actions])
    weights = fit_reward_model(contexts, actions, rewards, ridge=1e-8)
    assert np.allclose(weights, true_weights, atol=1e-5)
    assert np.allclose(predict_rewards(weights, contexts), np.einsum("ikd,kd->ik", contexts, true_weights),
                       atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Exact identities between the estimators, on a real log
# ---------------------------------------------------------------------------------------------


def _targets(log: BanditLog) -> dict[str, np.ndarray]:
    """Target policies for the tests: deterministic ones as actions, stochastic ones as (n, K)."""
    scores = behaviour_scores(log.contexts, FEATURE_NAMES)
    return {
        "oracle": log.click_probs.argmax(axis=1),  # greedy on the true click probabilities
        "uniform": np.full((len(log), log.n_arms), 1.0 / log.n_arms),
        "sharper softmax": softmax_probabilities(scores, 0.5),  # the behaviour rule, greedier
        "least liked": scores.argmin(axis=1),  # what the behaviour policy shows least
    }


def test_dr_with_a_zero_model_is_ips_and_with_a_perfect_fit_is_dm(softmax_log):
    log = softmax_log
    model = predict_rewards(fit_reward_model(log.contexts, log.actions, log.rewards), log.contexts)
    # a "model" that reproduces every logged reward exactly (and predicts as `model` elsewhere)
    memorised = model.copy()
    memorised[np.arange(len(log)), log.actions] = log.rewards
    for name, target in _targets(log).items():
        ips = ips_value(log, target)
        assert dr_value(log, target, predicted_rewards=np.zeros((len(log), 10))) == pytest.approx(ips, rel=1e-12), name
        assert dr_value(log, target, predicted_rewards=memorised) == pytest.approx(
            dm_value(log, target, predicted_rewards=memorised), rel=1e-12), name
        # DR = DM + IPS of the model's residuals on the logged events
        residuals = log.rewards - model[np.arange(len(log)), log.actions]
        pi_logged = target_probabilities(log, target)[np.arange(len(log)), log.actions]
        assert dr_value(log, target, predicted_rewards=model) == pytest.approx(
            dm_value(log, target, predicted_rewards=model) + ips_estimate(residuals, pi_logged, log.propensities),
            rel=1e-10), name


def test_dm_with_the_true_click_probabilities_is_the_true_value(softmax_log):
    for name, target in _targets(softmax_log).items():
        assert dm_value(softmax_log, target, predicted_rewards=softmax_log.click_probs) == pytest.approx(
            true_policy_value(softmax_log, target), rel=1e-12), name


def test_evaluating_the_behaviour_policy_itself_gives_the_logged_mean(softmax_log):
    log = softmax_log
    assert naive_estimate(log) == pytest.approx(log.rewards.mean())
    assert ips_value(log, log.action_probs) == pytest.approx(naive_estimate(log), rel=1e-12)  # every w = 1
    assert snips_value(log, log.action_probs) == pytest.approx(naive_estimate(log), rel=1e-12)


def test_on_uniform_logs_snips_of_a_deterministic_target_is_replay(uniform_log):
    log = uniform_log
    target = log.click_probs.argmax(axis=1)
    # weights are K on matching events and 0 elsewhere, so SNIPS is the mean over the matches
    assert snips_value(log, target) == pytest.approx(replay_value(log, target), rel=1e-12)
    kept = np.mean(target == log.actions)
    assert ips_value(log, target) == pytest.approx(replay_value(log, target) * kept * 10, rel=1e-12)


def test_wrappers_call_the_pure_functions(softmax_log):
    log = softmax_log
    target = log.click_probs.argmax(axis=1)
    one_hot = target_probabilities(log, target)
    pi_logged = one_hot[np.arange(len(log)), log.actions]
    assert replay_value(log, target) == replay_estimate(log.rewards, log.actions, target)
    assert replay_value(log, one_hot) == replay_value(log, target)  # one-hot rows work for replay too
    assert ips_value(log, target) == ips_estimate(log.rewards, pi_logged, log.propensities)
    assert snips_value(log, target) == snips_estimate(log.rewards, pi_logged, log.propensities)
    model = predict_rewards(fit_reward_model(log.contexts, log.actions, log.rewards), log.contexts)
    assert dm_value(log, target) == dm_estimate(one_hot, model)  # the default model is this one
    assert dr_value(log, target) == dr_estimate(log.rewards, log.actions, log.propensities, one_hot, model)
    everything = off_policy_estimates(log, target)
    assert everything == {"naive": naive_estimate(log), "replay": replay_value(log, target),
                          "ips": ips_value(log, target), "snips": snips_value(log, target),
                          "dm": dm_value(log, target), "dr": dr_value(log, target)}
    assert "replay" not in off_policy_estimates(log, np.full((len(log), 10), 0.1))  # stochastic target


# ---------------------------------------------------------------------------------------------
# Accuracy on NewsFeed logs, against the exact value of each target on the logged users
# ---------------------------------------------------------------------------------------------

# IPS's relative standard deviation on 30,000 softmax-logged events (from 300 re-drawn logs):
# oracle 2.4%, uniform 2.1%, sharper softmax 1.6%, SNIPS and DR about the same or a little
# smaller. The tolerances are about 2.5 of those; the naive estimate is off by 25% to 67%.
TOLERANCE = {"oracle": 0.06, "uniform": 0.05, "sharper softmax": 0.04}


@pytest.mark.parametrize("name", list(TOLERANCE))
def test_ips_snips_and_dr_land_within_a_few_percent_and_the_naive_mean_does_not(big_softmax_log, name):
    log = big_softmax_log
    target = _targets(log)[name]
    truth = true_policy_value(log, target)
    estimates = off_policy_estimates(log, target)
    errors = {method: value / truth - 1.0 for method, value in estimates.items()}
    for method in ("ips", "snips", "dr"):
        assert abs(errors[method]) < TOLERANCE[name], (name, method, errors, truth)
    assert abs(errors["dm"]) < 0.08, (name, errors)  # biased by its linear model (2% to 4%), but close
    assert abs(errors["naive"]) > 0.2, (name, errors)  # the behaviour policy's CTR, not the target's


def test_a_target_that_goes_where_the_logs_rarely_go_makes_ips_noisy(big_softmax_log):
    """The price of IPS: the article the behaviour policy likes least gets weights up to ~50."""
    log = big_softmax_log
    targets = _targets(log)

    def relative_standard_error(target: np.ndarray) -> float:
        w = target_probabilities(log, target)[np.arange(len(log)), log.actions] / log.propensities
        return float(np.std(log.rewards * w) / np.sqrt(len(log)) / true_policy_value(log, target))

    oracle, least_liked = relative_standard_error(targets["oracle"]), relative_standard_error(targets["least liked"])
    assert oracle < 0.04 and least_liked > 4 * oracle, (oracle, least_liked)  # 2.5% against 20%
    # and the naive estimate is wildly off: the behaviour policy's CTR is 4x this target's value
    assert naive_estimate(log) > 3 * true_policy_value(log, targets["least liked"])


def test_replay_on_confounded_logs_is_the_flattering_ctr_when_shown(big_softmax_log):
    """Replay needs uniform logs: on softmax logs it averages the users the behaviour policy
    chose to show the article to, who like it (+53% for article 7 over 50,000 events)."""
    log = big_softmax_log
    always_7 = np.full(len(log), 7)
    truth = true_policy_value(log, always_7)
    assert replay_value(log, always_7) > 1.3 * truth
    assert abs(ips_value(log, always_7) / truth - 1) < 0.15  # relative standard deviation 5.6% here


@pytest.mark.parametrize("behaviour", ["softmax", "uniform"])
def test_ips_and_replay_are_unbiased_over_many_small_logs(behaviour):
    """80 independent logs of 100 events: the mean error of IPS (softmax logs) and replay
    (uniform logs) of the oracle target is within 3 standard errors of 0, while the naive
    mean is off by far more (-0.075 and -0.12, 40% and 65% of the value: 8 standard errors)."""
    env = NewsFeedEnv()
    estimate = ips_value if behaviour == "softmax" else replay_value
    errors, naive_errors = [], []
    for seed in range(80):
        log = collect_logs(env, 100, behaviour=behaviour, seed=1000 + seed)
        target = log.click_probs.argmax(axis=1)
        truth = true_policy_value(log, target)
        errors.append(estimate(log, target) - truth)
        naive_errors.append(naive_estimate(log) - truth)
    errors, naive_errors = np.array(errors), np.array(naive_errors)
    assert not np.isnan(errors).any()
    standard_error = errors.std(ddof=1) / np.sqrt(len(errors))
    assert abs(errors.mean()) < 3 * standard_error, (errors.mean(), standard_error)
    assert standard_error < 0.02  # the check has teeth: a bias of 0.06 (a third of the value) fails
    assert abs(naive_errors.mean()) > 5 * standard_error, (naive_errors.mean(), standard_error)


def test_replay_on_uniform_logs_keeps_about_one_event_in_k(uniform_log):
    log = uniform_log
    target = log.click_probs.argmax(axis=1)
    kept = np.mean(target == log.actions)
    assert abs(kept - 0.1) < 0.012
    # about 800 events kept, CTR 0.19: standard deviation 0.014
    assert abs(replay_value(log, target) - true_policy_value(log, target)) < 0.04


# ---------------------------------------------------------------------------------------------
# Bad inputs: errors that name the argument
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda: replay_estimate([1.0, 0.0], [0, 1], [0]), ValueError, "target_actions"),
        (lambda: replay_estimate([1.0, 0.0], [0, 1, 1], [0, 1]), ValueError, "logged_actions"),
        (lambda: replay_estimate([1.0, 0.0], [0.5, 1], [0, 1]), TypeError, "logged_actions"),
        (lambda: replay_estimate([1.0, np.nan], [0, 1], [0, 1]), ValueError, "rewards"),
        (lambda: ips_estimate([1.0, 0.0], [0.5], [0.5, 0.5]), ValueError, "target_probs"),
        (lambda: ips_estimate([1.0, 0.0], [0.5, 1.5], [0.5, 0.5]), ValueError, "target_probs"),
        (lambda: ips_estimate([1.0, 0.0], [0.5, 0.5], [0.5, 0.0]), ValueError, "logging_probs must be > 0"),
        (lambda: ips_estimate([1.0, 0.0], [0.5, 0.5], [0.5]), ValueError, "logging_probs"),
        (lambda: ips_estimate([], [], []), ValueError, "rewards"),
        (lambda: snips_estimate([1.0], [0.5], [-0.1]), ValueError, "logging_probs"),
        (lambda: snips_estimate([[1.0]], [0.5], [0.5]), ValueError, "rewards"),
        (lambda: dm_estimate([[0.5, 0.6]], [[0.1, 0.2]]), ValueError, "target_policy"),
        (lambda: dm_estimate([[0.5, 0.5]], [[0.1, 0.2, 0.3]]), ValueError, "predicted_rewards"),
        (lambda: dr_estimate([1.0], [2], [0.5], [[0.5, 0.5]], [[0.1, 0.2]]), ValueError, "logged_actions"),
        (lambda: dr_estimate([1.0], [1], [0.0], [[0.5, 0.5]], [[0.1, 0.2]]), ValueError, "logging_probs"),
        (lambda: dr_estimate([1.0, 0.0], [1], [0.5], [[0.5, 0.5]], [[0.1, 0.2]]), ValueError, "rewards"),
        (lambda: fit_reward_model(np.ones((2, 2, 1)), [0, 1], [1.0, 0.0], ridge=0.0), ValueError, "ridge"),
        (lambda: fit_reward_model(np.ones((2, 2)), [0, 1], [1.0, 0.0]), ValueError, "contexts"),
        (lambda: predict_rewards(np.ones((2, 3)), np.ones((5, 2, 4))), ValueError, "contexts"),
    ],
)
def test_bad_estimator_inputs_name_the_argument(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_bad_targets_for_the_wrappers_are_explained(uniform_log):
    log = uniform_log
    with pytest.raises(ValueError, match="deterministic"):
        replay_value(log, np.full((len(log), 10), 0.1))
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        ips_value(log, np.full(len(log), -1))
    with pytest.raises(ValueError, match="sum to 1"):
        snips_value(log, np.full((len(log), 10), 0.2))
    with pytest.raises(ValueError, match="shape"):
        dm_value(log, np.zeros(5, dtype=np.int64))


def test_a_log_can_be_sliced_and_split_into_pieces():
    env = gym.make("mediarl/NewsFeed-v0")
    log = collect_logs(env, 250, seed=3)
    head = log[:100]
    assert len(head) == 100 and np.array_equal(head.actions, log.actions[:100])
    assert np.array_equal(head.contexts, log.contexts[:100]) and head.n_arms == log.n_arms
    clicked = log[log.rewards == 1]
    assert len(clicked) == int(log.rewards.sum()) and np.all(clicked.rewards == 1)
    pieces = log.split(100)
    assert [len(piece) for piece in pieces] == [100, 100]
    assert np.array_equal(pieces[1].propensities, log.propensities[100:200])
    with pytest.raises(ValueError, match="size"):
        log.split(0)
