"""LiveChannels-v0: which live channel to feature to the next viewer (lessons 00, 01).

Also :class:`BanditTestbed`: Sutton & Barto's 10-armed testbed, many independent bandit
problems stepped at once with numpy, so that a 2000-run x 1000-step experiment is 1000 numpy
steps instead of two million Python ones.
"""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mediarl_lessons._validation import as_generator, check_action, check_array, check_float, check_int
from mediarl_lessons.envs import rendering
from mediarl_lessons.envs.rendering import Canvas

#: The two reward designs of lesson 00: "did the viewer stay 5 minutes?" or "how many minutes?".
REWARD_TYPES = ("stay", "minutes")

#: A channel's probability that a viewer stays at least 5 minutes is drawn from Beta(2, 5):
#: mean 0.29, most channels between 0.05 and 0.6, a few hits above 0.6.
STAY_PROBABILITY_BETA = (2.0, 5.0)

#: Mean minutes watched by a viewer who stays (uniform per channel) and by one who leaves early.
MINUTES_IF_STAYING = (20.0, 60.0)
MINUTES_IF_LEAVING = 2.0

#: The largest `drift` accepted for probabilities: a random-walk step above 0.1 per viewer is
#: not drift but noise.
MAX_PROBABILITY_DRIFT = 0.1

#: Steps of randomness drawn at once (see `LiveChannelsEnv._draw_block`).
BLOCK = 256


def _fold_into_unit_interval(x: np.ndarray) -> np.ndarray:
    """Fold the real line onto [0, 1] like a mirror at 0 and at 1: ..., 1.2 -> 0.8, -0.1 -> 0.1."""
    return 1.0 - np.abs(1.0 - np.mod(x, 2.0))


