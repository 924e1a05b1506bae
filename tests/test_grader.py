"""``mediarl-lessons grade``: a class folder graded in one command, hostile submissions included.

One batch (graded once, shared by the tests below) holds the solution notebook, the untouched
exercise, bank submissions and hostile ones: each must get the right row while the rest of
the batch completes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from grading_bank import LOSS, PREAMBLE, RING_BUFFER, TORCH, WRONG
from mediarl_lessons.cli import main
from mediarl_lessons.grading import EXERCISES, sandbox

ROOT = Path(__file__).resolve().parent.parent
SEED, TIMEOUT = 11, 3

HOSTILE = {
    # An endless loop in one function: that function times out, the others are graded.
    "loops": """
def sample_average(q, n, reward):
    while True:
        pass

def ucb_scores(q_values, counts, t, c):
    counts = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(counts > 0, q_values + c * np.sqrt(np.log(t) / counts), np.inf)
""",
    # Kills its own process.
    "exits": """
import os
def sample_average(q, n, reward):
    os._exit(0)
""",
    # Patches numpy so that every comparison "passes", prints a fake score: must change nothing.
    "patches": """
np.allclose = lambda *args, **kwargs: True
print("sample_average: 5/5 cases passed (all passed)")
def sample_average(q, n, reward):
    import numpy
    numpy.allclose = lambda *args, **kwargs: True
    numpy.isclose = lambda *args, **kwargs: True
    math.isclose = lambda *args, **kwargs: True
    print("ok", flush=True)
    return 0.0
""",
    # An absurd allocation: a MemoryError inside the function, a failed case.
    "allocates": """
def sample_average(q, n, reward):
    block = bytearray(10**12)
    return q + (reward - q) / n
""",
    # The course's own reference, imported instead of written.
    "imports_reference": """
from mediarl_lessons.agents.bandits import sample_average
""",
    # A syntax error in a .py file: status error.
    "broken": """
def sample_average(q, n, reward)
    return q
