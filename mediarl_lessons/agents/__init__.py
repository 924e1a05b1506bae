"""Reference agents of the course, all importable from here: ``from mediarl_lessons.agents import DQNAgent``.

- :mod:`mediarl_lessons.agents.bandits`: bandit agents vectorised over independent runs,
  sharing one interface (``select`` / ``update`` / ``reset``, see the module's docstring),
  and the one-step rules of the bandit exercises as pure functions (the references the
  grader checks a student's code against).
- :mod:`mediarl_lessons.agents.tabular`: Q-learning, SARSA and Expected SARSA on a Q table,
  with the one-step TD rules of the Q-learning exercises as pure functions.
- :mod:`mediarl_lessons.agents.dqn`: DQN in PyTorch (``DQNAgent``, ``DQNSettings``, the
  replay buffer, the TD targets, the loss); and :mod:`mediarl_lessons.agents.dqn_together`,
  several DQN runs trained side by side. They import torch, so they are imported on first use
  (``import mediarl_lessons.agents`` alone stays light for the bandit and tabular lessons).
"""

from __future__ import annotations

import importlib
from typing import Any

from mediarl_lessons.agents import bandits, tabular
from mediarl_lessons.agents.bandits import *  # noqa: F403  (exactly bandits.__all__)
from mediarl_lessons.agents.tabular import *  # noqa: F403  (exactly tabular.__all__)

#: The public names of the torch modules, imported on first use by ``__getattr__`` below.
#: They are each module's ``__all__``, which cannot be read here without importing torch:
#: ``tests/test_layout.py`` checks that the two lists agree.
_LAZY_NAMES: dict[str, tuple[str, ...]] = {
    "mediarl_lessons.agents.dqn": (
        "ABLATIONS", "ABLATION_SETTINGS", "Batch", "DQNAgent", "DQNSettings", "DQNTrainingLog", "QNetwork",
        "ReplayBuffer", "TrainedDQN", "double_dqn_targets", "dqn_loss", "soft_update", "td_targets",
        "train_and_evaluate"),
    "mediarl_lessons.agents.dqn_together": ("StackedQNetworks", "train_together"),
}
_LAZY = {name: module for module, names in _LAZY_NAMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """``from mediarl_lessons.agents import DQNAgent`` imports the DQN module (and torch) only then."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [*bandits.__all__, *tabular.__all__, *_LAZY]
