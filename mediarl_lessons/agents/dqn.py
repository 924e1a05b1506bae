r"""Deep Q-networks (lesson 05, capstone 06): Q-learning with a neural network, made stable.

When the state is a vector of continuous numbers (a user's interests, the minutes left in a
session, the quality of every candidate item) there is no table to fill: ``Q(s, a)`` must be
*approximated*, here by a small neural network ``Q_theta`` that maps an observation to one
value per action. Q-learning's update becomes a regression step on the loss

.. math:: L(\theta) = \operatorname{mean}_{(s, a, r, s') \in \text{batch}}\,
    \ell\big(Q_\theta(s, a) - y\big), \qquad
    y = r + \gamma\,(1 - \text{terminated}) \max_{a'} Q_{\bar\theta}(s', a'),

with ``l`` the Huber loss. Doing this naively, one transition at a time with the network
chasing its own moving targets, is unstable. Mnih et al. (2015, "Human-level control through
deep reinforcement learning", Nature 518) made it work with two ideas, both in this file:

- **Experience replay** (:class:`ReplayBuffer`): store the transitions, and learn from random
  mini-batches of them. Consecutive transitions are strongly correlated (the same user, the
  same session); a random batch from the last 50,000 is close to independent, and every
  transition is reused many times.
- **A target network** (``theta_bar`` above): a copy of the network, refreshed only every
  so often (:func:`soft_update` with ``tau = 1``; every 100 steps by default), computes the
  targets ``y``. The regression then has a fixed target for a while instead of one that
  moves with every step.

(On InterestFeed-v0, with the course's gentle defaults, replay is what makes the difference:
without it the network does worse than the myopic oracle, and the target network, copied
often, neither helps nor hurts. With lesson 05's bold settings, replay alone is a lottery
and the target network is what makes every seed learn. ``docs/dqn.md`` and
``docs/claims.md`` have the measurements.)

And two later improvements, also here: **Double DQN** (van Hasselt et al. 2016,
:func:`double_dqn_targets`): the online network *chooses* the next action and the target
network *values* it, which removes most of the upward bias of ``max`` over noisy
estimates; and **soft target updates** (Lillicrap et al. 2016): ``tau < 1`` moves the target
network a little towards the online one after every gradient step.

Read this file top to bottom, like CleanRL's ``dqn.py``:

1. **the settings**: :class:`DQNSettings`, every hyperparameter with its meaning, and
   :data:`ABLATIONS`, the settings that switch replay and the target network off for lesson
   05's ablation;
2. **the replay buffer**: :class:`ReplayBuffer`, a ring of preallocated arrays, and the
   :class:`Batch` it samples;
3. **the Q-network**: :class:`QNetwork`, the multilayer perceptron;
4. **the learning rule**: :func:`td_targets`, :func:`double_dqn_targets`, :func:`dqn_loss`
   and :func:`soft_update`, plain tensor code. With :class:`ReplayBuffer` these are the
   pieces of exercise ``05_dqn`` (contracts in ``docs/exercises.md``): the grader checks a
   learner's code against them, and the agent runs them;
5. **the agent**: :class:`DQNAgent`, which acts epsilon-greedily with its Q-network, trains
   (:meth:`DQNAgent.train`, the loop of CleanRL's ``dqn.py``), evaluates, saves and loads;
   and :func:`train_and_evaluate`, the one call the demos make.

Every deviation from Mnih et al. (2015), with the values used and why, is listed in
``docs/dqn.md``. What makes the agent fast on a CPU (the greedy action computed with numpy,
the fused Adam, one torch thread) is in :mod:`mediarl_lessons.agents.dqn_fast`, called by
names that say what each is; none of it is part of the algorithm. The lessons train the
seeds of an experiment side by side with :mod:`mediarl_lessons.agents.dqn_together`, which
runs this file's loop for several agents at once.

Terminated versus truncated (as in ``tabular.py``): only ``terminated`` reaches the
buffer and the targets. A session cut off by a time limit (``truncated``) still had a
future, so its last transition bootstraps like any other.

Reproducibility: on one machine, the same seed gives the same network, the same actions and
the same losses, bit for bit. The agent's ``numpy`` generator draws the exploration, the
replay samples and the environment's first reset seed; the network's initial weights come
from ``torch``'s generator seeded inside :func:`torch.random.fork_rng`, so the global torch
random state is left as it was. Another machine (another CPU's instruction set, another math
library) computes other floats, and after a few thousand steps the same seed has trained
another network there: what a learner can rely on is what holds over seeds, not one
network (``docs/claims.md``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mediarl_lessons._validation import as_generator, check_float, check_int
from mediarl_lessons.agents.bandits import epsilon_greedy
from mediarl_lessons.agents.dqn_fast import NumpyQNetworkMirror, fused_adam, limit_torch_threads
from mediarl_lessons.agents.tabular import linear_schedule
from mediarl_lessons.evaluation import evaluate_policy

__all__ = [
    "ABLATIONS",
    "ABLATION_SETTINGS",
    "Batch",
    "DQNAgent",
    "DQNSettings",
    "DQNTrainingLog",
    "QNetwork",
    "ReplayBuffer",
    "TrainedDQN",
    "double_dqn_targets",
    "dqn_loss",
    "soft_update",
    "td_targets",
    "train_and_evaluate",
]


# =============================================================================================
# 1. The settings
# =============================================================================================
@dataclass(frozen=True)
class DQNSettings:
    """Every hyperparameter of :class:`DQNAgent`, validated when created.

    The defaults are tuned for ``InterestFeed-v0``: after 8,000 steps the greedy policy earns
    1.25-1.43 times the myopic oracle's clicks over 48 training seeds (median 1.37;
    ``docs/claims.md``). ``docs/dqn.md`` compares every default with Mnih et al. (2015).
    Make variants with ``dataclasses.replace(settings, gamma=0.9)``. A value out of range
    raises ``ValueError`` (``TypeError`` for a wrong type) naming the field and its range.

    The switches of lesson 05's ablation (:data:`ABLATIONS`):

    - *no replay*: ``buffer_size=1, batch_size=1`` (each update sees the latest transition
      only, once), with ``learning_starts=1, train_frequency=1``;
    - *no target network*: ``target_update=1`` (the online network computes its own targets).
    """

    gamma: float = 0.98
    """Discount factor in [0, 1]. 0.98 looks about 50 steps ahead, the length of a long session."""
    learning_rate: float = 1e-3
    """Adam's step size, in (0, 1]."""
    batch_size: int = 64
    """Transitions per gradient step, >= 1."""
    buffer_size: int = 50_000
    """Replay buffer capacity in transitions, >= 1 (the oldest are overwritten)."""
    learning_starts: int = 1_000
    """Environment steps of pure collection before the first gradient step, >= 1."""
    train_frequency: int = 2
    """A training round every this many environment steps, >= 1."""
    gradient_steps: int = 1
    """Gradient steps per training round, >= 1."""
    target_update: int | float = 100
    """How the target network follows the online one. An ``int`` N >= 1: a hard copy every N
    environment steps; ``1`` means NO separate target network (the online network computes
    its own targets, exactly). A ``float`` tau in (0, 1): a soft update
    ``theta_target <- tau theta + (1 - tau) theta_target`` after every gradient step."""
    epsilon_start: float = 1.0
    """Exploration rate in [0, 1] at the first step."""
    epsilon_end: float = 0.05
    """Exploration rate in [0, 1] after ``epsilon_decay_steps`` steps (and from then on)."""
    epsilon_decay_steps: int = 3_000
    """Environment steps, >= 0, over which epsilon falls linearly from start to end (the
    agent's total steps count, so a second ``train`` call carries on with the schedule)."""
    double: bool = True
    """Double DQN targets (:func:`double_dqn_targets`) instead of :func:`td_targets`."""
    huber: bool = True
    """Huber loss (smooth L1, beta 1) if True, squared error if False."""
    max_grad_norm: float | None = 10.0
    """Clip the gradient's global L2 norm to this value (> 0); ``None`` means no clipping."""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """Widths of the hidden layers of :class:`QNetwork` (ReLU after each), each >= 1."""
    device: str = "cpu"
    """``"cpu"``, ``"cuda"`` (or ``"cuda:N"``), or ``"auto"`` (CUDA when available, else CPU).
    Asking for CUDA where ``torch.cuda.is_available()`` is False raises ``ValueError``."""
    torch_threads: int | None = 1
    """Threads torch may use while the agent trains or evaluates (set with
    ``torch.set_num_threads`` and restored afterwards), >= 1; ``None`` leaves torch's setting
    alone. One thread keeps results bit for bit the same on machines with different numbers
    of cores, and a network this small gains nothing from more
    (:func:`~mediarl_lessons.agents.dqn_fast.limit_torch_threads`)."""

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:  # a frozen dataclass: store the checked value
            object.__setattr__(self, name, value)

        put("gamma", check_float("gamma", self.gamma, 0.0, 1.0))
        put("learning_rate", check_float("learning_rate", self.learning_rate, 0.0, 1.0, low_open=True))
        put("batch_size", check_int("batch_size", self.batch_size, low=1))
        put("buffer_size", check_int("buffer_size", self.buffer_size, low=1))
        put("learning_starts", check_int("learning_starts", self.learning_starts, low=1))
        put("train_frequency", check_int("train_frequency", self.train_frequency, low=1))
        put("gradient_steps", check_int("gradient_steps", self.gradient_steps, low=1))
        put("target_update", _check_target_update(self.target_update))
        put("epsilon_start", check_float("epsilon_start", self.epsilon_start, 0.0, 1.0))
        put("epsilon_end", check_float("epsilon_end", self.epsilon_end, 0.0, 1.0))
        put("epsilon_decay_steps", check_int("epsilon_decay_steps", self.epsilon_decay_steps, low=0))
        for name in ("double", "huber"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
            put(name, bool(getattr(self, name)))
        if self.max_grad_norm is not None:
            put("max_grad_norm", check_float("max_grad_norm", self.max_grad_norm, 0.0, low_open=True))
        put("hidden_sizes", _check_hidden_sizes(self.hidden_sizes))
        put("device", _check_device(self.device))
        if self.torch_threads is not None:
            put("torch_threads", check_int("torch_threads", self.torch_threads, 1, 1024))

    @property
    def uses_target_network(self) -> bool:
        """False when ``target_update == 1``: the online network computes its own targets."""
        return self.target_update != 1


def _check_target_update(value: object) -> int | float:
    message = ("target_update must be an integer >= 1 (a hard copy every N environment steps; 1 means "
               "no target network) or a float in (0, 1) (a soft update with that tau after every "
               f"gradient step), got {value!r}")
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(message)
    if isinstance(value, (int, np.integer)):
        if value < 1:
            raise ValueError(message)
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not 0.0 < value < 1.0:
            raise ValueError(message)
        return float(value)
    raise TypeError(message)


def _check_device(device: object) -> str:
    if not isinstance(device, str):
        raise TypeError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    if device == "auto":
        return device
    if device != "cpu" and not (device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit())):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but CUDA is not available here "
                         "(torch.cuda.is_available() is False); use device='cpu', or 'auto' for "
                         "CUDA when there is one and the CPU otherwise")
    return device


