"""Generate the exercise notebooks from the solutions (``mediarl-lessons build-exercises``).

``solutions/NN_name.ipynb`` is the single source, in nbgrader's own format: ``build-exercises``
gives every cell of a solution the nbgrader cell metadata its content calls for, and writes
the exercise ``exercises/NN_name.ipynb`` as exactly what ``nbgrader generate_assignment``
releases from that solution (``tests/test_nbgrader.py`` runs the real nbgrader and compares
the files byte for byte).

What a solution's cells are (nbgrader schema version 3), from their content alone:

- a code cell with a region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is a
  **solution cell** (``grade_id`` the function or class it defines). In the exercise each
  region, marker lines included, becomes ``# YOUR CODE HERE`` and ``raise NotImplementedError()``
  at the indentation of the ``BEGIN`` line;
- a code cell that starts with ``check(name)`` is an **autograded test cell** worth
  :data:`POINTS` (``grade_id`` ``check_<name>``), one per exercise function, as
  ``mediarl-lessons grade`` gives one point per function. Its source is generated
  (:func:`grade_cell_source`): the learner sees ``check(name)``, which only prints its table;
  a hidden test (``### BEGIN HIDDEN TESTS``, left out of the exercise, put back by nbgrader
  when it autogrades) runs the same check again, quietly, and asserts that it passed: the
  cell fails, and earns nothing, unless every case passes;
- a code cell tagged ``instructor`` (:data:`INSTRUCTOR_TAG`) is an autograded test cell worth
  0 points whose code is all hidden: the instructor's checks of the solution's experiment
  (they keep it honest under ``pytest``, and show up in nbgrader's gradebook without costing
  a student anything). The exercise keeps only its leading comment;
- every other code cell (imports, the contract classes, the experiments) is **read-only**
  (``locked``): nbgrader puts its original source back when it autogrades;
- Markdown cells carry no nbgrader metadata (a Markdown solution region, a written answer
  that only a person can grade, is refused: ``mediarl-lessons grade`` could not score it).

The solution itself is normalised too: its cells' execution timings and the notebook's saved
widget state are removed, since nbgrader would carry both into the release. Like nbgrader, the
exercise has its outputs and execution counts cleared, the hidden tests removed, solution and
test cells marked undeletable (test and read-only cells also not editable) and nbgrader's
checksums filled in. The output is deterministic (nbformat's JSON: sorted keys, one-space
indent, a final newline), so ``build-exercises --check`` can compare files byte for byte.

``exercises/README.md`` is generated as well, from the part of ``solutions/README.md`` between
:data:`README_BEGIN` and :data:`README_END` (the table of exercises).

:func:`otter_master` (``mediarl-lessons export --otter``) makes otter-grader's master notebooks
from the same solutions.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "BEGIN", "BEGIN_HIDDEN", "END", "END_HIDDEN", "INSTRUCTOR_TAG", "POINTS", "ExerciseBuild", "SolutionFormatError",
    "build_exercises", "exercise_notebook", "exercises_readme", "grade_cell_source", "notebook_text", "otter_master",
    "solution_notebook", "strip_solutions",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

#: Cells with this tag (cell metadata ``"tags": ["instructor"]``) become hidden tests worth 0 points.
INSTRUCTOR_TAG = "instructor"

#: Points of one exercise function in nbgrader, as in ``mediarl-lessons grade`` (``CheckResult.max_points``).
POINTS = 1

#: nbgrader's cell metadata schema (nbgrader 0.6 to 0.9).
SCHEMA_VERSION = 3

CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)

#: What nbgrader recognises anywhere in a line (it matches substrings): such a line must be exactly a marker.
_DELIMITERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME",
               "END MARK SCHEME", "AUTOTEST")

_CHECK_CALL = re.compile(r"check\((?P<name>[A-Za-z_]\w*)\)")
_DEFINITION = re.compile(r"(?:def|class)\s+(?P<name>[A-Za-z_]\w*)")

#: The part of solutions/README.md that exercises/README.md repeats.
README_BEGIN = "<!-- exercises/README.md repeats from here (mediarl-lessons build-exercises) -->"
README_END = "<!-- to here -->"

EXERCISES_README_HEAD = """\
# Exercises

