"""Train the agents of several seeds at once: a speed trick for experiments, not a new algorithm.

One claim about DQN needs several independent runs (seeds): one run's result depends on every
float of its training, and the next seed, or the same seed on another CPU, gives another
network. On a CPU a small network's gradient step costs almost nothing in arithmetic and
almost everything in PyTorch's per-operation overhead, so N separate runs cost N times one.
:func:`train_together` runs N :class:`~mediarl_lessons.agents.dqn.DQNAgent` s side by side,
each with its own environment, and does their networks' arithmetic in one call per layer:
the N networks are stacked into one :class:`StackedQNetworks`, whose layer ``l`` multiplies
each network's input by its own weights (``torch.baddbmm``). ``bench/dqn_together.py``
measures what that saves.

Read :meth:`DQNAgent.train <mediarl_lessons.agents.dqn.DQNAgent.train>` first: this is the
same loop, step for step, for N agents.

- Each agent acts epsilon-greedily from its own generator, stores in its own replay buffer
  and samples its own mini-batches, drawing exactly the random numbers ``agent.train`` would.
- The loss is the course's :func:`~mediarl_lessons.agents.dqn.dqn_loss` applied to the stack:
  a batch of shape ``(N, B, ...)`` gives one mean loss per network, and the gradient of their
  sum is each network's own gradient (no network's weights appear in another's loss).
- Adam works element by element, so one Adam over the stacked weights is N independent
  Adams; gradient clipping is done per network (each network's own global norm).
- At the end the trained weights, Adam's state and the step counts go back into the agents,
  which are then ordinary ``DQNAgent`` s: ``evaluate``, ``save``, ``train`` more.

What is NOT the same as N calls of ``agent.train``: the floats. A batched matrix product adds
up in another order than N single ones, so after a few thousand steps the networks differ,
exactly as they differ between two CPUs. Results are the same in distribution, not bit for
bit; the tests check the gradients against ``dqn_loss`` on each network separately.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from mediarl_lessons._validation import check_int
from mediarl_lessons.agents.bandits import epsilon_greedy
from mediarl_lessons.agents.dqn import (
    Batch,
    DQNAgent,
    DQNTrainingLog,
    QNetwork,
    _vector_discrete_sizes,
    dqn_loss,
    soft_update,
)
from mediarl_lessons.agents.dqn_fast import fused_adam, limit_torch_threads

__all__ = ["StackedQNetworks", "train_together"]


class StackedQNetworks(nn.Module):
    """N :class:`~mediarl_lessons.agents.dqn.QNetwork` s of the same shape, evaluated in one call.

    ``weights[l][i]`` and ``biases[l][i]`` are layer ``l`` of network ``i`` (copies, made from
    ``networks``). Input ``(N, B, obs_dim)``, output ``(N, B, n_actions)``: row ``i`` is
    network ``i``'s Q-values of its own observations ``obs[i]``.
    """

    def __init__(self, networks: Sequence[QNetwork]) -> None:
        super().__init__()
        layers = [_linears(net) for net in networks]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([net_layers[l].weight.detach() for net_layers in layers]).clone())
            for l in range(len(layers[0])))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([net_layers[l].bias.detach() for net_layers in layers]).clone())
            for l in range(len(layers[0])))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h = obs
        last = len(self.weights) - 1
        for l, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            # For every network i at once: h[i] @ weight[i].T + bias[i], QNetwork's nn.Linear.
            h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
            if l < last:
                h = torch.relu(h)
        return h

    @torch.no_grad()
    def copy_into(self, networks: Sequence[QNetwork]) -> None:
        """Write network ``i``'s weights back into ``networks[i]``, in place."""
        for i, net in enumerate(networks):
            for own, stacked in zip(_in_stack_order(net), self.parameters()):
                own.copy_(stacked[i])


def _linears(net: nn.Module) -> list[nn.Linear]:
    return [layer for layer in net if isinstance(layer, nn.Linear)]


def _in_stack_order(net: nn.Module) -> list[nn.Parameter]:
    """A network's parameters in the order of ``StackedQNetworks.parameters()``: every weight, then
    every bias (the order the two ``ParameterList`` s are registered in)."""
    linears = _linears(net)
    return [layer.weight for layer in linears] + [layer.bias for layer in linears]


