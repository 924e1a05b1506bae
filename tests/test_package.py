"""Package-level promises: seeding, and the repository's own set-up files."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import gymnasium as gym

import mediarl_lessons  # noqa: F401  (registers the environments)
from mediarl_lessons import agent_rng, seed_everything

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


def test_an_environment_seeded_with_s_replays_default_rng_s_but_never_agent_rng_s():
    # Why agent_rng exists: env.reset(seed=s) makes the environment's generator with
    # gymnasium.utils.seeding.np_random(s), which draws exactly default_rng(s)'s numbers.
    env = gym.make("mediarl/LiveChannels-v0")
    env.reset(seed=5)
    assert env.unwrapped.np_random_seed == 5
    simulator = gym.utils.seeding.np_random(5)[0].random(1000)
    assert np.array_equal(simulator, np.random.default_rng(5).random(1000)), "the coupling agent_rng avoids"
    own = agent_rng(5).random(1000)
    assert np.array_equal(own, agent_rng(5).random(1000)), "the same run, the same stream"
    for s in range(200):  # no environment seed gives the agent's stream, its own or another
        assert not np.array_equal(np.random.default_rng(s).random(1000), own)
    # Independent streams: the agent's uniforms are uncorrelated with the simulator's.
    assert abs(np.corrcoef(simulator, own)[0, 1]) < 0.15
    with pytest.raises(ValueError, match="seed"):
        agent_rng(-1)


def test_seed_everything_returns_the_lessons_own_stream_not_an_environments():
    assert np.array_equal(seed_everything(3).random(10), agent_rng(3).random(10))


def test_requirements_pin_the_cpu_torch_and_every_line_exactly():
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    # The CPU build from PyTorch's own index on Linux x86_64 (PyPI's is the CUDA one), PyPI's elsewhere.
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert 'torch==2.13.0+cpu ; sys_platform == "linux" and platform_machine == "x86_64"' in lines
    assert 'torch==2.13.0 ; sys_platform != "linux" or platform_machine != "x86_64"' in lines
    pins = [line for line in lines if not line.startswith("--") and not line.startswith("torch==")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^=\s]+", line) for line in pins), \
        [line for line in pins if "==" not in line]
    assert not any(line.lower().startswith("nvidia") for line in lines), "a CUDA package is pinned"
    assert torch.__version__.split("+")[0] == "2.13.0" and not torch.cuda.is_available()


def test_every_public_agent_imports_from_agents_and_torch_only_when_asked():
    import importlib
    import subprocess
    import sys

    agents = importlib.import_module("mediarl_lessons.agents")
    for module in ("bandits", "tabular", "dqn", "dqn_together"):
        submodule = importlib.import_module(f"mediarl_lessons.agents.{module}")
        for name in submodule.__all__:
            assert getattr(agents, name) is getattr(submodule, name), (module, name)
            assert name in agents.__all__, (module, name)
    script = ("import sys, mediarl_lessons.agents\n"
              "print('torch' in sys.modules)\n"
              "from mediarl_lessons.agents import DQNAgent\n"
              "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["False", "True"], out.stdout + out.stderr


def test_version_and_license():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "mediarl_lessons", "--version"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"mediarl-lessons {mediarl_lessons.__version__}"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert (ROOT / "mediarl_lessons" / "py.typed").exists()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("python3 -m venv")]
    assert len(commands) == 3, "README must give exactly three set-up commands: open, test, build the website"
    install = "pip install -r requirements.txt -e ."
    assert commands[0].endswith(f"{install} && jupyter lab --notebook-dir=. notebooks/00_welcome.ipynb")
    assert commands[1].endswith(f"{install} && pytest")
    assert commands[2].endswith(f"{install} && mediarl-lessons book")
    assert "README.md" in (ROOT / ".ci" / "run").read_text()
