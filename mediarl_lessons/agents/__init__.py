"""Reference agents of the course (COURSE_SPEC §5).

- :mod:`mediarl_lessons.agents.bandits`: bandit agents vectorised over independent runs,
  sharing one interface (``select`` / ``update`` / ``reset``, see the module's docstring).
"""

from __future__ import annotations

from mediarl_lessons.agents.bandits import BanditAgent, EpsilonGreedy, random_argmax

__all__ = ["BanditAgent", "EpsilonGreedy", "random_argmax"]
