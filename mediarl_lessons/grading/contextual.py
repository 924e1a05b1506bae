"""The checks of exercise ``02_contextual``.

References: :func:`mediarl_lessons.agents.bandits.linucb_scores` / ``linucb_update`` and
:func:`mediarl_lessons.offline.ips_estimate` / ``snips_estimate`` / ``replay_estimate``.

Every function whose name starts with ``wrong_`` is DELIBERATELY WRONG: a mistake learners
make, kept here only so that the check can recognise it and name it in a hint.
"""

from __future__ import annotations

import math

import numpy as np

from mediarl_lessons.agents.bandits import linucb_scores, linucb_update
from mediarl_lessons.grading.cases import close, inplace_case, value_case
from mediarl_lessons.grading.core import Case, Mistake, register
from mediarl_lessons.offline import ips_estimate, replay_estimate, snips_estimate

EXERCISE = "02_contextual"


def _float_close(got, expected) -> bool:
    """Equal to 1e-5, relative or absolute: what a float32 computation (7 significant digits) achieves.

    The exercise asks for numbers, not float64 ones, so a learner who computes in float32
    must pass on every seed, not on the seeds where its rounding happens to stay below the
    default 1e-7. (The absolute part covers LinUCB's scores near 0 and A's off-diagonal
    entries, whose float32 error scales with the operands, not with the result.)
    """
    return close(got, expected, rtol=1e-5, atol=1e-5)


