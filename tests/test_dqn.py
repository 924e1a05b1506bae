"""DQN (lesson 05): the exercise references by hand, the replay buffer, the settings, the
training loop's bookkeeping, gradient clipping and the target network, the fast acting path
against the torch network, saving and loading, reproducibility (down to the last bit of a
trained agent, on one machine), and the InterestFeed claim."""

from __future__ import annotations

import dataclasses
import hashlib
import types

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from torch import nn

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons import agent_rng
from mediarl_lessons.agents import dqn
from mediarl_lessons.agents.dqn import (
    ABLATIONS,
    Batch,
    DQNAgent,
    DQNSettings,
    DQNTrainingLog,
    QNetwork,
    ReplayBuffer,
    double_dqn_targets,
    dqn_loss,
    soft_update,
    td_targets,
    train_and_evaluate,
)
from mediarl_lessons.agents.dqn_fast import NumpyQNetworkMirror
from mediarl_lessons.evaluation import evaluate_policy

INTEREST_FEED = "mediarl/InterestFeed-v0"

#: Small settings for the fast tests: learning begins after 100 steps, small buffer.
QUICK = DQNSettings(learning_starts=100, buffer_size=2_000, epsilon_decay_steps=300, hidden_sizes=(32, 32))


def tensor(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def linear_net(weight, bias) -> QNetwork:
    """A QNetwork without hidden layers (Q = W obs + b) with the given weights."""
    weight = tensor(weight)
    net = QNetwork(weight.shape[1], weight.shape[0], hidden_sizes=())
    with torch.no_grad():
        net[0].weight.copy_(weight)
        net[0].bias.copy_(tensor(bias))
    return net


def tiny_batch() -> Batch:
    return Batch(obs=tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
                 actions=torch.tensor([0, 1, 1]),
                 rewards=tensor([1.0, 0.0, 2.0]),
                 next_obs=tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
                 terminated=tensor([0.0, 0.0, 1.0]))


# ---- the targets (exercise references) -------------------------------------------------------
def test_td_targets_bootstrap_from_the_max_unless_terminated():
    rewards = tensor([1.0, 2.0, -1.0])
    next_q = tensor([[1.0, 3.0], [5.0, 4.0], [2.0, 0.0]])
    terminated = tensor([0.0, 1.0, 0.0])
    targets = td_targets(rewards, next_q, terminated, 0.5)
    # 1 + 0.5 * 3;  terminated: 2 alone;  -1 + 0.5 * 2
    assert targets.tolist() == [2.5, 2.0, 0.0]
    assert targets.shape == (3,) and targets.dtype == torch.float32


def test_td_targets_accept_a_boolean_terminated():
    targets = td_targets(tensor([1.0, 1.0]), tensor([[4.0, 2.0], [4.0, 2.0]]), torch.tensor([True, False]), 0.5)
    assert targets.tolist() == [1.0, 3.0]


def test_double_dqn_targets_choose_with_online_and_value_with_target():
    rewards = tensor([1.0, 1.0, 1.0])
    online = tensor([[3.0, 1.0], [0.0, 2.0], [0.0, 2.0]])  # chooses actions 0, 1, 1
    target = tensor([[10.0, 20.0], [30.0, 40.0], [30.0, 40.0]])  # values them 10, 40, (40)
    terminated = tensor([0.0, 0.0, 1.0])
    targets = double_dqn_targets(rewards, online, target, terminated, 0.5)
    assert targets.tolist() == [6.0, 21.0, 1.0], "the target network values the ONLINE network's choice"
    # Plain DQN would take the target network's own max (20) in the first row.
    assert td_targets(rewards, target, terminated, 0.5).tolist() == [11.0, 21.0, 1.0]


# ---- the loss ----------------------------------------------------------------------------------
def huber(x: np.ndarray) -> np.ndarray:
    return np.where(np.abs(x) < 1.0, 0.5 * x**2, np.abs(x) - 0.5)


@pytest.mark.parametrize("double", [False, True])
@pytest.mark.parametrize("use_huber", [True, False])
def test_dqn_loss_equals_a_hand_computation(double, use_huber):
    online = linear_net([[1.0, 2.0], [0.5, -1.0]], [0.0, 0.5])
    target = linear_net([[2.0, 0.0], [1.0, 1.0]], [0.0, 0.0])
    batch = tiny_batch()
    obs, next_obs = batch.obs.numpy(), batch.next_obs.numpy()
    W, b = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([0.0, 0.5])
    Wt = np.array([[2.0, 0.0], [1.0, 1.0]])
    q_taken = (obs @ W.T + b)[np.arange(3), [0, 1, 1]]  # 1, -0.5, 0
    next_target = next_obs @ Wt.T  # [[0, 1], [2, 1], [2, 2]]
    if double:
        chosen = (next_obs @ W.T + b).argmax(axis=1)  # online picks 0, 0, 0
        next_value = next_target[np.arange(3), chosen]
    else:
        next_value = next_target.max(axis=1)
    targets = np.array([1.0, 0.0, 2.0]) + 0.9 * np.array([1.0, 1.0, 0.0]) * next_value
    errors = q_taken - targets
    expected = (huber(errors) if use_huber else errors**2).mean()
    loss = dqn_loss(online, target, batch, 0.9, double=double, huber=use_huber)
    assert loss.shape == () and loss.item() == pytest.approx(expected, rel=1e-6)


def test_dqn_loss_is_huber_with_beta_1_for_large_errors():
    # One transition with error 10: Huber gives 9.5 (linear), the square would give 50.
    net = linear_net([[0.0, 0.0]], [0.0])
    batch = Batch(tensor([[1.0, 1.0]]), torch.tensor([0]), tensor([10.0]), tensor([[1.0, 1.0]]), tensor([1.0]))
    assert dqn_loss(net, net, batch, 0.9).item() == pytest.approx(9.5)


def test_no_gradient_reaches_the_target_network():
    online, target = QNetwork(2, 2, (8,)), QNetwork(2, 2, (8,))
    dqn_loss(online, target, tiny_batch(), 0.9, double=True).backward()
    assert all(p.grad is None for p in target.parameters()), "the targets must be computed under no_grad"
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in online.parameters())


