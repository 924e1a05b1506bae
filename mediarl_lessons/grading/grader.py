"""Batch grading of a class: ``mediarl-lessons grade EXERCISE SUBMISSION...``.

For every submission (a ``.ipynb`` or ``.py`` file; who it belongs to: :func:`find_submissions`):

1. :func:`mediarl_lessons.grading.extract.extract` takes the exercise's functions and classes
   and exactly what they need, found by following names (imports, helpers, constants), in
   notebook order; experiments, scratch cells, prints and magics are left out. Nothing of the
   submission runs in the grader's process.
2. :mod:`mediarl_lessons.grading.worker` runs those statements in a sandbox
   (:mod:`mediarl_lessons.grading.sandbox`: bubblewrap on Linux) that receives only the
   statements and the cases' ``observe`` halves, never the seed or an expected answer. Each
   function runs in its own child process with a fair share of the submission's time.
3. Here, the plain data that came back is validated and judged against the reference answers,
   which exist only in this process (:func:`mediarl_lessons.grading.core.judge_function`).

A score is the number of exercise functions that pass every case (one point each). Every
submission gets exactly one row, whatever it does; a row's ``message`` says what went wrong.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import math
import os
import pickle
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cloudpickle

from mediarl_lessons.grading import sandbox
from mediarl_lessons.grading.core import (REFERENCES, REGISTRY, Case, CheckResult, build_cases, checked_with,
                                         judge_function)
from mediarl_lessons.grading.extract import Extraction, extract
from mediarl_lessons.grading.records import MalformedRecord, loads

__all__ = ["Submission", "SubmissionResult", "find_submissions", "grade", "grade_submission",
           "to_csv", "to_feedback", "to_json", "to_table"]

#: The most output (bytes) read back from one sandbox; more is a malformed result.
MAX_RESULT_BYTES = 64 * 2**20
#: How long after ``--timeout`` a sandbox that did not stop by itself is killed (seconds).
GRACE = 5.0
#: Suffixes of submissions (compared in lower case).
SUFFIXES = (".ipynb", ".py")
#: Held while parsing a submission. CPython 3.11's parser keeps its recursion depth in state shared
#: by threads: a deeply nested submission parsed in one thread while another thread parses can
#: make the other fail with "SystemError: AST constructor recursion depth mismatch".
_PARSING = threading.Lock()


@dataclass
class SubmissionResult:
    """One student's grade: ``status`` is ``"ok"``, ``"timeout"`` or ``"error"``."""

    student: str
    exercise: str
    status: str
    checks: list[CheckResult] = field(default_factory=list)
    message: str = ""

    @property
    def score(self) -> float:
        return sum(check.points for check in self.checks)

    @property
    def max_score(self) -> float:
        return float(len(REGISTRY[self.exercise]))

    def to_dict(self) -> dict[str, Any]:
        return {"student": self.student, "exercise": self.exercise, "status": self.status,
                "score": self.score, "max_score": self.max_score, "message": self.message,
                "checks": [check.to_dict() for check in self.checks]}


# ---------------------------------------------------------------------------------------------
# Who submitted what
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Submission:
    """One student's submission: ``path`` is None when ``problem`` says why there is no single file."""

    student: str
    path: Path | None
    problem: str = ""


