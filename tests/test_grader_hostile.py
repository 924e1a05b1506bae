"""``mediarl-lessons grade`` against hostile submissions: each attack gets the row it earned, no more.

A bank of attacks on the batch grader (poisoned result streams, detached processes, classmates'
files, patched grading code, the reference in disguise, floods, endless loops, injected rows,
formula names, odd layouts), and the notebooks real students hand in (a Colab import, ``%%time``,
scratch cells, helpers that are not ``def``). Each exercise is graded in one CLI batch
(module-scoped fixtures), so the whole file runs in well under a minute.

The attacks that only bubblewrap's isolation stops (a detached process, a classmate's files,
writing outside, reading the submissions folder) are skipped where bubblewrap is missing; every
other test also holds without a sandbox, and one test forces that path.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import sysconfig
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

try:
    import resource
except ImportError:  # Windows: no peak-memory measure
    resource = None  # type: ignore[assignment]

from grading_bank import PREAMBLE, TORCH
from mediarl_lessons.cli import main
from mediarl_lessons.grading import EXERCISES, check, sandbox
from mediarl_lessons.grading.grader import feedback_name

ROOT = Path(__file__).resolve().parent.parent
SEED, TIMEOUT = 7, 6
SANDBOXED = sandbox.available()
needs_sandbox = pytest.mark.skipif(not SANDBOXED, reason="needs bubblewrap's isolation (apt install bubblewrap)")
#: In every hostile source that leaves traces: what to look for afterwards (unique per run).
MARKER = f"mediarl-hostile-{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------------------------------------
# Building submissions
# ---------------------------------------------------------------------------------------------
def solution_notebook(exercise: str, replace: dict[str, str] | None = None, *, prefix: dict[str, str] | None = None,
                      extra: tuple[str, ...] = (), untouched: bool = False) -> nbformat.NotebookNode:
    """The course's solution (or untouched exercise) notebook with the cell defining a function
    replaced (``replace``) or prefixed (``prefix``, e.g. ``%%time``), and ``extra`` cells after the imports."""
    notebook = nbformat.read(ROOT / ("exercises" if untouched else "solutions") / f"{exercise}.ipynb", as_version=4)
    changes = {name: (lambda old, new=new: new) for name, new in (replace or {}).items()}
    changes.update({name: (lambda old, text=text: text + old) for name, text in (prefix or {}).items()})
    for name, change in changes.items():
        cells = [cell for cell in notebook.cells
                 if cell.cell_type == "code" and re.search(rf"^(def|class) {name}\b", cell.source, re.M)]
        assert len(cells) == 1, f"{exercise}: no single cell defines {name}"
        cells[0].source = change(cells[0].source)
    first_code = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    for offset, source in enumerate(extra, start=1):
        notebook.cells.insert(first_code + offset, nbformat.v4.new_code_cell(source))
    return notebook


def write_notebook(path: Path, notebook: nbformat.NotebookNode) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def write_source(path: Path, source: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PREAMBLE + source, encoding="utf-8")


#: Correct 01 functions, to surround an attack with.
EPSILON_GREEDY = """
def epsilon_greedy(q_values, epsilon, rng):
    q_values = np.asarray(q_values)
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(rng.choice(np.flatnonzero(q_values == q_values.max())))
"""
SAMPLE_AVERAGE = """
def sample_average(q, n, reward):
    return q + (reward - q) / n
"""
UCB_SCORES = """
def ucb_scores(q_values, counts, t, c):
    counts = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(counts > 0, np.asarray(q_values) + c * np.sqrt(np.log(t) / counts), np.inf)
"""
THOMPSON = """
def thompson_bernoulli(successes, failures, rng):
    return int(np.argmax(rng.beta(1 + np.asarray(successes), 1 + np.asarray(failures))))
"""
GRADIENT = """
def gradient_bandit_update(preferences, action, reward, baseline, alpha):
    preferences = np.asarray(preferences, dtype=float)
    e = np.exp(preferences - preferences.max())
    chosen = np.zeros(len(preferences))
    chosen[action] = 1.0
    return preferences + alpha * (reward - baseline) * (chosen - e / e.sum())
"""
CORRECT_01 = {"epsilon_greedy": EPSILON_GREEDY, "sample_average": SAMPLE_AVERAGE, "ucb_scores": UCB_SCORES,
              "thompson_bernoulli": THOMPSON, "gradient_bandit_update": GRADIENT}


def bandits_with(**attacks: str) -> str:
    """A .py submission of 01: the correct functions, some replaced by attacks (``""``: left out)."""
    return "".join(attacks.get(name, source) for name, source in CORRECT_01.items())


# ---------------------------------------------------------------------------------------------
# The attacks
# ---------------------------------------------------------------------------------------------
#: 1. Writes forged records (one array of the wrong shape; passing ones for the two functions it
#: left untouched, computed with the course's functions on the very cases it finds in memory)
#: and 100,000 nested "[" to every file descriptor it can open: its own, its parent's, and the
#: sandbox's process 1.
POISON = """
_sent = []