""",
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("class")
    shutil.copy(ROOT / "solutions" / "01_bandits.ipynb", folder / "solution_student.ipynb")
    shutil.copy(ROOT / "exercises" / "01_bandits.ipynb", folder / "untouched.ipynb")
    # A solution notebook with magics, shell lines and a slow experiment cell appended: only
    # definitions are taken, so it still gets full marks quickly.
    notebook = nbformat.read(ROOT / "solutions" / "01_bandits.ipynb", as_version=4)
    notebook.cells.insert(1, nbformat.v4.new_code_cell("%matplotlib inline\n!pip install nothing\nimport time"))
    notebook.cells.append(nbformat.v4.new_code_cell("%%time\nwhile True:\n    pass"))
    notebook.cells.append(nbformat.v4.new_code_cell("time.sleep(1000)\nresults = run_everything()"))
    notebook.cells.append(nbformat.v4.new_code_cell("def broken(:\n    pass"))
    nbformat.write(notebook, folder / "with_magics.ipynb")
    ties = next(s for s in WRONG if s.function == "epsilon_greedy" and "index 0" in s.hint)
    (folder / "ties_to_zero.py").write_text(PREAMBLE + ties.source, encoding="utf-8")
    for name, source in HOSTILE.items():
        (folder / f"{name}.py").write_text(PREAMBLE + source, encoding="utf-8")

    out = io.StringIO()
    csv_path = folder / "grades.csv"
    with contextlib.redirect_stdout(out):
        status = main(["grade", "01_bandits", str(folder), "--json", "--jobs", "2", "--timeout", str(TIMEOUT),
                       "--seed", str(SEED), "--csv", str(csv_path), "--feedback", str(folder / "feedback")])
    assert status == 0
    rows = {row["student"]: row for row in json.loads(out.getvalue())}
    rows["__csv__"] = {"text": csv_path.read_text(encoding="utf-8")}
    rows["__feedback__"] = {path.stem: path.read_text(encoding="utf-8") for path in (folder / "feedback").iterdir()}
    return rows


def _points(row: dict) -> dict[str, float]:
    return {check["name"]: check["points"] for check in row["checks"]}


def test_solution_gets_full_marks_and_the_json_shape(batch: dict) -> None:
    row = batch["solution_student"]
    assert set(row) >= {"student", "exercise", "status", "score", "max_score", "checks"}
    assert row["status"] == "ok" and row["score"] == row["max_score"] == len(EXERCISES["01_bandits"])
    assert all(set(check) == {"name", "passed", "points", "max_points", "feedback"} for check in row["checks"])


def test_only_definitions_are_taken_from_a_notebook(batch: dict) -> None:
    row = batch["with_magics"]
    assert row["status"] == "ok" and row["score"] == row["max_score"], row
    assert "syntax error" in row["message"]  # the broken cell is named, the rest graded


def test_untouched_exercise_scores_zero_as_not_attempted(batch: dict) -> None:
    row = batch["untouched"]
    assert row["status"] == "ok" and row["score"] == 0
    assert all("not attempted" in check["feedback"] for check in row["checks"])
    assert row["message"] == "not attempted: all 5 functions"
    assert batch["solution_student"]["message"] == ""


def test_wrong_submission_gets_its_hint_in_the_feedback(batch: dict) -> None:
    row = batch["ties_to_zero"]
    feedback = {check["name"]: check["feedback"] for check in row["checks"]}
    assert "ties always broken towards index 0" in feedback["epsilon_greedy"]
    assert row["score"] == 0


def test_endless_loop_times_out_and_the_rest_is_graded(batch: dict) -> None:
    row = batch["loops"]
    assert row["status"] == "timeout" and "sample_average" in row["message"]
    assert _points(row)["ucb_scores"] == 1.0 and _points(row)["sample_average"] == 0.0


def test_exiting_patching_allocating_and_syntax_errors_score_nothing(batch: dict) -> None:
    # os._exit kills only the process of the function that called it: the row is still graded.
    assert batch["exits"]["status"] == "ok" and batch["exits"]["score"] == 0
    assert "died" in _points_feedback(batch["exits"], "sample_average")
    assert batch["patches"]["status"] == "ok" and batch["patches"]["score"] == 0
    assert batch["allocates"]["score"] == 0
    assert batch["imports_reference"]["score"] == 0
    assert "reference" in _points_feedback(batch["imports_reference"], "sample_average")
    assert "MemoryError" in _points_feedback(batch["allocates"], "sample_average")
    assert batch["broken"]["status"] == "error" and "syntax error on line 4" in batch["broken"]["message"]


def _points_feedback(row: dict, name: str) -> str:
    return next(check["feedback"] for check in row["checks"] if check["name"] == name)


def test_csv_has_one_row_per_submission_and_the_documented_columns(batch: dict) -> None:
    rows = list(csv.reader(io.StringIO(batch["__csv__"]["text"])))
    assert rows[0] == ["student", "status", *EXERCISES["01_bandits"], "total", "max", "message"]
    students = {row[0]: row for row in rows[1:]}
    assert len(students) == len(batch) - 2
    assert students["solution_student"][-3:-1] == ["5", "5"]
    assert students["untouched"][-1] == "not attempted: all 5 functions"


def test_feedback_folder_has_one_file_per_student_with_the_hints(batch: dict) -> None:
    feedback = batch["__feedback__"]
    assert set(feedback) == set(batch) - {"__csv__", "__feedback__"}
    ties = feedback["ties_to_zero"]
    assert ties.startswith("01_bandits: ties_to_zero\nscore: ") and f"--seed {SEED}" in ties
    assert "epsilon_greedy: failed (0 / 1)" in ties and "ties always broken towards index 0" in ties
    assert "sample_average: passed (1 / 1)" in feedback["solution_student"]
    assert "note: not attempted: all 5 functions" in feedback["untouched"]
    assert "(status: timeout)" in feedback["loops"]


# ---------------------------------------------------------------------------------------------
# 05_dqn: torch functions, their observations judged outside the student's process
# ---------------------------------------------------------------------------------------------
CORRECT_05 = TORCH + RING_BUFFER + LOSS + """
def td_targets(rewards, next_q_target, terminated, gamma):
    return rewards + gamma * (1 - terminated) * next_q_target.max(dim=1).values

