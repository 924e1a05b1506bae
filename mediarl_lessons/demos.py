"""Headless demos: each scenario trains and evaluates its reference policies.

``mediarl-lessons demo SCENARIO`` runs one of these and prints a table or JSON. Each
scenario returns, per policy, the undiscounted return of every evaluation episode. All
policies of a scenario are evaluated on the same episode seeds (common random numbers), so
differences between them are differences between policies, not luck.

Seeds (:mod:`mediarl_lessons.seeding`): a run with seed ``s`` resets its environment with
``s`` and gives its agent, or its random policy, :func:`~mediarl_lessons.agent_rng` ``(s)``,
never ``s`` itself, which would replay the environment's dice. A bandit's episode ``i`` is
run ``seed + i`` (a fresh agent each); a learner trained once, and a random policy played on
every evaluation episode, belong to run ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import gymnasium as gym
import numpy as np

from mediarl_lessons import mdp
from mediarl_lessons.agents.bandits import (BanditAgent, EpsilonGreedy, LinUCB, ThompsonBernoulli, UCB1)
from mediarl_lessons.agents.tabular import ExpectedSarsa, QLearning, Sarsa, TabularAgent, TrainingLog
from mediarl_lessons.evaluation import evaluate_policy
from mediarl_lessons.experiments import run_bandit_env
from mediarl_lessons.seeding import agent_rng


@dataclass(frozen=True)
class Scenario:
    """A demo: what it shows, how many evaluation episodes by default, and how to run it.

    ``comparisons`` are pairs ``(policy, baseline)`` whose per-episode difference the demo
    reports (mean and standard error): the two met the same episodes, so the paired
    difference is far more precise than the two means' spreads over episodes suggest.
    """

    description: str
    default_episodes: int
    run: Callable[..., dict[str, np.ndarray]]
    comparisons: tuple[tuple[str, str], ...] = ()


#: The TD learners of lesson 04 and of the tabular demos, under the names their results go by.
TD_LEARNERS: dict[str, type[TabularAgent]] = {"q_learning": QLearning, "sarsa": Sarsa, "expected_sarsa": ExpectedSarsa}


class TrainedLearner(NamedTuple):
    """A TD learner after training, and the log of its training episodes."""

    agent: TabularAgent
    log: TrainingLog


def train_td_learners(env: gym.Env, *, gamma: float, training_episodes: int,
                      seed: int) -> dict[str, TrainedLearner]:
    """Q-learning, SARSA and Expected SARSA (:data:`TD_LEARNERS`), each trained on ``env``.

    Each learner has the default settings and draws from its own ``agent_rng(seed)``, never
    from the environment's stream (its first ``env.reset`` is seeded from that generator),
    so the run ``seed`` fixes everything, whichever learners are trained and in whatever
    order. Lesson 04 calls this once per seed.
    """
    trained = {}
    for name, agent_class in TD_LEARNERS.items():
        agent = agent_class.from_env(env, gamma=gamma, seed=agent_rng(seed))
        trained[name] = TrainedLearner(agent, agent.train(env, training_episodes))
    return trained


def tabular_baselines(env_id: str, *, gamma: float, training_episodes: int, seed: int,
                      episodes: int) -> dict[str, np.ndarray]:
    """Random, myopic, every constant action, three TD learners and the DP optimum.

    The learners (:func:`train_td_learners`, each drawing from ``agent_rng(seed)``) train for
    ``training_episodes`` episodes; then their greedy policies are evaluated like the fixed
    policies, on the same episode seeds. The random policy draws from ``agent_rng(seed)`` too.
    """
    env = gym.make(env_id)
    P, R = mdp.model_from_env(env)
    _, optimal = mdp.value_iteration(P, R, gamma)
    reference = mdp.reference_policies(R, optimal, env.unwrapped.action_names)
    learned = {name: trained.agent.greedy_policy() for name, trained in
               train_td_learners(env, gamma=gamma, training_episodes=training_episodes, seed=seed).items()}
    # Table order: the weakest ideas first, the optimum last.
    policies = {"random": None, **{k: v for k, v in reference.items() if k != "optimal"}, **learned,
                "optimal": reference["optimal"]}

    returns = {}
    for name, table in policies.items():
        if table is None:
            rng = agent_rng(seed)
            n_actions = R.shape[1]
            act = lambda obs, info, rng=rng, n_actions=n_actions: int(rng.integers(n_actions))  # noqa: E731
        else:
            act = lambda obs, info, table=table: int(table[obs])  # noqa: E731
        returns[name] = evaluate_policy(env, act, episodes=episodes, seed=seed)
    return returns


#: UCB's c for rewards in [0, 1] (a stay, a click): Hoeffding's bound sqrt(ln t / (2 N)).
#: Sutton & Barto's c = 2 is scaled for the testbed's rewards and over-explores here (lesson 01).
UCB_C_FOR_0_1_REWARDS = 1 / np.sqrt(2)

#: LinUCB's exploration weight in the news-feed demo and lesson 02.
LINUCB_ALPHA = 0.5


def bandit_returns(env: gym.Env, make_agent: Callable[[np.random.Generator], BanditAgent], *, seed: int,
                   episodes: int) -> np.ndarray:
    """Total reward of a fresh agent in each episode: a bandit learns while it earns.

    Episode ``i`` is run ``seed + i``: ``env.reset(seed=seed + i)``, the same seeds
    :func:`evaluate_policy` uses, so learning agents and fixed policies meet the same viewers;
    the agent is ``make_agent(agent_rng(seed + i))``, dice of its own.
    """
    steps = env.spec.max_episode_steps
    return np.array([run_bandit_env(make_agent(agent_rng(seed + i)), env, steps, seed=seed + i).rewards.sum()
                     for i in range(episodes)])


def oracle_returns(env: gym.Env, *, seed: int, episodes: int) -> np.ndarray:
    """The simulator's oracle: always the action ``info`` says is best for the next step."""
    return evaluate_policy(env, lambda obs, info: info["optimal_action"], episodes=episodes, seed=seed)


