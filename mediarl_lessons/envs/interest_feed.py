"""A feed that must keep a user watching: clicks now or a longer session (lesson 05)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mediarl_lessons._validation import check_action, check_array, check_float, check_int

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

    **What it tests** (in the spirit of bsuite): credit assignment over tens of steps with a
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

    ## Info

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
    | `render_mode`            | str   | None    | `None` or `"ansi"`                                            |

    ## Version History

    * v0: Initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

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
    def render(self) -> str | None:
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


def myopic_oracle_policy(env: gym.Env) -> int:
    """The myopic oracle's action for a (possibly wrapped) InterestFeed environment."""
    return env.unwrapped.myopic_action()


def far_sighted_policy(env: gym.Env, value_per_minute: float = 0.7) -> int:
    """The far-sighted baseline's action (see `InterestFeedEnv.far_sighted_action`)."""
    return env.unwrapped.far_sighted_action(value_per_minute)
