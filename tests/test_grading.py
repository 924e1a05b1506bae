"""``check``: the references get full marks, correct alternative styles pass, realistic wrong
submissions fail with the hint that names their mistake, and ``check`` never raises by default."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from mediarl_lessons import mdp as reference_mdp
from mediarl_lessons import offline as reference_offline
from mediarl_lessons.agents import bandits as reference_bandits
from mediarl_lessons.agents import dqn as reference_dqn
from mediarl_lessons.agents import tabular as reference_tabular
from mediarl_lessons.grading import EXERCISES, NOT_ATTEMPTED, check, check_exercise
from mediarl_lessons.grading.bandits import argmax_probabilities
from mediarl_lessons.grading.cases import frequencies_fit

from grading_bank import PREAMBLE, RIGHT, WRONG, Submission, learner_copy

REFERENCE_MODULES = (reference_bandits, reference_offline, reference_mdp, reference_tabular, reference_dqn)


def _reference(name: str):
    """The reference's code as a learner's function (the reference object itself scores 0)."""
    for module in REFERENCE_MODULES:
        if hasattr(module, name):
            return learner_copy(getattr(module, name))
    raise LookupError(name)


def assert_rejected(func, hint_fragment: str, *, exercise: str = "01_bandits", name: str | None = None,
                    seed: int = 3) -> None:
    """``func`` fails its check, and some failed case's hint contains ``hint_fragment``."""
    name = name or func.__name__
    result = check(exercise, name, func, seed=seed, quiet=True)
    assert result.status == "failed", f"{name} should fail but got {result.status}:\n{result}"
    hints = [case.hint for case in result.cases if not case.passed]
    assert any(hint_fragment in hint for hint in hints), f"expected a hint with {hint_fragment!r}:\n{result}"


def assert_accepted(func, *, exercise: str = "01_bandits", name: str | None = None, seed: int = 3) -> None:
    result = check(exercise, name or func.__name__, func, seed=seed, quiet=True)
    assert result.passed, str(result)
    assert result.points == result.max_points


# ---------------------------------------------------------------------------------------------
# The references pass every check, with any seed
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("exercise,name", [(e, n) for e, names in EXERCISES.items() for n in names])
@pytest.mark.parametrize("seed", [0, 12345])
def test_reference_gets_full_marks(exercise: str, name: str, seed: int) -> None:
    result = check(exercise, name, _reference(name), seed=seed, quiet=True)
    assert result.passed, str(result)
    assert result.to_dict() == {"name": name, "passed": True, "points": 1.0, "max_points": 1.0,
                                "feedback": "all cases passed"}


def test_the_seed_changes_the_randomised_cases() -> None:
    names = [case.name for case in check(_reference("ucb_scores"), seed=1, quiet=True).cases]
    other = [case.name for case in check(_reference("ucb_scores"), seed=2, quiet=True).cases]
    assert names[:4] == other[:4]  # the micro-cases are fixed
    assert names != other  # the random ones are not


def test_hard_coded_answer_passes_one_seed_only() -> None:
    # A "solution" that replays the answers of seed 1's cases fails under another seed.
    answers: dict[tuple, float] = {}
    def ucb_recorder(q_values, counts, t, c):
        value = _reference("ucb_scores")(q_values, counts, t, c)
        answers[(tuple(q_values), tuple(counts), t, c)] = value
        return value
    check("01_bandits", "ucb_scores", ucb_recorder, seed=1, quiet=True)

    def ucb_scores(q_values, counts, t, c):
        return answers.get((tuple(q_values), tuple(counts), t, c), np.zeros(len(q_values)))

    assert check(ucb_scores, seed=1, quiet=True).passed
    assert not check(ucb_scores, seed=2, quiet=True).passed


# ---------------------------------------------------------------------------------------------
# The statistics behind the random checks
# ---------------------------------------------------------------------------------------------
def test_argmax_probabilities_match_a_monte_carlo_estimate() -> None:
    rng = np.random.default_rng(0)
    alphas, betas = np.array([4, 2, 6]), np.array([2, 3, 6])
    exact = argmax_probabilities(alphas, betas)
    draws = rng.beta(alphas, betas, size=(200_000, 3)).argmax(axis=1)
    assert np.allclose(np.bincount(draws, minlength=3) / 200_000, exact, atol=0.005), exact
    assert math.isclose(argmax_probabilities(np.ones(4), np.ones(4))[2], 0.25, abs_tol=1e-12)


def test_frequencies_fit_accepts_true_draws_and_rejects_a_shift() -> None:
    rng = np.random.default_rng(1)
    p = np.array([0.7, 0.1, 0.1, 0.1])
    accepted = sum(frequencies_fit(rng.multinomial(4000, p), p) for _ in range(200))
    assert accepted == 200
    shifted = np.array([0.625, 0.125, 0.125, 0.125])  # exploring only among non-greedy arms
    assert not any(frequencies_fit(rng.multinomial(4000, shifted), p) for _ in range(50))
    assert not frequencies_fit(np.array([10, 0, 1]), np.array([0.9, 0.1, 0.0]))  # impossible arm drawn


# ---------------------------------------------------------------------------------------------
# The bank: realistic wrong submissions (each with the hint naming its mistake), correct ones
# in other styles (full marks)
# ---------------------------------------------------------------------------------------------
def _load(submission: Submission):
    namespace: dict = {}
    exec(compile(PREAMBLE + submission.source, f"<{submission.function}>", "exec"), namespace)
    return namespace[submission.function]


def _id(submission: Submission) -> str:
    return f"{submission.function}:{submission.hint or 'ok'}"


