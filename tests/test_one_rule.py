"""One rule per idea: every agent, environment and log runs the package's one function for each rule.

The exercises ask a learner for one-step rules (``epsilon_greedy``, ``sample_average``,
``ucb_scores``, ...), and ``agents/bandits.py`` promises that the rule a learner writes is the
rule the agents run. Here each rule is replaced by a deliberately wrong one, wherever a module
of the package holds it, and every agent (environment, logger) that uses the rule must then
behave differently: a copy of the rule written out inside an agent would not notice the
replacement, and fails this test.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, fields

import gymnasium as gym
import numpy as np
import pytest

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons import offline, sampling
# dqn and dqn_together are imported here, not on first use, so that every module holding a rule is
# loaded before replace_everywhere looks for it, whichever test runs first.
from mediarl_lessons.agents import bandits, dqn, dqn_together, tabular
from mediarl_lessons.envs import ad_pacing, news_feed, session_retention
from mediarl_lessons.envs.live_channels import BanditTestbed

N_ARMS = 5


# ---- what the consumers do, as arrays to compare --------------------------------------------
def bandit_run(make: Callable[[int], bandits.BanditAgent], n_runs: int, reward_type: str = "gaussian",
               steps: int = 40) -> list[np.ndarray]:
    """The actions of a bandit agent on a seeded testbed, and what it learned."""
    agent = make(n_runs)
    testbed = BanditTestbed(n_runs=n_runs, n_arms=N_ARMS, reward_type=reward_type, seed=1)
    actions = []
    for _ in range(steps):
        chosen = agent.select()
        agent.update(chosen, testbed.step(chosen))
        actions.append(chosen)
    learned = [value for name, value in vars(agent).items() if isinstance(value, np.ndarray) and name != "_row_offsets"]
    return [np.array(actions), *learned]


def linucb_run(n_runs: int, steps: int = 30) -> list[np.ndarray]:
    """LinUCB's actions on random contexts with linear rewards, and its A and b."""
    rng = np.random.default_rng(2)
    n_features = 3
    theta = rng.normal(size=(N_ARMS, n_features))
    agent = bandits.LinUCB(N_ARMS, n_features, 0.5, n_runs=n_runs, seed=3)
    actions = []
    for _ in range(steps):
        context = rng.normal(size=(n_runs, N_ARMS, n_features))
        chosen = agent.select(context)
        rewards = (context[np.arange(n_runs), chosen] * theta[chosen]).sum(axis=1) + rng.normal(size=n_runs)
        agent.update(chosen, rewards, context)
        actions.append(chosen)
    return [np.array(actions), agent.A, agent.b]


def tabular_run(agent_class: type[tabular.TabularAgent]) -> list[np.ndarray]:
    """A tabular agent's training on SessionRetention-v0: returns, table, greedy actions."""
    env = gym.make("mediarl/SessionRetention-v0")
    agent = agent_class.from_env(env, epsilon_decay_steps=200, seed=4)
    log = agent.train(env, 30)
    return [log.returns, log.lengths, agent.q_values, np.array([agent.act(s) for s in range(agent.n_states)])]


def env_run(env_id: str, steps: int = 150) -> list[np.ndarray]:
    """An environment's trajectory under seeded random actions, with the numbers in ``info``."""
    env = gym.make(env_id)
    actions = np.random.default_rng(5)
    obs, info = env.reset(seed=6)
    record = [np.asarray(obs, dtype=np.float64)]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(int(actions.integers(env.action_space.n)))
        record += [np.asarray(obs, dtype=np.float64), np.array([reward, terminated, truncated], dtype=np.float64)]
        record += [np.asarray(value, dtype=np.float64) for _, value in sorted(info.items())
                   if isinstance(value, (int, float, np.ndarray))]
        if terminated or truncated:
            obs, info = env.reset()
            record.append(np.asarray(obs, dtype=np.float64))
    return record


def log_run(**kwargs) -> list[np.ndarray]:
    """Every field of a NewsFeed log collected by ``offline.collect_logs``."""
    log = offline.collect_logs(gym.make("mediarl/NewsFeed-v0"), 300, seed=7, **kwargs)
    return [np.asarray(getattr(log, field.name)) for field in fields(log)]