def _random_problem(rng: np.random.Generator, k: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A LinUCB state after a few rounds: A = I + sum x x^T (positive definite), b = sum r x."""
    A = np.tile(np.eye(d), (k, 1, 1))
    b = np.zeros((k, d))
    for _ in range(3 * k):
        arm, x = int(rng.integers(k)), np.round(rng.normal(size=d), 2)
        A[arm] += np.outer(x, x)
        b[arm] += float(rng.integers(2)) * x
    return A, b, np.round(rng.normal(size=(k, d)), 2)


# =============================================================================================
# linucb_scores
# =============================================================================================
def wrong_linucb_a_not_inverted(A, b, x, alpha):
    """DELIBERATELY WRONG: multiplies by A where A^-1 belongs."""
    theta = np.einsum("kij,kj->ki", A, b)
    return (theta * x).sum(axis=1) + alpha * np.sqrt(np.einsum("ki,kij,kj->k", x, A, x))


def wrong_linucb_no_sqrt(A, b, x, alpha):
    """DELIBERATELY WRONG: the width without its square root."""
    return linucb_scores(A, b, x, 0.0) + alpha * np.einsum("ki,ki->k", x, np.linalg.solve(A, x[..., None])[..., 0])


def wrong_linucb_no_bonus(A, b, x, alpha):
    """DELIBERATELY WRONG: the predicted reward alone."""
    return linucb_scores(A, b, x, 0.0)


def wrong_linucb_bonus_only(A, b, x, alpha):
    """DELIBERATELY WRONG: the confidence width alone."""
    return linucb_scores(A, b, x, alpha) - linucb_scores(A, b, x, 0.0)


def wrong_linucb_first_features(A, b, x, alpha):
    """DELIBERATELY WRONG: scores every arm with arm 0's features."""
    return linucb_scores(A, b, np.repeat(x[:1], len(x), axis=0), alpha)


LINUCB_SCORE_MISTAKES = [
    ("A vs A^-1? theta_a = A_a^-1 b_a (np.linalg.solve(A[a], b[a])) and the width uses x^T A_a^-1 x",
     wrong_linucb_a_not_inverted),
    ("forgot the square root of x^T A^-1 x?", wrong_linucb_no_sqrt),
    ("forgot the exploration bonus alpha * sqrt(x^T A^-1 x)?", wrong_linucb_no_bonus),
    ("forgot the predicted reward theta_a . x_a?", wrong_linucb_bonus_only),
    ("used one feature vector for every arm? Arm a's score uses its own x[a]", wrong_linucb_first_features),
]


@register(EXERCISE, "linucb_scores")
def linucb_scores_cases(rng: np.random.Generator) -> list[Case]:
    fallback = "theta_a = A_a^-1 b_a; score_a = theta_a . x_a + alpha * sqrt(x_a^T A_a^-1 x_a)"

    def case(name: str, A, b, x, alpha: float) -> Case:
        return value_case(name, (A, b, x, alpha), linucb_scores, wrong_variants=LINUCB_SCORE_MISTAKES,
                          agrees=_float_close, fallback_hint=fallback)

    k, d = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    A, b, x = _random_problem(rng, k, d)
    diagonal = np.array([np.diag([2.0, 4.0]), np.diag([1.0, 0.5])])
    return [
        case("fresh arms (A = I, b = 0): bonus only", np.tile(np.eye(2), (2, 1, 1)), np.zeros((2, 2)),
             np.array([[1.0, 0.0], [0.6, 0.8]]), 1.0),
        case("diagonal A", diagonal, np.array([[2.0, 2.0], [1.0, -1.0]]), np.array([[1.0, 1.0], [2.0, 0.0]]), 0.5),
        case(f"random: {k} arms, d={d}, alpha=0.8", A, b, x, 0.8),
    ]


# =============================================================================================
# linucb_update
# =============================================================================================
def wrong_linucb_update_rebinds(A, b, action, x, reward):
    """DELIBERATELY WRONG: builds new arrays instead of changing A and b in place."""
    A = A.copy()
    b = b.copy()
    A[action] += np.outer(x, x)
    b[action] += reward * x
    return A, b


def wrong_linucb_update_all_arms(A, b, action, x, reward):
    """DELIBERATELY WRONG: every arm learns from the chosen arm's reward."""
    A += np.outer(x, x)
    b += reward * x


def wrong_linucb_update_inner(A, b, action, x, reward):
    """DELIBERATELY WRONG: adds x^T x (a number) instead of the matrix x x^T."""
    A[action] += x @ x
    b[action] += reward * x


def wrong_linucb_update_b_without_reward(A, b, action, x, reward):
    """DELIBERATELY WRONG: b[action] += x, whatever the reward."""
    A[action] += np.outer(x, x)
    b[action] += x


def wrong_linucb_update_forgets_b(A, b, action, x, reward):
    """DELIBERATELY WRONG: updates A only."""
    A[action] += np.outer(x, x)


LINUCB_UPDATE_MISTAKES = [
    ("update not in place? Change A and b themselves (A[action] += ...); a new array is lost when the function "
     "returns", wrong_linucb_update_rebinds),
    ("updated every arm? Only the arm played learns (its reward is the only one seen)", wrong_linucb_update_all_arms),
    ("added x^T x (a number)? A[action] += np.outer(x, x), the d x d matrix", wrong_linucb_update_inner),
    ("b[action] += reward * x: the reward is missing", wrong_linucb_update_b_without_reward),
    ("forgot to update b?", wrong_linucb_update_forgets_b),
]


@register(EXERCISE, "linucb_update")
def linucb_update_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, A, b, action: int, x, reward: float) -> Case:
        return inplace_case(name, (A, b, action, np.asarray(x, dtype=np.float64), reward), linucb_update, (0, 1),
                            labels=("A", "b"), returns=False, wrong_variants=LINUCB_UPDATE_MISTAKES,
                            agrees=_float_close,
                            fallback_hint="in place: A[action] += np.outer(x, x); b[action] += reward * x")

    k, d = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    A, b, x = _random_problem(rng, k, d)
    action = int(rng.integers(k))
    return [
        case("fresh arms, reward 1", np.tile(np.eye(2), (2, 1, 1)), np.zeros((2, 2)), 1, [1.0, 2.0], 1.0),
        case(f"random: {k} arms, d={d}, reward 0.5", A, b, action, x[action], 0.5),
    ]


# =============================================================================================
# Off-policy estimators
# =============================================================================================
def wrong_ips_inverted(rewards, target_probs, logging_probs):
    """DELIBERATELY WRONG: weights mu / pi instead of pi / mu."""
    return ips_estimate(rewards, logging_probs, target_probs)


def wrong_naive_mean(rewards, target_probs, logging_probs):
    """DELIBERATELY WRONG: the plain mean of the logged rewards."""
    return float(np.mean(rewards))


