"""Every case's ``observe`` travels: cloudpickle sends it (closures by value) into another process,
where, called with the reference, it observes what the case expects; and it carries only the
case's inputs, never the reference's answer (the batch grader's sandbox, which runs the
learner's code, receives these functions and must not receive the expected answers).

The fast tests (pickling, what the closures hold) build the cases in this process; the
round trip runs one fresh interpreter per exercise (a few seconds in all, torch for 05_dqn).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
import pickle
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pytest

from mediarl_lessons.grading import EXERCISES
from mediarl_lessons.grading.core import REGISTRY, case_rng

SEED = 2026

#: The reference each check computes its expected answers with, as "module:attribute" (the
#: package's functions that the check modules import; 05_dqn's ``_reference()`` is
#: ``mediarl_lessons.agents.dqn``, whose ``ReplayBuffer`` class is what a case observes, as
#: ``check(ReplayBuffer)`` passes the learner's class). epsilon_greedy and thompson_bernoulli
#: are checked against exact probabilities; their reference is the package's own sampler.
REFERENCES: dict[str, dict[str, str]] = {
    "01_bandits": {name: f"mediarl_lessons.agents.bandits:{name}" for name in (
        "epsilon_greedy", "sample_average", "ucb_scores", "thompson_bernoulli", "gradient_bandit_update")},
    "02_contextual": {
        "linucb_scores": "mediarl_lessons.agents.bandits:linucb_scores",
        "linucb_update": "mediarl_lessons.agents.bandits:linucb_update",
        "ips_estimate": "mediarl_lessons.offline:ips_estimate",
        "snips_estimate": "mediarl_lessons.offline:snips_estimate",
        "replay_estimate": "mediarl_lessons.offline:replay_estimate",
    },
    "03_dynamic_programming": {
        "q_from_v": "mediarl_lessons.mdp:q_from_v",
        "policy_evaluation": "mediarl_lessons.mdp:policy_evaluation_linear",  # what the check's answers come from
        "value_iteration": "mediarl_lessons.mdp:value_iteration",
        "greedy_policy": "mediarl_lessons.mdp:greedy_policy",
    },
    "04_q_learning": {name: f"mediarl_lessons.agents.tabular:{name}" for name in (
        "q_learning_update", "sarsa_update", "expected_sarsa_update", "linear_schedule")},
    "05_dqn": {name: f"mediarl_lessons.agents.dqn:{name}" for name in (
        "ReplayBuffer", "td_targets", "double_dqn_targets", "dqn_loss", "soft_update")},
}

#: Cases whose ``expected`` is a distribution (or a property), not an observation: the
#: reference's counts must pass ``judge`` instead of equalling ``expected``.
STATISTICAL = {"draw_case", "_draws_case", "_seed_case"}

#: Run in a fresh interpreter: unpickle each observe, call it with its reference, pickle back
#: what it observed (or the error it raised).
CHILD = """
import importlib, pickle, sys
import cloudpickle
with open(sys.argv[1], "rb") as file:
    jobs = pickle.load(file)
results = []
for spec, payload in jobs:
    module, attribute = spec.split(":")
    reference = getattr(importlib.import_module(module), attribute)
    try:
        results.append(("ok", cloudpickle.loads(payload)(reference)))
    except BaseException as error:
        results.append(("error", f"{type(error).__name__}: {error}"))
with open(sys.argv[2], "wb") as file:
    pickle.dump(results, file)