def dqn_run(together: bool = False, steps: int = 300) -> list[np.ndarray]:
    """A small DQN's first steps on InterestFeed-v0 (epsilon still high), alone or two side by
    side (``train_together``): the actions it stored, its returns and losses."""
    settings = dqn.DQNSettings(buffer_size=1_000, learning_starts=100, hidden_sizes=(16,), epsilon_decay_steps=200)
    envs = [gym.make("mediarl/InterestFeed-v0") for _ in range(2 if together else 1)]
    agents = [dqn.DQNAgent.from_env(envs[0], settings, seed=9 + i) for i in range(len(envs))]
    if together:
        logs = dqn_together.train_together(agents, envs, steps, progress=False)
    else:
        logs = [agents[0].train(envs[0], steps, progress=False)]
    return [array for agent, log in zip(agents, logs)
            for array in (agent.buffer.actions[:agent.buffer.size], log.episode_returns, log.losses)]


def same(first: list[np.ndarray], second: list[np.ndarray]) -> bool:
    return len(first) == len(second) and all(a.shape == b.shape and np.array_equal(a, b)
                                             for a, b in zip(first, second))


# ---- the rules, a wrong version of each, and who must use them ------------------------------
@dataclass
class Rule:
    rule: Callable
    wrong: Callable
    users: dict[str, Callable[[], list[np.ndarray]]]
    modules: set[str]
    """The modules that must call the rule (each binds it by name)."""


def last_arm(q_values, epsilon, rng):
    """Always the last arm (one per row for many runs)."""
    q_values = np.asarray(q_values)
    if q_values.ndim == 2:
        return np.full(len(q_values), q_values.shape[1] - 1, dtype=np.int64)
    return q_values.size - 1


def worst_index(values, rng):
    """The smallest value, not the largest."""
    return np.asarray(values).argmin(axis=-1)


def arm_zero(successes, failures, rng, **priors):
    return np.zeros(np.shape(successes)[:-1], dtype=np.int64) if np.ndim(successes) == 2 else 0


def first_outcome(cdf, u):
    return 0 if isinstance(cdf, list) else np.zeros(np.shape(cdf)[:-1] + np.shape(u)[np.ndim(cdf) - 1:], dtype=np.int64)


def eg(epsilon, **kwargs):
    return lambda n_runs: bandits.EpsilonGreedy(N_ARMS, epsilon, n_runs=n_runs, seed=8, **kwargs)


def optimistic(n_runs):
    return bandits.OptimisticGreedy(N_ARMS, n_runs=n_runs, seed=8)


def ucb(n_runs):
    return bandits.UCB1(N_ARMS, 1.0, n_runs=n_runs, seed=8)


def gradient(n_runs):
    return bandits.GradientBandit(N_ARMS, 0.2, n_runs=n_runs, seed=8)


def thompson(n_runs):
    return bandits.ThompsonBernoulli(N_ARMS, n_runs=n_runs, seed=8)


def for_runs(name: str, run: Callable[[int], list[np.ndarray]]) -> dict[str, Callable[[], list[np.ndarray]]]:
    """A consumer with one run (a Gymnasium loop) and with three runs side by side."""
    return {f"{name}, n_runs=1": lambda: run(1), f"{name}, n_runs=3": lambda: run(3)}


TABULAR = {cls.__name__: (lambda cls=cls: tabular_run(cls)) for cls in (tabular.QLearning, tabular.Sarsa,
                                                                        tabular.ExpectedSarsa)}