def sample_average(q, n, reward):
    if _sent:  # once is enough
        return q
    _sent.append(True)
    import gc, json, os, socket
    from mediarl_lessons.agents import bandits
    from mediarl_lessons.grading import core
    bad = {"outcome": "ok", "value": {"__array__": [1.0, 2.0], "shape": [3], "dtype": "<f8"}}
    lines = [json.dumps({"function": "sample_average", "status": "ok",
                         "payload": json.dumps({"result": [bad] * 4, "failures": []})})]
    jobs = [o for o in gc.get_objects() if isinstance(o, dict) and "functions" in o and "chunks" in o]
    for name, observers in (jobs[0]["functions"] if jobs else []):
        if name in ("thompson_bernoulli", "gradient_bandit_update"):
            records = [core.observe_case(observe, getattr(bandits, name)) for observe in observers]
            lines.append(json.dumps({"function": name, "status": "ok",
                                     "payload": json.dumps({"result": records, "failures": []})}))
    data = ("\\n" + "\\n".join(lines + ["[" * 100_000]) + "\\n").encode()
    processes = ["self", str(os.getppid())] + (["1"] if socket.gethostname() == "sandbox" else [])
    for process in processes:
        try:
            fds = os.listdir(f"/proc/{process}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                out = os.open(f"/proc/{process}/fd/{fd}", os.O_WRONLY)
            except OSError:
                continue
            try:
                os.write(out, data)
            except OSError:
                pass
            os.close(out)
    return q
"""
#: The exercise's own stubs: a function still raising NotImplementedError is "not attempted".
STUBS = {name: f"""
def {name}({signature}):
    # YOUR CODE HERE
    raise NotImplementedError()
""" for name, signature in (("thompson_bernoulli", "successes, failures, rng"),
                            ("gradient_bandit_update", "preferences, action, reward, baseline, alpha"))}
POISON_SOURCE = bandits_with(sample_average=POISON, **STUBS)


def detached_source(outside: Path) -> str:
    """2. Starts processes in their own sessions that write outside after the batch (or never end)."""
    return bandits_with(sample_average=f"""
import subprocess, sys
_started = []

def sample_average(q, n, reward):
    if not _started:
        for delay, path in ((2, {str(outside / MARKER)!r}), (2, "/tmp/{MARKER}"), (120, "/tmp/{MARKER}-never")):
            code = f"import time; time.sleep({{delay}}); open({{path!r}}, 'w').write('x')  # {MARKER}"
            _started.append(subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL))
    return q + (reward - q) / n
""")


def swapper_source(submissions: Path) -> str:
    """3. Looks for classmates' grading folders, the submissions and the course's solutions; overwrites
    the classmates' files it finds and leaves a marker in the submissions folder. Its answer is off
    by the number of files it found."""
    return bandits_with(sample_average=f"""
import glob, os
SUBMISSIONS = {str(submissions)!r}
SOLUTIONS = {str(ROOT / "solutions")!r}

def sample_average(q, n, reward):
    found = []
    for pattern in ("/tmp/mediarl-grade-*", "/tmp/mediarl-grade-*/*", "/tmp/*/job.pkl", SUBMISSIONS + "/*",
                    SOLUTIONS + "/*", os.path.dirname(SUBMISSIONS) + "/*"):
        found += glob.glob(pattern)
    for top in ("/tmp", "/home", "/root", "/work", "/var", "/srv", "/mnt", "/opt"):
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in ("site-packages", ".pyenv", ".venv", "lib", "include")]
            found += [os.path.join(folder, f) for f in files if f.endswith((".ipynb", ".pkl", ".csv"))]
    for path in found:  # overwrite a classmate's job or notebook (only ever read the course's files)
        if path.startswith(("/tmp/mediarl-grade-", SUBMISSIONS)) and os.path.isfile(path):
            try:
                with open(path, "w") as file:
                    file.write("{{}}")
            except OSError:
                pass
    try:
        open(os.path.join(SUBMISSIONS, "{MARKER}-swapped.py"), "w").write("x = 1")
    except OSError:
        pass
    return q + (reward - q) / n + len(found)
""")


#: 4. Patches the grading code at import time (a decorator runs when the cell does): every
#: observation "ok", every judgement "passed", the registry emptied, the reference check off.
HIJACK = """
import mediarl_lessons.grading.cases as cases
import mediarl_lessons.grading.core as core

