"""A bank of submissions for the exercise checks: realistic wrong ones and correct ones in
other styles, as source code (so the batch grader's tests can write them to files too).

``WRONG``: each is rejected, and some failed case's hint contains ``hint``.
``RIGHT``: each gets full marks.
Every source is run after :data:`PREAMBLE`.
"""

from __future__ import annotations

import types
from typing import Any, NamedTuple

PREAMBLE = "import math\nimport numpy as np\n"

#: What a 05_dqn submission starts with (besides PREAMBLE): torch, and the exercise's Batch class.
TORCH = """import copy
from collections import deque
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class Batch(NamedTuple):
    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor
"""

#: A correct ring buffer in preallocated arrays; the wrong buffers below change one thing in it.
RING_BUFFER = """
class ReplayBuffer:
    def __init__(self, capacity, obs_dim, seed=None):
        self.capacity = capacity
        self.rng = np.random.default_rng(seed)
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.position = 0
        self.size = 0

    def __len__(self):
        return self.size

    def add(self, obs, action, reward, next_obs, terminated):
        i = self.position
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, terminated
        self.position = (self.position + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size):
        if self.size == 0:
            raise ValueError("empty buffer")
        idx = self.rng.integers(self.size, size=batch_size)
        return Batch(torch.from_numpy(self.obs[idx]), torch.from_numpy(self.actions[idx]),
                     torch.from_numpy(self.rewards[idx]), torch.from_numpy(self.next_obs[idx]),
                     torch.from_numpy(self.terminated[idx]))
"""


def ring_buffer(old: str, new: str) -> str:
    """:data:`RING_BUFFER` with one line changed (fails loudly if ``old`` is not in it)."""
    assert RING_BUFFER.count(old) == 1, old
    return RING_BUFFER.replace(old, new)


#: A correct dqn_loss; the wrong losses below change one thing in it.
LOSS = """
def dqn_loss(q_net, target_net, batch, gamma, double=False):
    obs, actions, rewards, next_obs, terminated = batch
    with torch.no_grad():
        next_q = target_net(next_obs)
        if double:
            best = q_net(next_obs).argmax(dim=1, keepdim=True)
            next_value = next_q.gather(1, best).squeeze(1)
        else:
            next_value = next_q.max(dim=1).values
        targets = rewards + gamma * (1 - terminated) * next_value
    q_taken = q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
    return F.smooth_l1_loss(q_taken, targets)
"""


def loss(old: str, new: str) -> str:
    """:data:`LOSS` with one piece changed."""
    assert LOSS.count(old) == 1, old
    return LOSS.replace(old, new)


class Submission(NamedTuple):
    exercise: str
    function: str
    hint: str  # a fragment of the expected hint ("" for RIGHT)
    source: str


def wrong(exercise: str, function: str, hint: str, source: str) -> Submission:
    return Submission(exercise, function, hint, source)


def right(exercise: str, function: str, source: str) -> Submission:
    return Submission(exercise, function, "", source)


