"""The bandit agents and the exercise reference rules: exact numbers on tiny cases, frequencies
against exact probabilities, and Sutton & Barto's Figs. 2.3 and 2.4 on the testbed."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons.agents import (
    EpsilonGreedy,
    GradientBandit,
    LinUCB,
    OptimisticGreedy,
    ThompsonBernoulli,
    ThompsonGaussian,
    UCB1,
    epsilon_greedy,
    gradient_bandit_update,
    linucb_scores,
    linucb_update,
    sample_average,
    softmax,
    thompson_bernoulli,
    ucb_scores,
)
from mediarl_lessons.envs.live_channels import BanditTestbed
from mediarl_lessons.experiments import run_bandit_env, run_testbed


def frequencies(actions, n_arms: int) -> np.ndarray:
    return np.bincount(np.asarray(actions), minlength=n_arms) / len(actions)


def probability_beta_greater(a1: int, b1: float, a2: float, b2: float) -> float:
    """P(X > Y) for independent X ~ Beta(a1, b1), Y ~ Beta(a2, b2), integer a1, in closed form
    (the sum of Beta functions derived by Evan Miller, 'Formulas for Bayesian A/B testing')."""
    def log_beta(a, b):
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)

    return sum(math.exp(log_beta(a2 + i, b1 + b2) - math.log(b1 + i) - log_beta(1 + i, b1) - log_beta(a2, b2))
               for i in range(a1))


# ---- epsilon_greedy and sample_average -------------------------------------------------------
def test_epsilon_greedy_reference_draws_with_the_textbook_probabilities():
    rng = np.random.default_rng(0)
    picks = [epsilon_greedy([0.0, 2.0, 2.0, 0.0], 0.3, rng) for _ in range(20_000)]
    assert all(type(p) is int for p in picks[:10])
    # tied greedy arms: 0.7 / 2 + 0.3 / 4 = 0.425 each; the others 0.3 / 4 = 0.075 (s.e. <= 0.0035)
    assert np.allclose(frequencies(picks, 4), [0.075, 0.425, 0.425, 0.075], atol=0.015)
    assert {epsilon_greedy([1.0, 3.0, 2.0], 0.0, rng) for _ in range(50)} == {1}
    assert np.allclose(frequencies([epsilon_greedy([0.0, 9.0], 1.0, rng) for _ in range(10_000)], 2), 0.5, atol=0.02)
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_greedy([0.0, 1.0], 1.5, rng)


def test_sample_average_is_the_exact_running_mean():
    assert sample_average(2.0, 4, 6.0) == 3.0  # 2 + (6 - 2) / 4
    assert sample_average(7.0, 1, -1.0) == -1.0  # the first reward replaces the initial value
    rewards, q = [3.0, -1.0, 4.0, 1.5, 9.0], 0.0
    for n, reward in enumerate(rewards, start=1):
        q = sample_average(q, n, reward)
    assert q == pytest.approx(np.mean(rewards), abs=1e-12)
    with pytest.raises(ValueError, match="n must be >= 1"):
        sample_average(0.0, 0, 1.0)


# ---- UCB -------------------------------------------------------------------------------------
def test_ucb_scores_by_hand():
    scores = ucb_scores([1.0, 0.5, 2.0], [2, 8, 0], t=5, c=2.0)
    assert scores[0] == pytest.approx(1.0 + 2.0 * math.sqrt(math.log(5) / 2), abs=1e-12)  # 2.7941
    assert scores[1] == pytest.approx(0.5 + 2.0 * math.sqrt(math.log(5) / 8), abs=1e-12)  # 1.3971
    assert scores[2] == np.inf  # untried
    assert ucb_scores([1.0, 0.5], [4, 1], t=5, c=0.0).tolist() == [1.0, 0.5]  # c = 0: greedy


def test_ucb_scores_at_the_first_step_and_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "divide by zero" from the untried arms
        first = ucb_scores([0.0, 0.0, 0.0], [0, 0, 0], t=1, c=2.0)
        assert first.tolist() == [np.inf] * 3
        # ln 1 = 0: no bonus at t = 1, and c = 0 leaves untried arms at +inf (not 0 * inf = nan)
        assert ucb_scores([0.3, 0.7], [1, 0], t=1, c=2.0).tolist() == [0.3, np.inf]
        assert ucb_scores([0.3, 0.7], [1, 0], t=3, c=0.0).tolist() == [0.3, np.inf]
    # many runs at once: one row per run
    rows = ucb_scores([[1.0, 2.0], [0.0, 0.0]], [[1, 4], [0, 2]], t=9, c=1.0)
    assert rows.shape == (2, 2)
    assert rows[0].tolist() == pytest.approx([1 + math.sqrt(math.log(9)), 2 + math.sqrt(math.log(9) / 4)])
    assert rows[1, 0] == np.inf


@pytest.mark.parametrize("kwargs, pattern", [(dict(t=0), r"t must be .*\[1\.0, inf\)"),
                                             (dict(c=-1.0), r"c must be"),
                                             (dict(counts=[-1, 0]), "counts")])
def test_ucb_scores_rejects_bad_arguments(kwargs, pattern):
    arguments = dict(q_values=[0.0, 0.0], counts=[1, 1], t=3, c=2.0) | kwargs
    with pytest.raises(ValueError, match=pattern):
        ucb_scores(**arguments)


def test_ucb1_tries_every_arm_once_first_in_random_order_then_follows_the_scores():
    agent = UCB1(5, c=2.0, seed=0)
    first = []
    for _ in range(5):
        action = int(agent.select()[0])
        first.append(action)
        agent.update(action, float(action))  # arm a pays a
    assert sorted(first) == [0, 1, 2, 3, 4]
    assert agent.counts.tolist() == [[1, 1, 1, 1, 1]] and agent.steps == 5
    assert agent.q_values.tolist() == [[0.0, 1.0, 2.0, 3.0, 4.0]]
    # step 6: equal counts, equal bonuses: the best estimate wins
    assert agent.select().tolist() == [4]

    many = UCB1(5, n_runs=2000, seed=1)
    actions = []
    for _ in range(5):
        a = many.select()
        actions.append(a)
        many.update(a, np.zeros(2000))
    actions = np.array(actions).T  # (runs, steps)
    assert all(sorted(row) == [0, 1, 2, 3, 4] for row in actions.tolist())
    assert np.allclose(frequencies(actions[:, 0], 5), 0.2, atol=0.04)  # the order is random


def test_ucb1_estimates_are_sample_averages_and_bonus_uses_t():
    agent = UCB1(2, c=1.0, seed=0)
    for action, reward in [(0, 1.0), (1, 0.0), (0, 3.0), (0, 2.0)]:
        agent.update(action, reward)
    assert agent.q_values.tolist() == [[2.0, 0.0]] and agent.counts.tolist() == [[3, 1]]
    # t = 5: arm 0 scores 2 + sqrt(ln 5 / 3) = 2.733, arm 1 scores 0 + sqrt(ln 5) = 1.269
    assert agent.select().tolist() == [0]
    agent.reset()
    assert agent.steps == 0 and agent.counts.sum() == 0


# ---- Thompson sampling, Bernoulli ------------------------------------------------------------
def test_thompson_bernoulli_reference_chooses_with_the_posterior_probability_of_being_best():
    rng = np.random.default_rng(3)
    # arm 0 ~ Beta(1 + 3, 1 + 1), arm 1 ~ Beta(1 + 1, 1 + 2): P(theta_0 > theta_1) = 5/6 exactly
    exact = probability_beta_greater(4, 2, 2, 3)
    assert exact == pytest.approx(5 / 6, abs=1e-12)
    picks = [thompson_bernoulli(np.array([3, 1]), np.array([1, 2]), rng) for _ in range(10_000)]
    assert type(picks[0]) is int
    assert frequencies(picks, 2)[0] == pytest.approx(exact, abs=0.015)  # s.e. 0.0037
    # one success against no data: P(Beta(2, 1) > U(0, 1)) = E[Beta(2, 1)] = 2/3
    picks = [thompson_bernoulli([1, 0], [0, 0], rng) for _ in range(10_000)]
    assert frequencies(picks, 2)[0] == pytest.approx(2 / 3, abs=0.02)


def test_thompson_bernoulli_agent_counts_and_posterior():
    agent = ThompsonBernoulli(3, n_runs=2, seed=0)
    agent.update(np.array([0, 2]), np.array([1.0, 0.0]))
    agent.update(np.array([0, 2]), np.array([1.0, 1.0]))
    agent.update(np.array([1, 2]), np.array([0.0, 0.0]))
    assert agent.successes.tolist() == [[2, 0, 0], [0, 0, 1]]
    assert agent.failures.tolist() == [[0, 1, 0], [0, 0, 2]]
    agent.reset()
    assert agent.successes.sum() == agent.failures.sum() == 0
    single = ThompsonBernoulli(2, seed=0)
    single.update(1, 1)
    single.update(1, 0.0)
    assert single.successes.tolist() == [[0, 1]] and single.failures.tolist() == [[0, 1]]


def test_thompson_bernoulli_agent_selects_with_the_exact_probabilities():
    n = 40_000
    agent = ThompsonBernoulli(2, n_runs=n, prior_successes=2.0, prior_failures=1.0, seed=5)
    agent.successes[:] = [2, 1]
    agent.failures[:] = [0, 2]
    # posteriors Beta(2 + 2, 1 + 0) and Beta(2 + 1, 1 + 2)
    exact = probability_beta_greater(4, 1, 3, 3)
    assert frequencies(agent.select(), 2)[0] == pytest.approx(exact, abs=0.01)  # s.e. 0.002
    single = ThompsonBernoulli(2, prior_successes=2.0, prior_failures=1.0, seed=6)
    single.successes[:] = [2, 1]
    single.failures[:] = [0, 2]
    picks = np.concatenate([single.select() for _ in range(10_000)])
    assert frequencies(picks, 2)[0] == pytest.approx(exact, abs=0.015)


def test_thompson_bernoulli_rejects_rewards_that_are_not_zero_or_one():
    agent = ThompsonBernoulli(3, seed=0)
    with pytest.raises(ValueError, match=r"rewards of 0 or 1 .*got 0\.5.*ThompsonGaussian"):
        agent.update(0, 0.5)
    vectorised = ThompsonBernoulli(3, n_runs=3, seed=0)
    with pytest.raises(ValueError, match="got 23.0"):
        vectorised.update(np.array([0, 1, 2]), np.array([1.0, 23.0, 0.0]))
    assert vectorised.successes.sum() == 0  # nothing was learned from the bad batch


# ---- Thompson sampling, Gaussian -------------------------------------------------------------
def test_thompson_gaussian_posterior_by_hand():
    agent = ThompsonGaussian(2, seed=0)  # prior N(0, 1), noise 1
    agent.update(0, 1.0)
    agent.update(0, 3.0)
    # precision 1 + 2 = 3, mean (0 + 1 + 3) / 3
    assert agent.posterior_mean[0].tolist() == pytest.approx([4 / 3, 0.0])
    assert agent.posterior_std[0].tolist() == pytest.approx([1 / math.sqrt(3), 1.0])

    other = ThompsonGaussian(2, prior_mean=1.0, prior_std=2.0, reward_std=0.5, seed=0)
    other.update(1, 3.0)
    # prior precision 1/4, reward precision 4: tau = 4.25, mean = (0.25 * 1 + 4 * 3) / 4.25
    assert other.posterior_precision[0, 1] == pytest.approx(4.25)
    assert other.posterior_mean[0, 1] == pytest.approx(12.25 / 4.25)
    assert other.posterior_mean[0, 0] == 1.0 and other.posterior_std[0, 0] == 2.0


def test_thompson_gaussian_selects_with_the_posterior_probability_of_being_best():
    n = 40_000
    agent = ThompsonGaussian(2, n_runs=n, seed=2)
    agent.posterior_mean[:] = [0.5, 0.0]
    agent.posterior_precision[:] = [4.0, 1.0]  # std 0.5 and 1
    # P(X0 > X1) = Phi(0.5 / sqrt(0.25 + 1))
    exact = 0.5 * (1 + math.erf(0.5 / math.sqrt(1.25) / math.sqrt(2)))
    assert frequencies(agent.select(), 2)[0] == pytest.approx(exact, abs=0.01)


# ---- gradient bandit -------------------------------------------------------------------------
def test_softmax_sums_to_one_and_never_overflows():
    assert softmax([0.0, 0.0, 0.0, 0.0]).tolist() == [0.25] * 4
    assert softmax(np.log([1.0, 2.0, 1.0])) == pytest.approx([0.25, 0.5, 0.25])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would warn
        huge = softmax([1e4, 1e4 - math.log(3.0), -1e4])
        assert huge == pytest.approx([0.75, 0.25, 0.0], abs=1e-12)
        rows = softmax(np.array([[5000.0, 5000.0], [-3000.0, 1.0]]))
    assert np.allclose(rows.sum(axis=1), 1.0) and rows[0].tolist() == [0.5, 0.5]


def test_gradient_bandit_update_by_hand():
    # uniform policy: pi = 1/3; alpha (R - baseline) = 0.1 * (2 - 0.5) = 0.15
    new = gradient_bandit_update(np.zeros(3), 1, 2.0, 0.5, 0.1)
    assert new == pytest.approx([-0.05, 0.15 * (2 / 3), -0.05], abs=1e-12)
    # without a baseline (0): 0.1 * 2 = 0.2
    assert gradient_bandit_update(np.zeros(3), 1, 2.0, 0.0, 0.1) == pytest.approx([-0.2 / 3, 0.4 / 3, -0.2 / 3])
    # pi = (0.25, 0.5, 0.25); below the baseline: alpha (R - baseline) = 0.5 * (1 - 3) = -1
    preferences = np.log([1.0, 2.0, 1.0])
    new = gradient_bandit_update(preferences, 0, 1.0, 3.0, 0.5)
    assert new - preferences == pytest.approx([-0.75, 0.5, 0.25], abs=1e-12)
    assert preferences.tolist() == np.log([1.0, 2.0, 1.0]).tolist()  # the input is not changed


def test_gradient_bandit_update_survives_huge_preferences():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = gradient_bandit_update(np.array([1e4, 1e4, 0.0]), 2, 1.0, 0.0, 0.1)
    # pi = (0.5, 0.5, 0): each of the first two loses 0.05, the third gains 0.1
    assert np.isfinite(new).all()
    assert new - np.array([1e4, 1e4, 0.0]) == pytest.approx([-0.05, -0.05, 0.1], abs=1e-9)
    with pytest.raises(ValueError, match="action"):
        gradient_bandit_update(np.zeros(3), 3, 1.0, 0.0, 0.1)
    with pytest.raises(ValueError, match="alpha"):
        gradient_bandit_update(np.zeros(3), 0, 1.0, 0.0, 0.0)


def test_gradient_bandit_agent_baseline_is_the_average_of_earlier_rewards():
    agent = GradientBandit(3, alpha=0.1, seed=0)
    agent.update(0, 1.0)  # R̄_1 = R_1: nothing to compare with yet
    assert agent.preferences.tolist() == [[0.0, 0.0, 0.0]] and agent.average_reward.tolist() == [1.0]
    agent.update(1, 3.0)  # baseline 1: alpha (3 - 1) = 0.2, pi uniform
    assert agent.preferences[0] == pytest.approx([-0.2 / 3, 0.4 / 3, -0.2 / 3])
    assert agent.average_reward.tolist() == [2.0]

    no_baseline = GradientBandit(3, alpha=0.1, baseline=False, seed=0)
    no_baseline.update(0, 1.0)
    assert no_baseline.preferences[0] == pytest.approx([0.2 / 3, -0.1 / 3, -0.1 / 3])

    # the vectorised path computes the same numbers
    many = GradientBandit(3, alpha=0.1, n_runs=2, seed=0)
    many.update(np.array([0, 0]), np.array([1.0, 1.0]))
    many.update(np.array([1, 1]), np.array([3.0, 3.0]))
    assert np.allclose(many.preferences, agent.preferences[0])


def test_gradient_bandit_agent_samples_from_its_softmax():
    n = 40_000
    agent = GradientBandit(3, n_runs=n, seed=1)
    agent.preferences[:] = np.log([1.0, 2.0, 1.0])
    assert np.allclose(frequencies(agent.select(), 3), [0.25, 0.5, 0.25], atol=0.01)
    agent.preferences[:] = [2000.0, 0.0, 2000.0]  # huge: still a valid distribution
    assert np.allclose(frequencies(agent.select(), 3), [0.5, 0.0, 0.5], atol=0.01)
    single = GradientBandit(3, seed=2)
    single.preferences[:] = np.log([1.0, 2.0, 1.0])
    picks = np.concatenate([single.select() for _ in range(10_000)])
    assert np.allclose(frequencies(picks, 3), [0.25, 0.5, 0.25], atol=0.015)
    assert single.probabilities.sum() == pytest.approx(1.0)


# ---- LinUCB ----------------------------------------------------------------------------------
def test_linucb_scores_by_hand():
    A = np.array([[[2.0, 0.0], [0.0, 4.0]], np.eye(2)])
    b = np.array([[2.0, 4.0], [0.0, 0.0]])
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    # arm 0: theta = (1, 1), prediction 3, x^T A^-1 x = 1/2 + 4/4 = 1.5
    # arm 1: theta = 0, x^T x = 25
    assert linucb_scores(A, b, x, 0.5) == pytest.approx([3 + 0.5 * math.sqrt(1.5), 2.5], abs=1e-12)
    assert linucb_scores(A, b, x, 0.0) == pytest.approx([3.0, 0.0], abs=1e-12)


def test_linucb_update_by_hand_changes_only_the_chosen_arm():
    A, b = np.stack([np.eye(2)] * 2), np.zeros((2, 2))
    assert linucb_update(A, b, 1, np.array([1.0, 2.0]), 3.0) is None
    assert A[1].tolist() == [[2.0, 2.0], [2.0, 5.0]] and b[1].tolist() == [3.0, 6.0]
    assert A[0].tolist() == [[1.0, 0.0], [0.0, 1.0]] and b[0].tolist() == [0.0, 0.0]


def test_linucb_scores_with_solve_match_the_formula_with_inverses():
    rng = np.random.default_rng(0)
    K, d = 4, 5
    features = rng.normal(size=(K, 30, d))
    A = np.eye(d) + np.einsum("kni,knj->kij", features, features)
    b = rng.normal(size=(K, d))
    x = rng.normal(size=(K, d))
    inverse = np.linalg.inv(A)
    theta = np.einsum("kij,kj->ki", inverse, b)
    expected = (theta * x).sum(axis=1) + 0.7 * np.sqrt(np.einsum("ki,kij,kj->k", x, inverse, x))
    assert np.allclose(linucb_scores(A, b, x, 0.7), expected, atol=1e-10)


def test_linucb_agent_updates_like_the_reference_and_learns_a_linear_model():
    rng = np.random.default_rng(1)
    K, d = 3, 4
    # arm a pays about its own feature a: by symmetry each arm is the best one for a third of
    # the contexts, so each gets played often enough to learn its theta
    true_theta = np.eye(K, d) + rng.uniform(-0.2, 0.2, size=(K, d))
    agent = LinUCB(K, d, alpha=0.5, seed=0)
    twin = LinUCB(K, d, alpha=0.5, n_runs=2, seed=0)  # the vectorised path, fed the same data
    regret, random_regret, plays = [], [], np.zeros(K, dtype=int)
    for _ in range(1500):
        context = rng.uniform(0.0, 1.0, size=(K, d))
        expected = (true_theta * context).sum(axis=1)
        action = int(agent.select(context)[0])
        reward = expected[action] + 0.1 * rng.standard_normal()
        agent.update(action, reward, context)
        twin.update(np.array([action, action]), np.array([reward, reward]), np.stack([context, context]))
        regret.append(expected.max() - expected[action])
        random_regret.append(expected.max() - expected.mean())
        plays[action] += 1
    assert np.allclose(twin.A, agent.A[0]) and np.allclose(twin.b, agent.b[0])
    # every arm is best for some contexts, so every arm is played often and its theta is learned
    assert plays.min() > 200, plays
    assert np.abs(agent.theta[0] - true_theta).max() < 0.1, agent.theta[0] - true_theta  # measured 0.036
    # and the late choices are nearly always right: measured 0.0005 per step vs 0.27 for random choices
    assert np.mean(regret[-500:]) < 0.02 * np.mean(random_regret), (np.mean(regret[-500:]), np.mean(random_regret))


def test_linucb_checks_its_context():
    agent = LinUCB(3, 2, seed=0)
    with pytest.raises(ValueError, match="needs the context"):
        agent.select()
    with pytest.raises(ValueError, match=r"context must have shape \(3, 2\)"):
        agent.select(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="finite"):
        agent.select(np.full((3, 2), np.nan))
    assert agent.select(np.ones((1, 3, 2))).shape == (1,)  # the vectorised shape works for one run
    many = LinUCB(3, 2, n_runs=4, seed=0)
    assert many.select(np.ones((4, 3, 2))).shape == (4,)
    with pytest.raises(ValueError, match=r"\(4, 3, 2\)"):
        many.select(np.ones((3, 2)))


def test_linucb_beats_a_context_free_bandit_on_news_feed():
    linucb = run_bandit_env(LinUCB(10, 18, alpha=1.0, seed=0), gym.make("mediarl/NewsFeed-v0"), 1000, seed=1)
    epsilon = run_bandit_env(EpsilonGreedy(10, 0.1, seed=0), gym.make("mediarl/NewsFeed-v0"), 1000, seed=1)
    # measured: cumulative regret 74 vs 125 over the first 1000 users
    assert linucb.regret.sum() < 0.8 * epsilon.regret.sum(), (linucb.regret.sum(), epsilon.regret.sum())


# ---- every agent: the common interface, seeding, validation, speed ---------------------------
FACTORIES = {
    "EpsilonGreedy": lambda **kw: EpsilonGreedy(10, 0.1, **kw),
    "OptimisticGreedy": lambda **kw: OptimisticGreedy(10, **kw),
    "UCB1": lambda **kw: UCB1(10, 2.0, **kw),
    "ThompsonBernoulli": lambda **kw: ThompsonBernoulli(10, **kw),
    "ThompsonGaussian": lambda **kw: ThompsonGaussian(10, **kw),
    "GradientBandit": lambda **kw: GradientBandit(10, 0.1, **kw),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_same_seed_same_actions_other_seed_other_actions(name):
    def actions(seed, n_runs):
        agent = FACTORIES[name](n_runs=n_runs, seed=seed)
        testbed = BanditTestbed(n_runs, 10, reward_type="bernoulli", seed=0)
        out = []
        for _ in range(30):
            a = agent.select()
            agent.update(a, testbed.step(a))
            out.append(a)
        return np.array(out)

    for n_runs in (1, 20):
        assert np.array_equal(actions(5, n_runs), actions(5, n_runs))
        assert not np.array_equal(actions(5, n_runs), actions(6, n_runs))


def test_linucb_same_seed_same_actions():
    def actions(seed):
        run = run_bandit_env(LinUCB(10, 18, seed=seed), gym.make("mediarl/NewsFeed-v0"), 50, seed=0)
        return run.actions

    assert np.array_equal(actions(3), actions(3))


@pytest.mark.parametrize("name", list(FACTORIES))
def test_every_agent_runs_on_the_testbed_and_on_live_channels(name):
    result = run_testbed(FACTORIES[name](n_runs=50, seed=0), BanditTestbed(50, 10, reward_type="bernoulli"),
                         20, seed=1)
    assert result.mean_reward.shape == (20,)
    run = run_bandit_env(FACTORIES[name](seed=0), gym.make("mediarl/LiveChannels-v0"), 30, seed=2)
    assert run.actions.shape == (30,) and run.actions.dtype == np.int64
    agent = FACTORIES[name](n_runs=3, seed=0)
    actions = agent.select()
    assert actions.shape == (3,) and actions.dtype == np.int64


@pytest.mark.parametrize(
    "make, error, pattern",
    [
        (lambda: UCB1(10, c=-1.0), ValueError, r"c must be a finite number in \[0\.0, inf\), got -1\.0"),
        (lambda: UCB1(0), ValueError, "n_arms"),
        (lambda: UCB1(10, n_runs=0), ValueError, "n_runs"),
        (lambda: UCB1(10, seed=-1), ValueError, "seed"),
        (lambda: OptimisticGreedy(10, initial_value=float("inf")), ValueError, "initial_value"),
        (lambda: OptimisticGreedy(10, step_size=2.0), ValueError, "step_size"),
        (lambda: ThompsonBernoulli(10, prior_successes=0.0), ValueError, r"prior_successes .*\(0\.0, inf\)"),
        (lambda: ThompsonBernoulli(10, prior_failures=-1.0), ValueError, "prior_failures"),
        (lambda: ThompsonGaussian(10, prior_std=0.0), ValueError, "prior_std"),
        (lambda: ThompsonGaussian(10, reward_std=-1.0), ValueError, "reward_std"),
        (lambda: ThompsonGaussian(10, prior_mean=float("nan")), ValueError, "prior_mean"),
        (lambda: GradientBandit(10, alpha=0.0), ValueError, r"alpha must be a finite number in \(0\.0, inf\)"),
        (lambda: GradientBandit(10, baseline="yes"), TypeError, "baseline"),
        (lambda: LinUCB(10, 0), ValueError, "n_features"),
        (lambda: LinUCB(10, 3, alpha=-0.5), ValueError, "alpha"),
        (lambda: LinUCB(10, 3, ridge=0.0), ValueError, "ridge"),
        (lambda: LinUCB(10, 2.5), TypeError, "n_features"),
    ],
)
def test_constructors_reject_bad_arguments_by_name(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


# ---- Sutton & Barto on the 10-armed testbed (2000 runs x 1000 steps) --------------------------
# Seeds as in test_testbed.py (testbed 2024, agents 7). Measured over 8 testbed seeds (mean +-
# standard deviation between seeds): Fig. 2.3, % optimal action over the last 100 steps,
# optimistic 85.6 +- 0.6 vs realistic 75.5 +- 0.8; Fig. 2.4, last-100-step mean reward, UCB
# 1.490 +- 0.013 vs epsilon-greedy 1.370 +- 0.012. With seed 2024: 85.9 vs 76.4 and 1.484 vs 1.365.
@pytest.fixture(scope="module")
def testbed() -> BanditTestbed:
    return BanditTestbed(n_runs=2000, n_arms=10, seed=2024)


def test_figure_2_3_optimistic_greedy_beats_realistic_epsilon_greedy(testbed):
    optimistic = run_testbed(OptimisticGreedy(10, 5.0, step_size=0.1, n_runs=2000, seed=7), testbed, 1000, seed=2024)
    realistic = run_testbed(EpsilonGreedy(10, 0.1, step_size=0.1, n_runs=2000, seed=7), testbed, 1000, seed=2024)
    late_optimistic = optimistic.summary(100)["optimal_rate"]
    late_realistic = realistic.summary(100)["optimal_rate"]
    assert late_optimistic > late_realistic + 0.05, (late_optimistic, late_realistic)
    assert 0.80 < late_optimistic < 0.92 and 0.70 < late_realistic < 0.82
    # Optimism tries every arm once in the first 10 steps: exactly 10% optimal over them...
    assert optimistic.optimal_rate[:10].mean() == pytest.approx(0.1, abs=1e-12)
    # ...then step 11 goes to the arm that disappointed least, often the best one: the spike.
    assert optimistic.optimal_rate[10] > 0.35 and realistic.optimal_rate[10] < 0.3


def test_figure_2_4_ucb_beats_epsilon_greedy(testbed):
    ucb = run_testbed(UCB1(10, c=2.0, n_runs=2000, seed=7), testbed, 1000, seed=2024)
    epsilon = run_testbed(EpsilonGreedy(10, 0.1, n_runs=2000, seed=7), testbed, 1000, seed=2024)
    late_ucb = ucb.summary(100)["mean_reward"]
    assert abs(late_ucb - 1.49) <= 0.05, late_ucb
    assert late_ucb > epsilon.summary(100)["mean_reward"] + 0.05
    # every arm once in the first 10 steps: mean reward about E[q*] = 0, then the spike at step 11
    assert abs(ucb.mean_reward[:10].mean()) < 0.05 and ucb.mean_reward[10] > 0.9


# ---- the live-channel scenario (Bernoulli rewards, Beta(2, 5) channels) ------------------------
def test_thompson_sampling_has_lower_regret_than_epsilon_greedy_on_live_channels():
    testbed = BanditTestbed(n_runs=500, n_arms=10, reward_type="bernoulli", seed=0)
    thompson = run_testbed(ThompsonBernoulli(10, n_runs=500, seed=1), testbed, 1000, seed=3)
    epsilon = run_testbed(EpsilonGreedy(10, 0.1, n_runs=500, seed=1), testbed, 1000, seed=3)
    # measured over 10,000 runs: 53.5 +- 0.2 vs 67.9 +- 0.5 after 1000 viewers
    gap = epsilon.cumulative_regret[-1] - thompson.cumulative_regret[-1]
    noise = math.hypot(epsilon.cumulative_regret_sem[-1], thompson.cumulative_regret_sem[-1])
    assert gap > 4 * noise, (thompson.cumulative_regret[-1], epsilon.cumulative_regret[-1], noise)


def test_figure_2_5_the_baseline_matters_when_rewards_are_far_from_zero():
    """Sutton & Barto Fig. 2.5, on 500 runs: true values around +4, alpha = 0.1."""
    testbed = BanditTestbed(n_runs=500, n_arms=10, mean_loc=4.0, seed=1)
    with_baseline = run_testbed(GradientBandit(10, 0.1, n_runs=500, seed=2), testbed, 1000, seed=1)
    without = run_testbed(GradientBandit(10, 0.1, baseline=False, n_runs=500, seed=2), testbed, 1000, seed=1)
    # measured: 88.0% vs 50.8% optimal over the last 100 steps here, 85.6% vs 47.9% on 2000 runs
    # (the book: about 80% vs 45%)
    late_with, late_without = with_baseline.summary(100)["optimal_rate"], without.summary(100)["optimal_rate"]
    assert late_with > 0.75 and late_without < 0.6 and late_with > late_without + 0.2, (late_with, late_without)
