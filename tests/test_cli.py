"""The ``mediarl-lessons`` command line: listings, demos, and one-line usage errors."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import subprocess
import sys

import numpy as np
import pytest

import mediarl_lessons
from mediarl_lessons import demos, mdp
from mediarl_lessons.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_envs_lists_every_id_with_a_description(capsys):
    code, out, _ = run_cli(capsys, "envs")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == len(mediarl_lessons.ENVIRONMENTS)
    for env_id, line in zip(mediarl_lessons.ENVIRONMENTS, lines):
        assert line.startswith(env_id) and len(line.split(None, 1)[1]) > 20


TABULAR = ["session-retention", "ad-pacing"]
#: The last rows of each tabular scenario's table: the learners, then the optimum.
LAST_ROWS = {"session-retention": ["q_learning", "sarsa", "expected_sarsa", "optimal"],
             "ad-pacing": ["q_learning", "sarsa", "expected_sarsa", "dqn", "optimal"]}


@functools.cache
def tabular_demo(scenario: str, seed: int) -> dict:
    """One demo run as parsed JSON, shared by the tests below (the learners train for seconds)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", scenario, "--seed", str(seed), "--episodes", "1000", "--json"]) == 0
    return json.loads(out.getvalue())


def tabular_means(scenario: str, seed: int) -> dict[str, float]:
    """Mean returns of a tabular scenario. The full ad-pacing demo (with its 10 s DQN) runs for
    seed 0 only; other seeds of ad-pacing run just its tabular line-up, the same function."""
    if scenario == "ad-pacing" and seed != 0:
        returns = demos.tabular_baselines("mediarl/AdPacing-v0", gamma=mdp.AD_PACING_GAMMA,
                                          training_episodes=10_000, seed=seed, episodes=1000)
        return {name: float(np.mean(values)) for name, values in returns.items()}
    return {k: v["mean_return"] for k, v in tabular_demo(scenario, seed)["results"].items()}


@pytest.mark.parametrize("scenario", TABULAR)
def test_demo_json_has_the_documented_shape_and_the_expected_ranking(scenario):
    report = tabular_demo(scenario, 0)
    assert report["scenario"] == scenario and report["seed"] == 0
    results = report["results"]
    assert {"random", "myopic", "optimal"} <= set(results)
    constant = [key for key in results if key.startswith("always_")]
    assert len(constant) >= 2
    for row in results.values():
        assert set(row) == {"mean_return", "std_return", "episodes"}
        assert row["episodes"] == 1000
    assert list(results)[-len(LAST_ROWS[scenario]):] == LAST_ROWS[scenario]
    optimal = results["optimal"]["mean_return"]
    baselines = [results[key]["mean_return"] for key in ["random", "myopic", *constant]]
    assert optimal > max(baselines), f"optimal {optimal:.2f} should beat every baseline, got {baselines}"


# q_learning / optimal over seeds 0-24 (min / 5th percentile / median): session-retention
# 0.961 / 0.961 / 0.969 (either the optimal policy, 1.0, or one worth about 0.96 of it), ad-pacing
# 0.959 / 0.962 / 0.971. Never below 0.95; the margin is about one percentage point.
@pytest.mark.parametrize("scenario", TABULAR)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_demo_q_learning_reaches_95_percent_of_the_optimum(scenario, seed):
    results = tabular_means(scenario, seed)
    assert results["q_learning"] >= 0.95 * results["optimal"], \
        f"{scenario} seed {seed}: q_learning {results['q_learning']:.2f} vs optimal {results['optimal']:.2f}"


def test_demo_is_repeatable_for_a_seed_and_changes_with_it(capsys):
    first = run_cli(capsys, "demo", "session-retention", "--seed", "1", "--episodes", "50", "--json")[1]
    again = run_cli(capsys, "demo", "session-retention", "--seed", "1", "--episodes", "50", "--json")[1]
    other = run_cli(capsys, "demo", "session-retention", "--seed", "2", "--episodes", "50", "--json")[1]
    assert first == again
    assert json.loads(first)["results"] != json.loads(other)["results"]


