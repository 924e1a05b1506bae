"""Batch grading of a class: ``mediarl-lessons grade EXERCISE SUBMISSION...`` (COURSE_SPEC §6.3).

For every submission (a ``.ipynb`` or ``.py`` file; the student id is the file's stem):

1. :func:`extract_definitions` keeps only its definitions, parsed with :mod:`ast` and never
   executed here: imports, functions, classes, and constants (an assignment to names in
   CAPITALS, or of a literal value). Experiment cells, prints and notebook magics
   (``%timeit``, ``!pip``, ``%%time`` cells) are dropped, so a student's slow experiment is
   not re-run. A notebook cell with a syntax error is skipped (and named in the message); a
   ``.py`` file with one is an ``error``.
2. :mod:`mediarl_lessons.grading.worker` runs those definitions in a fresh subprocess, with
   a time limit and a memory limit, calls each exercise function on the check cases and
   writes what came back as JSON.
3. Here, in the grader's process, the check cases are rebuilt from the same seed and each
   observation is judged against the reference (:meth:`Case.judge`). A submission that
   loops forever is killed (``timeout``); one that crashes the worker gets ``error``; the
   other submissions are graded regardless.

A score is the number of exercise functions that pass every case (one point each).
"""

from __future__ import annotations

import ast
import builtins
import csv
import io
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mediarl_lessons.grading.core import NOT_ATTEMPTED, REGISTRY, CaseResult, CheckResult, case_rng

__all__ = ["SubmissionResult", "extract_definitions", "find_submissions", "grade", "grade_submission",
           "to_csv", "to_feedback", "to_json"]

#: The largest result file accepted from a worker (bytes).
MAX_RESULT_BYTES = 64 * 2**20


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
# 1. Definitions only
# ---------------------------------------------------------------------------------------------
def _is_constant(node: ast.stmt) -> bool:
    """``N_ARMS = 10``, ``GAMMA: float = 0.9`` or ``names = ("a", "b")``: kept; ``runs = train()``: not."""
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return False
    names = []
    for target in targets:  # plain names, or a tuple of them: N_ARMS, GAMMA = 10, 0.9
        parts = target.elts if isinstance(target, ast.Tuple) else [target]
        if not all(isinstance(part, ast.Name) for part in parts):
            return False
        names.extend(part.id for part in parts)  # type: ignore[attr-defined]
    if all(name.isupper() for name in names):
        return True
    try:
        ast.literal_eval(value)
    except ValueError:
        return False
    return True


_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _definitions(source: str) -> str:
    """The top-level definitions of one cell or file, as source (raises SyntaxError)."""
    tree = ast.parse(source)
    kept = [node for node in tree.body if isinstance(node, _KEPT) or _is_constant(node)]
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


