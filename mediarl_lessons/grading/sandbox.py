"""Where a submission runs: a bubblewrap sandbox on Linux, a plain subprocess elsewhere.

`bubblewrap <https://github.com/containers/bubblewrap>`_ (``bwrap``, Debian's package
``bubblewrap``) is the sandbox Flatpak uses. The grader starts each submission's worker as

    bwrap --unshare-all --die-with-parent --new-session --clearenv ... python -I -m mediarl_lessons.grading.worker JOB

which gives it:

- a read-only view of the system (``/usr``, ``/lib``...), of Python and its installed
  packages, and of the ``mediarl_lessons`` package itself; nothing else of the machine: not
  the submissions folder, not other students' files, not the grader's folder, not the
  course's solutions, not the home directory;
- a private, size-limited ``/tmp`` as its only writable place, gone when it ends;
- no network (its own, empty network namespace);
- its own PID namespace: it sees no other process (not the grader's arguments), and when
  the worker ends or is killed, everything it started dies with it;
- an empty environment but for a few settings (threads, matplotlib's backend), and the job
  file, which holds the statements and the cases' inputs, never the seed.

The worker then sets rlimits on memory, file size, processes and CPU time
(:func:`mediarl_lessons.grading.worker.set_limits`) before any submission code exists.

Without bubblewrap (macOS, Windows, or Linux without the package) the worker runs as a plain
subprocess in a fresh temporary folder, in its own process group (killed at the end), with the
same rlimits where the platform has them and the same time limit; the grader says so in one
line when it starts and in every row's message (:data:`NO_SANDBOX`).
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = ["NO_SANDBOX", "available", "command", "stop"]

#: Said at the start of a batch and in each row's message when there is no sandbox.
NO_SANDBOX = "ran WITHOUT a sandbox (bubblewrap not found: on Linux install the 'bubblewrap' package)"

#: The size of the submission's private /tmp inside the sandbox.
TMP_SIZE = 256 * 2**20

#: Read-only parts of the system the interpreter and its libraries need.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/alternatives", "/etc/ld.so.cache",
                "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/sys/devices/system/cpu")

#: The whole environment of the worker (besides PATH and HOME).
ENVIRONMENT = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}


@functools.cache
def bubblewrap() -> str | None:
    """The ``bwrap`` program, if it is installed and can make a sandbox here (None otherwise)."""
    program = shutil.which("bwrap")
    if program is None:
        return None
    try:  # user namespaces may be disabled (some containers): then it is of no use
        probe = subprocess.run([program, *_isolation(), "--ro-bind", "/", "/", "true"], capture_output=True,
                               timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return program if probe.returncode == 0 else None


def available() -> bool:
    """Whether submissions run in a bubblewrap sandbox."""
    return bubblewrap() is not None


def _isolation() -> list[str]:
    # --as-pid-1: the worker is the namespace's process 1, so no bwrap process inside holds the
    # result stream (the worker's standard output) where the submission could open it in /proc/1/fd.
    return ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--as-pid-1"]


def _readable_paths() -> list[str]:
    """Python, its installed packages and this package: what the worker must be able to read."""
    package = Path(__file__).resolve().parents[1]
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent),
             str(package)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths().get(key, ""))
    paths.update(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    return sorted({os.path.realpath(path) for path in paths if path and os.path.exists(path)})


def command(job_path: str, work: str) -> tuple[list[str], dict[str, str]]:
    """``(argv, environment)`` that run the worker on ``job_path``; ``work`` is its folder without a sandbox."""
    python = [sys.executable, "-I", "-m", "mediarl_lessons.grading.worker"]
    program = bubblewrap()
    if program is None:
        env = {**ENVIRONMENT, "PATH": os.defpath, "HOME": work, "TMPDIR": work, "TEMP": work, "TMP": work}
        if "SYSTEMROOT" in os.environ:  # Windows cannot start Python without it
            env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
        return [*python, job_path], env
    # The private /tmp first: Python or the course may live under /tmp (a clone in a temporary
    # folder), and their read-only binds must land on top of it, not be hidden by it.
    argv = [program, *_isolation(), "--clearenv", "--hostname", "sandbox",
            "--size", str(TMP_SIZE), "--tmpfs", "/tmp"]
    for path in SYSTEM_PATHS:
        argv += ["--ro-bind-try", path, path]
    for path in _readable_paths():
        argv += ["--ro-bind", path, path]
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--dir", "/grading", "--ro-bind", job_path, "/grading/job", "--chdir", "/tmp",
             # bwrap's own root and /dev are unlimited tmpfs: read-only, /tmp is the only writable place
             "--remount-ro", "/dev", "--remount-ro", "/",
             "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp"]
    for key, value in ENVIRONMENT.items():
        argv += ["--setenv", key, value]
    return [*argv, "--", *python, "/grading/job"], dict(ENVIRONMENT, PATH=os.defpath)


def stop(process: subprocess.Popen) -> None:
    """Kill the worker and everything it started, then reap it."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)  # its process group (start_new_session=True)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
    process.wait()
