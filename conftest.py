"""How pytest-xdist splits the suite into work units (``-n auto --dist loadfile``).

As with plain ``--dist loadfile``, each file is one unit on one worker: a notebook's cells
share a kernel. One exception: each case of a parametrised browser test (tests/browser: one
lesson driven in JupyterLab) is a unit of its own, so the lessons spread over the workers
(each worker that gets one starts its own JupyterLab and Chromium) instead of queueing on one
of them while the others sit idle.
"""

from __future__ import annotations

import pytest

BROWSER_TESTS = "tests/browser/"


def work_unit(nodeid: str) -> str:
    """What goes to one worker together: a file's tests, or one case of a parametrised
    browser test alone."""
    parametrised = nodeid.endswith("]")
    return nodeid if nodeid.startswith(BROWSER_TESTS) and parametrised else nodeid.split("::", 1)[0]


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getvalue("dist") != "loadfile":
        return None  # another --dist asked for on the command line: xdist's own scheduler
    from xdist.scheduler import LoadFileScheduling

    class LessonsApartScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return LessonsApartScheduling(config, log)
