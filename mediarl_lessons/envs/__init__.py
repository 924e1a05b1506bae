"""The course's simulated media environments, registered with Gymnasium.

``import mediarl_lessons`` registers every id below, so ``gymnasium.make("mediarl/...")``
works straight away. Each id's module holds the environment's full docstring.
"""

from __future__ import annotations

import gymnasium as gym

from mediarl_lessons.envs.ad_pacing import AdPacingEnv, AdPacingFeatures
from mediarl_lessons.envs.interest_feed import InterestFeedEnv
from mediarl_lessons.envs.live_channels import BanditTestbed, LiveChannelsEnv
from mediarl_lessons.envs.news_feed import NewsFeedEnv
from mediarl_lessons.envs.session_retention import SessionRetentionEnv

#: id -> (environment class, keyword arguments for ``gym.register``, one-line description)
ENVIRONMENTS: dict[str, tuple[type[gym.Env], dict, str]] = {
    "mediarl/LiveChannels-v0": (
        LiveChannelsEnv,
        {"max_episode_steps": 1000},
        "K-armed bandit: which live channel to feature to each arriving viewer (lesson 01).",
    ),
    "mediarl/NewsFeed-v0": (
        NewsFeedEnv,
        {"max_episode_steps": 1000},
        "Contextual bandit: which article to put at the top of a user's feed (lesson 02).",
    ),
    "mediarl/SessionRetention-v0": (
        SessionRetentionEnv,
        {"max_episode_steps": 200},
        "Small MDP: clickbait pays now, quality keeps the viewer coming back (lessons 03, 04).",
    ),
    "mediarl/AdPacing-v0": (
        AdPacingEnv,
        {},
        "Finite-horizon MDP: pace a day's ad budget through second-price auctions (lessons 04, 06).",
    ),
    "mediarl/InterestFeed-v0": (
        InterestFeedEnv,
        {"max_episode_steps": 500},
        "Continuous-state MDP: pick feed items for a user whose time budget quality refills (lesson 05).",
    ),
}


#: The environment classes (from the table) and the two helpers that come with them.
__all__ = ["ENVIRONMENTS", "register_environments", *(env_class.__name__ for env_class, _, _ in ENVIRONMENTS.values()),
           "AdPacingFeatures", "BanditTestbed"]


def register_environments() -> None:
    """Register every course environment with Gymnasium (safe to call more than once).

    The entry point is the class's import path (``"module:Class"``), as Gymnasium's own
    environments have it, so a spec names where its environment lives.
    """
    for env_id, (env_class, kwargs, _) in ENVIRONMENTS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=f"{env_class.__module__}:{env_class.__qualname__}", **kwargs)
