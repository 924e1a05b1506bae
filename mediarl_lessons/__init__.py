"""mediarl_lessons: the helper package of a course on reinforcement learning for media.

Importing the package registers the course environments with Gymnasium::

    import gymnasium as gym
    import mediarl_lessons

    env = gym.make("mediarl/LiveChannels-v0")

The lessons live in ``notebooks/``; this package holds what they share: environments
(:mod:`mediarl_lessons.envs`), reference agents (:mod:`mediarl_lessons.agents`), exact
models and dynamic programming (:mod:`mediarl_lessons.mdp`), plots, widgets and grading.
"""

from __future__ import annotations

import random

import numpy as np

from mediarl_lessons.envs import ENVIRONMENTS, register_environments

__version__ = "0.1.0"
__all__ = ["ENVIRONMENTS", "seed_everything", "__version__"]

register_environments()


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, numpy's legacy global generator and torch in one call.

    The course's own code never draws from global generators (it passes
    ``numpy.random.Generator`` objects around), but a learner's experiment cell might, so a
    lesson calls this once at the top to make every number in it repeatable. Returns a fresh
    ``numpy.random.Generator`` seeded with ``seed`` for the lesson to pass on.
    """
    from mediarl_lessons._validation import check_int

    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # torch is a dependency, but seeding should not be what breaks
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
