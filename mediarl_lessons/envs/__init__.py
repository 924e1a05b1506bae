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

__all__ = ["ENVIRONMENTS", "AdPacingEnv", "AdPacingFeatures", "BanditTestbed", "InterestFeedEnv", "LiveChannelsEnv",
           "NewsFeedEnv", "SessionRetentionEnv", "register_environments"]

#: id -> (entry point, keyword arguments for ``gym.register``, one-line description)
ENVIRONMENTS: dict[str, tuple[str, dict, str]] = {
    "mediarl/LiveChannels-v0": (
        "mediarl_lessons.envs.live_channels:LiveChannelsEnv",
        {"max_episode_steps": 1000},
        "K-armed bandit: which live channel to feature to each arriving viewer (lesson 01).",
    ),
    "mediarl/NewsFeed-v0": (
        "mediarl_lessons.envs.news_feed:NewsFeedEnv",
        {"max_episode_steps": 1000},
        "Contextual bandit: which article to put at the top of a user's feed (lesson 02).",
    ),
    "mediarl/SessionRetention-v0": (
        "mediarl_lessons.envs.session_retention:SessionRetentionEnv",
        {"max_episode_steps": 200},
        "Small MDP: clickbait pays now, quality keeps the viewer coming back (lessons 03, 04).",
    ),
    "mediarl/AdPacing-v0": (
        "mediarl_lessons.envs.ad_pacing:AdPacingEnv",
        {},
        "Finite-horizon MDP: pace a day's ad budget through second-price auctions (lessons 04, 06).",
    ),
    "mediarl/InterestFeed-v0": (
        "mediarl_lessons.envs.interest_feed:InterestFeedEnv",
        {"max_episode_steps": 500},
        "Continuous-state MDP: pick feed items for a user whose time budget quality refills (lesson 05).",
    ),
}


def register_environments() -> None:
    """Register every course environment with Gymnasium (safe to call more than once)."""
    for env_id, (entry_point, kwargs, _) in ENVIRONMENTS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, **kwargs)
