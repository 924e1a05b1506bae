"""The Open Bandit Dataset sample and the estimates lesson 07 makes on it (mediarl_lessons.open_bandit).

The bundled files (sizes, propensities), the Thompson sampling probabilities by Monte Carlo
(against exact cases and against obp's own code), the estimators on the logs (against the
course's estimators, and the plain mean for the random policy itself), the vectorised
bootstrap (replicate by replicate against the estimators on resampled logs), the intervals'
coverage on synthetic data, the sample-size rule, and the argument checks.
"""

from __future__ import annotations

import numpy as np
import pytest

from mediarl_lessons import offline, open_bandit
from mediarl_lessons.open_bandit import CAMPAIGNS, ESTIMATORS

pytest.importorskip("obp", reason="the Open Bandit Dataset sample comes with obp (requirements.txt)")

N_ITEMS = {"all": 80, "men": 34, "women": 46}
CLICKS = {("all", "random"): 38, ("all", "bts"): 42, ("men", "random"): 46, ("men", "bts"): 69,
          ("women", "random"): 46, ("women", "bts"): 46}


@pytest.fixture(scope="module")
def logs() -> dict[tuple[str, str], open_bandit.OpenBanditLog]:
    return {(c, p): open_bandit.load_log(c, p) for c in CAMPAIGNS for p in open_bandit.POLICIES}


@pytest.fixture(scope="module")
def targets() -> dict[str, np.ndarray]:
    return {c: open_bandit.thompson_action_probabilities(*open_bandit.published_prior(c), n_draws=20_000, seed=0)
            for c in CAMPAIGNS}


# --- the data -------------------------------------------------------------------------------


def test_the_six_logs_as_shipped(logs) -> None:
    for (campaign, policy), log in logs.items():
        assert len(log) == 10_000 and log.n_items == N_ITEMS[campaign]
        assert log.items.dtype == np.int64 and log.items.min() == 0 and log.items.max() == log.n_items - 1
        assert set(np.unique(log.slots)) == {0, 1, 2} and set(np.unique(log.clicks)) == {0.0, 1.0}
        assert int(log.clicks.sum()) == CLICKS[campaign, policy]
        assert np.all((log.days >= 24) & (log.days <= 30))
        if policy == "random":  # uniform: exactly 1/80, 1/34, 1/46
            assert np.all(log.propensities == 1.0 / N_ITEMS[campaign]), campaign
        else:
            assert np.all((log.propensities > 0) & (log.propensities <= 1)) and len(np.unique(log.propensities)) > 5000


def test_a_log_is_in_time_order_and_slices_by_rows(logs) -> None:
    log = logs["men", "bts"]
    assert np.all(np.diff(log.days) >= 0)
    monday = log[log.days == 25]
    assert len(monday) == int(np.sum(log.days == 25)) and monday.n_items == 34 and monday.campaign == "men"
    assert np.array_equal(log[:10].items, log.items[:10])


def test_the_published_prior_is_obps_file() -> None:
    for campaign in CAMPAIGNS:
        alpha, beta = open_bandit.published_prior(campaign)
        assert alpha.shape == beta.shape == (N_ITEMS[campaign],) and alpha.min() > 0 and beta.min() > 0
    alpha, beta = open_bandit.published_prior("all")
    assert (alpha[0], beta[0]) == (47.0, 12198.0)  # the first entries of obp/policy/conf/prior_bts.yaml


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # obp's own code, on its way to failing
def test_obps_own_loader_does_not_run_on_this_pandas() -> None:
    """The lesson says so and reads the files itself; if obp's loader starts working, say so there."""
    real = pytest.importorskip("obp.dataset")
    with pytest.raises(TypeError, match="positional"):
        real.OpenBanditDataset(behavior_policy="random", campaign="men")


# --- Thompson sampling's probabilities --------------------------------------------------------


def test_thompson_probabilities_are_distributions_per_slot(targets) -> None:
    for campaign, pi in targets.items():
        assert pi.shape == (N_ITEMS[campaign], 3)
        np.testing.assert_allclose(pi.sum(axis=0), 1.0)
        assert np.all(pi.sum(axis=1) <= 1.0 + 1e-12)  # an item fills at most one slot per impression
        np.testing.assert_allclose(pi * 20_000, np.round(pi * 20_000), atol=1e-6)  # counts over 20,000 draws