def graded(func):
    core.observe_case = lambda observe, func, **kwargs: {"outcome": "ok", "value": core.encode(
        getattr(observe, "expected", None))}
    core.Case.judge = lambda self, got: core.CaseResult(self.name, True, "", "")
    core.judge_function = lambda check, cases_, result, **kwargs: core.CheckResult(
        check.exercise, check.name, "passed")
    cases.close = lambda *args, **kwargs: True
    for checks in core.REGISTRY.values():
        for name, check in list(checks.items()):
            checks[name] = core.FunctionCheck(check.exercise, name, lambda rng: [])
    core.reference_use = lambda *args, **kwargs: False
    return func
"""


#: 5. The reference, imported, wrapped, subclassed: each scores 0 with "reference" in its feedback.
REFERENCE_USES = {
    ("01_bandits", "sample_average", "imports"): """
from mediarl_lessons.agents.bandits import sample_average
""",
    ("01_bandits", "sample_average", "imports_inside"): """
def sample_average(q, n, reward):
    from mediarl_lessons.agents.bandits import sample_average as course
    return course(q, n, reward)
""",
    ("03_dynamic_programming", "value_iteration", "wraps"): """
from mediarl_lessons import mdp

def value_iteration(P, R, gamma, tol=1e-8):
    return mdp.value_iteration(P, R, gamma, tol)
""",
    ("03_dynamic_programming", "value_iteration", "helper"): """
import mediarl_lessons.mdp

def _solve(*args):
    return mediarl_lessons.mdp.value_iteration(*args)

def value_iteration(P, R, gamma, tol=1e-8):
    return _solve(P, R, gamma, tol)
""",
    ("03_dynamic_programming", "value_iteration", "partial"): """
import functools
from mediarl_lessons import mdp

value_iteration = functools.partial(mdp.value_iteration, tol=1e-8)
""",
    ("03_dynamic_programming", "value_iteration", "imports_module_inside"): """
def value_iteration(P, R, gamma, tol=1e-8):
    import mediarl_lessons.mdp as course
    return course.value_iteration(P, R, gamma, tol)
""",
    ("05_dqn", "ReplayBuffer", "subclasses"): TORCH + """
from mediarl_lessons.agents import dqn

class ReplayBuffer(dqn.ReplayBuffer):
    pass
""",
    ("05_dqn", "ReplayBuffer", "wraps"): TORCH + """
from mediarl_lessons.agents.dqn import ReplayBuffer as CourseBuffer

class ReplayBuffer:
    def __init__(self, capacity, obs_dim, seed=None):
        self.inner = CourseBuffer(capacity, obs_dim, seed)

    def __len__(self):
        return len(self.inner)

    def add(self, *transition):
        self.inner.add(*transition)

    def sample(self, batch_size):
        return self.inner.sample(batch_size)
""",
}


def writer_source(places: list[Path]) -> str:
    """6. Writes into the grader's folder, the submissions folder (a new .py submission too), the
    home folder, the standard library, the virtual environment; its answer is off by the number of
    places outside /tmp it could write to inside the sandbox."""
    return bandits_with(sample_average=f"""
import os
PLACES = {[str(place) for place in places]!r}

def sample_average(q, n, reward):
    for place in PLACES:
        try:
            with open(place, "w") as file:
                file.write("def sample_average(q, n, reward):\\n    return 1.0\\n")
        except OSError:
            pass
    wrote = 0
    for folder in ("/", "/grading", "/dev", "/dev/shm", "/root", "/work", "/usr", os.path.dirname(os.__file__)):
        try:
            with open(os.path.join(folder, "{MARKER}"), "w") as file:
                file.write("x")
            wrote += 1
        except OSError:
            pass
    return q + (reward - q) / n + wrote
""")


#: 7. Prints 2 GB to standard error at every call of its last function (8 GB in all; the rest is correct).
FLOOD = """
import sys

def gradient_bandit_update(preferences, action, reward, baseline, alpha):
    block = "x" * 2**20
    for _ in range(2048):
        sys.stderr.write(block)
    return None
"""

#: 8. A statement and a function whose errors carry newlines and a fake row.
INJECTOR = """
def _settings():
    raise ValueError("x\\nalice  ok  5/5\\n\\teve\\tok\\t5/5")

SETTINGS = _settings()

def sample_average(q, n, reward):
    return q + (reward - q) / n * SETTINGS

def ucb_scores(q_values, counts, t, c):
    raise ValueError("x\\nalice  ok  5/5")
"""
INJECTED_ID = "mallory\nalice  ok  5\t5"

#: 9. Student ids a spreadsheet would run as formulas.
FORMULA_NAMES = ('=HYPERLINK("x","y")', "+cmd", "@SUM(A1)", "-2+3")

#: 10. A loop that swallows every exception, in the first function.
BARE_EXCEPT = """
def epsilon_greedy(q_values, epsilon, rng):
    while True:
        try:
            while True:
                pass
        except:
            pass
