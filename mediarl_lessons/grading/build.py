"""Generate the exercise notebooks from the solutions (``mediarl-lessons build-exercises``).

``solutions/NN_name.ipynb`` is the single source. Its exercise ``exercises/NN_name.ipynb`` is
the same notebook with:

- every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers,
  marker lines included) replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError()``
  at the indentation of the ``BEGIN`` line (in a Markdown cell: ``YOUR ANSWER HERE``);
- every cell tagged ``instructor`` (:data:`INSTRUCTOR_TAG`) dropped: notes for teachers,
  cells that only check the solution itself;
- outputs, execution counts and execution metadata cleared, and the notebook's saved widget
  state removed.

The output is deterministic (nbformat's JSON: sorted keys, one-space indent, a final
newline), so ``build-exercises --check`` can compare files byte for byte.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["BEGIN", "END", "INSTRUCTOR_TAG", "ExerciseBuild", "build_exercises", "exercise_notebook", "strip_solutions"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"

#: Cells with this tag (cell metadata ``"tags": ["instructor"]``) are left out of the exercises.
INSTRUCTOR_TAG = "instructor"

CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)


class SolutionFormatError(ValueError):
    """A solution notebook whose markers do not pair up."""


def strip_solutions(source: str, stub: tuple[str, ...] = CODE_STUB, *, where: str = "cell") -> str:
    """``source`` with every solution region replaced by ``stub`` at the region's indentation."""
    lines = source.split("\n")
    kept: list[str] = []
    begin_line: int | None = None
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == BEGIN:
            if begin_line is not None:
                raise SolutionFormatError(f"{where}, line {number}: {BEGIN} inside the region opened on "
                                          f"line {begin_line}")
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
            kept.extend(indent + stub_line for stub_line in stub)
        elif marker == END:
            if begin_line is None:
                raise SolutionFormatError(f"{where}, line {number}: {END} without a {BEGIN}")
            begin_line = None
        elif begin_line is None:
            kept.append(line)
    if begin_line is not None:
        raise SolutionFormatError(f"{where}, line {begin_line}: {BEGIN} is never closed by {END}")
    return "\n".join(kept)


def exercise_notebook(solution: nbformat.NotebookNode, *, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise version of a solution notebook (the solution itself is not changed)."""
    exercise = copy.deepcopy(solution)
    exercise.metadata.pop("widgets", None)
    cells = []
    for index, cell in enumerate(exercise.cells):
        if INSTRUCTOR_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        where = f"{name}, cell {index}"
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, CODE_STUB, where=where)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown":
            cell.source = strip_solutions(cell.source, MARKDOWN_STUB, where=where)
        cells.append(cell)
    exercise.cells = cells
    return exercise


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as the exact text written to disk."""
    return nbformat.writes(notebook, version=4).rstrip("\n") + "\n"


@dataclass(frozen=True)
class ExerciseBuild:
    """One exercise file: where it goes, what it should contain, and whether it is stale."""

    solution: Path
    exercise: Path
    text: str

    @property
    def stale(self) -> bool:
        return not self.exercise.is_file() or self.exercise.read_text(encoding="utf-8") != self.text


def build_exercises(solutions_dir: Path, exercises_dir: Path) -> tuple[list[ExerciseBuild], list[Path]]:
    """Every exercise that ``solutions_dir`` generates, and the orphans in ``exercises_dir``.

    Orphans are exercise notebooks with no solution of the same name (a renamed or deleted
    solution): they are reported, never deleted automatically.
    """
    builds = []
    for solution in sorted(solutions_dir.glob("*.ipynb")):
        notebook = nbformat.read(solution, as_version=4)
        text = notebook_text(exercise_notebook(notebook, name=str(solution)))
        builds.append(ExerciseBuild(solution, exercises_dir / solution.name, text))
    generated = {build.exercise.name for build in builds}
    orphans = sorted(path for path in exercises_dir.glob("*.ipynb") if path.name not in generated)
    return builds, orphans
