"""The exercises under the real nbgrader (the optional ``grading`` tools: requirements-grading.txt).

For each exercise, a course of its own in a temporary folder, laid out as ``nbgrader quickstart``
lays one out (``nbgrader_config.py``, ``source/<assignment>/``), with the configuration
docs/grading.md gives instructors. Then, with nbgrader's own commands:

- ``nbgrader generate_assignment`` releases exactly ``exercises/<exercise>.ipynb``, byte for byte;
- ``nbgrader autograde`` of three submissions: the solution (full marks), the untouched release
  (zero) and the solution with one realistic bug in one function (from tests/grading_bank.py:
  that function's point lost, no other);
- ``nbgrader generate_feedback`` gives the student with the bug the check's hint for it, and
  ``nbgrader export`` writes the same totals to grades.csv;
- ``mediarl-lessons grade`` of the same three files gives every function the same points.

The five courses run at once (each its own gradebook and kernels), about a minute on two cores.
"""

from __future__ import annotations

import copy
import csv
import html
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install -r requirements-grading.txt")

from grading_tools import SEED, STUDENTS, bug_source, for_every_exercise, run  # noqa: E402

from mediarl_lessons.grading import EXERCISES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

#: What docs/grading.md tells instructors to put in their nbgrader_config.py.
NBGRADER_CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "mediarl"
# A check cell runs its function's check twice (a learner's table, then the hidden assert; up to
# 60 s each) and the experiments train agents: nbgrader's default of 30 s per cell is too short.
c.Execute.timeout = 300
"""


def submissions(release: nbformat.NotebookNode, solution: nbformat.NotebookNode,
                exercise: str) -> dict[str, nbformat.NotebookNode]:
    """What each student hands in: the release with its solution cells written (or not)."""
    answers = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in solution.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    function, _, buggy = bug_source(exercise)
    assert function in answers, f"no solution cell for {function}"
    handed_in = {"untouched": release}
    for student, broken in (("solution", None), ("one_bug", function)):
        notebook = copy.deepcopy(release)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = buggy if grade_id == broken else answers[grade_id]
        handed_in[student] = notebook
    return handed_in


def grade_with_nbgrader_and_the_cli(exercise: str, course: Path) -> dict[str, Any]:
    from nbgrader.api import Gradebook

    (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    (course / "source" / exercise).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / f"{exercise}.ipynb", course / "source" / exercise)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    run([*nbgrader, "generate_assignment", exercise], course)
    released = course / "release" / exercise / f"{exercise}.ipynb"

    release = nbformat.read(released, as_version=4)
    solution = nbformat.read(ROOT / "solutions" / f"{exercise}.ipynb", as_version=4)
    for student, notebook in submissions(release, solution, exercise).items():
        folder = course / "submitted" / student / exercise
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{exercise}.ipynb")
    run([*nbgrader, "autograde", exercise], course)
    run([*nbgrader, "generate_feedback", exercise, "--student", "one_bug"], course)
    run([*nbgrader, "export"], course)
    with open(course / "grades.csv", encoding="utf-8", newline="") as file:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(file)}

    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in STUDENTS:
            notebook = gradebook.find_submission_notebook(exercise, exercise, student)
            scores[student] = {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}
            scores[student]["total"] = (notebook.score, notebook.max_score)

    cli = json.loads(run([sys.executable, "-m", "mediarl_lessons", "grade", exercise, str(course / "submitted"),
                          "--json", "--seed", str(SEED), "--jobs", "3"], course))
    feedback = course / "feedback" / "one_bug" / exercise / f"{exercise}.html"
    return {"release": released.read_bytes(), "nbgrader": scores, "exported": exported,
            "cli": {row["student"]: row for row in cli},
            "feedback": html.unescape(feedback.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def courses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every exercise through nbgrader and the CLI, the exercises at once (an exception is kept as the result)."""
    # nbgrader's gradebook runs the `alembic` command found on PATH: this environment's, activated or not.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        return for_every_exercise(list(EXERCISES), lambda exercise: grade_with_nbgrader_and_the_cli(
            exercise, tmp_path_factory.mktemp(exercise)))


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_nbgrader_releases_the_exercise_and_grades_as_the_cli(exercise: str, courses: dict[str, Any]) -> None:
    result = courses[exercise]
    if isinstance(result, Exception):
        raise result
    assert result["release"] == (ROOT / "exercises" / f"{exercise}.ipynb").read_bytes(), \
        f"nbgrader generate_assignment does not release exercises/{exercise}.ipynb"

    functions = EXERCISES[exercise]
    broken, hint, _ = bug_source(exercise)
    expected = {"solution": set(functions), "untouched": set(), "one_bug": set(functions) - {broken}}
    for student, passed in expected.items():
        scores, row = result["nbgrader"][student], result["cli"][student]
        assert scores["total"] == (len(passed), len(functions)), (student, scores)
        assert result["exported"][student] == len(passed), result["exported"]
        assert {name for name in functions if scores[f"check_{name}"] == (1.0, 1.0)} == passed, (student, scores)
        # the instructor's hidden checks of the experiment count for nothing
        assert all(value[1] == 0 for name, value in scores.items() if name.startswith("instructor_check")), scores
        assert row["status"] == "ok" and row["score"] == len(passed) and row["max_score"] == len(functions), row
        assert {check["name"]: check["points"] for check in row["checks"]} == \
            {name: scores[f"check_{name}"][0] for name in functions}, (student, row, scores)
    assert hint in result["feedback"], f"nbgrader's feedback for the bug in {broken} lacks the hint {hint!r}"
