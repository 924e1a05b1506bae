"""Package-level promises: seeding, and the repository's own set-up files."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from mediarl_lessons import seed_everything

ROOT = Path(__file__).resolve().parents[1]


def draws() -> tuple:
    return random.random(), float(np.random.random()), float(torch.rand(1))


def test_seed_everything_repeats_python_numpy_and_torch():
    rng = seed_everything(11)
    first, first_rng = draws(), rng.random()
    rng = seed_everything(11)
    assert draws() == first and rng.random() == first_rng
    seed_everything(12)
    assert draws() != first


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError),
                                        ("7", TypeError)])
def test_seed_everything_rejects_bad_seeds(bad, error):
    with pytest.raises(error, match="seed"):
        seed_everything(bad)


def test_requirements_pin_the_cpu_torch_and_every_line_exactly():
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert "torch==2.13.0" in lines
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^=\s]+", line) for line in lines), \
        [line for line in lines if "==" not in line]
    assert not any(line.lower().startswith("nvidia") for line in lines), "a CUDA package is pinned"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("python3 -m venv")]
    assert len(commands) == 2, "README must give exactly two set-up commands"
    install = "pip install -r requirements.txt -e ."
    assert commands[0].endswith(f"{install} && jupyter lab notebooks/")
    assert commands[1].endswith(f"{install} && pytest")
    assert "README.md" in (ROOT / ".ci" / "run").read_text()
