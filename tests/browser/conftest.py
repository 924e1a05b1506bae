"""Fixtures of the browser tests: one JupyterLab server and one headless Chromium per session.

Without Chromium or Playwright (a learner's laptop), every browser test is skipped with a
one-line reason; it never fails for that. The server and the browser start only when a
browser test runs (``pytest -m "not browser"`` leaves them out).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_harness import (CHROMIUM_FLAGS, HERE, NOTEBOOKS, TIMINGS, LabServer, find_chromium, lesson_left_out, start_lab,
                         stop_lab, timing_line)


def missing_browser_tools() -> str | None:
    """Why the browser tests cannot run here, in one line, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements-browser.txt)"
    if find_chromium() is None:
        return "Chromium is not installed (apt-get install chromium, or set MEDIARL_CHROMIUM)"
    return None


# trylast: after ``-m``/``-k`` have deselected what they deselect, so only the lessons that
# will really be driven in the browser are counted.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = missing_browser_tools()
    if reason is not None:
        skip = pytest.mark.skip(reason=f"browser tests: {reason}")
        for item in items:
            if item.get_closest_marker("browser") is not None:
                item.add_marker(skip)
        return
    # Each lesson runs once per session. A lesson driven in JupyterLab runs every cell and
    # fails on any error output, so it checks every claim (each is an assert) that nbval
    # would check: ``--nbval-lax`` compares no outputs in the lessons (none is tagged
    # NBVAL_CHECK_OUTPUT). Its nbval cells are skipped then; ``pytest -m "not browser"`` or a
    # machine without Chromium runs them under nbval as before.
    # The browser tests parametrised by a lesson's file name: the lessons this session drives.
    lessons = [item.callspec.params["name"] for item in items if item.get_closest_marker("browser") is not None
               and "name" in getattr(getattr(item, "callspec", None), "params", {})]
    driven = {name for name in lessons if not lesson_left_out(name)}
    in_browser = pytest.mark.skip(reason="this lesson runs in JupyterLab in this session (tests/browser): "
                                         "the same cells and asserts")
    for item in items:
        path = Path(str(getattr(item, "path", "")))
        if path.parent == NOTEBOOKS and path.name in driven and item.get_closest_marker("browser") is None:
            item.add_marker(in_browser)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where the screenshots go: tests/browser/screenshots/ (git-ignored) or $MEDIARL_SCREENSHOTS.
    Each lesson's old screenshots are replaced when it runs again."""
    folder = Path(os.environ.get("MEDIARL_SCREENSHOTS") or HERE / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def lab() -> Iterator[LabServer]:
    with tempfile.TemporaryDirectory(prefix="mediarl-lab-") as workdir:
        server = start_lab(Path(workdir), NOTEBOOKS)
        try:
            yield server
        finally:
            stop_lab(server)


@pytest.fixture(scope="session")
def chromium_context() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="mediarl-chromium-") as profile, sync_playwright() as playwright:
        # A persistent context on a fresh, empty profile folder: nothing of a user's Chromium
        # profile is read, and the folder is deleted afterwards.
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=find_chromium(), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
        try:
            yield context
        finally:
            context.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Without pytest-xdist only: its workers run the tests and report no summary; the same
    # lines are in timings.txt beside the screenshots.
    if not TIMINGS:
        return
    folder = Path(os.environ.get("MEDIARL_SCREENSHOTS") or HERE / "screenshots")
    terminalreporter.section("lessons in JupyterLab (headless Chromium)")
    for t in TIMINGS:
        terminalreporter.write_line(timing_line(t))
    terminalreporter.write_line(f"screenshots and timings.txt: {folder}")
