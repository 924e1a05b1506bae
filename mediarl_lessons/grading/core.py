"""The machinery of ``check``: cases, mistakes, results and the registry of exercises.

A *check* tests one function of an exercise (``01_bandits`` / ``epsilon_greedy``). It is a
list of :class:`Case` objects, each in two halves:

- ``observe(func)`` calls the learner's function on the case's inputs (fresh copies every
  time) and returns what it produced: the return value, the arrays it changed in place, or,
  for a random function, how often it returned each answer over many calls. This is the only
  part that runs the learner's code.
- ``judge(observation)`` compares that observation with the reference's (computed by the
  package's own functions when the case is built) and, if they differ, names the likely
  mistake: each :class:`Mistake` is a predicate that recognises one wrong answer, usually
  "the observation equals what this deliberately wrong variant produces".

Keeping the halves apart lets the batch grader (phase 2) run ``observe`` in a sandboxed
subprocess and ``judge`` in its own process: the learner's code never decides its own score.

Cases are built from a seed: the micro-cases are fixed, the randomised ones change with the
seed (``check(func, seed=7)``), so an answer hard-coded for one seed fails another.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_SEED",
    "Case",
    "CaseResult",
    "CheckResult",
    "FunctionCheck",
    "Mistake",
    "NOT_ATTEMPTED",
    "REGISTRY",
    "case_rng",
    "describe",
    "register",
    "run_check",
]

#: The seed of ``check`` when none is given: the same code gets the same table every time.
DEFAULT_SEED = 2026

#: What a check reports when the learner's function still raises ``NotImplementedError``.
NOT_ATTEMPTED = "not attempted yet"


@dataclass(frozen=True)
class Mistake:
    """A known mistake: ``matches(observation)`` is True when the learner's answer looks like it."""

    hint: str
    matches: Callable[[Any], bool]


@dataclass(frozen=True)
class Case:
    """One test of a function: how to call it, what the reference says, which mistakes to spot.

    - ``observe(func)``: runs ``func`` on this case's inputs and returns the observation.
    - ``expected``: the reference's observation.
    - ``agrees(got, expected)``: whether an observation is acceptable.
    - ``mistakes``: tried in order when it is not; the first that matches gives the hint.
    - ``show_expected`` / ``show_got``: short texts for the table.
    - ``fallback_hint``: the hint when no known mistake matches.
    """

    name: str
    observe: Callable[[Callable[..., Any]], Any]
    expected: Any
    agrees: Callable[[Any, Any], bool]
    mistakes: Sequence[Mistake] = ()
    show_expected: str = ""
    show_got: Callable[[Any], str] = lambda got: describe(got)
    fallback_hint: str = ""

    def judge(self, got: Any) -> CaseResult:
        """Compare an observation with the reference (runs in the grader, never in student code)."""
        try:
            passed = bool(self.agrees(got, self.expected))
        except Exception:  # a malformed observation (wrong type or shape) simply disagrees
            passed = False
        if passed:
            return CaseResult(self.name, True, self.show_expected, _safe_show(self.show_got, got))
        hint = self.fallback_hint
        for mistake in self.mistakes:
            try:
                if mistake.matches(got):
                    hint = mistake.hint
                    break
            except Exception:
                continue
        return CaseResult(self.name, False, self.show_expected, _safe_show(self.show_got, got), hint)


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case, as plain strings (easy to print and to serialise)."""

    name: str
    passed: bool
    expected: str = ""
    got: str = ""
    hint: str = ""


@dataclass
class CheckResult:
    """The outcome of checking one function: what the notebook prints and the grader records.

    ``status`` is ``"passed"``, ``"failed"``, ``"not attempted"`` or ``"error"`` (the check
    itself could not run, e.g. an unknown function name; ``message`` says why). A function
    earns its ``max_points`` only when every case passes.
    """

    exercise: str
    name: str
    status: str
    cases: list[CaseResult] = field(default_factory=list)
    message: str = ""
    max_points: float = 1.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def points(self) -> float:
        return self.max_points if self.passed else 0.0

    @property
    def feedback(self) -> str:
        """One line per failed case (or the message): what a learner needs, without the table."""
        if self.status in ("not attempted", "error") or not self.cases:
            return self.message
        lines = [f"{case.name}: expected {case.expected}, got {case.got}" + (f" -- hint: {case.hint}" if case.hint else "")
                 for case in self.cases if not case.passed]
        return "\n".join(lines) if lines else "all cases passed"

    def to_dict(self) -> dict[str, Any]:
        """The grader's record: ``{"name", "passed", "points", "max_points", "feedback"}``."""
        return {"name": self.name, "passed": self.passed, "points": self.points,
                "max_points": self.max_points, "feedback": self.feedback}

    def __str__(self) -> str:
        return format_table(self)

    def _ipython_display_(self) -> None:
        """Show nothing more in a notebook: ``check`` has printed the table already (``print(result)`` reprints it)."""

    def __bool__(self) -> bool:
        return self.passed


