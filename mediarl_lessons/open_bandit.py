"""Real logged bandit feedback: the Open Bandit Dataset sample shipped with ``obp`` (lesson 07).

ZOZOTOWN, a Japanese fashion e-commerce site, recommends three fashion items at a time, in
three slots (left, center, right), to every user who opens a recommendation page. For a week
in late November 2019 each impression was served, at random, either by a **uniform random**
policy or by the production **Bernoulli Thompson sampling** (BTS) policy, in three
"campaigns": all items, men's items and women's items. Every log row is one item in one slot:
which item, which slot, whether it was clicked, and the probability the serving policy gave
to showing that item in that slot (its propensity). That is the Open Bandit Dataset (Saito,
Aihara, Matsutani & Narita, "Open Bandit Dataset and Pipeline: Towards Realistic and
Reproducible Off-Policy Evaluation", NeurIPS 2021 Datasets and Benchmarks track).

The ``obp`` package (Open Bandit Pipeline) 0.4.1 ships a 10,000-row sample of each of the six
logs, and the parameters of the production Thompson sampling policy (its Beta priors,
``obp/policy/conf/prior_bts.yaml``). This module reads those files directly from the
installed package: nothing is downloaded. (obp's own loader, ``OpenBanditDataset``, calls
``DataFrame.drop`` with a positional axis, which pandas 2 removed; its Monte Carlo,
``BernoulliTS.compute_batch_action_dist``, runs but is a Python loop over draws, with
numpy's legacy global-state generator. The functions here do the same computations with
numpy arrays and a seeded ``numpy.random.Generator``.)

What it provides:

- :func:`load_log`: one campaign's log under one policy, as an :class:`OpenBanditLog` of
  plain numpy arrays;
- :func:`published_prior` and :func:`thompson_action_probabilities`: the production policy's
  probability of showing each item in each slot, by Monte Carlo over its Beta draws, as obp
  computes it; :func:`action_shares`: how often a log showed each item in each slot;
- :func:`estimates`: the off-policy estimates of a slot-aware policy's click rate from a log,
  with the course's own estimators (:mod:`mediarl_lessons.offline`), and
  :func:`bootstrap_estimates`, the same estimates on bootstrap resamples of the log (for
  confidence intervals), computed at once from per-(item, slot) counts;
- :func:`percentile_interval`, :func:`normal_interval`: confidence intervals;
- :func:`events_needed`: how many events make a difference of a given size visible.

Notation (as in :mod:`mediarl_lessons.offline`): event ``i`` shows item ``a_i`` in slot
``k_i`` and has reward ``r_i`` (a click); ``mu(a | k)`` is the logging policy's probability of
showing item ``a`` in slot ``k`` (the propensity), ``pi(a | k)`` the target policy's, and
``w_i = pi(a_i | k_i) / mu(a_i | k_i)``. Both production policies are context-free: their
probabilities depend on the slot, not on the user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from statistics import NormalDist

import numpy as np

from mediarl_lessons import offline
from mediarl_lessons._validation import as_generator, check_array, check_float, check_int

__all__ = [
    "CAMPAIGNS",
    "ESTIMATORS",
    "POLICIES",
    "SLOTS",
    "OpenBanditLog",
    "action_shares",
    "bootstrap_estimates",
    "data_dir",
    "estimates",
    "events_needed",
    "load_log",
    "normal_interval",
    "percentile_interval",
    "published_prior",
    "thompson_action_probabilities",
]

#: The three campaigns of the data set: all items, men's items, women's items.
CAMPAIGNS = ("all", "men", "women")
#: The two logging policies: uniform random and the production Bernoulli Thompson sampling.
POLICIES = ("random", "bts")
#: The three recommendation slots, in the data set's order (its ``position`` 1, 2, 3).
SLOTS = ("left", "center", "right")
#: The estimators :func:`estimates` and :func:`bootstrap_estimates` compute, in this order.
ESTIMATORS = ("IPS", "SNIPS", "DM", "DR")


@dataclass(frozen=True)
class OpenBanditLog:
    """One campaign's log under one policy: one row per item shown in one slot, in time order.

    - ``campaign`` (``"all"``, ``"men"`` or ``"women"``) and ``policy`` (``"random"`` or
      ``"bts"``): which file;
    - ``n_items``: how many items the campaign recommends from (80, 34 or 46);
    - ``items`` ``(n,)`` int64: the item shown, in ``[0, n_items - 1]``;
    - ``slots`` ``(n,)`` int64: the slot it was shown in, 0 (left), 1 (center) or 2 (right);
    - ``clicks`` ``(n,)`` float64: 1.0 if the user clicked it, else 0.0;
    - ``propensities`` ``(n,)`` float64: the logging policy's probability of showing this
      item in this slot, ``mu(a_i | k_i)``, as the production system recorded it;
    - ``days`` ``(n,)`` int64: the day of November 2019 (UTC) of the impression, 24 to 30.
    """

    campaign: str
    policy: str
    n_items: int
    items: np.ndarray
    slots: np.ndarray
    clicks: np.ndarray
    propensities: np.ndarray
    days: np.ndarray

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, rows: slice | np.ndarray) -> OpenBanditLog:
        """The log of some rows only: ``log[:1000]``, ``log[log.days == 24]``, ``log[indices]``."""
        return OpenBanditLog(**{field.name: getattr(self, field.name)[rows] if field.name in _ROW_FIELDS
                                else getattr(self, field.name) for field in fields(self)})


_ROW_FIELDS = ("items", "slots", "clicks", "propensities", "days")
_N_ITEMS = {"all": 80, "men": 34, "women": 46}


def data_dir() -> Path:
    """The folder of the Open Bandit Dataset sample inside the installed ``obp`` package.

    ``obp/dataset/obd``, holding ``{random,bts}/{all,men,women}/{campaign}.csv``. Raises
    ``ModuleNotFoundError`` with the install line if ``obp`` is not installed.
    """
    return Path(str(_obp_files() / "dataset" / "obd"))


def load_log(campaign: str, policy: str) -> OpenBanditLog:
    """Read one of the six bundled logs (10,000 rows each) into numpy arrays.

    ``campaign``: ``"all"``, ``"men"`` or ``"women"``; ``policy``: ``"random"`` (uniform
    random: every propensity is ``1 / n_items``) or ``"bts"`` (the production Bernoulli
    Thompson sampling). Rows are sorted by time, as obp's loader sorts them; the data set's
    ``position`` 1, 2, 3 becomes slot 0, 1, 2.
    """
    import pandas as pd  # the one use of pandas: reading the CSV file

    campaign, policy = _campaign(campaign), _choice("policy", policy, POLICIES)
    path = data_dir() / policy / campaign / f"{campaign}.csv"
    table = pd.read_csv(path, usecols=["timestamp", "item_id", "position", "click", "propensity_score"])
    table = table.sort_values("timestamp", kind="stable")
    days = pd.to_datetime(table["timestamp"], utc=True).dt.day.to_numpy(dtype=np.int64)
    return OpenBanditLog(
        campaign=campaign,
        policy=policy,
        n_items=_N_ITEMS[campaign],
        items=table["item_id"].to_numpy(dtype=np.int64),
        slots=table["position"].to_numpy(dtype=np.int64) - 1,
        clicks=table["click"].to_numpy(dtype=np.float64),
        propensities=table["propensity_score"].to_numpy(dtype=np.float64),
        days=days,
    )


def published_prior(campaign: str) -> tuple[np.ndarray, np.ndarray]:
    """The production Thompson sampling policy's Beta parameters ``(alpha, beta)``, one per item.

    Read from ``obp/policy/conf/prior_bts.yaml``, the file obp's ``BernoulliTS`` loads with
    ``is_zozotown_prior=True``: in obp's words, the hyperparameters of the Beta distributions
    "used at the start of the data collection period in ZOZOTOWN". Item ``a``'s click rate is
    believed to be ``Beta(alpha[a], beta[a])``: roughly ``alpha`` clicks in
    ``alpha + beta`` impressions.
    """
    import yaml

    campaign = _campaign(campaign)
    with (_obp_files() / "policy" / "conf" / "prior_bts.yaml").open("rb") as file:
        prior = yaml.safe_load(file)[campaign]
    return np.asarray(prior["alpha"], dtype=np.float64), np.asarray(prior["beta"], dtype=np.float64)


def thompson_action_probabilities(
    alpha: np.ndarray,
    beta: np.ndarray,
    *,
    n_slots: int = 3,
    n_draws: int = 100_000,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Bernoulli Thompson sampling's probability of showing each item in each slot, by Monte Carlo.

    One impression of the policy: draw a click rate ``theta_a ~ Beta(alpha[a], beta[a])`` for
    every item, rank the items by their draws, and show the best in slot 0, the second in
    slot 1, the third in slot 2. No formula gives the probability of each outcome, so,
    like obp's ``BernoulliTS.compute_batch_action_dist`` (with ``n_sim`` = ``n_draws``), it is
    counted over ``n_draws`` simulated impressions:

        pi(a | k) = (number of draws in which item a ranks k-th) / n_draws

    Returns ``(K, n_slots)``: every column sums to 1 (each slot shows one item), every row to
    at most 1 (an item is shown at most once per impression). Each entry is an average of
    ``n_draws`` indicators, so its Monte Carlo standard error is
    ``sqrt(pi (1 - pi) / n_draws)``, at most ``0.5 / sqrt(n_draws)``.

    ``seed``: an int or a ``numpy.random.Generator`` (used, not copied); the same seed gives
    the same probabilities.
    """
    alpha = check_array("alpha", alpha, shape=(None,))
    beta = check_array("beta", beta, shape=alpha.shape)
    if len(alpha) < 1 or alpha.min() <= 0.0 or beta.min() <= 0.0:
        raise ValueError("alpha and beta must hold at least one item and be > 0 (Beta parameters)")
    n_items = len(alpha)
    n_draws = check_int("n_draws", n_draws, low=1)
    n_slots = check_int("n_slots", n_slots, low=1, high=n_items)
    rng = as_generator(seed)
    counts = np.zeros((n_slots, n_items), dtype=np.int64)
    chunk = max(1, 2_000_000 // n_items)  # draws at a time: about 16 MB of floats
    for start in range(0, n_draws, chunk):
        size = min(chunk, n_draws - start)
        draws = rng.beta(alpha, beta, size=(size, n_items))
        # the n_slots largest draws of each impression, best first
        top = np.argpartition(-draws, n_slots - 1, axis=1)[:, :n_slots]
        order = np.argsort(-np.take_along_axis(draws, top, axis=1), axis=1, kind="stable")
        ranked = np.take_along_axis(top, order, axis=1)
        for slot in range(n_slots):
            counts[slot] += np.bincount(ranked[:, slot], minlength=n_items)
    return (counts / n_draws).T


def action_shares(log: OpenBanditLog) -> np.ndarray:
    """How often the log showed each item in each slot: ``(K, 3)``, every column summing to 1.

    ``shares[a, k]`` = (rows showing item ``a`` in slot ``k``) / (rows of slot ``k``): the
    logging policy's probabilities ``mu(a | k)`` averaged over the logged period, as the log
    sampled them (each share of a slot with ``m`` rows has a standard error of about
    ``sqrt(share / m)``).
    """
    n_slots = len(SLOTS)
    counts = np.bincount(log.items * n_slots + log.slots, minlength=log.n_items * n_slots).reshape(log.n_items, n_slots)
    return counts / counts.sum(axis=0)


def estimates(
    log: OpenBanditLog, target: np.ndarray, *, ridge: float = 1.0, clip: float | None = None
) -> dict[str, float]:
    """Off-policy estimates of a slot-aware target policy's click rate from a log.

    ``target`` ``(K, 3)``: ``pi(a | k)``, the target's probability of showing item ``a`` in
    slot ``k`` (a column per slot, each summing to 1), for example from
    :func:`thompson_action_probabilities`. The value estimated is the target's expected
    click rate per row, the slots in the proportions of the log: what the mean click of the
    target's own log would be. Each row is one event whose context is its slot, so the
    course's estimators apply as they are (:mod:`mediarl_lessons.offline`):

    - ``"IPS"``: :func:`offline.ips_estimate` with ``w_i = pi(a_i | k_i) / mu(a_i | k_i)``;
    - ``"SNIPS"``: :func:`offline.snips_estimate`;
    - ``"DM"``: :func:`offline.dm_estimate` with a reward model of a click rate per item and
      slot: :func:`offline.fit_reward_model` on one-hot slot features, which gives
      ``r_hat(a, k) = clicks(a, k) / (ridge + shown(a, k))``, the item's click rate in the
      slot shrunk a little towards 0;
    - ``"DR"``: :func:`offline.dr_estimate` with the same model.

    ``clip``: if given, the weights of IPS and SNIPS are capped at ``clip`` (clipped IPS:
    less variance, some bias; DM has no weights, and DR keeps its own). ``log.propensities``
    must be ``> 0``.
    """
    target = _target(target, log.n_items)
    ridge = check_float("ridge", ridge, 0.0, low_open=True)
    clip = None if clip is None else check_float("clip", clip, 0.0, low_open=True)
    events = np.arange(len(log))
    policy = target[:, log.slots].T  # (n, K): pi(. | k_i), the target's probabilities on each row
    target_probs = policy[events, log.items]
    if clip is not None:  # w = min(pi / mu, clip), passed as a probability pi' = min(pi, clip * mu)
        target_probs = np.minimum(target_probs, clip * log.propensities)
    contexts = np.zeros((len(log), log.n_items, len(SLOTS)))
    contexts[events, :, log.slots] = 1.0  # x_{i,a}: the slot, one-hot, for every item
    model = offline.fit_reward_model(contexts, log.items, log.clicks, ridge=ridge)
    predicted = offline.predict_rewards(model, contexts)
    dr = offline.dr_estimate(log.clicks, log.items, log.propensities, policy, predicted)
    return {
        "IPS": offline.ips_estimate(log.clicks, target_probs, log.propensities),
        "SNIPS": offline.snips_estimate(log.clicks, target_probs, log.propensities),
        "DM": offline.dm_estimate(policy, predicted),
        "DR": dr,
    }


def bootstrap_estimates(
    log: OpenBanditLog,
    target: np.ndarray,
    *,
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    ridge: float = 1.0,
    clip: float | None = None,
) -> dict[str, np.ndarray]:
    """The estimates of :func:`estimates`, and the plain mean click, on ``n_boot`` bootstrap resamples.

    A bootstrap resample draws ``len(log)`` rows from the log with replacement (Efron 1979):
    the spread of an estimate over resamples stands in for its spread over the logs the
    same policy could have written. Rows are treated as independent (in the bundled sample
    almost every row has its own timestamp: they are a sample of rows, not of whole
    impressions).

    Returns ``{"mean": ..., "IPS": ..., "SNIPS": ..., "DM": ..., "DR": ...}``, each ``(n_boot,)``:
    replicate ``b`` is exactly what :func:`estimates` (and ``clicks.mean()``) returns on the
    ``b``-th resampled log (``tests/test_open_bandit.py`` checks it). It is computed from the
    counts of rows and clicks per (item, slot) in each resample, since every estimator here
    depends on the rows only through them when ``mu`` and ``pi`` depend on the item and the
    slot only: true of the uniform random logs, which is what this is for (a log whose
    propensities vary otherwise raises ``ValueError``). About a hundred times faster than
    calling :func:`estimates` per resample. ``seed``: an int or a ``numpy.random.Generator``.
    """
    target = _target(target, log.n_items)
    n_boot = check_int("n_boot", n_boot, low=1)
    ridge = check_float("ridge", ridge, 0.0, low_open=True)
    clip = None if clip is None else check_float("clip", clip, 0.0, low_open=True)
    rng = as_generator(seed)
    n_rows, n_items, n_slots = len(log), log.n_items, len(SLOTS)
    group = log.items * n_slots + log.slots  # one group per (item, slot)
    propensity = np.zeros(n_items * n_slots)
    propensity[group] = log.propensities
    if not np.allclose(propensity[group], log.propensities, rtol=1e-9, atol=0.0):
        raise ValueError("log.propensities must depend on the item and the slot only, as in the uniform "
                         "random logs (the Thompson sampling logs' propensities changed during the week)")
    pi = target.reshape(-1)  # pi(a | k) at group a * 3 + k
    seen = np.bincount(group, minlength=n_items * n_slots) > 0
    weight = np.zeros_like(pi)
    weight[seen] = pi[seen] / propensity[seen]
    clipped = weight if clip is None else np.minimum(weight, clip)  # IPS's and SNIPS's weights

    replicates = {name: np.empty(n_boot) for name in ("mean", *ESTIMATORS)}
    chunk = max(1, 4_000_000 // n_rows)  # resamples at a time
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        rows = rng.integers(0, n_rows, size=(size, n_rows))
        offset = (np.arange(size) * n_items * n_slots)[:, None]
        where = (group[rows] + offset).ravel()
        shown = np.bincount(where, minlength=size * n_items * n_slots).reshape(size, -1)
        clicked = np.bincount(where, weights=log.clicks[rows].ravel(),
                              minlength=size * n_items * n_slots).reshape(size, -1)
        model = clicked / (ridge + shown)  # r_hat(a, k), the ridge solve of fit_reward_model
        slot_rows = shown.reshape(size, n_items, n_slots).sum(axis=1)  # rows per slot
        direct_per_slot = (pi * model).reshape(size, n_items, n_slots).sum(axis=1)
        block = slice(start, start + size)
        replicates["mean"][block] = clicked.sum(axis=1) / n_rows
        replicates["IPS"][block] = clicked @ clipped / n_rows
        total_weight = shown @ clipped
        with np.errstate(invalid="ignore", divide="ignore"):
            replicates["SNIPS"][block] = np.where(total_weight > 0, (clicked @ clipped) / total_weight, np.nan)
        replicates["DM"][block] = (slot_rows * direct_per_slot).sum(axis=1) / n_rows
        replicates["DR"][block] = replicates["DM"][block] + ((clicked - shown * model) @ weight) / n_rows
    return replicates


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The bootstrap percentile interval: the central ``level`` of the replicates.

    ``(quantile((1 - level) / 2), quantile((1 + level) / 2))`` of ``replicates`` ``(B,)``;
    ``level`` in ``(0, 1)``. NaN replicates (a resample with no information) are ignored.
    """
    replicates = np.asarray(replicates, dtype=np.float64)
    if replicates.ndim != 1 or np.all(np.isnan(replicates)):
        raise ValueError(f"replicates must be a 1-d array with at least one number, got shape {replicates.shape}")
    level = check_float("level", level, 0.0, 1.0, low_open=True, high_open=True)
    low, high = np.nanquantile(replicates, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def normal_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The normal-approximation interval for a mean: ``mean +- z * sd / sqrt(n)``.

    ``values`` ``(n,)``, ``n >= 2`` (for 0/1 clicks, ``sd`` is about ``sqrt(p (1 - p))``);
    ``z`` is the standard normal quantile of ``(1 + level) / 2`` (1.96 for 95%).
    """
    values = check_array("values", values, shape=(None,))
    if len(values) < 2:
        raise ValueError(f"values must hold at least 2 numbers, got {len(values)}")
    level = check_float("level", level, 0.0, 1.0, low_open=True, high_open=True)
    z = NormalDist().inv_cdf((1 + level) / 2)
    half = z * values.std(ddof=1) / math.sqrt(len(values))
    return float(values.mean() - half), float(values.mean() + half)


def events_needed(variance: float, difference: float, *, z: float = 2.0) -> int:
    """How many events make a difference visible: the smallest ``n`` with ``sqrt(variance / n) <= difference / z``.

    ``variance`` is the variance, per event, of what is averaged to estimate the difference
    (``> 0``), and ``difference`` the difference to detect (``!= 0``). With ``z = 2`` (the
    default) the standard error of the estimated difference is at most half the difference,
    lesson 02's criterion: ``n = ceil(4 variance / difference^2)``. For two policies with
    click rates ``p1`` and ``p2``, each run on ``n`` users of its own (an A/B test), the
    variance is ``p1 (1 - p1) + p2 (1 - p2)``; for an off-policy comparison on one log, the
    variance of ``(w1_i - w2_i) r_i``.
    """
    variance = check_float("variance", variance, 0.0, low_open=True)
    difference = check_float("difference", difference)
    if difference == 0.0:
        raise ValueError("difference must be a finite number other than 0, got 0.0")
    z = check_float("z", z, 0.0, low_open=True)
    return math.ceil(z * z * variance / (difference * difference) - 1e-9)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _obp_files():
    try:
        return resources.files("obp")
    except ModuleNotFoundError:
        raise ModuleNotFoundError("the Open Bandit Dataset sample comes with the obp package: "
                                  "pip install obp==0.4.1 (or pip install -r requirements.txt)") from None


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r} "
                        f"of type {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def _campaign(campaign: object) -> str:
    return _choice("campaign", campaign, CAMPAIGNS)


def _target(target: object, n_items: int) -> np.ndarray:
    target = check_array("target", target, shape=(n_items, len(SLOTS)), low=0.0, high=1.0)
    if not np.allclose(target.sum(axis=0), 1.0, atol=1e-6):
        raise ValueError("target must hold pi(a | k) with every column (slot) summing to 1, got column sums "
                         f"{np.round(target.sum(axis=0), 6).tolist()}")
    return target
