"""exercises/ is generated from solutions/: the generator, ``build-exercises --check``, and the
generated notebooks themselves (they run top to bottom, every check "not attempted yet")."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mediarl_lessons.cli import main
from mediarl_lessons.grading import EXERCISES as EXERCISE_NAMES
from mediarl_lessons.grading import NOT_ATTEMPTED, check
from mediarl_lessons.grading.build import (
    BEGIN_HIDDEN,
    END_HIDDEN,
    INSTRUCTOR_TAG,
    POINTS,
    README_BEGIN,
    README_END,
    SolutionFormatError,
    exercise_notebook,
    exercises_readme,
    grade_cell_source,
    otter_master,
    solution_notebook,
    strip_solutions,
)

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------
def test_solution_regions_become_stubs_at_their_indentation() -> None:
    source = "\n".join([
        "def f(x):",
        '    """Doc."""',
        "    ### BEGIN SOLUTION",
        "    y = x + 1",
        "    return y",
        "    ### END SOLUTION",
        "",
        "### BEGIN SOLUTION",
        "z = 3",
        "### END SOLUTION",
        "print(z)",
    ])
    assert strip_solutions(source) == "\n".join([
        "def f(x):",
        '    """Doc."""',
        "    # YOUR CODE HERE",
        "    raise NotImplementedError()",
        "",
        "# YOUR CODE HERE",
        "raise NotImplementedError()",
        "print(z)",
    ])


@pytest.mark.parametrize("source,message", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside the region"),
])
def test_unpaired_markers_are_reported_with_their_line(source: str, message: str) -> None:
    with pytest.raises(SolutionFormatError, match=message):
        strip_solutions(source)


def small_solution() -> nbformat.NotebookNode:
    """A solution with one of each kind of cell."""
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("import numpy as np\nfrom mediarl_lessons.grading import check"),
        nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                                  execution_count=3, outputs=[nbformat.v4.new_output("stream", text="hi")],
                                  metadata={"execution": {"iopub.status.idle": "2026-01-01T00:00:00Z"}}),
        nbformat.v4.new_code_cell("check(f)"),
        nbformat.v4.new_code_cell("result = f()"),
        nbformat.v4.new_code_cell("# Instructor check: f gives 1.\nassert result == 1",
                                  metadata={"tags": [INSTRUCTOR_TAG]}),
    ], metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {}}})


def test_every_cell_gets_its_nbgrader_role() -> None:
    solution = solution_notebook(small_solution(), functions=("f",))
    roles = [cell.metadata.get("nbgrader") for cell in solution.cells]
    assert roles[0] is None, "Markdown cells carry no nbgrader metadata"
    assert [(role["grade_id"], role["solution"], role["grade"], role["locked"], role.get("points"))
            for role in roles[1:]] == [
        ("read_only_" + solution.cells[1].id, False, False, True, None),
        ("f", True, False, False, None),
        ("check_f", False, True, True, POINTS),
        ("read_only_" + solution.cells[4].id, False, False, True, None),
        ("instructor_check_1", False, True, True, 0),
    ]
    assert all(role["schema_version"] == 3 and role["task"] is False for role in roles[1:])
    assert solution.cells[3].source == grade_cell_source("f")
    assert solution.cells[5].source == \
        f"# Instructor check: f gives 1.\n{BEGIN_HIDDEN}\nassert result == 1\n{END_HIDDEN}"
    assert "execution" not in solution.cells[2].metadata and "widgets" not in solution.metadata
    assert solution.cells[2].outputs, "a solution keeps its outputs"
    assert solution_notebook(solution, functions=("f",)) == solution, "not idempotent"


def test_the_exercise_is_what_nbgrader_releases() -> None:
    original = small_solution()
    exercise = exercise_notebook(original)
    assert [cell.cell_type for cell in exercise.cells] == [cell.cell_type for cell in original.cells]
    setup, code, grade, _, instructor = exercise.cells[1:]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in exercise.cells[1:])
    assert "return 1" not in code.source and "raise NotImplementedError()" in code.source
    assert grade.source == "check(f)", "the learner sees check(f), which only prints its table"
    assert instructor.source == "# Instructor check: f gives 1.", "an instructor cell keeps only its comment"
    assert code.metadata["deletable"] is False and "editable" not in code.metadata
    assert all(cell.metadata["deletable"] is False and cell.metadata["editable"] is False
               for cell in (setup, grade, instructor))
    assert all(len(cell.metadata["nbgrader"]["checksum"]) == 32 for cell in exercise.cells[1:])
    assert original.cells[2].outputs and "nbgrader" not in original.cells[2].metadata, \
        "the solution itself must not be changed"


def test_a_grade_cell_fails_a_wrong_function_and_the_learners_check_does_not() -> None:
    right = "def sample_average(q, n, reward):\n    return q + (reward - q) / n\n"
    wrong = "def sample_average(q, n, reward):\n    return q + (reward - q) / (n + 1)\n"
    grade = grade_cell_source("sample_average")
    learner = strip_solutions(grade, (), begin=BEGIN_HIDDEN, end=END_HIDDEN)
    assert learner == "check(sample_average)"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(right + grade, {"check": check})  # nothing raised
        exec(wrong + learner, {"check": check})  # in a learner's notebook: a table, nothing raised
        with pytest.raises(AssertionError, match="sample_average does not pass every case yet"):
            exec(wrong + grade, {"check": check})  # when nbgrader grades
    assert "FAIL" in printed.getvalue() and "divide by n, not n + 1" in printed.getvalue()


@pytest.mark.parametrize("cell,message", [
    (nbformat.v4.new_markdown_cell("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"), "Markdown cell"),
    (nbformat.v4.new_markdown_cell("Write it between the BEGIN SOLUTION markers."), "nbgrader's delimiters"),
    (nbformat.v4.new_code_cell("x = 1  # BEGIN SOLUTION"), "nbgrader's delimiters"),
    (nbformat.v4.new_code_cell(f"x = 1\n{BEGIN_HIDDEN}\nassert x\n{END_HIDDEN}"), "hidden tests belong"),
    (nbformat.v4.new_code_cell(f"# note\nx = 1\n{BEGIN_HIDDEN}\nassert x\n{END_HIDDEN}",
                               metadata={"tags": [INSTRUCTOR_TAG]}), "the learner would see it"),
])
def test_what_nbgrader_would_misread_is_refused(cell: nbformat.NotebookNode, message: str) -> None:
    notebook = small_solution()
    notebook.cells.append(cell)
    with pytest.raises(SolutionFormatError, match=message):
        solution_notebook(notebook)


def test_every_function_needs_one_solution_cell_and_one_check_cell() -> None:
    notebook = small_solution()
    with pytest.raises(SolutionFormatError, match="g needs exactly one solution cell"):
        solution_notebook(notebook, functions=("f", "g"))
    notebook.cells.append(nbformat.v4.new_code_cell("check(f)"))
    with pytest.raises(SolutionFormatError, match=r"one check\(f\) cell \(found 2\)"):
        solution_notebook(notebook, functions=("f",))


def test_exercises_readme_repeats_the_table_of_solutions_readme() -> None:
    text = (ROOT / "solutions" / "README.md").read_text(encoding="utf-8")
    readme = exercises_readme(text)
    table = text[text.index(README_BEGIN) + len(README_BEGIN): text.index(README_END)].strip("\n")
    assert readme.startswith("# Exercises\n") and readme.endswith(table + "\n")
    assert all(f"`{exercise}`" in readme for exercise in EXERCISE_NAMES)
    with pytest.raises(SolutionFormatError, match="must lie between"):
        exercises_readme("# Solutions\n\nno markers")


def test_otter_master_notebooks() -> None:
    solution = nbformat.read(ROOT / "solutions" / "01_bandits.ipynb", as_version=4)
    master = otter_master(solution, name="solutions/01_bandits.ipynb")
    raw = [cell.source for cell in master.cells if cell.cell_type == "raw"]
    assert raw[0].startswith("# ASSIGNMENT CONFIG\nname: 01_bandits\n")
    questions = [source.split("\n")[1].removeprefix("name: ") for source in raw
                 if source.startswith("# BEGIN QUESTION")]
    assert questions == list(EXERCISE_NAMES["01_bandits"])
    assert raw.count("# END QUESTION") == raw.count("# BEGIN TESTS") == raw.count("# BEGIN SOLUTION") == 5
    code = "\n".join(cell.source for cell in master.cells if cell.cell_type == "code")
    assert "### " not in code and "Instructor check" not in code
    assert code.count("    # BEGIN SOLUTION") == 5 and "check(epsilon_greedy, strict=True, quiet=True).passed" in code
    assert all("nbgrader" not in cell.metadata for cell in master.cells)


def test_export_otter_writes_a_master_notebook_per_solution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--otter", str(tmp_path / "otter"), "--solutions", str(ROOT / "solutions")]) == 0
    written = sorted(path.name for path in (tmp_path / "otter").glob("*.ipynb"))
    assert written == sorted(path.name for path in (ROOT / "solutions").glob("*.ipynb"))
    assert capsys.readouterr().out.count("wrote ") == len(written)
    assert main(["export", "--otter", str(tmp_path / "otter"), "--solutions", str(tmp_path / "none")]) == 2


# ---------------------------------------------------------------------------------------------
# build-exercises [--check]
# ---------------------------------------------------------------------------------------------
def test_committed_exercises_are_up_to_date(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["build-exercises", "--check"]) == 0, capsys.readouterr().err
    assert EXERCISES, "no exercise notebooks generated yet"
    assert {path.name for path in EXERCISES} == {path.name for path in (ROOT / "solutions").glob("*.ipynb")}


def test_check_fails_on_a_stale_tree_and_build_fixes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    monkeypatch.chdir(tmp_path)
    solution = tmp_path / "solutions" / "01_bandits.ipynb"
    notebook = nbformat.read(solution, as_version=4)
    notebook.cells[0].source += "\n\nA new sentence in the introduction."
    nbformat.write(notebook, solution)
    (tmp_path / "exercises" / "99_orphan.ipynb").write_text("{}", encoding="utf-8")

    assert main(["build-exercises", "--check"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err
    assert "exercises/01_bandits.ipynb is out of date" in err[0]
    assert "99_orphan.ipynb has no solution" in err[1]

    (tmp_path / "exercises" / "99_orphan.ipynb").unlink()
    assert main(["build-exercises"]) == 0
    assert main(["build-exercises", "--check"]) == 0
    first = (tmp_path / "exercises" / "01_bandits.ipynb").read_bytes()
    assert main(["build-exercises"]) == 0  # deterministic: a second build changes nothing
    assert (tmp_path / "exercises" / "01_bandits.ipynb").read_bytes() == first
    assert "A new sentence" in first.decode()


def test_check_covers_the_solutions_metadata_and_exercises_readme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    monkeypatch.chdir(tmp_path)
    solution = tmp_path / "solutions" / "02_contextual.ipynb"
    notebook = nbformat.read(solution, as_version=4)
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)  # a solution edited in a tool that drops nbgrader's metadata
    nbformat.write(notebook, solution)
    readme = tmp_path / "exercises" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("`ucb_scores`, ", ""), encoding="utf-8")

    assert main(["build-exercises", "--check"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err
    assert "solutions/02_contextual.ipynb lacks the nbgrader metadata" in err[0]
    assert "exercises/README.md is out of date with solutions/README.md" in err[1]
    assert main(["build-exercises"]) == 0
    assert main(["build-exercises", "--check"]) == 0
    assert solution.read_bytes() == (ROOT / "solutions" / "02_contextual.ipynb").read_bytes()
    assert readme.read_bytes() == (ROOT / "exercises" / "README.md").read_bytes()


def test_build_without_solutions_folder_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["build-exercises", "--check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no solutions folder" in err


# ---------------------------------------------------------------------------------------------
# The generated exercises run, untouched, without an error
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", EXERCISES, ids=[path.stem for path in EXERCISES])
def test_untouched_exercise_runs_and_every_check_says_not_attempted(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    check_cells = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.startswith("check(")]
    assert check_cells, "an exercise without check cells"
    assert all("\n" not in cell.source for cell in check_cells), "a learner's check cell is check(f), nothing more"
    for cell in notebook.cells:
        errors = [output for output in cell.get("outputs", []) if output.output_type == "error"]
        assert not errors, f"{path.name}: {cell.source[:60]!r} raised {errors[0].ename}: {errors[0].evalue}"
        stderr = "".join(output.text for output in cell.get("outputs", [])
                         if output.output_type == "stream" and output.name == "stderr")
        assert not stderr, f"{path.name}: {cell.source[:60]!r} wrote to stderr: {stderr}"
    for cell in check_cells:
        text = "".join(output.get("text", "") for output in cell.outputs)
        assert NOT_ATTEMPTED in text and "Traceback" not in text, f"{cell.source!r} printed {text!r}"
