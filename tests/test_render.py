"""Every course environment draws its state as a picture: ``render_mode="rgb_array"``.

Gymnasium's video recorder, ``RenderCollection`` and Stable-Baselines3's ``make_vec_env``
(which asks for ``rgb_array`` by default) all rely on it. The pictures' content is checked
by eye (each docstring's Rendering section says what they show); here are the promises:
the right array, drawn from the current state, without touching the trajectory.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import load_env_creator
from gymnasium.utils.env_checker import check_env

import mediarl_lessons  # noqa: F401 (registers the environments)

ENV_IDS = [env_id for env_id in gym.registry if env_id.startswith("mediarl/")]
STEPS = 50


def run(env: gym.Env, seed: int, steps: int = STEPS, render: bool = False) -> tuple[list, list]:
    """Seeded random actions for `steps` steps, resetting when an episode ends.

    Returns the trajectory (observations, rewards, flags) and, with `render`, the frame after
    every reset and every step.
    """
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    trajectory, frames = [np.asarray(obs).tolist()], []
    if render:
        frames.append(env.render())
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        trajectory.append((np.asarray(obs).tolist(), float(reward), terminated, truncated))
        if render:
            frames.append(env.render())
        if terminated or truncated:
            obs, _ = env.reset()
            trajectory.append(np.asarray(obs).tolist())
            if render:
                frames.append(env.render())
    return trajectory, frames


def test_every_registered_environment_is_covered():
    assert set(ENV_IDS) == set(mediarl_lessons.ENVIRONMENTS) and len(ENV_IDS) >= 5


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rgb_array_is_a_declared_render_mode(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    assert env.render_mode == "rgb_array"
    assert env.metadata["render_modes"] == ["ansi", "rgb_array"]
    assert env.metadata["render_fps"] > 0


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render_returns_an_rgb_picture_of_the_state(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert isinstance(frame, np.ndarray)
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[0] >= 100 and frame.shape[1] >= 100
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 3  # not blank: a picture


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_frames_follow_the_episode(env_id):
    _, frames = run(gym.make(env_id, render_mode="rgb_array"), seed=1, render=True)
    shapes = {frame.shape for frame in frames}
    assert len(shapes) == 1, f"the picture changes size: {shapes}"  # a video needs one size
    assert all(frame.dtype == np.uint8 for frame in frames)
    changed = sum(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))
    assert changed >= (len(frames) - 1) // 2, f"only {changed} of {len(frames) - 1} steps changed the picture"
    # Each call returns a new array: a recorder that keeps the frames must not see them change.
    assert not any(np.shares_memory(a, b) for a, b in zip(frames, frames[1:]))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rendering_does_not_change_the_trajectory(env_id):
    plain, _ = run(gym.make(env_id), seed=5)
    rendered, frames = run(gym.make(env_id, render_mode="rgb_array"), seed=5, render=True)
    assert len(frames) > STEPS
    assert rendered == plain


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rendering_reads_the_state_and_draws_no_random_numbers(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=2)
    env.action_space.seed(2)
    for _ in range(3):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    before = env.unwrapped.np_random.bit_generator.state
    first = env.render()
    second = env.render()
    assert env.unwrapped.np_random.bit_generator.state == before
    assert np.array_equal(first, second)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_frame_before_reset_has_the_episode_frames_shape(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    early = env.unwrapped.render()  # no reset yet: the environment's name and a reminder
    env.reset(seed=0)
    assert early.shape == env.render().shape and early.dtype == np.uint8


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_passes_gymnasium_env_checker_with_rgb_array(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)  # renders in this mode and in every declared mode


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_other_render_modes_work_as_before(env_id):
    plain = gym.make(env_id)
    plain.reset(seed=0)
    assert plain.unwrapped.render() is None
    ansi = gym.make(env_id, render_mode="ansi")
    ansi.reset(seed=0)
    ansi.step(0)
    assert isinstance(ansi.render(), str)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_an_unknown_render_mode_names_the_allowed_ones(env_id):
    env_class = load_env_creator(gym.spec(env_id).entry_point)
    with pytest.raises(ValueError, match=r"render_mode must be None or one of \['ansi', 'rgb_array'\]"):
        env_class(render_mode="video")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render_collection_gathers_an_episode(env_id):
    # What RecordVideo films; RecordVideo itself needs moviepy (see the next test).
    env = gym.wrappers.RenderCollection(gym.make(env_id, render_mode="rgb_array"))
    env.reset(seed=3)
    env.action_space.seed(3)
    steps = 0
    while steps < 20:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        steps += 1
        if terminated or truncated:
            break
    frames = env.render()
    assert len(frames) == steps + 1  # the reset's frame and one per step
    assert all(isinstance(f, np.ndarray) and f.dtype == np.uint8 and f.ndim == 3 for f in frames)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_record_video_films_an_episode(env_id, tmp_path):
    pytest.importorskip("moviepy", reason="gymnasium.wrappers.RecordVideo needs moviepy")
    folder = tmp_path / "videos"
    env = gym.wrappers.RecordVideo(gym.make(env_id, render_mode="rgb_array"), str(folder),
                                   episode_trigger=lambda episode: True, disable_logger=True)
    env.reset(seed=4)
    env.action_space.seed(4)
    for _ in range(20):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            break
    env.close()
    videos = list(folder.glob("*.mp4"))
    assert videos and videos[0].stat().st_size > 0


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_stable_baselines3_make_vec_env_with_its_defaults(env_id):
    pytest.importorskip("stable_baselines3", reason="Stable-Baselines3 is not a course dependency")
    from stable_baselines3.common.env_util import make_vec_env

    vec_env = make_vec_env(env_id)  # asks for render_mode="rgb_array"
    assert vec_env.render_mode == "rgb_array"
    vec_env.seed(0)
    vec_env.reset()
    vec_env.step(np.zeros(vec_env.num_envs, dtype=np.int64))
    image = vec_env.render()
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape[2] == 3
    vec_env.close()