def _without_magics(cell: str) -> str | None:
    """A notebook cell as plain Python: ``%line`` magics and ``!shell`` lines removed; None for ``%%cell`` magics."""
    if cell.lstrip().startswith("%%"):
        return None
    lines = [line for line in cell.split("\n") if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def extract_definitions(path: Path) -> tuple[str, list[str]]:
    """``(definitions source, notes)`` of a ``.py`` or ``.ipynb`` submission; raises ``SyntaxError``
    for a ``.py`` file that does not parse and ``ValueError`` for an unreadable notebook."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".py":
        return _definitions(text), []
    try:
        notebook = json.loads(text)
        cells = [cell for cell in notebook["cells"] if cell.get("cell_type") == "code"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not a readable notebook ({type(error).__name__})") from None
    parts, notes = [], []
    for number, cell in enumerate(cells, start=1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        plain = _without_magics(source)
        if plain is None:
            continue
        try:
            parts.append(_definitions(plain))
        except SyntaxError as error:
            notes.append(f"code cell {number} has a syntax error (line {error.lineno}) and was skipped")
    return "\n\n".join(part for part in parts if part), notes


# ---------------------------------------------------------------------------------------------
# 2. Run the worker
# ---------------------------------------------------------------------------------------------
def _run_worker(exercise: str, seed: int, definitions: str, timeout: float
                ) -> tuple[list[dict[str, Any]], bool, str]:
    """``(records, finished, problem)`` from one worker subprocess.

    ``records`` are the JSON lines it wrote (one per function), ``finished`` whether it got to
    the end, ``problem`` what went wrong if not ("" otherwise).
    """
    n_functions = len(REGISTRY[exercise])
    with tempfile.TemporaryDirectory(prefix="mediarl-grade-") as folder:
        definitions_path = os.path.join(folder, "submission.py")
        result_path = os.path.join(folder, "result.jsonl")
        with open(definitions_path, "w", encoding="utf-8") as file:
            file.write(definitions)
        command = [sys.executable, "-m", "mediarl_lessons.grading.worker", exercise, str(seed),
                   definitions_path, result_path, str(timeout)]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg"}
        # What the submission prints goes to a file (never into the grader's memory); only its
        # last line is read back, to explain a crash.
        stderr_path = os.path.join(folder, "stderr.txt")
        with open(stderr_path, "wb") as stderr_file:
            process = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=stderr_file, start_new_session=True)
            # Each function has `timeout` seconds inside the worker; this backstop also covers
            # imports, definitions and code that blocks the alarm (a long call into C).
            problem = ""
            try:
                process.wait(timeout=timeout * (n_functions + 1) + 20)
            except subprocess.TimeoutExpired:
                problem = "timeout"
            finally:
                _kill_group(process)  # and anything it left running in the background
                process.wait()
        records = _read_records(result_path)
        stderr = _tail(stderr_path)
    finished = bool(records) and records[-1].get("done") is True
    if not finished and not problem:
        last = stderr.strip().splitlines()[-1:] or [""]
        problem = f"the submission stopped the grading process (exit status {process.returncode}) {last[0][:160]}".strip()
    return records, finished, problem


def _tail(path: str, size: int = 4096) -> str:
    with open(path, "rb") as file:
        file.seek(max(0, os.path.getsize(path) - size))
        return file.read().decode("utf-8", "replace")


def _read_records(path: str) -> list[dict[str, Any]]:
    """The complete JSON lines of a worker's result file (a torn last line is ignored)."""
    if not os.path.isfile(path) or os.path.getsize(path) > MAX_RESULT_BYTES:
        return []
    records = []
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            try:
                record = json.loads(line)
            except ValueError:
                break
            if not isinstance(record, dict):
                break
            records.append(record)
    return records


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def decode(data: Any) -> Any:
    """The inverse of :func:`mediarl_lessons.grading.worker.encode` (untrusted input: plain data only)."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "__tuple__" in data:
        return tuple(decode(item) for item in data["__tuple__"])
    if "__float__" in data:
        return float(data["__float__"])
    if "__array__" in data:
        values = [decode(item) for item in data["__array__"]]
        dtype = np.dtype(data["dtype"]) if str(data.get("dtype", "")).lstrip("<>|=")[:1] in "biuf" else np.float64
        return np.array(values, dtype=dtype).reshape(data["shape"])
    return f"<{data.get('__repr__', 'object')}>"


# ---------------------------------------------------------------------------------------------
# 3. Judge, here
# ---------------------------------------------------------------------------------------------
def _judge(exercise: str, seed: int, functions: dict[str, Any]) -> list[CheckResult]:
    results = []
    for name, function_check in REGISTRY[exercise].items():
        if name not in functions or functions[name] == "timeout":
            results.append(CheckResult(exercise, name, "failed", message=f"{name}: did not finish"))
            continue
        observed = functions[name]
        if observed == "missing":
            results.append(CheckResult(exercise, name, "not attempted", message=f"{name}: not defined"))
            continue
        if observed == "reference":
            results.append(CheckResult(exercise, name, "failed", message=f"{name}: imported from mediarl_lessons "
                                                                       "(the course's reference), not written"))
            continue
        if observed == "not attempted" or not isinstance(observed, list):
            results.append(CheckResult(exercise, name, "not attempted", message=f"{name}: {NOT_ATTEMPTED}"))
            continue
        cases = function_check.make_cases(case_rng(seed, exercise, name))
        case_results = []
        for index, case in enumerate(cases):
            entry = observed[index] if index < len(observed) and isinstance(observed[index], dict) else {}
            if entry.get("outcome") == "ok":
                case_results.append(case.judge(decode(entry.get("value"))))
            elif entry.get("outcome") == "error":
                error = _rebuild_error(str(entry.get("type", "")), str(entry.get("message", "")))
                hint = function_check.error_hint(error) or "read the error: your function raised it on these inputs"
                case_results.append(CaseResult(case.name, False, case.show_expected,
                                               f"{type(error).__name__}: {str(error)[:70]}", hint))
            else:
                case_results.append(CaseResult(case.name, False, case.show_expected, "no result", ""))
        status = "passed" if all(result.passed for result in case_results) else "failed"
        results.append(CheckResult(exercise, name, status, case_results))
    return results


def _rebuild_error(type_name: str, message: str) -> BaseException:
    """An instance of the named built-in exception (for the error hints), or a plain Exception."""
    error_type = getattr(builtins, type_name, None)
    if isinstance(error_type, type) and issubclass(error_type, BaseException):
        try:
            return error_type(message)
        except Exception:
            pass
    return Exception(f"{type_name}: {message}")


def grade_submission(path: Path, exercise: str, *, seed: int, timeout: float) -> SubmissionResult:
    """Grade one submission file (its code runs only in a worker subprocess).

    ``timeout`` is per exercise function: a function that runs longer scores 0 and makes the
    submission's status ``timeout``; the others are still graded.
    """
    student = path.stem
    try:
        definitions, notes = extract_definitions(path)
    except SyntaxError as error:
        return SubmissionResult(student, exercise, "error", message=f"syntax error on line {error.lineno}: {error.msg}")
    except (ValueError, OSError) as error:
        return SubmissionResult(student, exercise, "error", message=str(error))
    records, finished, problem = _run_worker(exercise, seed, definitions, timeout)
    errors = [record["error"] for record in records if "error" in record]
    if errors:
        return SubmissionResult(student, exercise, "error", message="; ".join([str(errors[0])[:300], *notes]))
    observed = {record["function"]: record.get("result") for record in records
                if isinstance(record.get("function"), str)}
    timed_out = [name for name, result in observed.items() if result == "timeout"]
    unfinished = [name for name in REGISTRY[exercise] if name not in observed]
    if finished:
        status, message = ("timeout", f"{', '.join(timed_out)} did not finish in {timeout:g} s") if timed_out else ("ok", "")
    elif problem == "timeout":
        status, message = "timeout", f"stopped after running out of time at {unfinished[0] if unfinished else 'the end'}"
    else:
        where = f" while checking {unfinished[0]}" if unfinished else ""
        status, message = "error", problem + where
    checks = _judge(exercise, seed, observed)
    parts = [message, _not_attempted(checks), *notes]
    return SubmissionResult(student, exercise, status, checks, "; ".join(part for part in parts if part))


def _not_attempted(checks: list[CheckResult]) -> str:
    """``"not attempted: all 5 functions"``, ``"not attempted: td_targets, soft_update"`` or ``""``."""
    names = [check.name for check in checks if check.status == "not attempted"]
    if not names:
        return ""
    if len(names) == len(checks):
        return f"not attempted: all {len(names)} functions" if len(names) > 1 else f"not attempted: {names[0]}"
    return "not attempted: " + ", ".join(names)


def find_submissions(paths: list[Path]) -> list[Path]:
    """The submission files named, folders expanded to their ``.py`` and ``.ipynb`` files (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in (".py", ".ipynb") and p.is_file()))
        else:
            found.append(path)
    return found