def double_dqn_targets(rewards, next_q_online, next_q_target, terminated, gamma):
    chosen = next_q_online.argmax(dim=1, keepdim=True)
    return rewards + gamma * (1 - terminated) * next_q_target.gather(1, chosen).squeeze(1)

def soft_update(target_net, online_net, tau):
    with torch.no_grad():
        for target, online in zip(target_net.parameters(), online_net.parameters()):
            target.lerp_(online, tau)
"""

HOSTILE_05 = CORRECT_05 + """
def dqn_loss(q_net, target_net, batch, gamma, double=False):
    # Make every comparison "pass", every loss zero and backward a no-op, print a fake score.
    import numpy
    torch.allclose = lambda *args, **kwargs: True
    torch.equal = lambda *args, **kwargs: True
    F.smooth_l1_loss = F.huber_loss = F.mse_loss = lambda *args, **kwargs: torch.zeros((), requires_grad=True)
    torch.Tensor.backward = lambda self, *args, **kwargs: None
    numpy.allclose = numpy.array_equal = lambda *args, **kwargs: True
    print("dqn_loss (05_dqn): 6/6 cases passed (all passed)", flush=True)
    return torch.zeros((), requires_grad=True)
"""

PARTIAL_05 = TORCH + RING_BUFFER + LOSS + """
def td_targets(rewards, next_q_target, terminated, gamma):
    # YOUR CODE HERE
    raise NotImplementedError()
