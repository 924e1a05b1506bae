"""The checks of exercise ``04_q_learning``.

References: :mod:`mediarl_lessons.agents.tabular` (``q_learning_update``, ``sarsa_update``,
``expected_sarsa_update``, ``linear_schedule``). An update is observed as
``(returned TD error, Q after the call)``: both must match.

Every function whose name starts with ``wrong_`` is DELIBERATELY WRONG: a mistake learners
make, kept here only so that the check can recognise it and name it in a hint.
"""

from __future__ import annotations

import numpy as np

from mediarl_lessons.agents.tabular import expected_sarsa_update, linear_schedule, q_learning_update, sarsa_update
from mediarl_lessons.grading.cases import inplace_case, value_case
from mediarl_lessons.grading.core import Case, register

EXERCISE = "04_q_learning"


def _wrong_variants(reference, terminated_at: int):
    """DELIBERATELY WRONG variants shared by the three updates, built from the reference.

    ``terminated_at`` is the position of ``terminated`` in the arguments (``alpha`` follows it).
    """

    def bootstraps_from_terminal(*args):
        args = list(args)
        args[terminated_at] = False
        return reference(*args)

    def returns_error_after_update(Q, *args):
        td_error = reference(Q, *args)
        alpha = args[terminated_at]  # (args lacks Q: this is the position after terminated)
        return (1 - alpha) * td_error

    def returns_new_value(Q, s, a, *args):
        reference(Q, s, a, *args)
        return Q[s][a]

    def not_in_place(Q, *args):
        return reference(np.array(Q, dtype=np.float64), *args)

    def forgets_alpha(Q, *args):
        args = list(args)
        args[terminated_at] = 1.0  # alpha (args lacks Q)
        return reference(Q, *args)

    return [
        ("bootstrapped from a terminal state? When terminated, the target is r alone", bootstraps_from_terminal),
        ("TD error returned after the update? Compute delta first, update Q, return that delta",
         returns_error_after_update),
        ("returned the new Q[s, a]? Return the TD error", returns_new_value),
        ("update not in place? Change Q[s, a] itself (Q[s, a] += alpha * delta)", not_in_place),
        ("forgot alpha? Q[s, a] += alpha * delta", forgets_alpha),
    ]


def _random_q(rng: np.random.Generator) -> np.ndarray:
    return np.round(rng.normal(size=(int(rng.integers(3, 7)), int(rng.integers(2, 5)))), 2)


# =============================================================================================
# q_learning_update
# =============================================================================================
def wrong_q_learning_max_of_s(Q, s, a, r, s_next, terminated, alpha, gamma):
    """DELIBERATELY WRONG: bootstraps from the current state's row."""
    return q_learning_update(Q, s, a, r, s, terminated, alpha, gamma)


@register(EXERCISE, "q_learning_update")
def q_learning_update_cases(rng: np.random.Generator) -> list[Case]:
    mistakes = [*_wrong_variants(q_learning_update, 5),
                ("bootstrapped from Q[s] instead of Q[s_next]?", wrong_q_learning_max_of_s)]

    def case(name: str, args) -> Case:
        return inplace_case(name, args, q_learning_update, (0,), labels=("TD error", "Q"), wrong_variants=mistakes,
                            fallback_hint="delta = r + gamma * (1 - terminated) * max(Q[s_next]) - Q[s, a]; "
                                          "Q[s, a] += alpha * delta; return delta")

    Q = _random_q(rng)
    s, a, s_next = int(rng.integers(len(Q))), int(rng.integers(Q.shape[1])), int(rng.integers(len(Q)))
    small = np.array([[0.0, 1.0], [2.0, 3.0], [0.5, -1.0]])
    return [
        case("one step, not terminated", (small, 0, 1, 1.0, 1, False, 0.5, 0.9)),
        case("terminated: no bootstrap", (small, 2, 0, 4.0, 1, True, 0.5, 0.9)),
        case("random, not terminated", (Q, s, a, float(np.round(rng.normal(), 2)), s_next, False, 0.3, 0.95)),
        case("random, terminated", (Q, s, a, float(np.round(rng.normal(), 2)), s_next, True, 0.3, 0.95)),
    ]


# =============================================================================================
# sarsa_update
# =============================================================================================
def wrong_sarsa_uses_max(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    """DELIBERATELY WRONG: Q-learning's max instead of the next action's value."""
    return q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma)


@register(EXERCISE, "sarsa_update")
def sarsa_update_cases(rng: np.random.Generator) -> list[Case]:
    mistakes = [*_wrong_variants(sarsa_update, 6),
                ("used max(Q[s_next])? SARSA bootstraps from Q[s_next, a_next], the action actually taken next",
                 wrong_sarsa_uses_max)]

    def case(name: str, args) -> Case:
        return inplace_case(name, args, sarsa_update, (0,), labels=("TD error", "Q"), wrong_variants=mistakes,
                            fallback_hint="delta = r + gamma * (1 - terminated) * Q[s_next, a_next] - Q[s, a]")

    Q = _random_q(rng)
    s, a, s_next = int(rng.integers(len(Q))), int(rng.integers(Q.shape[1])), int(rng.integers(len(Q)))
    a_next = int(np.argmin(Q[s_next]))  # not the greedy action: tells SARSA from Q-learning
    small = np.array([[0.0, 1.0], [2.0, 3.0], [0.5, -1.0]])
    return [
        case("one step, next action not greedy", (small, 0, 1, 1.0, 1, 0, False, 0.5, 0.9)),
        case("terminated: no bootstrap", (small, 2, 0, 4.0, 1, 1, True, 0.5, 0.9)),
        case("random, not terminated", (Q, s, a, float(np.round(rng.normal(), 2)), s_next, a_next, False, 0.3, 0.95)),
    ]