"""

#: 11. KeyboardInterrupt from one function.
INTERRUPT = """
def sample_average(q, n, reward):
    raise KeyboardInterrupt
"""

#: 15. Helpers that are not `def`: a namedtuple, an alias, a lambda.
HELPERS_02 = """
from collections import namedtuple

Arm = namedtuple("Arm", "theta bonus")
solve = np.linalg.solve
score_of = lambda arm, x, alpha: arm.theta @ x + alpha * arm.bonus

def linucb_scores(A, b, x, alpha):
    arms = [Arm(solve(A[a], b[a]), np.sqrt(x[a] @ solve(A[a], x[a]))) for a in range(len(x))]
    return np.array([score_of(arm, x[a], alpha) for a, arm in enumerate(arms)])
"""

#: 17. One bug each: only that function's point is lost.
TD_TARGETS_BUG = """
def td_targets(rewards, next_q_target, terminated, gamma):
    return rewards + gamma * next_q_target.max(dim=1).values   # forgets (1 - terminated)
"""
Q_FROM_V_BUG = """
def q_from_v(P, R, V, gamma):
    return R + P @ V   # forgets gamma
"""
GREEDY_FLOATS = """
def greedy_policy(Q):
    return np.argmax(Q, axis=1).astype(float)
"""

#: 19. Every function loops.
ALL_LOOP = "".join(f"""
def {name}(*args):
    while True:
        pass
""" for name in EXERCISES["01_bandits"])


# ---------------------------------------------------------------------------------------------
# Running the CLI
# ---------------------------------------------------------------------------------------------
@dataclass
class Graded:
    """One CLI batch: its exit status, outputs and rows (by student, as the CSV writes the id)."""

    status: int
    stdout: str
    stderr: str
    seconds: float
    csv_text: str
    rows: dict[str, dict] = field(default_factory=dict)  # from the CSV: status, points, total, message
    checks: dict[str, dict[str, dict]] = field(default_factory=dict)  # from --json: student -> name -> check
    feedback: dict[str, str] = field(default_factory=dict)  # feedback file name -> text
    max_rss_growth: int = 0  # bytes the grader's peak memory grew by


def grade(exercise: str, paths: list[Path], out: Path, *, timeout: float = TIMEOUT, as_json: bool = False
          ) -> Graded:
    """``mediarl-lessons grade`` in this process (as the other grader tests), everything captured."""
    out.mkdir(parents=True, exist_ok=True)
    argv = ["grade", exercise, *map(str, paths), "--jobs", "2", "--timeout", str(timeout), "--seed", str(SEED),
            "--csv", str(out / "grades.csv"), "--feedback", str(out / "feedback")] + (["--json"] if as_json else [])
    stdout, stderr = io.StringIO(), io.StringIO()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if resource else 0
    start = time.monotonic()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(argv)
    seconds = time.monotonic() - start
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) * 1024 if resource else 0  # KiB on Linux
    csv_text = (out / "grades.csv").read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(csv_text)))
    names = EXERCISES[exercise]
    rows = {row["student"]: {"status": row["status"], "points": {name: float(row[name]) for name in names},
                             "total": float(row["total"]), "message": without_sandbox_note(row["message"])}
            for row in table}
    graded = Graded(status, stdout.getvalue(), stderr.getvalue(), seconds, csv_text, rows,
                    feedback={path.name: path.read_text(encoding="utf-8") for path in (out / "feedback").iterdir()},
                    max_rss_growth=growth)
    if as_json:
        graded.checks = {row["student"]: {check["name"]: check for check in row["checks"]}
                         for row in json.loads(graded.stdout)}
    return graded


def without_sandbox_note(message: str) -> str:
    """A row's message less the note every row gets without bubblewrap (its own test checks it)."""
    return message.removesuffix(sandbox.NO_SANDBOX).removesuffix("; ")


def feedback_of(graded: Graded, student: str, function: str | None = None) -> str:
    """A student's feedback file, or only its part on ``function``."""
    text = graded.feedback[feedback_name(student)]
    return text if function is None else text.split(f"\n\n{function}: ")[1].split("\n\n")[0]


def one_row_each(graded: Graded, expected: int) -> None:
    """Exit status 0, and exactly one row per submission in the CSV (and the table or the JSON)."""
    assert graded.status == 0, graded.stderr
    assert len(graded.rows) == expected and len(graded.csv_text.splitlines()) == expected + 1, graded.csv_text
    if graded.checks:
        assert len(json.loads(graded.stdout)) == expected
    else:
        assert len(graded.stdout.splitlines()) == expected + 1, graded.stdout


# ---------------------------------------------------------------------------------------------
# 01_bandits: the hostile bank, the layouts, and the notebooks students really write
# ---------------------------------------------------------------------------------------------
@dataclass
class Class01:
    graded: Graded
    folder: Path
    outside: Path
    places: list[Path]
    submissions: int


