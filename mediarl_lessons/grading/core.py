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

One code path runs them, for ``check()`` in a notebook and for the batch grader alike:
:func:`observe_function` (the half that runs the learner's code; in the batch grader it runs
in a sandbox that only ever receives the cases' ``observe`` functions, never the seed or an
expected answer) returns plain data (:mod:`mediarl_lessons.grading.records`), and
:func:`judge_function` (the grader's half) validates that data and judges it. Each function is
observed alone: the other contract functions it calls are the course's reference versions
while it runs (:func:`substituted`), so a mistake costs the points of the function that
makes it and no others. A function that is, wraps or subclasses its own reference scores 0
(:func:`reference_use`).

Cases are built from a seed: the micro-cases are fixed, the randomised ones change with the
seed (``check(func, seed=7)``), so an answer hard-coded for one seed fails another.
"""

from __future__ import annotations

import builtins
import contextlib
import dis
import functools
import importlib
import json
import math
import signal
import sys
import sysconfig
import threading
import types
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mediarl_lessons.grading.records import MalformedRecord, decode, encode

__all__ = [
    "DEFAULT_SEED",
    "REFERENCES",
    "Case",
    "CheckTimeout",
    "CaseResult",
    "CheckResult",
    "FunctionCheck",
    "Mistake",
    "NOT_ATTEMPTED",
    "REGISTRY",
    "case_rng",
    "describe",
    "build_cases",
    "judge_function",
    "observe_function",
    "reference_use",
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
    notes: str = ""

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
        lines = [f"note: {self.notes}"] if self.notes and not self.passed else []
        lines += [f"{case.name}: expected {case.expected}, got {case.got}"
                  + (f" -- hint: {case.hint}" if case.hint else "")
                  for case in self.cases if not case.passed]
        return "\n".join(lines) if any(not case.passed for case in self.cases) else "all cases passed"

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

    MakeCases = Callable[[np.random.Generator], list[Case]]

    def decorator(make_cases: MakeCases) -> MakeCases:
        REGISTRY.setdefault(exercise, {})[name] = FunctionCheck(
            exercise, name, make_cases, error_hint if error_hint is not None else (lambda error: ""))
        return make_cases

    return decorator


def case_rng(seed: int, exercise: str, name: str) -> np.random.Generator:
    """The generator that builds one function's cases: depends on the seed and on nothing else."""
    return np.random.default_rng([seed, zlib.crc32(f"{exercise}/{name}".encode())])


#: The course's own implementation of each exercise function, as ``"module:attribute"``: what
#: a submission must not be, wrap or subclass, and what stands in for the other contract
#: functions while one function is checked. (A new exercise function adds one line here.)
REFERENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "01_bandits": {
        "epsilon_greedy": ("mediarl_lessons.agents.bandits:epsilon_greedy",),
        "sample_average": ("mediarl_lessons.agents.bandits:sample_average",),
        "ucb_scores": ("mediarl_lessons.agents.bandits:ucb_scores",),
        "thompson_bernoulli": ("mediarl_lessons.agents.bandits:thompson_bernoulli",),
        "gradient_bandit_update": ("mediarl_lessons.agents.bandits:gradient_bandit_update",),
    },
    "02_contextual": {
        "linucb_scores": ("mediarl_lessons.agents.bandits:linucb_scores",),
        "linucb_update": ("mediarl_lessons.agents.bandits:linucb_update",),
        "ips_estimate": ("mediarl_lessons.offline:ips_estimate",),
        "snips_estimate": ("mediarl_lessons.offline:snips_estimate",),
        "replay_estimate": ("mediarl_lessons.offline:replay_estimate",),
    },
    "03_dynamic_programming": {
        "q_from_v": ("mediarl_lessons.mdp:q_from_v",),
        "policy_evaluation": ("mediarl_lessons.mdp:policy_evaluation", "mediarl_lessons.mdp:policy_evaluation_linear",
                              "mediarl_lessons.mdp:policy_values"),
        "value_iteration": ("mediarl_lessons.mdp:value_iteration",),
        "greedy_policy": ("mediarl_lessons.mdp:greedy_policy",),
    },
    "04_q_learning": {
        "q_learning_update": ("mediarl_lessons.agents.tabular:q_learning_update",),
        "sarsa_update": ("mediarl_lessons.agents.tabular:sarsa_update",),
        "expected_sarsa_update": ("mediarl_lessons.agents.tabular:expected_sarsa_update",),
        "linear_schedule": ("mediarl_lessons.agents.tabular:linear_schedule",),
    },
    "05_dqn": {
        "ReplayBuffer": ("mediarl_lessons.agents.dqn:ReplayBuffer",),
        "td_targets": ("mediarl_lessons.agents.dqn:td_targets",),
        "double_dqn_targets": ("mediarl_lessons.agents.dqn:double_dqn_targets",),
        "dqn_loss": ("mediarl_lessons.agents.dqn:dqn_loss",),
        "soft_update": ("mediarl_lessons.agents.dqn:soft_update",),
    },
}