"""


def _reference(spec: str) -> Any:
    module, attribute = spec.split(":")
    return getattr(importlib.import_module(module), attribute)


def _cases(exercise: str) -> list[tuple[str, Any]]:
    return [(name, case) for name in EXERCISES[exercise]
            for case in REGISTRY[exercise][name].make_cases(case_rng(SEED, exercise, name))]


def test_the_table_covers_every_checked_function() -> None:
    assert {exercise: set(names) for exercise, names in EXERCISES.items()} == \
        {exercise: set(names) for exercise, names in REFERENCES.items()}


@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_every_observe_pickles(exercise: str) -> None:
    for name, case in _cases(exercise):
        assert cloudpickle.dumps(case.observe), (exercise, name, case.name)


# ---------------------------------------------------------------------------------------------
# What an observe carries
# ---------------------------------------------------------------------------------------------
def _parts(value: Any) -> list[Any]:
    """``value`` and everything inside its tuples, lists, dicts and dataclasses."""
    parts, stack = [], [value]
    while stack:
        item = stack.pop()
        parts.append(item)
        if isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return parts


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _by_reference(value: Any) -> bool:
    """What cloudpickle pickles by name (importable modules, classes and module-level functions)."""
    return isinstance(value, (types.ModuleType, type, types.BuiltinFunctionType)) or (
        isinstance(value, types.FunctionType) and "<locals>" not in value.__qualname__
        and "<lambda>" not in value.__qualname__)


def _captured(observe: Any) -> list[tuple[str, Any]]:
    """Everything cloudpickle sends by value with ``observe``: closure cells, defaults, the
    function's ``__dict__`` (``__wrapped__``), the module globals its code reads, recursively
    through the nested functions, partials and containers found there."""
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("observe", observe)]
    while stack:
        path, value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        found.append((path, value))
        if isinstance(value, types.FunctionType) and (path == "observe" or not _by_reference(value)):
            for name, cell in zip(value.__code__.co_freevars, value.__closure__ or ()):
                try:
                    stack.append((f"{path}.<cell {name}>", cell.cell_contents))
                except ValueError:  # an empty cell
                    pass
            stack += [(f"{path}.__dict__[{key!r}]", item) for key, item in vars(value).items()]
            stack += [(f"{path}.__defaults__", value.__defaults__), (f"{path}.__kwdefaults__", value.__kwdefaults__)]
            stack += [(f"{path}.<global {name}>", value.__globals__[name]) for name in _code_names(value.__code__)
                      if name in value.__globals__ and not _by_reference(value.__globals__[name])]
        elif isinstance(value, functools.partial):
            stack += [(f"{path}.func", value.func), (f"{path}.args", value.args), (f"{path}.keywords", value.keywords)]
        elif isinstance(value, (tuple, list)):
            stack += [(f"{path}[{index}]", item) for index, item in enumerate(value)]
        elif isinstance(value, dict):
            stack += [(f"{path}[{key!r}]", item) for key, item in value.items()]
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            stack += [(f"{path}.{f.name}", getattr(value, f.name)) for f in dataclasses.fields(value)]
    return found


def _names(part: Any) -> bool:
    return isinstance(part, (bool, int, str, type(None))) or (
        isinstance(part, tuple) and bool(part) and all(isinstance(item, str) for item in part))


@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_no_observe_carries_the_expected_answer(exercise: str) -> None:
    # The reference's answer is computed outside observe (expected = observe(reference)) and
    # kept by the judging half; observe's captured state holds none of it. Not evidence: small
    # ints, strings, booleans and None (Python shares them), and names (05's FIELDS, the
    # contract's field names, are both read by observe and part of what a batch must be).
    for name, case in _cases(exercise):
        expected = {id(part) for part in _parts(case.expected) if not _names(part)}
        for path, value in _captured(case.observe):
            assert id(value) not in expected, \
                f"{exercise}/{name} [{case.name}]: {path} is (part of) the expected answer"


def test_the_walk_finds_an_answer_captured_through_a_wrapper() -> None:
    # The mistake the test above guards against, written out: observe reads the answer
    # (here behind functools.wraps, as 05_dqn's single-threaded wrapper hides its observe).
    expected = (np.arange(3.0), 0.5)

    def observe(func: Any) -> Any:
        return func(expected[0])

    @functools.wraps(observe)
    def wrapper(func: Any) -> Any:
        return observe(func)

    assert any(value is expected[0] for _, value in _captured(wrapper))


# ---------------------------------------------------------------------------------------------
# The round trip: unpickled in a fresh interpreter, called with the reference
# ---------------------------------------------------------------------------------------------
def _same(got: Any, expected: Any, rtol: float = 0.0) -> bool:
    """Equal as plain data: the same containers and types, the same array shapes and numbers
    (``nan`` equals ``nan``; within ``rtol`` if given)."""
    if isinstance(got, np.ndarray) or isinstance(expected, np.ndarray):
        return (isinstance(got, np.ndarray) and isinstance(expected, np.ndarray) and got.shape == expected.shape
                and (bool(np.array_equal(got, expected)) or (got.dtype.kind in "fc" and expected.dtype.kind in "fc"
                                                             and bool(np.allclose(got, expected, rtol=rtol, atol=0.0,
                                                                                  equal_nan=True)))))
    if isinstance(got, (tuple, list)):
        return (type(got) is type(expected) and len(got) == len(expected)
                and all(_same(g, e, rtol) for g, e in zip(got, expected)))
    if isinstance(got, float) and isinstance(expected, float):
        return (math.isnan(got) and math.isnan(expected)) or math.isclose(got, expected, rel_tol=rtol, abs_tol=0.0)
    return type(got) is type(expected) and bool(got == expected)


@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_unpickled_observe_called_with_the_reference_observes_the_expected(exercise: str, tmp_path: Path) -> None:
    cases = _cases(exercise)
    jobs = [(REFERENCES[exercise][name], cloudpickle.dumps(case.observe)) for name, case in cases]
    (tmp_path / "jobs.pkl").write_bytes(pickle.dumps(jobs))
    child = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "jobs.pkl"), str(tmp_path / "results.pkl")],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert child.returncode == 0, child.stderr[-2000:]
    results = pickle.loads((tmp_path / "results.pkl").read_bytes())
    assert len(results) == len(cases)
    for (name, case), (outcome, observation) in zip(cases, results):
        where = f"{exercise}/{name} [{case.name}]"
        assert outcome == "ok", f"{where}: {observation}"
        # What the same observe sees here, bit for bit (the random draws are seeded too) ...
        here = case.observe(_reference(REFERENCES[exercise][name]))
        assert _same(observation, here), f"{where}: {observation!r} != {here!r} (in this process)"
        # ... which the judge accepts, and which is the expected answer (value_iteration's is
        # computed to a tighter tol than the reference's default: equal up to rounding).
        assert case.judge(observation).passed, f"{where}: {case.judge(observation)}"
        if case.observe.__qualname__.split(".")[0] not in STATISTICAL:
            assert _same(observation, case.expected, rtol=1e-7), f"{where}: {observation!r} != {case.expected!r}"
