"""Mistakes that used to slip through ``check``, and a verdict that used to depend on the seed.

- IPS and SNIPS with importance weights clipped at 10: the random cases never make a weight
  above 10, so a case with tiny logging probabilities (weights up to 500) catches them.
- SNIPS when every weight is 0: the contract (``offline.snips_estimate``'s docstring, the
  exercise's "an estimate with nothing to average is nan, not 0") is ``nan``; 0 and a
  ``ZeroDivisionError`` fail with a hint that says so.
- Policy evaluation and value iteration stopping on ``max(V_new - V) < tol`` without ``abs``:
  with negative rewards the values fall from ``V = 0`` and that rule stops after one sweep.
- A computation in float32: the exercises do not ask for float64, so it passes on every
  seed (it used to pass or fail with the seed, the tolerance being below float32's precision).

Each point over 30 seeds: the package's reference and the course's solution pass, the wrong
variant fails with the hint that names its mistake, and the float32 variant passes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mediarl_lessons import mdp, offline
from mediarl_lessons.agents import bandits
from mediarl_lessons.grading import check
from mediarl_lessons.grading.contextual import NO_OVERLAP_LOGS
from mediarl_lessons.grading.core import REGISTRY, case_rng

ROOT = Path(__file__).resolve().parent.parent
SEEDS = range(30)
CONTEXTUAL, DP = "02_contextual", "03_dynamic_programming"


def _failures(exercise: str, name: str, func) -> list[str]:
    """The seeds on which ``func`` does not pass, each with its feedback."""
    failed = []
    for seed in SEEDS:
        result = check(exercise, name, func, seed=seed, quiet=True)
        if not result.passed:
            failed.append(f"seed {seed}: {result.status}: {result.feedback}")
    return failed


def _solutions(stem: str) -> dict:
    """The functions of the course's solution notebook ``solutions/<stem>.ipynb``, defined afresh."""
    notebook = json.loads((ROOT / "solutions" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    namespace: dict = {"np": np}
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("def ") and "### BEGIN SOLUTION" in source:
            exec(source, namespace)  # noqa: S102 - the course's own solution code
    return namespace


# ---------------------------------------------------------------------------------------------
# The references and the course's solutions pass on every seed
# ---------------------------------------------------------------------------------------------
REFERENCES = [
    (CONTEXTUAL, "linucb_scores", bandits.linucb_scores),
    (CONTEXTUAL, "linucb_update", bandits.linucb_update),
    (CONTEXTUAL, "ips_estimate", offline.ips_estimate),
    (CONTEXTUAL, "snips_estimate", offline.snips_estimate),
    (CONTEXTUAL, "replay_estimate", offline.replay_estimate),
    (DP, "q_from_v", mdp.q_from_v),
    (DP, "policy_evaluation", mdp.policy_evaluation),
    (DP, "value_iteration", mdp.value_iteration),
]


@pytest.mark.parametrize("exercise,name,reference", REFERENCES, ids=[name for _, name, _ in REFERENCES])
def test_reference_passes_every_case_on_every_seed(exercise: str, name: str, reference) -> None:
    # Judged case by case: ``check`` gives a submission that IS the reference 0 points.
    failed = []
    for seed in SEEDS:
        for case in REGISTRY[exercise][name].make_cases(case_rng(seed, exercise, name)):
            result = case.judge(case.observe(reference))
            if not result.passed:
                failed.append(f"seed {seed}, {case.name}: expected {result.expected}, got {result.got}")
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("exercise,name", [(exercise, name) for exercise, name, _ in REFERENCES],
                         ids=[name for _, name, _ in REFERENCES])
def test_course_solution_passes_on_every_seed(exercise: str, name: str) -> None:
    solution = _solutions(exercise)[name]
    assert not _failures(exercise, name, solution)


def test_snips_contract_for_no_overlap_is_nan() -> None:
    # What the all-zero case expects: the reference's documented nan (no information), also
    # what the course's solution (0 / 0 in numpy) returns.
    assert math.isnan(offline.snips_estimate(*NO_OVERLAP_LOGS))
    with np.errstate(invalid="ignore"):
        assert math.isnan(_solutions(CONTEXTUAL)["snips_estimate"](*NO_OVERLAP_LOGS))


# ---------------------------------------------------------------------------------------------
# The mistakes fail on every seed, with the hint that names them (learner-style code)
# ---------------------------------------------------------------------------------------------
def ips_clipped(rewards, target_probs, logging_probs):
    w = np.minimum(target_probs / logging_probs, 10)
    return float(np.mean(rewards * w))


def snips_clipped(rewards, target_probs, logging_probs):
    w = np.minimum(target_probs / logging_probs, 10)
    return float(np.sum(rewards * w) / np.sum(w))


def snips_zero_when_no_weight(rewards, target_probs, logging_probs):
    w = target_probs / logging_probs
    return float(np.sum(rewards * w) / np.sum(w)) if np.sum(w) > 0 else 0.0


def snips_python_division(rewards, target_probs, logging_probs):
    w = target_probs / logging_probs
    return float(np.sum(rewards * w)) / float(np.sum(w))  # ZeroDivisionError when every w is 0


def policy_evaluation_no_abs(P, R, policy, gamma, tol=1e-8):
    V = np.zeros(len(R))
    while True:
        V_new = (policy * (R + gamma * P @ V)).sum(axis=1)
        if np.max(V_new - V) < tol:
            return V_new
        V = V_new


def value_iteration_no_abs(P, R, gamma, tol=1e-8):
    V = np.zeros(len(R))
    while True:
        V_new = (R + gamma * P @ V).max(axis=1)
        if np.max(V_new - V) < tol:
            return V_new, np.argmax(R + gamma * P @ V_new, axis=1)
        V = V_new


WRONG = [
    (CONTEXTUAL, "ips_estimate", ips_clipped, "clipped or capped the importance weights"),
    (CONTEXTUAL, "snips_estimate", snips_clipped, "clipped or capped the importance weights"),
    (CONTEXTUAL, "snips_estimate", snips_zero_when_no_weight, "return nan (float('nan')), not 0"),
    (CONTEXTUAL, "snips_estimate", snips_python_division, "return nan (float('nan')), not 0 and not an error"),
    (DP, "policy_evaluation", policy_evaluation_no_abs, "stopping rule without abs"),
    (DP, "value_iteration", value_iteration_no_abs, "stopping rule without abs"),
]


@pytest.mark.parametrize("exercise,name,func,hint", WRONG, ids=[func.__name__ for _, _, func, _ in WRONG])
def test_mistake_fails_with_its_hint_on_every_seed(exercise: str, name: str, func, hint: str) -> None:
    for seed in SEEDS:
        result = check(exercise, name, func, seed=seed, quiet=True)
        assert result.status == "failed", f"seed {seed}: {func.__name__} should fail:\n{result}"
        hints = [case.hint for case in result.cases if not case.passed]
        assert any(hint in case_hint for case_hint in hints), f"seed {seed}: expected a hint with {hint!r}:\n{result}"


# ---------------------------------------------------------------------------------------------
# float32 computations pass on every seed (the contracts ask for numbers, not float64)
# ---------------------------------------------------------------------------------------------
def _f32(*arrays):
    return [np.asarray(array, dtype=np.float32) for array in arrays]


def ips_float32(rewards, target_probs, logging_probs):
    rewards, target_probs, logging_probs = _f32(rewards, target_probs, logging_probs)
    return float(np.mean(rewards * target_probs / logging_probs))


def ips_float32_loop(rewards, target_probs, logging_probs):
    total = np.float32(0.0)  # one float32 rounding per event: the largest accumulated error
    for r, pi, mu in zip(*_f32(rewards, target_probs, logging_probs)):
        total += r * pi / mu
    return float(total / np.float32(len(rewards)))


def snips_float32(rewards, target_probs, logging_probs):
    rewards, target_probs, logging_probs = _f32(rewards, target_probs, logging_probs)
    w = target_probs / logging_probs
    return float(np.sum(rewards * w) / np.sum(w))


def snips_float32_loop(rewards, target_probs, logging_probs):
    weighted, total = np.float32(0.0), np.float32(0.0)
    for r, pi, mu in zip(*_f32(rewards, target_probs, logging_probs)):
        weighted += r * pi / mu
        total += pi / mu
    return float(weighted / total)


def replay_float32(rewards, logged_actions, target_actions):
    kept = np.asarray(logged_actions) == np.asarray(target_actions)
    return float(np.asarray(rewards, dtype=np.float32)[kept].mean()) if kept.any() else float("nan")


def linucb_scores_float32(A, b, x, alpha):
    A, b, x = _f32(A, b, x)
    scores = []
    for a in range(len(x)):
        width = np.sqrt(x[a] @ np.linalg.solve(A[a], x[a]))
        scores.append(np.linalg.solve(A[a], b[a]) @ x[a] + np.float32(alpha) * width)
    return np.array(scores, dtype=np.float32)


def linucb_scores_float32_inverse(A, b, x, alpha):
    A, b, x = _f32(A, b, x)
    inverse = np.linalg.inv(A)
    theta = np.einsum("kij,kj->ki", inverse, b)
    return (theta * x).sum(axis=1) + np.float32(alpha) * np.sqrt(np.einsum("ki,kij,kj->k", x, inverse, x))


def linucb_update_float32(A, b, action, x, reward):
    x = np.asarray(x, dtype=np.float32)
    A[action] += np.outer(x, x)
    b[action] += np.float32(reward) * x


def q_from_v_float32(P, R, V, gamma):
    P, R, V = _f32(P, R, V)
    return R + np.float32(gamma) * (P @ V)


def policy_evaluation_float32(P, R, policy, gamma, tol=1e-8):
    P, R, policy = _f32(P, R, policy)
    V = np.zeros(len(R), dtype=np.float32)
    for _ in range(100_000):  # float32 reaches a fixed point; the guard only keeps a test from hanging
        V_new = (policy * (R + np.float32(gamma) * (P @ V))).sum(axis=1)
        if np.max(np.abs(V_new - V)) < tol:
            return V_new
        V = V_new
    raise RuntimeError("no convergence in float32")


def value_iteration_float32(P, R, gamma, tol=1e-8):
    P, R = _f32(P, R)
    V = np.zeros(len(R), dtype=np.float32)
    for _ in range(100_000):
        V_new = (R + np.float32(gamma) * (P @ V)).max(axis=1)
        if np.max(np.abs(V_new - V)) < tol:
            return V_new, np.argmax(R + np.float32(gamma) * (P @ V_new), axis=1)
        V = V_new
    raise RuntimeError("no convergence in float32")


FLOAT32 = [
    (CONTEXTUAL, "ips_estimate", ips_float32),
    (CONTEXTUAL, "ips_estimate", ips_float32_loop),
    (CONTEXTUAL, "snips_estimate", snips_float32),
    (CONTEXTUAL, "snips_estimate", snips_float32_loop),
    (CONTEXTUAL, "replay_estimate", replay_float32),
    (CONTEXTUAL, "linucb_scores", linucb_scores_float32),
    (CONTEXTUAL, "linucb_scores", linucb_scores_float32_inverse),
    (CONTEXTUAL, "linucb_update", linucb_update_float32),
    (DP, "q_from_v", q_from_v_float32),
    (DP, "policy_evaluation", policy_evaluation_float32),
    (DP, "value_iteration", value_iteration_float32),
]


@pytest.mark.parametrize("exercise,name,func", FLOAT32, ids=[func.__name__ for _, _, func in FLOAT32])
def test_float32_passes_on_every_seed(exercise: str, name: str, func) -> None:
    failed = _failures(exercise, name, func)
    assert not failed, "\n".join(failed)