@dataclass(frozen=True)
class FunctionCheck:
    """The check of one exercise function: builds its cases from a random generator."""

    exercise: str
    name: str
    make_cases: Callable[[np.random.Generator], list[Case]]
    error_hint: Callable[[BaseException], str] = lambda error: ""


#: ``REGISTRY[exercise][function name]``: every check, filled in by the exercise modules.
REGISTRY: dict[str, dict[str, FunctionCheck]] = {}


def register(exercise: str, name: str, *, error_hint: Callable[[BaseException], str] | None = None
             ) -> Callable[[Callable[[np.random.Generator], list[Case]]], Callable[[np.random.Generator], list[Case]]]:
    """Decorator: register ``make_cases(rng) -> list[Case]`` as the check of ``exercise/name``."""

    def decorator(make_cases: Callable[[np.random.Generator], list[Case]]) -> Callable[[np.random.Generator], list[Case]]:
        REGISTRY.setdefault(exercise, {})[name] = FunctionCheck(
            exercise, name, make_cases, error_hint if error_hint is not None else (lambda error: ""))
        return make_cases

    return decorator


def case_rng(seed: int, exercise: str, name: str) -> np.random.Generator:
    """The generator that builds one function's cases: depends on the seed and on nothing else."""
    return np.random.default_rng([seed, zlib.crc32(f"{exercise}/{name}".encode())])


def observe_safely(case: Case, func: Callable[..., Any]) -> tuple[str, Any]:
    """Run ``case.observe(func)``: ``("ok", observation)``, ``("not attempted", None)`` or ``("error", exc)``.

    Numpy's floating-point warnings are silenced: an overflow shows up as an ``inf`` or a
    ``nan`` in the answer, which the judge explains better than a warning would.
    """
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return "ok", case.observe(func)
    except NotImplementedError:
        return "not attempted", None
    except (Exception, SystemExit) as error:  # anything the learner's code raises is a failed case, not a crash
        return "error", error


def run_check(check: FunctionCheck, func: Callable[..., Any], seed: int = DEFAULT_SEED) -> CheckResult:
    """Run every case of ``check`` on ``func`` (in this process) and collect the results."""
    cases = check.make_cases(case_rng(seed, check.exercise, check.name))
    results: list[CaseResult] = []
    for case in cases:
        outcome, value = observe_safely(case, func)
        if outcome == "not attempted":
            return CheckResult(check.exercise, check.name, "not attempted",
                               message=f"{check.name}: {NOT_ATTEMPTED} (it still raises NotImplementedError)")
        if outcome == "error":
            hint = check.error_hint(value) or "read the error: your function raised it on these inputs"
            results.append(CaseResult(case.name, False, case.show_expected,
                                      f"{type(value).__name__}: {_shorten(str(value), 70)}", hint))
        else:
            results.append(case.judge(value))
    status = "passed" if all(result.passed for result in results) else "failed"
    return CheckResult(check.exercise, check.name, status, results)


# ---------------------------------------------------------------------------------------------
# Showing values and results
# ---------------------------------------------------------------------------------------------
def describe(value: Any, width: int = 60) -> str:
    """A short one-line text of a value: numbers rounded, long arrays cut."""
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _number(float(value))
    if isinstance(value, tuple):
        return _shorten("(" + ", ".join(describe(item, width) for item in value) + ")", width)
    if isinstance(value, (np.ndarray, list)):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return _shorten(repr(value), width)
        if array.ndim == 0:
            return _number(float(array))
        text = np.array2string(array, precision=4, separator=", ", max_line_width=10_000,
                               formatter={"float_kind": _number}, threshold=30).replace("\n", "")
        return _shorten(" ".join(text.split()), width)
    return _shorten(f"{type(value).__name__} {value!r}", width)


def _number(x: float) -> str:
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.5g}"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _safe_show(show: Callable[[Any], str], value: Any) -> str:
    try:
        return show(value)
    except Exception:
        return describe(value)


def format_table(result: CheckResult) -> str:
    """The text ``check`` prints: a header line, then one line per case (and details for failures)."""
    title = f"{result.name} ({result.exercise})"
    if result.status in ("not attempted", "error"):
        return f"{title}: {result.message}"
    n_passed = sum(case.passed for case in result.cases)
    verdict = "all passed" if result.passed else f"{len(result.cases) - n_passed} failed"
    lines = [f"{title}: {n_passed}/{len(result.cases)} cases passed ({verdict})"]
    for case in result.cases:
        lines.append(f"  {'ok  ' if case.passed else 'FAIL'}  {case.name}")
        if not case.passed:
            lines.append(f"        expected: {case.expected}")
            lines.append(f"        got:      {case.got}")
            if case.hint:
                lines.append(f"        hint:     {case.hint}")
    return "\n".join(lines)