def reference_objects(exercise: str, name: str) -> tuple[Any, ...]:
    """The reference objects of ``exercise/name`` (imported on demand: 05's need torch)."""
    objects = []
    for spec in REFERENCES.get(exercise, {}).get(name, ()):
        module, attribute = spec.split(":")
        objects.append(getattr(importlib.import_module(module), attribute))
    return tuple(objects)


# ---------------------------------------------------------------------------------------------
# Observing: the half that runs the learner's code
# ---------------------------------------------------------------------------------------------
class CheckTimeout(BaseException):
    """Raised inside a learner's function that ran out of time (a BaseException, so that an
    ``except Exception`` in the learner's code does not swallow it)."""


def observe_case(observe: Callable[[Callable[..., Any]], Any], func: Callable[..., Any], *,
                 catch_interrupt: bool = True) -> dict[str, Any] | str:
    """Run one case's ``observe(func)``: a record ``{"outcome": "ok", "value": ...}`` or
    ``{"outcome": "error", "type": ..., "message": ...}``, or ``"not attempted"``.

    Numpy's floating-point warnings are silenced: an overflow shows up as an ``inf`` or a
    ``nan`` in the answer, which the judge explains better than a warning would. A
    ``KeyboardInterrupt`` raised by the learner's code is an error of this case
    (``catch_interrupt``; ``check()`` in a notebook lets a real interrupt stop the check).
    """
    caught: tuple[type[BaseException], ...] = (Exception, SystemExit)
    if catch_interrupt:
        caught += (KeyboardInterrupt,)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return {"outcome": "ok", "value": encode(observe(func))}
    except NotImplementedError:
        return "not attempted"
    except caught as error:  # anything the learner's code raises is a failed case, not a crash
        try:
            message = str(error)
        except Exception:
            message = ""
        return {"outcome": "error", "type": type(error).__name__[:80], "message": message[:300]}


def observe_function(observers: Sequence[Callable[[Callable[..., Any]], Any]], func: Any, *,
                     exercise: str, name: str, catch_interrupt: bool = True) -> list[dict[str, Any]] | str:
    """Observe ``func`` on every case: a list of records, or ``"not attempted"`` / ``"reference"``.

    The other contract functions of the exercise are the course's references while it runs
    (so only this function's mistakes count), and a function that is, wraps or subclasses its
    own reference is ``"reference"`` (it scores 0).
    """
    if reference_use(func, reference_objects(exercise, name)):
        return "reference"
    records: list[dict[str, Any]] = []
    with substituted(func, exercise, name):
        for observe in observers:
            record = observe_case(observe, func, catch_interrupt=catch_interrupt)
            if record == "not attempted":
                return "not attempted"
            records.append(record)  # type: ignore[arg-type]
    return records