def _check_hidden_sizes(hidden_sizes: object) -> tuple[int, ...]:
    if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Sequence):
        raise TypeError(f"hidden_sizes must be a sequence of integers such as (128, 128), got {hidden_sizes!r}")
    return tuple(check_int(f"hidden_sizes[{i}]", size, 1, 65_536) for i, size in enumerate(hidden_sizes))


#: The agents of lesson 05's ablation, from naive online Q-learning with a network to Double
#: DQN: the fields to change in :class:`DQNSettings` (``DQNSettings(**ABLATIONS[name])`` or
#: ``dataclasses.replace(settings, **ABLATIONS[name])``). Each row adds one idea.
ABLATIONS: dict[str, dict[str, Any]] = {
    # Learn from each transition once, as it arrives; the network computes its own targets.
    "online (no replay, no target)": dict(buffer_size=1, batch_size=1, learning_starts=1,
                                          train_frequency=1, target_update=1, double=False),
    "+ replay (no target)": dict(target_update=1, double=False),
    "+ target network (DQN)": dict(double=False),
    "+ double (Double DQN)": dict(double=True),
}

#: The settings lesson 05's ablation starts from: bold ones, where instability can show.
#: A learning rate ten times the default, the plain squared TD error and no gradient clipping
#: (no safety belts), and a far horizon (``gamma=0.995``, about 200 steps), the conditions of
#: the "deadly triad" (bootstrapping, function approximation, off-policy data) under which a
#: network chasing its own targets goes astray. With the gentle defaults the target network
#: and Double DQN make no measurable difference on InterestFeed-v0 (``docs/dqn.md``); here
#: replay without a target network is unreliable (after 8,000 steps its greedy policy earned
#: from 0.77 to 1.36 times the myopic oracle, depending on the seed) while with a target
#: network every seed beat the oracle (1.07-1.39), over 48 training seeds (``docs/claims.md``).
ABLATION_SETTINGS = DQNSettings(gamma=0.995, learning_rate=1e-2, huber=False, max_grad_norm=None)