def find_submissions(paths: list[Path], exercise: str) -> tuple[list[Submission], list[str]]:
    """The submissions in ``paths`` (files or folders), one per student, and notes on what was left out.

    - A file given by name, or directly in a folder given: the student is the file's stem
      (``alice.ipynb`` -> ``alice``).
    - A file in a sub-folder of a folder given: the student is that sub-folder
      (``class/alice/01_bandits.ipynb`` -> ``alice``); nbgrader's
      ``submitted/<student>/<exercise>/<exercise>.ipynb`` is ``<student>``, and only the
      ``<exercise>`` folder of each student counts there.
    - Suffixes count in any case (``.IPYNB``). Hidden folders and ``.ipynb_checkpoints`` are left out.
    - A student with two candidate files (``alice.py`` and ``alice.ipynb``; two notebooks in
      one folder and none named after the exercise) gets one ``error`` row naming both.
    """
    candidates: dict[str, list[Path]] = {}
    notes: list[str] = []
    for given in paths:
        if not given.is_dir():
            if given.suffix.lower() in SUFFIXES or given.is_file():
                candidates.setdefault(given.stem, []).append(given)
            else:
                notes.append(f"{given}: no such file")
            continue
        for path in sorted(given.rglob("*")):
            relative = path.relative_to(given)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            if path.suffix.lower() not in SUFFIXES:
                notes.append(f"{path}: not a .ipynb or .py file, not graded")
                continue
            student = _student_of(relative, exercise)
            if student is None:
                notes.append(f"{path}: in another exercise's folder, not graded")
                continue
            candidates.setdefault(student, []).append(path)
    submissions = []
    for student, files in candidates.items():
        files = sorted(set(files))
        if len(files) > 1:  # in a student's folder, a file named after the exercise wins
            named = [path for path in files if path.stem.lower() == exercise.lower()]
            files = named if len(named) == 1 else files
        if len(files) == 1:
            submissions.append(Submission(student, files[0]))
        else:
            listed = ", ".join(str(path) for path in files)
            submissions.append(Submission(student, None, f"{len(files)} files for one student ({listed}); "
                                                         "keep one and grade again"))
    return submissions, notes


def _student_of(relative: Path, exercise: str) -> str | None:
    """Who a file found ``relative`` to a folder given belongs to (None: another exercise's file)."""
    folders = relative.parts[:-1]
    if not folders:
        return relative.stem
    exercise_folders = [i for i, part in enumerate(folders) if part in REGISTRY]
    if exercise_folders:  # nbgrader: <student>/<exercise>/file
        i = exercise_folders[-1]
        if folders[i] != exercise:
            return None
        return folders[i - 1] if i > 0 else relative.stem
    return folders[0]


# ---------------------------------------------------------------------------------------------
# Grading one submission
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Batch:
    """What every submission of one batch shares: the cases, built once, here."""

    exercise: str
    seed: int
    timeout: float
    cases: dict[str, list[Case]]
    observers: bytes  # the cases' observe halves, pickled: all the sandbox ever gets of them

    @classmethod
    def prepare(cls, exercise: str, seed: int, timeout: float) -> Batch:
        cases = {name: build_cases(check, seed) for name, check in REGISTRY[exercise].items()}
        observers = cloudpickle.dumps([(name, [case.observe for case in cases[name]]) for name in cases])
        return cls(exercise, seed, timeout, cases, observers)


def grade_submission(path: Path, exercise: str, *, seed: int, timeout: float, student: str | None = None,
                     batch: Batch | None = None) -> SubmissionResult:
    """Grade one submission file; its code runs only in the sandbox.

    ``timeout`` is for the whole submission, all its functions together.
    """
    batch = batch or Batch.prepare(exercise, seed, timeout)
    student = student if student is not None else path.stem
    try:
        with _PARSING:
            extraction = extract(path, list(REGISTRY[exercise]))
    except SyntaxError as error:
        return SubmissionResult(student, exercise, "error", message=f"syntax error on line {error.lineno}: {error.msg}")
    except (ValueError, OSError) as error:
        return SubmissionResult(student, exercise, "error", message=str(error))
    except (RecursionError, MemoryError):  # absurdly nested code or JSON: the file's fault, not the grader's
        return SubmissionResult(student, exercise, "error", message="nested too deeply to be read; not graded")
    with _PARSING:  # what the source says, read here: reference use, the references standing in
        flags = {name: static_reference_use(extraction, exercise, name) for name in REGISTRY[exercise]}
        notes = {name: _note_of(batch, extraction, name) for name in REGISTRY[exercise]}
    lines, stopped, stderr = _run_sandbox(batch, extraction)
    return _judge(student, batch, extraction, lines, stopped, stderr, flags, notes)