WRONG: list[Submission] = [
    # ---------------------------------------------------------------- 01_bandits
    wrong("01_bandits", "epsilon_greedy", "ties always broken towards index 0", """
def epsilon_greedy(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(np.argmax(q_values))
"""),
    wrong("01_bandits", "epsilon_greedy", "exploring only among the non-greedy arms", """
def epsilon_greedy(q_values, epsilon, rng):
    q_values = np.asarray(q_values)
    best = np.flatnonzero(q_values == q_values.max())
    if rng.random() < epsilon:
        others = np.flatnonzero(q_values != q_values.max())
        if others.size:
            return int(rng.choice(others))
    return int(rng.choice(best))
"""),
    wrong("01_bandits", "epsilon_greedy", "the wrong way round", """
def epsilon_greedy(q_values, epsilon, rng):
    if rng.random() < 1 - epsilon:
        return int(rng.integers(len(q_values)))
    q_values = np.asarray(q_values)
    return int(rng.choice(np.flatnonzero(q_values == q_values.max())))
"""),
    wrong("01_bandits", "epsilon_greedy", "never explores", """
def epsilon_greedy(q_values, epsilon, rng):
    q_values = np.asarray(q_values)
    return int(rng.choice(np.flatnonzero(q_values == q_values.max())))
"""),
    wrong("01_bandits", "epsilon_greedy", "return one arm index", """
def epsilon_greedy(q_values, epsilon, rng):
    return np.flatnonzero(np.asarray(q_values) == np.max(q_values))
"""),
    wrong("01_bandits", "sample_average", "divide by n, not n + 1", """
def sample_average(q, n, reward):
    return q + (reward - q) / (n + 1)
"""),
    wrong("01_bandits", "sample_average", "off by one in n", """
def sample_average(q, n, reward):
    return q + (reward - q) / (n - 1)
"""),
    wrong("01_bandits", "sample_average", "returned only the step", """
def sample_average(q, n, reward):
    return (reward - q) / n
"""),
    wrong("01_bandits", "sample_average", "averaged q and the reward", """
def sample_average(q, n, reward):
    return (q + reward) / 2
"""),
    wrong("01_bandits", "ucb_scores", "ln(t + 1)", """
def ucb_scores(q_values, counts, t, c):
    counts = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(counts > 0, q_values + c * np.sqrt(np.log(t + 1) / counts), np.inf)
"""),
    wrong("01_bandits", "ucb_scores", "count 0 must score +inf", """
def ucb_scores(q_values, counts, t, c):
    return np.asarray(q_values) + c * np.sqrt(np.log(t) / (np.asarray(counts) + 1e-9))
"""),
    wrong("01_bandits", "ucb_scores", "count 0 must score +inf", """
def ucb_scores(q_values, counts, t, c):
    return [q + c * math.sqrt(math.log(t) / n) for q, n in zip(q_values, counts)]
"""),
    wrong("01_bandits", "ucb_scores", "square root", """
def ucb_scores(q_values, counts, t, c):
    counts = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(counts > 0, q_values + c * np.log(t) / counts, np.inf)
"""),
    wrong("01_bandits", "ucb_scores", "log base 10", """
def ucb_scores(q_values, counts, t, c):
    counts = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(counts > 0, q_values + c * np.sqrt(np.log10(t) / counts), np.inf)
"""),
    wrong("01_bandits", "thompson_bernoulli", "swapped", """
def thompson_bernoulli(successes, failures, rng):
    return int(np.argmax(rng.beta(1 + np.asarray(failures), 1 + np.asarray(successes))))
"""),
    wrong("01_bandits", "thompson_bernoulli", "greedy on the posterior mean", """
def thompson_bernoulli(successes, failures, rng):
    s, f = np.asarray(successes), np.asarray(failures)
    return int(np.argmax((1 + s) / (2 + s + f)))
"""),
    wrong("01_bandits", "thompson_bernoulli", "Beta(1 + successes, 1 + failures)", """
def thompson_bernoulli(successes, failures, rng):
    return int(np.argmax(rng.beta(successes, failures)))
"""),
    wrong("01_bandits", "thompson_bernoulli", "number of trials", """
def thompson_bernoulli(successes, failures, rng):
    s, f = np.asarray(successes), np.asarray(failures)
    return int(np.argmax(rng.beta(1 + s, 1 + s + f)))
"""),
    wrong("01_bandits", "thompson_bernoulli", "the smallest draw taken", """
def thompson_bernoulli(successes, failures, rng):
    return int(np.argmin(rng.beta(1 + np.asarray(successes), 1 + np.asarray(failures))))
"""),
    wrong("01_bandits", "gradient_bandit_update", "softmax overflow", """
def gradient_bandit_update(preferences, action, reward, baseline, alpha):
    pi = np.exp(preferences) / np.exp(preferences).sum()
    one_hot = np.eye(len(preferences))[action]
    return preferences + alpha * (reward - baseline) * (one_hot - pi)
"""),
    wrong("01_bandits", "gradient_bandit_update", "updated only the chosen arm", """
def gradient_bandit_update(preferences, action, reward, baseline, alpha):
    z = np.exp(preferences - np.max(preferences))
    pi = z / z.sum()
    new = np.array(preferences, dtype=float)
    new[action] += alpha * (reward - baseline) * (1 - pi[action])
    return new
"""),
    wrong("01_bandits", "gradient_bandit_update", "returned None", """
def gradient_bandit_update(preferences, action, reward, baseline, alpha):
    z = np.exp(preferences - np.max(preferences))
    preferences += alpha * (reward - baseline) * (np.eye(len(z))[action] - z / z.sum())
"""),
    wrong("01_bandits", "gradient_bandit_update", "forgot the baseline", """
def gradient_bandit_update(preferences, action, reward, baseline, alpha):
    z = np.exp(preferences - np.max(preferences))
    return preferences + alpha * reward * (np.eye(len(z))[action] - z / z.sum())
"""),
    wrong("01_bandits", "gradient_bandit_update", "other arms moved the wrong way", """
def gradient_bandit_update(preferences, action, reward, baseline, alpha):
    z = np.exp(preferences - np.max(preferences))
    pi = z / z.sum()
    new = preferences + alpha * (reward - baseline) * pi
    new[action] = preferences[action] + alpha * (reward - baseline) * (1 - pi[action])
    return new
"""),
    # ---------------------------------------------------------------- 02_contextual
    wrong("02_contextual", "linucb_scores", "A vs A^-1", """
def linucb_scores(A, b, x, alpha):
    theta = np.einsum("kij,kj->ki", A, b)
    return (theta * x).sum(1) + alpha * np.sqrt(np.einsum("ki,kij,kj->k", x, A, x))
"""),
    wrong("02_contextual", "linucb_scores", "square root", """
def linucb_scores(A, b, x, alpha):
    out = []
    for a in range(len(x)):
        inv = np.linalg.inv(A[a])
        out.append(inv @ b[a] @ x[a] + alpha * (x[a] @ inv @ x[a]))
    return np.array(out)
"""),
    wrong("02_contextual", "linucb_scores", "forgot the exploration bonus", """
def linucb_scores(A, b, x, alpha):
    return np.array([np.linalg.solve(A[a], b[a]) @ x[a] for a in range(len(x))])
"""),
    wrong("02_contextual", "linucb_update", "not in place", """
def linucb_update(A, b, action, x, reward):
    A = A.copy()
    b = b.copy()
    A[action] = A[action] + np.outer(x, x)
    b[action] = b[action] + reward * x
"""),
    wrong("02_contextual", "linucb_update", "updated every arm", """
def linucb_update(A, b, action, x, reward):
    A += np.outer(x, x)
    b += reward * x
"""),
    wrong("02_contextual", "linucb_update", "np.outer(x, x)", """
def linucb_update(A, b, action, x, reward):
    A[action] += x @ x
    b[action] += reward * x
"""),
    wrong("02_contextual", "linucb_update", "the reward is missing", """
def linucb_update(A, b, action, x, reward):
    A[action] += np.outer(x, x)
    b[action] += x
"""),
    wrong("02_contextual", "ips_estimate", "swapped", """
def ips_estimate(rewards, target_probs, logging_probs):
    return float(np.mean(rewards * logging_probs / target_probs))
"""),
    wrong("02_contextual", "ips_estimate", "naive mean", """
def ips_estimate(rewards, target_probs, logging_probs):
    return float(np.mean(rewards))
"""),
    wrong("02_contextual", "ips_estimate", "that is SNIPS", """
def ips_estimate(rewards, target_probs, logging_probs):
    w = target_probs / logging_probs
    return float((w * rewards).sum() / w.sum())
"""),
    wrong("02_contextual", "ips_estimate", "a sum instead of a mean", """
def ips_estimate(rewards, target_probs, logging_probs):
    return float(np.sum(rewards * target_probs / logging_probs))
"""),
    wrong("02_contextual", "snips_estimate", "that is IPS", """
def snips_estimate(rewards, target_probs, logging_probs):
    return float(np.mean(rewards * target_probs / logging_probs))
"""),
    wrong("02_contextual", "snips_estimate", "swapped", """
def snips_estimate(rewards, target_probs, logging_probs):
    w = logging_probs / target_probs
    return float((w * rewards).sum() / w.sum())
"""),
    wrong("02_contextual", "replay_estimate", "return nan", """
def replay_estimate(rewards, logged_actions, target_actions):
    kept = logged_actions == target_actions
    return float(rewards[kept].mean()) if kept.any() else 0.0
"""),
    wrong("02_contextual", "replay_estimate", "divided by all events", """
def replay_estimate(rewards, logged_actions, target_actions):
    kept = logged_actions == target_actions
    return float(rewards[kept].sum() / len(rewards)) if kept.any() else float("nan")
"""),
    # ---------------------------------------------------------------- 03_dynamic_programming
    wrong("03_dynamic_programming", "q_from_v", "forgot gamma", """
def q_from_v(P, R, V, gamma):
    return R + P @ V
"""),
    wrong("03_dynamic_programming", "q_from_v", "wrong axis of P", """
def q_from_v(P, R, V, gamma):
    return R + gamma * np.einsum("tas,t->sa", P, V)
"""),
    wrong("03_dynamic_programming", "policy_evaluation", "max over actions", """
def policy_evaluation(P, R, policy, gamma, tol=1e-8):
    V = np.zeros(len(R))
    while True:
        new = (R + gamma * P @ V).max(axis=1)
        if np.abs(new - V).max() < tol:
            return new
        V = new
"""),
    wrong("03_dynamic_programming", "policy_evaluation", "stopped after one sweep", """
def policy_evaluation(P, R, policy, gamma, tol=1e-8):
    V = np.zeros(len(R))
    return (policy * (R + gamma * P @ V)).sum(axis=1)
"""),
    wrong("03_dynamic_programming", "value_iteration", "policy is not greedy", """
def value_iteration(P, R, gamma, tol=1e-8):
    V = np.zeros(len(R))
    while True:
        new = (R + gamma * P @ V).max(axis=1)
        if np.abs(new - V).max() < tol:
            return new, (R + gamma * P @ new).argmin(axis=1)
        V = new
"""),
    wrong("03_dynamic_programming", "value_iteration", "min over actions", """
def value_iteration(P, R, gamma, tol=1e-8):
    V = np.zeros(len(R))
    while True:
        new = (R + gamma * P @ V).min(axis=1)
        if np.abs(new - V).max() < tol:
            return new, (R + gamma * P @ new).argmin(axis=1)
        V = new
"""),
    wrong("03_dynamic_programming", "greedy_policy", "LOWEST index", """
def greedy_policy(Q):
    return Q.shape[1] - 1 - np.argmax(Q[:, ::-1], axis=1)
"""),
    wrong("03_dynamic_programming", "greedy_policy", "best ACTIONS", """
def greedy_policy(Q):
    return Q.max(axis=1)
"""),
    # ---------------------------------------------------------------- 04_q_learning
    wrong("04_q_learning", "q_learning_update", "bootstrapped from a terminal state", """
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    td_error = r + gamma * Q[s_next].max() - Q[s, a]
    Q[s, a] += alpha * td_error
    return td_error
"""),
    wrong("04_q_learning", "q_learning_update", "TD error returned after the update", """
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    Q[s, a] += alpha * (r + gamma * (not terminated) * Q[s_next].max() - Q[s, a])
    return r + gamma * (not terminated) * Q[s_next].max() - Q[s, a]
"""),
    wrong("04_q_learning", "q_learning_update", "not in place", """
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    Q = Q.copy()
    td_error = r + gamma * (1 - terminated) * Q[s_next].max() - Q[s, a]
    Q[s, a] += alpha * td_error
    return td_error
"""),
    wrong("04_q_learning", "q_learning_update", "returned the new Q[s, a]", """
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    Q[s, a] += alpha * (r + gamma * (1 - terminated) * Q[s_next].max() - Q[s, a])
    return Q[s, a]
"""),
    wrong("04_q_learning", "sarsa_update", "used max(Q[s_next])", """
def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    td_error = r + gamma * (1 - terminated) * Q[s_next].max() - Q[s, a]
    Q[s, a] += alpha * td_error
    return td_error
"""),
    wrong("04_q_learning", "sarsa_update", "bootstrapped from a terminal state", """
def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    td_error = r + gamma * Q[s_next, a_next] - Q[s, a]
    Q[s, a] += alpha * td_error
    return td_error
"""),
    wrong("04_q_learning", "expected_sarsa_update", "greedy mass not split over ties", """
def expected_sarsa_update(Q, s, a, r, s_next, terminated, alpha, gamma, epsilon):
    row = Q[s_next]
    probs = np.full(len(row), epsilon / len(row)) + (1 - epsilon) * (row == row.max())
    td_error = r + gamma * (1 - terminated) * probs @ row - Q[s, a]
    Q[s, a] += alpha * td_error
    return td_error
"""),
    wrong("04_q_learning", "expected_sarsa_update", "Q-learning's target", """
def expected_sarsa_update(Q, s, a, r, s_next, terminated, alpha, gamma, epsilon):
    td_error = r + gamma * (1 - terminated) * Q[s_next].max() - Q[s, a]
    Q[s, a] += alpha * td_error
    return td_error
"""),
    wrong("04_q_learning", "linear_schedule", "not clamped", """
def linear_schedule(step, start, end, duration):
    return start + (end - start) * step / max(duration, 1)
"""),
    wrong("04_q_learning", "linear_schedule", "integer division", """
def linear_schedule(step, start, end, duration):
    if duration == 0:
        return end
    return start + (end - start) * min(step // duration, 1)
"""),
    wrong("04_q_learning", "linear_schedule", "duration = 0 means", """
def linear_schedule(step, start, end, duration):
    return start + (end - start) * min(step / duration, 1.0)
"""),
    # ---------------------------------------------------------------- 05_dqn
    wrong("05_dqn", "ReplayBuffer", "never filled", TORCH + ring_buffer(
        "idx = self.rng.integers(self.size, size=batch_size)",
        "idx = self.rng.integers(self.capacity, size=batch_size)  # slots never filled are zeros")),
    wrong("05_dqn", "ReplayBuffer", "returned a batch", TORCH + ring_buffer(
        """        if self.size == 0:
            raise ValueError("empty buffer")
        idx = self.rng.integers(self.size, size=batch_size)""",
        "        idx = self.rng.integers(max(self.size, 1), size=batch_size)")),
    wrong("05_dqn", "ReplayBuffer", "stored a reference to the caller's array", TORCH + """
class ReplayBuffer:                      # a list of tuples that keeps the caller's arrays
    def __init__(self, capacity, obs_dim, seed=None):
        self.capacity, self.data, self.position = capacity, [], 0
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.data)

    def add(self, obs, action, reward, next_obs, terminated):
        transition = (obs, action, reward, next_obs, terminated)
        if len(self.data) < self.capacity:
            self.data.append(transition)
        else:
            self.data[self.position] = transition
        self.position = (self.position + 1) % self.capacity

    def sample(self, batch_size):
        if not self.data:
            raise ValueError("empty buffer")
        rows = [self.data[i] for i in self.rng.integers(len(self.data), size=batch_size)]
        obs, actions, rewards, next_obs, terminated = zip(*rows)
        return Batch(torch.tensor(np.array(obs), dtype=torch.float32), torch.tensor(actions),
                     torch.tensor(rewards, dtype=torch.float32), torch.tensor(np.array(next_obs), dtype=torch.float32),
                     torch.tensor(terminated, dtype=torch.float32))
"""),
    wrong("05_dqn", "ReplayBuffer", "stopped storing when full", TORCH + ring_buffer(
        """        i = self.position
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward""",
        """        if self.size == self.capacity:
            return  # full: nothing more goes in
        i = self.position
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward""")),
    wrong("05_dqn", "ReplayBuffer", "wraps around to 0", TORCH + ring_buffer(
        "self.position = (self.position + 1) % self.capacity", "self.position += 1")),
    wrong("05_dqn", "ReplayBuffer", "obs must be float32", TORCH + ring_buffer(
        "self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)", "self.obs = np.zeros((capacity, obs_dim))")),
    wrong("05_dqn", "ReplayBuffer", "actions must be int64", TORCH + ring_buffer(
        "self.actions = np.zeros(capacity, dtype=np.int64)", "self.actions = np.zeros(capacity, dtype=np.int32)")),
    wrong("05_dqn", "ReplayBuffer", "terminated must be float32", TORCH + ring_buffer(
        "self.terminated = np.zeros(capacity, dtype=np.float32)", "self.terminated = np.zeros(capacity, dtype=bool)")),
    wrong("05_dqn", "ReplayBuffer", "return a named tuple", TORCH + ring_buffer(
        "return Batch(torch.from_numpy(self.obs[idx]),", "return (torch.from_numpy(self.obs[idx]),")),
    wrong("05_dqn", "ReplayBuffer", "the same seed gave different batches", TORCH + ring_buffer(
        "idx = self.rng.integers(self.size, size=batch_size)", "idx = np.random.randint(self.size, size=batch_size)")),
    wrong("05_dqn", "ReplayBuffer", "len(buffer) fell back", TORCH + ring_buffer(
        "        return self.size\n", "        return self.position\n")),
    wrong("05_dqn", "ReplayBuffer", "come from different transitions", TORCH + ring_buffer(
        """        return Batch(torch.from_numpy(self.obs[idx]), torch.from_numpy(self.actions[idx]),""",
        """        other = self.rng.integers(self.size, size=batch_size)  # a second draw for the rest
        return Batch(torch.from_numpy(self.obs[idx]), torch.from_numpy(self.actions[other]),""")),
    wrong("05_dqn", "td_targets", "bootstrapped from a terminal state", TORCH + """
def td_targets(rewards, next_q_target, terminated, gamma):
    return rewards + gamma * next_q_target.max(dim=1).values
"""),
    wrong("05_dqn", "td_targets", "shape (B, B)", TORCH + """
def td_targets(rewards, next_q_target, terminated, gamma):
    best = next_q_target.max(dim=1, keepdim=True).values
    return rewards + gamma * (1 - terminated) * best
"""),
    wrong("05_dqn", "td_targets", "argmax", TORCH + """
def td_targets(rewards, next_q_target, terminated, gamma):
    return rewards + gamma * (1 - terminated) * next_q_target.argmax(dim=1)
"""),
    wrong("05_dqn", "td_targets", "changed an input tensor in place", TORCH + """
def td_targets(rewards, next_q_target, terminated, gamma):
    rewards += gamma * (1 - terminated) * next_q_target.max(dim=1).values
    return rewards
"""),
    wrong("05_dqn", "double_dqn_targets", "the target network chose the action", TORCH + """
def double_dqn_targets(rewards, next_q_online, next_q_target, terminated, gamma):
    best = next_q_target.argmax(dim=1, keepdim=True)
    return rewards + gamma * (1 - terminated) * next_q_target.gather(1, best).squeeze(1)
"""),
    wrong("05_dqn", "double_dqn_targets", "roles swapped", TORCH + """
def double_dqn_targets(rewards, next_q_online, next_q_target, terminated, gamma):
    best = next_q_target.argmax(dim=1, keepdim=True)
    return rewards + gamma * (1 - terminated) * next_q_online.gather(1, best).squeeze(1)
"""),
    wrong("05_dqn", "dqn_loss", "gradient reached target_net", TORCH + loss(
        "    with torch.no_grad():\n        next_q = target_net(next_obs)",
        "    if True:\n        next_q = target_net(next_obs)")),
    wrong("05_dqn", "dqn_loss", "a gradient flowed through the targets into q_net", TORCH + """
def dqn_loss(q_net, target_net, batch, gamma, double=False):   # no torch.no_grad(), no detach
    next_q = target_net(batch.next_obs)
    if double:
        next_value = next_q[torch.arange(len(next_q)), q_net(batch.next_obs).argmax(dim=1)]
    else:
        next_value = next_q.max(dim=1).values
    targets = torch.where(batch.terminated > 0, batch.rewards, batch.rewards + gamma * next_value)
    q_taken = q_net(batch.obs)[torch.arange(len(batch.obs)), batch.actions]
    return F.smooth_l1_loss(q_taken, targets)
"""),
    wrong("05_dqn", "dqn_loss", "squared error (mse_loss)", TORCH + loss(
        "return F.smooth_l1_loss(q_taken, targets)", "return F.mse_loss(q_taken, targets)")),
    wrong("05_dqn", "dqn_loss", "summed over the batch", TORCH + loss(
        "return F.smooth_l1_loss(q_taken, targets)", "return F.smooth_l1_loss(q_taken, targets, reduction='sum')")),
    wrong("05_dqn", "dqn_loss", "(B, B) matrix", TORCH + loss(
        "q_taken = q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)", "q_taken = q_net(obs)[:, actions]")),
    wrong("05_dqn", "dqn_loss", "used max_a Q(s, a)", TORCH + loss(
        "q_taken = q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)", "q_taken = q_net(obs).max(dim=1).values")),
    wrong("05_dqn", "dqn_loss", "double=True changed nothing", TORCH + loss("        if double:", "        if False:")),
    wrong("05_dqn", "dqn_loss", "bootstrapped from terminal states", TORCH + loss(
        "targets = rewards + gamma * (1 - terminated) * next_value", "targets = rewards + gamma * next_value")),
    wrong("05_dqn", "dqn_loss", "not loss.item()", TORCH + loss(
        "return F.smooth_l1_loss(q_taken, targets)", "return F.smooth_l1_loss(q_taken, targets).item()")),
    wrong("05_dqn", "soft_update", "target_net did not change", TORCH + """
def soft_update(target_net, online_net, tau):
    for target_param, online_param in zip(target_net.parameters(), online_net.parameters()):
        target_param = tau * online_param + (1 - tau) * target_param
"""),
    wrong("05_dqn", "soft_update", "returned a new network", TORCH + """
def soft_update(target_net, online_net, tau):
    new_net = copy.deepcopy(target_net)
    with torch.no_grad():
        for new, online in zip(new_net.parameters(), online_net.parameters()):
            new.mul_(1 - tau).add_(tau * online)
    return new_net
"""),
    wrong("05_dqn", "soft_update", "tau reversed", TORCH + """
def soft_update(target_net, online_net, tau):
    with torch.no_grad():
        for target, online in zip(target_net.parameters(), online_net.parameters()):
            target.copy_(tau * target + (1 - tau) * online)
"""),
    wrong("05_dqn", "soft_update", "replaced target_net's Parameter objects", TORCH + """
def soft_update(target_net, online_net, tau):
    online = dict(online_net.named_parameters())
    for module_name, module in target_net.named_modules():
        for name, param in list(module.named_parameters(recurse=False)):
            full = f"{module_name}.{name}" if module_name else name
            setattr(module, name, nn.Parameter(tau * online[full].detach() + (1 - tau) * param.detach()))
"""),
    wrong("05_dqn", "soft_update", "under torch.no_grad()", TORCH + """
def soft_update(target_net, online_net, tau):
    for target, online in zip(target_net.parameters(), online_net.parameters()):
        target.mul_(1 - tau).add_(tau * online)
"""),
]