# =============================================================================================
# 2. The replay buffer (exercise 05_dqn)
# =============================================================================================
class Batch(NamedTuple):
    """A mini-batch of ``B`` transitions, as :meth:`ReplayBuffer.sample` returns it.

    Both ``batch.obs`` and ``obs, actions, rewards, next_obs, terminated = batch`` work.
    """

    obs: torch.Tensor
    """float32 ``(B, obs_dim)``: the observations the actions were taken in."""
    actions: torch.Tensor
    """int64 ``(B,)``: the actions taken."""
    rewards: torch.Tensor
    """float32 ``(B,)``: the rewards received."""
    next_obs: torch.Tensor
    """float32 ``(B, obs_dim)``: the observations that followed."""
    terminated: torch.Tensor
    """float32 ``(B,)``: 1.0 where the episode really ended after the step (no future), else 0.0."""


class ReplayBuffer:
    """The latest ``capacity`` transitions, and uniformly random mini-batches of them.

    A ring buffer in preallocated numpy arrays (as in Stable-Baselines3): transition number
    ``n`` (counting from 0) goes to slot ``n % capacity``, so once the buffer is full each new
    transition overwrites the OLDEST one. Nothing is allocated per step, and a mini-batch is
    one fancy-indexing of each array, handed to torch without a copy (``torch.from_numpy``).

    - ``add(obs, action, reward, next_obs, terminated)`` stores COPIES: changing the caller's
      array afterwards changes nothing stored. Store Gymnasium's ``terminated``, never
      ``terminated or truncated``.
    - ``sample(batch_size)`` draws ``batch_size`` slots uniformly, with replacement, from the
      ``len(buffer)`` slots filled so far (never an unfilled one) and returns a :class:`Batch`
      of torch tensors. ``ValueError`` when the buffer is empty.
    - ``seed``: an ``int``, a ``numpy.random.Generator`` (used, not copied) or ``None``.

    With ``capacity=1`` and ``batch_size=1`` there is no replay at all: every batch is the
    latest transition (the "naive online" agent of lesson 05).
    """

    def __init__(self, capacity: int, obs_dim: int, seed: int | np.random.Generator | None = None) -> None:
        self.capacity = check_int("capacity", capacity, low=1)
        self.obs_dim = check_int("obs_dim", obs_dim, low=1)
        self.rng = as_generator(seed)
        self.obs = np.zeros((self.capacity, self.obs_dim), dtype=np.float32)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.next_obs = np.zeros((self.capacity, self.obs_dim), dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=np.float32)
        self.position = 0  #: the slot the next transition goes to
        self.size = 0  #: how many slots hold a transition

    def __len__(self) -> int:
        return self.size

    def add(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray, terminated: bool) -> None:
        """Store one transition (copies of the arrays), overwriting the oldest when full."""
        # Cheap checks (this runs every step): a wrong shape would otherwise broadcast silently.
        if np.shape(obs) != (self.obs_dim,) or np.shape(next_obs) != (self.obs_dim,):
            raise ValueError(f"obs and next_obs must have shape ({self.obs_dim},), "
                             f"got {np.shape(obs)} and {np.shape(next_obs)}")
        if not (type(action) is int or isinstance(action, np.integer)):
            raise TypeError(f"action must be an integer, got {action!r} of type {type(action).__name__}")
        i = self.position
        # Assigning into a preallocated row copies the values: the caller keeps its array.
        self.obs[i] = obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_obs[i] = next_obs
        self.terminated[i] = terminated
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> Batch:
        """``batch_size`` transitions drawn uniformly (with replacement) from those stored."""
        batch_size = check_int("batch_size", batch_size, low=1)
        if self.size == 0:
            raise ValueError("cannot sample from an empty ReplayBuffer: add transitions first")
        # Only the filled slots 0 .. size-1 (the ring fills slot 0 first, so they are contiguous).
        idx = self.rng.integers(self.size, size=batch_size)
        return Batch(
            obs=torch.from_numpy(self.obs[idx]),  # fancy indexing makes a fresh array: no aliasing
            actions=torch.from_numpy(self.actions[idx]),
            rewards=torch.from_numpy(self.rewards[idx]),
            next_obs=torch.from_numpy(self.next_obs[idx]),
            terminated=torch.from_numpy(self.terminated[idx]),
        )

    def __repr__(self) -> str:
        return f"ReplayBuffer(capacity={self.capacity}, obs_dim={self.obs_dim}, size={self.size})"