def grade(exercise: str, paths: list[Path], *, seed: int, timeout: float = 60.0, jobs: int = 1) -> list[SubmissionResult]:
    """Grade every submission, ``jobs`` at a time; results in the order of ``paths``."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda path: grade_submission(path, exercise, seed=seed, timeout=timeout), paths))


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------
def to_csv(results: list[SubmissionResult], exercise: str) -> str:
    """``student,status,<one column per check>,total,max,message``: one row per submission."""
    names = list(REGISTRY[exercise])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "status", *names, "total", "max", "message"])
    for result in results:
        points = {check.name: check.points for check in result.checks}
        writer.writerow([result.student, result.status, *(_number(points.get(name, 0.0)) for name in names),
                         _number(result.score), _number(result.max_score), result.message])
    return buffer.getvalue()


def to_json(results: list[SubmissionResult]) -> str:
    return json.dumps([result.to_dict() for result in results], indent=2)


def to_table(results: list[SubmissionResult]) -> str:
    width = max([len("student"), *(len(result.student) for result in results)])
    lines = [f"{'student':<{width}}  {'status':<8} {'score':>9}  message"]
    for result in results:
        score = f"{_number(result.score)}/{_number(result.max_score)}"
        failed = [check.name for check in result.checks if check.status == "failed"]
        message = "; ".join(part for part in [result.message, ("failed: " + ", ".join(failed)) if failed else ""]
                            if part)
        lines.append(f"{result.student:<{width}}  {result.status:<8} {score:>9}  {message}")
    return "\n".join(lines)


def to_feedback(result: SubmissionResult, *, seed: int) -> str:
    """The text a student gets back: the score, then each function's verdict and what to fix.

    ``mediarl-lessons grade ... --feedback DIR`` writes one such file per student
    (``DIR/<student>.txt``), ready to send.
    """
    lines = [f"{result.exercise}: {result.student}",
             f"score: {_number(result.score)} / {_number(result.max_score)}"
             + ("" if result.status == "ok" else f"  (status: {result.status})"),
             f"graded with --seed {seed}"]
    if result.message:
        lines.append(f"note: {result.message}")
    for check in result.checks:
        lines += ["", f"{check.name}: {check.status} ({_number(check.points)} / 1)"]
        if not check.passed:
            lines += ["  " + line for line in check.feedback.splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if math.isfinite(value) and value == int(value) else f"{value:g}"