@pytest.fixture(scope="module")
def class01(tmp_path_factory: pytest.TempPathFactory) -> Class01:
    base = tmp_path_factory.mktemp("hostile01")
    folder, outside = base / "class", base / "outside"
    outside.mkdir()
    shutil.copy(ROOT / "solutions" / "01_bandits.ipynb", base / "solution.ipynb")  # given by name
    shutil.copy(ROOT / "exercises" / "01_bandits.ipynb", base / "untouched.ipynb")
    write_source(folder / "poison.py", POISON_SOURCE)
    hijacker = solution_notebook("01_bandits", untouched=True)
    for cell in hijacker.cells:  # every function decorated: the patches run when its cell does
        if cell.cell_type == "code":
            cell.source = re.sub(r"^def ", "@graded\ndef ", cell.source, flags=re.M)
    hijacker.cells.insert(1, nbformat.v4.new_code_cell(HIJACK))
    write_notebook(folder / "hijacker.ipynb", hijacker)
    for (exercise, name, how), source in REFERENCE_USES.items():
        if exercise == "01_bandits":
            write_source(folder / f"reference_{how}.py", bandits_with(**{name: source}))
    write_source(folder / "flood.py", bandits_with(gradient_bandit_update=FLOOD))
    write_source(folder / "injector.py", bandits_with(sample_average="", ucb_scores="") + INJECTOR)
    write_source(folder / f"{INJECTED_ID}.py", bandits_with(sample_average="", ucb_scores="") + INJECTOR)
    for name in FORMULA_NAMES:
        write_source(folder / f"{name}.py", SAMPLE_AVERAGE)
    write_source(folder / "interrupt.py", bandits_with(sample_average=INTERRUPT))
    write_notebook(folder / "colab.ipynb", solution_notebook(
        "01_bandits", extra=("from google.colab import drive\ndrive.mount('/content')",)))
    write_notebook(folder / "time_magic.ipynb", solution_notebook(
        "01_bandits", prefix={"sample_average": "%%time\n", "ucb_scores": "\n%%time\n"}))
    (folder / "nested.ipynb").write_text("[" * 100_000, encoding="utf-8")
    write_source(folder / "nested_code.py", SAMPLE_AVERAGE.replace("/ n", "/ n + 0 * (" + "1 + " * 5000 + "1)"))
    # 18. Layouts: nbgrader's tree, a student with two files, a nested folder, an upper-case suffix.
    nbgrader = base / "nbgrader" / "submitted"
    shutil.copy(ROOT / "solutions" / "01_bandits.ipynb", folder / "UPPER.IPYNB")
    write_notebook(nbgrader / "carol" / "01_bandits" / "01_bandits.ipynb", solution_notebook("01_bandits"))
    write_notebook(nbgrader / "carol" / "03_dynamic_programming" / "03_dynamic_programming.ipynb",
                   solution_notebook("03_dynamic_programming"))
    write_source(folder / "alice.py", SAMPLE_AVERAGE)
    write_notebook(folder / "alice.ipynb", solution_notebook("01_bandits"))
    write_notebook(base / "nested_class" / "bob" / "work.ipynb", solution_notebook("01_bandits"))
    places = [ROOT / "mediarl_lessons" / "grading" / f"{MARKER}.py", ROOT / f"{MARKER}.py", folder / f"{MARKER}.py",
              folder / "new_student.py", Path.home() / f"{MARKER}.py", outside / f"{MARKER}.py",
              Path(os.__file__).parent / f"{MARKER}.py", Path(sysconfig.get_paths()["purelib"]) / f"{MARKER}.py"]
    if SANDBOXED:  # these need the sandbox's isolation: without it they would reach this machine
        write_source(folder / "detached.py", detached_source(outside))
        write_source(folder / "swapper.py", swapper_source(folder))
        write_source(folder / "writer.py", writer_source(places))
    # a row per file in the folder but alice's two (one row), and solution, untouched, carol, bob
    submissions = len(list(folder.iterdir())) - 1 + 4
    graded = grade("01_bandits", [base / "solution.ipynb", base / "untouched.ipynb", folder, nbgrader,
                                  base / "nested_class"], base / "out")
    return Class01(graded, folder, outside, places, submissions)


def test_1_poisoned_output_leaves_one_row_and_the_batch_intact(class01: Class01) -> None:
    graded = class01.graded
    one_row_each(graded, class01.submissions)  # exit status 0: nested JSON crashed the grader once
    assert graded.rows["solution"]["total"] == 5 and graded.rows["untouched"]["total"] == 0
    assert graded.rows["poison"]["status"] in ("ok", "timeout")