The exercise notebooks for learners: each asks you to write the key functions of a lesson
and checks them with `check(...)`. They are generated from `solutions/` by
`mediarl-lessons build-exercises` (this file too, from `solutions/README.md`); do not edit
them by hand. They are also exactly what nbgrader's `generate_assignment` releases from
`solutions/`: see `docs/grading.md`.
"""


class SolutionFormatError(ValueError):
    """A solution notebook that cannot be turned into an exercise (unpaired markers, a misplaced region)."""


def strip_solutions(source: str, stub: tuple[str, ...] = CODE_STUB, *, where: str = "cell",
                    begin: str = BEGIN, end: str = END) -> str:
    """``source`` with every region between ``begin`` and ``end`` replaced by ``stub`` at the region's indentation.

    With ``stub=()`` the regions are removed (nbgrader's hidden tests).
    """
    lines = source.split("\n")
    kept: list[str] = []
    begin_line: int | None = None
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == begin:
            if begin_line is not None:
                raise SolutionFormatError(f"{where}, line {number}: {begin} inside the region opened on "
                                          f"line {begin_line}")
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
            kept.extend(indent + stub_line for stub_line in stub)
        elif marker == end:
            if begin_line is None:
                raise SolutionFormatError(f"{where}, line {number}: {end} without a {begin}")
            begin_line = None
        elif begin_line is None:
            kept.append(line)
    if begin_line is not None:
        raise SolutionFormatError(f"{where}, line {begin_line}: {begin} is never closed by {end}")
    return "\n".join(kept)


def grade_cell_source(name: str) -> str:
    """The source of the autograded test cell of the exercise function ``name``."""
    return "\n".join([
        f"check({name})",
        BEGIN_HIDDEN,
        f'assert check({name}, quiet=True), "{name} does not pass every case yet: the table above says which"',
        END_HIDDEN,
    ])


def _has(source: str, marker: str) -> bool:
    return any(line.strip() == marker for line in source.split("\n"))


def _check_delimiters(source: str, where: str) -> None:
    """nbgrader acts on any line that contains one of its delimiters: allow them only as exact marker lines."""
    for number, line in enumerate(source.split("\n"), start=1):
        if any(delimiter in line for delimiter in _DELIMITERS) and line.strip() not in (BEGIN, END, BEGIN_HIDDEN,
                                                                                         END_HIDDEN):
            raise SolutionFormatError(f"{where}, line {number}: {line.strip()!r} contains one of nbgrader's "
                                      f"delimiters ({', '.join(_DELIMITERS)}); nbgrader would act on it: "
                                      "reword it, or use the exact marker on a line of its own")


def _nbgrader(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
              points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def _hide_instructor_code(source: str, where: str) -> str:
    """An instructor cell with its code (everything after the leading comments) in a hidden-tests region."""
    if _has(source, BEGIN_HIDDEN):
        visible = strip_solutions(source, (), where=where, begin=BEGIN_HIDDEN, end=END_HIDDEN)
        if any(line.strip() and not line.lstrip().startswith("#") for line in visible.split("\n")):
            raise SolutionFormatError(f"{where}: a cell tagged {INSTRUCTOR_TAG!r} must have all its code between "
                                      f"{BEGIN_HIDDEN} and {END_HIDDEN} (the learner would see it)")
        return source
    lines = source.split("\n")
    comments = 0
    while comments < len(lines) and (lines[comments].lstrip().startswith("#") or not lines[comments].strip()):
        comments += 1
    if comments == len(lines):
        raise SolutionFormatError(f"{where}: a cell tagged {INSTRUCTOR_TAG!r} without code")
    return "\n".join(lines[:comments] + [BEGIN_HIDDEN] + lines[comments:] + [END_HIDDEN])


def solution_notebook(solution: nbformat.NotebookNode, *, name: str = "notebook",
                      functions: tuple[str, ...] | None = None) -> nbformat.NotebookNode:
    """The solution with nbgrader's cell metadata, generated grade cells, and no execution timings or widget state.

    ``functions``, where given, are the exercise's functions (``EXERCISES[exercise]``): each must
    have exactly one solution cell and one ``check(...)`` cell, and nothing else may be graded.
    """
    notebook = copy.deepcopy(solution)
    notebook.metadata.pop("widgets", None)
    defined: list[str] = []
    checked: list[str] = []
    instructor = 0
    for index, cell in enumerate(notebook.cells):
        where = f"{name}, cell {index}"
        cell.metadata.pop("nbgrader", None)
        cell.metadata.pop("execution", None)
        _check_delimiters(cell.source, where)
        if cell.cell_type == "markdown":
            if _has(cell.source, BEGIN) or _has(cell.source, BEGIN_HIDDEN):
                raise SolutionFormatError(f"{where}: a solution or hidden-test region in a Markdown cell; a written "
                                          "answer needs a person to grade it, and mediarl-lessons grade scores code")
            continue
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        first_line = cell.source.split("\n", 1)[0].strip()
        check_call = _CHECK_CALL.fullmatch(first_line)
        if _has(cell.source, BEGIN):
            strip_solutions(cell.source, where=where)  # the markers pair up
            if _has(cell.source, BEGIN_HIDDEN) or INSTRUCTOR_TAG in tags:
                raise SolutionFormatError(f"{where}: a solution cell cannot also hold tests")
            definition = next((match for line in cell.source.split("\n") if (match := _DEFINITION.match(line))), None)
            grade_id = definition["name"] if definition else f"solution_{cell.get('id', index)}"
            defined.append(grade_id)
            cell.metadata["nbgrader"] = _nbgrader(grade_id, solution=True)
        elif INSTRUCTOR_TAG in tags:
            instructor += 1
            cell.source = _hide_instructor_code(cell.source, where)
            cell.metadata["nbgrader"] = _nbgrader(f"instructor_check_{instructor}", grade=True, locked=True, points=0)
        elif check_call:
            function = check_call["name"]
            cell.source = grade_cell_source(function)
            checked.append(function)
            cell.metadata["nbgrader"] = _nbgrader(f"check_{function}", grade=True, locked=True, points=POINTS)
        else:
            if _has(cell.source, BEGIN_HIDDEN):
                raise SolutionFormatError(f"{where}: hidden tests belong in a check(...) cell or a cell tagged "
                                          f"{INSTRUCTOR_TAG!r}")
            cell.metadata["nbgrader"] = _nbgrader(f"read_only_{cell.get('id', index)}", locked=True)
    if functions is not None:
        for function in functions:
            if defined.count(function) != 1 or checked.count(function) != 1:
                raise SolutionFormatError(f"{name}: {function} needs exactly one solution cell (found "
                                          f"{defined.count(function)}) and one check({function}) cell (found "
                                          f"{checked.count(function)})")
        extra = sorted(set(checked) - set(functions))
        if extra:
            raise SolutionFormatError(f"{name}: check({extra[0]}) grades a function the exercise does not have")
    ids = [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells if "nbgrader" in cell.metadata]
    duplicates = sorted({grade_id for grade_id in ids if ids.count(grade_id) > 1})
    if duplicates:
        raise SolutionFormatError(f"{name}: two cells have the grade id {duplicates[0]!r}")
    return notebook


def _checksum(cell: nbformat.NotebookNode) -> str:
    """nbgrader's checksum of a cell (``nbgrader.utils.compute_checksum``)."""
    meta = cell.metadata["nbgrader"]
    grade, solution = bool(meta.get("grade")), bool(meta.get("solution"))
    locked = False if solution else (True if grade else bool(meta.get("locked")))
    digest = hashlib.md5()
    for part in (cell.source, cell.cell_type, str(grade), str(solution), str(locked), meta["grade_id"]):
        digest.update(part.encode("utf-8"))
    if grade:
        digest.update(str(float(meta["points"])).encode("utf-8"))
    return digest.hexdigest()


def exercise_notebook(solution: nbformat.NotebookNode, *, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise version of a solution notebook: what ``nbgrader generate_assignment`` releases from it.

    ``solution`` is taken through :func:`solution_notebook` first (it is not changed itself).
    """
    exercise = solution_notebook(solution, name=name)
    for index, cell in enumerate(exercise.cells):
        where = f"{name}, cell {index}"
        # nbgrader's LockCells, ClearSolutions, ClearOutput, ComputeChecksums, ClearHiddenTests, in its order
        meta = cell.metadata.get("nbgrader")
        if meta is not None:
            cell.metadata["deletable"] = False
            if not meta["solution"]:
                cell.metadata["editable"] = False
            if meta["solution"]:
                cell.source = strip_solutions(cell.source, CODE_STUB, where=where)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            for field in ("collapsed", "scrolled"):
                cell.metadata.pop(field, None)
        if meta is None:
            continue
        if meta["grade"]:
            cell.source = strip_solutions(cell.source, (), where=where, begin=BEGIN_HIDDEN, end=END_HIDDEN)
        meta["checksum"] = _checksum(cell)
        meta["cell_type"] = cell.cell_type
    return exercise


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as the exact text written to disk."""
    return nbformat.writes(notebook, version=4).rstrip("\n") + "\n"


def exercises_readme(solutions_readme: str, *, where: str = "solutions/README.md") -> str:
    """exercises/README.md: :data:`EXERCISES_README_HEAD` and the shared part of solutions/README.md."""
    start, stop = solutions_readme.find(README_BEGIN), solutions_readme.find(README_END)
    if start < 0 or stop < start:
        raise SolutionFormatError(f"{where}: the part exercises/README.md repeats must lie between "
                                  f"{README_BEGIN!r} and {README_END!r}")
    shared = solutions_readme[start + len(README_BEGIN): stop].strip("\n")
    return EXERCISES_README_HEAD + "\n" + shared + "\n"


@dataclass(frozen=True)
class ExerciseBuild:
    """One generated file: its source, where it goes, what it should contain, and whether it is stale.

    ``exercise`` is the file written (an exercise notebook, exercises/README.md, or the solution
    itself, for its nbgrader metadata); ``solution`` is the file it comes from.
    """

    solution: Path
    exercise: Path
    text: str

    @property
    def stale(self) -> bool:
        return not self.exercise.is_file() or self.exercise.read_text(encoding="utf-8") != self.text


def build_exercises(solutions_dir: Path, exercises_dir: Path) -> tuple[list[ExerciseBuild], list[Path]]:
    """Every file that ``solutions_dir`` generates, and the orphans in ``exercises_dir``.

    For each solution: the solution itself with its nbgrader metadata (:func:`solution_notebook`),
    then its exercise; then exercises/README.md when solutions/README.md exists. Orphans are
    exercise notebooks with no solution of the same name (a renamed or deleted solution): they
    are reported, never deleted automatically.
    """
    from mediarl_lessons.grading import EXERCISES

    builds = []
    for solution in sorted(solutions_dir.glob("*.ipynb")):
        original = nbformat.read(solution, as_version=4)
        normalised = solution_notebook(original, name=str(solution), functions=EXERCISES.get(solution.stem))
        builds.append(ExerciseBuild(solution, solution, notebook_text(normalised)))
        text = notebook_text(exercise_notebook(normalised, name=str(solution)))
        builds.append(ExerciseBuild(solution, exercises_dir / solution.name, text))
    readme = solutions_dir / "README.md"
    if readme.is_file():
        text = exercises_readme(readme.read_text(encoding="utf-8"), where=str(readme))
        builds.append(ExerciseBuild(readme, exercises_dir / "README.md", text))
    generated = {build.exercise.name for build in builds if build.exercise.parent == exercises_dir}
    orphans = sorted(path for path in exercises_dir.glob("*.ipynb") if path.name not in generated)
    return builds, orphans


# ---------------------------------------------------------------------------------------------
# otter-grader: master notebooks (``mediarl-lessons export --otter``)
# ---------------------------------------------------------------------------------------------
#: otter-grader's solution markers (one ``#``: otter does not read nbgrader's ``### BEGIN SOLUTION``).
OTTER_BEGIN, OTTER_END = "# BEGIN SOLUTION", "# END SOLUTION"


def _raw(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_raw_cell(source)


def otter_master(solution: nbformat.NotebookNode, *, name: str) -> nbformat.NotebookNode:
    """An otter-grader master notebook (otter assign's input format) made from a solution notebook.

    The notebook is the solution's, with: an ``# ASSIGNMENT CONFIG`` cell; each exercise
    function as a question worth :data:`POINTS`, from its solution cell (with otter's one-``#``
    markers) to its ``check(f)`` cell, which becomes the question's one public test,
    ``check(f, strict=True, quiet=True).passed`` (``True``, or the check's table raised); the
    instructor cells left out (otter has no test worth 0 points); outputs cleared. otter assign
    adds its own ``grader.check`` cells.
    """
    from mediarl_lessons.grading import EXERCISES

    notebook = solution_notebook(solution, name=name, functions=EXERCISES.get(Path(name).stem))
    question: str | None = None
    config = "\n".join([
        "# ASSIGNMENT CONFIG",
        f"name: {Path(name).stem}",
        "export_cell:",
        "    pdf: false",
        "generate: true",
    ])
    cells = [_raw(config)]
    for cell in notebook.cells:
        meta = cell.metadata.pop("nbgrader", None) or {}
        cell.metadata.pop("deletable", None)
        cell.metadata.pop("editable", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if meta.get("grade") and meta["grade_id"].startswith("check_"):
            function = meta["grade_id"].removeprefix("check_")
            if question != function:
                raise SolutionFormatError(f"{name}: check({function}) must follow the solution cell of {function} "
                                          "(an otter question runs from one to the other)")
            question = None
            cells.extend([
                _raw("# BEGIN TESTS"),
                # otter's tests compare a cell's output with the master's: True, or the check's table raised
                nbformat.v4.new_code_cell(f"check({function}, strict=True, quiet=True).passed", outputs=[
                    nbformat.v4.new_output("execute_result", {"text/plain": "True"}, execution_count=1)]),
                _raw("# END TESTS"),
                _raw("# END QUESTION"),
            ])
            continue
        if meta.get("grade"):  # an instructor cell
            continue
        if meta.get("solution"):
            if question is not None:
                raise SolutionFormatError(f"{name}: the solution cell of {meta['grade_id']} comes before "
                                          f"check({question}) closes the question of {question}")
            question = meta["grade_id"]
            cell.source = "\n".join(
                line.replace(BEGIN, OTTER_BEGIN) if line.strip() == BEGIN else
                line.replace(END, OTTER_END) if line.strip() == END else line
                for line in cell.source.split("\n"))
            cells.extend([_raw(f"# BEGIN QUESTION\nname: {meta['grade_id']}\npoints: {POINTS}"),
                          _raw("# BEGIN SOLUTION"), cell, _raw("# END SOLUTION")])
            continue
        cells.append(cell)
    notebook.cells = cells
    for index, cell in enumerate(notebook.cells):
        cell.id = f"otter-{index:02d}"
    return notebook