RULES = {
    "epsilon_greedy": Rule(
        bandits.epsilon_greedy, last_arm,
        {**for_runs("EpsilonGreedy", lambda n: bandit_run(eg(0.1), n)),
         **for_runs("EpsilonGreedy(epsilon=0)", lambda n: bandit_run(eg(0.0), n)),
         **for_runs("OptimisticGreedy", lambda n: bandit_run(optimistic, n)), **TABULAR,
         "DQNAgent.train": dqn_run, "dqn_together.train_together": lambda: dqn_run(together=True)},
        {"mediarl_lessons.agents.bandits", "mediarl_lessons.agents.tabular", "mediarl_lessons.agents.dqn",
         "mediarl_lessons.agents.dqn_together"}),
    "random_argmax": Rule(
        bandits.random_argmax, worst_index,
        {**for_runs("EpsilonGreedy", lambda n: bandit_run(eg(0.1), n)),
         **for_runs("OptimisticGreedy", lambda n: bandit_run(optimistic, n)),
         **for_runs("UCB1", lambda n: bandit_run(ucb, n)), **for_runs("LinUCB", linucb_run), **TABULAR},
        {"mediarl_lessons.agents.bandits"}),
    "sample_average": Rule(
        bandits.sample_average, lambda q, n, reward: q + (reward - q) / (n + 1),
        {**for_runs("EpsilonGreedy", lambda n: bandit_run(eg(0.1), n)),
         **for_runs("UCB1", lambda n: bandit_run(ucb, n)),
         **for_runs("GradientBandit (its baseline)", lambda n: bandit_run(gradient, n))},
        {"mediarl_lessons.agents.bandits"}),
    "recency_weighted_average": Rule(
        bandits.recency_weighted_average, lambda q, reward, step_size: q + 0.5 * (reward - q),
        {**for_runs("EpsilonGreedy(step_size=0.1)", lambda n: bandit_run(eg(0.1, step_size=0.1), n)),
         **for_runs("OptimisticGreedy", lambda n: bandit_run(optimistic, n))},
        {"mediarl_lessons.agents.bandits"}),
    "ucb_scores": Rule(
        bandits.ucb_scores, lambda q_values, counts, t, c: -np.asarray(q_values, dtype=np.float64),
        for_runs("UCB1", lambda n: bandit_run(ucb, n)),
        {"mediarl_lessons.agents.bandits"}),
    "thompson_bernoulli": Rule(
        bandits.thompson_bernoulli, arm_zero,
        for_runs("ThompsonBernoulli", lambda n: bandit_run(thompson, n, "bernoulli")),
        {"mediarl_lessons.agents.bandits"}),
    "softmax": Rule(
        bandits.softmax, lambda preferences, axis=-1: np.full(np.shape(preferences), 1.0 / np.shape(preferences)[axis]),
        {**for_runs("GradientBandit", lambda n: bandit_run(gradient, n)),
         "offline.collect_logs (softmax behaviour)": log_run,
         "NewsFeed-v0 (its users' interests)": lambda: env_run("mediarl/NewsFeed-v0")},
        {"mediarl_lessons.sampling", "mediarl_lessons.agents.bandits", "mediarl_lessons.offline",
         "mediarl_lessons.envs.news_feed"}),
    "gradient_bandit_update": Rule(
        bandits.gradient_bandit_update, lambda preferences, action, reward, baseline, alpha: np.array(preferences),
        for_runs("GradientBandit", lambda n: bandit_run(gradient, n)),
        {"mediarl_lessons.agents.bandits"}),
    "linucb_scores": Rule(
        bandits.linucb_scores, lambda A, b, x, alpha: np.zeros(np.shape(x)[:-1]),
        for_runs("LinUCB", linucb_run),
        {"mediarl_lessons.agents.bandits"}),
    "linucb_update": Rule(
        bandits.linucb_update, lambda A, b, action, x, reward: None,
        for_runs("LinUCB", linucb_run),
        {"mediarl_lessons.agents.bandits"}),
    "inverse_cdf": Rule(
        sampling.inverse_cdf, first_outcome,
        {**for_runs("GradientBandit", lambda n: bandit_run(gradient, n)),
         "offline.collect_logs (softmax behaviour)": log_run,
         "offline.collect_logs (uniform behaviour)": lambda: log_run(behaviour="uniform"),
         "AdPacing-v0": lambda: env_run("mediarl/AdPacing-v0"),
         "SessionRetention-v0": lambda: env_run("mediarl/SessionRetention-v0"),
         "NewsFeed-v0": lambda: env_run("mediarl/NewsFeed-v0")},
        {"mediarl_lessons.agents.bandits", "mediarl_lessons.offline", "mediarl_lessons.envs.ad_pacing",
         "mediarl_lessons.envs.news_feed", "mediarl_lessons.envs.session_retention"}),
}
CASES = [(rule, user) for rule, spec in RULES.items() for user in spec.users]