def _run_sandbox(batch: Batch, extraction: Extraction) -> tuple[list[str], str, str]:
    """``(result lines, how it stopped, the tail of its stderr)``: ``"done"``, ``"timeout"`` or ``"died"``."""
    job = {"exercise": batch.exercise, "seconds": batch.timeout,
           "chunks": [(chunk.source, chunk.origin) for chunk in extraction.chunks],
           "future_flags": extraction.future_flags, "functions": pickle.loads(batch.observers),
           "started": time.time()}
    with tempfile.TemporaryDirectory(prefix="mediarl-grade-") as folder:
        job_path = os.path.join(folder, "job.pkl")
        with open(job_path, "wb") as file:
            cloudpickle.dump(job, file)
        work = os.path.join(folder, "work")  # the submission's own writable folder (without bubblewrap)
        os.mkdir(work)
        command, env = sandbox.command(job_path, work)
        process = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
        out, err = _Reader(process.stdout, MAX_RESULT_BYTES), _Reader(process.stderr, 0, keep_tail=4096)
        try:
            process.wait(timeout=batch.timeout + GRACE)
            stopped = "exited"
        except subprocess.TimeoutExpired:
            stopped = "timeout"
        finally:
            sandbox.stop(process)  # and anything it left running
        out.join(GRACE)
        err.join(GRACE)
        for stream in (process.stdout, process.stderr):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
    lines = out.text().splitlines()
    if stopped == "exited":
        stopped = "done" if lines and lines[-1] == '{"done": true}' else "died"
    return lines, stopped, err.text()


class _Reader(threading.Thread):
    """Drains a pipe: keeps at most ``limit`` bytes (or only the last ``keep_tail``), never blocks the child."""

    def __init__(self, stream: Any, limit: int, keep_tail: int = 0) -> None:
        super().__init__(daemon=True)
        self.stream, self.limit, self.keep_tail = stream, limit, keep_tail
        self.data = bytearray()
        self.overflow = False
        self.start()

    def run(self) -> None:
        try:
            while chunk := self.stream.read1(1 << 16):
                if self.keep_tail:
                    self.data = (self.data + chunk)[-self.keep_tail:]
                elif len(self.data) + len(chunk) <= self.limit:
                    self.data += chunk
                else:
                    self.overflow = True  # keep draining, so that the writer never blocks
        except (OSError, ValueError):
            pass

    def text(self) -> str:
        return "" if self.overflow else self.data.decode("utf-8", "replace")


def _judge(student: str, batch: Batch, extraction: Extraction, lines: list[str], stopped: str, stderr: str,
           flags: dict[str, str], notes: dict[str, str]) -> SubmissionResult:
    """Validate the sandbox's lines and judge each function: always one row, never an exception."""
    exercise, names = batch.exercise, list(REGISTRY[batch.exercise])
    results: dict[str, Any] = {}
    failures: dict[int, tuple[str, str]] = {}
    malformed = False
    for line in lines[:len(names) + 2]:
        try:
            record = loads(line)
        except MalformedRecord:
            malformed = True
            continue
        if not isinstance(record, dict) or "function" not in record:
            continue
        name = record.get("function")
        if name not in names or name in results:
            continue
        results[name] = _function_result(record, failures)
    checks = []
    for name in names:
        result = results.setdefault(name, "timeout" if stopped == "timeout" else "crashed")
        flagged = flags.get(name, "")
        if flagged and name in extraction.found:
            result = results[name] = flagged  # read here, outside the sandbox: nothing inside can hide it
        if name not in extraction.found and result not in ("timeout", "crashed"):
            result = "missing"
        checks.append(judge_function(REGISTRY[exercise][name], batch.cases[name], result))
    status, message = "ok", []
    timed_out = [name for name in names if results[name] == "timeout"]
    if timed_out:
        status = "timeout"
        message.append(f"{', '.join(timed_out)} did not finish within the submission's {batch.timeout:g} s")
    if all(results[name] == "crashed" for name in names):
        status = "error"
        tail = stderr.strip().splitlines()[-1:] or [""]
        message.append(f"the grading process stopped before any function was checked {tail[0][:160]}".strip())
    if malformed:
        message.append("some of its output was malformed and ignored")
    for number, (kind, text) in sorted(failures.items()):
        chunk = extraction.chunks[number] if 0 <= number < len(extraction.chunks) else None
        needed_by = [name for name in names if number in extraction.needs.get(name, ())]
        where = chunk.origin if chunk else "a statement"
        message.append(f"{where} raised {kind}: {text[:120]}" + (f" (needed by {', '.join(needed_by)})"
                                                                    if needed_by else ""))
    for check in checks:
        if check.name in results and check.status in ("passed", "failed") and check.cases:
            check.notes = notes.get(check.name, "")
    message.append(_not_attempted(checks))
    message.extend(extraction.notes)
    if not sandbox.available():
        message.append(sandbox.NO_SANDBOX)
    return SubmissionResult(student, exercise, status, checks, "; ".join(part for part in message if part))


