"""train_together: N DQN agents trained at once are N ordinary DQN runs, up to the floats."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons import agent_rng
from mediarl_lessons.agents.dqn import Batch, DQNAgent, DQNSettings, QNetwork, dqn_loss
from mediarl_lessons.agents.dqn_together import StackedQNetworks, _clip_each_network, train_together

INTEREST_FEED = "mediarl/InterestFeed-v0"
QUICK = DQNSettings(learning_starts=100, buffer_size=2_000, epsilon_decay_steps=300, hidden_sizes=(32, 32))


def make_agents(settings: DQNSettings, runs=(0, 1, 2)) -> tuple[list[DQNAgent], list[gym.Env]]:
    envs = [gym.make(INTEREST_FEED) for _ in runs]
    return [DQNAgent.from_env(envs[0], settings, seed=agent_rng(run)) for run in runs], envs


def random_batch(rng: np.random.Generator, shape: tuple[int, ...], obs_dim: int, n_actions: int) -> Batch:
    return Batch(obs=torch.tensor(rng.random((*shape, obs_dim)), dtype=torch.float32),
                 actions=torch.tensor(rng.integers(n_actions, size=shape)),
                 rewards=torch.tensor(rng.normal(size=shape) * 3, dtype=torch.float32),
                 next_obs=torch.tensor(rng.random((*shape, obs_dim)), dtype=torch.float32),
                 terminated=torch.tensor(rng.random(shape) < 0.2, dtype=torch.float32))


def test_without_learning_the_runs_are_exactly_those_of_agent_train():
    # Before the first gradient step nothing depends on batched floats: every action, every
    # stored transition and every random draw must be the one agent.train makes.
    settings = dataclasses.replace(QUICK, learning_starts=10**6)
    together, envs = make_agents(settings)
    logs = train_together(together, envs, 400)
    alone, alone_envs = make_agents(settings)
    for i, (agent, env) in enumerate(zip(alone, alone_envs)):
        log = agent.train(env, 400, progress=False)
        mine = together[i]
        for field in ("obs", "actions", "rewards", "next_obs", "terminated"):
            assert np.array_equal(getattr(mine.buffer, field), getattr(agent.buffer, field)), (i, field)
        assert np.array_equal(logs[i].episode_returns, log.episode_returns)
        assert np.array_equal(logs[i].episode_end_steps, log.episode_end_steps)
        assert np.array_equal(logs[i].epsilons, log.epsilons)
        assert mine.rng.random() == agent.rng.random(), "the same random draws, in the same order"
        assert mine.steps == agent.steps == 400
    assert len({tuple(log.episode_returns[:5]) for log in logs}) == 3, "three runs, three different sessions"


@pytest.mark.parametrize("double", [False, True])
@pytest.mark.parametrize("huber", [False, True])
def test_each_stacked_network_gets_exactly_its_own_loss_and_gradient(double, huber):
    torch.manual_seed(0)
    nets, targets = [QNetwork(4, 3, (8, 8)) for _ in range(3)], [QNetwork(4, 3, (8, 8)) for _ in range(3)]
    stack, target_stack = StackedQNetworks(nets), StackedQNetworks(targets)
    batch = random_batch(np.random.default_rng(1), (3, 10), 4, 3)
    losses = dqn_loss(stack, target_stack, batch, 0.9, double, huber=huber)
    assert losses.shape == (3,)
    losses.sum().backward()
    for i, (net, target) in enumerate(zip(nets, targets)):
        own = dqn_loss(net, target, Batch(*(field[i] for field in batch)), 0.9, double, huber=huber)
        assert own.shape == () and torch.allclose(losses[i], own, rtol=1e-5), (i, losses[i], own)
        own.backward()
        linears = [layer for layer in net if isinstance(layer, nn.Linear)]
        for layer, weight, bias in zip(linears, stack.weights, stack.biases):
            assert torch.allclose(weight.grad[i], layer.weight.grad, rtol=1e-4, atol=1e-6)
            assert torch.allclose(bias.grad[i], layer.bias.grad, rtol=1e-4, atol=1e-6)


def test_gradient_clipping_is_per_network_like_clip_grad_norm():
    torch.manual_seed(0)
    nets = [QNetwork(4, 3, (8,)) for _ in range(3)]
    stack = StackedQNetworks(nets)
    batch = random_batch(np.random.default_rng(2), (3, 16), 4, 3)
    scales = torch.tensor([1.0, 100.0, 0.01])  # one network far above the threshold, one far below
    (dqn_loss(stack, stack, batch, 0.9, huber=False) * scales).sum().backward()
    for i, net in enumerate(nets):
        (dqn_loss(net, net, Batch(*(field[i] for field in batch)), 0.9, huber=False) * scales[i]).backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    _clip_each_network(stack, 1.0)
    for i, net in enumerate(nets):
        linears = [layer for layer in net if isinstance(layer, nn.Linear)]
        for layer, weight in zip(linears, stack.weights):
            assert torch.allclose(weight.grad[i], layer.weight.grad, rtol=1e-4, atol=1e-7)


def test_trained_agents_are_ordinary_agents_afterwards():
    agents, envs = make_agents(dataclasses.replace(QUICK, target_update=50))
    initial = [agent.q_net[0].weight.detach().clone() for agent in agents]
    logs = train_together(agents, envs, 600)
    for agent, log, before in zip(agents, logs, initial):
        assert agent.steps == 600 and agent.gradient_steps == log.gradient_steps == 251  # steps 100, 102, ..., 600
        assert np.all(np.isfinite(log.losses)) and log.losses.shape == (251,)
        assert not torch.equal(agent.q_net[0].weight, before), "the trained weights came back"
        assert all(torch.equal(t, q) for t, q in zip(agent.target_net.parameters(), agent.q_net.parameters())), \
            "a hard copy at step 600"
        state = agent.optimizer.state[agent.q_net[0].weight]
        assert float(state["step"]) == 251 and state["exp_avg"].shape == agent.q_net[0].weight.shape
    assert len({round(float(log.losses[-1]), 6) for log in logs}) == 3, "three networks, three losses"
    before = agents[0].q_net[0].weight.detach().clone()
    agents[0].train(envs[0], 20, progress=False)  # carries on alone, from the same step count
    assert agents[0].steps == 620 and not torch.equal(agents[0].q_net[0].weight, before)


def test_agents_that_trained_before_carry_their_adam_moments_over():
    agents, envs = make_agents(QUICK, runs=(0, 1))
    for agent, env in zip(agents, envs):
        agent.train(env, 200, progress=False)
    moments = [agent.optimizer.state[agent.q_net[0].weight]["exp_avg"].clone() for agent in agents]
    settings = dataclasses.replace(QUICK, learning_starts=10**6)  # same settings needed: check the error
    with pytest.raises(ValueError, match="other settings"):
        train_together([agents[0], DQNAgent.from_env(envs[0], settings, seed=3)], envs, 5)
    train_together(agents, envs, 2)  # one gradient step each (at step 202)
    for agent, before in zip(agents, moments):
        after = agent.optimizer.state[agent.q_net[0].weight]["exp_avg"]
        # Adam's first moment decays by beta1 = 0.9 and adds 0.1 x the new gradient: it remembers.
        assert torch.corrcoef(torch.stack([after.flatten(), before.flatten()]))[0, 1] > 0.5


class BreaksAt(gym.Wrapper):
    """The feed, until its step number `at` raises (a learner pressing stop, say)."""

    def __init__(self, env: gym.Env, at: int):
        super().__init__(env)
        self.at, self.count = at, 0

    def step(self, action):
        self.count += 1
        if self.count == self.at:
            raise KeyboardInterrupt
        return self.env.step(action)


def test_an_interrupted_run_leaves_agents_whose_weights_match_their_steps():
    agents, envs = make_agents(dataclasses.replace(QUICK, learning_starts=20), runs=(0, 1))
    initial = agents[1].q_net[0].weight.detach().clone()
    with pytest.raises(KeyboardInterrupt):
        train_together(agents, [envs[0], BreaksAt(envs[1], 150)], 400)
    assert agents[0].steps == 150 and agents[1].steps == 149  # agent 1's 150th step never happened
    assert agents[1].gradient_steps == 65  # steps 20, 22, ..., 148
    assert not torch.equal(agents[1].q_net[0].weight, initial), "the weights learned so far came back"


def test_bad_arguments_are_named():
    agents, envs = make_agents(QUICK, runs=(0, 1))
    with pytest.raises(ValueError, match="one environment per agent"):
        train_together(agents, envs[:1], 5)
    with pytest.raises(ValueError, match="only once"):
        train_together(agents, [envs[0], envs[0]], 5)
    with pytest.raises(ValueError, match="only once"):
        train_together([agents[0], agents[0]], envs, 5)
    with pytest.raises(ValueError, match="steps"):
        train_together(agents, envs, 0)
    with pytest.raises(TypeError, match="DQNAgent"):
        train_together(["agent"], envs[:1], 5)
    with pytest.raises(ValueError, match="4 actions"):
        train_together(agents, [envs[0], gym.make(INTEREST_FEED, n_candidates=4)], 5)
    agents[1].train(envs[1], 3, progress=False)
    with pytest.raises(ValueError, match="step counts"):
        train_together(agents, envs, 5)
