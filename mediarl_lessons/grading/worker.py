"""The grader's sandboxed half: run ONE submission's functions on the check cases, nothing else.

    python -I -m mediarl_lessons.grading.worker JOB

The batch grader (:mod:`mediarl_lessons.grading.grader`) starts this inside a sandbox, one
per submission. ``JOB`` is a file the grader wrote: the submission's statements (what the
contract functions need, :mod:`mediarl_lessons.grading.extract`) and, for each function,
the cases' ``observe`` halves. It holds no seed and no expected answer: those never leave
the grader, so nothing the submission does here can see or forge its own score.

This process runs none of the submission's code itself. For each function it forks a child
that executes the statements, then calls the function through the cases' ``observe`` halves
(:func:`mediarl_lessons.grading.core.observe_function`) and sends back what came out as
JSON. The child gets a fair share of the time left; one that runs over is killed from here,
so a loop with a bare ``except:`` cannot swallow the limit, and a crash, ``os._exit`` or a
``KeyboardInterrupt`` costs only that function. Each result goes to standard output as one
JSON line as soon as it is known; what the submission prints goes to standard error.
"""

from __future__ import annotations

import builtins
import json
import os
import pickle
import select
import signal
import sys
import time
from typing import Any

#: Address-space limit of the sandbox (bytes): an absurd allocation fails with MemoryError.
MEMORY_LIMIT = 4 * 2**30
#: The largest file the submission may write (bytes).
FILE_SIZE_LIMIT = 64 * 2**20
#: The most processes the submission may start (on top of what this user runs already).
PROCESS_LIMIT = 256
#: The largest result one function may send back (bytes).
MAX_PAYLOAD = 32 * 2**20
#: Libraries imported here before forking, so that each child starts with them loaded.
PRELOAD = ("numpy", "gymnasium", "mediarl_lessons", "mediarl_lessons.envs", "torch")


def set_limits(seconds: float) -> None:
    """rlimits of this process and everything it starts (where the platform has them)."""
    try:
        import resource
    except ImportError:  # Windows: the grader's time limit still holds
        return
    running = _processes_of_this_user()
    for limit, value in (("RLIMIT_AS", MEMORY_LIMIT), ("RLIMIT_FSIZE", FILE_SIZE_LIMIT), ("RLIMIT_CORE", 0),
                         ("RLIMIT_CPU", int(seconds) * 2 + 30), ("RLIMIT_NPROC", running + PROCESS_LIMIT)):
        if hasattr(resource, limit):
            try:
                resource.setrlimit(getattr(resource, limit), (value, value))
            except (ValueError, OSError):
                pass


def _processes_of_this_user() -> int:
    """RLIMIT_NPROC counts every process of the user, not only this sandbox's."""
    uid, count = os.getuid() if hasattr(os, "getuid") else 0, 0
    try:
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    count += entry.stat().st_uid == uid
                except OSError:
                    pass
    except OSError:
        return 4096
    return count


def forbid_inspection() -> None:
    """Make this process not dumpable (Linux): its children, which run the submission, can then
    neither open its file descriptors through ``/proc/<pid>/fd`` (the result stream among them)
    nor ptrace it, so they cannot write a single line of the results."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # prctl(PR_SET_DUMPABLE, 0)
    except (OSError, AttributeError):
        pass


def run_function(job: dict[str, Any], index: int) -> dict[str, Any]:
    """In the child: execute the statements, observe one function; a JSON-able result."""
    from mediarl_lessons.grading.core import observe_function

    name, observers = job["functions"][index]
    namespace: dict[str, Any] = {"__name__": "submission", "__builtins__": builtins}
    failures = []
    for number, (source, origin) in enumerate(job["chunks"]):
        try:
            exec(compile(source, f"<{origin}>", "exec", flags=job["future_flags"], dont_inherit=True), namespace)
        except BaseException as error:  # a failing statement costs only the functions that need it
            failures.append([number, type(error).__name__[:80], str(error)[:200]])
    func = namespace.get(name)
    if not callable(func):
        return {"result": "missing", "failures": failures}
    result = observe_function(observers, func, exercise=job["exercise"], name=name, catch_interrupt=True)
    return {"result": result, "failures": failures}


def _child(job: dict[str, Any], index: int, write_fd: int, results_fd: int) -> None:
    """The forked child: never returns. It cannot write to the results stream, only its own pipe."""
    if results_fd >= 0:
        os.close(results_fd)
    try:
        payload = json.dumps(run_function(job, index)).encode()
    except BaseException as error:
        payload = json.dumps({"result": "crashed", "failures": [], "why": type(error).__name__}).encode()
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(0)


def _collect(pid: int, read_fd: int, deadline: float) -> tuple[str, bytes]:
    """Read the child's answer until it closes the pipe or time runs out; ``(status, payload)``."""
    chunks, size, status = [], 0, "ok"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            status = "timeout"
            break
        ready, _, _ = select.select([read_fd], [], [], left)
        if not ready:
            continue
        data = os.read(read_fd, 1 << 16)
        if not data:
            break
        size += len(data)
        if size > MAX_PAYLOAD:
            status = "too large"
            break
        chunks.append(data)
    if status != "ok":
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os.close(read_fd)
    os.waitpid(pid, 0)
    return status, b"".join(chunks)


def run(job: dict[str, Any], emit: Any, results_fd: int = -1) -> None:
    """Observe every function of the job, each in its own child; ``emit(record)`` as they finish."""
    functions = job["functions"]
    # The submission's time counts from when the grader started it (the same clock outside).
    deadline = time.monotonic() + job["seconds"] - max(0.0, time.time() - job["started"])
    for index, (name, _observers) in enumerate(functions):
        # A fair share of what is left: time a fast function did not use goes to the next ones.
        share = (deadline - time.monotonic()) / (len(functions) - index)
        if share <= 0:
            emit({"function": name, "status": "timeout"})
            continue
        if not hasattr(os, "fork"):  # Windows: no child, no per-function limit (the grader's holds)
            emit({"function": name, "status": "ok", "payload": json.dumps(run_function(job, index))})
            continue
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(job, index, write_fd, results_fd)
        os.close(write_fd)
        status, payload = _collect(pid, read_fd, time.monotonic() + share)
        if status == "ok" and not payload:
            status = "crashed"
        emit({"function": name, "status": status, "payload": payload.decode("utf-8", "replace")
              if status == "ok" else ""})


def main(argv: list[str]) -> int:
    (job_path,) = argv
    with open(job_path, "rb") as file:
        job = pickle.load(file)  # written by the grader, read before any submission code exists here
    set_limits(job["seconds"])
    forbid_inspection()
    results = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever the submission prints goes to standard error
    sys.stdout = sys.stderr
    for module in PRELOAD:
        if module != "torch" or job["exercise"] == "05_dqn":
            try:
                __import__(module)
            except ImportError:
                pass

    def emit(record: dict[str, Any]) -> None:
        results.write(json.dumps(record) + "\n")
        results.flush()  # what is written survives a later kill

    emit({"ready": True})
    run(job, emit, results.fileno())
    emit({"done": True})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