@pytest.mark.parametrize("double", [False, True])
def test_no_gradient_flows_through_the_targets(double):
    # With ONE network for both roles, a gradient through the targets would change q_net's
    # gradient; the reference treats the targets as constants.
    torch.manual_seed(0)
    net = QNetwork(2, 2, (8,))
    batch = tiny_batch()
    dqn_loss(net, net, batch, 0.9, double=double).backward()
    got = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    q_taken = net(batch.obs).gather(1, batch.actions[:, None]).squeeze(1)
    targets = (batch.rewards + 0.9 * (1 - batch.terminated) * net(batch.next_obs).max(1).values).detach()
    nn.functional.smooth_l1_loss(q_taken, targets).backward()
    for mine, reference in zip(got, (p.grad for p in net.parameters())):
        assert torch.allclose(mine, reference, atol=1e-7)


# ---- soft_update --------------------------------------------------------------------------------
def test_soft_update_mixes_in_place_and_tau_1_copies():
    online = linear_net([[1.0, 2.0]], [4.0])
    target = linear_net([[3.0, -2.0]], [0.0])
    weight_before = target[0].weight
    soft_update(target, online, 0.3)
    assert target[0].weight is weight_before, "in place: the same parameter tensors"
    assert torch.allclose(target[0].weight, tensor([[0.3 * 1 + 0.7 * 3, 0.3 * 2 + 0.7 * -2]]))
    assert torch.allclose(target[0].bias, tensor([1.2]))
    assert online[0].weight.tolist() == [[1.0, 2.0]], "the online network is not changed"
    soft_update(target, online, 1.0)
    assert all(torch.equal(t, o) for t, o in zip(target.parameters(), online.parameters()))


def test_soft_update_validates_tau_and_architectures():
    a, b = QNetwork(2, 2, (4,)), QNetwork(2, 2, (5,))
    for bad_tau in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="tau"):
            soft_update(a, a, bad_tau)
    with pytest.raises(ValueError, match="same architecture"):
        soft_update(a, b, 0.5)


# ---- ReplayBuffer -------------------------------------------------------------------------------
def filled_buffer(capacity: int, n: int, obs_dim: int = 3, seed: int = 0) -> ReplayBuffer:
    buffer = ReplayBuffer(capacity, obs_dim, seed=seed)
    for i in range(n):
        buffer.add(np.full(obs_dim, i, np.float32), i % 2, float(i), np.full(obs_dim, i + 0.5), i % 3 == 0)
    return buffer