def others_used(func: Any, exercise: str, name: str) -> list[str]:
    """The other contract functions of ``exercise`` that ``func``'s code refers to by name."""
    others = [other for other in REFERENCES.get(exercise, {}) if other != name]
    names = _names_in(func)
    return [other for other in others if other in names]


@contextlib.contextmanager
def substituted(func: Any, exercise: str, name: str) -> Iterator[None]:
    """While checking ``name``, the other contract functions ``func`` calls are the references.

    ``dqn_loss`` calling the learner's ``td_targets`` runs with the course's ``td_targets``
    instead, so a bug there costs only ``td_targets``'s point. The names are swapped in the
    namespace the learner's function reads its globals from, and put back afterwards.
    """
    namespace = getattr(func, "__globals__", None)
    if namespace is None and isinstance(func, type):
        namespace = next((method.__globals__ for method in vars(func).values() if hasattr(method, "__globals__")), None)
    swaps = others_used(func, exercise, name) if isinstance(namespace, dict) else []
    saved = {other: namespace.get(other, _ABSENT) for other in swaps}  # type: ignore[union-attr]
    try:
        for other in swaps:
            namespace[other] = reference_objects(exercise, other)[0]  # type: ignore[index]
        yield
    finally:
        for other, value in saved.items():
            if value is _ABSENT:
                namespace.pop(other, None)  # type: ignore[union-attr]
            else:
                namespace[other] = value  # type: ignore[index]


_ABSENT = object()


def reference_use(obj: Any, references: Sequence[Any]) -> bool:
    """Whether ``obj`` is one of ``references``, subclasses one, or refers to one in its code.

    Follows what a function's code names (globals, attributes of modules, modules it imports
    itself, closures, defaults) and, for a class, its bases and methods, through the learner's
    own helpers. A student who pastes the reference's source is not caught here: that is
    copying, not grading.
    """
    if not references:
        return False
    return _refers(obj, tuple(references), set(), 0)


def _refers(obj: Any, references: tuple[Any, ...], seen: set[int], depth: int) -> bool:
    if depth > 8 or id(obj) in seen:
        return False
    seen.add(id(obj))
    if any(obj is reference for reference in references):
        return True
    if isinstance(obj, functools.partial):
        return _refers(obj.func, references, seen, depth + 1)
    wrapped = getattr(obj, "__wrapped__", None) if not isinstance(obj, types.ModuleType) else None
    if wrapped is not None and _refers(wrapped, references, seen, depth + 1):
        return True
    if isinstance(obj, type):
        if any(base is reference for base in obj.__mro__[1:] for reference in references):
            return True
        return any(_refers(member, references, seen, depth + 1) for member in vars(obj).values()
                   if isinstance(member, (types.FunctionType, staticmethod, classmethod, property)))
    if isinstance(obj, (staticmethod, classmethod)):
        return _refers(obj.__func__, references, seen, depth + 1)
    if isinstance(obj, property):
        return any(_refers(part, references, seen, depth + 1) for part in (obj.fget, obj.fset) if part)
    if isinstance(obj, types.MethodType):
        return _refers(obj.__func__, references, seen, depth + 1)
    if not isinstance(obj, types.FunctionType):
        return False
    names = _code_names(obj.__code__)
    namespace = obj.__globals__
    values = [namespace[n] for n in names if n in namespace]
    # modules imported inside the function (`from mediarl_lessons.mdp import value_iteration`)
    values += [sys.modules[module] for module in _imported_modules(obj.__code__) if module in sys.modules]
    values += [cell.cell_contents for cell in obj.__closure__ or () if _has_contents(cell)]
    values += list(obj.__defaults__ or ()) + list((obj.__kwdefaults__ or {}).values())
    for value in values:
        if isinstance(value, types.ModuleType):
            if _module_refers(value, names, references, 0):
                return True
        elif _learner_object(value) or any(value is reference for reference in references):
            if _refers(value, references, seen, depth + 1):
                return True
    return False


