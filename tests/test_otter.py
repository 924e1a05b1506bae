"""The exercises under the real otter-grader (the optional ``grading`` tools: requirements-grading.txt).

otter-grader cannot read the solutions themselves (its solution markers have one ``#``, and it
strips solutions only inside its question blocks), so ``mediarl-lessons export --otter`` writes
otter's master notebooks. For each exercise, with otter's own commands:

- ``otter assign`` turns the master into a student notebook and an autograder zip;
- ``otter run`` (no Docker) grades three submissions: otter's solution notebook (full marks), the
  untouched student notebook (zero) and the solution with one realistic bug in one function (from
  tests/grading_bank.py: that function's point lost, no other), and its results carry the hint;
- ``mediarl-lessons grade`` of the same three files gives every function the same points.

The five exercises run at once, about a minute on two cores.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

pytest.importorskip("otter", reason="otter-grader is not installed: pip install -r requirements-grading.txt")

from grading_tools import BUGS, SEED, STUDENTS, bug_source, for_every_exercise, run  # noqa: E402

from mediarl_lessons.cli import main  # noqa: E402
from mediarl_lessons.grading import EXERCISES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
assert set(BUGS) == set(EXERCISES)


def grade_with_otter_and_the_cli(exercise: str, masters: Path, folder: Path) -> dict[str, Any]:
    otter = [sys.executable, "-m", "otter"]
    run([*otter, "assign", "--no-run-tests", str(masters / f"{exercise}.ipynb"), "dist"], folder)
    autograder = next((folder / "dist" / "autograder").glob("*.zip"))

    submitted = folder / "submitted"
    solution = nbformat.read(folder / "dist" / "autograder" / f"{exercise}.ipynb", as_version=4)
    function, _, buggy = bug_source(exercise)
    one_bug = nbformat.from_dict(solution)
    cells = [cell for cell in one_bug.cells
             if cell.cell_type == "code" and re.match(rf"(def|class) {function}\b", cell.source)]
    assert len(cells) == 1, f"otter's solution notebook has {len(cells)} cells defining {function}"
    cells[0].source = buggy
    handed_in = {"solution": solution, "one_bug": one_bug,
                 "untouched": nbformat.read(folder / "dist" / "student" / f"{exercise}.ipynb", as_version=4)}
    results = {}
    for student, notebook in handed_in.items():
        path = submitted / student / f"{exercise}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
        run([*otter, "run", "--autograder", str(autograder), "--output-dir", str(path.parent), str(path)], folder)
        tests = json.loads((path.parent / "results.json").read_text(encoding="utf-8"))["tests"]
        results[student] = {test["name"]: test for test in tests if test.get("max_score") is not None}

    cli = json.loads(run([sys.executable, "-m", "mediarl_lessons", "grade", exercise, str(submitted), "--json",
                          "--seed", str(SEED), "--jobs", "3"], folder))
    return {"otter": results, "cli": {row["student"]: row for row in cli}}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every exercise through otter and the CLI, the exercises at once (an exception is kept as the result)."""
    masters = tmp_path_factory.mktemp("otter")
    assert main(["export", "--otter", str(masters), "--solutions", str(ROOT / "solutions")]) == 0
    assert sorted(path.stem for path in masters.glob("*.ipynb")) == sorted(EXERCISES)

    return for_every_exercise(list(EXERCISES), lambda exercise: grade_with_otter_and_the_cli(
        exercise, masters, tmp_path_factory.mktemp(exercise)))


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_otter_grades_the_exported_exercise_as_the_cli(exercise: str, graded: dict[str, Any]) -> None:
    result = graded[exercise]
    if isinstance(result, Exception):
        raise result
    functions = EXERCISES[exercise]
    broken, hint, _ = bug_source(exercise)
    expected = {"solution": set(functions), "untouched": set(), "one_bug": set(functions) - {broken}}
    assert set(expected) == set(STUDENTS)
    for student, passed in expected.items():
        tests, row = result["otter"][student], result["cli"][student]
        assert set(tests) == set(functions), (student, sorted(tests))
        assert all(test["max_score"] == 1 for test in tests.values()), tests
        assert {name for name, test in tests.items() if test["score"] == 1} == passed, (student, tests)
        assert row["status"] == "ok" and row["score"] == len(passed) and row["max_score"] == len(functions), row
        assert {check["name"]: check["points"] for check in row["checks"]} == \
            {name: float(tests[name]["score"]) for name in functions}, (student, row, tests)
    assert hint in result["otter"]["one_bug"][broken]["output"], \
        f"otter's result for the bug in {broken} lacks the hint {hint!r}"