"""


@pytest.fixture(scope="module")
def batch05(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("class05")
    shutil.copy(ROOT / "solutions" / "05_dqn.ipynb", folder / "solution_student.ipynb")
    shutil.copy(ROOT / "exercises" / "05_dqn.ipynb", folder / "untouched.ipynb")
    references = next(s for s in WRONG if s.function == "ReplayBuffer" and "reference" in s.hint)
    (folder / "stores_references.py").write_text(PREAMBLE + references.source, encoding="utf-8")
    (folder / "hostile.py").write_text(PREAMBLE + HOSTILE_05, encoding="utf-8")
    (folder / "partial.py").write_text(PREAMBLE + PARTIAL_05, encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["grade", "05_dqn", str(folder), "--json", "--jobs", "2", "--timeout", "30", "--seed", str(SEED)])
    assert status == 0
    return {row["student"]: row for row in json.loads(out.getvalue())}


def test_05_solution_full_marks_untouched_not_attempted(batch05: dict) -> None:
    solution, untouched = batch05["solution_student"], batch05["untouched"]
    assert solution["status"] == "ok" and solution["score"] == solution["max_score"] == 5, solution
    assert untouched["status"] == "ok" and untouched["score"] == 0
    assert untouched["message"] == "not attempted: all 5 functions"


def test_05_partly_attempted_lists_what_is_missing(batch05: dict) -> None:
    row = batch05["partial"]
    assert row["message"] == "not attempted: td_targets, double_dqn_targets, soft_update", row
    assert _points(row) == {"ReplayBuffer": 1.0, "td_targets": 0.0, "double_dqn_targets": 0.0, "dqn_loss": 1.0,
                            "soft_update": 0.0}


def test_05_hint_travels_back_and_patching_torch_raises_nothing(batch05: dict) -> None:
    feedback = _points_feedback(batch05["stores_references"], "ReplayBuffer")
    assert "stored a reference to the caller's array" in feedback
    hostile = batch05["hostile"]
    assert hostile["status"] == "ok" and _points(hostile) == {
        "ReplayBuffer": 1.0, "td_targets": 1.0, "double_dqn_targets": 1.0, "dqn_loss": 0.0, "soft_update": 1.0}
    assert re.search(r"got loss 0(,| --)", _points_feedback(hostile, "dqn_loss")), hostile


@pytest.mark.parametrize("argv,expected", [
    (["grade", "99_nothing", "x.py"], "unknown exercise"),
    (["grade", "01_bandits", "/no/such/file.py"], "no such file or folder"),
    (["grade", "01_bandits", "x.py", "--jobs", "0"], "positive integer"),
    (["grade", "01_bandits", "x.py", "--timeout", "-1"], "positive number"),
    (["grade", "01_bandits", __file__, "--feedback", "/no/such/folder/feedback"], "cannot write --feedback"),
])
def test_grade_usage_errors_exit_2_with_one_line(argv, expected, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err


SEEN_SEED = 987654321
LOOKS_FOR_THE_SEED = f'''
import glob, os, sys

NEEDLE = str({SEEN_SEED - 1} + 1)  # (the seed itself is not in the source, which the sandbox holds)

def sample_average(q, n, reward):
    # Everything a submission could read looking for the grader's seed: command lines and
    # environments of every visible process, its job file, every file it can reach in /tmp.
    places = glob.glob("/proc/*/cmdline") + glob.glob("/proc/*/environ") + glob.glob("/grading/*")
    installed = tuple(os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, os.path.dirname(np.__file__)))
    places += [os.path.join(d, f) for d, _, files in os.walk("/tmp") for f in files
               if not os.path.realpath(d).startswith(installed)]  # (Python may live in /tmp, read-only)
    for place in places:
        try:
            with open(place, "rb") as file:
                if NEEDLE.encode() in file.read():
                    return -1.0  # found it
        except OSError:
            pass
    if NEEDLE in str(os.environ):
        return -1.0
    return q + (reward - q) / n
'''


@pytest.mark.skipif(not sandbox.available(), reason="bubblewrap is not installed: the seed is visible without it")
def test_the_seed_is_never_visible_to_the_submission(tmp_path: Path) -> None:
    (tmp_path / "seeker.py").write_text(PREAMBLE + LOOKS_FOR_THE_SEED, encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["grade", "01_bandits", str(tmp_path), "--json", "--seed", str(SEEN_SEED)]) == 0
    (row,) = json.loads(out.getvalue())
    assert _points(row)["sample_average"] == 1.0, row


STATIC_CASES = {
    "wrapper": ("from mediarl_lessons import mdp\ndef value_iteration(P, R, g, tol=1e-8):\n"
                "    return mdp.value_iteration(P, R, g, tol)\n", "reference"),
    "dotted": ("import mediarl_lessons.mdp\ndef value_iteration(P, R, g, tol=1e-8):\n"
               "    return mediarl_lessons.mdp.value_iteration(P, R, g, tol)\n", "reference"),
    "imported": ("from mediarl_lessons.mdp import value_iteration\n", "reference"),
    "inside": ("def value_iteration(P, R, g, tol=1e-8):\n    from mediarl_lessons.mdp import value_iteration as v\n"
               "    return v(P, R, g, tol)\n", "reference"),
    "helper": ("import mediarl_lessons.mdp as m\ndef h(*a):\n    return m.value_iteration(*a)\n"
               "def value_iteration(P, R, g, tol=1e-8):\n    return h(P, R, g, tol)\n", "reference"),
    "patches the checks": ("def value_iteration(P, R, g, tol=1e-8, _=__import__('mediarl_lessons.grading.core')):\n"
                           "    return None\n", "grader"),
    "uses another reference": ("from mediarl_lessons import mdp\nimport numpy as np\n"
                               "def value_iteration(P, R, g, tol=1e-8):\n"
                               "    return mdp.q_from_v(P, R, np.zeros(len(R)), g).max(axis=1)\n", ""),
}


@pytest.mark.parametrize("label", list(STATIC_CASES))
def test_the_grader_reads_reference_use_from_the_source_outside_the_sandbox(label: str) -> None:
    # A submission can switch off any test that runs inside the sandbox; this one runs outside.
    from mediarl_lessons.grading.extract import extract_source
    from mediarl_lessons.grading.grader import static_reference_use

    source, expected = STATIC_CASES[label]
    extraction = extract_source(source, list(EXERCISES["03_dynamic_programming"]), notebook=False)
    assert static_reference_use(extraction, "03_dynamic_programming", "value_iteration") == expected