#: Viewers per line-up in the live-channels demo. Lesson 01's ranking (Thompson sampling and
#: UCB with c = 1/sqrt(2) lose fewer viewers than epsilon-greedy, 0.1) comes from regret that
#: grows like log t against epsilon-greedy's steady loss, so the stays show it only over many
#: viewers. Stays of ucb minus epsilon-greedy per line-up (mean +- sd, 600 line-ups): 3 +- 48
#: at 1000 viewers (a tie), 85 +- 115 at 5000, 207 +- 168 at 10,000 (thompson: 15 +- 50,
#: 121 +- 111, 256 +- 156). With the demo's 8 line-ups (about 5 s) the ranking held on every
#: demo seed 0-592, the ucb gap a median 3.7 standard errors above 0 (5th percentile 1.9).
LIVE_CHANNELS_VIEWERS = 10_000


def live_channels(seed: int, episodes: int) -> dict[str, np.ndarray]:
    """Each episode: a new line-up of 10 channels, :data:`LIVE_CHANNELS_VIEWERS` viewers, a fresh agent."""
    # One line-up for the whole episode: the registered 1000-step limit would redraw the channels.
    env = gym.make("mediarl/LiveChannels-v0", max_episode_steps=LIVE_CHANNELS_VIEWERS)
    n = env.action_space.n
    agents = {
        "random": lambda rng: EpsilonGreedy(n, epsilon=1.0, seed=rng),
        "epsilon_greedy": lambda rng: EpsilonGreedy(n, epsilon=0.1, seed=rng),
        "ucb": lambda rng: UCB1(n, c=UCB_C_FOR_0_1_REWARDS, seed=rng),
        "thompson": lambda rng: ThompsonBernoulli(n, seed=rng),
    }
    returns = {name: bandit_returns(env, make, seed=seed, episodes=episodes) for name, make in agents.items()}
    returns["oracle"] = oracle_returns(env, seed=seed, episodes=episodes)
    return returns


def news_feed(seed: int, episodes: int) -> dict[str, np.ndarray]:
    """Each episode: 1000 users of the news feed, a fresh agent; return = clicks.

    ``best_context_free`` is whichever of epsilon-greedy, UCB1 and Thompson sampling (all
    blind to who is reading) earned most on these very episodes: the strongest rival
    LinUCB could be compared with.
    """
    env = gym.make("mediarl/NewsFeed-v0")
    n, d = env.observation_space.shape
    returns = {"random": bandit_returns(env, lambda rng: EpsilonGreedy(n, epsilon=1.0, seed=rng),
                                        seed=seed, episodes=episodes)}
    context_free = {
        "epsilon_greedy": lambda rng: EpsilonGreedy(n, epsilon=0.1, seed=rng),
        "ucb": lambda rng: UCB1(n, c=UCB_C_FOR_0_1_REWARDS, seed=rng),
        "thompson": lambda rng: ThompsonBernoulli(n, seed=rng),
    }
    candidates = [bandit_returns(env, make, seed=seed, episodes=episodes) for make in context_free.values()]
    returns["best_context_free"] = max(candidates, key=np.mean)
    returns["linucb"] = bandit_returns(env, lambda rng: LinUCB(n, d, alpha=LINUCB_ALPHA, seed=rng),
                                       seed=seed, episodes=episodes)
    returns["oracle"] = oracle_returns(env, seed=seed, episodes=episodes)
    return returns


