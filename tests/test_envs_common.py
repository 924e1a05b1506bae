"""Checks every course environment must pass, whatever it models.

Environment-specific behaviour (dynamics, oracle quantities, exact models) is tested in
each environment's own test file; here are the promises they all make.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import mediarl_lessons

ENV_IDS = list(mediarl_lessons.ENVIRONMENTS)


def rollout(env: gym.Env, seed: int, steps: int = 60) -> list:
    """Observations, rewards and flags of a fixed action sequence, resetting when an episode ends."""
    actions = np.random.default_rng(1234).integers(env.action_space.n, size=steps)
    obs, _ = env.reset(seed=seed)
    trajectory = [np.asarray(obs).tolist()]
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(int(action))
        trajectory.append((np.asarray(obs).tolist(), float(reward), terminated, truncated))
        if terminated or truncated:
            obs, _ = env.reset()
            trajectory.append(np.asarray(obs).tolist())
    return trajectory


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registered_on_import(env_id):
    assert env_id in gym.registry


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_passes_gymnasium_env_checker_without_warnings(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_trajectory_other_seed_other_trajectory(env_id):
    first = rollout(gym.make(env_id), seed=7)
    again = rollout(gym.make(env_id), seed=7)
    other = rollout(gym.make(env_id), seed=8)
    assert first == again
    assert first != other


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("bad_action", [-1, 10_000])
def test_out_of_range_action_says_what_is_allowed(env_id, bad_action):
    env = gym.make(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an integer in \[0, \d+\]"):
        env.unwrapped.step(bad_action)


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("bad_action", [0.5, "1", None, [0]])
def test_wrongly_typed_action_says_what_is_allowed(env_id, bad_action):
    env = gym.make(env_id)
    env.reset(seed=0)
    with pytest.raises(TypeError, match="action must be an integer"):
        env.unwrapped.step(bad_action)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_ansi_render_describes_the_state(env_id):
    env = gym.make(env_id, render_mode="ansi")
    env.reset(seed=0)
    env.step(0)
    text = env.render()
    assert isinstance(text, str) and len(text.strip()) > 0


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_docstring_follows_the_gymnasium_template(env_id):
    doc = gym.make(env_id).unwrapped.__class__.__doc__
    for heading in ["Description", "Action Space", "Observation Space", "Rewards",
                    "Starting State", "Episode End", "Arguments", "Version History"]:
        assert f"## {heading}" in doc, f"{env_id} docstring lacks '## {heading}'"
    assert "truncat" in doc.lower() and "terminat" in doc.lower()
