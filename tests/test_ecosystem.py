"""The README's "Using the environments elsewhere" snippets, run as a learner would paste them.

Each ```python block of that section runs in a fresh interpreter (so a snippet that forgets
an import, or relies on one made by the test, fails here), then the tools themselves are
checked a little further: Stable-Baselines3's own environment checker and ``make_vec_env``
with its defaults (it asks for ``render_mode="rgb_array"``) on every environment.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import pytest

import mediarl_lessons  # noqa: F401  (registers the environments)

ROOT = Path(__file__).resolve().parent.parent
IDS = [env_id for env_id in gym.registry if env_id.startswith("mediarl/")]


def readme_snippets() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Using the environments elsewhere", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_has_the_three_snippets() -> None:
    snippets = readme_snippets()
    assert len(snippets) == 3
    assert "make_vec_env" in snippets[0] and "make_vec" in snippets[1] and "mediarl_lessons:" in snippets[2]
    assert "import mediarl_lessons" not in snippets[2]


@pytest.mark.parametrize("index", range(3), ids=["stable-baselines3", "gymnasium-vector", "module-qualified-id"])
def test_a_readme_snippet_runs_in_a_fresh_interpreter(index: int) -> None:
    snippet = readme_snippets()[index]
    out = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.mark.parametrize("env_id", IDS)
def test_stable_baselines3_takes_every_environment_with_its_defaults(env_id: str) -> None:
    from stable_baselines3.common.env_checker import check_env
    from stable_baselines3.common.env_util import make_vec_env

    if env_id == "mediarl/NewsFeed-v0":
        # One row of features per candidate article: SB3 advises flattening it for an MLP policy
        # (gymnasium.wrappers.FlattenObservation), as the README says. Its only remark.
        with pytest.warns(UserWarning, match="unconventional shape"):
            check_env(gym.make(env_id).unwrapped, warn=True)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_env(gym.make(env_id).unwrapped, warn=True)
    vec_env = make_vec_env(env_id, n_envs=2, seed=0)  # render_mode="rgb_array" by default
    try:
        observations = vec_env.reset()
        assert observations.shape[0] == 2
        vec_env.step([vec_env.action_space.sample() for _ in range(2)])
        frames = vec_env.get_images()
        assert len(frames) == 2 and frames[0].ndim == 3 and frames[0].shape[2] == 3
    finally:
        vec_env.close()
