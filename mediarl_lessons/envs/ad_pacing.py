"""AdPacing-v0: pace a day's ad budget through second-price auctions (lessons 04, 06)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mediarl_lessons._validation import check_action, check_array, check_int
from mediarl_lessons.envs import rendering
from mediarl_lessons.envs.rendering import Canvas
from mediarl_lessons.sampling import cumulative_probabilities, inverse_cdf


class AdPacingState(NamedTuple):
    """What a state index of :class:`AdPacingEnv` means."""

    time_left: int  #: slots left in the day, this one included (0: the day is over)
    budget_left: int  #: budget units left (0: the budget is spent)
    ctr_level: int  #: predicted-CTR level of the current slot's impressions (0 = lowest)


class AdPacingEnv(gym.Env):
    """
    A day of ad auctions: bid for each slot's impressions without running out of budget.

    ## Description
    An advertiser has a budget for the day, in whole budget units, and the day is cut into
    `n_slots` slots. In each slot an ad exchange auctions a package of `impressions_per_slot`
    impressions from one audience segment, and a click-through-rate (CTR) model predicts the
    segment's CTR level (low / medium / high by default). The agent sees the time left, the
    budget left and the CTR level, and picks a bid level. The highest competing bid (the
    market price) is random, and higher for better segments. It is a second-price auction:
    the agent wins when its bid is at least the market price and then pays the market price,
    not its bid. A won package brings its expected number of clicks, `impressions_per_slot *
    ctr_levels[level]`. This is the model of Cai et al. (2017), "Real-Time Bidding by
    Reinforcement Learning in Display Advertising" (RLB), made small enough for tables.

    What it teaches: bidding is a sequential decision. "Always bid the maximum" (the myopic
    policy: it maximises the expected clicks of this slot) spends the budget on whatever comes
    first; any constant bid pays for cheap, poor impressions and misses good ones. The optimal
    policy, which dynamic programming computes from the exact model `P`, bids high on high-CTR
    slots, skips low-CTR ones while the budget is tight, and spends freely when the day is
    nearly over (pacing). It is a finite-horizon MDP: values for `gamma = 1` are the expected
    clicks of a day.

    The exact model is `P[s][a] = [(probability, next_state, reward, terminated), ...]` in
    Gymnasium's toy-text format, with `initial_state_distribution`. It is built on first use
    (a fraction of a second for 5,000 states), so a large day costs nothing until a planner
    asks for it. `mediarl_lessons.mdp.dense_model(env)` turns a small model into arrays,
    `mediarl_lessons.mdp.sparse_model(env)` a large one.

    ## Action Space
    `Discrete(len(bid_levels))`, a bid in budget units per action; by default 0 / 1 / 2 / 3 / 4
    with the names `skip`, `low`, `mid`, `high`, `max` (attribute `action_names`). A bid can
    never exceed the budget left: the bid actually placed is `min(bid, budget_left)`.

    ## Observation Space
    `Discrete((n_slots + 1) * (budget + 1) * n_ctr_levels)` (13 * 11 * 3 = 429 by default).
    A state is `(time_left, budget_left, ctr_level)`, encoded as
    `(time_left * (budget + 1) + budget_left) * n_ctr_levels + ctr_level`; `encode(...)` and
    `decode(state)` (which returns an `AdPacingState` named tuple) translate. States with
    `time_left == 0` or `budget_left == 0` end the day; they are always reported with
    `ctr_level = 0` (the other such indices are never visited).

    ## Rewards
    The expected clicks of the package won in this slot, `impressions_per_slot *
    ctr_levels[ctr_level]` (2, 6 or 15 by default), or 0 when the auction is lost. Expected
    clicks rather than sampled ones, as in RLB's value function: the randomness that matters
    for bidding (which segments come, what they cost) stays; the click noise would only slow
    learning. The return of an episode is the expected number of clicks in the day.

    ## Starting State
    The full day and the full budget, `(n_slots, budget, level)`, with the first slot's CTR
    level drawn from `ctr_level_probability` (see `initial_state_distribution`).
    `reset(options={"state": index})` starts from any chosen state instead (a shorter day,
    a smaller budget, ...).

    ## Episode End
    - Termination (`terminated=True`): after the last slot (`time_left` reaches 0), or as
      soon as the budget is spent (`budget_left` reaches 0: every market price is at least
      one unit, so nothing more can be won). Terminal states are absorbing in the exact
      model, `P[s][a] = [(1.0, s, 0.0, True)]`, and stepping after the end returns just that.
    - Truncation (`truncated=True`): never; the day itself is the horizon, so no `TimeLimit`
      is needed. The end of the day is a true termination: nothing comes after it, so a
      learner must not bootstrap from the last observation.

    ## Information
    `reset` and `step` return `info` with the oracle quantities of the (new) state:
    - `"time_left"`, `"budget_left"`, `"ctr_level"` (ints): the decoded state;
    - `"ctr"` (float): the predicted CTR of the current slot's impressions;
    - `step` only: `"bid"` (the bid placed, after capping by the budget), `"market_price"`
      (the highest competing bid in this slot's auction), `"won"` (bool) and `"cost"` (budget
      units paid: the market price when won, else 0).

    ## Arguments
    ```python
    import gymnasium as gym
    import mediarl_lessons
    env = gym.make("mediarl/AdPacing-v0", n_slots=48, budget=30)  # a larger day: 4557 states
    env = gym.make("mediarl/AdPacing-v0", render_mode="rgb_array")  # env.render() is a picture
    ```
    - `n_slots`: slots in a day, an integer >= 1 (default 12: two-hour slots).
    - `budget`: the day's budget in whole units, an integer >= 1 (default 10).
    - `bid_levels`: the bid of each action in budget units, distinct non-negative integers in
      increasing order (default `(0, 1, 2, 3, 4)`). Their names are `action_names`.
    - `action_names`: one short lowercase name per bid level (default `skip`, `low`, `mid`,
      `high`, `max` for the default levels, `bid<units>` such as `bid0`, `bid2` otherwise).
    - `ctr_levels`: the predicted CTR of each level, in [0, 1] (default 0.2%, 0.6%, 1.5%).
    - `ctr_level_probability`: how often each level comes up, non-negative, summing to 1
      (default 0.5, 0.35, 0.15).
    - `market_price_probability`: an `(n_ctr_levels, max_price)` array; row `l` is the
      distribution of the market price `1 .. max_price` units for a slot of level `l` (each
      row non-negative, summing to 1). Default: low-CTR slots cost 1 / 2 / 3 / 4 units with
      probabilities 0.45 / 0.35 / 0.15 / 0.05, medium 0.25 / 0.35 / 0.25 / 0.15, high
      0.10 / 0.25 / 0.35 / 0.30: good audiences are contested.
    - `impressions_per_slot`: impressions in a slot's package, an integer >= 1 (default 1000).
    - `render_mode`: `None`, `"ansi"` or `"rgb_array"` (see Rendering).

    ## Rendering
    - `"ansi"`: one line: slots and budget left, the CTR level, and the last bid against
      the market price with its outcome.
    - `"rgb_array"`: a `(400, W, 3)` `uint8` picture (W = 640, wider only beyond about 90
      slots). Top: the budget left, one green block per unit, and the clicks so far. Middle:
      the day, one column per slot: its CTR level (pale to deep purple: low to high; grey
      with "?" for slots to come), the bid placed (blue bar) against the market price (dark
      bar), the auction's outcome (green with the clicks won, red: lost, grey: skipped) and
      the budget left after the slot, so pacing shows as a staircase; the current slot is
      framed in blue. Bottom: the last auction, and what a win is worth in the current slot.
      Drawn with numpy alone, about half a millisecond a frame; rendering reads the state
      and draws no random numbers.

    ## References
    H. Cai, K. Ren, W. Zhang, K. Malialis, J. Wang, Y. Yu, D. Guo. "Real-Time Bidding by
    Reinforcement Learning in Display Advertising". WSDM 2017.

    ## Version History
    - v0: initial version for the course.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    action_names: tuple[str, ...] = ("skip", "low", "mid", "high", "max")

    def __init__(
        self,
        *,
        n_slots: int = 12,
        budget: int = 10,
        bid_levels: Sequence[int] = (0, 1, 2, 3, 4),
        action_names: Sequence[str] | None = None,
        ctr_levels: Sequence[float] = (0.002, 0.006, 0.015),
        ctr_level_probability: Sequence[float] = (0.5, 0.35, 0.15),
        market_price_probability: Sequence[Sequence[float]] = (
            (0.45, 0.35, 0.15, 0.05),  # low-CTR segments: mostly cheap
            (0.25, 0.35, 0.25, 0.15),
            (0.10, 0.25, 0.35, 0.30),  # high-CTR segments: contested
        ),
        impressions_per_slot: int = 1000,
        render_mode: str | None = None,
    ) -> None:
        self.n_slots = check_int("n_slots", n_slots, low=1)
        self.budget = check_int("budget", budget, low=1)
        self.impressions_per_slot = check_int("impressions_per_slot", impressions_per_slot, low=1)
        self.bid_levels = self._check_bid_levels(bid_levels)
        self.action_names = self._check_action_names(action_names, self.bid_levels)
        self.ctr_levels = check_array("ctr_levels", ctr_levels, shape=(None,), low=0.0, high=1.0)
        n_ctr = self.ctr_levels.size
        if n_ctr < 1:
            raise ValueError("ctr_levels must list at least one CTR level")
        self.ctr_level_probability = _check_distribution("ctr_level_probability", ctr_level_probability,
                                                         (n_ctr,))
        self.market_price_probability = _check_distribution(
            "market_price_probability", market_price_probability, (n_ctr, None))
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, "
                             f"got {render_mode!r}")
        self.render_mode = render_mode
        self.n_ctr_levels = n_ctr
        self.max_price = self.market_price_probability.shape[1]
        self.clicks_per_level = self.impressions_per_slot * self.ctr_levels  # reward of a won slot

        n_states = (self.n_slots + 1) * (self.budget + 1) * n_ctr
        self.observation_space = spaces.Discrete(n_states)
        self.action_space = spaces.Discrete(len(self.bid_levels))

        self.initial_state_distribution = np.zeros(n_states)
        for level in range(n_ctr):
            self.initial_state_distribution[self.encode(self.n_slots, self.budget, level)] = \
                self.ctr_level_probability[level]

        # Plain Python lists, and cumulative probabilities for `inverse_cdf`: indexing lists is faster than numpy.
        self._bids = [int(b) for b in self.bid_levels]
        self._clicks = self.clicks_per_level.tolist()
        self._ctr = self.ctr_levels.tolist()
        self._ctr_cdf = cumulative_probabilities(self.ctr_level_probability)
        self._price_cdf = [cumulative_probabilities(row) for row in self.market_price_probability]

        self._time_left: int | None = None  # None before the first reset
        self._budget_left = 0
        self._ctr_level = 0
        self._last: dict[str, Any] | None = None
        # The day so far, for render: one (ctr_level, bid, market_price, won, reward, budget_left
        # after) per slot played, the first slot of the episode and the clicks so far.
        self._history: list[tuple[int, int, int, bool, float, int] | None] = []
        self._first_slot = 0
        self._clicks_so_far = 0.0
        self._frame_background: np.ndarray | None = None  # the static part of the picture

    # ---- reading states --------------------------------------------------------------------
    def encode(self, time_left: int, budget_left: int, ctr_level: int) -> int:
        """The state index of ``(time_left, budget_left, ctr_level)``."""
        time_left = check_int("time_left", time_left, 0, self.n_slots)
        budget_left = check_int("budget_left", budget_left, 0, self.budget)
        ctr_level = check_int("ctr_level", ctr_level, 0, self.n_ctr_levels - 1)
        return (time_left * (self.budget + 1) + budget_left) * self.n_ctr_levels + ctr_level

    def decode(self, state: int) -> AdPacingState:
        """``AdPacingState(time_left, budget_left, ctr_level)`` of a state index."""
        state = check_int("state", state, 0, self.observation_space.n - 1)
        rest, ctr_level = divmod(state, self.n_ctr_levels)
        time_left, budget_left = divmod(rest, self.budget + 1)
        return AdPacingState(time_left, budget_left, ctr_level)

    # ---- the exact model -------------------------------------------------------------------
    @cached_property
    def P(self) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:  # noqa: N802 (toy-text name)
        """The exact model ``P[s][a] = [(probability, next_state, reward, terminated), ...]``.

        Built on first use, following a step: draw the market price, win if the bid reaches it
        (paying the price), move to the next slot, draw its CTR level.
        """
        n_levels, stride = self.n_ctr_levels, self.budget + 1

        def index(time_left: int, budget_left: int, level: int) -> int:  # `encode` without its checks
            return (time_left * stride + budget_left) * n_levels + level

        actions = range(self.action_space.n)
        prices = [[(price, float(p)) for price, p in enumerate(row, start=1) if p > 0]
                  for row in self.market_price_probability]
        next_levels = [(level, float(p)) for level, p in enumerate(self.ctr_level_probability) if p > 0]
        model: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {}
        for time_left in range(self.n_slots + 1):
            for budget_left in range(self.budget + 1):
                for level in range(n_levels):
                    state = index(time_left, budget_left, level)
                    if time_left == 0 or budget_left == 0:  # the day is over: absorbing
                        model[state] = {a: [(1.0, state, 0.0, True)] for a in actions}
                        continue
                    clicks = float(self.clicks_per_level[level])
                    model[state] = {}
                    for action in actions:
                        bid = min(self._bids[action], budget_left)
                        # the auction: (budget after it, reward) -> probability
                        auction: dict[tuple[int, float], float] = {}
                        for price, p in prices[level]:
                            key = (budget_left - price, clicks) if bid >= price else (budget_left, 0.0)
                            auction[key] = auction.get(key, 0.0) + p
                        # then the next slot, and its CTR level (unless the day ends)
                        outcomes = []
                        for (new_budget, reward), p in auction.items():
                            if time_left == 1 or new_budget == 0:
                                outcomes.append((p, index(time_left - 1, new_budget, 0), reward, True))
                            else:
                                outcomes.extend(
                                    (p * q, index(time_left - 1, new_budget, next_level), reward, False)
                                    for next_level, q in next_levels)
                        model[state][action] = outcomes
        return model

    # ---- the Gymnasium API -----------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        if options and "state" in options:  # start from a chosen state (for experiments and tests)
            state = check_int("options['state']", options["state"], 0, self.observation_space.n - 1)
            self._time_left, self._budget_left, self._ctr_level = self.decode(state)
        else:
            self._time_left = self.n_slots
            self._budget_left = self.budget
            self._ctr_level = inverse_cdf(self._ctr_cdf, self.np_random.random())
        self._last = None
        self._history = [None] * self.n_slots
        self._first_slot = self.n_slots - self._time_left
        self._clicks_so_far = 0.0
        return self._observation(), self._state_info()

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        if self._time_left is None:
            raise RuntimeError("call reset() before step()")
        action = check_action(action, len(self._bids))
        if self._time_left == 0 or self._budget_left == 0:  # absorbing: the day is over
            info = {**self._state_info(), "bid": 0, "market_price": 0, "won": False, "cost": 0}
            return self._observation(), 0.0, True, False, info
        rng = self.np_random
        level = self._ctr_level
        bid = min(self._bids[action], self._budget_left)
        market_price = inverse_cdf(self._price_cdf[level], rng.random()) + 1
        won = bid >= market_price
        reward = self._clicks[level] if won else 0.0
        cost = market_price if won else 0
        self._budget_left -= cost
        self._history[self.n_slots - self._time_left] = (level, bid, market_price, won, reward, self._budget_left)
        self._clicks_so_far += reward
        self._time_left -= 1
        terminated = self._time_left == 0 or self._budget_left == 0
        self._ctr_level = 0 if terminated else inverse_cdf(self._ctr_cdf, rng.random())
        self._last = {"action": action, "bid": bid, "market_price": market_price, "won": won,
                      "reward": reward}
        info = {**self._state_info(), "bid": bid, "market_price": market_price, "won": won, "cost": cost}
        return self._observation(), reward, terminated, False, info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self._render_frame()
        if self.render_mode != "ansi":
            return None
        if self._time_left is None:
            return "(call reset() first)\n"
        text = (f"slots left {self._time_left:>3}/{self.n_slots}"
                f" | budget left {self._budget_left:>3}/{self.budget}"
                f" | CTR level {self._ctr_level} ({100 * self._ctr[self._ctr_level]:.2f}%)")
        if self._last is not None:
            last = self._last
            outcome = f"won, +{last['reward']:g} clicks" if last["won"] else "lost"
            text += (f" | last: {self.action_names[last['action']]} bid {last['bid']}"
                     f" vs price {last['market_price']}: {outcome}")
        return text + "\n"

    # ---- the rgb_array picture -------------------------------------------------------------
    _FRAME_HEIGHT = 400
    _PLOT_LEFT = 84  # left edge of the slot columns
    _BARS_TOP, _BARS_HEIGHT = 154, 84  # the bid and market-price bars

    def _frame_width(self) -> int:
        return rendering.frame_size(self.n_slots, 640, 6, self._PLOT_LEFT + 22)

    def _columns(self) -> tuple[float, float]:
        """Left edge and width of the first slot's column."""
        return float(self._PLOT_LEFT), (self._frame_width() - self._PLOT_LEFT - 22) / self.n_slots

    def _level_name(self, level: int) -> str:
        if self.n_ctr_levels == 3:
            return ("LOW", "MID", "HIGH")[level]
        return f"L{level}"

    def _level_color(self, level: int) -> rendering.Color:
        """Pale to deep purple: the better the audience, the deeper."""
        fraction = level / max(self.n_ctr_levels - 1, 1)
        return rendering.mix((218, 208, 238), (95, 45, 165), fraction)

    def _level_ink(self, level: int) -> rendering.Color:
        """Text colour on a CTR level's tile: dark on the pale ones, white on the deep ones."""
        return rendering.TEXT if level / max(self.n_ctr_levels - 1, 1) < 0.5 else rendering.PANEL

    def _price_scale(self) -> int:
        return max(self.max_price, self._bids[-1], 1)

    def _draw_background(self) -> np.ndarray:
        """The parts of the picture that never change: titles, row labels, axes, legend."""
        height, width = self._FRAME_HEIGHT, self._frame_width()
        canvas = Canvas.blank(height, width)
        canvas.text(12, 10, "AD PACING", rendering.TEXT, scale=2)
        canvas.text(12, 32, "BID IN A SECOND-PRICE AUCTION FOR EACH SLOT OF THE DAY; DO NOT RUN OUT OF BUDGET",
                    rendering.MUTED)
        canvas.panel(12, 46, width - 24, 56)
        canvas.panel(12, 108, width - 24, 194)
        canvas.panel(12, 308, width - 24, 82)
        canvas.text(20, 54, "BUDGET LEFT", rendering.MUTED)
        canvas.text(width - 20, 54, "CLICKS SO FAR", rendering.MUTED, align="right")
        canvas.text(20, 116, "SLOT", rendering.MUTED)
        canvas.text(20, 132, "CTR", rendering.MUTED)
        canvas.text(20, 150, "BID VS", rendering.MUTED)
        canvas.text(20, 160, "PRICE", rendering.MUTED)
        canvas.text(20, 248, "AUCTION", rendering.MUTED)
        canvas.text(20, 270, "BUDGET", rendering.MUTED)
        canvas.text(20, 280, "AFTER", rendering.MUTED)
        top, bars, scale = self._BARS_TOP, self._BARS_HEIGHT, self._price_scale()
        tick = max(1, scale // 4)
        for value in range(0, scale + 1, tick):
            y = top + bars - round(bars * value / scale)
            canvas.rect(self._PLOT_LEFT - 4, y, width - 22 - self._PLOT_LEFT + 6, 1, rendering.TRACK)
            canvas.text(self._PLOT_LEFT - 8, y - 3, str(value), rendering.MUTED, align="right")
        left, column = self._columns()
        every = max(1, int(np.ceil(14 / column)))
        every = next(step for step in (1, 2, 3, 4, 6, 12, 24, 48, 96, 10**9) if step >= every)
        for slot in range(self.n_slots):
            if slot % every == 0 or slot == self.n_slots - 1 and column >= 14:
                canvas.text(left + (slot + 0.5) * column, 116, str(slot + 1), rendering.TEXT, align="center")
        x = canvas.legend(22, 374, ((rendering.AGENT, "YOUR BID"), (rendering.DARK, "MARKET PRICE"),
                                    (rendering.GOOD, "WON"), ((240, 170, 170), "LOST"), (rendering.TRACK, "SKIPPED")))
        x += 10
        canvas.text(x, 374, "CTR:", rendering.MUTED)
        x += 30
        names = [self._level_name(level) if self.n_ctr_levels == 3 else "" for level in range(self.n_ctr_levels)]
        canvas.legend(x, 374, [(self._level_color(level), f"{names[level]} {100 * self._ctr[level]:.2g}%".strip())
                               for level in range(self.n_ctr_levels)], gap=10)
        canvas.pixels.flags.writeable = False
        return canvas.pixels

    def _render_frame(self) -> np.ndarray:
        """The day's slots, the bids and the budget as a picture (see the docstring)."""
        if self._time_left is None:
            return rendering.blank_frame(self._FRAME_HEIGHT, self._frame_width(), "AD PACING")
        if self._frame_background is None:
            self._frame_background = self._draw_background()
        canvas = Canvas(self._frame_background.copy())
        width = canvas.width
        over = self._time_left == 0 or self._budget_left == 0
        now = None if over else self.n_slots - self._time_left  # index of the current slot
        title = "DAY OVER" if over else f"SLOT {now + 1} OF {self.n_slots}"
        canvas.text(width - 12, 10, title, rendering.TEXT, scale=2, align="right")

        # The budget: one block per unit while they fit, else a bar.
        canvas.text(20, 70, f"{self._budget_left} / {self.budget}", rendering.TEXT, scale=2)
        room = width - 24 - 110 - 150
        if self.budget * 4 <= room:
            block = min(room / self.budget, 22.0)
            for unit in range(self.budget):
                color = rendering.GOOD if unit < self._budget_left else rendering.TRACK
                canvas.rect(110 + unit * block, 66, block - 2, 22, color)
        else:
            canvas.hbar(110, 66, room, 22, self._budget_left / self.budget, rendering.GOOD)
        canvas.text(width - 20, 70, rendering.format_number(self._clicks_so_far, 4), rendering.TEXT, scale=2,
                    align="right")

        # The day: each slot's CTR level, bid against market price, outcome, budget after.
        left, column = self._columns()
        top, bars, scale = self._BARS_TOP, self._BARS_HEIGHT, self._price_scale()
        inset = column * 0.12 if column >= 8 else 0.0
        half = (column - 2 * inset) / 2
        wide = column >= 30
        for slot, record in enumerate(self._history):
            x = left + slot * column
            if record is None:
                if slot == now:
                    level = self._ctr_level
                    canvas.rect(x + 1, 110, max(column - 2, 1), 190, (226, 234, 252))
                    canvas.outline(x, 110, max(column, 3), 190, rendering.AGENT, 2 if column >= 8 else 1)
                    canvas.rect(x + inset, 128, column - 2 * inset, 14, self._level_color(level))
                    if wide:
                        canvas.text(x + column / 2, 132, self._level_name(level), self._level_ink(level),
                                    align="center")
                    if column >= 24:
                        canvas.text(x + column / 2, 186, "NOW", rendering.AGENT, align="center")
                elif slot >= self._first_slot and not over:  # still to come: its audience is unknown
                    canvas.rect(x + inset, 128, column - 2 * inset, 14, rendering.TRACK)
                    if wide:
                        canvas.text(x + column / 2, 132, "?", rendering.MUTED, align="center")
                continue
            level, bid, price, won, reward, budget_after = record
            canvas.rect(x + inset, 128, column - 2 * inset, 14, self._level_color(level))
            if wide:
                canvas.text(x + column / 2, 132, self._level_name(level), self._level_ink(level), align="center")
            canvas.vbar(x + inset, top, half, bars, bid / scale, rendering.AGENT, track=None)
            canvas.vbar(x + inset + half, top, half, bars, price / scale, rendering.DARK, track=None)
            if bid == 0:
                color, label = rendering.TRACK, "SKIP"
            elif won:
                color, label = rendering.GOOD, f"+{reward:g}"
            else:
                color, label = (240, 170, 170), "LOST"
            canvas.rect(x + inset, 244, column - 2 * inset, 16, color)
            if column >= 30:
                canvas.text(x + column / 2, 249, label, rendering.PANEL if won else rendering.TEXT, align="center")
            canvas.vbar(x + inset, 266, column - 2 * inset, 28, budget_after / self.budget, rendering.GOOD)

        # The last auction and the slot to bid on now.
        if self._last is None:
            canvas.text(22, 318, "NO AUCTION YET: PLACE A BID", rendering.MUTED, scale=2)
        else:
            last = self._last
            bid, price = last["bid"], last["market_price"]
            if last["won"]:
                text = f"BID {bid} >= PRICE {price}: WON +{last['reward']:g} CLICKS, PAID {price}"
                color = rendering.GOOD
            elif bid == 0:
                text, color = "SKIPPED THE AUCTION", rendering.MUTED
            else:
                text, color = f"BID {bid} < PRICE {price}: LOST", rendering.BAD
            canvas.text(22, 318, rendering.fit_text(text, width - 44, 2), color, scale=2)
        if over:
            why = "THE BUDGET IS SPENT" if self._budget_left == 0 else "ALL SLOTS ARE PLAYED"
            canvas.text(22, 342, f"THE DAY IS OVER: {why}. CLICKS: {self._clicks_so_far:g}", rendering.TEXT)
        else:
            level = self._ctr_level
            canvas.text(22, 342, f"NOW: SLOT {now + 1}, CTR {self._level_name(level)} "
                                 f"({100 * self._ctr[level]:.2g}%): A WIN IS WORTH {self._clicks[level]:g} CLICKS",
                        rendering.TEXT)
            canvas.text(22, 356, f"BUDGET LEFT {self._budget_left} FOR {self._time_left} "
                                 f"SLOT{'S' if self._time_left > 1 else ''}", rendering.TEXT)
        return canvas.pixels

    # ---- helpers ---------------------------------------------------------------------------
    def _observation(self) -> int:
        return (self._time_left * (self.budget + 1) + self._budget_left) * self.n_ctr_levels + self._ctr_level

    def _state_info(self) -> dict[str, Any]:
        return {"time_left": self._time_left, "budget_left": self._budget_left,
                "ctr_level": self._ctr_level, "ctr": self._ctr[self._ctr_level]}

    @staticmethod
    def _check_bid_levels(bid_levels: Sequence[int]) -> tuple[int, ...]:
        try:
            levels = tuple(bid_levels)
        except TypeError:
            raise TypeError(f"bid_levels must be a sequence of integers, got {bid_levels!r}") from None
        for bid in levels:
            check_int("bid_levels", bid, low=0)
        if len(levels) < 2 or any(b >= c for b, c in zip(levels, levels[1:])):
            raise ValueError("bid_levels must be at least 2 distinct integers >= 0 in increasing order, "
                             f"got {levels}")
        return levels

    def _check_action_names(self, names: Sequence[str] | None,
                            bid_levels: tuple[int, ...]) -> tuple[str, ...]:
        if names is None:
            default = type(self).action_names
            return default if bid_levels == (0, 1, 2, 3, 4) else tuple(f"bid{b}" for b in bid_levels)
        names = tuple(names)
        if len(names) != len(bid_levels) or len(set(names)) != len(names) or not all(
                isinstance(n, str) and n.isidentifier() and n == n.lower() for n in names):
            raise ValueError(f"action_names must be {len(bid_levels)} distinct lowercase identifiers "
                             f"(one per bid level), got {names}")
        return names


def _check_distribution(name: str, value: object, shape: tuple[int | None, ...]) -> np.ndarray:
    """Non-negative probabilities whose last axis sums to 1 (then renormalised exactly)."""
    array = check_array(name, value, shape=shape, low=0.0, high=1.0)
    if array.shape[-1] < 1:
        raise ValueError(f"{name} must not be empty")
    sums = array.sum(axis=-1)
    if not np.allclose(sums, 1.0, atol=1e-6):
        raise ValueError(f"{name} must sum to 1 (along its last axis), got sums {np.round(sums, 6).tolist()}")
    return array / sums[..., None]


class AdPacingFeatures(gym.ObservationWrapper):
    """AdPacing-v0's state index as features a network can generalise over.

    A table has one row per state and learns nothing about a state it never visits; a
    network needs inputs in which similar situations look similar. The observation becomes

        [time_left / n_slots, budget_left / budget, one-hot(ctr_level)]

    a `Box(0, 1, (2 + n_ctr_levels,), float32)`: the fraction of the day left, the fraction
    of the budget left, and which CTR level the current slot has. Nothing is lost (the three
    numbers decode to the same state), so the optimal policy is still expressible, and the
    DP optimum of the wrapped environment is that of AdPacing-v0. The features of every state
    are computed once (`features`, one row per state index), so `observation` is one lookup.
    Lesson 06 trains a DQN on it::

        env = AdPacingFeatures(gym.make("mediarl/AdPacing-v0"))
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        base = env.unwrapped
        n_levels = base.n_ctr_levels
        self.features = np.zeros((base.observation_space.n, 2 + n_levels), dtype=np.float32)
        for state in range(base.observation_space.n):
            time_left, budget_left, level = base.decode(state)
            self.features[state, 0] = time_left / base.n_slots
            self.features[state, 1] = budget_left / base.budget
            self.features[state, 2 + level] = 1.0
        self.features.flags.writeable = False
        self.observation_space = spaces.Box(0.0, 1.0, (2 + n_levels,), np.float32)

    def observation(self, state: int) -> np.ndarray:
        return self.features[state].copy()