def static_reference_use(extraction: Extraction, exercise: str, name: str) -> str:
    """``"reference"`` or ``"grader"`` when the code ``name`` needs names its own reference or the checks.

    Read from the source in the grader's process, so that a submission cannot switch the test off
    from inside the sandbox (where the same test runs on the live objects). It sees imports
    (``from mediarl_lessons.mdp import value_iteration``, inside a function too) and attributes of
    imported modules (``mdp.value_iteration``, ``mediarl_lessons.mdp.value_iteration``).
    """
    wanted = {tuple(spec.split(":")) for spec in REFERENCES.get(exercise, {}).get(name, ())}
    nodes: list[ast.AST] = []
    for index in sorted(extraction.needs.get(name, ())):
        try:
            nodes += ast.walk(ast.parse(extraction.chunks[index].source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    aliases: dict[str, str] = {}  # a name bound by an import -> the module or object it stands for
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("mediarl_lessons.grading"):
                    return "grader"
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                    alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if f"{node.module}.{alias.name}".startswith("mediarl_lessons.grading"):
                    return "grader"
                if (node.module, alias.name) in wanted:
                    return "reference"
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Constant) and str(node.value).startswith("mediarl_lessons.grading"):
            return "grader"  # __import__("mediarl_lessons.grading...") and the like
    for node in nodes:
        dotted = _dotted(node) if isinstance(node, ast.Attribute) else None
        if dotted is None:
            continue
        root, _, rest = dotted.partition(".")
        path = f"{aliases.get(root, root)}.{rest}"
        if path.startswith("mediarl_lessons.grading"):
            return "grader"
        if tuple(path.rsplit(".", 1)) in wanted:
            return "reference"
    return ""


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for an attribute chain on a plain name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _function_result(record: dict[str, Any], failures: dict[int, tuple[str, str]]) -> Any:
    """One function's result from its record (``"malformed"`` if it is not what the worker writes)."""
    status = record.get("status")
    if status == "timeout":
        return "timeout"
    if status != "ok":
        return "crashed"
    try:
        payload = loads(str(record.get("payload", "")))
    except MalformedRecord:
        return "malformed"
    if not isinstance(payload, dict):
        return "malformed"
    for failure in payload.get("failures", [])[:50] if isinstance(payload.get("failures"), list) else []:
        if isinstance(failure, list) and len(failure) == 3 and isinstance(failure[0], int):
            failures.setdefault(failure[0], (str(failure[1])[:80], str(failure[2])[:200]))
    return payload.get("result", "malformed")


def _note_of(batch: Batch, extraction: Extraction, name: str) -> str:
    """``checked_with``'s note for a submission's function, from the statement that defines it last."""
    defining = [chunk for chunk in extraction.chunks if name in chunk.defines]
    if not defining:
        return ""
    try:  # compiled, never run: only to read the names its code refers to
        code = compile(defining[-1].source, "submission", "exec", flags=extraction.future_flags, dont_inherit=True)
    except SyntaxError:
        return ""
    return checked_with(code, batch.exercise, name)


def _not_attempted(checks: list[CheckResult]) -> str:
    """``"not attempted: all 5 functions"``, ``"not attempted: td_targets, soft_update"`` or ``""``."""
    names = [check.name for check in checks if check.status == "not attempted"]
    if not names:
        return ""
    if len(names) == len(checks):
        return f"not attempted: all {len(names)} functions" if len(names) > 1 else f"not attempted: {names[0]}"
    return "not attempted: " + ", ".join(names)


def grade(exercise: str, paths: list[Path], *, seed: int, timeout: float = 60.0, jobs: int = 1
          ) -> list[SubmissionResult]:
    """Grade every submission found in ``paths``, ``jobs`` at a time: one result per student."""
    submissions, _notes = find_submissions(paths, exercise)
    return grade_all(exercise, submissions, seed=seed, timeout=timeout, jobs=jobs)


def grade_all(exercise: str, submissions: list[Submission], *, seed: int, timeout: float = 60.0, jobs: int = 1
              ) -> list[SubmissionResult]:
    """Grade ``submissions`` (from :func:`find_submissions`); results in the same order."""
    batch = Batch.prepare(exercise, seed, timeout)

    def one(submission: Submission) -> SubmissionResult:
        if submission.path is None:
            return SubmissionResult(submission.student, exercise, "error", message=submission.problem)
        try:
            return grade_submission(submission.path, exercise, seed=seed, timeout=timeout,
                                    student=submission.student, batch=batch)
        except Exception as error:  # a bug of ours must still leave this student a row
            return SubmissionResult(submission.student, exercise, "error",
                                    message=f"the grader failed on this submission ({type(error).__name__}: "
                                            f"{str(error)[:200]}); please report it")

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, submissions))


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------
def one_line(text: str) -> str:
    """Text for one cell or one line: newlines and other control characters become spaces."""
    return "".join(" " if ord(char) < 32 or ord(char) == 127 else char for char in str(text))


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one line, and no formula (``=``, ``+``, ``-``, ``@`` first)."""
    text = one_line(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def to_csv(results: list[SubmissionResult], exercise: str) -> str:
    """``student,status,<one column per check>,total,max,message``: one row per submission."""
    names = list(REGISTRY[exercise])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "status", *names, "total", "max", "message"])
    for result in results:
        points = {check.name: check.points for check in result.checks}
        writer.writerow([csv_cell(result.student), result.status, *(_number(points.get(name, 0.0)) for name in names),
                         _number(result.score), _number(result.max_score), csv_cell(result.message)])
    return buffer.getvalue()


def to_json(results: list[SubmissionResult]) -> str:
    return json.dumps([result.to_dict() for result in results], indent=2)


def to_table(results: list[SubmissionResult]) -> str:
    students = [one_line(result.student)[:40] for result in results]
    width = max([len("student"), *(len(student) for student in students)])
    lines = [f"{'student':<{width}}  {'status':<8} {'score':>9}  message"]
    for student, result in zip(students, results):
        score = f"{_number(result.score)}/{_number(result.max_score)}"
        failed = [check.name for check in result.checks if check.status == "failed"]
        message = "; ".join(part for part in [result.message, ("failed: " + ", ".join(failed)) if failed else ""]
                            if part)
        lines.append(f"{student:<{width}}  {result.status:<8} {score:>9}  {one_line(message)}")
    return "\n".join(lines)


def feedback_name(student: str) -> str:
    """A safe file name for a student's feedback file (no folders, no hidden files)."""
    # no leading "." (hidden) or "-" (read as an option by the commands that mail or copy it)
    safe = "".join(char if char.isalnum() or char in "-_.@" else "_" for char in one_line(student)).lstrip(".-")
    return (safe or "student")[:100] + ".txt"


def to_feedback(result: SubmissionResult, *, seed: int) -> str:
    """The text a student gets back: the score, then each function's verdict and what to fix.

    ``mediarl-lessons grade ... --feedback DIR`` writes one such file per student
    (``DIR/<student>.txt``), ready to send.
    """
    lines = [f"{result.exercise}: {one_line(result.student)}",
             f"score: {_number(result.score)} / {_number(result.max_score)}"
             + ("" if result.status == "ok" else f"  (status: {result.status})"),
             f"graded with --seed {seed}"]
    if result.message:
        lines.append(f"note: {result.message}")
    for check in result.checks:
        lines += ["", f"{check.name}: {check.status} ({_number(check.points)} / 1)"]
        if check.notes:
            lines.append(f"  ({check.notes})")
        if not check.passed:
            lines += ["  " + line for line in check.feedback.splitlines() if line.strip() and
                      not line.startswith("note: ")]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if math.isfinite(value) and value == int(value) else f"{value:g}"