@needs_sandbox
def test_1_poison_and_forged_records_count_for_nothing(class01: Class01) -> None:
    # Without bubblewrap, the submission's processes can reach the result stream through /proc
    # (the grader's own end of it, or the worker's when they run as root).
    row = class01.graded.rows["poison"]
    # What it wrote itself: epsilon_greedy and ucb_scores right, sample_average wrong, the other
    # two untouched; the forged passing records for those two count for nothing.
    assert row["points"] == {"epsilon_greedy": 1, "sample_average": 0, "ucb_scores": 1, "thompson_bernoulli": 0,
                             "gradient_bandit_update": 0}, row
    assert row == {"status": "ok", "points": row["points"], "total": 2,
                   "message": "not attempted: thompson_bernoulli, gradient_bandit_update"}, row


@needs_sandbox
def test_2_detached_processes_die_with_the_sandbox(class01: Class01) -> None:
    assert class01.graded.rows["detached"]["total"] == 5  # still graded: it did all five right
    time.sleep(3)  # past the 2 s the detached writers wait
    alive = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and MARKER.encode() in (entry / "cmdline").read_bytes():
                alive.append(int(entry.name))
        except OSError:
            pass
    for pid in alive:  # leave nothing behind, even when failing
        os.kill(pid, signal.SIGKILL)
    assert alive == []
    assert removed([class01.outside / MARKER, Path(f"/tmp/{MARKER}")]) == []


def removed(paths: list[Path]) -> list[Path]:
    """Those of ``paths`` that exist, deleted (an attack that got through leaves no trace)."""
    found = [path for path in paths if path.exists()]
    for path in found:
        path.unlink()
    return found


@needs_sandbox
def test_3_a_classmates_files_are_out_of_reach(class01: Class01) -> None:
    rows = class01.graded.rows
    assert rows["swapper"]["points"]["sample_average"] == 1, rows["swapper"]  # its answer is off by what it found
    assert removed([class01.folder / f"{MARKER}-swapped.py"]) == []
    assert rows["solution"]["total"] == 5 and rows["untouched"]["total"] == 0  # its classmates, unharmed
    assert rows["solution"]["status"] == rows["untouched"]["status"] == "ok"


def test_4_patching_the_grading_code_in_the_sandbox_changes_no_verdict(class01: Class01) -> None:
    row = class01.graded.rows["hijacker"]
    assert row["total"] == 0 and row["points"] == dict.fromkeys(EXERCISES["01_bandits"], 0), row
    # The patches did run (every observation became "ok"), and were judged here, unpatched.
    feedback = feedback_of(class01.graded, "hijacker")
    assert feedback.count(": failed (0 / 1)") == 5, feedback
    assert class01.graded.rows["solution"]["total"] == 5


@pytest.mark.parametrize("key", list(REFERENCE_USES), ids=lambda key: "-".join(key[1:]))
def test_5_the_reference_in_check(key: tuple[str, str, str]) -> None:
    exercise, name, _how = key
    namespace: dict = {"__name__": "learner_notebook"}
    exec(PREAMBLE + REFERENCE_USES[key], namespace)
    result = check(exercise, name, namespace[name], quiet=True)
    assert result.status == "failed" and result.points == 0 and "reference" in result.feedback, result


def test_5_the_reference_in_the_batch(class01: Class01, class03: Graded, class05: Graded) -> None:
    batches = {"01_bandits": class01.graded, "03_dynamic_programming": class03, "05_dqn": class05}
    for exercise, name, how in REFERENCE_USES:
        graded, student = batches[exercise], f"reference_{how}"
        assert graded.rows[student]["points"][name] == 0, (student, graded.rows[student])
        assert "course's own reference" in feedback_of(graded, student, name), student
    # the other functions of the 01 submissions are still theirs
    assert class01.graded.rows["reference_imports"]["total"] == 4


@needs_sandbox
def test_6_nothing_written_outside(class01: Class01) -> None:
    assert removed(class01.places) == []  # the new .py "submission" next to it among them
    assert list(class01.outside.iterdir()) == []
    assert len(class01.graded.rows) == class01.submissions
    # Inside the sandbox too, only its private /tmp is writable: its answer is off by every other place.
    assert class01.graded.rows["writer"]["points"]["sample_average"] == 1, class01.graded.rows["writer"]
    assert class01.graded.rows["writer"]["total"] == 5


def test_7_a_stderr_flood_costs_one_function_and_no_memory(class01: Class01) -> None:
    row = class01.graded.rows["flood"]
    assert row["points"] == {"epsilon_greedy": 1, "sample_average": 1, "ucb_scores": 1, "thompson_bernoulli": 1,
                             "gradient_bandit_update": 0}, row
    assert class01.graded.max_rss_growth < 300 * 2**20, class01.graded.max_rss_growth