def test_thompson_probabilities_exact_cases() -> None:
    # Two items, one slot: P(theta_0 > theta_1) with theta ~ Beta(2, 1) and Beta(1, 1) is 2/3.
    pi = open_bandit.thompson_action_probabilities([2.0, 1.0], [1.0, 1.0], n_slots=1, n_draws=200_000, seed=1)
    assert abs(pi[0, 0] - 2 / 3) < 4 * np.sqrt(2 / 9 / 200_000)
    # Identical beliefs: every item equally likely in every slot.
    pi = open_bandit.thompson_action_probabilities(np.full(5, 3.0), np.full(5, 300.0), n_draws=100_000, seed=2)
    assert np.abs(pi - 0.2).max() < 5 * np.sqrt(0.16 / 100_000)
    # Well separated beliefs (click rates 0.9, 0.5, 0.83, 0.01, each within a few hundredths): the order is certain.
    pi = open_bandit.thompson_action_probabilities([900.0, 100.0, 500.0, 1.0], [100.0] * 4, n_draws=1000, seed=3)
    np.testing.assert_array_equal(pi[:, 0], [1, 0, 0, 0])
    np.testing.assert_array_equal(pi[:, 1], [0, 0, 1, 0])
    np.testing.assert_array_equal(pi[:, 2], [0, 1, 0, 0])
    # As many slots as items (no argpartition shortcut): a permutation matrix.
    pi = open_bandit.thompson_action_probabilities([900.0, 100.0, 500.0], [100.0] * 3, n_slots=3, n_draws=100, seed=3)
    np.testing.assert_array_equal(pi, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])


def test_thompson_probabilities_are_seeded_and_stable() -> None:
    alpha, beta = open_bandit.published_prior("men")
    a = open_bandit.thompson_action_probabilities(alpha, beta, n_draws=30_000, seed=7)
    b = open_bandit.thompson_action_probabilities(alpha, beta, n_draws=30_000, seed=np.random.default_rng(7))
    c = open_bandit.thompson_action_probabilities(alpha, beta, n_draws=30_000, seed=8)
    np.testing.assert_array_equal(a, b)
    assert 0 < np.abs(a - c).max() < 6 * 0.5 / np.sqrt(30_000) * np.sqrt(2)


def test_thompson_probabilities_match_obps_monte_carlo() -> None:
    """obp's BernoulliTS.compute_batch_action_dist with the production prior: the same law."""
    policy_module = pytest.importorskip("obp.policy")
    n_sim = 4000
    theirs = policy_module.BernoulliTS(n_actions=34, len_list=3, is_zozotown_prior=True, campaign="men",
                                       random_state=0).compute_batch_action_dist(n_sim=n_sim)[0]
    ours = open_bandit.thompson_action_probabilities(*open_bandit.published_prior("men"), n_draws=200_000, seed=0)
    # Each of obp's entries is a mean of 4000 indicators: within 5 standard errors of ours (plus ours' own noise).
    tolerance = 5 * np.sqrt(ours * (1 - ours) / n_sim + 0.25 / 200_000) + 1e-3
    assert np.all(np.abs(theirs - ours) < tolerance), np.abs(theirs - ours).max()


def test_action_shares(logs) -> None:
    log = logs["all", "random"]
    shares = open_bandit.action_shares(log)
    np.testing.assert_allclose(shares.sum(axis=0), 1.0)
    a, k = 14, 2
    assert shares[a, k] == np.sum((log.items == a) & (log.slots == k)) / np.sum(log.slots == k)
    assert np.abs(shares - 1 / 80).max() < 0.02  # a uniform log shows every item about equally often


# --- the estimators on the logs ---------------------------------------------------------------


def test_for_the_uniform_policy_ips_and_snips_are_the_plain_mean(logs) -> None:
    for campaign in CAMPAIGNS:
        log = logs[campaign, "random"]
        uniform = np.full((log.n_items, 3), 1.0 / log.n_items)
        values = open_bandit.estimates(log, uniform)
        assert values["IPS"] == pytest.approx(log.clicks.mean(), abs=1e-15)
        assert values["SNIPS"] == pytest.approx(log.clicks.mean(), abs=1e-15)
        # DM and DR average a per-(item, slot) model slightly shrunk towards 0: close to the mean, not equal.
        assert abs(values["DM"] / log.clicks.mean() - 1) < 0.05 and abs(values["DR"] / log.clicks.mean() - 1) < 0.05