def replace_everywhere(monkeypatch: pytest.MonkeyPatch, rule: Callable, wrong: Callable) -> set[str]:
    """Bind ``wrong`` to every name that holds ``rule`` in every module of the package; returns the modules."""
    patched = set()
    for module_name, module in list(sys.modules.items()):
        if module is None or not (module_name == "mediarl_lessons" or module_name.startswith("mediarl_lessons.")):
            continue
        for name, value in list(vars(module).items()):
            if value is rule:
                monkeypatch.setattr(module, name, wrong)
                patched.add(module_name)
    return patched


@pytest.mark.parametrize(("rule_name", "user"), CASES, ids=[f"{rule}: {user}" for rule, user in CASES])
def test_replacing_the_rule_changes_every_user(monkeypatch, rule_name, user):
    spec = RULES[rule_name]
    run = spec.users[user]
    right = run()
    assert same(right, run()), "the run must be reproducible for the comparison to mean anything"
    patched = replace_everywhere(monkeypatch, spec.rule, spec.wrong)
    assert spec.modules <= patched, f"{sorted(spec.modules - patched)} do not import {rule_name} itself"
    assert not same(right, run()), f"{user} did not notice that {rule_name} was replaced: it has its own copy"


def test_every_agent_runs_at_least_one_exercise_rule():
    """A new agent must use the rules too (ThompsonGaussian's Gaussian posterior is no exercise)."""
    agents = {cls.__name__ for cls in vars(bandits).values()
              if isinstance(cls, type) and issubclass(cls, bandits.BanditAgent) and cls is not bandits.BanditAgent}
    agents |= {cls.__name__ for cls in vars(tabular).values()
               if isinstance(cls, type) and issubclass(cls, tabular.TabularAgent) and cls is not tabular.TabularAgent}
    covered = {user.split(",")[0].split("(")[0].strip() for spec in RULES.values() for user in spec.users}
    assert agents - covered == {"ThompsonGaussian"}


def test_the_modules_import_the_rules_rather_than_copy_them():
    assert tabular.epsilon_greedy is bandits.epsilon_greedy
    assert offline.softmax is bandits.softmax is news_feed.softmax is sampling.softmax
    for module in (bandits, offline, ad_pacing, news_feed, session_retention):
        assert module.inverse_cdf is sampling.inverse_cdf, module.__name__


# ---- one run (a single row) draws what the 1-D rule draws ------------------------------------
def draws_after(rng: np.random.Generator) -> np.ndarray:
    return rng.random(3)


@pytest.mark.parametrize("values", [[0.0, 2.0, 2.0, 1.0], [1.0, 1.0, 1.0], [np.inf, 0.0, np.inf], [3.0, 1.0]])
def test_one_row_is_broken_exactly_as_the_one_dimensional_rule(values):
    for seed in range(20):
        one, row = np.random.default_rng(seed), np.random.default_rng(seed)
        assert bandits.random_argmax(np.array([values]), row).tolist() == [bandits.random_argmax(np.array(values), one)]
        assert np.array_equal(draws_after(one), draws_after(row))


@pytest.mark.parametrize("epsilon", [0.0, 0.3, 1.0])
def test_one_row_of_epsilon_greedy_draws_as_the_one_dimensional_rule(epsilon):
    """Every run tosses its coin, also at epsilon 0 and 1: one convention, the textbook's."""
    q_values = np.array([0.0, 2.0, 2.0, 1.0])
    for seed in range(50):
        one, row = np.random.default_rng(seed), np.random.default_rng(seed)
        assert bandits.epsilon_greedy(q_values[np.newaxis], epsilon, row).tolist() == [
            bandits.epsilon_greedy(q_values, epsilon, one)]
        assert np.array_equal(draws_after(one), draws_after(row))


@pytest.mark.parametrize("epsilon", [0.0, 1.0])
def test_many_rows_toss_a_coin_each_also_when_the_outcome_is_certain(epsilon):
    """One random number per run for the coins, whatever epsilon: ``n_runs`` rows with no tie
    consume ``n_runs`` uniforms (plus one arm per exploring run)."""
    q_values = np.arange(12.0).reshape(3, 4)
    rng, replay = np.random.default_rng(3), np.random.default_rng(3)
    actions = bandits.epsilon_greedy(q_values, epsilon, rng)
    coins = replay.random(3)
    explore = np.flatnonzero(coins < epsilon)
    expected = np.full(3, 3)
    expected[explore] = replay.integers(4, size=explore.size)
    assert actions.tolist() == expected.tolist()
    assert np.array_equal(draws_after(rng), draws_after(replay))