def test_8_no_row_injected_into_the_table_or_the_csv(class01: Class01) -> None:
    graded = class01.graded
    lines = graded.stdout.splitlines()
    assert len(lines) == class01.submissions + 1
    assert sum(line.startswith("alice ") for line in lines) == 1, graded.stdout  # the real alice's row
    assert not any(line.startswith(("eve", "\t", " ")) for line in lines), graded.stdout
    injected = graded.rows["mallory alice  ok  5 5"]
    assert injected == graded.rows["injector"]
    assert injected["points"] == {"epsilon_greedy": 1, "sample_average": 0, "ucb_scores": 0, "thompson_bernoulli": 1,
                                  "gradient_bandit_update": 1}
    assert "raised ValueError: x alice  ok  5/5" in injected["message"]


def test_9_formula_ids_are_text_in_the_csv_and_safe_file_names(class01: Class01) -> None:
    rows = class01.graded.rows
    for name in FORMULA_NAMES:
        assert rows["'" + name]["points"]["sample_average"] == 1
    assert not any(student[:1] in "=+-@" for student in rows)
    for name in class01.graded.feedback:
        assert re.fullmatch(r"[A-Za-z0-9_@][A-Za-z0-9_.@-]*\.txt", name), name
    assert len(class01.graded.feedback) == class01.submissions


def test_11_keyboard_interrupt_costs_only_its_function(class01: Class01) -> None:
    row = class01.graded.rows["interrupt"]
    assert row["status"] == "ok" and row["total"] == 4 and row["points"]["sample_average"] == 0, row
    assert "KeyboardInterrupt" in feedback_of(class01.graded, "interrupt", "sample_average")


def test_12_13_a_colab_import_and_time_magics_cost_nothing(class01: Class01) -> None:
    for student in ("colab", "time_magic"):
        assert class01.graded.rows[student]["total"] == 5, class01.graded.rows[student]


def test_absurdly_nested_files_are_one_error_row_each(class01: Class01) -> None:
    for student in ("nested", "nested_code"):
        row = class01.graded.rows[student]
        assert row["status"] == "error" and row["total"] == 0, row
        assert row["message"] == "nested too deeply to be read; not graded", row


def test_18_layouts(class01: Class01) -> None:
    rows, graded = class01.graded.rows, class01.graded
    assert rows["carol"]["total"] == 5  # nbgrader's submitted/<student>/<exercise>/<exercise>.ipynb
    assert "03_dynamic_programming" in graded.stderr and "another exercise's folder" in graded.stderr
    assert rows["alice"]["status"] == "error" and "alice.ipynb" in rows["alice"]["message"] \
        and "alice.py" in rows["alice"]["message"]
    assert rows["bob"]["total"] == 5 and rows["UPPER"]["total"] == 5