def test_estimates_are_the_courses_estimators(logs, targets) -> None:
    log, pi = logs["women", "random"], targets["women"]
    values = open_bandit.estimates(log, pi)
    w = pi[log.items, log.slots] / log.propensities
    assert values["IPS"] == pytest.approx(np.mean(w * log.clicks), rel=1e-12)
    assert values["SNIPS"] == pytest.approx(np.sum(w * log.clicks) / np.sum(w), rel=1e-12)
    # The model is clicks / (1 + shown) per (item, slot); DM averages it under pi, slot by slot.
    shown = np.bincount(log.items * 3 + log.slots, minlength=46 * 3).reshape(46, 3)
    clicked = np.bincount(log.items * 3 + log.slots, weights=log.clicks, minlength=46 * 3).reshape(46, 3)
    model = clicked / (1 + shown)
    dm = np.mean((pi * model).sum(axis=0)[log.slots])
    assert values["DM"] == pytest.approx(dm, rel=1e-9)
    dr = dm + np.mean(w * (log.clicks - model[log.items, log.slots]))
    assert values["DR"] == pytest.approx(dr, rel=1e-9)
    # A target that shows one item in every slot it can: IPS counts that item's clicks K times over.
    only = np.zeros((46, 3))
    only[[0, 1, 2], [0, 1, 2]] = 1.0
    ips_only = offline.ips_estimate(log.clicks, only[log.items, log.slots], log.propensities)
    assert open_bandit.estimates(log, only)["IPS"] == ips_only


def test_clipping_caps_the_weights(logs, targets) -> None:
    log, pi = logs["all", "random"], targets["all"]
    w = pi[log.items, log.slots] / log.propensities
    for clip in (0.5, 2.0, 10.0):
        values = open_bandit.estimates(log, pi, clip=clip)
        assert values["IPS"] == pytest.approx(np.mean(np.minimum(w, clip) * log.clicks), rel=1e-12)
        assert values["DM"] == open_bandit.estimates(log, pi)["DM"]
    unclipped = open_bandit.estimates(log, pi)["IPS"]
    assert open_bandit.estimates(log, pi, clip=w.max() + 1)["IPS"] == pytest.approx(unclipped)


# --- the bootstrap and the intervals ----------------------------------------------------------


@pytest.mark.parametrize("clip", [None, 3.0])
def test_each_bootstrap_replicate_is_the_estimates_on_a_resampled_log(logs, targets, clip) -> None:
    log, pi = logs["men", "random"], targets["men"]
    replicates = open_bandit.bootstrap_estimates(log, pi, n_boot=5, seed=11, clip=clip)
    rng = np.random.default_rng(11)  # the same draws, one resample at a time
    for b in range(5):
        rows = rng.integers(0, len(log), size=len(log))
        resampled = log[rows]
        expected = open_bandit.estimates(resampled, pi, clip=clip)
        assert replicates["mean"][b] == pytest.approx(resampled.clicks.mean(), rel=1e-12)
        for name in ESTIMATORS:
            assert replicates[name][b] == pytest.approx(expected[name], rel=1e-9, abs=1e-15), (b, name)


def test_the_bootstrap_refuses_logs_whose_propensities_vary_within_a_group(logs, targets) -> None:
    with pytest.raises(ValueError, match="item and the slot only"):
        open_bandit.bootstrap_estimates(logs["all", "bts"], targets["all"], n_boot=2, seed=0)


def test_intervals_cover_a_known_value_at_about_the_nominal_rate() -> None:
    """Synthetic uniform logs with a known target value: the 90% intervals cover it about 90% of the time."""
    rng = np.random.default_rng(2024)
    n_items, n_rows, trials = 5, 2000, 200
    click_rates = np.array([[0.10, 0.08, 0.06], [0.20, 0.15, 0.10], [0.05, 0.05, 0.05],
                            [0.30, 0.25, 0.20], [0.02, 0.02, 0.01]])
    target = np.array([[0.1, 0.2, 0.3], [0.5, 0.3, 0.2], [0.1, 0.1, 0.1], [0.2, 0.3, 0.3], [0.1, 0.1, 0.1]])
    truth = np.mean((target * click_rates).sum(axis=0))  # slots equally likely
    covered = {name: 0 for name in ("normal", *ESTIMATORS)}
    for _ in range(trials):
        items, slots = rng.integers(0, n_items, n_rows), rng.integers(0, 3, n_rows)
        clicks = (rng.random(n_rows) < click_rates[items, slots]).astype(float)
        log = open_bandit.OpenBanditLog("synthetic", "random", n_items, items, slots, clicks,
                                        np.full(n_rows, 1 / n_items), np.full(n_rows, 24))
        replicates = open_bandit.bootstrap_estimates(log, target, n_boot=400, seed=rng)
        for name in ESTIMATORS:
            low, high = open_bandit.percentile_interval(replicates[name], level=0.9)
            covered[name] += low <= truth <= high
        weighted = target[items, slots] * n_items * clicks
        low, high = open_bandit.normal_interval(weighted, level=0.9)
        covered["normal"] += low <= truth <= high
    for name, count in covered.items():
        # 200 trials at 90%: a standard deviation of about 2.1%; allow 0.82 to 0.97
        assert 0.82 <= count / trials <= 0.97, (name, count / trials)


