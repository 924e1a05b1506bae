"""SessionRetention-v0: clickbait pays now, quality keeps the viewer watching (lessons 03, 04)."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mediarl_lessons._validation import check_action, check_array, check_int, check_probability
from mediarl_lessons.envs import rendering
from mediarl_lessons.envs.rendering import Canvas
from mediarl_lessons.sampling import cumulative_probabilities, inverse_cdf

CLICKBAIT = 0
QUALITY = 1

#: Names of the default six satisfaction levels, from the lowest to the highest.
LEVEL_NAMES = ("fed up", "bored", "neutral", "content", "happy", "delighted")


class SessionRetentionEnv(gym.Env):
    """
    One viewer's session on a video platform: recommend a clickbait video or a quality video.

    ## Description
    Each step the platform recommends the next video to a viewer. A clickbait video (catchy
    thumbnail, thin content) is clicked more often than a quality video, so it pays more right
    now; but a clicked clickbait video disappoints and may lower the viewer's satisfaction by
    one level, while a clicked quality video may raise it by one level. After every
    recommendation the viewer may leave the platform, and the less satisfied they are, the
    more likely they leave. So clickbait lowers satisfaction and thereby raises the
    probability that the session ends.

    What it teaches: the myopic policy (the larger immediate expected reward: always
    clickbait) is far from optimal, and so is "always quality". The optimal policy depends on
    the state. With the default numbers it recommends quality while the viewer is fed up,
    bored or neutral, where a letdown would push them towards the levels at which viewers
    leave (quit probability 0.50 and 0.16), and it cashes in with clickbait once they are
    content or happier: a letdown from there still leaves them at the 0.04 floor, so the
    extra clicks win. A small discount makes the optimal policy myopic again (always
    clickbait for `gamma = 0.5`). Dynamic programming on the exact model `P` finds the
    optimal policy (lesson 03); tabular Q-learning has to find it by trial and error
    (lesson 04).

    One step, in order:
    1. the viewer clicks the recommended video with probability
       `clickbait_click_probability[level]` or `quality_click_probability[level]`;
    2. after a clicked clickbait video, satisfaction drops one level with probability
       `clickbait_letdown`; after a clicked quality video it rises one level with probability
       `quality_uplift` (levels stay within `[0, n_levels - 1]`); without a click it stays;
    3. the viewer leaves with probability `quit_probability[new level]`.

    The exact model is `P[s][a] = [(probability, next_state, reward, terminated), ...]` in
    Gymnasium's toy-text format (like FrozenLake and CliffWalking), with
    `initial_state_distribution`; `mediarl_lessons.mdp.dense_model(env)` turns it into arrays.

    ## Action Space
    `Discrete(2)`; the names are in `action_names`:
    - 0: `clickbait`
    - 1: `quality`

    ## Observation Space
    `Discrete(n_levels + 1)` (7 by default). States `0 .. n_levels - 1` are the viewer's
    satisfaction level (default names in `LEVEL_NAMES`: fed up, bored, neutral, content,
    happy, delighted); state `n_levels` (the `left_state` attribute) means the
    viewer has left. `encode(level)` and `decode(state)` translate, `state_names` labels
    every state.

    ## Rewards
    1 when the viewer clicks the recommended video, 0 otherwise (the platform is paid per
    video start: a pre-roll ad). The return of an episode is the number of videos the viewer
    started in the session.

    ## Starting State
    A new viewer arrives with a satisfaction level drawn from `start_probability` (by default
    bored / neutral / content with probabilities 0.25 / 0.5 / 0.25). The full distribution
    over states is `initial_state_distribution`. `reset(options={"state": level})` starts
    from a chosen level instead.

    ## Episode End
    - Termination (`terminated=True`): the viewer leaves; the observation is then
      `left_state`. Every satisfaction level has a positive chance to quit (at least 0.04 with
      the defaults), so every policy ends its sessions: on average within 25 steps.
    - Truncation (`truncated=True`): `gym.make` adds a `TimeLimit` of 200 steps, which a
      session reaches with probability at most 0.96**200 < 0.03% under any policy, so
      undiscounted returns agree with dynamic programming's values for `gamma = 1`.
    - The exact model treats `left_state` as absorbing: `P[left_state][a]` is
      `[(1.0, left_state, 0.0, True)]`, and stepping after the viewer left returns just that.

    ## Information
    `reset` and `step` return `info` with the oracle quantities:
    - `"satisfaction"` (int): the viewer's satisfaction level now (the last level before
      leaving, once they have left);
    - `"clicked"` (bool, `step` only): whether the viewer clicked the recommended video;
    - `"left"` (bool): whether the viewer has left.

    ## Arguments
    ```python
    import gymnasium as gym
    import mediarl_lessons
    env = gym.make("mediarl/SessionRetention-v0", quality_uplift=0.5, render_mode="ansi")
    ```
    All per-level sequences must have the same length, `n_levels >= 2`:
    - `clickbait_click_probability`: click probability of clickbait per level, in [0, 1]
      (default rises from 0.60 to 0.95: viewers who trust the feed click almost anything).
    - `quality_click_probability`: click probability of quality per level, in [0, 1]
      (default 0.40 everywhere).
    - `clickbait_letdown`: probability in [0, 1] that a clicked clickbait video lowers
      satisfaction one level (default 0.8).
    - `quality_uplift`: probability in [0, 1] that a clicked quality video raises it one
      level (default 0.8).
    - `quit_probability`: probability in (0, 1] that the viewer leaves after a step, per
      new satisfaction level (default 0.50, 0.16, then 0.04 from "neutral" up: a baseline
      that no amount of satisfaction removes). It must be positive so that every session
      ends.
    - `start_probability`: distribution of the starting level (non-negative, sums to 1).
    - `render_mode`: `None`, `"ansi"` or `"rgb_array"` (see Rendering).

    ## Rendering
    - `"ansi"`: one line: the satisfaction level as a bar, the last recommendation and
      whether it was clicked, and whether the viewer has left.
    - `"rgb_array"`: a `(400, 640, 3)` `uint8` picture. Left: the satisfaction ladder, red
      (fed up) at the bottom to green (delighted) at the top, with each level's chance to
      leave; the viewer (a figure) stands at their level, or at "left the app" once they
      have gone. Right: the last recommendation (orange: clickbait, blue: quality) and
      whether it was clicked and moved satisfaction; the clicks so far; the session as a row
      of cells, one per step (the latest 200), filled when clicked, hollow when skipped, over
      a strip in the colour of the satisfaction after the step, ending in a red cell when the
      viewer left; and a banner: still watching or left. Drawn with numpy alone, about half a
      millisecond a frame; rendering reads the state and draws no random numbers.

    ## Version History
    - v0: initial version for the course.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    action_names: tuple[str, ...] = ("clickbait", "quality")
    _HISTORY = 200  # steps the picture's timeline shows (a TimeLimit's worth)

    def __init__(
        self,
        *,
        clickbait_click_probability: Sequence[float] = (0.60, 0.67, 0.74, 0.81, 0.88, 0.95),
        quality_click_probability: Sequence[float] = (0.40,) * 6,
        clickbait_letdown: float = 0.8,
        quality_uplift: float = 0.8,
        quit_probability: Sequence[float] = (0.50, 0.16, 0.04, 0.04, 0.04, 0.04),
        start_probability: Sequence[float] = (0.0, 0.25, 0.5, 0.25, 0.0, 0.0),
        render_mode: str | None = None,
    ) -> None:
        quit_array = check_array("quit_probability", quit_probability, shape=(None,), low=0.0, high=1.0)
        n_levels = quit_array.size
        if n_levels < 2:
            raise ValueError(f"quit_probability must list at least 2 satisfaction levels, got {n_levels}")
        if np.any(quit_array <= 0.0):
            raise ValueError("quit_probability must lie in (0, 1] at every level (a viewer who can never "
                             f"leave makes sessions endless), got {quit_array.tolist()}")
        clickbait_array = check_array("clickbait_click_probability", clickbait_click_probability,
                                      shape=(n_levels,), low=0.0, high=1.0)
        quality_array = check_array("quality_click_probability", quality_click_probability,
                                    shape=(n_levels,), low=0.0, high=1.0)
        start_array = check_array("start_probability", start_probability, shape=(n_levels,), low=0.0)
        if not np.isclose(start_array.sum(), 1.0, atol=1e-6):
            raise ValueError(f"start_probability must sum to 1, got {start_array.sum():.6g}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, "
                             f"got {render_mode!r}")

        self.n_levels = n_levels
        self.left_state = n_levels
        self.clickbait_letdown = check_probability("clickbait_letdown", clickbait_letdown)
        self.quality_uplift = check_probability("quality_uplift", quality_uplift)
        self.click_probability = np.vstack([clickbait_array, quality_array])  # (action, level)
        self.quit_probability = quit_array
        self.render_mode = render_mode
        self.state_names: tuple[str, ...] = (
            *(LEVEL_NAMES if n_levels == len(LEVEL_NAMES) else (f"level {i}" for i in range(n_levels))),
            "left",
        )

        self.observation_space = spaces.Discrete(n_levels + 1)
        self.action_space = spaces.Discrete(len(self.action_names))

        self.initial_state_distribution = np.append(start_array / start_array.sum(), 0.0)
        self.P = self._exact_model()

        # Plain Python lists: indexing them in `step` is several times faster than numpy.
        self._click = self.click_probability.tolist()
        self._quit = quit_array.tolist()
        self._shift = [-1, +1]  # clickbait lowers, quality raises satisfaction
        self._shift_probability = [self.clickbait_letdown, self.quality_uplift]
        self._start_cdf = cumulative_probabilities(start_array / start_array.sum())  # over the levels

        self._level: int | None = None  # satisfaction now (None before the first reset)
        self._left = False
        self._last: tuple[int, bool] | None = None  # (action, clicked) of the last step, for render
        # The session so far, for render: steps, clicks, the starting level and the latest steps.
        self._steps = self._clicks = 0
        self._start_level = 0
        self._history: deque[tuple[int, bool, int]] = deque(maxlen=self._HISTORY)  # (action, clicked, level)
        self._frame_background: np.ndarray | None = None  # the static part of the picture

    # ---- reading states --------------------------------------------------------------------
    def encode(self, satisfaction: int) -> int:
        """The state index of a satisfaction level (the index is the level itself)."""
        return check_int("satisfaction", satisfaction, 0, self.n_levels - 1)

    def decode(self, state: int) -> int | None:
        """The satisfaction level of a state index, or ``None`` for ``left_state``."""
        state = check_int("state", state, 0, self.left_state)
        return None if state == self.left_state else state

    # ---- the exact model -------------------------------------------------------------------
    def _exact_model(self) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:
        """``P[s][a]`` in toy-text format, following the three stages of a step."""
        top = self.n_levels - 1
        shift_probability = (self.clickbait_letdown, self.quality_uplift)
        model: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {}
        for level in range(self.n_levels):
            model[level] = {}
            for action, shift in ((CLICKBAIT, -1), (QUALITY, +1)):
                click = float(self.click_probability[action, level])
                moved = min(max(level + shift, 0), top)
                # (probability, satisfaction after the video, reward) before the quit decision
                stages = [(1.0 - click, level, 0.0),
                          (click * shift_probability[action], moved, 1.0),
                          (click * (1.0 - shift_probability[action]), level, 1.0)]
                outcomes: dict[tuple[int, float, bool], float] = {}
                for probability, new_level, reward in stages:
                    leave = float(self.quit_probability[new_level])
                    for key, p in (((new_level, reward, False), probability * (1.0 - leave)),
                                   ((self.left_state, reward, True), probability * leave)):
                        if p > 0.0:
                            outcomes[key] = outcomes.get(key, 0.0) + p
                model[level][action] = [(p, s, r, t) for (s, r, t), p in outcomes.items()]
        model[self.left_state] = {a: [(1.0, self.left_state, 0.0, True)] for a in range(self.action_space.n)}
        return model

    # ---- the Gymnasium API -----------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        if options and "state" in options:  # start from a chosen level (for experiments and tests)
            self._level = check_int("options['state']", options["state"], 0, self.n_levels - 1)
        else:
            self._level = inverse_cdf(self._start_cdf, self.np_random.random())
        self._left = False
        self._last = None
        self._steps = self._clicks = 0
        self._start_level = self._level
        self._history.clear()
        return self._level, {"satisfaction": self._level, "left": False}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        if self._level is None:
            raise RuntimeError("call reset() before step()")
        action = check_action(action, 2)
        if self._left:  # the absorbing state of the model: nothing more happens
            info = {"satisfaction": self._level, "clicked": False, "left": True}
            return self.left_state, 0.0, True, False, info
        rng = self.np_random
        level = self._level
        clicked = rng.random() < self._click[action][level]
        if clicked and rng.random() < self._shift_probability[action]:
            level = min(max(level + self._shift[action], 0), self.n_levels - 1)
        self._level = level
        self._left = rng.random() < self._quit[level]
        self._last = (action, clicked)
        self._steps += 1
        self._clicks += clicked
        self._history.append((action, clicked, level))
        observation = self.left_state if self._left else level
        info = {"satisfaction": level, "clicked": clicked, "left": self._left}
        return observation, 1.0 if clicked else 0.0, self._left, False, info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self._render_frame()
        if self.render_mode != "ansi":
            return None
        if self._level is None:
            return "(call reset() first)\n"
        bar = "#" * (self._level + 1) + "." * (self.n_levels - 1 - self._level)
        text = f"satisfaction [{bar}] {self._level}/{self.n_levels - 1} {self.state_names[self._level]}"
        if self._last is not None:
            action, clicked = self._last
            text += f" | recommended {self.action_names[action]}: {'clicked' if clicked else 'skipped'}"
        if self._left:
            text += " | the viewer has left"
        return text + "\n"

    # ---- the rgb_array picture -------------------------------------------------------------
    _FRAME_HEIGHT, _FRAME_WIDTH = 400, 640
    _CELL, _PER_ROW = 14, 25  # timeline cells: pixels (with the gap) and cells per row

    def _ladder_rows(self) -> tuple[int, int]:
        """Top and height of the satisfaction ladder's rows (the levels, then "left")."""
        height = max(min(36, 296 // (self.n_levels + 1)), 3)
        return 86, height

    def _ladder_y(self, state: int) -> int:
        """Top of the row of a state: the highest level at the top, "left" at the bottom."""
        top, height = self._ladder_rows()
        row = self.n_levels if state == self.left_state else self.n_levels - 1 - state
        return top + row * height

    def _draw_background(self) -> np.ndarray:
        """The parts of the picture that never change: the ladder, its quit chances, the legend."""
        canvas = Canvas.blank(self._FRAME_HEIGHT, self._FRAME_WIDTH)
        canvas.text(12, 10, "SESSION RETENTION", rendering.TEXT, scale=2)
        canvas.text(12, 32, "CLICKBAIT PAYS NOW; QUALITY KEEPS THE VIEWER WATCHING", rendering.MUTED)
        canvas.panel(12, 46, 236, 344)
        canvas.panel(256, 46, 372, 344)
        canvas.text(20, 54, "SATISFACTION", rendering.MUTED)
        canvas.text(228, 54, "CHANCE", rendering.MUTED, align="right")
        canvas.text(228, 64, "TO LEAVE", rendering.MUTED, align="right")
        _, height = self._ladder_rows()
        box = max(height - 4, 2)
        for state in range(self.n_levels + 1):
            y = self._ladder_y(state)
            if state == self.left_state:
                color, name, quit = (200, 200, 200), "LEFT THE APP", None
            else:
                color = rendering.ramp(state / (self.n_levels - 1))
                name, quit = self.state_names[state].upper(), float(self.quit_probability[state])
            canvas.rect(52, y + 2, 120, box, color)
            if box >= 9:
                canvas.text(58, y + 2 + (box - 7) // 2, rendering.fit_text(name, 110), rendering.TEXT)
            if quit is not None:
                canvas.hbar(180, y + 2 + max(box // 2 - 3, 0), 20, min(box, 6), quit, rendering.BAD)
                if box >= 7:
                    canvas.text(228, y + 2 + (box - 7) // 2, f"{100 * quit:.0f}%", rendering.TEXT, align="right")
        canvas.text(264, 54, "LAST RECOMMENDATION", rendering.MUTED)
        canvas.text(264, 122, "THIS SESSION", rendering.MUTED)
        legend = 304
        canvas.rect(264, legend, 12, 9, rendering.CLICKBAIT)
        canvas.text(282, legend + 1, "CLICKBAIT", rendering.TEXT)
        canvas.rect(350, legend, 12, 9, rendering.QUALITY)
        canvas.text(368, legend + 1, "QUALITY", rendering.TEXT)
        canvas.rect(424, legend, 12, 9, rendering.MUTED)
        canvas.text(442, legend + 1, "CLICKED", rendering.TEXT)
        canvas.outline(498, legend, 12, 9, rendering.MUTED)
        canvas.text(516, legend + 1, "SKIPPED", rendering.TEXT)
        canvas.rect(264, legend + 16, 12, 3, rendering.ramp(0.0))
        canvas.rect(276, legend + 16, 12, 3, rendering.ramp(1.0))
        canvas.text(296, legend + 14, "STRIP: SATISFACTION AFTER THE STEP", rendering.TEXT)
        canvas.pixels.flags.writeable = False
        return canvas.pixels

    def _render_frame(self) -> np.ndarray:
        """The viewer's satisfaction and the session so far as a picture (see the docstring)."""
        if self._level is None:
            return rendering.blank_frame(self._FRAME_HEIGHT, self._FRAME_WIDTH, "SESSION RETENTION")
        if self._frame_background is None:
            self._frame_background = self._draw_background()
        canvas = Canvas(self._frame_background.copy())
        canvas.text(canvas.width - 12, 10, f"STEP {self._steps}", rendering.TEXT, scale=2, align="right")

        # The viewer on the ladder: at their level, or at "left the app" beside their last level.
        _, height = self._ladder_rows()
        box = max(height - 4, 2)
        y = self._ladder_y(self._level)
        canvas.outline(50, y, 124, box + 4, rendering.TEXT, 2 if self._left else 3)
        if self._left:
            y = self._ladder_y(self.left_state)
            canvas.outline(50, y, 124, box + 4, rendering.BAD, 3)
        size = min(max(box, 6), 24)
        canvas.person(24, y + 2 + (box - size) // 2, size, rendering.BAD if self._left else rendering.TEXT)

        # The last recommendation and what it did.
        if self._last is None:
            canvas.text(264, 74, "NONE YET", rendering.MUTED, scale=2)
        else:
            action, clicked = self._last
            color = rendering.CLICKBAIT if action == CLICKBAIT else rendering.QUALITY
            canvas.rect(264, 68, 80, 40, color)
            canvas.text(304, 85, self.action_names[action].upper(), rendering.PANEL, align="center")
            outcome = "CLICKED, +1" if clicked else "SKIPPED, +0"
            canvas.text(356, 70, outcome, rendering.GOOD if clicked else rendering.MUTED, scale=2)
            before = self._history[-2][2] if len(self._history) >= 2 else self._start_level
            after = self._level
            change = "UP" if after > before else "DOWN" if after < before else "UNCHANGED"
            canvas.text(356, 94, f"SATISFACTION {change}: {self.state_names[before].upper()}"
                                 + (f" -> {self.state_names[after].upper()}" if after != before else ""),
                        rendering.TEXT)

        # The session so far: one cell per step, filled when clicked, over a satisfaction strip.
        canvas.text(264, 136, f"{self._clicks} CLICKS IN {self._steps} STEPS", rendering.TEXT, scale=2)
        history = list(self._history)
        shown = len(history) % self._PER_ROW or self._PER_ROW
        rows = (self._HISTORY // self._PER_ROW)
        if len(history) > self._PER_ROW * rows:  # keep whole rows: cells stay in their columns
            history = history[len(history) - shown - self._PER_ROW * (rows - 1):]
        if self._left:  # room for the "left" mark
            history.append(None)
            if len(history) > self._PER_ROW * rows:
                history = history[self._PER_ROW:]
        cell = self._CELL
        for i, entry in enumerate(history):
            x = 264 + (i % self._PER_ROW) * cell
            y = 160 + (i // self._PER_ROW) * cell
            if entry is None:
                canvas.rect(x, y, cell - 2, cell - 2, rendering.BAD)
                canvas.text(x + 3, y + 2, "X", rendering.PANEL)
                continue
            action, clicked, level = entry
            color = rendering.CLICKBAIT if action == CLICKBAIT else rendering.QUALITY
            if clicked:
                canvas.rect(x, y, cell - 2, cell - 5, color)
            else:
                canvas.outline(x, y, cell - 2, cell - 5, color, 2)
            canvas.rect(x, y + cell - 4, cell - 2, 2, rendering.ramp(level / (self.n_levels - 1)))

        if self._left:
            canvas.rect(264, 344, 356, 38, rendering.BAD)
            canvas.text(442, 356, "THE VIEWER HAS LEFT", rendering.PANEL, scale=2, align="center")
        else:
            canvas.rect(264, 344, 356, 38, (228, 242, 230))
            canvas.text(442, 356, "STILL WATCHING", rendering.GOOD, scale=2, align="center")
        return canvas.pixels