def wrong_ips_sum(rewards, target_probs, logging_probs):
    """DELIBERATELY WRONG: a sum, not a mean."""
    return float(np.sum(np.asarray(rewards) * np.asarray(target_probs) / np.asarray(logging_probs)))


def wrong_snips_inverted(rewards, target_probs, logging_probs):
    """DELIBERATELY WRONG: SNIPS with the weights mu / pi."""
    return snips_estimate(rewards, logging_probs, target_probs)


def _clipped_weights(target_probs, logging_probs) -> np.ndarray:
    return np.minimum(np.asarray(target_probs) / np.asarray(logging_probs), 10.0)


def wrong_ips_clipped(rewards, target_probs, logging_probs):
    """DELIBERATELY WRONG: importance weights capped at 10 (clipped IPS, a different, biased estimator)."""
    return float(np.mean(np.asarray(rewards) * _clipped_weights(target_probs, logging_probs)))


def wrong_snips_clipped(rewards, target_probs, logging_probs):
    """DELIBERATELY WRONG: SNIPS with importance weights capped at 10."""
    weights = _clipped_weights(target_probs, logging_probs)
    return float(np.dot(weights, rewards) / weights.sum())


CLIPPED_HINT = ("clipped or capped the importance weights? IPS is unbiased only with the plain ratio "
                "target_probs / logging_probs, however large")

IPS_MISTAKES = [
    ("target and logging probabilities swapped? The weight is pi / mu (target over logging)", wrong_ips_inverted),
    ("the naive mean of the logs? Reweight each reward by pi / mu", wrong_naive_mean),
    ("a sum instead of a mean? Divide by the number of events", wrong_ips_sum),
    ("that is SNIPS (divided by the sum of the weights); IPS divides by the number of events n", snips_estimate),
    (CLIPPED_HINT, wrong_ips_clipped),
]

SNIPS_MISTAKES = [
    ("target and logging probabilities swapped? The weight is pi / mu (target over logging)", wrong_snips_inverted),
    ("the naive mean of the logs? sum(r w) / sum(w) with w = pi / mu", wrong_naive_mean),
    ("that is IPS (divided by n); SNIPS divides by the sum of the weights", ips_estimate),
    ("clipped or capped the importance weights? SNIPS weighs each event by the plain ratio "
     "target_probs / logging_probs, however large (its division by sum(w) already tames them)", wrong_snips_clipped),
]

#: A rare article (the logging policy showed it with probability 0.002) that the target always
#: shows: weights up to 500, where the random cases (logging probabilities >= 0.1) stay below 10.
RARE_LOGS = (np.array([1.0, 1.0, 0.0, 1.0, 1.0, 0.0]), np.array([1.0, 0.9, 1.0, 0.5, 0.0, 0.2]),
             np.array([0.002, 0.01, 0.004, 0.5, 0.3, 0.6]))
RARE_CASE = "rare articles: logging probabilities down to 0.002 (weights up to 500)"

#: The target never takes a logged action: every weight is 0, and SNIPS's 0 / 0 has no answer.
NO_OVERLAP_LOGS = (np.array([1.0, 0.0, 1.0]), np.zeros(3), np.array([0.5, 0.2, 0.7]))
NO_OVERLAP_HINT = ("every weight is 0 (the target never takes a logged action): return nan (float('nan')), not 0 "
                   "and not an error; the logs say nothing about this target, and a 0 would look like a real, "
                   "terrible click rate")


def _logs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rewards = rng.integers(0, 2, size=n).astype(np.float64)
    logging_probs = np.round(rng.uniform(0.1, 0.9, size=n), 3)
    target_probs = np.round(rng.uniform(0.0, 1.0, size=n), 3)
    return rewards, target_probs, logging_probs


@register(EXERCISE, "ips_estimate")
def ips_estimate_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, logs, fallback_hint: str = "mean(rewards * target_probs / logging_probs)") -> Case:
        return value_case(name, logs, ips_estimate, wrong_variants=IPS_MISTAKES, agrees=_float_close,
                          fallback_hint=fallback_hint)

    n = int(rng.integers(20, 60))
    return [
        case("4 events", (np.array([1.0, 0.0, 1.0, 1.0]), np.array([0.9, 0.5, 0.2, 0.6]),
                          np.array([0.3, 0.5, 0.4, 0.6]))),
        case(RARE_CASE, RARE_LOGS, "large weights are right: mean(rewards * target_probs / logging_probs), "
                                   "with no cap on the weights"),
        case(f"random: {n} events", _logs(rng, n)),
    ]