def test_replay_buffer_overwrites_the_oldest_transition():
    buffer = filled_buffer(capacity=3, n=5)
    assert len(buffer) == 3
    # Transitions 0..4 went to slots 0, 1, 2, 0, 1: 0 and 1 (the oldest) were overwritten.
    assert buffer.rewards.tolist() == [3.0, 4.0, 2.0]
    assert buffer.obs[:, 0].tolist() == [3.0, 4.0, 2.0]
    assert buffer.next_obs[:, 0].tolist() == [3.5, 4.5, 2.5]
    assert buffer.actions.tolist() == [1, 0, 0] and buffer.terminated.tolist() == [1.0, 0.0, 0.0]
    buffer.add(np.zeros(3), 0, 99.0, np.zeros(3), False)
    assert buffer.rewards.tolist() == [3.0, 4.0, 99.0] and len(buffer) == 3


def test_replay_buffer_stores_copies():
    buffer = ReplayBuffer(4, 2, seed=0)
    obs, next_obs = np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32)
    buffer.add(obs, 1, 1.0, next_obs, False)
    obs[:] = -1.0
    next_obs[:] = -1.0
    batch = buffer.sample(5)
    assert batch.obs.tolist() == [[1.0, 2.0]] * 5 and batch.next_obs.tolist() == [[3.0, 4.0]] * 5
    batch.obs[:] = 7.0  # changing a sampled batch must not change the buffer either
    assert buffer.obs[0].tolist() == [1.0, 2.0]


def test_replay_buffer_samples_uniformly_from_filled_slots_only():
    buffer = filled_buffer(capacity=10, n=4)
    rewards = np.concatenate([buffer.sample(1_000).rewards.numpy() for _ in range(40)])
    assert set(np.unique(rewards)) == {0.0, 1.0, 2.0, 3.0}, "only the 4 filled slots may be sampled"
    frequencies = np.bincount(rewards.astype(int), minlength=4) / rewards.size
    # 40,000 draws: each frequency has standard deviation 0.0022; 0.01 is 4.6 of them.
    assert np.allclose(frequencies, 0.25, atol=0.01), f"not uniform: {frequencies}"


def test_replay_buffer_batch_types_and_shapes():
    batch = filled_buffer(capacity=8, n=8, obs_dim=5).sample(6)
    assert isinstance(batch, Batch) and batch._fields == ("obs", "actions", "rewards", "next_obs", "terminated")
    expected = {"obs": (torch.float32, (6, 5)), "actions": (torch.int64, (6,)), "rewards": (torch.float32, (6,)),
                "next_obs": (torch.float32, (6, 5)), "terminated": (torch.float32, (6,))}
    for name, (dtype, shape) in expected.items():
        value = getattr(batch, name)
        assert isinstance(value, torch.Tensor) and value.dtype == dtype and tuple(value.shape) == shape, name
    assert set(batch.terminated.tolist()) <= {0.0, 1.0}
    obs, actions, rewards, next_obs, terminated = batch  # tuple unpacking works
    assert torch.equal(next_obs[:, 0], obs[:, 0] + 0.5)


def test_replay_buffer_is_seeded():
    a, b, c = filled_buffer(8, 8, seed=3), filled_buffer(8, 8, seed=3), filled_buffer(8, 8, seed=4)
    assert torch.equal(a.sample(32).rewards, b.sample(32).rewards)
    assert not torch.equal(filled_buffer(8, 8, seed=3).sample(32).rewards, c.sample(32).rewards)


def test_replay_buffer_errors():
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(4, 2).sample(1)
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, 2)
    with pytest.raises(ValueError, match="obs_dim"):
        ReplayBuffer(4, 0)
    buffer = ReplayBuffer(4, 2)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        buffer.add(np.zeros(3), 0, 0.0, np.zeros(3), False)
    with pytest.raises(TypeError, match="action"):
        buffer.add(np.zeros(2), 0.5, 0.0, np.zeros(2), False)
    buffer.add(np.zeros(2), 0, 0.0, np.zeros(2), False)
    with pytest.raises(ValueError, match="batch_size"):
        buffer.sample(0)


# ---- settings -----------------------------------------------------------------------------------
@pytest.mark.parametrize("field, value", [
    ("gamma", 1.5), ("learning_rate", 0.0), ("batch_size", 0), ("buffer_size", 0), ("learning_starts", 0),
    ("train_frequency", 0), ("gradient_steps", 0), ("epsilon_start", -0.1), ("epsilon_end", 1.5),
    ("epsilon_decay_steps", -1), ("max_grad_norm", 0.0), ("hidden_sizes", (128, 0)), ("torch_threads", 0),
    ("target_update", 0), ("target_update", 1.5), ("target_update", 0.0), ("device", "tpu"),
])
def test_settings_reject_values_out_of_range_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        DQNSettings(**{field: value})