def test_demo_table_is_readable(capsys):
    code, out, _ = run_cli(capsys, "demo", "session-retention", "--episodes", "20")
    assert code == 0
    assert "policy" in out and "mean return" in out and "q_learning" in out and "optimal" in out


def test_demo_plot_writes_a_png(capsys, tmp_path):
    target = tmp_path / "returns.png"
    code, _, _ = run_cli(capsys, "demo", "session-retention", "--episodes", "20", "--plot", str(target))
    assert code == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], "required: COMMAND"),
        (["dance"], "invalid choice"),
        (["demo", "cooking-show"], "unknown scenario 'cooking-show'"),
        (["demo", "ad-pacing", "--seed", "minus-one"], "--seed"),
        (["demo", "ad-pacing", "--seed", "-1"], "--seed"),
        (["demo", "ad-pacing", "--episodes", "0"], "--episodes"),
        (["demo", "ad-pacing", "--plot", "chart.svg"], "ending in .png"),
        (["demo", "ad-pacing", "--plot", "/no/such/folder/chart.png"], "folder does not exist"),
        (["book", "--out", __file__], "is a file, not a folder"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, expected):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("mediarl-lessons: error: "), err
    assert expected in err
    assert "Traceback" not in err + out


def test_console_script_and_python_dash_m_are_installed():
    help_text = subprocess.run([sys.executable, "-m", "mediarl_lessons", "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "demo" in help_text and "envs" in help_text
    failed = subprocess.run([sys.executable, "-m", "mediarl_lessons", "demo"],
                            capture_output=True, text=True)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr


def test_book_builds_the_website_and_says_where_to_open_it(tmp_path):
    """The README's third command, as a learner runs it (its own process: Sphinx and the themes it
    loads stay out of this one). The pages themselves are read in Chromium by tests/browser/test_site.py."""
    from pathlib import Path

    repo = Path(mediarl_lessons.__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-m", "mediarl_lessons", "book", "--out", str(tmp_path / "site")],
                            capture_output=True, text=True, timeout=600)
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.startswith("website built in ") and f"open {tmp_path / 'site' / 'index.html'} in a browser" in out, out
    lessons = sorted(p.stem for p in (repo / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    pages = sorted(p.stem for p in (tmp_path / "site" / "notebooks").glob("*.html"))
    assert pages == lessons and len(lessons) >= 7
    environments = sorted(p.stem for p in (tmp_path / "site" / "docs" / "environments").glob("*-v*.html"))
    assert environments == sorted(env_id.split("/")[1] for env_id in mediarl_lessons.ENVIRONMENTS)
    assert not list((tmp_path / "site").rglob("*solutions*"))


# Lesson 01's ranking in the live-channels demo (10,000 viewers per line-up, 8 line-ups by
# default): thompson and ucb above epsilon_greedy, every learner above random, the oracle above all.
# Measured from 600 line-ups (episode seeds 0-599) over every demo seed 0-592: the ranking never
# failed; mean stays of ucb minus epsilon_greedy min 58 / 5th percentile 111 / median 211,
# thompson minus epsilon_greedy 124 / 167 / 256, oracle minus thompson 68 / 79 / 96 (seeds
# 0, 1, 2: ucb gap 309, 334, 330). On the vectorised testbed (30,000 line-ups, 3750 disjoint
# demos) it never failed either. At the old 1000 viewers ucb and epsilon_greedy tie.
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_demo_live_channels_shows_lesson_01s_ranking(capsys, seed):
    code, out, _ = run_cli(capsys, "demo", "live-channels", "--seed", str(seed), "--json")
    report = json.loads(out)
    results = {k: v["mean_return"] for k, v in report["results"].items()}
    assert code == 0 and list(results) == ["random", "epsilon_greedy", "ucb", "thompson", "oracle"]
    default = demos.SCENARIOS["live-channels"].default_episodes
    assert all(row["episodes"] == default for row in report["results"].values())
    for learner in ("ucb", "thompson"):
        assert results["epsilon_greedy"] < results[learner] < results["oracle"], results
    assert results["random"] < results["epsilon_greedy"], results
    # One line-up per episode, longer than the registered 1000 viewers: even a random feed keeps more.
    assert results["random"] > 1000, results
    differences = report["differences"]
    assert list(differences) == ["thompson - epsilon_greedy", "ucb - epsilon_greedy"]
    for pair, row in differences.items():
        policy, baseline = pair.split(" - ")
        assert row["mean"] == pytest.approx(results[policy] - results[baseline]) and row["episodes"] == default
        assert row["standard_error"] > 0, row


def test_demo_live_channels_table_names_the_horizon_and_the_paired_differences(capsys):
    code, out, _ = run_cli(capsys, "demo", "live-channels", "--episodes", "1")
    assert code == 0
    assert f"{demos.LIVE_CHANNELS_VIEWERS:,} viewers per line-up" in out and "lesson 01" in out
    assert "paired differences" in out and "ucb - epsilon_greedy" in out
    assert "one episode: no standard error" in out  # a single episode has no spread to estimate


def test_demo_news_feed_linucb_beats_every_context_free_bandit(capsys):
    code, out, _ = run_cli(capsys, "demo", "news-feed", "--episodes", "3", "--json")
    results = {k: v["mean_return"] for k, v in json.loads(out)["results"].items()}
    assert code == 0 and list(results) == ["random", "best_context_free", "linucb", "oracle"]
    # Over demo seeds 0-72 (3 episodes each), linucb / best_context_free was at least 1.60 and
    # oracle / linucb at least 1.32. Whether the best context-free bandit beats a random feed is
    # left out: blind to the reader it is barely better than random (median 1.045), and over
    # 3 episodes it fell below random on 2 of 25 seeds: a fact about a seed, not a claim.
    assert results["linucb"] >= 1.10 * results["best_context_free"], results
    assert results["linucb"] >= 1.10 * results["random"] and results["linucb"] < results["oracle"], results


def test_demo_ad_pacing_dqn_is_within_ten_percent_of_the_optimum():
    # Lesson 06's claim, on the demo's 1000 days (seed 0): the DQN's greedy bids, scored on the
    # same days as the DP policy, earn at least 90% of its clicks and beat every fixed bid.
    # Over seeds 0-24 (min / 5th percentile / median): dqn / optimal 0.941 / 0.944 / 0.964,
    # dqn / best fixed policy 1.325 / 1.329 / 1.356; neither assert failed on any seed.
    results = {k: v["mean_return"] for k, v in tabular_demo("ad-pacing", 0)["results"].items()}
    baselines = [results[key] for key in results if key in ("random", "myopic") or key.startswith("always_")]
    assert results["dqn"] >= 0.90 * results["optimal"], results
    assert results["dqn"] > 1.2 * max(baselines), results


def test_demo_interest_feed_dqn_beats_the_myopic_oracle(capsys):
    code, out, _ = run_cli(capsys, "demo", "interest-feed", "--json")
    report = json.loads(out)
    assert code == 0 and report["scenario"] == "interest-feed"
    assert list(report["results"]) == ["random", "myopic_oracle", "dqn"]
    assert all(row["episodes"] == 100 for row in report["results"].values())
    results = {k: v["mean_return"] for k, v in report["results"].items()}
    # Lesson 05's claim: a trained DQN beats the myopic oracle by >= 10%; the oracle beats a random feed.
    # Over seeds 0-24 (min / 5th percentile / median): dqn / myopic_oracle 1.26 / 1.30 / 1.35,
    # myopic_oracle / random 1.16 / 1.17 / 1.19; neither assert failed on any seed.
    assert results["dqn"] >= 1.10 * results["myopic_oracle"], results
    assert results["myopic_oracle"] > 1.05 * results["random"], results
