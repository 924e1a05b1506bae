"""plot_frames: a row of an environment's rgb_array pictures, as the lessons show them."""

from __future__ import annotations

import gymnasium as gym
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mediarl_lessons  # noqa: E402, F401  (registers the environments)
from mediarl_lessons.plotting import plot_frames  # noqa: E402


def test_plot_frames_shows_each_frame_untouched_with_its_title_and_no_axes():
    env = gym.make("mediarl/SessionRetention-v0", render_mode="rgb_array")
    env.reset(seed=0)
    frames = [env.render()]
    env.step(1)
    frames.append(env.render())
    axes = plot_frames(frames, ["start", "after one step"])
    assert len(axes) == 2
    for ax, frame, title in zip(axes, frames, ["start", "after one step"]):
        (image,) = ax.get_images()
        np.testing.assert_array_equal(image.get_array(), frame)
        assert ax.get_title() == title and not ax.axison
    width, height = axes[0].figure.get_size_inches()
    assert width == 9.0 and height < 3.5, "a row of frames stays a small figure"
    plt.close("all")


def test_plot_frames_without_titles_and_with_a_given_size():
    frame = np.zeros((40, 64, 3), dtype=np.uint8)
    (ax,) = plot_frames([frame], figsize=(4.0, 2.5))
    assert ax.get_title() == "" and tuple(ax.figure.get_size_inches()) == (4.0, 2.5)
    plt.close("all")


@pytest.mark.parametrize(("frames", "titles", "message"), [
    ([], None, "at least one frame"),
    ([np.zeros((4, 6), dtype=np.uint8)], None, r"frames\[0\] must be an \(H, W, 3\) uint8 picture"),
    ([np.zeros((4, 6, 3))], None, "float64"),
    ([np.zeros((4, 6, 3), dtype=np.uint8)], ["a", "b"], "2 titles for 1 frames"),
])
def test_plot_frames_rejects_what_is_not_a_row_of_pictures(frames, titles, message):
    with pytest.raises(ValueError, match=message):
        plot_frames(frames, titles)
    plt.close("all")