@pytest.mark.parametrize("field, value", [("double", "yes"), ("huber", 1), ("batch_size", 64.0),
                                          ("target_update", "500"), ("hidden_sizes", 128)])
def test_settings_reject_wrong_types_naming_the_field(field, value):
    with pytest.raises(TypeError, match=field):
        DQNSettings(**{field: value})


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_asking_for_cuda_without_it_is_a_clear_error_and_auto_falls_back_to_cpu():
    with pytest.raises(ValueError, match="CUDA is not available"):
        DQNSettings(device="cuda")
    assert DQNAgent(3, 2, DQNSettings(device="auto")).device.type == "cpu"


def test_ablation_settings_switch_replay_and_target_network_off():
    online = DQNSettings(**ABLATIONS["online (no replay, no target)"])
    assert (online.buffer_size, online.batch_size, online.uses_target_network) == (1, 1, False)
    agent = DQNAgent(3, 2, DQNSettings(**ABLATIONS["+ replay (no target)"]))
    assert agent.target_net is agent.q_net, "target_update=1: the online network makes its own targets"
    agent = DQNAgent(3, 2, DQNSettings(**ABLATIONS["+ target network (DQN)"]))
    assert agent.target_net is not agent.q_net, "a target network of its own"
    assert [DQNSettings(**changes).double for changes in ABLATIONS.values()] == [False, False, False, True]


def test_from_env_needs_vector_observations_and_discrete_actions():
    agent = DQNAgent.from_env(gym.make(INTEREST_FEED), QUICK, seed=0)
    assert (agent.obs_dim, agent.n_actions) == (16, 5)
    with pytest.raises(TypeError, match="Box observation space"):
        DQNAgent.from_env(gym.make("mediarl/AdPacing-v0"))
    with pytest.raises(TypeError, match="Discrete action space"):
        DQNAgent.from_env(gym.make("Pendulum-v1"))


def test_act_is_greedy_by_default_and_validates():
    agent = DQNAgent(3, 4, QUICK, seed=0)
    observations = np.random.default_rng(0).random((200, 3), dtype=np.float32)
    greedy = [agent.act(obs) for obs in observations]
    assert greedy == agent.q_values(observations).argmax(axis=1).tolist(), "act() must be the argmax of Q"
    picks = np.bincount([agent.act(observations[0], epsilon=0.2) for _ in range(4000)], minlength=4)
    best = int(agent.q_values(observations[0]).argmax())
    assert abs(picks[best] / 4000 - (0.8 + 0.2 / 4)) < 0.03, f"epsilon=0.2 explores over ALL actions: {picks}"
    counts = np.bincount([agent.act(observations[0], epsilon=1.0) for _ in range(4000)], minlength=4)
    assert np.all(np.abs(counts / 4000 - 0.25) < 0.04), f"epsilon=1 must be uniform over all actions: {counts}"
    with pytest.raises(ValueError, match="epsilon"):
        agent.act(observations[0], epsilon=1.5)
    with pytest.raises(ValueError, match="shape"):
        agent.act(np.zeros(5))



def real_observations(n: int, seed: int = 0) -> np.ndarray:
    """``n`` observations of InterestFeed-v0 met by a random policy, float32 ``(n, 16)``."""
    env = gym.make(INTEREST_FEED)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    rows = []
    while len(rows) < n:
        rows.append(obs)
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(5)))
        if terminated or truncated:
            obs, _ = env.reset()
    return np.array(rows, dtype=np.float32)


def assert_same_greedy_actions(fast: list[int], q_values: np.ndarray) -> None:
    """The fast path's actions are the torch network's argmax, except (float rounding) where the
    two best Q-values are equal to within 1e-5."""
    top_two = np.sort(q_values, axis=1)[:, -2:]
    margins = top_two[:, 1] - top_two[:, 0]
    differ = np.flatnonzero(np.array(fast) != q_values.argmax(axis=1))
    assert np.all(margins[differ] < 1e-5), f"the fast path disagrees with the torch network at {differ[:10]}"


@pytest.mark.parametrize("hidden_sizes", [(128, 128), (32,), ()])
def test_the_numpy_mirror_computes_the_q_networks_values(hidden_sizes):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        net = QNetwork(16, 5, hidden_sizes)
    observations = np.concatenate([real_observations(1_500),
                                   np.random.default_rng(1).normal(0.0, 3.0, (1_500, 16)).astype(np.float32)])
    mirror = NumpyQNetworkMirror(net)
    with torch.no_grad():
        expected = net(torch.from_numpy(observations)).numpy()
    got = np.array([mirror.q_values(obs) for obs in observations])
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert_same_greedy_actions(got.argmax(axis=1).tolist(), expected)


