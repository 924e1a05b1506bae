"""A lesson driven in JupyterLab is not run a second time under nbval (conftest.py).

Not a browser test: it only collects and sets up (``--setup-only``), so it runs everywhere,
and checks both ways: with the browser tests selected the lesson's nbval cells are skipped,
with ``-m "not browser"`` they run under nbval. Without Chromium or Playwright nbval must run
them in both cases.
"""

from __future__ import annotations

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
