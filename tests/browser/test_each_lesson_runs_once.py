"""A lesson driven in JupyterLab is not run a second time under nbval (conftest.py), and
pytest-xdist spreads the lessons over its workers (conftest.py at the top of the repository).

Not a browser test: it only collects and sets up (``--setup-only``), so it runs everywhere,
and checks both ways: with the browser tests selected the lesson's nbval cells are skipped,
with ``-m "not browser"`` they run under nbval. Without Chromium or Playwright nbval must run
them in both cases.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from conftest import missing_browser_tools
from lab_harness import NOTEBOOKS, REPO

LESSON = "03_mdps_dynamic_programming.ipynb"  # the quickest lesson; nothing is executed anyway
IN_BROWSER = "this lesson runs in JupyterLab in this session"


def setup_only(*extra: str) -> str:
    command = [sys.executable, "-m", "pytest", "-n", "0", "--setup-only", "-q", "-rs",
               str(NOTEBOOKS / LESSON), "tests/browser/test_lessons_in_jupyterlab.py", "-k", LESSON[:7], *extra]
    env = dict(os.environ, MEDIARL_BROWSER_LESSONS=LESSON[:2])
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def collect(path: str) -> list[str]:
    """The node ids pytest collects from ``path``, as pytest-xdist's scheduler sees them."""
    command = [sys.executable, "-m", "pytest", "-n", "0", "--collect-only", "-q", path]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


@pytest.mark.skipif(not NOTEBOOKS.joinpath(LESSON).exists(), reason=f"no {LESSON}")
def test_a_lesson_runs_under_nbval_or_in_the_browser_never_both() -> None:
    with_browser = setup_only()
    without_browser = setup_only("-m", "not browser")
    cells = len([line for line in without_browser.splitlines() if f"{LESSON}::Cell" in line])
    assert cells > 5, without_browser  # nbval collected and set up the lesson's cells
    assert IN_BROWSER not in without_browser, without_browser
    if missing_browser_tools() is None:
        assert f"SKIPPED [{cells}] notebooks/{LESSON}: {IN_BROWSER}" in with_browser, with_browser
    else:
        assert IN_BROWSER not in with_browser, with_browser


def test_each_browser_lesson_is_a_work_unit_of_its_own_and_a_notebook_stays_whole() -> None:
    spec = importlib.util.spec_from_file_location("repository_conftest", REPO / "conftest.py")
    repository_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(repository_conftest)
    work_unit = repository_conftest.work_unit
    browser_file = "tests/browser/test_lessons_in_jupyterlab.py"
    nodeids = collect(browser_file)
    lessons = [nodeid for nodeid in nodeids if nodeid.endswith("]")]
    assert len(lessons) == len(list(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))), lessons  # one case per lesson
    assert len({work_unit(nodeid) for nodeid in lessons}) == len(lessons), "each lesson must be a unit of its own"
    others = [nodeid for nodeid in nodeids if not nodeid.endswith("]")]
    assert others and {work_unit(nodeid) for nodeid in others} == {browser_file}, others
    assert work_unit("solutions/05_dqn.ipynb::Cell 3") == work_unit("solutions/05_dqn.ipynb::Cell 14")
    assert work_unit("tests/test_mdp.py::test_one") == work_unit("tests/test_mdp.py::test_two") == "tests/test_mdp.py"