# ---------------------------------------------------------------------------------------------
# 10 and 19: endless loops, graded alone so that their wall time can be measured
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def loops(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    folder = tmp_path_factory.mktemp("loops")
    write_source(folder / "class" / "all_loop.py", ALL_LOOP)
    write_source(folder / "class" / "bare_except.py", bandits_with(epsilon_greedy=BARE_EXCEPT))
    return grade("01_bandits", [folder / "class"], folder / "out", as_json=True)


def test_10_a_bare_except_loop_times_out_and_the_rest_is_graded(loops: Graded) -> None:
    row = loops.rows["bare_except"]
    assert row["status"] == "timeout" and row["total"] == 4 and row["points"]["epsilon_greedy"] == 0, row
    assert "did not finish" in loops.checks["bare_except"]["epsilon_greedy"]["feedback"]
    assert loops.seconds < TIMEOUT + 5


def test_19_the_submissions_time_is_bounded(loops: Graded) -> None:
    one_row_each(loops, 2)
    row = loops.rows["all_loop"]
    assert row["status"] == "timeout" and row["total"] == 0, row
    assert all("did not finish" in check["feedback"] for check in loops.checks["all_loop"].values())
    assert loops.seconds < TIMEOUT + 5, loops.seconds


# ---------------------------------------------------------------------------------------------
# 02-05: the course's notebooks, helpers, one bug at a time, the reference in a class
# ---------------------------------------------------------------------------------------------
def course_notebooks(folder: Path, exercise: str) -> None:
    shutil.copy(ROOT / "solutions" / f"{exercise}.ipynb", folder / "solution.ipynb")
    shutil.copy(ROOT / "exercises" / f"{exercise}.ipynb", folder / "untouched.ipynb")


@pytest.fixture(scope="module")
def class02(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    folder = tmp_path_factory.mktemp("class02")
    course_notebooks(folder, "02_contextual")
    write_notebook(folder / "helpers.ipynb", solution_notebook("02_contextual", {"linucb_scores": HELPERS_02}))
    return grade("02_contextual", [folder], tmp_path_factory.mktemp("out02"), timeout=30, as_json=True)


@pytest.fixture(scope="module")
def class03(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    folder = tmp_path_factory.mktemp("class03")
    course_notebooks(folder, "03_dynamic_programming")
    for (exercise, _name, how), source in REFERENCE_USES.items():
        if exercise == "03_dynamic_programming":
            write_source(folder / f"reference_{how}.py", source)
    write_notebook(folder / "q_from_v_bug.ipynb", solution_notebook("03_dynamic_programming",
                                                                    {"q_from_v": Q_FROM_V_BUG}))
    write_notebook(folder / "greedy_floats.ipynb", solution_notebook("03_dynamic_programming",
                                                                     {"greedy_policy": GREEDY_FLOATS}))
    write_notebook(folder / "scratch.ipynb", solution_notebook("03_dynamic_programming", extra=(
        "rng = np.random.default_rng(0)", "X = rng.normal(size=3)", "Q = net(X)", "V = Q.max(axis=1)")))
    return grade("03_dynamic_programming", [folder], tmp_path_factory.mktemp("out03"), timeout=30, as_json=True)


@pytest.fixture(scope="module")
def class04(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    folder = tmp_path_factory.mktemp("class04")
    course_notebooks(folder, "04_q_learning")
    return grade("04_q_learning", [folder], tmp_path_factory.mktemp("out04"), timeout=30, as_json=True)


@pytest.fixture(scope="module")
def class05(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    folder = tmp_path_factory.mktemp("class05")
    course_notebooks(folder, "05_dqn")
    for (exercise, _name, how), source in REFERENCE_USES.items():
        if exercise == "05_dqn":
            write_source(folder / f"reference_{how}.py", source)
    write_notebook(folder / "td_bug.ipynb", solution_notebook("05_dqn", {"td_targets": TD_TARGETS_BUG}))
    return grade("05_dqn", [folder], tmp_path_factory.mktemp("out05"), timeout=60, as_json=True)


def test_15_helpers_that_are_not_def(class02: Graded) -> None:
    one_row_each(class02, 3)
    assert class02.rows["helpers"]["total"] == 5, class02.rows["helpers"]


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_16_course_notebooks_of_every_exercise(exercise: str, request: pytest.FixtureRequest) -> None:
    graded: Graded = request.getfixturevalue({"01_bandits": "class01", "02_contextual": "class02",
                                              "03_dynamic_programming": "class03", "04_q_learning": "class04",
                                              "05_dqn": "class05"}[exercise])
    graded = getattr(graded, "graded", graded)
    solution, untouched = graded.rows["solution"], graded.rows["untouched"]
    assert solution["status"] == "ok" and solution["total"] == len(EXERCISES[exercise]), solution
    assert untouched["status"] == "ok" and untouched["total"] == 0, untouched
    assert untouched["message"] == f"not attempted: all {len(EXERCISES[exercise])} functions"


def test_14_capital_name_scratch_cells(class03: Graded) -> None:
    assert class03.rows["scratch"]["total"] == 4, class03.rows["scratch"]


def test_17_each_function_is_graded_alone(class03: Graded, class05: Graded) -> None:
    td = class05.rows["td_bug"]
    assert td["points"] == {"ReplayBuffer": 1, "td_targets": 0, "double_dqn_targets": 1, "dqn_loss": 1,
                            "soft_update": 1}, td
    assert "checked with the course's td_targets" in feedback_of(class05, "td_bug", "dqn_loss")
    assert class03.rows["q_from_v_bug"]["points"] == {"q_from_v": 0, "policy_evaluation": 1, "value_iteration": 1,
                                                      "greedy_policy": 1}, class03.rows["q_from_v_bug"]
    assert class03.rows["greedy_floats"]["points"] == {"q_from_v": 1, "policy_evaluation": 1, "value_iteration": 1,
                                                       "greedy_policy": 0}, class03.rows["greedy_floats"]


# ---------------------------------------------------------------------------------------------
# Without bubblewrap
# ---------------------------------------------------------------------------------------------
def test_without_a_sandbox_it_grades_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: None)  # what sandbox.available() and command() call
    assert not sandbox.available()
    shutil.copy(ROOT / "solutions" / "01_bandits.ipynb", tmp_path / "solution.ipynb")
    write_source(tmp_path / "partial.py", SAMPLE_AVERAGE)
    graded = grade("01_bandits", [tmp_path / "solution.ipynb", tmp_path / "partial.py"], tmp_path / "out")
    one_row_each(graded, 2)
    assert graded.rows["solution"]["total"] == 5 and graded.rows["partial"]["total"] == 1
    messages = [row["message"] for row in csv.DictReader(io.StringIO(graded.csv_text))]
    assert len(messages) == 2 and all(message.endswith(sandbox.NO_SANDBOX) for message in messages), messages
    assert f"submissions {sandbox.NO_SANDBOX}" in graded.stderr