class LiveChannelsEnv(gym.Env):
    """
    Feature one of K live channels to each viewer who opens the app: a K-armed bandit.

    ## Description
    A live-streaming platform has a "featured" slot on its home screen. Every step a new
    viewer opens the app, the platform features one of `n_channels` live channels, and the
    viewer either stays on it or drifts away. Each channel has a fixed but unknown appeal
    (its expected reward); the platform has to learn which channel holds viewers best while
    it keeps featuring channels to real viewers. That is the multi-armed bandit problem: no
    state, only the tension between exploring channels that might be better and exploiting
    the one that looks best so far.

    What it teaches (lessons 00 and 01): action-value estimates and the incremental mean;
    epsilon-greedy, optimistic starts, UCB, Thompson sampling and gradient bandits; regret
    (a random policy's regret grows linearly, a good learner's only logarithmically); with
    `drift > 0`, that sample averages stop tracking a moving target and a constant step size
    does; with `offline_probability > 0`, that the best action can depend on what is
    available right now (the observation). Two environments made with the same seed and
    different `reward_type` model the same channels, so lesson 00 can show that "stayed 5
    minutes" and "minutes watched" may crown different channels: reward design matters.

    One step, in order:
    1. the viewer is shown the featured channel: if it is live, the reward is drawn from that
       channel's reward distribution; if it is offline, the viewer sees a "this stream has
       ended" card and leaves, reward 0;
    2. the world moves on for the next viewer: with `drift > 0` every channel's mean takes a
       Gaussian random-walk step; with `offline_probability > 0` live channels may go
       offline and offline ones may come back.

    The vectorised :class:`BanditTestbed` in this module steps thousands of such problems at
    once (Sutton & Barto's 10-armed testbed; `reward_type="bernoulli"` draws its means like
    this environment's stay probabilities).

    ## Action Space
    `Discrete(n_channels)`: the index of the channel to feature.

    ## Observation Space
    `MultiBinary(n_channels)`, an `int8` array: 1 for each channel that is live right now, 0
    for one that is offline. A bandit has no state: with the default
    `offline_probability=0` every channel is always live and the observation is always all
    ones, carrying no information.

    ## Rewards
    - `reward_type="stay"` (default): 1 if the viewer stays on the featured channel for at
      least 5 minutes, else 0: Bernoulli with the channel's stay probability.
    - `reward_type="minutes"`: the minutes the viewer watches, Gaussian around the channel's
      mean watch time with standard deviation `minutes_std`. As in Sutton & Barto's testbed
      the noise is not clipped, so the expected reward is exactly the channel's mean; a draw
      for one of the least-watched channels can be slightly negative (about 5% of draws
      when every channel is featured equally often, with the defaults: 4.8%, each channel's
      chance of a negative draw averaged over 2000 line-ups; read it as "left at once").
    - Featuring an offline channel gives 0 under both reward types.

    ## Starting State
    At every reset each channel gets a stay probability `p ~ Beta(2, 5)` and a mean watch
    time `2 (1 - p) + p L` minutes, where `L ~ Uniform(20, 60)` is how long its stayers
    watch: good channels are often, but not always, good on both measures. Both are drawn
    from `self.np_random` in the same order whatever `reward_type` is; the active one is the
    channels' expected reward. `channel_means` replaces the draw by fixed values. Every
    channel starts live.

    ## Episode End
    - Termination: never (`terminated` is always False); a bandit has no terminal state.
    - Truncation: `gym.make` adds a `TimeLimit` that sets `truncated` after 1000 steps (1000
      viewers). A reset draws new channels, so to learn one problem for longer, make the
      environment with `max_episode_steps=...` or step the unwrapped environment.

    ## Information
    `reset` and `step` return `info` with the oracle quantities for the NEXT viewer (the one
    the returned observation is about), plus, from `step`, the cost of the action just taken:
    - `"optimal_action"` (int): the best channel to feature to the next viewer (the lowest
      index if several tie);
    - `"expected_rewards"` (float array, `(n_channels,)`, a copy): the expected reward of
      featuring each channel to the next viewer (0 for an offline channel);
    - `"expected_reward"` (float, `step` only): the expected reward of the action just taken
      (what the featured channel was worth to that viewer);
    - `"regret"` (float, `step` only): expected regret of the action just taken: the best
      expected reward available to that viewer minus `expected_reward`; it is exactly 0
      when the action was a best one;
    - `"featured_live"` (bool, `step` only): whether the featured channel was live.
    An oracle policy plays `info["optimal_action"]`. Without drift and offline channels the
    first two never change during an episode. The channels' means (when live) are also the
    attribute `channel_means` (a copy).

    Implementation note: nothing the platform does changes a viewer's luck, the drift or the
    outages, so their random numbers are drawn 256 steps at a time (numpy is much faster on
    one large draw than on many small ones); a seed still fixes the whole trajectory.

    ## Arguments
    ```python
    import gymnasium as gym
    import mediarl_lessons
    env = gym.make("mediarl/LiveChannels-v0", n_channels=100, drift=0.002, render_mode="rgb_array")
    ```
    - `n_channels`: number of channels K, an integer >= 2 (default 10, or the length of
      `channel_means`).
    - `reward_type`: `"stay"` (default) or `"minutes"`, see Rewards.
    - `channel_means`: optional fixed expected rewards, one per channel: stay probabilities in
      [0, 1] for `"stay"`, mean minutes >= 0 for `"minutes"`. Used at every reset.
    - `minutes_std`: standard deviation of the watch minutes, > 0 (default 5.0; only used
      with `"minutes"`).
    - `drift`: standard deviation of each channel's random-walk step per viewer, in reward
      units, >= 0 (default 0: stationary). Means are reflected back into [0, 1] (stay
      probabilities, where `drift <= 0.1`) or above 0 (minutes). Try 0.002 for
      probabilities, 0.05 for minutes.
    - `offline_probability`: per-viewer probability that a live channel goes offline, in
      [0, 1) (default 0: channels never go offline).
    - `online_probability`: per-viewer probability that an offline channel comes back, in
      (0, 1] (default 0.2: an outage lasts 5 viewers on average). If every channel would be
      offline at once, a random one stays live, so there is always a channel worth featuring.
    - `render_mode`: `None`, `"ansi"` or `"rgb_array"` (see Rendering).

    ## Rendering
    - `"ansi"`: a few lines of text: the viewer count, the last featured channel with its
      reward and regret, and the five best channels for the next viewer.
    - `"rgb_array"`: a `(400, W, 3)` `uint8` picture (W = 640, wider only beyond about 180
      channels), one column per channel. A green lamp marks a channel that is on air (dark:
      offline); the bar is the channel's true expected reward (stay probability or mean
      minutes, the oracle, hidden from the agent), gold for the best channel for the next
      viewer, grey and hatched while offline; the blue frame is the channel featured to the
      last viewer; the blue bars below count how often each channel has been featured this
      episode (exploration at a glance). Underneath: what the last viewer did (green: stayed,
      red: left early or found the channel offline), the regret of that choice and the
      reward per viewer so far. Drawn with numpy alone, about half a millisecond a frame,
      so `gymnasium.wrappers.RecordVideo` can film an episode; rendering reads the state and
      draws no random numbers.

    ## Version History
    - v0: initial version for the course.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        *,
        n_channels: int | None = None,
        reward_type: Literal["stay", "minutes"] = "stay",
        channel_means: np.ndarray | list[float] | None = None,
        minutes_std: float = 5.0,
        drift: float = 0.0,
        offline_probability: float = 0.0,
        online_probability: float = 0.2,
        render_mode: str | None = None,
    ) -> None:
        if reward_type not in REWARD_TYPES:
            raise ValueError(f"reward_type must be one of {REWARD_TYPES}, got {reward_type!r}")
        self.reward_type = reward_type
        self._bernoulli = reward_type == "stay"

        if channel_means is None:
            self.n_channels = 10 if n_channels is None else check_int("n_channels", n_channels, low=2)
            self._fixed_means = None
        else:
            high = 1.0 if self._bernoulli else None
            fixed = check_array("channel_means", channel_means, shape=(None,), low=0.0, high=high)
            if fixed.size < 2:
                raise ValueError(f"channel_means must hold at least 2 channels, got {fixed.size}")
            if n_channels is not None and check_int("n_channels", n_channels, low=2) != fixed.size:
                raise ValueError(f"n_channels ({n_channels}) must equal the length of channel_means "
                                 f"({fixed.size}); leave n_channels out to use the length")
            self.n_channels = fixed.size
            self._fixed_means = fixed

        self.minutes_std = check_float("minutes_std", minutes_std, 0.0, low_open=True)
        max_drift = MAX_PROBABILITY_DRIFT if self._bernoulli else None
        self.drift = check_float("drift", drift, 0.0, max_drift)
        self.offline_probability = check_float("offline_probability", offline_probability, 0.0, 1.0,
                                               high_open=True)
        self.online_probability = check_float("online_probability", online_probability, 0.0, 1.0,
                                              low_open=True)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, "
                             f"got {render_mode!r}")
        self.render_mode = render_mode

        self.action_space = spaces.Discrete(self.n_channels)
        self.observation_space = spaces.MultiBinary(self.n_channels)

        self._live_thresholds = np.array([1.0 - self.online_probability, self.offline_probability])
        self._means: np.ndarray | None = None  # None until the first reset
        self._live = np.ones(self.n_channels, dtype=bool)
        self._obs = np.ones(self.n_channels, dtype=np.int8)
        self._expected = self._obs  # expected reward of each action; replaced at reset
        self._optimal_action = 0
        self._best_mean = 0.0
        self._steps = 0
        self._last: tuple[int, float, float, bool] | None = None  # (action, reward, regret, live)
        # For render: how often each channel was featured, and the reward collected, this episode.
        self._featured = [0] * self.n_channels
        self._total_reward = 0.0
        self._frame_background: np.ndarray | None = None  # the static part of the picture

    # ---- oracle quantities -----------------------------------------------------------------
    @property
    def channel_means(self) -> np.ndarray:
        """Each channel's expected reward when live (a copy)."""
        if self._means is None:
            raise RuntimeError("call reset() before reading channel_means")
        return self._means.copy()

    def _update_oracle(self) -> None:
        """Recompute the expected reward of every action and the best one, for the next viewer."""
        if self.offline_probability > 0.0:
            self._expected = self._means * self._live  # an offline channel is worth 0
        else:
            self._expected = self._means
        self._optimal_action = int(self._expected.argmax())
        self._best_mean = float(self._expected[self._optimal_action])

    def _info(self) -> dict[str, Any]:
        # Copies: what a learner keeps or changes must not be the environment's own state.
        return {"optimal_action": self._optimal_action, "expected_rewards": self._expected.copy()}

    # ---- Gymnasium API ---------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        rng = self.np_random
        stay = rng.beta(*STAY_PROBABILITY_BETA, size=self.n_channels)
        minutes_if_staying = rng.uniform(*MINUTES_IF_STAYING, size=self.n_channels)
        if self._fixed_means is not None:
            self._means = self._fixed_means.copy()
        elif self._bernoulli:
            self._means = stay
        else:
            self._means = MINUTES_IF_LEAVING * (1.0 - stay) + stay * minutes_if_staying
        self._walk_position = self._means.copy()
        self._live = np.ones(self.n_channels, dtype=bool)
        self._obs = np.ones(self.n_channels, dtype=np.int8)
        self._update_oracle()
        self._draw_block()
        self._steps = 0
        self._last = None
        self._featured = [0] * self.n_channels
        self._total_reward = 0.0
        return self._obs.copy(), self._info()

    def _draw_block(self) -> None:
        """Draw the randomness of the next `BLOCK` steps at once.

        Nothing the platform does changes a viewer's luck, how popularity drifts or which
        streams end, so these draws can be made ahead, and numpy makes one draw of 256 rows
        far faster than 256 draws of one row. Same seed, same draws, same trajectory.
        """
        rng = self.np_random
        # The viewer's luck: a uniform to compare with the stay probability, or a standard normal.
        draws = rng.random(BLOCK) if self._bernoulli else rng.standard_normal(BLOCK)
        self._luck = draws.tolist()  # Python floats: indexing a list is faster than an array
        if self.drift > 0.0:
            # The random walk, unreflected, then folded back into the allowed range: folding
            # a symmetric random walk is the same process as reflecting it step by step.
            steps = rng.normal(0.0, self.drift, size=(BLOCK, self.n_channels))
            positions = self._walk_position + np.cumsum(steps, axis=0)
            self._walk_position = positions[-1].copy()
            self._means_ahead = _fold_into_unit_interval(positions) if self._bernoulli else np.abs(positions)
        if self.offline_probability > 0.0:
            self._switch_draws = rng.random((BLOCK, self.n_channels))
        self._block_step = 0

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._means is None:
            raise RuntimeError("call reset() before step()")
        action = check_action(action, self.n_channels)
        i = self._block_step

        # 1. The viewer meets the featured channel.
        live = bool(self._live[action])
        if not live:
            reward = 0.0
        elif self._bernoulli:
            reward = 1.0 if self._luck[i] < self._means[action] else 0.0
        else:
            reward = float(self._means[action]) + self.minutes_std * self._luck[i]
        expected_reward = float(self._expected[action])
        regret = self._best_mean - expected_reward

        # 2. The world moves on for the next viewer.
        if self.drift > 0.0:
            self._means = self._means_ahead[i]
        if self.offline_probability > 0.0:
            self._switch_channels(self._switch_draws[i])
        if self.drift > 0.0 or self.offline_probability > 0.0:
            self._update_oracle()
        self._block_step = i + 1
        if self._block_step == BLOCK:
            self._draw_block()

        self._steps += 1
        self._last = (action, reward, regret, live)
        self._featured[action] += 1
        self._total_reward += reward
        info = self._info()
        info["expected_reward"] = expected_reward
        info["regret"] = regret
        info["featured_live"] = live
        return self._obs.copy(), reward, False, False, info

    def _switch_channels(self, draws: np.ndarray) -> None:
        """Live channels go offline with `offline_probability`, offline ones return with `online_probability`."""
        # A channel is live next if its uniform draw is at least its threshold: `offline_probability`
        # for a live channel, `1 - online_probability` for an offline one (indexed by the 0/1 mask).
        live = draws >= self._live_thresholds[self._obs]
        if not np.count_nonzero(live):  # keep one channel live: an empty home screen is no decision
            live[draws.argmax()] = True
        self._live = live
        self._obs = live.astype(np.int8)

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self._render_frame()
        if self.render_mode != "ansi":
            return None
        if self._means is None:
            return "LiveChannels: call reset() first"
        unit = "P(stay 5 min)" if self._bernoulli else "mean minutes"
        lines = [f"LiveChannels, {self.n_channels} channels, {int(self._live.sum())} live, "
                 f"viewer {self._steps}"]
        if self._last is not None:
            action, reward, regret, live = self._last
            status = "" if live else " (offline!)"
            lines.append(f"featured channel {action}{status} -> reward {reward:.3g}, regret {regret:.3g}")
        top = np.argsort(-self._expected, kind="stable")[:5]
        ranking = ", ".join(f"{channel}: {self._expected[channel]:.3g}" for channel in top)
        lines.append(f"best channels for the next viewer ({unit}): {ranking}")
        return "\n".join(lines)


    # ---- the rgb_array picture -------------------------------------------------------------
    _FRAME_HEIGHT = 400
    _BARS_TOP, _BARS_HEIGHT = 78, 140  # the expected-reward bars
    _PLOT_LEFT = 62  # left edge of the channel columns

    def _frame_width(self) -> int:
        return rendering.frame_size(self.n_channels, 640, 3, self._PLOT_LEFT + 24)

    def _bar_scale(self) -> float:
        """The expected reward at the top of the bar chart: 1 for stay, at least 60 minutes."""
        if self._bernoulli:
            return 1.0
        top = MINUTES_IF_STAYING[1] if self._fixed_means is None else max(float(self._fixed_means.max()), 1.0)
        return float(np.ceil(top / 10.0) * 10.0)

    def _columns(self) -> tuple[float, float]:
        """Left edge and width of the first channel's column."""
        width = self._frame_width() - self._PLOT_LEFT - 24
        return float(self._PLOT_LEFT), width / self.n_channels

    def _draw_background(self) -> np.ndarray:
        """The parts of the picture that never change: titles, axes, labels, legend."""
        height, width = self._FRAME_HEIGHT, self._frame_width()
        canvas = Canvas.blank(height, width)
        canvas.text(12, 10, "LIVE CHANNELS", rendering.TEXT, scale=2)
        what = "P(STAY 5 MIN)" if self._bernoulli else "MEAN MINUTES WATCHED"
        canvas.text(12, 32, f"BARS: EACH CHANNEL'S TRUE {what}, HIDDEN FROM THE AGENT", rendering.MUTED)
        canvas.panel(12, 46, width - 24, 236)
        canvas.panel(12, 290, width - 24, 100)
        top, bars = self._BARS_TOP, self._BARS_HEIGHT
        canvas.text(18, 56, "ON AIR", rendering.MUTED)
        scale = self._bar_scale()
        for fraction in (0.0, 0.5, 1.0):
            y = top + bars - round(bars * fraction)
            canvas.rect(self._PLOT_LEFT - 4, y, width - 24 - self._PLOT_LEFT + 8, 1, rendering.TRACK)
            canvas.text(self._PLOT_LEFT - 8, y - 3, rendering.format_number(fraction * scale, 2),
                        rendering.MUTED, align="right")
        canvas.text(18, 248, "TIMES", rendering.MUTED)
        canvas.text(18, 258, "SHOWN", rendering.MUTED)
        left, column = self._columns()
        every = max(1, int(np.ceil(14 / column)))  # a label needs about 14 pixels
        every = next(step for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 10**9) if step >= every)
        for channel in range(0, self.n_channels, every):
            canvas.text(left + (channel + 0.5) * column, top + bars + 5, str(channel), rendering.TEXT,
                        align="center")
        canvas.legend(22, 374, ((rendering.AGENT, "FEATURED LAST"), (rendering.BEST, "BEST FOR THE NEXT VIEWER"),
                                ((190, 190, 190), "OFFLINE"), ((120, 140, 175), "OTHER CHANNELS")))
        canvas.pixels.flags.writeable = False
        return canvas.pixels

    def _render_frame(self) -> np.ndarray:
        """The line-up as a picture (see the docstring's Rendering section)."""
        if self._means is None:
            return rendering.blank_frame(self._FRAME_HEIGHT, self._frame_width(), "LIVE CHANNELS")
        if self._frame_background is None:
            self._frame_background = self._draw_background()
        canvas = Canvas(self._frame_background.copy())
        width = canvas.width
        canvas.text(width - 12, 10, f"VIEWER {self._steps + 1}", rendering.TEXT, scale=2, align="right")

        left, column = self._columns()
        top, bars = self._BARS_TOP, self._BARS_HEIGHT
        bar_width = max(1.0, column * 0.6)
        inset = (column - bar_width) / 2
        scale = self._bar_scale()
        featured = self._last[0] if self._last is not None else None
        counts = self._featured
        most = max(max(counts), 1)
        wide = column >= 26
        best = self._optimal_action
        for channel, (mean, live) in enumerate(zip(self._means.tolist(), self._live.tolist())):
            x = left + channel * column
            if channel == featured:  # the featured channel's column, framed in the agent's blue
                canvas.rect(x, 52, column, 228, (226, 234, 252))
                canvas.outline(x, 52, max(column, 3), 228, rendering.AGENT, 2 if column >= 8 else 1)
            canvas.rect(x + inset, 56, bar_width, 8, rendering.GOOD if live else rendering.DARK)
            if not live:
                color = (190, 190, 190)
            elif channel == best:
                color = rendering.BEST
            else:
                color = (120, 140, 175)
            canvas.vbar(x + inset, top, bar_width, bars, mean / scale, color, track=None)
            if not live:
                canvas.hatch(x + inset, top, bar_width, bars, rendering.DARK, spacing=5)
            if wide:
                filled = round(bars * min(mean / scale, 1.0))
                canvas.text(x + column / 2, top + bars - filled - 9, rendering.format_number(mean, 2),
                            rendering.TEXT, align="center")
            canvas.vbar(x + inset, 248, bar_width, 22, counts[channel] / most, rendering.AGENT)
            if wide:
                canvas.text(x + column / 2, 238, str(counts[channel]), rendering.AGENT, align="center")

        # What happened to the last viewer, and the score so far.
        if self._last is None:
            canvas.text(22, 302, "NO VIEWER YET: PICK A CHANNEL", rendering.MUTED, scale=2)
        else:
            action, reward, regret, live = self._last
            if not live:
                outcome, color = f"CHANNEL {action} WAS OFFLINE: THE VIEWER LEFT", rendering.BAD
            elif self._bernoulli:
                stayed = reward >= 1.0
                outcome = f"CHANNEL {action}: THE VIEWER {'STAYED 5+ MIN' if stayed else 'LEFT EARLY'}"
                color = rendering.GOOD if stayed else rendering.BAD
            else:
                outcome = f"CHANNEL {action}: THE VIEWER WATCHED {reward:.1f} MIN"
                color = rendering.GOOD if reward >= 5.0 else rendering.BAD
            canvas.person(22, 300, 16, color)
            canvas.text(44, 302, outcome, color, scale=2)
            canvas.text(44, 324, f"REWARD {rendering.format_number(reward)}   REGRET {regret:.3f}", rendering.TEXT)
        unit = "P(STAY)" if self._bernoulli else "MEAN MINUTES"
        canvas.text(22, 340, f"BEST FOR THE NEXT VIEWER: CHANNEL {best} ({unit} {self._best_mean:.3g})",
                    rendering.TEXT)
        if self._steps:
            average = self._total_reward / self._steps
            canvas.text(22, 356, f"REWARD SO FAR: {rendering.format_number(self._total_reward, 4)} FROM "
                                 f"{self._steps} VIEWERS ({average:.3g} PER VIEWER)", rendering.TEXT)
        return canvas.pixels