def test_the_agents_fast_q_values_agree_with_its_q_network(trained_agent):
    fresh = DQNAgent(16, 5, DQNSettings(), seed=0)
    observations = real_observations(3_000, seed=2)
    for agent in (fresh, trained_agent):
        fast = agent._q_values_fast()
        assert isinstance(fast.__self__, NumpyQNetworkMirror), "on the CPU the agent acts through the mirror"
        with torch.no_grad():
            q_values = agent.q_net(torch.from_numpy(observations)).numpy()
        fast_q_values = np.array([fast(obs) for obs in observations])
        np.testing.assert_allclose(fast_q_values, q_values, rtol=1e-5, atol=1e-5)
        actions = fast_q_values.argmax(axis=1).tolist()
        assert_same_greedy_actions(actions, q_values)
        assert_same_greedy_actions([agent.greedy_action(obs) for obs in observations], q_values)
        assert [agent.act(obs) for obs in observations[:500]] == actions[:500], "act() is the fast path"


def test_the_numpy_mirror_follows_every_gradient_step_and_refuses_other_networks():
    env = gym.make(INTEREST_FEED)
    agent = DQNAgent.from_env(env, dataclasses.replace(QUICK, learning_starts=10), seed=0)
    mirror = NumpyQNetworkMirror(agent.q_net)  # made BEFORE training: it holds views, not copies
    observations = real_observations(200)
    before = np.array([mirror.q_values(obs) for obs in observations])
    agent.train(env, 100, progress=False)
    after = np.array([mirror.q_values(obs) for obs in observations])
    assert not np.array_equal(before, after)
    np.testing.assert_allclose(after, agent.q_values(observations), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="Linear layers with a ReLU"):
        NumpyQNetworkMirror(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2)))


