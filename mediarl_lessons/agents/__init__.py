"""Reference agents of the course (the DQN, which needs torch, is in ``agents/dqn.py``).

- :mod:`mediarl_lessons.agents.bandits`: bandit agents vectorised over independent runs,
  sharing one interface (``select`` / ``update`` / ``reset``, see the module's docstring),
  and the one-step rules of the bandit exercises as pure functions (the references the
  grader checks a student's code against).
- :mod:`mediarl_lessons.agents.tabular`: Q-learning, SARSA and Expected SARSA on a Q table,
  with the one-step TD rules of the Q-learning exercises as pure functions.
"""

from __future__ import annotations

from mediarl_lessons.agents.bandits import (
    BanditAgent,
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
    random_argmax,
    sample_average,
    softmax,
    thompson_bernoulli,
    ucb_scores,
)
from mediarl_lessons.agents.tabular import (
    ExpectedSarsa,
    QLearning,
    Sarsa,
    TabularAgent,
    TrainingLog,
    expected_sarsa_update,
    linear_schedule,
    q_learning_update,
    sarsa_update,
)

__all__ = [
    "BanditAgent",
    "EpsilonGreedy",
    "GradientBandit",
    "LinUCB",
    "OptimisticGreedy",
    "ThompsonBernoulli",
    "ThompsonGaussian",
    "UCB1",
    "epsilon_greedy",
    "gradient_bandit_update",
    "linucb_scores",
    "linucb_update",
    "random_argmax",
    "sample_average",
    "softmax",
    "thompson_bernoulli",
    "ucb_scores",
    "ExpectedSarsa",
    "QLearning",
    "Sarsa",
    "TabularAgent",
    "TrainingLog",
    "expected_sarsa_update",
    "linear_schedule",
    "q_learning_update",
    "sarsa_update",
]