def _module_refers(module: types.ModuleType, names: set[str], references: tuple[Any, ...], depth: int) -> bool:
    """``mdp.value_iteration`` or ``mediarl_lessons.mdp.value_iteration``: an attribute named in the code."""
    for attribute in names:
        value = getattr(module, attribute, None)
        if value is None:
            continue
        if any(value is reference for reference in references):
            return True
        if isinstance(value, types.ModuleType) and depth < 4 and _module_refers(value, names, references, depth + 1):
            return True
    return False


def _learner_object(value: Any) -> bool:
    """A function or class written by the learner (a notebook's, a submission's), not a library's."""
    if not isinstance(value, (types.FunctionType, type, functools.partial, types.MethodType)):
        return False
    module_name = str(getattr(value, "__module__", "") or "")
    if module_name.startswith("mediarl_lessons"):
        return False
    file = getattr(sys.modules.get(module_name), "__file__", None)
    return file is None or not str(file).startswith(_library_folders())


@functools.cache
def _library_folders() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple({paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths})


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names) | set(code.co_freevars)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _code_names(constant)
    return names


def _imported_modules(code: types.CodeType) -> set[str]:
    """The modules that ``import`` statements in the code (nested functions included) name."""
    modules = {instruction.argval for instruction in dis.get_instructions(code) if instruction.opname == "IMPORT_NAME"}
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            modules |= _imported_modules(constant)
    return modules


def _names_in(obj: Any) -> set[str]:
    """Every name the code of a function (or of a class's methods, or a compiled statement) refers to."""
    if isinstance(obj, types.CodeType):
        return _code_names(obj)
    if isinstance(obj, type):
        names: set[str] = set()
        for member in vars(obj).values():
            member = getattr(member, "__func__", member)
            if isinstance(member, types.FunctionType):
                names |= _code_names(member.__code__)
        return names
    code = getattr(getattr(obj, "__func__", obj), "__code__", None)
    return _code_names(code) if isinstance(code, types.CodeType) else set()