# =============================================================================================
# expected_sarsa_update
# =============================================================================================
def wrong_expected_sarsa_full_mass_per_tie(Q, s, a, r, s_next, terminated, alpha, gamma, epsilon):
    """DELIBERATELY WRONG: gives 1 - epsilon to EACH tied greedy action."""
    row = np.asarray(Q[s_next], dtype=np.float64)
    best = row == row.max()
    expected = epsilon * row.mean() + (1 - epsilon) * row.max() * best.sum()
    target = r + (0.0 if terminated else gamma * expected)
    td_error = target - Q[s][a]
    Q[s][a] += alpha * td_error
    return float(td_error)


def wrong_expected_sarsa_no_epsilon_share(Q, s, a, r, s_next, terminated, alpha, gamma, epsilon):
    """DELIBERATELY WRONG: the greedy action gets 1 - epsilon, the others share nothing."""
    row = np.asarray(Q[s_next], dtype=np.float64)
    target = r + (0.0 if terminated else gamma * (1 - epsilon) * row.max())
    td_error = target - Q[s][a]
    Q[s][a] += alpha * td_error
    return float(td_error)


def wrong_expected_sarsa_plain_mean(Q, s, a, r, s_next, terminated, alpha, gamma, epsilon):
    """DELIBERATELY WRONG: the uniform mean of the next row (epsilon ignored)."""
    return expected_sarsa_update(Q, s, a, r, s_next, terminated, alpha, gamma, 1.0)


@register(EXERCISE, "expected_sarsa_update")
def expected_sarsa_update_cases(rng: np.random.Generator) -> list[Case]:
    mistakes = [*_wrong_variants(expected_sarsa_update, 5),
                ("greedy mass not split over ties? The 1 - epsilon is shared by the tied best actions, not given to "
                 "each", wrong_expected_sarsa_full_mass_per_tie),
                ("every action also gets epsilon / K, the greedy one included: "
                 "E = epsilon * mean(Q[s_next]) + (1 - epsilon) * max(Q[s_next])",
                 wrong_expected_sarsa_no_epsilon_share),
                ("the uniform mean? Weight by the epsilon-greedy probabilities", wrong_expected_sarsa_plain_mean),
                ("that is Q-learning's target (max); Expected SARSA takes the expectation under epsilon-greedy",
                 lambda Q, s, a, r, s_next, terminated, alpha, gamma, epsilon:
                 q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma))]

    def case(name: str, args) -> Case:
        return inplace_case(name, args, expected_sarsa_update, (0,), labels=("TD error", "Q"), wrong_variants=mistakes,
                            fallback_hint="E = epsilon * mean(Q[s_next]) + (1 - epsilon) * max(Q[s_next]); "
                                          "delta = r + gamma * (1 - terminated) * E - Q[s, a]")

    Q = _random_q(rng)
    s, a, s_next = int(rng.integers(len(Q))), int(rng.integers(Q.shape[1])), int(rng.integers(len(Q)))
    tied = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, -1.0], [1.0, 0.0, 0.5]])
    return [
        case("two tied best next actions, epsilon=0.2", (tied, 0, 1, 1.0, 1, False, 0.5, 0.9, 0.2)),
        case("terminated: no bootstrap", (tied, 2, 0, 4.0, 1, True, 0.5, 0.9, 0.1)),
        case("random, epsilon=0.1", (Q, s, a, float(np.round(rng.normal(), 2)), s_next, False, 0.3, 0.95, 0.1)),
    ]


# =============================================================================================
# linear_schedule
# =============================================================================================
def wrong_schedule_not_clamped(step, start, end, duration):
    """DELIBERATELY WRONG: keeps going past ``end``."""
    return start + (end - start) * step / max(duration, 1)


def wrong_schedule_off_by_one(step, start, end, duration):
    """DELIBERATELY WRONG: reaches ``end`` one step early."""
    return linear_schedule(step, start, end, max(duration - 1, 0))


def wrong_schedule_integer_division(step, start, end, duration):
    """DELIBERATELY WRONG: step // duration (0 until the end, then 1)."""
    return linear_schedule(duration if step >= duration else 0, start, end, duration)


SCHEDULE_MISTAKES = [
    ("not clamped after duration? Past step `duration` return `end`", wrong_schedule_not_clamped),
    ("off by one? `end` is reached at step == duration, not duration - 1", wrong_schedule_off_by_one),
    ("integer division? step / duration, not step // duration", wrong_schedule_integer_division),
]


@register(EXERCISE, "linear_schedule",
          error_hint=lambda error: "duration = 0 means `end` from the start (no division by 0)"
          if isinstance(error, ZeroDivisionError) else "")
def linear_schedule_cases(rng: np.random.Generator) -> list[Case]:
    start, end = 1.0, float(np.round(rng.uniform(0.01, 0.2), 3))
    duration = int(rng.integers(50, 500))

    def case(name: str, step: int, start: float, end: float, duration: int) -> Case:
        return value_case(name, (step, start, end, duration), linear_schedule, wrong_variants=SCHEDULE_MISTAKES,
                          fallback_hint="start + (end - start) * step / duration, and `end` once step >= duration")

    return [
        case("step 0: start", 0, 1.0, 0.1, 100),
        case("halfway", 50, 1.0, 0.1, 100),
        case("step == duration: end", 100, 1.0, 0.1, 100),
        case("after duration: still end", 250, 1.0, 0.1, 100),
        case("duration 0: end at once", 0, 1.0, 0.05, 0),
        case(f"random: step {duration // 3} of {duration}", duration // 3, start, end, duration),
        case(f"random: step {2 * duration} of {duration}", 2 * duration, start, end, duration),
    ]