@pytest.mark.parametrize("submission", WRONG, ids=[_id(s) for s in WRONG])
def test_wrong_submission_is_rejected_with_its_hint(submission: Submission) -> None:
    assert_rejected(_load(submission), submission.hint, exercise=submission.exercise, name=submission.function)


@pytest.mark.parametrize("submission", RIGHT, ids=[_id(s) for s in RIGHT])
def test_correct_submission_in_another_style_is_accepted(submission: Submission) -> None:
    assert_accepted(_load(submission), exercise=submission.exercise, name=submission.function)


def test_the_bank_covers_every_function() -> None:
    covered = {(s.exercise, s.function) for s in WRONG}
    assert covered == {(e, n) for e, names in EXERCISES.items() for n in names}
    assert len(WRONG) >= 40 and len(RIGHT) >= 10
    assert sum(s.exercise == "05_dqn" for s in WRONG) >= 12 and sum(s.exercise == "05_dqn" for s in RIGHT) >= 4


# ---------------------------------------------------------------------------------------------
# Not attempted, errors, usage mistakes: check never raises by default
# ---------------------------------------------------------------------------------------------
def test_a_stub_reports_not_attempted(capsys: pytest.CaptureFixture[str]) -> None:
    def epsilon_greedy(q_values, epsilon, rng):
        # YOUR CODE HERE
        raise NotImplementedError()

    result = check(epsilon_greedy)
    out = capsys.readouterr().out
    assert result.status == "not attempted" and NOT_ATTEMPTED in out and "Traceback" not in out
    assert result.points == 0.0 and result.to_dict()["passed"] is False


def test_an_exception_in_student_code_is_a_failed_case(capsys: pytest.CaptureFixture[str]) -> None:
    def sample_average(q, n, reward):
        return q + (reward - q) / undefined_name  # noqa: F821

    result = check(sample_average)
    out = capsys.readouterr().out
    assert result.status == "failed" and all(not case.passed for case in result.cases)
    assert "NameError: name 'undefined_name' is not defined" in out and "Traceback" not in out


def test_check_never_raises_unless_strict() -> None:
    def mystery(x):
        return x

    assert check(mystery, quiet=True).status == "error"
    assert check("99_nothing", "f", mystery, quiet=True).status == "error"
    assert check("01_bandits", "nope", mystery, quiet=True).status == "error"
    assert check(42, quiet=True).status == "error"

    def sample_average(q, n, reward):
        raise SystemExit("bye")  # sys.exit() inside a learner's function

    exited = check(sample_average, quiet=True)
    assert exited.status == "failed" and "SystemExit: bye" in exited.cases[0].got
    assert exited.to_dict()["points"] == 0.0 and "SystemExit" in exited.to_dict()["feedback"]
    with pytest.raises(AssertionError, match="sample_average"):
        check(sample_average, strict=True, quiet=True)
    check(_reference("sample_average"), strict=True, quiet=True)  # a pass does not raise


def test_check_exercise_reports_every_function() -> None:
    results = check_exercise("01_bandits", {"sample_average": _reference("sample_average")})
    by_name = {result.name: result.status for result in results}
    assert by_name["sample_average"] == "passed"
    assert by_name["epsilon_greedy"] == "not attempted"
    assert len(results) == len(EXERCISES["01_bandits"])


def test_failure_table_shows_expected_got_and_hint() -> None:
    def sample_average(q, n, reward):
        return q + (reward - q) / (n + 1)

    text = str(check(sample_average, quiet=True))
    assert "FAIL" in text and "expected: 5" in text and "got:      2.5" in text and "hint:" in text


# ---------------------------------------------------------------------------------------------
# check()'s time limit, and each function checked alone
# ---------------------------------------------------------------------------------------------
def test_check_stops_an_endless_loop_even_inside_a_bare_except() -> None:
    def sample_average(q, n, reward):
        while True:
            try:
                pass
            except:  # noqa: E722  (what a learner's retry loop looks like)
                pass

    started = time.perf_counter()
    result = check(sample_average, quiet=True, timeout=1.0)
    assert time.perf_counter() - started < 5.0
    assert result.status == "failed" and "did not finish in 1 s" in result.feedback
    # The alarm is gone afterwards: a later slow cell is not interrupted.
    time.sleep(1.5)


def test_a_function_is_checked_with_the_references_of_the_others_it_calls() -> None:
    namespace: dict = {"np": np}
    exec("def q_from_v(P, R, V, gamma):\n"
         "    return R + gamma * P @ V + 1.0  # wrong\n"
         "def value_iteration(P, R, gamma, tol=1e-8):\n"
         "    V = np.zeros(len(R))\n"
         "    while True:\n"
         "        V_new = q_from_v(P, R, V, gamma).max(axis=1)\n"
         "        if np.max(np.abs(V_new - V)) < tol:\n"
         "            return V_new, greedy_policy(q_from_v(P, R, V_new, gamma))\n"
         "        V = V_new\n"
         "def greedy_policy(Q):\n"
         "    return np.argmax(Q, axis=1).astype(float)  # wrong: floats\n", namespace)
    assert not check(namespace["q_from_v"], quiet=True).passed
    assert not check(namespace["greedy_policy"], quiet=True).passed
    result = check(namespace["value_iteration"], quiet=True)
    assert result.passed, str(result)
    assert "checked with the course's q_from_v and greedy_policy" in str(result)
    # The learner's own functions are back in place afterwards.
    assert namespace["q_from_v"](np.zeros((1, 1, 1)), np.zeros((1, 1)), np.zeros(1), 0.5)[0, 0] == 1.0
