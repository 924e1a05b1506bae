"""mediarl_lessons: the helper package of a course on reinforcement learning for media.

Importing the package registers the course environments with Gymnasium::

    import gymnasium as gym
    import mediarl_lessons

    env = gym.make("mediarl/LiveChannels-v0")

The lessons live in ``notebooks/``; this package holds what they share: environments
(:mod:`mediarl_lessons.envs`), reference agents (:mod:`mediarl_lessons.agents`), exact
models and dynamic programming (:mod:`mediarl_lessons.mdp`), the seeded evaluation of a
policy (:mod:`mediarl_lessons.evaluation`), plots, widgets and grading.
``docs/architecture.md`` maps the modules and which way their imports go.
"""

from __future__ import annotations

from mediarl_lessons.envs import ENVIRONMENTS, register_environments
from mediarl_lessons.seeding import agent_rng, seed_everything

__version__ = "0.1.0"
__all__ = ["ENVIRONMENTS", "agent_rng", "seed_everything", "__version__"]

register_environments()