def _has_contents(cell: Any) -> bool:
    """Whether a closure cell holds a value yet (an empty one raises ValueError when read)."""
    try:
        _ = cell.cell_contents
    except ValueError:
        return False
    return True


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CheckTimeout` in this thread after ``seconds`` (and again every second
    after that, in case the learner's code swallowed it with a bare ``except:``).

    Only where an alarm signal can reach the code: the main thread on Linux and macOS (a
    notebook's cells run there). Elsewhere the check runs without a limit.
    """
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CheckTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds), 1.0)  # type: ignore[arg-type]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------------------------
# Judging: the grader's half
# ---------------------------------------------------------------------------------------------
def judge_function(check: FunctionCheck, cases: Sequence[Case], result: Any, *, timeout: float | None = None
                   ) -> CheckResult:
    """Judge what :func:`observe_function` returned for one function (as plain data, untrusted).

    ``result`` is a list of case records, or one of ``"not attempted"``, ``"missing"``,
    ``"reference"``, ``"grader"``, ``"timeout"`` and ``"crashed"``; anything malformed scores 0
    with a message.
    """
    exercise, name = check.exercise, check.name
    if result == "missing":
        return CheckResult(exercise, name, "not attempted", message=f"{name}: not defined")
    if result == "not attempted":
        return CheckResult(exercise, name, "not attempted",
                           message=f"{name}: {NOT_ATTEMPTED} (it still raises NotImplementedError)")
    if result == "reference":
        return CheckResult(exercise, name, "failed", message=f"{name}: it is, calls or subclasses the course's own "
                                                             "reference implementation; write it yourself (0 points)")
    if result == "grader":
        return CheckResult(exercise, name, "failed", message=f"{name}: its code imports mediarl_lessons.grading, the "
                                                             "checks themselves (0 points)")
    if result == "timeout":
        limit = f" in {timeout:g} s" if timeout else ""
        return CheckResult(exercise, name, "failed", message=f"{name}: did not finish{limit} (an endless loop?)")
    if result == "crashed":
        return CheckResult(exercise, name, "failed", message=f"{name}: the process running it died "
                                                             "(os._exit, a crash, or too much memory)")
    if not isinstance(result, list) or len(result) != len(cases):
        return CheckResult(exercise, name, "failed", message=f"{name}: malformed result (not one record per case)")
    case_results = []
    for case, record in zip(cases, result):
        try:
            case_results.append(_judge_record(check, case, record))
        except MalformedRecord as error:
            return CheckResult(exercise, name, "failed", message=f"{name}: malformed result ({error})")
    status = "passed" if all(case.passed for case in case_results) else "failed"
    return CheckResult(exercise, name, status, case_results)


def _judge_record(check: FunctionCheck, case: Case, record: Any) -> CaseResult:
    if not isinstance(record, dict):
        raise MalformedRecord("a case record that is not an object")
    if record.get("outcome") == "ok" and set(record) == {"outcome", "value"}:
        return case.judge(decode(record["value"]))
    if record.get("outcome") == "error" and set(record) == {"outcome", "type", "message"}:
        error = rebuild_error(str(record["type"])[:80], str(record["message"])[:300])
        hint = check.error_hint(error) or "read the error: your function raised it on these inputs"
        return CaseResult(case.name, False, case.show_expected,
                          f"{type(error).__name__}: {_shorten(str(error), 70)}", hint)
    raise MalformedRecord("an unknown case record")


def rebuild_error(type_name: str, message: str) -> BaseException:
    """An instance of the named built-in exception (for the error hints), or a plain Exception."""
    error_type = getattr(builtins, type_name, None)
    if isinstance(error_type, type) and issubclass(error_type, BaseException) and type_name.isidentifier():
        try:
            return error_type(message)
        except Exception:
            pass
    return Exception(f"{type_name}: {message}") if type_name != "Exception" else Exception(message)


def build_cases(check: FunctionCheck, seed: int) -> list[Case]:
    """The cases of one function for one seed (this is where the reference answers are computed)."""
    return check.make_cases(case_rng(seed, check.exercise, check.name))


def run_check(check: FunctionCheck, func: Callable[..., Any], seed: int = DEFAULT_SEED, *,
              timeout: float | None = None) -> CheckResult:
    """``check()``'s path: observe in this process (within ``timeout`` seconds), judge, as the grader does."""
    cases = build_cases(check, seed)
    try:
        with time_limit(timeout):
            observed: Any = observe_function([case.observe for case in cases], func, exercise=check.exercise,
                                             name=check.name, catch_interrupt=False)
    except CheckTimeout:
        observed = "timeout"
    plain = json.loads(json.dumps(observed))  # exactly the data the batch grader would receive
    result = judge_function(check, cases, plain, timeout=timeout)
    result.notes = checked_with(func, check.exercise, check.name)
    return result


def checked_with(func: Any, exercise: str, name: str) -> str:
    """The feedback line saying which reference functions stood in while ``func`` (a function,
    class or the compiled statement defining it) was checked."""
    others = others_used(func, exercise, name)
    if not others:
        return ""
    listed = " and ".join(others)
    return (f"{name} was checked with the course's {listed} in place of yours, "
            f"so a mistake in {listed} costs only {'their' if len(others) > 1 else 'its'} points")


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
    if result.status in ("not attempted", "error") or not result.cases:
        return f"{title}: {result.message}"
    n_passed = sum(case.passed for case in result.cases)
    verdict = "all passed" if result.passed else f"{len(result.cases) - n_passed} failed"
    lines = [f"{title}: {n_passed}/{len(result.cases)} cases passed ({verdict})"]
    if result.notes:
        lines.append(f"  ({result.notes})")
    for case in result.cases:
        lines.append(f"  {'ok  ' if case.passed else 'FAIL'}  {case.name}")
        if not case.passed:
            lines.append(f"        expected: {case.expected}")
            lines.append(f"        got:      {case.got}")
            if case.hint:
                lines.append(f"        hint:     {case.hint}")
    return "\n".join(lines)