def test_the_list_rows_of_the_tabular_agents_draw_as_arrays():
    for seed in range(30):
        as_list, as_array = np.random.default_rng(seed), np.random.default_rng(seed)
        row = [0.5, 0.5, -1.0, 0.5]
        assert bandits.epsilon_greedy(row, 0.2, as_list) == bandits.epsilon_greedy(np.array(row), 0.2, as_array)
        assert np.array_equal(draws_after(as_list), draws_after(as_array))


def test_one_row_of_the_other_rules_equals_the_one_dimensional_rule():
    rng = np.random.default_rng(9)
    preferences = rng.normal(size=N_ARMS) * 3
    assert np.array_equal(
        bandits.gradient_bandit_update(preferences[np.newaxis], np.array([2]), np.array([1.5]), np.array([0.3]), 0.1),
        bandits.gradient_bandit_update(preferences, 2, 1.5, 0.3, 0.1)[np.newaxis])
    successes, failures = rng.integers(0, 5, size=(2, N_ARMS)).astype(float)
    one, row = np.random.default_rng(1), np.random.default_rng(1)
    assert bandits.thompson_bernoulli(successes[np.newaxis], failures[np.newaxis], row).tolist() == [
        bandits.thompson_bernoulli(successes, failures, one)]
    A = np.broadcast_to(np.eye(3), (N_ARMS, 3, 3)).copy()
    b = np.zeros((N_ARMS, 3))
    A_runs, b_runs = A[np.newaxis].copy(), b[np.newaxis].copy()
    x = rng.normal(size=3)
    bandits.linucb_update(A, b, 1, x, 0.7)
    bandits.linucb_update(A_runs, b_runs, np.array([1]), x[np.newaxis], np.array([0.7]))
    assert np.array_equal(A_runs[0], A) and np.array_equal(b_runs[0], b)


def test_many_rows_follow_the_rule_row_by_row():
    """The vectorised helpers compute each row's rule (up to rounding in the last bit)."""
    rng = np.random.default_rng(10)
    preferences = rng.normal(size=(6, N_ARMS))
    actions, rewards, baselines = rng.integers(N_ARMS, size=6), rng.normal(size=6), rng.normal(size=6)
    together = bandits.gradient_bandit_update(preferences, actions, rewards, baselines, 0.2)
    one_by_one = [bandits.gradient_bandit_update(h, int(a), r, b, 0.2)
                  for h, a, r, b in zip(preferences, actions, rewards, baselines)]
    assert np.allclose(together, one_by_one, rtol=0, atol=1e-12)
    A = np.broadcast_to(np.eye(3), (6, N_ARMS, 3, 3)).copy()
    b = np.zeros((6, N_ARMS, 3))
    x = rng.normal(size=(6, 3))
    expected_A, expected_b = A.copy(), b.copy()
    for run in range(6):
        bandits.linucb_update(expected_A[run], expected_b[run], int(actions[run]), x[run], rewards[run])
    bandits.linucb_update(A, b, actions, x, rewards)
    assert np.array_equal(A, expected_A) and np.array_equal(b, expected_b)


def test_inverse_cdf_draws_each_outcome_with_its_probability():
    p = np.array([0.5, 0.0, 0.3, 0.2])
    cdf = sampling.cumulative_probabilities(p)
    assert cdf[-1] == 1.0 and sampling.inverse_cdf(cdf, 0.65) == 2 and sampling.inverse_cdf(cdf, 0.0) == 0
    u = np.random.default_rng(11).random(40_000)
    for outcomes in (np.array([sampling.inverse_cdf(cdf, x) for x in u[:4000]]),  # one at a time (a list)
                     sampling.inverse_cdf(np.array(cdf), u),  # one distribution, many numbers
                     sampling.inverse_cdf(np.tile(np.cumsum(p), (40_000, 1)), u)):  # one distribution per row
        assert outcomes.min() >= 0 and outcomes.max() <= 3
        assert np.allclose(np.bincount(outcomes, minlength=4) / len(outcomes), p, atol=0.03)
    # a total a rounding error short of 1: u * total stays below it, so the last outcome is never passed
    assert sampling.inverse_cdf(np.cumsum([0.1] * 10), 1.0 - 2**-53) == 9
