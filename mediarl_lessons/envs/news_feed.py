"""NewsFeed-v0: which article to put at the top of this user's feed (lesson 02)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mediarl_lessons._validation import check_action, check_float, check_int
from mediarl_lessons.envs import rendering
from mediarl_lessons.envs.rendering import Canvas
from mediarl_lessons.sampling import cumulative_probabilities, inverse_cdf, softmax

TOPICS = ("politics", "sports", "tech", "culture", "business")
SEGMENTS = ("sports fan", "news junkie", "tech enthusiast", "culture lover")
SEGMENT_PROBABILITIES = (0.3, 0.3, 0.2, 0.2)
#: Typical interest of each segment (row) in each topic (column); every row sums to 1.
SEGMENT_INTERESTS = (
    (0.10, 0.60, 0.10, 0.10, 0.10),  # sports fan
    (0.50, 0.05, 0.10, 0.10, 0.25),  # news junkie
    (0.10, 0.05, 0.55, 0.10, 0.20),  # tech enthusiast
    (0.10, 0.05, 0.10, 0.65, 0.10),  # culture lover
)
DAYPARTS = ("morning", "midday", "evening", "night")
DAYPART_PROBABILITIES = (0.3, 0.2, 0.35, 0.15)

#: The click model's logit: BASE_LOGIT + interest_weight * (user's interest in the article's
#: topic) + APPEAL_WEIGHT * appeal + DAYPART_LOGIT[daypart] + LONG_READ_LOGIT[daypart] * long_read.
BASE_LOGIT = -4.0
APPEAL_WEIGHT = 0.8
DAYPART_LOGIT = (0.0, -0.2, 0.2, -0.1)  # evening browsing clicks most, midday least
LONG_READ_LOGIT = (-0.6, -0.3, 0.5, 0.2)  # long reads lose in the morning rush, win in the evening

#: Users drawn at once (see `NewsFeedEnv._draw_users`).
BLOCK = 256

FEATURE_NAMES = (
    "bias",
    *(f"interest_{topic}" for topic in TOPICS),
    *(f"daypart_{daypart}" for daypart in DAYPARTS),
    *(f"topic_{topic}" for topic in TOPICS),
    "long_read",
    "appeal",
    "topic_match",
)


class NewsFeedEnv(gym.Env):
    """
    Pick the article at the top of each arriving user's news feed: a contextual bandit.

    ## Description
    A news app shows each user who opens it one featured article, chosen from today's
    `n_articles` candidates. Users differ: a sports fan and a news junkie want different
    articles, and what anyone clicks depends on the time of day (quick reads in the morning
    rush, long reads in the evening). Each step one user arrives, the platform sees the
    features of every (user, article) pair, features one article, and the user clicks it or
    not. Users arrive independently, so the action never changes who comes next: a
    contextual bandit (Li et al. 2010), not a full MDP.

    What it teaches (lesson 02): personalisation. The best single article (what a
    context-free bandit converges to) earns a click-through rate (CTR) of about 8%, the best
    article for each user about 19%; LinUCB, which learns one linear model of the click
    probability per article from the features, gets most of that gain (a CTR of about 15% over
    its first 2000 users, while context-free bandits stay near 7%: medians over 30 runs of
    2000 users, LinUCB with `alpha=0.5`). And off-policy evaluation: logs collected by a
    context-dependent policy (`mediarl_lessons.offline`) are confounded, and the true click
    probabilities in `info` give the exact value of any policy to check replay, IPS and
    SNIPS against.

    The user: a segment (`SEGMENTS`: sports fan, news junkie, tech enthusiast, culture
    lover, with probabilities 0.3 / 0.3 / 0.2 / 0.2), a daypart (`DAYPARTS`: morning,
    midday, evening, night; 0.3 / 0.2 / 0.35 / 0.15) and interests: a distribution over the
    five `TOPICS` (politics, sports, tech, culture, business) scattered around the
    segment's typical interests (`SEGMENT_INTERESTS`): `softmax(log(typical) +
    interest_noise * N(0, I))`. The articles (today's catalogue, fixed by `catalogue_seed`
    when the environment is made): a topic (every topic equally often), a length (long read
    or not, half and half) and an appeal in [0, 1] (how catchy the headline and picture are).

    The click model: `P(click) = sigmoid(logit)` with
    `logit = -4.0 + interest_weight * interest[topic] + 0.8 * appeal
    + DAYPART_LOGIT[daypart] + LONG_READ_LOGIT[daypart] * long_read`
    (module constants `BASE_LOGIT`, `APPEAL_WEIGHT`, `DAYPART_LOGIT`, `LONG_READ_LOGIT`).
    With the defaults a user's click probabilities run from about 1.5% for an article far
    from their interests to 30% and more for a catchy one on their favourite topic (1st and
    99th percentiles 1.4% and 32%); the CTR of a random feed is 6.7%, of the best single
    article (article 7) 8.3% and of the best article for every user 19.2%. (All measured over
    1,000,000 users, from the true click probabilities in `info`; a sample of 10,000 users,
    as in lesson 02, moves the last two by about 0.1 point.)

    ## Action Space
    `Discrete(n_articles)`: the index of the article to feature.

    ## Observation Space
    `Box(0, 1, (n_articles, 18), float32)`: one feature vector per (user, article) pair, the
    per-arm contexts `x_a` of disjoint LinUCB. Row `a` holds the user's features followed by
    article `a`'s (names in `FEATURE_NAMES` and the attribute `feature_names`):

    | columns | features |
    |---------|----------|
    | 0       | `bias`: always 1 |
    | 1-5     | `interest_<topic>`: the user's interests, summing to 1 |
    | 6-9     | `daypart_<daypart>`: one-hot daypart |
    | 10-14   | `topic_<topic>`: one-hot topic of the article |
    | 15      | `long_read`: 1 for a long read |
    | 16      | `appeal`: the article's appeal |
    | 17      | `topic_match`: the user's interest in the article's topic |

    The user columns are the same in every row; the article columns are the same at every
    step (the catalogue is fixed). A disjoint model (one weight vector per article) learns
    from the user columns; a shared model can use `topic_match`. The segment is not a
    feature (it is in `info`): the interests reveal it, imperfectly.

    ## Rewards
    1 if the user clicks the featured article, else 0.

    ## Starting State
    A reset draws the first user from `self.np_random`. The catalogue does not change:
    it is part of the environment's definition, like a map, so an agent can keep learning
    across episodes, and the oracle numbers of a lesson stay put.

    ## Episode End
    - Termination: never (`terminated` is always False); users keep arriving.
    - Truncation: `gym.make` adds a `TimeLimit` that sets `truncated` after 1000 steps
      (1000 users). Since the catalogue stays, a learner may carry on into the next episode.

    ## Information
    `reset` and `step` return `info` about the user in the returned observation (the one to
    serve next), plus, from `step`, the outcome of the action just taken:
    - `"click_probs"` (float array `(n_articles,)`): every article's true click
      probability for this user (a fresh copy);
    - `"optimal_action"` (int): the article with the largest click probability;
    - `"segment"` (int, index into `SEGMENTS`) and `"daypart"` (int, into `DAYPARTS`);
    - `"expected_reward"` (float, `step` only): the true click probability of the article
      just featured to the previous user;
    - `"regret"` (float, `step` only): that user's best click probability minus
      `expected_reward`.
    So an oracle policy plays `info["optimal_action"]`, and `info["expected_reward"]`
    averages to a policy's CTR with far less noise than the clicks.

    ## Arguments
    ```python
    import gymnasium as gym
    import mediarl_lessons
    env = gym.make("mediarl/NewsFeed-v0", n_articles=20, interest_weight=2.0, render_mode="ansi")
    ```
    - `n_articles`: number of candidate articles K, an integer in [2, 100] (default 10).
    - `catalogue_seed`: integer >= 0 that fixes the catalogue (default 0).
    - `interest_weight`: how strongly interest in the topic drives clicks, the logit weight,
      in [0, 10] (default 3.5). At 0 every user ranks the articles alike and context does
      not help; the larger it is, the more personalisation pays.
    - `interest_noise`: spread of a user's interests around their segment's typical
      interests, in [0, 3] (default 0.5; 0 makes every user of a segment identical).
    - `render_mode`: `None`, `"ansi"` or `"rgb_array"` (see Rendering).

    ## Rendering
    - `"ansi"`: the last user's article and click, the next user's segment, daypart and
      interests, and the best article for them.
    - `"rgb_array"`: a `(400, W, 3)` `uint8` picture (W = 640, wider only beyond about 90
      articles). Left: the next user, their segment, daypart and interest in each topic
      (coloured bars). Right: the catalogue, one column per article: its topic (coloured tile
      with the topic's initial), long read (dark block) or not, appeal (grey bar), and, as
      the column's bar, its true click probability for the next user (hidden from the
      agent), gold for the best. The blue frame is the article featured to the last user,
      with a green (click) or red (no click) badge beneath it. Underneath: that user's click
      probability and regret, the best article for the next user and the CTR so far. Drawn
      with numpy alone, about half a millisecond a frame; rendering reads the state and
      draws no random numbers.

    ## Version History
    - v0: initial version for the course.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def __init__(
        self,
        *,
        n_articles: int = 10,
        catalogue_seed: int = 0,
        interest_weight: float = 3.5,
        interest_noise: float = 0.5,
        render_mode: str | None = None,
    ) -> None:
        self.n_articles = check_int("n_articles", n_articles, low=2, high=100)
        self.catalogue_seed = check_int("catalogue_seed", catalogue_seed, low=0)
        self.interest_weight = check_float("interest_weight", interest_weight, 0.0, 10.0)
        self.interest_noise = check_float("interest_noise", interest_noise, 0.0, 3.0)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, "
                             f"got {render_mode!r}")
        self.render_mode = render_mode
        n_topics, n_dayparts, n_features = len(TOPICS), len(DAYPARTS), len(FEATURE_NAMES)

        # Today's catalogue: a fixed part of the environment, drawn once from its own seed.
        catalogue = np.random.default_rng(self.catalogue_seed)
        self.article_topics = catalogue.permutation(np.arange(self.n_articles) % n_topics)
        self.article_long_read = catalogue.random(self.n_articles) < 0.5
        self.article_appeal = catalogue.random(self.n_articles)
        for array in (self.article_topics, self.article_long_read, self.article_appeal):
            array.flags.writeable = False  # the catalogue is the environment's definition

        self.action_space = spaces.Discrete(self.n_articles)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.n_articles, n_features), dtype=np.float32)

        # Everything about a step that does not depend on the user's interests, per daypart:
        # the rest of the click logit, and the observation with all but the interest columns.
        long_read = self.article_long_read.astype(np.float64)
        self._logit_offset = np.array([
            BASE_LOGIT + APPEAL_WEIGHT * self.article_appeal + DAYPART_LOGIT[d] + LONG_READ_LOGIT[d] * long_read
            for d in range(n_dayparts)
        ])
        template = np.zeros((n_dayparts, self.n_articles, n_features), dtype=np.float32)
        template[:, :, 0] = 1.0
        for d in range(n_dayparts):
            template[d, :, 1 + n_topics + d] = 1.0
        template[:, np.arange(self.n_articles), 1 + n_topics + n_dayparts + self.article_topics] = 1.0
        template[:, :, -3] = long_read
        template[:, :, -2] = self.article_appeal
        self._obs_template = template
        self._interest_columns = slice(1, 1 + n_topics)
        self._log_interests = np.log(np.array(SEGMENT_INTERESTS))
        self._segment_cdf = np.array(cumulative_probabilities(SEGMENT_PROBABILITIES))
        self._daypart_cdf = np.array(cumulative_probabilities(DAYPART_PROBABILITIES))

        # The user to serve next (None before the first reset).
        self._click_probs: np.ndarray | None = None
        self._optimal_action = 0
        self._best_prob = 0.0
        self._segment = 0
        self._daypart = 0
        self._interests = np.full(n_topics, 1.0 / n_topics)
        self._obs = template[0].copy()
        self._luck = 1.0
        self._users = 0
        self._clicks = 0  # this episode's clicks, for render
        self._last: tuple[int, bool, float, float] | None = None  # (action, clicked, prob, regret)
        self._frame_background: np.ndarray | None = None  # the static part of the picture

    @property
    def articles(self) -> list[dict[str, Any]]:
        """The catalogue, one dict per article: topic, long read or not, appeal."""
        return [{"article": a, "topic": TOPICS[topic], "long_read": bool(long), "appeal": round(float(appeal), 3)}
                for a, (topic, long, appeal) in enumerate(zip(self.article_topics, self.article_long_read,
                                                                self.article_appeal))]

    def _draw_users(self) -> None:
        """Draw the next `BLOCK` users at once, with everything the steps need about them.

        Users arrive independently of what the platform shows, so they can be drawn ahead;
        numpy handles one array of 256 users far faster than 256 arrays of one user. Same
        seed, same users, same trajectory.
        """
        rng = self.np_random
        n_topics = len(TOPICS)
        segments = inverse_cdf(self._segment_cdf, rng.random(BLOCK))
        dayparts = inverse_cdf(self._daypart_cdf, rng.random(BLOCK))
        # Interests: the segment's typical interests, scattered (softmax of noisy log-interests).
        interests = softmax(self._log_interests[segments]
                            + self.interest_noise * rng.standard_normal((BLOCK, n_topics)), axis=1)
        topic_match = interests[:, self.article_topics]  # (BLOCK, n_articles)

        logits = self._logit_offset[dayparts] + self.interest_weight * topic_match
        click_probs = 1.0 / (1.0 + np.exp(-logits))
        optimal = click_probs.argmax(axis=1)

        obs = self._obs_template[dayparts]  # a copy: fancy indexing
        obs[:, :, self._interest_columns] = interests[:, np.newaxis, :]
        obs[:, :, -1] = topic_match

        self._ahead = {
            "segment": segments.tolist(), "daypart": dayparts.tolist(), "interests": interests,
            "click_probs": click_probs, "optimal_action": optimal.tolist(),
            "best_prob": click_probs[np.arange(BLOCK), optimal].tolist(), "obs": obs,
            "luck": rng.random(BLOCK).tolist(),  # compared with the click probability of the chosen article
        }
        self._block_step = -1  # `_next_user` moves to row 0

    def _next_user(self) -> None:
        """Move on to the next pre-drawn user (drawing a new block when one is used up)."""
        self._block_step += 1
        if self._block_step == BLOCK:
            self._draw_users()
            self._block_step = 0
        i, ahead = self._block_step, self._ahead
        self._segment = ahead["segment"][i]
        self._daypart = ahead["daypart"][i]
        self._interests = ahead["interests"][i]
        self._click_probs = ahead["click_probs"][i]
        self._optimal_action = ahead["optimal_action"][i]
        self._best_prob = ahead["best_prob"][i]
        self._luck = ahead["luck"][i]
        self._obs = ahead["obs"][i]

    def _info(self) -> dict[str, Any]:
        return {"click_probs": self._click_probs.copy(), "optimal_action": self._optimal_action,
                "segment": self._segment, "daypart": self._daypart}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._users = 0
        self._clicks = 0
        self._last = None
        self._draw_users()
        self._next_user()
        return self._obs.copy(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._click_probs is None:
            raise RuntimeError("call reset() before step()")
        action = check_action(action, self.n_articles)
        click_prob = float(self._click_probs[action])
        clicked = self._luck < click_prob
        regret = self._best_prob - click_prob
        self._users += 1
        self._clicks += clicked
        self._last = (action, clicked, click_prob, regret)

        self._next_user()
        info = self._info()
        info["expected_reward"] = click_prob
        info["regret"] = regret
        return self._obs.copy(), 1.0 if clicked else 0.0, False, False, info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self._render_frame()
        if self.render_mode != "ansi":
            return None
        if self._click_probs is None:
            return "NewsFeed: call reset() first"
        lines = []
        if self._last is not None:
            action, clicked, click_prob, regret = self._last
            lines.append(f"user {self._users}: featured article {action} ({self._describe(action)}), "
                         f"P(click) {click_prob:.3f} -> {'click' if clicked else 'no click'}, regret {regret:.3f}")
        interests = ", ".join(f"{topic} {share:.2f}" for topic, share in zip(TOPICS, self._interests))
        best = self._optimal_action
        lines.append(f"next user: {SEGMENTS[self._segment]}, {DAYPARTS[self._daypart]}; interests {interests}")
        lines.append(f"best article for them: {best} ({self._describe(best)}), P(click) {self._best_prob:.3f}")
        return "\n".join(lines)

    def _describe(self, article: int) -> str:
        length = "long read" if self.article_long_read[article] else "short"
        return f"{TOPICS[self.article_topics[article]]}, {length}, appeal {self.article_appeal[article]:.2f}"

    # ---- the rgb_array picture -------------------------------------------------------------
    _FRAME_HEIGHT = 400
    _PANEL_LEFT = 212  # left edge of the articles panel
    _PLOT_LEFT = _PANEL_LEFT + 58  # left edge of the article columns
    _BARS_TOP, _BARS_HEIGHT = 118, 112  # the click-probability bars
    _BAR_SCALE = 0.5  # the click probability at the top of the bars

    def _frame_width(self) -> int:
        return rendering.frame_size(self.n_articles, 640, 4, self._PLOT_LEFT + 22)

    def _columns(self) -> tuple[float, float]:
        """Left edge and width of the first article's column."""
        return float(self._PLOT_LEFT), (self._frame_width() - self._PLOT_LEFT - 22) / self.n_articles

    def _draw_background(self) -> np.ndarray:
        """The parts of the picture that never change, the catalogue included."""
        height, width = self._FRAME_HEIGHT, self._frame_width()
        canvas = Canvas.blank(height, width)
        canvas.text(12, 10, "NEWS FEED", rendering.TEXT, scale=2)
        canvas.text(12, 32, "PICK THE ARTICLE AT THE TOP OF EACH USER'S FEED", rendering.MUTED)
        canvas.panel(12, 46, self._PANEL_LEFT - 20, 236)
        canvas.panel(self._PANEL_LEFT, 46, width - self._PANEL_LEFT - 12, 236)
        canvas.panel(12, 290, width - 24, 100)
        canvas.text(20, 54, "NEXT USER", rendering.MUTED)
        canvas.text(20, 112, "INTERESTS", rendering.MUTED)
        for topic, name in enumerate(TOPICS):
            y = 126 + 20 * topic
            canvas.rect(20, y, 8, 8, rendering.topic_color(topic))
            canvas.text(32, y + 1, name, rendering.TEXT)
        panel = self._PANEL_LEFT + 8
        canvas.text(panel, 54, "ARTICLES; BARS: P(CLICK) FOR THE NEXT USER, HIDDEN FROM THE AGENT",
                    rendering.MUTED)
        canvas.text(panel, 70, "TOPIC", rendering.MUTED)
        canvas.text(panel, 86, "LONG", rendering.MUTED)
        canvas.text(panel, 100, "APPEAL", rendering.MUTED)
        top, bars = self._BARS_TOP, self._BARS_HEIGHT
        for fraction in (0.0, 0.5, 1.0):
            y = top + bars - round(bars * fraction)
            canvas.rect(self._PLOT_LEFT - 4, y, width - 22 - self._PLOT_LEFT + 6, 1, rendering.TRACK)
            canvas.text(self._PLOT_LEFT - 8, y - 3, f"{fraction * self._BAR_SCALE:.0%}", rendering.MUTED,
                        align="right")
        left, column = self._columns()
        inset = max(column * 0.15, 0.0) if column >= 6 else 0.0
        every = max(1, int(np.ceil(14 / column)))
        every = next(step for step in (1, 2, 5, 10, 20, 50, 100) if step >= every)
        for article in range(self.n_articles):
            x = left + article * column
            topic = int(self.article_topics[article])
            canvas.rect(x + inset, 68, column - 2 * inset, 11, rendering.topic_color(topic))
            if column >= 10:
                canvas.text(x + column / 2, 70, TOPICS[topic][0], rendering.PANEL, align="center")
            if self.article_long_read[article]:
                canvas.rect(x + inset, 85, column - 2 * inset, 9, rendering.DARK)
            else:
                canvas.rect(x + inset, 89, column - 2 * inset, 1, rendering.BORDER)
            canvas.hbar(x + inset, 100, column - 2 * inset, 7, float(self.article_appeal[article]),
                        rendering.MUTED)
            if article % every == 0:
                canvas.text(x + column / 2, top + bars + 5, str(article), rendering.TEXT, align="center")
        canvas.legend(22, 374, ((rendering.AGENT, "FEATURED TO THE LAST USER"),
                                (rendering.BEST, "BEST FOR THE NEXT USER"), ((120, 140, 175), "OTHER ARTICLES")))
        canvas.pixels.flags.writeable = False
        return canvas.pixels

    def _render_frame(self) -> np.ndarray:
        """The user, the articles and the last pick as a picture (see the docstring)."""
        if self._click_probs is None:
            return rendering.blank_frame(self._FRAME_HEIGHT, self._frame_width(), "NEWS FEED")
        if self._frame_background is None:
            self._frame_background = self._draw_background()
        canvas = Canvas(self._frame_background.copy())
        canvas.text(canvas.width - 12, 10, f"USER {self._users + 1}", rendering.TEXT, scale=2, align="right")

        # The next user: who they are, when, and what they like.
        canvas.text(20, 68, SEGMENTS[self._segment].upper(), rendering.TEXT, scale=2 if self._segment != 2 else 1)
        canvas.text(20, 90, f"TIME OF DAY: {DAYPARTS[self._daypart].upper()}", rendering.TEXT)
        for topic, share in enumerate(self._interests.tolist()):
            y = 126 + 20 * topic
            canvas.hbar(20, y + 10, 130, 6, share, rendering.topic_color(topic))
            canvas.text(184, y + 1, f"{share:.2f}", rendering.TEXT, align="right")

        # The articles: the click probability of each for the next user, the last pick framed.
        left, column = self._columns()
        top, bars = self._BARS_TOP, self._BARS_HEIGHT
        inset = max(column * 0.15, 0.0) if column >= 6 else 0.0
        featured = self._last[0] if self._last is not None else None
        best = self._optimal_action
        wide = column >= 26
        for article, prob in enumerate(self._click_probs.tolist()):
            x = left + article * column
            if article == featured:
                canvas.outline(x, 64, max(column, 3), 212, rendering.AGENT, 2 if column >= 8 else 1)
            color = rendering.BEST if article == best else (120, 140, 175)
            canvas.vbar(x + inset, top, column - 2 * inset, bars, prob / self._BAR_SCALE, color, track=None)
            if wide:
                filled = round(bars * min(prob / self._BAR_SCALE, 1.0))
                canvas.text(x + column / 2, top + bars - filled - 9, f"{100 * prob:.0f}%", rendering.TEXT,
                            align="center")
        if self._last is not None:
            action, clicked, _, _ = self._last
            x = left + action * column
            color = rendering.GOOD if clicked else rendering.BAD
            canvas.rect(x, 254, max(column, 3), 22, color)
            if column >= 24:
                canvas.text(x + column / 2, 262, "CLICK" if clicked and column >= 30 else "YES" if clicked else "NO",
                            rendering.PANEL, align="center")

        # The last user's outcome, the best pick for the next user, the score so far.
        if self._last is None:
            canvas.text(22, 302, "NO USER SERVED YET: PICK AN ARTICLE", rendering.MUTED, scale=2)
        else:
            action, clicked, click_prob, regret = self._last
            color = rendering.GOOD if clicked else rendering.BAD
            canvas.person(22, 300, 16, color)
            canvas.text(44, 302, f"ARTICLE {action}: {'CLICKED' if clicked else 'NO CLICK'}", color, scale=2)
            canvas.text(44, 324, f"LAST USER'S P(CLICK) {click_prob:.3f}   REGRET {regret:.3f}   "
                                 f"({self._describe(action).upper()})", rendering.TEXT)
        canvas.text(22, 340, f"BEST FOR THE NEXT USER: ARTICLE {best}, P(CLICK) {self._best_prob:.3f} "
                             f"({self._describe(best).upper()})", rendering.TEXT)
        if self._users:
            canvas.text(22, 356, f"CLICKS SO FAR: {self._clicks} FROM {self._users} USERS "
                                 f"(CTR {100 * self._clicks / self._users:.1f}%)", rendering.TEXT)
        return canvas.pixels