def train_together(agents: Sequence[DQNAgent], envs: Sequence[gym.Env], steps: int,
                   progress: bool = False) -> list[DQNTrainingLog]:
    """Train ``agents[i]`` on ``envs[i]`` for ``steps`` steps each, all at once; their logs.

    The agents must have the same settings, sizes and step counts (made the same way with
    different seeds, say ``DQNAgent.from_env(env, settings, seed=agent_rng(s))`` for each run
    ``s``), and each its own environment. Afterwards each agent is what ``agent.train(env,
    steps)`` would have made of it, up to the floats (module docstring).
    """
    agents, envs = list(agents), list(envs)
    steps = check_int("steps", steps, low=1)
    _check_together(agents, envs)
    n = len(agents)
    s = agents[0].settings
    soft_tau = s.target_update if isinstance(s.target_update, float) else None
    hard_every = s.target_update if isinstance(s.target_update, int) and s.uses_target_network else None
    device = agents[0].device

    q_stack = StackedQNetworks([agent.q_net for agent in agents]).to(device)
    if s.uses_target_network:
        target_stack = StackedQNetworks([agent.target_net for agent in agents]).to(device)
        target_stack.requires_grad_(False)  # it is never trained, only copied into
    else:
        target_stack = q_stack  # no target network: each network makes its own targets
    optimizer = fused_adam(q_stack.parameters(), s.learning_rate)
    _stack_optimizer_states(agents, q_stack, optimizer)  # agents that trained before carry on

    returns: list[list[float]] = [[] for _ in agents]
    lengths: list[list[int]] = [[] for _ in agents]
    end_steps: list[list[int]] = [[] for _ in agents]
    losses = np.full((n, steps * s.gradient_steps // s.train_frequency + s.gradient_steps), np.nan)
    epsilons = np.empty(steps)
    n_losses = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"DQN x {n}", unit="step", leave=False)

    started = time.perf_counter()
    try:
        with limit_torch_threads(s.torch_threads):
            # As in DQNAgent.train: each environment is reset with a seed from its agent's generator.
            observations = [env.reset(seed=int(agent.rng.integers(2**31)))[0] for agent, env in zip(agents, envs)]
            episode_return, episode_length = [0.0] * n, [0] * n
            for t in range(steps):
                # 1. Act: lesson 01's epsilon-greedy rule, each agent with its own generator on its
                #    own network's Q-values (all networks in one batched forward pass).
                epsilon = agents[0].epsilon
                epsilons[t] = epsilon
                q_values = _q_values(q_stack, observations, device)
                actions = [epsilon_greedy(q_values[i], epsilon, agent.rng) for i, agent in enumerate(agents)]

                # 2. Step each environment and store each transition in its agent's buffer.
                for i, (agent, env) in enumerate(zip(agents, envs)):
                    next_obs, reward, terminated, truncated, _ = env.step(actions[i])
                    agent.buffer.add(observations[i], actions[i], reward, next_obs, terminated)
                    agent.steps += 1
                    episode_return[i] += float(reward)
                    episode_length[i] += 1
                    if terminated or truncated:
                        returns[i].append(episode_return[i])
                        lengths[i].append(episode_length[i])
                        end_steps[i].append(agent.steps)
                        episode_return[i], episode_length[i] = 0.0, 0
                        observations[i], _ = env.reset()
                    else:
                        observations[i] = next_obs

                # 3. Learn: one mini-batch per agent, one gradient step for all the networks.
                agent_steps = agents[0].steps
                if agent_steps >= s.learning_starts and agent_steps % s.train_frequency == 0:
                    for _ in range(s.gradient_steps):
                        losses[:, n_losses] = _gradient_step(agents, q_stack, target_stack, optimizer, device)
                        n_losses += 1
                        if soft_tau is not None:  # 4a. soft target update after every gradient step
                            soft_update(target_stack, q_stack, soft_tau)

                # 4b. Hard target update: copy the online networks every `target_update` steps.
                if hard_every is not None and agent_steps % hard_every == 0:
                    soft_update(target_stack, q_stack, 1.0)

                if bar is not None and (t + 1) % 500 == 0:
                    bar.update(500)
        if bar is not None:
            bar.update(steps - bar.n)
    finally:  # even if interrupted: each agent's weights match its step count and buffer
        _copy_back(agents, q_stack, target_stack, optimizer)
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started

    return [DQNTrainingLog(
        episode_returns=np.array(returns[i], dtype=np.float64),
        episode_lengths=np.array(lengths[i], dtype=np.int64),
        episode_end_steps=np.array(end_steps[i], dtype=np.int64),
        losses=losses[i, :n_losses].copy(),
        epsilons=epsilons.copy(),
        steps=steps,
        gradient_steps=n_losses,
        seconds=seconds,
    ) for i in range(n)]


def _q_values(q_stack: StackedQNetworks, observations: list[np.ndarray], device: torch.device) -> np.ndarray:
    """Each network's Q-values of its own observation, ``(N, n_actions)``."""
    obs = torch.as_tensor(np.stack(observations), dtype=torch.float32, device=device).unsqueeze(1)  # (N, 1, obs_dim)
    with torch.no_grad():
        return q_stack(obs).squeeze(1).cpu().numpy()


def _gradient_step(agents: list[DQNAgent], q_stack: StackedQNetworks, target_stack: StackedQNetworks,
                   optimizer: torch.optim.Optimizer, device: torch.device) -> np.ndarray:
    """One step of Adam for every network, each on a mini-batch of its own agent's buffer;
    returns each network's loss."""
    s = agents[0].settings
    batches = [agent.buffer.sample(s.batch_size) for agent in agents]
    batch = Batch(*(torch.stack(field).to(device) for field in zip(*batches)))  # (N, B, ...) each
    losses = dqn_loss(q_stack, target_stack, batch, s.gamma, s.double, huber=s.huber)  # (N,): one per network
    optimizer.zero_grad()
    losses.sum().backward()  # network i's weights appear only in losses[i]: each gets its own gradient
    if s.max_grad_norm is not None:
        _clip_each_network(q_stack, s.max_grad_norm)
    optimizer.step()
    for agent in agents:
        agent.gradient_steps += 1
    return losses.detach().cpu().numpy()


@torch.no_grad()
def _clip_each_network(q_stack: StackedQNetworks, max_norm: float) -> None:
    """``clip_grad_norm_`` for each network separately: network i's global norm is taken over
    slice i of every parameter's gradient."""
    grads = [p.grad for p in q_stack.parameters()]
    norms = torch.stack([g.pow(2).flatten(1).sum(dim=1) for g in grads]).sum(dim=0).sqrt()  # (N,)
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)  # clip_grad_norm_'s rule
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))


