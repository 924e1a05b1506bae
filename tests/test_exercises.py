"""exercises/ is generated from solutions/: the generator, ``build-exercises --check``, and the
generated notebooks themselves (they run top to bottom, every check "not attempted yet")."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mediarl_lessons.cli import main
from mediarl_lessons.grading import NOT_ATTEMPTED
from mediarl_lessons.grading.build import INSTRUCTOR_TAG, SolutionFormatError, exercise_notebook, strip_solutions

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


def test_outputs_cleared_and_instructor_cells_dropped() -> None:
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                                  execution_count=3, outputs=[nbformat.v4.new_output("stream", text="hi")]),
        nbformat.v4.new_code_cell("assert f() == 1", metadata={"tags": [INSTRUCTOR_TAG]}),
    ])
    exercise = exercise_notebook(notebook)
    assert [cell.cell_type for cell in exercise.cells] == ["markdown", "code"]
    code = exercise.cells[1]
    assert code.outputs == [] and code.execution_count is None
    assert "return 1" not in code.source and "raise NotImplementedError()" in code.source
    assert notebook.cells[1].outputs, "the solution itself must not be changed"


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
    for cell in notebook.cells:
        errors = [output for output in cell.get("outputs", []) if output.output_type == "error"]
        assert not errors, f"{path.name}: {cell.source[:60]!r} raised {errors[0].ename}: {errors[0].evalue}"
        stderr = "".join(output.text for output in cell.get("outputs", [])
                         if output.output_type == "stream" and output.name == "stderr")
        assert not stderr, f"{path.name}: {cell.source[:60]!r} wrote to stderr: {stderr}"
    for cell in check_cells:
        text = "".join(output.get("text", "") for output in cell.outputs)
        assert NOT_ATTEMPTED in text and "Traceback" not in text, f"{cell.source!r} printed {text!r}"