# ---- the training loop ----------------------------------------------------------------------------
class Countdown(gym.Env):
    """A tiny environment: observation [t], reward `reward` (1) a step; terminates at step `end`."""

    def __init__(self, end: int = 10**9, reward: float = 1.0):
        self.observation_space = spaces.Box(0.0, 1e9, (1,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.end = end
        self.reward = reward

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([self.t], np.float32), self.reward, self.t >= self.end, False, {}


def test_training_stores_terminated_only_and_truncation_bootstraps():
    settings = dataclasses.replace(QUICK, learning_starts=10**6, buffer_size=100)
    truncated_env = TimeLimit(Countdown(), max_episode_steps=3)
    agent = DQNAgent.from_env(truncated_env, settings, seed=0)
    log = agent.train(truncated_env, 9, progress=False)
    assert log.episode_lengths.tolist() == [3, 3, 3] and log.episode_returns.tolist() == [3.0, 3.0, 3.0]
    assert agent.buffer.terminated[:9].tolist() == [0.0] * 9, "a time limit is not an ending"
    # The last transition of a truncated episode keeps the real final observation as next_obs.
    assert agent.buffer.next_obs[:9, 0].tolist() == [1, 2, 3] * 3
    assert agent.buffer.obs[:9, 0].tolist() == [0, 1, 2] * 3

    terminating_env = Countdown(end=2)
    agent = DQNAgent.from_env(terminating_env, settings, seed=0)
    agent.train(terminating_env, 6, progress=False)
    assert agent.buffer.terminated[:6].tolist() == [0.0, 1.0] * 3


def test_training_log_schedule_and_counts():
    settings = dataclasses.replace(QUICK, learning_starts=50, train_frequency=2, gradient_steps=3,
                                   epsilon_decay_steps=100, epsilon_start=1.0, epsilon_end=0.1)
    env = gym.make(INTEREST_FEED)
    agent = DQNAgent.from_env(env, settings, seed=0)
    log = agent.train(env, 300, progress=False)
    assert isinstance(log, DQNTrainingLog) and log.steps == 300 and agent.steps == 300
    # Training rounds at steps 50, 52, ..., 300: 126 rounds of 3 gradient steps.
    assert log.gradient_steps == agent.gradient_steps == 378 and log.losses.shape == (378,)
    assert np.all(np.isfinite(log.losses)) and np.all(log.losses >= 0)
    assert log.epsilons.shape == (300,) and log.epsilons[0] == 1.0
    assert log.epsilons[50] == pytest.approx(1.0 - 0.9 * 50 / 100) and np.all(log.epsilons[100:] == 0.1)
    assert log.episode_lengths.sum() == log.episode_end_steps[-1] <= 300
    assert log.steps_per_second > 0
    curve = log.learning_curve([0, 300], window=5)
    assert np.isnan(curve[0]) and curve[1] == pytest.approx(log.episode_returns[-5:].mean())
    # A second call carries on: the schedule continues from step 300.
    assert agent.train(env, 10, progress=False).epsilons[0] == 0.1


def test_hard_target_update_copies_every_n_steps():
    settings = dataclasses.replace(QUICK, learning_starts=1, train_frequency=1, target_update=7, batch_size=4)
    env = gym.make(INTEREST_FEED)
    agent = DQNAgent.from_env(env, settings, seed=0)
    agent.train(env, 14, progress=False)  # a gradient step at every step, then a copy at step 14
    assert all(torch.equal(t, o) for t, o in zip(agent.target_net.parameters(), agent.q_net.parameters()))
    agent.train(env, 1, progress=False)  # one more gradient step, no copy
    assert not all(torch.equal(t, o) for t, o in zip(agent.target_net.parameters(), agent.q_net.parameters()))


def test_soft_target_update_follows_slowly():
    settings = dataclasses.replace(QUICK, learning_starts=1, target_update=0.01)
    env = gym.make(INTEREST_FEED)
    agent = DQNAgent.from_env(env, settings, seed=0)
    start = [p.clone() for p in agent.target_net.parameters()]
    agent.train(env, 40, progress=False)
    moved = sum((t - s).abs().sum().item() for t, s in zip(agent.target_net.parameters(), start))
    gap = sum((t - o).abs().sum().item() for t, o in zip(agent.target_net.parameters(), agent.q_net.parameters()))
    assert moved > 0 and gap > 0



def same_weights(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


@pytest.mark.parametrize("target_update", [100, 0.05])
def test_the_target_network_is_a_separate_copy_that_lags(target_update):
    settings = dataclasses.replace(QUICK, learning_starts=10, target_update=target_update)
    env = gym.make(INTEREST_FEED)
    agent = DQNAgent.from_env(env, settings, seed=0)
    # At the start: an exact copy, in tensors of its own, that the optimizer does not train.
    assert agent.target_net is not agent.q_net and same_weights(agent.target_net, agent.q_net)
    online_memory = {p.data_ptr() for p in agent.q_net.parameters()}
    assert not online_memory & {p.data_ptr() for p in agent.target_net.parameters()}, "a copy, not a view"
    optimized = {id(p) for group in agent.optimizer.param_groups for p in group["params"]}
    assert optimized == {id(p) for p in agent.q_net.parameters()}
    assert not any(p.requires_grad for p in agent.target_net.parameters())
    start = [p.clone() for p in agent.target_net.parameters()]
    agent.train(env, 60, progress=False)  # 26 gradient steps (steps 10, 12, ..., 60); no hard copy before 100
    assert agent.gradient_steps == 26
    assert not same_weights(agent.target_net, agent.q_net), "the target network lags behind the online one"
    unchanged = all(torch.equal(p, s) for p, s in zip(agent.target_net.parameters(), start))
    assert unchanged == (target_update == 100), "hard: untouched until the copy; soft: it moved a little"


def global_norm(tensors: list[torch.Tensor]) -> float:
    return float(torch.sqrt(sum((t.double() ** 2).sum() for t in tensors)))


def test_gradient_clipping_bounds_the_gradient_adam_applies():
    # One gradient step on a batch whose rewards are huge: the squared TD error's gradient is enormous.
    def one_gradient_step(max_grad_norm: float | None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        settings = dataclasses.replace(QUICK, learning_starts=8, train_frequency=8, batch_size=8, huber=False,
                                       max_grad_norm=max_grad_norm)
        env = Countdown(reward=1e6)
        agent = DQNAgent.from_env(env, settings, seed=0)
        start = [p.detach().clone() for p in agent.q_net.parameters()]
        agent.train(env, 8, progress=False)
        assert agent.gradient_steps == 1
        update = [p.detach() - s for p, s in zip(agent.q_net.parameters(), start)]
        return update, [p.grad.clone() for p in agent.q_net.parameters()]  # the gradient Adam stepped with

    clipped_update, clipped = one_gradient_step(10.0)
    raw_update, raw = one_gradient_step(None)
    raw_norm = global_norm(raw)
    assert raw_norm > 1e4, "the test batch must produce a gradient far above max_grad_norm"
    assert global_norm(clipped) <= 10.0 * (1 + 1e-5), "with max_grad_norm=10 the applied gradient has norm <= 10"
    assert global_norm(clipped) == pytest.approx(10.0, rel=1e-4)
    for c, r in zip(clipped, raw):  # clipping scales the whole gradient: its direction is kept
        assert torch.allclose(c, r * (10.0 / raw_norm), rtol=1e-4, atol=1e-12)
    assert any(not torch.equal(c, r) for c, r in zip(clipped_update, raw_update)), \
        "the parameter updates with and without clipping must differ"


def test_same_seed_same_results_bit_for_bit():
    env = gym.make(INTEREST_FEED)
    runs = []
    for seed in (7, 7, 8):
        agent = DQNAgent.from_env(env, QUICK, seed=seed)
        log = agent.train(env, 600, progress=False)
        runs.append((agent, log))
    (a, log_a), (b, log_b), (c, _) = runs
    assert all(torch.equal(x, y) for x, y in zip(a.q_net.state_dict().values(), b.q_net.state_dict().values()))
    assert np.array_equal(log_a.losses, log_b.losses) and np.array_equal(log_a.episode_returns, log_b.episode_returns)
    assert not torch.equal(a.q_net[0].weight, c.q_net[0].weight), "a different seed must give a different run"



class RecordActions(gym.Wrapper):
    """Keeps every action the agent takes."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.actions: list[int] = []

    def step(self, action):
        self.actions.append(int(action))
        return self.env.step(action)


def sha256(*arrays) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array.detach().numpy() if isinstance(array, torch.Tensor) else np.asarray(array))
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def training_fingerprint(seed: int, module: types.ModuleType = dqn) -> str:
    """sha256 of everything 500 training steps of ``module.DQNAgent`` make (default settings, but
    learning from step 200 on): the actions taken, the losses, both networks' weights, Adam's
    moments and the greedy actions on 300 observations."""
    env = RecordActions(gym.make(INTEREST_FEED))
    agent = module.DQNAgent.from_env(env, module.DQNSettings(learning_starts=200), seed=seed)
    log = agent.train(env, 500, progress=False)
    adam = [value for state in agent.optimizer.state_dict()["state"].values() for _, value in sorted(state.items())]
    greedy = [agent.act(obs) for obs in real_observations(300, seed=9)]
    return sha256(env.actions, log.losses, *agent.q_net.state_dict().values(),
                  *agent.target_net.state_dict().values(), *adam, greedy)


def test_training_is_reproducible_to_the_last_bit():
    # The same seed twice gives the same actions, losses, weights and optimizer state on any one
    # machine (another CPU computes other floats, so no recorded hash is compared across machines);
    # another seed gives another agent.
    assert training_fingerprint(0) == training_fingerprint(0)
    assert training_fingerprint(0) != training_fingerprint(1)


def test_training_restores_torch_threads_and_global_rng():
    threads = torch.get_num_threads()
    rng_state = torch.random.get_rng_state()
    env = gym.make(INTEREST_FEED)
    DQNAgent.from_env(env, dataclasses.replace(QUICK, torch_threads=1), seed=0).train(env, 120, progress=False)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), rng_state), "the global torch generator must be left alone"


def test_evaluate_uses_common_episode_seeds():
    env = gym.make(INTEREST_FEED)
    agent = DQNAgent.from_env(env, QUICK, seed=0)
    returns = agent.evaluate(env, 5, seed=123)
    again = evaluate_policy(env, lambda obs, info: agent.act(obs), episodes=5, seed=123)
    assert returns.shape == (5,) and np.array_equal(returns, again)


# ---- save / load ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained_agent() -> DQNAgent:
    env = gym.make(INTEREST_FEED)
    agent = DQNAgent.from_env(env, dataclasses.replace(QUICK, target_update=0.05), seed=1)
    agent.train(env, 400, progress=False)
    return agent


def test_save_load_round_trip_gives_identical_actions(trained_agent, tmp_path):
    path = trained_agent.save(tmp_path / "agent.pt")
    loaded = DQNAgent.load(path, env=gym.make(INTEREST_FEED))
    assert loaded.settings == trained_agent.settings and loaded.steps == trained_agent.steps
    for net in ("q_net", "target_net"):
        for x, y in zip(getattr(loaded, net).state_dict().values(), getattr(trained_agent, net).state_dict().values()):
            assert torch.equal(x, y), net
    observations = np.random.default_rng(0).random((100, 16), dtype=np.float32)
    assert [loaded.act(o) for o in observations] == [trained_agent.act(o) for o in observations]
    assert np.array_equal(loaded.q_values(observations), trained_agent.q_values(observations))


def test_load_rejects_corrupt_and_foreign_files_clearly(trained_agent, tmp_path):
    good = trained_agent.save(tmp_path / "good.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a torch file at all" * 10)
    torn = tmp_path / "torn.pt"
    torn.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    pickled_module = tmp_path / "module.pt"
    torch.save(nn.Linear(2, 2), pickled_module)
    other_dict = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other_dict)
    for path, message in [(garbage, "not a readable DQNAgent file"), (torn, "not a readable DQNAgent file"),
                          (pickled_module, "not a readable DQNAgent file"),
                          (other_dict, "not a DQNAgent file saved by mediarl_lessons")]:
        with pytest.raises(ValueError, match=message) as error:
            DQNAgent.load(path)
        assert path.name in str(error.value), "the message names the file"
    with pytest.raises(FileNotFoundError):
        DQNAgent.load(tmp_path / "missing.pt")


def test_load_rejects_mismatched_architecture_and_version(trained_agent, tmp_path):
    data = torch.load(trained_agent.save(tmp_path / "agent.pt"), weights_only=True)
    wrong_width = dict(data, settings=dict(data["settings"], hidden_sizes=[64, 64]))
    torch.save(wrong_width, tmp_path / "wrong_width.pt")
    with pytest.raises(ValueError, match="does not fit together") as error:
        DQNAgent.load(tmp_path / "wrong_width.pt")
    assert "wrong_width.pt" in str(error.value) and "size mismatch" in str(error.value)
    torch.save(dict(data, format_version=99), tmp_path / "future.pt")
    with pytest.raises(ValueError, match="version 99"):
        DQNAgent.load(tmp_path / "future.pt")
    with pytest.raises(ValueError, match="16-dimensional observations and 5 actions"):
        DQNAgent.load(tmp_path / "agent.pt", env=gym.make(INTEREST_FEED, n_candidates=4))


# ---- the claim (lesson 05, docs/claims.md; issue 5): DQN beats the myopic oracle by >= 10% ---------
#: Training seeds of the claim test (the agents draw from agent_rng(seed)); lesson 05 uses 0-4.
CLAIM_TRAINING_SEEDS = (101, 102)
#: Environment steps of training with the default settings (the claim allows 60 s on 2 cores;
#: bench/dqn_time_to_oracle.py measures the time). bench/claims.py measures the ratio this test
#: asserts over many training seeds: its worst seed and how often two seeds pass (docs/claims.md).
CLAIM_STEPS = 8_000
#: The 5 evaluation seeds: evaluation i plays 100 sessions from env.reset(seed=s + j), j < 100.
CLAIM_EVAL_SEEDS = (1_000, 2_000, 3_000, 4_000, 5_000)


@pytest.fixture(scope="module")
def myopic_oracle_returns() -> dict[int, float]:
    env = gym.make(INTEREST_FEED)
    oracle = lambda obs, info: env.unwrapped.myopic_action()  # noqa: E731
    return {s: evaluate_policy(env, oracle, episodes=100, seed=s).mean() for s in CLAIM_EVAL_SEEDS}


@pytest.mark.parametrize("training_seed", CLAIM_TRAINING_SEEDS)
def test_dqn_beats_the_myopic_oracle_by_ten_percent(training_seed, myopic_oracle_returns):
    env = gym.make(INTEREST_FEED)
    agent = DQNAgent.from_env(env, DQNSettings(), seed=agent_rng(training_seed))
    agent.train(env, CLAIM_STEPS, progress=False)
    dqn = {s: agent.evaluate(env, 100, seed=s).mean() for s in CLAIM_EVAL_SEEDS}
    ratios = [dqn[s] / myopic_oracle_returns[s] for s in CLAIM_EVAL_SEEDS]
    ratio = np.mean(list(dqn.values())) / np.mean(list(myopic_oracle_returns.values()))
    assert ratio >= 1.10, (f"DQN (seed {training_seed}, {CLAIM_STEPS} steps) earns {ratio:.3f}x the myopic "
                           f"oracle's clicks, not >= 1.10x; per evaluation seed: {np.round(ratios, 3)}")


def test_train_and_evaluate_for_the_demos():
    result = train_and_evaluate(INTEREST_FEED, steps=150, seed=0, episodes=3, eval_seed=5, settings=QUICK)
    assert result.log.steps == 150 and result.returns.shape == (3,)
    assert np.array_equal(result.returns, result.agent.evaluate(gym.make(INTEREST_FEED), 3, seed=5))