def _snips_error_hint(error: BaseException) -> str:
    return NO_OVERLAP_HINT if isinstance(error, ZeroDivisionError) else ""


@register(EXERCISE, "snips_estimate", error_hint=_snips_error_hint)
def snips_estimate_cases(rng: np.random.Generator) -> list[Case]:
    fallback = "w = target_probs / logging_probs; sum(rewards * w) / sum(w)"

    def case(name: str, logs, predicates=(), fallback_hint: str = fallback) -> Case:
        return value_case(name, logs, snips_estimate, wrong_variants=SNIPS_MISTAKES, predicates=predicates,
                          agrees=_float_close, fallback_hint=fallback_hint)

    n = int(rng.integers(20, 60))
    # the reference's answer here is nan (its docstring: no information), so any number is wrong
    not_nan = Mistake(NO_OVERLAP_HINT,
                      lambda got: np.asarray(got, dtype=float).size == 1 and not math.isnan(float(got)))
    return [
        case("4 events", (np.array([1.0, 0.0, 1.0, 1.0]), np.array([0.9, 0.5, 0.2, 0.6]),
                          np.array([0.3, 0.5, 0.4, 0.6]))),
        case(RARE_CASE, RARE_LOGS, fallback_hint=f"large weights are right: {fallback}, with no cap on them"),
        case("the target never takes a logged action: nan", NO_OVERLAP_LOGS, predicates=[not_nan],
             fallback_hint=NO_OVERLAP_HINT),
        case(f"random: {n} events", _logs(rng, n)),
    ]


def wrong_replay_zero_when_empty(rewards, logged_actions, target_actions):
    """DELIBERATELY WRONG: 0 when no event matches."""
    value = replay_estimate(rewards, logged_actions, target_actions)
    return 0.0 if math.isnan(value) else value


def wrong_replay_divides_by_n(rewards, logged_actions, target_actions):
    """DELIBERATELY WRONG: the matched rewards summed, divided by ALL events."""
    kept = np.asarray(logged_actions) == np.asarray(target_actions)
    return float(np.sum(np.asarray(rewards)[kept]) / len(rewards))


def wrong_replay_mismatches(rewards, logged_actions, target_actions):
    """DELIBERATELY WRONG: averages the events where the actions DIFFER."""
    kept = np.asarray(logged_actions) != np.asarray(target_actions)
    return float(np.mean(np.asarray(rewards)[kept])) if kept.any() else float("nan")


REPLAY_MISTAKES = [
    ("divided by all events? Average over the matching events only", wrong_replay_divides_by_n),
    ("kept the events where the actions differ? Keep logged_actions == target_actions", wrong_replay_mismatches),
    ("the mean of all logged rewards? Keep only the events where the target agrees with the log", wrong_naive_mean),
]


@register(EXERCISE, "replay_estimate")
def replay_estimate_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, args, predicates=()) -> Case:
        return value_case(name, args, replay_estimate, wrong_variants=REPLAY_MISTAKES, predicates=predicates,
                          agrees=_float_close,
                          fallback_hint="mean of rewards where logged_actions == target_actions; nan if none")

    n = int(rng.integers(20, 60))
    zero_not_nan = Mistake("no event matches: return nan (float('nan')), not 0: there is nothing to average",
                           lambda got: got is not None and np.asarray(got, dtype=float).size == 1 and float(got) == 0.0)
    return [
        case("5 events, 3 match", (np.array([1.0, 0.0, 1.0, 0.0, 1.0]), np.array([0, 1, 2, 1, 0]),
                                    np.array([0, 1, 1, 2, 0]))),
        case("no event matches: nan", (np.array([1.0, 0.0, 1.0]), np.array([0, 1, 2]), np.array([1, 2, 0])),
             predicates=[zero_not_nan]),
        case(f"random: {n} events, 3 arms", (rng.integers(0, 2, size=n).astype(np.float64), rng.integers(3, size=n),
                                              rng.integers(3, size=n))),
    ]
