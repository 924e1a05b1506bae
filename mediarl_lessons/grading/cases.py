"""Building blocks for the checks: value cases, in-place cases and statistical draw cases.

- :func:`value_case`: call the function once; compare what it returns with the reference.
- :func:`inplace_case`: also compare the arrays it must change in place.
- :func:`draw_case`: for a random choice, call it many times and compare how often each
  answer comes back with the exact probabilities (:func:`frequencies_fit`): any correct way
  of drawing passes, whatever random numbers it uses.

Wrong variants passed to these builders are deliberately wrong implementations that exist
only to recognise a learner's mistake; they live in the exercise modules of this package,
each labelled as such.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mediarl_lessons.grading.core import Case, Mistake, describe

__all__ = ["close", "draw_case", "frequencies_fit", "inplace_case", "value_case", "FALSE_ALARM"]

#: Probability that a correct random function fails one statistical case (all arms together).
FALSE_ALARM = 1e-6


def close(got: Any, expected: Any, rtol: float = 1e-7, atol: float = 1e-9) -> bool:
    """Same shape and the same numbers up to rounding; ``inf`` equals ``inf``, ``nan`` equals ``nan``.

    Tuples are compared item by item (an in-place case observes ``(returned, arrays...)``).
    """
    if isinstance(expected, tuple):
        return isinstance(got, tuple) and len(got) == len(expected) and all(
            close(g, e, rtol, atol) for g, e in zip(got, expected))
    if got is None or expected is None:
        return got is None and expected is None
    got_array = np.asarray(got, dtype=np.float64)
    expected_array = np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected_array.shape:
        return False
    return bool(np.allclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=True))


def _variant_mistakes(observe: Callable[[Callable[..., Any]], Any], expected: Any,
                      wrong_variants: Sequence[tuple[str, Callable[..., Any]]],
                      agrees: Callable[[Any, Any], bool]) -> list[Mistake]:
    """A :class:`Mistake` per wrong variant that, on this case, answers differently from the reference."""
    mistakes = []
    for hint, wrong in wrong_variants:
        try:
            with np.errstate(all="ignore"):
                wrong_answer = observe(wrong)
        except Exception:
            continue  # this variant crashes on these inputs: it cannot be what the learner did
        if agrees(wrong_answer, expected):
            continue  # indistinguishable from the right answer here: no evidence either way
        mistakes.append(Mistake(hint, lambda got, wrong_answer=wrong_answer: agrees(got, wrong_answer)))
    return mistakes


def value_case(name: str, args: Sequence[Any], reference: Callable[..., Any], *,
               wrong_variants: Sequence[tuple[str, Callable[..., Any]]] = (),
               predicates: Sequence[Mistake] = (),
               agrees: Callable[[Any, Any], bool] = close,
               fallback_hint: str = "") -> Case:
    """Call the function once on (copies of) ``args``; compare the value it returns."""
    frozen_args = tuple(copy.deepcopy(arg) for arg in args)

    def observe(func: Callable[..., Any]) -> Any:
        return _plain(func(*copy.deepcopy(frozen_args)))

    expected = observe(reference)
    mistakes = [*predicates, *_variant_mistakes(observe, expected, wrong_variants, agrees)]
    return Case(name, observe, expected, agrees, mistakes, describe(expected), fallback_hint=fallback_hint)


def inplace_case(name: str, args: Sequence[Any], reference: Callable[..., Any], changed: Sequence[int], *,
                 labels: Sequence[str], wrong_variants: Sequence[tuple[str, Callable[..., Any]]] = (),
                 predicates: Sequence[Mistake] = (), agrees: Callable[[Any, Any], bool] = close,
                 fallback_hint: str = "", returns: bool = True) -> Case:
    """Call the function once; observe ``(returned, *args[i] after the call for i in changed)``.

    ``labels`` names the parts for the table (e.g. ``("TD error", "Q")``); with
    ``returns=False`` the return value is not compared (the contract returns ``None``).
    """
    frozen_args = tuple(copy.deepcopy(arg) for arg in args)

    def observe(func: Callable[..., Any]) -> tuple[Any, ...]:
        call_args = copy.deepcopy(frozen_args)
        returned = func(*call_args)
        parts = [_plain(returned)] if returns else []
        return (*parts, *(np.array(call_args[i], dtype=np.float64) for i in changed))

    expected = observe(reference)
    mistakes = [*predicates, *_variant_mistakes(observe, expected, wrong_variants, agrees)]

    def show(observation: tuple[Any, ...]) -> str:
        return "; ".join(f"{label} {describe(part, 48)}" for label, part in zip(labels, observation))

    return Case(name, observe, expected, agrees, mistakes, show(expected), show, fallback_hint)


def _plain(value: Any) -> Any:
    """A returned value as plain data: numbers and arrays as float arrays, anything else as is."""
    if value is None or isinstance(value, (str, bytes, dict)):
        return value
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        return value
    return float(array) if array.ndim == 0 else array


# ---------------------------------------------------------------------------------------------
# Random functions: frequencies against exact probabilities
# ---------------------------------------------------------------------------------------------
def frequencies_fit(counts: np.ndarray, probabilities: np.ndarray, false_alarm: float = FALSE_ALARM) -> bool:
    r"""Whether arm counts from ``n`` independent draws are plausible under ``probabilities``.

    Each count is Binomial(n, p). Bernstein's inequality bounds its deviation from ``n p``:
    :math:`P(|c - np| \ge t) \le 2 \exp(-t^2 / (2 (np(1-p) + t/3)))`. Solving for the ``t``
    that makes this ``false_alarm / K`` (a union bound over the ``K`` arms) gives a tolerance
    that a correct function exceeds with probability below ``false_alarm`` whatever the
    probabilities, small ones included (where the normal approximation is poor). An arm of
    probability 0 must never come up.
    """
    counts = np.asarray(counts, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if counts.shape != probabilities.shape:
        return False
    n = counts.sum()
    log_term = math.log(2 * len(counts) / false_alarm)
    variance = n * probabilities * (1 - probabilities)
    tolerance = log_term / 3 + np.sqrt((log_term / 3) ** 2 + 2 * variance * log_term)
    impossible = probabilities <= 1e-12
    return bool(np.all(np.abs(counts - n * probabilities) <= tolerance) and np.all(counts[impossible] == 0))


def draw_case(name: str, draw: Callable[[Callable[..., Any], np.random.Generator], Any], probabilities: np.ndarray, *,
              seed: int, n_draws: int = 4000, wrong_probabilities: Sequence[tuple[str, np.ndarray]] = (),
              fallback_hint: str = "") -> Case:
    """Call a random choice ``n_draws`` times; compare each answer's frequency with its probability.

    ``draw(func, rng)`` makes one call (with the generator the case provides). The
    observation is the count of each answer, or ``("invalid", text)`` if an answer is not an
    integer in ``[0, K-1]``. ``wrong_probabilities`` are the exact distributions of known
    wrong ways of choosing: frequencies that fit one of them name the mistake.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n_arms = len(probabilities)

    def observe(func: Callable[..., Any]) -> Any:
        rng = np.random.default_rng(seed)
        counts = np.zeros(n_arms, dtype=np.int64)
        for _ in range(n_draws):
            arm = draw(func, rng)
            if not (isinstance(arm, (int, np.integer)) and not isinstance(arm, bool) and 0 <= arm < n_arms):
                if isinstance(arm, (float, np.floating)) and float(arm).is_integer() and 0 <= arm < n_arms:
                    arm = int(arm)  # 2.0 is an arm index too
                else:
                    return ("invalid", describe(arm))
            counts[arm] += 1
        return counts

    def agrees(got: Any, expected: np.ndarray) -> bool:
        return not isinstance(got, tuple) and frequencies_fit(got, expected)

    def show(got: Any) -> str:
        if isinstance(got, tuple):
            return f"returned {got[1]}, not an arm index in [0, {n_arms - 1}]"
        return f"frequencies {describe(np.asarray(got) / n_draws, 52)}"

    wrong_arrays = [(hint, np.asarray(wrong, dtype=np.float64)) for hint, wrong in wrong_probabilities]
    mistakes = [Mistake(hint, lambda got, wrong=wrong: agrees(got, wrong))
                for hint, wrong in wrong_arrays if not np.allclose(wrong, probabilities, atol=1e-3)]
    mistakes.append(Mistake(f"return one arm index, an int in [0, {n_arms - 1}]", lambda got: isinstance(got, tuple)))
    return Case(name, observe, probabilities, agrees, mistakes,
                f"probabilities {describe(probabilities, 50)} ({n_draws} draws)", show, fallback_hint)
