"""A bank of submissions for the exercise checks: realistic wrong ones and correct ones in
other styles, as source code (so the batch grader's tests can write them to files too).

``WRONG``: each is rejected, and some failed case's hint contains ``hint``.
``RIGHT``: each gets full marks.
Every source is run after :data:`PREAMBLE`.
"""

from __future__ import annotations

from typing import NamedTuple

PREAMBLE = "import math\nimport numpy as np\n"


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
]
