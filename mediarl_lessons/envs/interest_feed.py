"""A feed that must keep a user watching: clicks now or a longer session (lesson 05)."""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mediarl_lessons._validation import check_action, check_array, check_float, check_int
from mediarl_lessons.envs import rendering
from mediarl_lessons.envs.rendering import Canvas

#: Names used in ``render()`` for the first topics; further topics are called "topic5", ...
TOPIC_NAMES: tuple[str, ...] = ("news", "sport", "music", "gaming", "cooking",
                                "travel", "science", "comedy", "fashion", "finance")

# Random numbers are drawn for this many steps at a time: one numpy call per block is much
# cheaper than several small calls per step, and the draws still all come from np_random.
_BLOCK_STEPS = 64


class InterestFeedEnv(gym.Env[np.ndarray, int]):
    """
    A user scrolls a video feed; each step the platform shows one of a few candidate items.

    ## Description

    A user opens the app with a *time budget*: the minutes they are willing to spend in this
    session. Each step the platform's candidate generator proposes `n_candidates` items (slot
    `i` always comes from topic `i % n_topics`, like one retrieval source per topic) and the
    agent shows one of them. Every item has a *quality* and a *clickbaitiness*, both in
    [0, 1]. The user clicks with probability

        p = sigmoid(click_bias + interest_weight * interest[topic]
                    + clickbait_weight * clickbait + quality_weight * quality)

    so on-interest, clickbaity items get the most clicks. The session clock then moves:
    looking at the item costs `browse_minutes`; a click costs `watch_minutes` more, but a
    good item leaves the user wanting more (it refunds `refund_minutes * quality`) while
    clickbait disappoints (it costs `disappointment_minutes * clickbait` on top):

        minutes_left += -browse_minutes + clicked * (-watch_minutes + refund_minutes * quality
                                                     - disappointment_minutes * clickbait)

    capped at `max_minutes`. When the budget runs out, the user closes the app. Between steps
    the user's interests drift (a mean-reverting random walk around the user's own baseline,
    clipped to [0, 1]) and a fresh set of candidates arrives.

    What it teaches (lesson 05, bsuite-style): credit assignment over tens of steps with a
    continuous state, where the best immediate choice is not the best plan. The *myopic
    oracle* (`myopic_action()`), which knows the true click probabilities and shows the item
    most likely to be clicked, picks clickbait: high click-through rate, but it drains the
    budget, so its sessions are short. A far-sighted policy gives up some clicks now for
    quality items that keep the session going and collects about 1.5 times as many clicks
    per session. With the default arguments, over 1000 sessions: the hand-written
    `far_sighted_action()` earns 21.0 clicks in 41 steps, the myopic oracle 13.5 clicks in
    18 steps (at a higher click-through rate, 0.76 against 0.51), a random feed 11.3 clicks.
    A DQN that sees the quality of every candidate and the minutes left learns this
    trade-off and beats the myopic oracle, although the oracle knows the click model exactly
    and the DQN must learn it from clicks (the course's DQN, a 2x128 MLP with replay, a target
    network and Double DQN targets, earns 1.25-1.43 times the oracle's clicks after 8,000
    steps, over 48 training seeds: ``docs/claims.md``). The lesson: maximising
    click-through rate is not maximising engagement.

    ## Action Space

    `Discrete(n_candidates)`: the slot of the candidate to show (slot `i` is an item of topic
    `i % n_topics`).

    ## Observation Space

    A `Box(0, 1, (n_topics + 1 + 2 * n_candidates,), float32)`:

    | Index                                      | Observation                          | Min | Max |
    |--------------------------------------------|--------------------------------------|-----|-----|
    | `0 .. n_topics-1`                          | the user's interest in each topic    | 0   | 1   |
    | `n_topics`                                 | minutes left / `max_minutes`         | 0   | 1   |
    | `n_topics+1 .. n_topics+n_candidates`      | quality of the candidate in each slot| 0   | 1   |
    | `n_topics+1+n_candidates .. end`           | clickbaitiness of each candidate     | 0   | 1   |

    Everything the far-sighted choice needs is observed; the click model's weights are not
    (the oracle knows them, a learner must learn them).

    ## Rewards

    `1` when the user clicks the item shown, `0` otherwise, so the return is the number of
    clicks in the session and the expected immediate reward of a candidate is its click
    probability.

    ## Starting State

    The user's baseline interest in each topic is drawn from Beta(0.8, 2.0) (most users care
    about a few topics), and the interests start at the baseline. The time budget starts
    uniformly in [`min_initial_minutes`, `max_initial_minutes`]. Candidate qualities and
    clickbaitiness are drawn independently from Beta(2, 2) every step. `reset` accepts
    `options` to set up a particular situation (each key optional): `"minutes_left"`
    (float in (0, `max_minutes`]), `"interests"` (n_topics values in [0, 1], also used as the
    baseline), `"quality"` and `"clickbait"` (n_candidates values in [0, 1] for the first
    candidates).

    ## Episode End

    - Termination (`terminated=True`): the time budget reaches 0 minutes or less, and the
      user leaves. With the default arguments a myopic session lasts about 18 steps and a
      far-sighted one about 41. The step that ends the session still earns its click.
    - Truncation (`truncated=True`): `gymnasium.make("mediarl/InterestFeed-v0")` adds a
      `TimeLimit` of 500 steps, which a policy only meets by keeping the user's budget from
      ever running out. The unwrapped environment never truncates.

    ## Information

    `reset` and `step` return the oracle quantities of the candidates now on screen (those the
    next action chooses from); the arrays are read-only:

    - `"click_probabilities"`: `(n_candidates,)` the true click probability of each candidate.
    - `"expected_rewards"`: `(n_candidates,)` each candidate's expected immediate reward (the
      same array as `"click_probabilities"`, since a click earns 1); the myopic oracle picks
      its argmax.
    - `"minutes_change_if_clicked"`: `(n_candidates,)` how much the time budget would change
      this step if the candidate were shown and clicked (browse + watch + refund -
      disappointment, before the `max_minutes` cap); if not clicked it changes by
      `-browse_minutes`.
    - `"minutes_left"`: the time budget left, in minutes.
    - `"clicked"` (`step` only): whether the user clicked the item just shown.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import mediarl_lessons
    >>> env = gym.make("mediarl/InterestFeed-v0", n_candidates=5, render_mode="ansi")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape
    (16,)

    ```

    | Parameter                | Type  | Default | Description                                                  |
    |--------------------------|-------|---------|--------------------------------------------------------------|
    | `n_topics`               | int   | 5       | number of topics, in [1, 20]                                  |
    | `n_candidates`           | int   | 5       | candidates per step (the actions), in [2, 50]                 |
    | `min_initial_minutes`    | float | 20.0    | lowest starting time budget, in (0, `max_initial_minutes`]    |
    | `max_initial_minutes`    | float | 40.0    | highest starting time budget, in [min, `max_minutes`]         |
    | `max_minutes`            | float | 60.0    | cap on the time budget (normalises the observation), in (0, 1440] |
    | `browse_minutes`         | float | 0.5     | cost of every impression, in [0, 60]                          |
    | `watch_minutes`          | float | 2.5     | extra cost of a click, in [0, 60]                             |
    | `refund_minutes`         | float | 4.0     | minutes a click refunds per unit of quality, in [0, 60]       |
    | `disappointment_minutes` | float | 2.0     | minutes a click costs per unit of clickbait, in [0, 60]       |
    | `click_bias`             | float | -3.5    | logit of the click model's intercept, in [-20, 20]            |
    | `interest_weight`        | float | 5.0     | logit weight of the user's interest in the topic, in [-20, 20]|
    | `clickbait_weight`       | float | 3.0     | logit weight of clickbaitiness, in [-20, 20]                  |
    | `quality_weight`         | float | 0.5     | logit weight of quality, in [-20, 20]                         |
    | `interest_reversion`     | float | 0.05    | pull of interests back to the baseline per step, in [0, 1]    |
    | `interest_volatility`    | float | 0.05    | std of the interests' per-step random change, in [0, 1]       |
    | `render_mode`            | str   | None    | `None`, `"ansi"` or `"rgb_array"` (see Rendering)             |

    ## Rendering

    - `"ansi"`: the minutes left, the last item shown, the user's interests and every
      candidate's topic, quality, clickbaitiness and click probability.
    - `"rgb_array"`: a `(400, 640, 3)` `uint8` picture. Top: the time budget (a bar that
      turns from green to red as it runs out), the minutes left after each step of the
      session so far, and the clicks and CTR. Left: the user's interest in each topic.
      Right: the candidates now on screen, one column per slot: topic (coloured tile),
      quality (green), clickbaitiness (orange), and, hidden from the agent, the true click
      probability and how many minutes a click would add (green, up) or take (red, down).
      Bottom: the item shown last, whether it was clicked and how the minutes left changed.
      Drawn with numpy alone, about half a millisecond a frame; rendering reads the state
      and draws no random numbers.

    ## Version History

    * v0: Initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    _HISTORY = 140  # steps of minutes-left history the picture shows

    def __init__(
        self,
        *,
        n_topics: int = 5,
        n_candidates: int = 5,
        min_initial_minutes: float = 20.0,
        max_initial_minutes: float = 40.0,
        max_minutes: float = 60.0,
        browse_minutes: float = 0.5,
        watch_minutes: float = 2.5,
        refund_minutes: float = 4.0,
        disappointment_minutes: float = 2.0,
        click_bias: float = -3.5,
        interest_weight: float = 5.0,
        clickbait_weight: float = 3.0,
        quality_weight: float = 0.5,
        interest_reversion: float = 0.05,
        interest_volatility: float = 0.05,
        render_mode: str | None = None,
    ) -> None:
        self.n_topics = check_int("n_topics", n_topics, 1, 20)
        self.n_candidates = check_int("n_candidates", n_candidates, 2, 50)
        self.max_minutes = check_float("max_minutes", max_minutes, 0.0, 1440.0, low_open=True)
        self.max_initial_minutes = check_float("max_initial_minutes", max_initial_minutes,
                                               0.0, self.max_minutes, low_open=True)
        self.min_initial_minutes = check_float("min_initial_minutes", min_initial_minutes,
                                               0.0, self.max_initial_minutes, low_open=True)
        self.browse_minutes = check_float("browse_minutes", browse_minutes, 0.0, 60.0)
        self.watch_minutes = check_float("watch_minutes", watch_minutes, 0.0, 60.0)
        self.refund_minutes = check_float("refund_minutes", refund_minutes, 0.0, 60.0)
        self.disappointment_minutes = check_float("disappointment_minutes",
                                                  disappointment_minutes, 0.0, 60.0)
        self.click_bias = check_float("click_bias", click_bias, -20.0, 20.0)
        self.interest_weight = check_float("interest_weight", interest_weight, -20.0, 20.0)
        self.clickbait_weight = check_float("clickbait_weight", clickbait_weight, -20.0, 20.0)
        self.quality_weight = check_float("quality_weight", quality_weight, -20.0, 20.0)
        self.interest_reversion = check_float("interest_reversion", interest_reversion, 0.0, 1.0)
        self.interest_volatility = check_float("interest_volatility", interest_volatility, 0.0, 1.0)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of "
                             f"{self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode

        #: topic of the item in each slot
        self.candidate_topics = np.arange(self.n_candidates) % self.n_topics
        self.topic_names = tuple(TOPIC_NAMES[t] if t < len(TOPIC_NAMES) else f"topic{t}"
                                 for t in range(self.n_topics))
        self.action_space = spaces.Discrete(self.n_candidates)
        self._obs_size = self.n_topics + 1 + 2 * self.n_candidates
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self._obs_size,), dtype=np.float32)

        # The hidden state: set by reset().
        self._minutes_left: float | None = None
        self._baseline = np.zeros(self.n_topics)
        self._interests = np.zeros(self.n_topics)
        self._click_probabilities = np.zeros(self.n_candidates)
        self._row = _BLOCK_STEPS  # no random numbers drawn yet
        self._interest_keep = 1.0 - self.interest_reversion
        self._last_action: int | None = None
        self._last_clicked = False
        # The session so far, for render: steps, clicks, the last item shown (the candidate block
        # it came from and its row) and the minutes left after each of the latest steps.
        self._steps = self._clicks = 0
        self._last_item: tuple[np.ndarray, np.ndarray, int] | None = None
        self._minutes_history: deque[float] = deque(maxlen=self._HISTORY)
        self._frame_background: np.ndarray | None = None  # the static part of the picture

    # ----------------------------------------------------------------------------- dynamics
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = self._check_options(options)
        rng = self.np_random
        baseline = rng.beta(0.8, 2.0, size=self.n_topics)
        minutes = rng.uniform(self.min_initial_minutes, self.max_initial_minutes)
        baseline = options.get("interests", baseline)
        self._baseline = baseline
        self._pulled_baseline = self.interest_reversion * baseline
        self._interests = baseline.copy()
        self._minutes_left = float(options.get("minutes_left", minutes))
        # A new seed starts a new stream; otherwise the next episode goes on with the unused
        # random numbers of the current block (drawing a block costs several steps' time).
        if seed is not None or self._row >= _BLOCK_STEPS - 1:
            self._draw_block()
        else:
            self._row += 1
        if "quality" in options or "clickbait" in options:
            self._set_first_candidates(options.get("quality"), options.get("clickbait"))
        self._last_action, self._last_clicked = None, False
        self._steps = self._clicks = 0
        self._last_item = None
        self._minutes_history.clear()
        self._minutes_history.append(self._minutes_left)
        self._score_candidates()
        return self._observation(), self._info()

    def _check_options(self, options: dict[str, Any] | None) -> dict[str, Any]:
        """Validate reset's options before anything changes."""
        options = {} if options is None else dict(options)
        unknown = set(options) - {"minutes_left", "interests", "quality", "clickbait"}
        if unknown:
            raise ValueError(f"options may only contain 'minutes_left', 'interests', 'quality' "
                             f"and 'clickbait', got {sorted(unknown)}")
        if "minutes_left" in options:
            options["minutes_left"] = check_float(
                "options['minutes_left']", options["minutes_left"], 0.0, self.max_minutes,
                low_open=True)
        if "interests" in options:
            options["interests"] = check_array("options['interests']", options["interests"],
                                               shape=(self.n_topics,), low=0.0, high=1.0).copy()
        for key in ("quality", "clickbait"):
            if key in options:
                options[key] = check_array(f"options['{key}']", options[key],
                                           shape=(self.n_candidates,), low=0.0, high=1.0)
        return options

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._minutes_left is None:
            raise RuntimeError("call reset() before step()")
        action = check_action(action, self.n_candidates)
        row = self._row
        clicked = bool(self._click_draws[row] < self._click_probabilities[action])
        minutes = self._minutes_left - self.browse_minutes
        if clicked:
            minutes += self._change_if_clicked[row][action]
        self._minutes_left = minutes = min(minutes, self.max_minutes)
        terminated = minutes <= 0.0
        self._last_item = (self._quality, self._clickbait, row)
        self._minutes_history.append(minutes)
        self._steps += 1
        self._clicks += clicked

        # The user's interests drift back towards their baseline, with some noise.
        interests = self._interests * self._interest_keep
        interests += self._pulled_baseline
        interests += self._interest_noise[row]
        np.maximum(interests, 0.0, out=interests)
        np.minimum(interests, 1.0, out=interests)
        self._interests = interests

        # Next candidates.
        self._row = row + 1
        if self._row == _BLOCK_STEPS:
            self._draw_block()
        self._score_candidates()
        self._last_action, self._last_clicked = action, clicked
        info = self._info()
        info["clicked"] = clicked
        return self._observation(), 1.0 if clicked else 0.0, terminated, False, info

    def _draw_block(self) -> None:
        """Draw the random numbers of the next `_BLOCK_STEPS` steps in one go."""
        rng, k = self.np_random, self.n_candidates
        # Quality and clickbaitiness ~ Beta(2, 2), sampled by inverting its CDF 3x^2 - 2x^3
        # (several times faster than rng.beta).
        features = 0.5 + np.sin(np.arcsin(2.0 * rng.random((_BLOCK_STEPS, 2 * k)) - 1.0) / 3.0)
        np.clip(features, 0.0, 1.0, out=features)  # rounding must not leave the box
        self._interest_noise = self.interest_volatility * rng.standard_normal(
            (_BLOCK_STEPS, self.n_topics))
        self._click_draws = rng.random(_BLOCK_STEPS).tolist()
        self._set_candidate_block(features[:, :k], features[:, k:])
        self._row = 0

    def _set_candidate_block(self, quality: np.ndarray, clickbait: np.ndarray) -> None:
        """Precompute everything about the candidates that does not depend on the user."""
        self._quality, self._clickbait = quality, clickbait
        self._features = np.concatenate([quality, clickbait], axis=1).astype(np.float32)
        # Minus the part of the click logit that depends on the item only.
        self._negative_item_logits = -(self.click_bias + self.clickbait_weight * clickbait
                                       + self.quality_weight * quality)
        change = (-self.watch_minutes + self.refund_minutes * quality
                  - self.disappointment_minutes * clickbait)
        self._change_if_clicked = change.tolist()
        self._change_if_clicked_total = change - self.browse_minutes
        self._change_if_clicked_total.flags.writeable = False  # info hands out its rows

    def _set_first_candidates(
        self, quality: np.ndarray | None, clickbait: np.ndarray | None
    ) -> None:
        """Put the candidates given in reset's options on screen."""
        quality_block, clickbait_block = self._quality.copy(), self._clickbait.copy()
        if quality is not None:
            quality_block[self._row] = quality
        if clickbait is not None:
            clickbait_block[self._row] = clickbait
        self._set_candidate_block(quality_block, clickbait_block)

    def _score_candidates(self) -> None:
        """Click probabilities of the candidates on screen: sigmoid of the click logit."""
        interests = self._interests
        if self.n_candidates != self.n_topics:
            interests = interests[self.candidate_topics]
        probabilities = self._negative_item_logits[self._row] - self.interest_weight * interests
        np.exp(probabilities, out=probabilities)
        probabilities += 1.0
        np.reciprocal(probabilities, out=probabilities)
        probabilities.flags.writeable = False  # info hands it out; the next step reads it
        self._click_probabilities = probabilities

    def _observation(self) -> np.ndarray:
        n = self.n_topics
        obs = np.empty(self._obs_size, dtype=np.float32)
        obs[:n] = self._interests
        obs[n] = max(self._minutes_left, 0.0) / self.max_minutes
        obs[n + 1:] = self._features[self._row]
        return obs

    def _info(self) -> dict[str, Any]:
        return {
            "click_probabilities": self._click_probabilities,
            "expected_rewards": self._click_probabilities,
            "minutes_change_if_clicked": self._change_if_clicked_total[self._row],
            "minutes_left": self._minutes_left,
        }

    # ----------------------------------------------------------------------------- policies
    def myopic_action(self) -> int:
        """The myopic oracle: the candidate with the largest true click probability.

        It knows the hidden click model exactly and maximises the expected immediate reward
        (ties go to the lowest slot), ignoring what the choice does to the time budget.
        """
        if self._minutes_left is None:
            raise RuntimeError("call reset() before myopic_action()")
        return int(np.argmax(self._click_probabilities))

    def far_sighted_action(self, value_per_minute: float = 0.7) -> int:
        """A hand-written far-sighted baseline that also knows the true model.

        It scores each candidate by its expected clicks now plus the clicks its expected change
        in the time budget is worth later, valuing a minute of session at `value_per_minute`
        clicks (a far-sighted session earns about 0.7 clicks per minute of starting budget):

            score = p * (1 + value_per_minute * minutes_change_if_clicked)
                    + (1 - p) * value_per_minute * (-browse_minutes)

        `value_per_minute = 0` is the myopic oracle.
        """
        if self._minutes_left is None:
            raise RuntimeError("call reset() before far_sighted_action()")
        value = check_float("value_per_minute", value_per_minute, 0.0, 100.0)
        p = self._click_probabilities
        change = self._change_if_clicked_total[self._row] + self.browse_minutes
        scores = p * (1.0 + value * change) - value * self.browse_minutes
        return int(np.argmax(scores))

    # ----------------------------------------------------------------------------- render
    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self._render_frame()
        if self.render_mode != "ansi":
            return None
        if self._minutes_left is None:
            return "InterestFeed: call reset() first"
        lines = [f"minutes left: {self._minutes_left:5.1f} / {self.max_minutes:g}"]
        if self._last_action is not None:
            lines[0] += (f"   last shown: slot {self._last_action} "
                         f"({'clicked' if self._last_clicked else 'skipped'})")
        lines.append("interests: " + "  ".join(
            f"{name} {value:.2f}" for name, value in zip(self.topic_names, self._interests)))
        k, features = self.n_candidates, self._features[self._row]
        for slot in range(k):
            lines.append(
                f"  slot {slot}: {self.topic_names[self.candidate_topics[slot]]:<8} "
                f"quality {features[slot]:.2f}  clickbait {features[k + slot]:.2f}  "
                f"P(click) {self._click_probabilities[slot]:.2f}")
        return "\n".join(lines)


    # ---- the rgb_array picture -------------------------------------------------------------
    _FRAME_HEIGHT = 400
    _PANEL_LEFT = 214  # left edge of the candidates panel
    _PLOT_LEFT = _PANEL_LEFT + 76  # left edge of the candidate columns
    _ROWS = {"topic": 150, "quality": 168, "clickbait": 198, "p_click": 228, "minutes": 260}

    def _frame_width(self) -> int:
        return rendering.frame_size(self.n_candidates, 640, 6, self._PLOT_LEFT + 22)

    def _columns(self) -> tuple[float, float]:
        """Left edge and width of the first candidate's column."""
        return float(self._PLOT_LEFT), (self._frame_width() - self._PLOT_LEFT - 22) / self.n_candidates

    def _minutes_scale(self) -> float:
        """The largest change of the time budget a click can make, for the signed bars."""
        worst = self.browse_minutes + self.watch_minutes + self.disappointment_minutes
        best = abs(self.refund_minutes - self.watch_minutes - self.browse_minutes)
        return max(worst, best, 1e-9)

    def _draw_background(self) -> np.ndarray:
        """The parts of the picture that never change: titles, row labels, legend."""
        height, width = self._FRAME_HEIGHT, self._frame_width()
        canvas = Canvas.blank(height, width)
        canvas.text(12, 10, "INTEREST FEED", rendering.TEXT, scale=2)
        canvas.text(12, 32, "SHOW ONE CANDIDATE; CLICKBAIT GETS CLICKS BUT EATS THE USER'S TIME", rendering.MUTED)
        canvas.panel(12, 46, width - 24, 74)
        canvas.panel(12, 126, self._PANEL_LEFT - 20, 176)
        canvas.panel(self._PANEL_LEFT, 126, width - self._PANEL_LEFT - 12, 176)
        canvas.panel(12, 308, width - 24, 82)
        canvas.text(20, 54, "TIME BUDGET: MINUTES LEFT", rendering.MUTED)
        canvas.text(width - 20, 54, "CLICKS", rendering.MUTED, align="right")
        canvas.text(20, 134, "USER INTERESTS", rendering.MUTED)
        panel = self._PANEL_LEFT + 8
        canvas.text(panel, 134, "CANDIDATES NOW; P(CLICK) AND MINUTES ARE HIDDEN FROM THE AGENT", rendering.MUTED)
        rows = self._ROWS
        canvas.text(panel, rows["topic"] + 2, "TOPIC", rendering.MUTED)
        canvas.text(panel, rows["quality"] + 8, "QUALITY", rendering.MUTED)
        canvas.text(panel, rows["clickbait"] + 8, "CLICKBAIT", rendering.MUTED)
        canvas.text(panel, rows["p_click"] + 8, "P(CLICK)", rendering.MUTED)
        canvas.text(panel, rows["minutes"] + 4, "MINUTES", rendering.MUTED)
        canvas.text(panel, rows["minutes"] + 14, "IF CLICKED", rendering.MUTED)
        canvas.rect(self._PLOT_LEFT - 4, rows["minutes"] + 16, width - 22 - self._PLOT_LEFT + 6, 1, rendering.BORDER)
        row_height = max(min(24, 140 // self.n_topics), 4)
        for topic, name in enumerate(self.topic_names):
            y = 148 + topic * row_height
            canvas.rect(20, y, 8, min(row_height - 2, 8), rendering.topic_color(topic))
            if row_height >= 9:
                label = rendering.fit_text(name.upper(), 66)
                canvas.text(32, y + min(row_height - 2, 8) / 2 - 3, label, rendering.TEXT)
        left, column = self._columns()
        inset = column * 0.15 if column >= 8 else 0.0
        for slot in range(self.n_candidates):
            topic = int(self.candidate_topics[slot])
            x = left + slot * column
            canvas.rect(x + inset, rows["topic"], column - 2 * inset, 12, rendering.topic_color(topic))
            if column >= 10:
                canvas.text(x + column / 2, rows["topic"] + 3, self.topic_names[topic][0], rendering.PANEL,
                            align="center")
        canvas.legend(22, 374, ((rendering.GOOD, "QUALITY / MINUTES GAINED"), (rendering.CLICKBAIT, "CLICKBAIT"),
                                (rendering.BAD, "MINUTES LOST"), (rendering.AGENT, "LAST SHOWN")))
        canvas.pixels.flags.writeable = False
        return canvas.pixels

    def _render_frame(self) -> np.ndarray:
        """The time budget, the user's interests and the candidates as a picture (see the docstring)."""
        if self._minutes_left is None:
            return rendering.blank_frame(self._FRAME_HEIGHT, self._frame_width(), "INTEREST FEED")
        if self._frame_background is None:
            self._frame_background = self._draw_background()
        canvas = Canvas(self._frame_background.copy())
        width = canvas.width
        canvas.text(width - 12, 10, f"STEP {self._steps}", rendering.TEXT, scale=2, align="right")

        # The time budget now, and step by step through the session.
        minutes = self._minutes_left
        fraction = max(minutes, 0.0) / self.max_minutes
        color = rendering.ramp(min(fraction * 2.5, 1.0))
        canvas.hbar(20, 68, 220, 24, fraction, color)
        label = f"{max(minutes, 0.0):.1f} / {self.max_minutes:g}" if minutes > 0 else "0: THE USER LEFT"
        canvas.text(20, 98, label, rendering.BAD if minutes <= 0 else rendering.TEXT, scale=2)
        history = self._minutes_history
        spark_left, spark_width = 256, width - 256 - 110
        step_width = 4
        shown = list(history)[-(spark_width // step_width):]
        canvas.text(spark_left, 54, "MINUTES LEFT, STEP BY STEP", rendering.MUTED)
        canvas.rect(spark_left, 66, spark_width, 46, rendering.TRACK)
        for i, value in enumerate(shown):
            share = max(value, 0.0) / self.max_minutes
            canvas.vbar(spark_left + i * step_width, 66, step_width - 1, 46, share,
                        rendering.ramp(min(share * 2.5, 1.0)), track=None)
        canvas.text(width - 20, 68, str(self._clicks), rendering.TEXT, scale=2, align="right")
        if self._steps:
            canvas.text(width - 20, 92, f"CTR {self._clicks / self._steps:.2f}", rendering.TEXT, align="right")

        # The user's interests.
        row_height = max(min(24, 140 // self.n_topics), 4)
        for topic, interest in enumerate(self._interests.tolist()):
            y = 148 + topic * row_height
            bar_y = y + 10 if row_height >= 18 else y
            bar_x = 20 if row_height >= 18 else 104
            canvas.hbar(bar_x, bar_y, 186 - bar_x - 28, max(min(row_height - 12, 6), 2), interest,
                        rendering.topic_color(topic))
            if row_height >= 9:
                canvas.text(198, y, f"{interest:.2f}", rendering.TEXT, align="right")

        # The candidates on screen now.
        left, column = self._columns()
        inset = column * 0.15 if column >= 8 else 0.0
        bar = column - 2 * inset
        rows = self._ROWS
        features = self._features[self._row]
        k = self.n_candidates
        changes = (self._change_if_clicked_total[self._row]).tolist()
        scale = self._minutes_scale()
        wide = column >= 26
        for slot in range(k):
            x = left + slot * column + inset
            quality, clickbait = float(features[slot]), float(features[k + slot])
            prob = float(self._click_probabilities[slot])
            canvas.vbar(x, rows["quality"], bar, 24, quality, rendering.GOOD)
            canvas.vbar(x, rows["clickbait"], bar, 24, clickbait, rendering.CLICKBAIT)
            canvas.vbar(x, rows["p_click"], bar, 24, prob, (120, 140, 175))
            change = changes[slot]
            height = round(16 * min(abs(change) / scale, 1.0))
            if change >= 0:
                canvas.rect(x, rows["minutes"] + 16 - height, bar, height, rendering.GOOD)
            else:
                canvas.rect(x, rows["minutes"] + 17, bar, height, rendering.BAD)
            if wide:
                canvas.text(x + bar / 2, rows["p_click"] + 8, f"{prob:.2f}", rendering.TEXT, align="center")
                ink_y = rows["minutes"] + 20 if change >= 0 else rows["minutes"] + 6
                canvas.text(x + bar / 2, ink_y, f"{change:+.1f}", rendering.TEXT, align="center")

        # The last item shown and what it did to the session.
        if self._last_action is None or self._last_item is None:
            canvas.text(22, 318, "NOTHING SHOWN YET: PICK A CANDIDATE", rendering.MUTED, scale=2)
        else:
            quality_block, clickbait_block, row = self._last_item
            slot = self._last_action
            topic = self.topic_names[int(self.candidate_topics[slot])].upper()
            clicked = self._last_clicked
            color = rendering.GOOD if clicked else rendering.BAD
            canvas.rect(22, 318, 14, 14, rendering.AGENT)
            canvas.text(44, 318, f"SHOWN: SLOT {slot} ({topic}): {'CLICKED' if clicked else 'SKIPPED'}", color, scale=2)
            before = history[-2] if len(history) >= 2 else minutes
            canvas.text(44, 340, f"QUALITY {float(quality_block[row, slot]):.2f}, CLICKBAIT "
                                 f"{float(clickbait_block[row, slot]):.2f}: MINUTES LEFT {max(before, 0.0):.1f} -> "
                                 f"{max(minutes, 0.0):.1f}", rendering.TEXT)
        return canvas.pixels


def myopic_oracle_policy(env: gym.Env) -> int:
    """The myopic oracle's action for a (possibly wrapped) InterestFeed environment."""
    return env.unwrapped.myopic_action()


def far_sighted_policy(env: gym.Env, value_per_minute: float = 0.7) -> int:
    """The far-sighted baseline's action (see `InterestFeedEnv.far_sighted_action`)."""
    return env.unwrapped.far_sighted_action(value_per_minute)
