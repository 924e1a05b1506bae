"""The grader's sandboxed half: run ONE submission's functions on the check cases, nothing else.

    python -m mediarl_lessons.grading.worker EXERCISE SEED DEFINITIONS.py RESULT.jsonl SECONDS

The batch grader (:mod:`mediarl_lessons.grading.grader`) starts this in a subprocess with a
time limit, one per submission. It executes the submission's definitions, calls each
exercise function through the cases' ``observe`` half, and writes what came back as JSON
lines, one per function as soon as it is done (never pickle: the grader must not execute
anything the submission could have forged). Each function gets ``SECONDS``: one that runs
longer is stopped (an alarm signal) and recorded as ``"timeout"``, and the next one runs. The
comparison with the reference, ``judge``, happens in the grader's own process, so patching
numpy, printing fake results or exiting early here cannot raise a score.
"""

from __future__ import annotations

import json
import math
import signal
import sys
from typing import Any

import numpy as np

#: Address-space limit of the worker (bytes): an absurd allocation fails with MemoryError.
MEMORY_LIMIT = 4 * 2**30


def encode(value: Any) -> Any:
    """An observation as JSON-able data (arrays, tuples and odd floats tagged, anything else as text)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item) for item in value]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size <= 1_000_000:
        return {"__array__": [encode(item) for item in value.ravel().tolist()], "shape": list(value.shape),
                "dtype": value.dtype.str}
    return {"__repr__": repr(value)[:200]}


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):  # not on this platform: the time limit still holds
        pass


class FunctionTimeout(BaseException):
    """Raised by the alarm inside a function that ran out of time (a BaseException, so that a
    submission's ``except Exception`` cannot swallow it)."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise FunctionTimeout()


def run(exercise: str, seed: int, definitions: str, seconds: float, write: Any) -> None:
    """Execute the definitions, observe every check case, ``write(record)`` one record per function."""
    from mediarl_lessons.grading import REGISTRY  # registers the checks
    from mediarl_lessons.grading.core import case_rng, observe_safely

    namespace: dict[str, Any] = {"__name__": "submission"}
    try:
        exec(compile(definitions, "submission", "exec"), namespace)
    except (Exception, SystemExit) as error:
        write({"error": f"the definitions raised {type(error).__name__}: {str(error)[:200]}"})
        return
    signal.signal(signal.SIGALRM, _on_alarm)
    for name, function_check in REGISTRY[exercise].items():
        func = namespace.get(name)
        if not callable(func):
            write({"function": name, "result": "missing"})
            continue
        if str(getattr(func, "__module__", "")).startswith("mediarl_lessons"):
            write({"function": name, "result": "reference"})  # imported, not written
            continue
        observations: list[dict[str, Any]] | str = []
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            for case in function_check.make_cases(case_rng(seed, exercise, name)):
                outcome, value = observe_safely(case, func)
                if outcome == "not attempted":
                    observations = "not attempted"
                    break
                if outcome == "error":
                    observations.append({"outcome": "error", "type": type(value).__name__,
                                         "message": str(value)[:300]})
                else:
                    observations.append({"outcome": "ok", "value": encode(value)})
        except FunctionTimeout:
            observations = "timeout"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        write({"function": name, "result": observations})


def main(argv: list[str]) -> int:
    exercise, seed, definitions_path, result_path, seconds = argv
    _limit_memory()
    with open(definitions_path, encoding="utf-8") as file:
        definitions = file.read()
    with open(result_path, "w", encoding="utf-8") as results:
        def write(record: dict[str, Any]) -> None:
            results.write(json.dumps(record) + "\n")
            results.flush()  # what is written survives a later crash or kill

        run(exercise, int(seed), definitions, float(seconds), write)
        write({"done": True})
    return 0


if __name__ == "__main__":
    sys.stdout = sys.stderr  # anything the submission prints goes to the (discarded) error stream
    raise SystemExit(main(sys.argv[1:]))
