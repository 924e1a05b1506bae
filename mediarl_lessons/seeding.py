"""Seeds: every number repeatable, and an agent never replaying its environment's dice.

Why an agent and its environment must not share a seed: Gymnasium seeds an environment
with ``env.reset(seed=s)``, which makes its generator with
``gymnasium.utils.seeding.np_random(s)``, the very stream of ``np.random.default_rng(s)``
(``PCG64(SeedSequence(s))``). An agent made with ``seed=s`` for an episode reset with
``seed=s`` would draw *the same numbers* as the simulator: the agent's first exploration coin
is the simulator's first draw, its second the second, and so on. Its "random" exploration is
then a function of the viewers it meets, which no real platform's is, and an experiment
measures that coupling along with the method. Nothing crashes; the numbers are just subtly
not what the method does.

The course's rule: one integer names a run (``seed``), the environment is reset with it,
and the agent draws from :func:`agent_rng` ``(seed)``, a stream that numpy guarantees to be
independent of every ``default_rng(s)`` (a child of ``SeedSequence(seed)``, told apart by
its spawn key, not by a different integer that some other run might use).
"""

from __future__ import annotations

import random

import numpy as np

from mediarl_lessons._validation import check_int

__all__ = ["agent_rng", "seed_everything"]


def agent_rng(seed: int) -> np.random.Generator:
    """The generator of the agent in run ``seed``, independent of ``env.reset(seed=seed)``'s.

    ``numpy.random.default_rng(SeedSequence(seed).spawn(1)[0])``: the same ``seed`` always
    gives the same stream, and no environment seed (``SeedSequence(s)`` for any integer
    ``s``) gives this one. Pass it wherever an agent takes a ``seed``; every agent of the
    course accepts a ``Generator`` and uses it, not a copy.
    """
    seed = check_int("seed", seed, low=0)
    (child,) = np.random.SeedSequence(seed).spawn(1)
    return np.random.default_rng(child)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, numpy's legacy global generator and torch in one call.

    The course's own code never draws from global generators (it passes
    ``numpy.random.Generator`` objects around), but a learner's experiment cell might, so a
    lesson calls this once at the top to make every number in it repeatable. Returns a fresh
    ``numpy.random.Generator`` for the lesson's own draws: :func:`agent_rng` ``(seed)``, so
    that it never replays an environment reset with ``seed``.
    """
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # torch is a dependency, but seeding should not be what breaks
        pass
    else:
        torch.manual_seed(seed)
    return agent_rng(seed)