class BanditTestbed:
    """Many independent K-armed bandit problems, stepped at once with numpy.

    Sutton & Barto's 10-armed testbed (Reinforcement Learning: An Introduction, 2nd ed.,
    section 2.3): each of `n_runs` problems has `n_arms` arms with true values
    `q*(a) ~ N(mean_loc, mean_scale^2)`, and pulling arm `a` pays `N(q*(a), reward_std^2)`.
    Row `i` of every array is run `i`; `step(actions)` takes one action per run and returns
    one reward per run, so a whole experiment (2000 runs x 1000 steps) is 1000 numpy calls.

    Options:
    - `reward_type="bernoulli"`: arm means are the live channels' stay probabilities
      (`Beta(2, 5)`, as in `LiveChannels-v0`) and rewards are 0/1: the live-channel scenario,
      vectorised. `mean_loc` and `mean_scale` apply to the Gaussian testbed only.
    - `drift > 0`: after every step each mean takes an independent random-walk step
      `N(0, drift^2)` (exercise 2.5 uses `mean_scale=0` (all arms start equal) and
      `drift=0.01`); Bernoulli means are reflected back into [0, 1].
    - `means`: fixed true values, `(n_arms,)` (the same problem in every run) or
      `(n_runs, n_arms)`, used at every reset instead of a draw.
    - `seed`: an int, a `numpy.random.Generator` (used, not copied) or `None`.

    The oracle, for the step about to be taken: `means` (read-only `(n_runs, n_arms)`),
    `best_means` and `optimal_actions` (`(n_runs,)`, lowest index on ties);
    `is_optimal(actions)` and `regret(actions)` score one action per run against them. With
    drift the means move at the end of every `step`, so score the actions BEFORE stepping
    (`mediarl_lessons.experiments.run_testbed` does).

    ```python
    testbed = BanditTestbed(n_runs=2000, n_arms=10, seed=0)
    actions = np.zeros(2000, dtype=np.int64)
    was_optimal = testbed.is_optimal(actions)
    rewards = testbed.step(actions)          # (2000,) floats
    ```
    """

    def __init__(
        self,
        n_runs: int = 2000,
        n_arms: int = 10,
        *,
        reward_type: Literal["gaussian", "bernoulli"] = "gaussian",
        mean_loc: float = 0.0,
        mean_scale: float = 1.0,
        reward_std: float = 1.0,
        drift: float = 0.0,
        means: np.ndarray | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.n_runs = check_int("n_runs", n_runs, low=1)
        self.n_arms = check_int("n_arms", n_arms, low=2)
        if reward_type not in ("gaussian", "bernoulli"):
            raise ValueError(f"reward_type must be 'gaussian' or 'bernoulli', got {reward_type!r}")
        self.reward_type = reward_type
        self._bernoulli = reward_type == "bernoulli"
        self.mean_loc = check_float("mean_loc", mean_loc)
        self.mean_scale = check_float("mean_scale", mean_scale, 0.0)
        if self._bernoulli and (self.mean_loc != 0.0 or self.mean_scale != 1.0):
            raise ValueError("mean_loc and mean_scale apply to reward_type='gaussian' only; Bernoulli "
                             "means are drawn from Beta(2, 5) (or pass means=...)")
        self.reward_std = check_float("reward_std", reward_std, 0.0)
        self.drift = check_float("drift", drift, 0.0, MAX_PROBABILITY_DRIFT if self._bernoulli else None)
        self._fixed_means = None
        if means is not None:
            high, low = (1.0, 0.0) if self._bernoulli else (None, None)
            fixed = check_array("means", means, low=low, high=high)
            if fixed.shape not in ((self.n_arms,), (self.n_runs, self.n_arms)):
                raise ValueError(f"means must have shape ({self.n_arms},) or ({self.n_runs}, {self.n_arms}), "
                                 f"got {fixed.shape}")
            self._fixed_means = np.broadcast_to(fixed, (self.n_runs, self.n_arms)).copy()
        self.rng = as_generator(seed)
        self._rows = np.arange(self.n_runs)
        self._row_offsets = self._rows * self.n_arms  # flat positions: faster than 2-D fancy indexing
        self.reset()

    def reset(self, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw new problems (a new seed or Generator first, if given); return the means."""
        if seed is not None:
            self.rng = as_generator(seed)
        shape = (self.n_runs, self.n_arms)
        if self._fixed_means is not None:
            self._means = self._fixed_means.copy()
        elif self._bernoulli:
            self._means = self.rng.beta(*STAY_PROBABILITY_BETA, size=shape)
        else:
            self._means = self.rng.normal(self.mean_loc, self.mean_scale, size=shape)
        self._update_oracle()
        return self.means

    def _update_oracle(self) -> None:
        self._optimal_actions = self._means.argmax(axis=1)
        self._best_means = self._means[self._rows, self._optimal_actions]

    @property
    def means(self) -> np.ndarray:
        """True arm values, `(n_runs, n_arms)`: a read-only view that follows the drift."""
        view = self._means.view()
        view.flags.writeable = False
        return view

    @property
    def optimal_actions(self) -> np.ndarray:
        """The best arm of every run, `(n_runs,)`, lowest index on ties."""
        return self._optimal_actions.copy()

    @property
    def best_means(self) -> np.ndarray:
        """The best arm's true value in every run, `(n_runs,)`."""
        return self._best_means.copy()

    def _chosen_means(self, actions: np.ndarray) -> np.ndarray:
        actions = np.asarray(actions)
        if actions.shape != (self.n_runs,) or actions.dtype.kind not in "iu":
            raise ValueError(f"actions must be an integer array of shape ({self.n_runs},) (one arm per "
                             f"run), got shape {actions.shape} and dtype {actions.dtype}")
        if self.n_runs and (actions.min() < 0 or actions.max() >= self.n_arms):
            raise ValueError(f"actions must be integers in [0, {self.n_arms - 1}], got values in "
                             f"[{actions.min()}, {actions.max()}]")
        return self._means.reshape(-1)[self._row_offsets + actions]

    def regret(self, actions: np.ndarray) -> np.ndarray:
        """Expected regret of each run's action: best true value minus the chosen arm's."""
        return self._best_means - self._chosen_means(actions)

    def is_optimal(self, actions: np.ndarray) -> np.ndarray:
        """Whether each run's action is a best arm (ties count as optimal)."""
        return self._chosen_means(actions) == self._best_means

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Pull one arm in every run; return the `(n_runs,)` rewards, then let the means drift."""
        chosen = self._chosen_means(actions)
        if self._bernoulli:
            rewards = (self.rng.random(self.n_runs) < chosen).astype(np.float64)
        else:
            rewards = chosen + self.reward_std * self.rng.standard_normal(self.n_runs)
        if self.drift > 0.0:
            self._means += self.rng.normal(0.0, self.drift, size=self._means.shape)
            if self._bernoulli:  # reflect back into [0, 1]
                self._means[...] = _fold_into_unit_interval(self._means)
            self._update_oracle()
        return rewards

    def __repr__(self) -> str:
        return (f"BanditTestbed(n_runs={self.n_runs}, n_arms={self.n_arms}, "
                f"reward_type={self.reward_type!r}, drift={self.drift})")
