"""Exercise 05_dqn's checks: torch only when needed, what crosses the grader's process boundary,
the statistics of the ReplayBuffer check, and the learner's torch state left alone.

(The bank of wrong and correct 05 submissions runs in ``test_grading.py`` with the others.)
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest
import torch

from mediarl_lessons.agents import dqn as reference
from mediarl_lessons.grading import EXERCISES, NOT_ATTEMPTED, check
from mediarl_lessons.grading.core import REGISTRY, judge_function
from mediarl_lessons.grading.extract import extract_source
from mediarl_lessons.grading.grader import Batch
from mediarl_lessons.grading.records import decode, encode
from mediarl_lessons.grading.worker import run_function

from grading_bank import PREAMBLE, RIGHT, RING_BUFFER, TORCH, WRONG, Submission, learner_copy


def test_importing_check_does_not_import_torch() -> None:
    # Exercises 01-04 import check; they must not pay for torch. (The package itself imports
    # torch lazily too, so the comparison is with and without the grading import.)
    script = ("import sys\n"
              "import mediarl_lessons\n"
              "before = 'torch' in sys.modules\n"
              "from mediarl_lessons.grading import check\n"
              "def sample_average(q, n, reward):\n"
              "    return q + (reward - q) / n\n"
              "passed = check(sample_average, quiet=True).passed\n"
              "print(before, 'torch' in sys.modules, passed)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False", "True"], out.stdout + out.stderr


@pytest.mark.parametrize("seed", range(3))
def test_a_correct_buffer_passes_whatever_the_seed(seed: int) -> None:
    # The draws are checked statistically (false alarm 1e-6 per case): any seed must pass.
    assert check(learner_copy(reference.ReplayBuffer), seed=seed, quiet=True).passed


def test_the_check_leaves_torch_state_alone() -> None:
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    grad_enabled = torch.is_grad_enabled()
    for name in EXERCISES["05_dqn"]:
        assert check(learner_copy(getattr(reference, name)), quiet=True).passed
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.is_grad_enabled() == grad_enabled


def _load(source: str, name: str):
    """The function or class ``name`` of a submission's source (run after PREAMBLE)."""
    namespace: dict = {}
    exec(compile(PREAMBLE + source, "<submission>", "exec"), namespace)
    return namespace[name]


def test_a_half_written_buffer_fails_with_a_hint_and_an_untouched_one_is_not_attempted() -> None:
    half = RING_BUFFER.replace("""        if self.size == 0:
            raise ValueError("empty buffer")""", "        raise NotImplementedError()")
    result = check("05_dqn", "ReplayBuffer", _load(TORCH + half, "ReplayBuffer"), quiet=True)
    assert result.status == "failed"
    assert any("write every method" in case.hint for case in result.cases), result
    untouched = """
class ReplayBuffer:
    def __init__(self, capacity, obs_dim, seed=None):
        raise NotImplementedError()
"""
    result = check("05_dqn", "ReplayBuffer", _load(TORCH + untouched, "ReplayBuffer"), quiet=True)
    assert result.status == "not attempted" and NOT_ATTEMPTED in result.message


def test_a_loss_that_calls_backward_itself_is_told_so() -> None:
    calls_backward = """
def dqn_loss(q_net, target_net, batch, gamma, double=False):
    with torch.no_grad():
        targets = batch.rewards + gamma * (1 - batch.terminated) * target_net(batch.next_obs).max(1).values
    loss = F.smooth_l1_loss(q_net(batch.obs).gather(1, batch.actions[:, None]).squeeze(1), targets)
    loss.backward()
    return loss
"""
    result = check("05_dqn", "dqn_loss", _load(TORCH + calls_backward, "dqn_loss"), quiet=True)
    assert result.status == "failed"
    assert all("the training loop calls loss.backward()" in case.hint for case in result.cases), result


# ---------------------------------------------------------------------------------------------
# Across the process boundary: observations travel as JSON and are judged on the other side
# ---------------------------------------------------------------------------------------------
def _through_the_grader(submission: Submission, seed: int):
    """Grade one submission as the batch grader does, minus the sandbox: the statements that
    extraction keeps, the pickled observe halves, the worker's ``run_function``, a JSON trip
    and the grader's ``judge_function``."""
    batch = Batch.prepare(submission.exercise, seed, 60.0)
    extraction = extract_source(PREAMBLE + submission.source, list(REGISTRY[submission.exercise]), notebook=False)
    job = {"exercise": submission.exercise, "chunks": [(chunk.source, chunk.origin) for chunk in extraction.chunks],
           "future_flags": extraction.future_flags, "functions": pickle.loads(batch.observers)}
    results = {}
    for index, (name, _observers) in enumerate(job["functions"]):
        record = json.loads(json.dumps(run_function(job, index)))
        results[name] = judge_function(REGISTRY[submission.exercise][name], batch.cases[name], record["result"])
    return results


BANK_05 = [s for s in WRONG + RIGHT if s.exercise == "05_dqn"]


@pytest.mark.parametrize("submission", BANK_05, ids=[f"{s.function}:{s.hint or 'ok'}" for s in BANK_05])
def test_the_grader_judges_each_05_bank_submission_like_check(submission: Submission) -> None:
    # test_grading.py checks the bank with check() in one process; here each observation makes
    # the trip through JSON and is judged on the other side: same verdict, same hint.
    graded = _through_the_grader(submission, seed=5)[submission.function]
    if submission.hint:
        assert graded.status == "failed" and submission.hint in graded.feedback, graded.feedback
    else:
        assert graded.status == "passed", graded.feedback


def test_encoded_observations_are_plain_data() -> None:
    # What a worker writes back is JSON of numbers, strings and tags (nothing the grader would
    # have to execute), and it judges the same after the round trip.
    from mediarl_lessons.grading.core import REGISTRY, case_rng

    for name in EXERCISES["05_dqn"]:
        for case in REGISTRY["05_dqn"][name].make_cases(case_rng(1, "05_dqn", name)):
            text = json.dumps(encode(case.observe(getattr(reference, name))))
            assert "__repr__" not in text, (name, case.name, text[:200])
            assert case.judge(decode(json.loads(text))).passed, (name, case.name)