def test_normal_interval_is_mean_plus_minus_1_96_standard_errors() -> None:
    values = np.array([0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    low, high = open_bandit.normal_interval(values)
    half = 1.959963984540054 * values.std(ddof=1) / np.sqrt(len(values))
    assert (low, high) == pytest.approx((values.mean() - half, values.mean() + half), rel=1e-12)
    assert open_bandit.percentile_interval(np.arange(101.0), level=0.9) == pytest.approx((5.0, 95.0))


def test_events_needed_is_lesson_02s_rule() -> None:
    # n = 4 sigma^2 / delta^2: lesson 02's 8 p (1 - p) / delta^2 for two click rates both about p.
    p1, p2 = 0.083, 0.079
    assert open_bandit.events_needed(p1 * (1 - p1) + p2 * (1 - p2), p1 - p2) == int(np.ceil(
        4 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p1 - p2) ** 2))
    assert open_bandit.events_needed(1.0, 0.5) == 16 and open_bandit.events_needed(1.0, -0.5) == 16
    assert open_bandit.events_needed(1.0, 1.0, z=1.96) == 4  # 3.84 rounds up
    # At that n the standard error of the difference is at most delta / 2.
    n = open_bandit.events_needed(0.0123, 0.0021)
    assert np.sqrt(0.0123 / n) <= 0.0021 / 2 < np.sqrt(0.0123 / (n - 1))


# --- bad arguments --------------------------------------------------------------------------


def test_bad_arguments_raise_errors_that_name_them(logs, targets) -> None:
    log, pi = logs["men", "random"], targets["men"]
    with pytest.raises(ValueError, match="campaign must be one of 'all', 'men', 'women', got 'kids'"):
        open_bandit.load_log("kids", "random")
    with pytest.raises(ValueError, match="policy must be one of"):
        open_bandit.load_log("men", "epsilon-greedy")
    with pytest.raises(TypeError, match="campaign must be one of"):
        open_bandit.published_prior(3)
    with pytest.raises(ValueError, match="n_draws must be an integer >= 1"):
        open_bandit.thompson_action_probabilities([1.0, 2.0], [1.0, 1.0], n_draws=0)
    with pytest.raises(ValueError, match=r"n_slots must be an integer in \[1, 2\]"):
        open_bandit.thompson_action_probabilities([1.0, 2.0], [1.0, 1.0], n_slots=3)
    with pytest.raises(ValueError, match="alpha and beta must"):
        open_bandit.thompson_action_probabilities([1.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="beta must have shape"):
        open_bandit.thompson_action_probabilities([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match=r"target must have shape \(34, 3\)"):
        open_bandit.estimates(log, pi[:10])
    with pytest.raises(ValueError, match="every column"):
        open_bandit.estimates(log, pi * 0.5)
    with pytest.raises(ValueError, match="clip must be a finite number in"):
        open_bandit.estimates(log, pi, clip=0.0)
    with pytest.raises(ValueError, match="ridge must be a finite number in"):
        open_bandit.bootstrap_estimates(log, pi, ridge=-1.0)
    with pytest.raises(ValueError, match="n_boot must be an integer >= 1"):
        open_bandit.bootstrap_estimates(log, pi, n_boot=0)
    with pytest.raises(TypeError, match="n_boot must be an integer"):
        open_bandit.bootstrap_estimates(log, pi, n_boot=10.5)
    with pytest.raises(ValueError, match="level must be a finite number in"):
        open_bandit.percentile_interval(np.arange(10.0), level=1.0)
    with pytest.raises(ValueError, match="values must hold at least 2"):
        open_bandit.normal_interval([1.0])
    with pytest.raises(ValueError, match="variance must be a finite number in"):
        open_bandit.events_needed(0.0, 0.1)
    with pytest.raises(ValueError, match="difference must be a finite number other than 0"):
        open_bandit.events_needed(1.0, 0.0)
