"""What tests/test_nbgrader.py and tests/test_otter.py share: the submissions' bugs and running a tool."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from grading_bank import TORCH, WRONG

#: One realistic bug per exercise (an entry of tests/grading_bank.py: exercise, function, hint).
BUGS = {
    "01_bandits": ("epsilon_greedy", "ties always broken towards index 0"),
    "02_contextual": ("linucb_scores", "A vs A^-1"),
    "03_dynamic_programming": ("q_from_v", "forgot gamma"),  # value_iteration calls it: it must not lose too
    "04_q_learning": ("q_learning_update", "bootstrapped from a terminal state"),
    "05_dqn": ("td_targets", "bootstrapped from a terminal state"),  # dqn_loss calls it: it must not lose too
}

#: The three submissions of every exercise.
STUDENTS = ("solution", "untouched", "one_bug")

#: The seed of ``mediarl-lessons grade`` (the notebooks' check cells use check's own default).
SEED = 20240917


def bug_source(exercise: str) -> tuple[str, str, str]:
    """(function, hint, source) of the exercise's bug."""
    function, hint = BUGS[exercise]
    entry = next(entry for entry in WRONG if (entry.exercise, entry.function, entry.hint) == (exercise, function, hint))
    return function, hint, entry.source.removeprefix(TORCH).strip("\n")


def run(command: list[str], cwd: Path) -> str:
    """Run a command (matplotlib without a display); on failure, raise with the end of its output."""
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout[-3000:]}"
                             f"\n{result.stderr[-5000:]}")
    return result.stdout


def for_every_exercise(exercises: list[str], grade: Callable[[str], Any]) -> dict[str, Any]:
    """``grade(exercise)`` for every exercise at once; an exception is kept as that exercise's result,
    so that it is reported by that exercise's test, not by all five."""
    def one(exercise: str) -> Any:
        try:
            return grade(exercise)
        except Exception as error:
            return error

    with ThreadPoolExecutor(max_workers=min(len(exercises), os.cpu_count() or 1)) as pool:
        return dict(zip(exercises, pool.map(one, exercises)))
