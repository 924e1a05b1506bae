"""The speed tricks of :mod:`mediarl_lessons.agents.dqn`, kept out of the algorithm's way.

``agents/dqn.py`` reads as the algorithm; the three helpers here make it run fast on a CPU
with the course's small networks, and nothing in a lesson needs them. Each computes what the
plain PyTorch call it stands for computes, up to float rounding, and which one runs is fixed,
so a seed still gives the same agent bit for bit:

- :class:`NumpyQNetworkMirror`: the same network evaluated with numpy, faster for one
  observation (the agent acts at every step);
- :func:`fused_adam`: ``torch.optim.Adam`` in its fused implementation, cheaper per step;
- :func:`limit_torch_threads`: run a block with one torch thread (or another number), then
  restore the setting.

``bench/dqn_train_speed.py`` measures what they buy, side by side.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import numpy as np
import torch
from torch import nn

__all__ = ["NumpyQNetworkMirror", "fused_adam", "limit_torch_threads"]


class NumpyQNetworkMirror:
    """The same network evaluated with numpy, faster for one observation.

    Why: for one observation through a small multilayer perceptron, PyTorch's per-operation
    overhead costs several times the arithmetic (for 2x128 units on a 2-core machine, about
    7 µs per observation in numpy against 50 µs through torch), and DQN acts at every
    environment step.

    ``q_net`` is a ``torch.nn.Sequential`` of ``Linear`` layers with a ``ReLU`` between each
    two (a :class:`~mediarl_lessons.agents.dqn.QNetwork`), on the CPU. The mirror holds numpy
    VIEWS of its weights and biases: they share memory with the torch parameters, which the
    optimizer, the target updates and ``load_state_dict`` change in place, so the mirror sees
    every gradient step without copying anything. (Make a new mirror if a parameter tensor is
    replaced rather than changed in place; the agent makes one per ``train``, ``evaluate``
    and ``act`` call.) Its Q-values equal ``q_net(obs)`` up to float rounding (numpy adds the
    products up in another order), so the greedy actions agree except where two actions' values
    are equal to the last few bits; ``tests/test_dqn.py`` checks both on many observations.
    """

    def __init__(self, q_net: nn.Module) -> None:
        layers = list(q_net.children())
        linears = layers[0::2]
        if (len(layers) % 2 != 1 or not all(isinstance(layer, nn.Linear) for layer in linears)
                or not all(isinstance(layer, nn.ReLU) for layer in layers[1::2])):
            raise TypeError("NumpyQNetworkMirror needs a Sequential of Linear layers with a ReLU between "
                            f"each two (a QNetwork), got {q_net!r}")
        try:
            self.layers = [(layer.weight.detach().numpy(), layer.bias.detach().numpy()) for layer in linears]
        except TypeError:  # torch cannot give numpy a view of a GPU tensor
            raise ValueError("NumpyQNetworkMirror needs a network on the CPU (it holds numpy views of "
                             "the weights)") from None

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """The network's Q-values of one observation ``(obs_dim,)``, float32 ``(n_actions,)``."""
        h = np.asarray(obs, dtype=np.float32)
        last = len(self.layers) - 1
        for i, (weight, bias) in enumerate(self.layers):
            h = weight @ h + bias
            if i < last:
                np.maximum(h, 0.0, out=h)  # ReLU
        return h


def fused_adam(parameters: Iterable[nn.Parameter], learning_rate: float) -> torch.optim.Optimizer:
    """``torch.optim.Adam(parameters, lr=learning_rate)``, in its fused implementation where this
    torch has one.

    Why: the fused Adam updates all the parameters in one kernel instead of several operations
    per tensor, several times cheaper per step for a network this small; it is the same update
    rule (an older torch without it on this device gets the default implementation).
    """
    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, lr=learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch: no fused Adam on this device
        return torch.optim.Adam(parameters, lr=learning_rate)


@contextlib.contextmanager
def limit_torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(threads)``, then restore the previous setting
    (``None``: leave torch's setting alone).

    Why: a batch of 64 through 2x128 units is far too little work to share between threads
    (on a busy 2-core machine two threads made a gradient step up to 10 times slower), and
    one thread also keeps results bit for bit the same on machines with different numbers
    of cores.
    """
    if threads is None or threads == torch.get_num_threads():
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