@torch.no_grad()
def _stack_optimizer_states(agents: list[DQNAgent], q_stack: StackedQNetworks,
                            optimizer: torch.optim.Optimizer) -> None:
    """Start the stacked Adam from the agents' own Adam moments, when they have any."""
    own = [_in_stack_order(agent.q_net) for agent in agents]
    for j, stacked in enumerate(q_stack.parameters()):
        states = [agent.optimizer.state.get(params[j]) for agent, params in zip(agents, own)]
        if all(states):
            optimizer.state[stacked] = {key: states[0][key].clone() if key == "step"
                                        else torch.stack([state[key] for state in states])
                                        for key in states[0]}


@torch.no_grad()
def _copy_back(agents: list[DQNAgent], q_stack: StackedQNetworks, target_stack: StackedQNetworks,
               optimizer: torch.optim.Optimizer) -> None:
    """Put the trained weights and Adam's moments of network i back into agent i."""
    q_stack.copy_into([agent.q_net for agent in agents])
    if target_stack is not q_stack:
        target_stack.copy_into([agent.target_net for agent in agents])
    stacked = list(q_stack.parameters())
    for i, agent in enumerate(agents):
        for mine, theirs in zip(_in_stack_order(agent.q_net), stacked):
            state = optimizer.state.get(theirs)
            if state:  # Adam has taken a step: its moments are per element, so slice i is agent i's
                agent.optimizer.state[mine] = {key: value.clone() if key == "step" else value[i].clone()
                                               for key, value in state.items()}


def _check_together(agents: list[DQNAgent], envs: list[gym.Env]) -> None:
    if not agents or not all(isinstance(agent, DQNAgent) for agent in agents):
        raise TypeError("agents must be a non-empty sequence of DQNAgent")
    if len(envs) != len(agents):
        raise ValueError(f"one environment per agent: got {len(agents)} agents and {len(envs)} environments")
    if len({id(agent) for agent in agents}) != len(agents) or len({id(env) for env in envs}) != len(envs):
        raise ValueError("each agent and each environment may appear only once (a shared environment would "
                         "interleave the agents' episodes)")
    first = agents[0]
    for i, agent in enumerate(agents):
        if agent.settings != first.settings:
            raise ValueError(f"agents[{i}] has other settings than agents[0]: agents trained together share "
                             f"their settings (make them with the same DQNSettings and different seeds)")
        if (agent.obs_dim, agent.n_actions, agent.steps) != (first.obs_dim, first.n_actions, first.steps):
            raise ValueError(f"agents[{i}] has obs_dim={agent.obs_dim}, n_actions={agent.n_actions}, steps="
                             f"{agent.steps}, but agents[0] has {first.obs_dim}, {first.n_actions}, {first.steps}: "
                             "agents trained together must have the same sizes and step counts")
    for i, env in enumerate(envs):
        obs_dim, n_actions = _vector_discrete_sizes(env)
        if (obs_dim, n_actions) != (first.obs_dim, first.n_actions):
            raise ValueError(f"envs[{i}] has {obs_dim}-dimensional observations and {n_actions} actions, but "
                             f"the agents have obs_dim={first.obs_dim} and n_actions={first.n_actions}")