# =============================================================================================
# 3. The Q-network
# =============================================================================================
class QNetwork(nn.Sequential):
    """A multilayer perceptron from an observation to one Q-value per action.

    ``obs_dim -> hidden_sizes[0] -> ReLU -> ... -> hidden_sizes[-1] -> ReLU -> n_actions``,
    with PyTorch's default initialisation. Input ``(B, obs_dim)`` or ``(obs_dim,)``, output
    ``(B, n_actions)`` or ``(n_actions,)``. ``hidden_sizes=()`` is a linear function of the
    observation.
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden_sizes: Sequence[int] = (128, 128)) -> None:
        obs_dim = check_int("obs_dim", obs_dim, low=1)
        n_actions = check_int("n_actions", n_actions, low=1)
        hidden_sizes = _check_hidden_sizes(hidden_sizes)
        layers: list[nn.Module] = []
        width = obs_dim
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, n_actions))
        super().__init__(*layers)
        self.obs_dim, self.n_actions, self.hidden_sizes = obs_dim, n_actions, hidden_sizes


# =============================================================================================
# 4. The learning rule: TD targets, the loss, the target update (exercise 05_dqn)
# =============================================================================================
def td_targets(rewards: torch.Tensor, next_q_target: torch.Tensor, terminated: torch.Tensor,
               gamma: float) -> torch.Tensor:
    r"""The DQN targets ``y = r + gamma (1 - terminated) max_a' Q_target(s', a')``, shape ``(B,)``.

    ``next_q_target`` is the target network's ``(B, n_actions)`` values of the next
    observations. Where ``terminated`` is 1 the episode ended: nothing follows, the target is
    the reward alone. (The actions are the LAST dimension, so stacked inputs, ``(N, B)`` and
    ``(N, B, n_actions)`` for N networks trained at once, give ``(N, B)``.)
    """
    not_done = 1.0 - terminated.to(next_q_target.dtype)
    best_next_value = next_q_target.max(dim=-1).values
    return rewards + gamma * not_done * best_next_value


def double_dqn_targets(rewards: torch.Tensor, next_q_online: torch.Tensor, next_q_target: torch.Tensor,
                       terminated: torch.Tensor, gamma: float) -> torch.Tensor:
    r"""Double DQN's targets (van Hasselt et al. 2016), shape ``(B,)``.

    .. math:: y = r + \gamma\,(1 - \text{terminated})\;
        Q_{\text{target}}\big(s', \operatorname{argmax}_{a'} Q_{\text{online}}(s', a')\big)

    The ONLINE network picks the next action, the TARGET network says what it is worth. With
    one network doing both, ``max`` picks the action whose value happens to be overestimated
    most; two networks with different errors rarely agree on that. Ties in the argmax go to
    the lowest action index (``torch.argmax``'s rule). Like :func:`td_targets`, it works along
    the last dimension.
    """
    not_done = 1.0 - terminated.to(next_q_target.dtype)
    next_actions = next_q_online.argmax(dim=-1, keepdim=True)  # (B, 1): chosen by the online net
    next_values = next_q_target.gather(-1, next_actions).squeeze(-1)  # (B,): valued by the target net
    return rewards + gamma * not_done * next_values


def dqn_loss(q_net: nn.Module, target_net: nn.Module, batch: Batch, gamma: float, double: bool = False,
             *, huber: bool = True) -> torch.Tensor:
    """The mean loss between ``Q(s, a)`` of the batch's actions and their TD targets (a scalar).

    The loss is the Huber loss (``smooth_l1_loss`` with ``beta = 1``: squared for errors
    below 1, linear above, so one surprising reward cannot produce a huge gradient), or the
    squared error with ``huber=False``. The targets are computed under ``torch.no_grad()``:
    they are constants of the regression, so no gradient reaches ``target_net`` and none
    flows through the targets into ``q_net`` (only through ``Q(s, a)``). ``double=True``
    uses :func:`double_dqn_targets`, otherwise :func:`td_targets`.

    The mean is over the batch's transitions, the last dimension: for N networks stacked
    into one (``mediarl_lessons.agents.dqn_together``, batches of shape ``(N, B, ...)``) it is
    one loss per network, shape ``(N,)``, and their sum gives each network its own gradient.
    """
    obs, actions, rewards, next_obs, terminated = batch
    with torch.no_grad():
        next_q_target = target_net(next_obs)
        if double:
            targets = double_dqn_targets(rewards, q_net(next_obs), next_q_target, terminated, gamma)
        else:
            targets = td_targets(rewards, next_q_target, terminated, gamma)
    # Q(s, a) for the action actually taken in each transition: pick column a of each row.
    q_taken = q_net(obs).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    if huber:
        losses = F.smooth_l1_loss(q_taken, targets, beta=1.0, reduction="none")
    else:
        losses = F.mse_loss(q_taken, targets, reduction="none")
    return losses.mean(dim=-1)


@torch.no_grad()
def soft_update(target_net: nn.Module, online_net: nn.Module, tau: float) -> None:
    r"""Move the target network towards the online one, in place: ``theta_t <- tau theta + (1 - tau) theta_t``.

    ``tau = 1`` is a hard copy (DQN's periodic target update); a small ``tau`` such as 0.005
    after every gradient step is a "Polyak" or soft update. Buffers (none in :class:`QNetwork`)
    are updated the same way.
    """
    tau = check_float("tau", tau, 0.0, 1.0, low_open=True)
    targets = list(target_net.state_dict().values())  # views of the module's own tensors
    onlines = list(online_net.state_dict().values())
    if len(targets) != len(onlines) or any(t.shape != o.shape for t, o in zip(targets, onlines)):
        raise ValueError("target_net and online_net must have the same architecture (the same "
                         "parameters with the same shapes)")
    for target, online in zip(targets, onlines):
        if tau == 1.0 or not target.is_floating_point():
            target.copy_(online)
        else:
            target.mul_(1.0 - tau).add_(online, alpha=tau)


# =============================================================================================
# 5. The agent
# =============================================================================================
@dataclass(frozen=True)
class DQNTrainingLog:
    """What happened during one :meth:`DQNAgent.train` call.

    Learning curve: ``episode_returns`` against ``episode_end_steps`` (or
    :meth:`learning_curve` on a grid of steps, to average several seeds). The returns are
    those of the EXPLORING policy, so they stay below the greedy policy's while epsilon is
    large; evaluate the greedy policy with :meth:`DQNAgent.evaluate`.
    """

    episode_returns: np.ndarray
    """Undiscounted return of each episode that ended during training."""
    episode_lengths: np.ndarray
    """Steps of each of those episodes."""
    episode_end_steps: np.ndarray
    """The agent's total step count when each of them ended."""
    losses: np.ndarray
    """The loss of every gradient step."""
    epsilons: np.ndarray
    """The exploration rate of every environment step."""
    steps: int
    """Environment steps taken in this call."""
    gradient_steps: int
    """Gradient steps taken in this call."""
    seconds: float
    """Wall-clock time of the call."""

    @property
    def steps_per_second(self) -> float:
        """Environment steps per second, learning included."""
        return self.steps / self.seconds if self.seconds > 0 else math.inf

    def learning_curve(self, step_grid: np.ndarray, window: int = 20) -> np.ndarray:
        """At each step of ``step_grid``: the mean return of the last ``window`` episodes ended
        by then (``nan`` before the first one). Average several seeds' curves for bands."""
        window = check_int("window", window, low=1)
        grid = np.asarray(step_grid)
        ended = np.searchsorted(self.episode_end_steps, grid, side="right")  # episodes ended by each step
        cumulative = np.concatenate([[0.0], np.cumsum(self.episode_returns)])
        first = np.maximum(ended - window, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            curve = (cumulative[ended] - cumulative[first]) / (ended - first)
        return np.where(ended > 0, curve, np.nan)


class DQNAgent:
    """A DQN agent (Mnih et al. 2015) for a vector observation and a discrete action.

    ``DQNAgent(obs_dim, n_actions, settings=DQNSettings(), seed=None)``, or
    ``DQNAgent.from_env(env, settings, seed)`` to read the sizes from an environment with a
    ``Box`` observation space and a ``Discrete`` one for actions. ``seed``: an ``int``, a
    ``numpy.random.Generator`` or ``None``.

    - ``act(obs, epsilon=0.0)``: epsilon-greedy action (greedy by default);
      ``greedy_action(obs)``: the action with the largest Q-value; ``q_values(obs)``: the
      online network's Q-values.
    - ``train(env, steps)``: collect ``steps`` environment steps and learn from them; returns a
      :class:`DQNTrainingLog`. Call it again to train more: the step count, the epsilon
      schedule and the replay buffer carry on.
    - ``evaluate(env, episodes, seed)``: the greedy policy's return in each episode.
    - ``save(path)`` / ``DQNAgent.load(path)``.

    Attributes: ``settings``, ``q_net`` (the online :class:`QNetwork`), ``target_net`` (its
    copy, or ``q_net`` itself when ``settings.target_update == 1``), ``optimizer`` (Adam),
    ``buffer`` (the :class:`ReplayBuffer`), ``steps`` and ``gradient_steps`` (totals so far),
    ``epsilon`` (the exploration rate of the next training step), ``device``, ``rng``.
    """

    #: Saved files carry this name and version; :meth:`load` refuses anything else.
    FILE_FORMAT = "mediarl_lessons.DQNAgent"
    FILE_VERSION = 1

    def __init__(self, obs_dim: int, n_actions: int, settings: DQNSettings | None = None,
                 seed: int | np.random.Generator | None = None) -> None:
        self.obs_dim = check_int("obs_dim", obs_dim, low=1)
        self.n_actions = check_int("n_actions", n_actions, low=1)
        if settings is None:
            settings = DQNSettings()
        if not isinstance(settings, DQNSettings):
            raise TypeError(f"settings must be a DQNSettings, got {type(settings).__name__}")
        self.settings = settings
        self.device = torch.device(
            ("cuda" if torch.cuda.is_available() else "cpu") if settings.device == "auto" else settings.device)
        self.rng = as_generator(seed)

        # The network's initial weights come from torch's generator, seeded from ours inside
        # fork_rng: reproducible, and the caller's global torch random state is left alone.
        torch_seed = int(self.rng.integers(2**63))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(torch_seed)
            self.q_net = QNetwork(self.obs_dim, self.n_actions, settings.hidden_sizes).to(self.device)
            if settings.uses_target_network:
                self.target_net = QNetwork(self.obs_dim, self.n_actions, settings.hidden_sizes).to(self.device)
                soft_update(self.target_net, self.q_net, 1.0)  # start as an exact copy
                self.target_net.requires_grad_(False)  # it is never trained, only copied into
            else:
                self.target_net = self.q_net  # no target network: the online net makes its own targets
        # Adam (torch.optim.Adam, in its fused implementation: dqn_fast.fused_adam).
        self.optimizer = fused_adam(self.q_net.parameters(), settings.learning_rate)
        self.buffer = ReplayBuffer(settings.buffer_size, self.obs_dim, seed=int(self.rng.integers(2**63)))
        self.steps = 0
        self.gradient_steps = 0

    @classmethod
    def from_env(cls, env: gym.Env, settings: DQNSettings | None = None,
                 seed: int | np.random.Generator | None = None) -> DQNAgent:
        """An agent sized for ``env``: a 1-D ``Box`` observation space and a ``Discrete`` action space."""
        obs_dim, n_actions = _vector_discrete_sizes(env)
        return cls(obs_dim, n_actions, settings, seed)

    @property
    def epsilon(self) -> float:
        """The exploration rate of the next training step (the schedule at :attr:`steps`)."""
        s = self.settings
        return linear_schedule(self.steps, s.epsilon_start, s.epsilon_end, s.epsilon_decay_steps)

    # ---- acting --------------------------------------------------------------------------
    def act(self, obs: np.ndarray, epsilon: float = 0.0) -> int:
        """An epsilon-greedy action: lesson 01's rule, :func:`~mediarl_lessons.agents.bandits.epsilon_greedy`,
        on the Q-values of ``obs``. With probability ``epsilon`` a uniformly random action (from
        ALL actions), otherwise one with the largest Q-value, ties broken at random."""
        if np.shape(obs) != (self.obs_dim,):
            raise ValueError(f"obs must have shape ({self.obs_dim},), got {np.shape(obs)}")
        return epsilon_greedy(self._q_values_fast()(obs), epsilon, self.rng)

    def greedy_action(self, obs: np.ndarray) -> int:
        """``argmax_a Q(obs, a)`` of the online network :attr:`q_net`, ties to the lowest index."""
        if np.shape(obs) != (self.obs_dim,):
            raise ValueError(f"obs must have shape ({self.obs_dim},), got {np.shape(obs)}")
        with torch.no_grad():
            q = self.q_net(torch.as_tensor(obs, dtype=torch.float32, device=self.device))
        return int(q.argmax())

    def _q_values_fast(self) -> Callable[[np.ndarray], np.ndarray]:
        """:meth:`q_values` of one observation as a function, the same network evaluated faster:
        on the CPU a :class:`~mediarl_lessons.agents.dqn_fast.NumpyQNetworkMirror` of
        :attr:`q_net` (it shares the network's weights, so it follows every gradient step);
        elsewhere :meth:`q_values` itself. ``tests/test_dqn.py`` checks that the two agree."""
        if self.device.type == "cpu":
            return NumpyQNetworkMirror(self.q_net).q_values
        return self.q_values

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """The online network's Q-values of one observation ``(obs_dim,)`` or a batch ``(B, obs_dim)``."""
        obs = np.asarray(obs, dtype=np.float32)
        if obs.shape[-1:] != (self.obs_dim,) or obs.ndim > 2:
            raise ValueError(f"obs must have shape ({self.obs_dim},) or (B, {self.obs_dim}), got {obs.shape}")
        with torch.no_grad():
            return self.q_net(torch.tensor(obs, device=self.device)).cpu().numpy()

    # ---- learning ------------------------------------------------------------------------
    def train(self, env: gym.Env, steps: int, progress: bool = True, *, seed: int | None = None) -> DQNTrainingLog:
        """Collect ``steps`` environment steps with the epsilon-greedy policy and learn from them.

        The loop, one environment step at a time (CleanRL's ``dqn.py`` in a method):

        1. act epsilon-greedily, with epsilon from the linear schedule;
        2. step the environment; store ``(obs, action, reward, next_obs, terminated)``;
        3. every ``train_frequency`` steps (once ``learning_starts`` steps are stored) take
           ``gradient_steps`` gradient steps on random mini-batches;
        4. update the target network (hard every ``target_update`` steps, or soft after each
           gradient step).

        The environment is reset at the start (with ``seed``, or by default a seed drawn
        from the agent's generator, so the agent's seed fixes everything) and whenever an
        episode ends, terminated or truncated. ``progress=True`` shows a ``tqdm`` bar with the
        mean return of the last 20 episodes and epsilon.
        """
        steps = check_int("steps", steps, low=1)
        obs_dim, n_actions = _vector_discrete_sizes(env)
        if (obs_dim, n_actions) != (self.obs_dim, self.n_actions):
            raise ValueError(f"the agent has obs_dim={self.obs_dim}, n_actions={self.n_actions} but the "
                             f"environment has {obs_dim}-dimensional observations and {n_actions} actions")
        if seed is None:
            seed = int(self.rng.integers(2**31))
        else:
            seed = check_int("seed", seed, low=0)
        s = self.settings
        soft_tau = s.target_update if isinstance(s.target_update, float) else None
        hard_every = s.target_update if isinstance(s.target_update, int) and s.uses_target_network else None

        episode_returns: list[float] = []
        episode_lengths: list[int] = []
        episode_end_steps: list[int] = []
        losses = np.full(steps * s.gradient_steps // s.train_frequency + s.gradient_steps, np.nan)
        epsilons = np.empty(steps)
        n_losses = 0

        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=steps, desc="DQN", unit="step", leave=False)
        started = time.perf_counter()
        with limit_torch_threads(s.torch_threads):
            obs, _ = env.reset(seed=seed)
            episode_return, episode_length = 0.0, 0
            q_values = self._q_values_fast()  # Q(obs, .) of q_net, following its updates
            for t in range(steps):
                # 1. Act: lesson 01's epsilon-greedy rule on Q(obs, .): explore with probability
                #    epsilon, else an action with the largest Q-value.
                epsilon = self.epsilon
                epsilons[t] = epsilon
                action = epsilon_greedy(q_values(obs), epsilon, self.rng)

                # 2. Step, and store the transition. `terminated`, NOT `terminated or truncated`:
                #    after a time limit the state still has a future, so its target bootstraps.
                next_obs, reward, terminated, truncated, _ = env.step(action)
                self.buffer.add(obs, action, reward, next_obs, terminated)
                self.steps += 1
                episode_return += float(reward)
                episode_length += 1
                if terminated or truncated:
                    episode_returns.append(episode_return)
                    episode_lengths.append(episode_length)
                    episode_end_steps.append(self.steps)
                    episode_return, episode_length = 0.0, 0
                    obs, _ = env.reset()
                else:
                    obs = next_obs

                # 3. Learn from random mini-batches of the replay buffer.
                if self.steps >= s.learning_starts and self.steps % s.train_frequency == 0:
                    for _ in range(s.gradient_steps):
                        losses[n_losses] = self._gradient_step()
                        n_losses += 1
                        if soft_tau is not None:  # 4a. soft target update after every gradient step
                            soft_update(self.target_net, self.q_net, soft_tau)

                # 4b. Hard target update: copy the online network every `target_update` steps.
                if hard_every is not None and self.steps % hard_every == 0:
                    soft_update(self.target_net, self.q_net, 1.0)

                if bar is not None and (t + 1) % 500 == 0:
                    bar.update(500)
                    if episode_returns:
                        bar.set_postfix(mean_return_last_20=f"{np.mean(episode_returns[-20:]):.3g}",
                                        epsilon=f"{epsilon:.3f}", refresh=False)
        seconds = time.perf_counter() - started
        if bar is not None:
            bar.update(steps - bar.n)
            bar.close()
        return DQNTrainingLog(
            episode_returns=np.array(episode_returns, dtype=np.float64),
            episode_lengths=np.array(episode_lengths, dtype=np.int64),
            episode_end_steps=np.array(episode_end_steps, dtype=np.int64),
            losses=losses[:n_losses].copy(),
            epsilons=epsilons,
            steps=steps,
            gradient_steps=n_losses,
            seconds=seconds,
        )

    def _gradient_step(self) -> float:
        """One step of Adam on the DQN loss of a random mini-batch; returns the loss."""
        s = self.settings
        batch = self.buffer.sample(s.batch_size)
        if self.device.type != "cpu":
            batch = Batch(*(x.to(self.device, non_blocking=True) for x in batch))
        loss = dqn_loss(self.q_net, self.target_net, batch, s.gamma, s.double, huber=s.huber)
        self.optimizer.zero_grad()
        loss.backward()
        if s.max_grad_norm is not None:  # scale the whole gradient down to norm max_grad_norm if larger
            nn.utils.clip_grad_norm_(self.q_net.parameters(), s.max_grad_norm, foreach=True)
        self.optimizer.step()
        self.gradient_steps += 1
        return loss.item()

    # ---- evaluating ----------------------------------------------------------------------
    def evaluate(self, env: gym.Env, episodes: int = 100, seed: int = 0, *,
                 max_steps: int | None = None) -> np.ndarray:
        """The undiscounted return of the GREEDY policy in each of ``episodes`` episodes.

        Episode ``i`` starts from ``env.reset(seed=seed + i)`` (``evaluation.evaluate_policy``),
        so another policy evaluated with the same ``seed`` meets exactly the same episodes.
        ``max_steps`` caps an episode of an environment without a time limit.
        """
        obs_dim, n_actions = _vector_discrete_sizes(env)
        if (obs_dim, n_actions) != (self.obs_dim, self.n_actions):
            raise ValueError(f"the agent has obs_dim={self.obs_dim}, n_actions={self.n_actions} but the "
                             f"environment has {obs_dim}-dimensional observations and {n_actions} actions")
        with limit_torch_threads(self.settings.torch_threads):
            q_values = self._q_values_fast()
            return evaluate_policy(env, lambda obs, info: int(q_values(obs).argmax()), episodes=episodes, seed=seed,
                                   max_steps=max_steps)

    # ---- saving and loading ----------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Save the networks, the optimizer, the settings and the step counts to ``path``.

        The file is a plain dictionary of tensors, numbers and strings written by
        ``torch.save``, so :meth:`load` can read it with ``torch.load(..., weights_only=True)``,
        which never runs code from the file. The replay buffer and the random generator's
        state are not saved: a loaded agent acts exactly as the saved one did, and can train
        further, but not bit for bit as the saved one would have.
        """
        path = Path(path)
        torch.save({
            "format": self.FILE_FORMAT,
            "format_version": self.FILE_VERSION,
            "obs_dim": self.obs_dim,
            "n_actions": self.n_actions,
            "settings": dataclasses.asdict(self.settings),
            "q_net": self.q_net.state_dict(),
            "target_net": self.target_net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "steps": self.steps,
            "gradient_steps": self.gradient_steps,
        }, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, env: gym.Env | None = None, device: str | None = None,
             seed: int | np.random.Generator | None = None) -> DQNAgent:
        """An agent saved by :meth:`save`.

        ``env``, if given, must have the observation and action sizes of the saved agent.
        ``device`` overrides the saved setting; by default the saved device, or the CPU when
        the file asks for CUDA and there is none here. ``seed`` seeds the new agent's
        generator (exploration and replay when it trains further). A file that is not a
        readable agent file (corrupt, something else, another version, weights that do not fit
        the saved architecture) raises ``ValueError`` naming the file and the problem.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no DQNAgent file at {str(path)!r}")
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # a torn zip, a pickle of arbitrary objects, not torch at all, ...
            if "Weights only load failed" in str(error):
                reason = ("it holds Python objects that torch.load(..., weights_only=True) refuses to run "
                          "(was it written with torch.save(model) rather than agent.save(path)?)")
            else:
                reason = "it is damaged, or it is not a file written by torch.save"
            raise ValueError(f"{str(path)!r} is not a readable DQNAgent file: {reason} "
                             f"({type(error).__name__} in torch.load)") from None
        if not isinstance(data, dict) or data.get("format") != cls.FILE_FORMAT:
            raise ValueError(f"{str(path)!r} is not a DQNAgent file saved by mediarl_lessons "
                             f"(no format tag {cls.FILE_FORMAT!r}; save agents with agent.save(path))")
        if data.get("format_version") != cls.FILE_VERSION:
            raise ValueError(f"{str(path)!r} has DQNAgent file version {data.get('format_version')!r}; "
                             f"this version of mediarl_lessons reads version {cls.FILE_VERSION}")
        try:
            settings_dict = dict(data["settings"])
            if device is not None:
                settings_dict["device"] = device
            elif str(settings_dict.get("device", "cpu")).startswith("cuda") and not torch.cuda.is_available():
                settings_dict["device"] = "cpu"  # the weights are the same on any device
            settings = DQNSettings(**settings_dict)
            agent = cls(data["obs_dim"], data["n_actions"], settings, seed)
            for name in ("q_net", "target_net"):
                network = getattr(agent, name)
                _check_weights_fit(name, data[name], network)
                network.load_state_dict(data[name])
            agent.optimizer.load_state_dict(data["optimizer"])
            agent.steps = check_int("steps", data["steps"], low=0)
            agent.gradient_steps = check_int("gradient_steps", data["gradient_steps"], low=0)
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            what = f"missing entry {error}" if isinstance(error, KeyError) else str(error).strip().splitlines()[0]
            raise ValueError(f"{str(path)!r} is a DQNAgent file, but it does not fit together: {what[:300]}") from None
        if env is not None:
            obs_dim, n_actions = _vector_discrete_sizes(env)
            if (obs_dim, n_actions) != (agent.obs_dim, agent.n_actions):
                raise ValueError(f"{str(path)!r} holds an agent for {agent.obs_dim}-dimensional observations and "
                                 f"{agent.n_actions} actions, but the environment has {obs_dim} and {n_actions}")
        return agent

    def __repr__(self) -> str:
        return (f"DQNAgent(obs_dim={self.obs_dim}, n_actions={self.n_actions}, steps={self.steps}, "
                f"device={str(self.device)!r}, settings={self.settings})")


# ---- helpers ---------------------------------------------------------------------------------
def _check_weights_fit(name: str, weights: Any, network: nn.Module) -> None:
    """A readable ``ValueError`` when saved weights do not fit the network built from the saved settings."""
    if not isinstance(weights, dict):
        raise ValueError(f"{name} must be a state dict, got {type(weights).__name__}")
    expected = {key: tuple(value.shape) for key, value in network.state_dict().items()}
    found = {key: tuple(value.shape) if isinstance(value, torch.Tensor) else None for key, value in weights.items()}
    if found.keys() != expected.keys():
        raise ValueError(f"the {name} weights have entries {sorted(found)}, but a QNetwork with the saved "
                         f"settings has {sorted(expected)}")
    for key, shape in expected.items():
        if found[key] != shape:
            raise ValueError(f"size mismatch: the {name} weight {key!r} has shape {found[key]} in the file, but "
                             f"the saved settings (hidden_sizes={tuple(network.hidden_sizes)}) need {shape}")


def _vector_discrete_sizes(env: gym.Env) -> tuple[int, int]:
    """``(obs_dim, n_actions)`` of an environment with 1-D Box observations and Discrete actions."""
    obs_space, action_space = env.observation_space, env.action_space
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise TypeError(
            f"DQNAgent needs a 1-D Box observation space (a vector of numbers), got {obs_space}. "
            "Wrap the environment in a gymnasium.ObservationWrapper that turns each observation into "
            "a feature vector (or gymnasium.wrappers.FlattenObservation for a multi-dimensional Box).")
    if not isinstance(action_space, gym.spaces.Discrete) or int(action_space.start) != 0:
        raise TypeError(f"DQNAgent needs a Discrete action space starting at 0, got {action_space}")
    return int(obs_space.shape[0]), int(action_space.n)


# =============================================================================================
# 6. One call for the demos and the benchmarks
# =============================================================================================
class TrainedDQN(NamedTuple):
    """What :func:`train_and_evaluate` returns."""

    agent: DQNAgent
    log: DQNTrainingLog
    returns: np.ndarray
    """The greedy policy's return in each evaluation episode."""


def train_and_evaluate(env: gym.Env | str, steps: int = 20_000, *, seed: int | np.random.Generator = 0,
                       episodes: int = 100, eval_seed: int = 0, settings: DQNSettings | None = None,
                       progress: bool = False) -> TrainedDQN:
    """Train a fresh :class:`DQNAgent` (seeded with ``seed``: an ``int`` or a ``Generator``,
    such as ``mediarl_lessons.agent_rng(run)``) for ``steps`` steps, then evaluate it.

    ``env`` is an environment or a registered id (made with ``gymnasium.make``). The greedy
    policy plays ``episodes`` episodes from ``env.reset(seed=eval_seed + i)``, the episodes any
    other policy evaluated with ``evaluation.evaluate_policy(..., seed=eval_seed)`` meets.
    """
    if isinstance(env, str):
        env = gym.make(env)
    agent = DQNAgent.from_env(env, settings, seed=seed)
    log = agent.train(env, steps, progress=progress)
    return TrainedDQN(agent, log, agent.evaluate(env, episodes, eval_seed))
