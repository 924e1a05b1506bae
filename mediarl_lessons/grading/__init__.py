"""Instant feedback for the exercise notebooks: ``check(your_function)``.

    from mediarl_lessons.grading import check
    check(epsilon_greedy)                                  # found by the function's name
    check("01_bandits", "epsilon_greedy", epsilon_greedy)  # or named in full
    check(epsilon_greedy, seed=7)                          # other randomised cases

``check`` runs seeded micro-cases and randomised cases against the package's reference
functions, prints a short table (each case, ok/FAIL, and for a failure what was expected,
what came back and a hint naming the likely mistake) and returns a :class:`CheckResult`.
Random functions are checked statistically: frequencies over many calls against exact
probabilities, so any correct way of drawing passes.

A function that still raises ``NotImplementedError`` reports "not attempted yet". An error
raised by the learner's code is a failed case (its type and message, no traceback). A function
that runs longer than ``timeout`` seconds (60 by default) is stopped and fails. A function
that calls other functions of the exercise (``dqn_loss`` calling ``td_targets``) is checked
with the course's versions of those, so each function's table shows its own mistakes only;
one that is, wraps or subclasses the course's own implementation fails. The batch grader
(:mod:`mediarl_lessons.grading.grader`) judges in exactly the same way. ``check`` itself never
raises, unless ``strict=True``: then anything short of a pass raises ``AssertionError``
(useful in tests and in nbgrader's grade cells).

The exercises and their functions are in :data:`EXERCISES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from mediarl_lessons.grading.core import (
    DEFAULT_SEED,
    NOT_ATTEMPTED,
    REGISTRY,
    CaseResult,
    CheckResult,
    run_check,
)

__all__ = ["DEFAULT_SEED", "EXERCISES", "NOT_ATTEMPTED", "CaseResult", "CheckResult", "check", "check_exercise"]

#: One module per exercise; importing it registers its checks in ``REGISTRY`` (a new exercise is
#: one more module here). ``dqn`` imports torch only when one of its checks runs.
EXERCISE_MODULES = ("bandits", "contextual", "dynamic_programming", "q_learning", "dqn")
for _module in EXERCISE_MODULES:
    importlib.import_module(f"mediarl_lessons.grading.{_module}")

#: Every exercise stem and the names of the functions ``check`` knows for it.
EXERCISES: dict[str, tuple[str, ...]] = {exercise: tuple(checks) for exercise, checks in REGISTRY.items()}


#: How long ``check`` lets a learner's function run, all cases together (seconds).
CHECK_TIMEOUT = 60.0


def check(*args: Any, seed: int = DEFAULT_SEED, strict: bool = False, quiet: bool = False,
          timeout: float | None = CHECK_TIMEOUT) -> CheckResult:
    """Check an exercise function: ``check(func)`` or ``check(exercise, name, func)``.

    Prints the table (unless ``quiet``) and returns the :class:`CheckResult`. ``seed``
    changes the randomised cases; ``timeout`` (seconds, all cases together; ``None`` for no
    limit) stops an endless loop. Never raises, unless ``strict=True`` and the function
    did not pass.
    """
    result = _check(args, seed, timeout)
    if not quiet:
        print(result)
    if strict and not result.passed:
        raise AssertionError(str(result))
    return result


def _check(args: tuple[Any, ...], seed: int, timeout: float | None) -> CheckResult:
    if len(args) == 1 and callable(args[0]):
        func = args[0]
        name = getattr(func, "__name__", "")
        matches = [exercise for exercise, checks in REGISTRY.items() if name in checks]
        if not matches:
            return _usage_error("?", name or repr(func),
                                f"no exercise has a function called {name!r}; keep the name the exercise gives it, "
                                "or call check(exercise, name, func)")
        exercise = matches[0]
    elif len(args) == 3 and isinstance(args[0], str) and isinstance(args[1], str) and callable(args[2]):
        exercise, name, func = args
        if exercise not in REGISTRY:
            return _usage_error(exercise, name, f"unknown exercise {exercise!r}; choose one of: {', '.join(REGISTRY)}")
        if name not in REGISTRY[exercise]:
            return _usage_error(exercise, name, f"{exercise} has no function {name!r}; choose one of: "
                                                f"{', '.join(REGISTRY[exercise])}")
    else:
        return _usage_error("?", "?", "call check(your_function) or check(exercise, name, your_function)")
    try:
        return run_check(REGISTRY[exercise][name], func, seed, timeout=timeout)
    except Exception as error:  # a bug in a check must not become the learner's traceback
        return _usage_error(exercise, name, f"the check itself failed ({type(error).__name__}: {error}); "
                                            "please report it")


def _usage_error(exercise: str, name: str, message: str) -> CheckResult:
    return CheckResult(exercise, name, "error", message=message)


def check_exercise(exercise: str, functions: dict[str, Callable[..., Any]], *, seed: int = DEFAULT_SEED,
                   timeout: float | None = CHECK_TIMEOUT) -> list[CheckResult]:
    """Check every function of ``exercise`` found in ``functions`` (a module's namespace, say), quietly.

    A function missing from ``functions`` is reported as not attempted.
    """
    results = []
    for name, function_check in REGISTRY[exercise].items():
        func = functions.get(name)
        if func is None or not callable(func):
            results.append(CheckResult(exercise, name, "not attempted", message=f"{name}: not defined"))
        else:
            results.append(run_check(function_check, func, seed, timeout=timeout))
    return results