def ad_pacing(seed: int, episodes: int) -> dict[str, np.ndarray]:
    """AdPacing-v0: the tabular line-up of :func:`tabular_baselines`, plus lesson 06's DQN.

    The DQN (drawing from ``agent_rng(seed)``) trains as in lesson 06
    (:func:`mediarl_lessons.pacing.train_dqn`: feature observations, rewards x 0.1,
    ``gamma = 1``, 10,000 steps, about 10 s); its greedy policy then plays the same days as
    every other policy, scored in clicks. It comes just before ``optimal`` in the table.
    """
    from mediarl_lessons import pacing  # torch: imported only when a DQN demo runs

    returns = tabular_baselines("mediarl/AdPacing-v0", gamma=mdp.AD_PACING_GAMMA, training_episodes=10_000,
                                seed=seed, episodes=episodes)
    trained = pacing.train_dqn(agent_rng(seed))
    optimal = returns.pop("optimal")
    returns["dqn"] = trained.agent.evaluate(pacing.make_env(reward_scale=1.0), episodes, seed)
    returns["optimal"] = optimal
    return returns


#: Training steps of the interest-feed demo's DQN: about 8 s; its greedy policy then earns
#: 1.26-1.41 times the myopic oracle's clicks over the demo's 100 sessions (median 1.35,
#: seeds 0-24; DQNSettings' docstring, docs/dqn.md).
INTEREST_FEED_TRAINING_STEPS = 8_000


def interest_feed(seed: int, episodes: int) -> dict[str, np.ndarray]:
    """InterestFeed-v0: a random feed, the myopic oracle and a DQN (lesson 05), on the same sessions.

    The myopic oracle knows the true model and picks the item with the largest expected
    immediate reward; the DQN (default settings, drawing from ``agent_rng(seed)``) trains for
    :data:`INTEREST_FEED_TRAINING_STEPS` steps and plays greedily. The random feed draws from
    ``agent_rng(seed)`` too (its own generator).
    """
    from mediarl_lessons.agents.dqn import train_and_evaluate  # torch: imported only when needed
    from mediarl_lessons.envs.interest_feed import myopic_oracle_policy

    env = gym.make("mediarl/InterestFeed-v0")
    rng = agent_rng(seed)
    n_actions = env.action_space.n
    returns = {
        "random": evaluate_policy(env, lambda obs, info: int(rng.integers(n_actions)), episodes=episodes, seed=seed),
        "myopic_oracle": evaluate_policy(env, lambda obs, info: myopic_oracle_policy(env), episodes=episodes,
                                         seed=seed),
    }
    returns["dqn"] = train_and_evaluate(env, INTEREST_FEED_TRAINING_STEPS, seed=agent_rng(seed),
                                        episodes=episodes, eval_seed=seed).returns
    return returns


SCENARIOS: dict[str, Scenario] = {
    "live-channels": Scenario(
        description=f"featuring one of 10 live channels to {LIVE_CHANNELS_VIEWERS:,} viewers per line-up, "
                    "enough for lesson 01's ranking (thompson and ucb lose fewer viewers than "
                    "epsilon_greedy); return = viewers who stayed 5 min",
        default_episodes=8,  # line-ups: see LIVE_CHANNELS_VIEWERS
        run=live_channels,
        comparisons=(("thompson", "epsilon_greedy"), ("ucb", "epsilon_greedy")),
    ),
    "news-feed": Scenario(
        description="choosing the top article for 1000 users; return = clicks",
        default_episodes=10,
        run=news_feed,
    ),
    "session-retention": Scenario(
        description="clickbait vs quality on SessionRetention-v0 (learners: 2000 training sessions); "
                    "return = clicks per session",
        default_episodes=1000,
        run=lambda seed, episodes: tabular_baselines(
            "mediarl/SessionRetention-v0", gamma=mdp.SESSION_RETENTION_GAMMA, training_episodes=2_000,
            seed=seed, episodes=episodes),
    ),
    "ad-pacing": Scenario(
        description="pacing a day's ad budget on AdPacing-v0 (tabular learners: 10,000 training days; dqn: "
                    "10,000 steps on features, rewards x 0.1); return = clicks in a day",
        default_episodes=1000,
        run=ad_pacing,
    ),
    "interest-feed": Scenario(
        description="picking feed items for a user on InterestFeed-v0 (dqn: 8,000 training steps); "
                    "return = clicks per session",
        default_episodes=100,
        run=interest_feed,
    ),
}