RIGHT: list[Submission] = [
    right("01_bandits", "epsilon_greedy", """
def epsilon_greedy(q_values, epsilon, rng):          # loops and rng.choice
    if rng.uniform() < epsilon:
        return int(rng.choice(len(q_values)))
    best = max(q_values)
    return int(rng.choice([a for a, q in enumerate(q_values) if q == best]))
"""),
    right("01_bandits", "epsilon_greedy", """
def epsilon_greedy(q_values, epsilon, rng):          # a random permutation, then argmax
    explore = rng.random() < epsilon
    order = rng.permutation(len(q_values))
    if explore:
        return int(order[0])
    return int(order[np.argmax(np.asarray(q_values)[order])])
"""),
    right("01_bandits", "sample_average", """
def sample_average(q, n, reward):                     # the same average, rearranged
    return (q * (n - 1) + reward) / n
"""),
    right("01_bandits", "ucb_scores", """
def ucb_scores(q_values, counts, t, c):               # a plain loop returning a list
    return [q + c * math.sqrt(math.log(t) / n) if n > 0 else math.inf for q, n in zip(q_values, counts)]
"""),
    right("01_bandits", "thompson_bernoulli", """
def thompson_bernoulli(successes, failures, rng):     # one draw per arm
    draws = [rng.beta(1 + s, 1 + f) for s, f in zip(successes, failures)]
    return draws.index(max(draws))
"""),
    right("01_bandits", "gradient_bandit_update", """
def gradient_bandit_update(preferences, action, reward, baseline, alpha):   # in place, and returned
    h = preferences
    e = np.exp(h - h.max())
    h += alpha * (reward - baseline) * (np.eye(len(h))[action] - e / e.sum())
    return h
"""),
    right("02_contextual", "linucb_scores", """
def linucb_scores(A, b, x, alpha):                    # np.linalg.inv, vectorised
    inv = np.linalg.inv(A)
    theta = np.einsum("kij,kj->ki", inv, b)
    return np.einsum("ki,ki->k", theta, x) + alpha * np.sqrt(np.einsum("ki,kij,kj->k", x, inv, x))
"""),
    right("02_contextual", "linucb_update", """
def linucb_update(A, b, action, x, reward):           # slices written back
    A[action, :, :] = A[action] + x[:, None] * x[None, :]
    b[action, :] = b[action] + reward * x
"""),
    right("02_contextual", "replay_estimate", """
def replay_estimate(rewards, logged_actions, target_actions):   # a loop
    total, kept = 0.0, 0
    for r, logged, target in zip(rewards, logged_actions, target_actions):
        if logged == target:
            total, kept = total + r, kept + 1
    return total / kept if kept else math.nan
"""),
    right("03_dynamic_programming", "policy_evaluation", """
def policy_evaluation(P, R, policy, gamma, tol=1e-8):   # exact linear solve
    P_pi = np.einsum("sa,sat->st", policy, P)
    return np.linalg.solve(np.eye(len(R)) - gamma * P_pi, (policy * R).sum(1))
"""),
    right("03_dynamic_programming", "value_iteration", """
def value_iteration(P, R, gamma, tol=1e-8):             # in-place (Gauss-Seidel) sweeps
    V = np.zeros(len(R))
    while True:
        delta = 0.0
        for s in range(len(R)):
            best = max(R[s, a] + gamma * P[s, a] @ V for a in range(R.shape[1]))
            delta, V[s] = max(delta, abs(best - V[s])), best
        if delta < tol * (1 - gamma) / gamma:
            return V, np.argmax(R + gamma * P @ V, axis=1)
"""),
    right("04_q_learning", "expected_sarsa_update", """
def expected_sarsa_update(Q, s, a, r, s_next, terminated, alpha, gamma, epsilon):   # the closed form
    row = Q[s_next]
    expected = epsilon * row.mean() + (1 - epsilon) * row.max()
    delta = r + (0.0 if terminated else gamma * expected) - Q[s][a]
    Q[s][a] = Q[s][a] + alpha * delta
    return delta
"""),
    right("04_q_learning", "linear_schedule", """
def linear_schedule(step, start, end, duration):       # np.interp does the clamping
    return float(np.interp(step, [0, duration], [start, end])) if duration > 0 else end
"""),
    right("05_dqn", "ReplayBuffer", TORCH + """
class ReplayBuffer:                                    # a deque of tuples
    def __init__(self, capacity, obs_dim, seed=None):
        self.memory = deque(maxlen=capacity)
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.memory)

    def add(self, obs, action, reward, next_obs, terminated):
        self.memory.append((np.array(obs, dtype=np.float32), int(action), float(reward),
                            np.array(next_obs, dtype=np.float32), float(terminated)))

    def sample(self, batch_size):
        if len(self.memory) == 0:
            raise ValueError("cannot sample from an empty buffer")
        rows = [self.memory[i] for i in self.rng.integers(len(self.memory), size=batch_size)]
        obs, actions, rewards, next_obs, terminated = zip(*rows)
        return Batch(torch.as_tensor(np.stack(obs)), torch.tensor(actions, dtype=torch.int64),
                     torch.tensor(rewards, dtype=torch.float32), torch.as_tensor(np.stack(next_obs)),
                     torch.tensor(terminated, dtype=torch.float32))
"""),
    right("05_dqn", "ReplayBuffer", TORCH + """
class ReplayBuffer:                                    # a list of tuples, batches without replacement
    def __init__(self, capacity, obs_dim, seed=None):
        self.capacity, self.obs_dim = capacity, obs_dim
        self.transitions = []
        self.oldest = 0
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.transitions)

    def add(self, obs, action, reward, next_obs, terminated):
        transition = (obs.copy(), action, reward, next_obs.copy(), terminated)
        if len(self.transitions) < self.capacity:
            self.transitions.append(transition)
        else:
            self.transitions[self.oldest] = transition
            self.oldest = (self.oldest + 1) % self.capacity

    def sample(self, batch_size):
        if not self.transitions:
            raise ValueError("the buffer is empty")
        chosen = self.rng.choice(len(self.transitions), size=batch_size, replace=False)
        columns = list(zip(*(self.transitions[i] for i in chosen)))
        return Batch(
            obs=torch.tensor(np.array(columns[0]), dtype=torch.float32),
            actions=torch.tensor(columns[1], dtype=torch.long),
            rewards=torch.tensor(columns[2], dtype=torch.float32),
            next_obs=torch.tensor(np.array(columns[3]), dtype=torch.float32),
            terminated=torch.tensor(columns[4], dtype=torch.float32),
        )
"""),
    right("05_dqn", "td_targets", TORCH + """
def td_targets(rewards, next_q_target, terminated, gamma):   # torch.where
    bootstrapped = rewards + gamma * next_q_target.amax(dim=1)
    return torch.where(terminated.bool(), rewards, bootstrapped)
"""),
    right("05_dqn", "td_targets", TORCH + """
def td_targets(rewards, next_q_target, terminated, gamma):   # a loop over the batch
    targets = torch.empty_like(rewards)
    for i in range(len(rewards)):
        future = 0.0 if terminated[i] == 1 else gamma * float(next_q_target[i].max())
        targets[i] = float(rewards[i]) + future
    return targets
"""),
    right("05_dqn", "double_dqn_targets", TORCH + """
def double_dqn_targets(rewards, next_q_online, next_q_target, terminated, gamma):   # indexing
    rows = torch.arange(len(rewards))
    chosen = next_q_online.argmax(dim=1)
    return rewards + gamma * (1.0 - terminated) * next_q_target[rows, chosen]
"""),
    right("05_dqn", "dqn_loss", TORCH + """
def dqn_loss(q_net, target_net, batch, gamma, double=False):   # .detach(), huber_loss, indexing
    rows = torch.arange(len(batch.actions))
    next_q = target_net(batch.next_obs).detach()
    if double:
        chosen = q_net(batch.next_obs).detach().argmax(dim=1)
    else:
        chosen = next_q.argmax(dim=1)
    targets = batch.rewards + gamma * (1 - batch.terminated) * next_q[rows, chosen]
    return F.huber_loss(q_net(batch.obs)[rows, batch.actions], targets, delta=1.0)
"""),
    right("05_dqn", "dqn_loss", TORCH + """
def dqn_loss(q_net, target_net, batch, gamma, double=False):   # the Huber loss written out
    with torch.no_grad():
        next_q = target_net(batch.next_obs)
        if double:
            value = next_q.gather(1, q_net(batch.next_obs).argmax(1, keepdim=True)).squeeze(1)
        else:
            value = next_q.max(1).values
        targets = batch.rewards + gamma * (1 - batch.terminated) * value
    error = q_net(batch.obs).gather(1, batch.actions[:, None])[:, 0] - targets
    quadratic = error.abs() < 1
    return torch.where(quadratic, 0.5 * error**2, error.abs() - 0.5).mean()
"""),
    right("05_dqn", "soft_update", TORCH + """
@torch.no_grad()
def soft_update(target_net, online_net, tau):          # lerp_
    for target, online in zip(target_net.parameters(), online_net.parameters()):
        target.lerp_(online, tau)
"""),
    right("05_dqn", "soft_update", TORCH + """
def soft_update(target_net, online_net, tau):          # load_state_dict
    online = online_net.state_dict()
    mixed = {name: tau * online[name] + (1 - tau) * value for name, value in target_net.state_dict().items()}
    target_net.load_state_dict(mixed)
"""),
    right("05_dqn", "soft_update", TORCH + """
def soft_update(target_net, online_net, tau):          # on .data, mul_().add_()
    for target, online in zip(target_net.parameters(), online_net.parameters()):
        target.data.mul_(1.0 - tau).add_(online.data, alpha=tau)
"""),
]


def learner_copy(reference: Any) -> Any:
    """The course's reference as if a learner had typed the same code: a new function (or class)
    object from the same code. ``check`` rejects the reference object itself (a submission that
    imports it wrote nothing); a copy of its code is judged on its answers like any other."""
    if isinstance(reference, type):
        return type(reference.__name__, reference.__bases__, {key: value for key, value in vars(reference).items()
                                                              if key not in ("__dict__", "__weakref__")})
    copy = types.FunctionType(reference.__code__, reference.__globals__, reference.__name__,
                              reference.__defaults__, reference.__closure__)
    copy.__kwdefaults__ = reference.__kwdefaults__
    copy.__module__ = "learner"
    return copy
