"""How robust is each claim about a learned agent? Every one re-run over many training seeds.

    python bench/claims.py [--seeds 48] [--jobs 2] [--only lesson05 ...] [--markdown FILE] [--save FILE]
    python bench/claims.py --load FILE [--markdown FILE]     # the claims on a saved run, no training

A trained agent depends on every random draw and every float of its training, and floats
differ between CPUs and math libraries: the same seed trains another network on another
machine. So a lesson's assert about a learned agent must state a property of the METHOD,
true for almost any set of training runs, not a fact about the runs of the machine that
wrote it. This benchmark measures how true each one is.

For each experiment of lessons 04-06, exercise 05's solution and the tests, it trains the
agents of ``--seeds`` training seeds (a pool: seeds 0, 1, ...; the agents draw from
``agent_rng(seed)`` as the lessons' do) and records, per seed, every quantity a claim is
about. A claim is about a SET of seeds, of the size its lesson uses (5 seeds in lessons 05
and 06, 3 in lesson 04; read from the notebook's own ``SEEDS``): "every seed above 0.95", "the
mean of A above the mean of B". Each claim is evaluated on every set of that size drawn from
the pool (all of them, or 20,000 at random when there are more): the share of sets on which
it passes estimates the chance that a learner's run passes it (the average over all subsets
is the unbiased estimate of that chance). Printed per claim: where it is, what is asserted,
the distribution of the asserted quantity over the sets (min / 5th percentile / median) and
the pass share. The last line is the worst claim's pass share; the goal is at least 0.99.

The code measured is the lessons' own wherever they define it: the functions and classes a
claim depends on (``learn`` of lesson 04, ``estimated_over_earned`` of lesson 05, exercise
05's ``train_dqn``, ...) and the constants (``SEEDS``, ``STEPS``, ...) are read from the
notebooks and executed here; and each claim names the assert it measures, which must appear
verbatim in its file (``tests/test_bench_claims.py`` checks that without training anything).
``docs/claims.md`` holds the table of the last run. Run it under another numeric backend by
setting the environment, e.g. ``ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LESSON_04 = "notebooks/04_tabular_q_learning.ipynb"
LESSON_05 = "notebooks/05_deep_q_networks.ipynb"
LESSON_06 = "notebooks/06_capstone_ad_pacing_dqn.ipynb"
SOLUTION_05 = "solutions/05_dqn.ipynb"
TEST_DQN = "tests/test_dqn.py"
TEST_TABULAR = "tests/test_tabular.py"
#: At most this many seed sets per claim (all of them when there are fewer).
MAX_SETS = 20_000


# =============================================================================================
# Reading the lessons' own code
# =============================================================================================
def code_cells(path: str) -> list[str]:
    """The sources of a notebook's code cells, or of a Python file as one cell."""
    full = ROOT / path
    if full.suffix != ".ipynb":
        return [full.read_text()]
    cells = json.loads(full.read_text())["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def _is_constant(node: ast.stmt) -> bool:
    """``NAME = literal`` or ``A, B = literal, literal`` with ALL-CAPS names."""
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return False
    target = node.targets[0]
    names = target.elts if isinstance(target, ast.Tuple) else [target]
    if not all(isinstance(name, ast.Name) and name.id.isupper() for name in names):
        return False
    try:
        ast.literal_eval(node.value)
    except ValueError:
        return False
    return True


def _defined_names(node: ast.stmt) -> set[str]:
    """The names a ``def``, ``class`` or ``NAME = ...`` statement defines (empty for others)."""
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign) and all(isinstance(target, ast.Name) for target in node.targets):
        return {target.id for target in node.targets}
    return set()


def load_definitions(path: str, names: tuple[str, ...] = (), namespace: dict | None = None,
                     imports: bool = True) -> dict[str, Any]:
    """Execute a notebook's (or file's) constants, the named functions, classes and assignments,
    and (with ``imports``) its first code cell, in ``namespace``; fail if a name is missing."""
    namespace = {} if namespace is None else namespace
    cells = code_cells(path)
    if imports:
        with contextlib.redirect_stdout(io.StringIO()):  # a lesson's first cell may print
            exec(compile(cells[0], f"{path} (first cell)", "exec"), namespace)
    found = set()
    for source in cells:
        for node in ast.parse(source).body:
            defined = _defined_names(node)
            if _is_constant(node) or (defined and defined <= set(names)):
                exec(compile(ast.Module([node], []), path, "exec"), namespace)
                found |= defined
    missing = set(names) - found
    if missing:
        raise LookupError(f"{path} no longer defines {sorted(missing)}: update bench/claims.py")
    return namespace


def quiet(iterable: Any, *args: Any, **kwargs: Any) -> Any:
    """A stand-in for tqdm inside the benchmark: no progress bars from the lessons' code."""
    return iterable


# =============================================================================================
# The experiments: per training seed, every quantity a claim is about
# =============================================================================================
def lesson04(seeds: list[int]) -> tuple[list[dict], dict]:
    import gymnasium as gym

    ns = load_definitions(LESSON_04, ("ALGORITHMS", "learn", "TimeLimitAsEnd"))
    ns["tqdm"], ns["SEEDS"] = quiet, tuple(seeds)
    mdp, QLearning, agent_rng = ns["mdp"], ns["QLearning"], ns["agent_rng"]
    records = [{"seed": seed} for seed in seeds]
    constants = {}
    for key, (env_id, episodes, gamma) in {"sr": ("mediarl/SessionRetention-v0", 2000, mdp.SESSION_RETENTION_GAMMA),
                                           "ap": ("mediarl/AdPacing-v0", 10_000, mdp.AD_PACING_GAMMA)}.items():
        _, _, fraction, best, (P, R, optimal) = ns["learn"](env_id, episodes, gamma)
        for record in records:
            for name in ns["ALGORITHMS"]:
                record[f"{key} {name}"] = fraction[name, record["seed"]]
        constants[f"{key} best"] = best
        if key == "ap":
            env = gym.make(env_id)
            baselines = mdp.compare_policies(P, R, mdp.reference_policies(R, optimal, env.unwrapped.action_names),
                                             env.unwrapped.initial_state_distribution, 1.0)
            constants["ap best baseline"] = max(v for k, v in baselines.items() if k != "optimal")
    # Section 5 of the lesson: a time limit of 5 steps, bootstrapped or (the bug) treated as an end.
    env0 = gym.make("mediarl/SessionRetention-v0")
    P_sr, R_sr = mdp.model_from_env(env0)
    start_sr = env0.unwrapped.initial_state_distribution
    constants["sr true start"] = mdp.start_value(mdp.value_iteration(P_sr, R_sr, 1.0)[0], start_sr)
    for label, wrap in (("right", lambda e: e), ("wrong", ns["TimeLimitAsEnd"])):
        for record in records:
            env = wrap(gym.make("mediarl/SessionRetention-v0", max_episode_steps=5))
            agent = QLearning.from_env(env, seed=agent_rng(record["seed"]))
            agent.train(env, 5000)
            record[f"truncation {label}"] = mdp.start_value(agent.q_values.max(axis=1), start_sr)
    return records, constants


def lesson05(seeds: list[int]) -> tuple[list[dict], dict]:
    import dataclasses

    import gymnasium as gym

    ns = load_definitions(LESSON_05, ("estimated_over_earned",))
    env = gym.make("mediarl/InterestFeed-v0")
    ns["env"] = env
    agent_rng, DQNAgent, DQNSettings = ns["agent_rng"], ns["DQNAgent"], ns["DQNSettings"]
    train_together, evaluate_policy = ns["train_together"], ns["evaluate_policy"]
    myopic, far_sighted = ns["myopic_oracle_policy"], ns["far_sighted_policy"]
    EVAL_SEED, EVAL_SESSIONS, STEPS = ns["EVAL_SEED"], ns["EVAL_SESSIONS"], ns["STEPS"]
    oracle = evaluate_policy(env, lambda obs, info: myopic(env), episodes=EVAL_SESSIONS, seed=EVAL_SEED).mean()
    random_actions = agent_rng(EVAL_SEED)
    random_feed = evaluate_policy(env, lambda obs, info: int(random_actions.integers(5)), episodes=EVAL_SESSIONS,
                                  seed=EVAL_SEED).mean()
    records = [{"seed": seed} for seed in seeds]
    configs = {name: dataclasses.replace(ns["ABLATION_SETTINGS"], **switches)
               for name, switches in ns["ABLATIONS"].items()}
    configs["course"] = DQNSettings()
    for name, settings in configs.items():
        feeds = [gym.make("mediarl/InterestFeed-v0") for _ in seeds]
        agents = [DQNAgent.from_env(env, settings, seed=agent_rng(seed)) for seed in seeds]
        train_together(agents, feeds, STEPS)
        for record, agent in zip(records, agents):
            record[name] = agent.evaluate(env, EVAL_SESSIONS, seed=EVAL_SEED).mean() / oracle
            if name in ("+ target network (DQN)", "+ double (Double DQN)"):
                record[f"{name} estimated/earned"] = ns["estimated_over_earned"](agent)
            if name == "course":
                demo_env = gym.make("mediarl/InterestFeed-v0")
                same_oracle, same_far = [], []
                for viewer in range(300):
                    obs, _ = demo_env.reset(seed=viewer, options={"minutes_left": 10.0})
                    choice = agent.q_values(obs).argmax()
                    same_oracle.append(choice == myopic(demo_env))
                    same_far.append(choice == far_sighted(demo_env))
                record["same as far-sighted - same as oracle"] = np.mean(same_far) - np.mean(same_oracle)
    return records, {"oracle": oracle, "random": random_feed}


def lesson06(seeds: list[int]) -> tuple[list[dict], dict]:
    import gymnasium as gym
    import torch

    ns = load_definitions(LESSON_06, ("td_errors", "expected_visits", "bid_placed"))
    mdp, pacing, agent_rng, QLearning = ns["mdp"], ns["pacing"], ns["agent_rng"], ns["QLearning"]
    env = gym.make("mediarl/AdPacing-v0")
    day = env.unwrapped
    P, R = mdp.model_from_env(env)
    start = day.initial_state_distribution
    v_star, optimal = mdp.value_iteration(P, R, 1.0)
    best = mdp.start_value(v_star, start)
    n_states, n_actions = R.shape
    ns.update(P=P, R=R, start=start, day=day, n_states=n_states, n_actions=n_actions, torch=torch,
              budget_left=np.array([day.decode(s).budget_left for s in range(n_states)]))
    features = pacing.make_env(reward_scale=1.0).features
    q_star = mdp.q_from_v(P, R, v_star, 1.0)
    records = {seed: {"seed": seed} for seed in seeds}
    for label, scale in (("scaled", pacing.REWARD_SCALE), ("raw", 1.0)):
        for seed, run in zip(seeds, pacing.train_dqns([agent_rng(seed) for seed in seeds], reward_scale=scale)):
            record = records[seed]
            policy = pacing.dqn_policy_table(run.agent, run.env)
            record[f"fraction {label}"] = mdp.start_value(mdp.policy_values(P, R, policy, 1.0), start) / best
            record[f"estimate {label}"] = start @ run.agent.q_values(features).max(axis=1) / scale / best
            record[f"outside {label}"] = np.mean(np.abs(ns["td_errors"](run.agent)) > 1)
            if label != "scaled":
                continue
            record["days seen"] = len(run.log.episode_returns)
            played = run.agent.evaluate(pacing.make_env(reward_scale=1.0), episodes=1000, seed=0)
            standard_error = played.std(ddof=1) / np.sqrt(len(played))
            gap = abs(played.mean() - record["fraction scaled"] * best)
            record["|played - exact| / standard error"] = gap / standard_error
            record["interval width / optimum"] = 2 * 1.96 * standard_error / best
            record["interval width"] = 2 * 1.96 * standard_error
            visits = ns["expected_visits"](policy)
            given_up = v_star - q_star[np.arange(n_states), policy]
            differs = ns["bid_placed"](policy) != ns["bid_placed"](optimal)
            record["share differing"] = visits @ differs / visits.sum()
            record["cost per differing decision"] = visits @ (given_up * differs) / (visits @ differs)
            record["lemma error"] = abs(visits @ given_up - best * (1 - record["fraction scaled"]))
    for seed, record in records.items():
        for label, days in (("table 10,000 days", 10_000), ("table same days", record["days seen"])):
            agent = QLearning.from_env(env, gamma=1.0, seed=agent_rng(seed))
            agent.train(env, days)
            record[label] = mdp.start_value(mdp.policy_values(P, R, agent.greedy_policy(), 1.0), start) / best
    return list(records.values()), {"best": best}


def solution05(seeds: list[int]) -> tuple[list[dict], dict]:
    import gymnasium as gym

    from mediarl_lessons.agents import dqn

    # The learner's five pieces are the package's references (the solution's pass the same checks).
    ns = {name: getattr(dqn, name) for name in ("Batch", "ReplayBuffer", "td_targets", "double_dqn_targets",
                                                 "dqn_loss", "soft_update")}
    load_definitions(SOLUTION_05, ("make_q_network", "greedy_policy", "train_dqn"), ns)
    ns["tqdm"] = quiet
    env = ns["env"] = gym.make("mediarl/InterestFeed-v0")
    ns["obs_dim"], ns["n_actions"] = env.observation_space.shape[0], int(env.action_space.n)
    evaluate_policy, EVAL_EPISODES = ns["evaluate_policy"], ns["EVAL_EPISODES"]
    oracle = evaluate_policy(env, lambda obs, info: ns["myopic_oracle_policy"](env), episodes=EVAL_EPISODES,
                             seed=10_000).mean()
    random_actions = ns["agent_rng"](10_000)  # as the solution's random feed
    random_feed = evaluate_policy(env, lambda obs, info: int(random_actions.integers(ns["n_actions"])),
                                  episodes=EVAL_EPISODES, seed=10_000).mean()
    records = []
    for seed in seeds:
        q_net, _ = ns["train_dqn"](seed)
        value = evaluate_policy(env, ns["greedy_policy"](q_net), episodes=EVAL_EPISODES, seed=10_000).mean()
        records.append({"seed": seed, "ratio": value / oracle, "clicks - random feed": value - random_feed})
    return records, {"oracle": oracle}


def test_dqn(seeds: list[int]) -> tuple[list[dict], dict]:
    import gymnasium as gym

    from mediarl_lessons import agent_rng
    from mediarl_lessons.agents.dqn import DQNAgent, DQNSettings
    from mediarl_lessons.agents.dqn_together import train_together
    from mediarl_lessons.evaluation import evaluate_policy

    ns = load_definitions(TEST_DQN, imports=False)
    env = gym.make("mediarl/InterestFeed-v0")
    oracle = np.mean([evaluate_policy(env, lambda obs, info: env.unwrapped.myopic_action(), episodes=100,
                                      seed=s).mean() for s in ns["CLAIM_EVAL_SEEDS"]])
    agents = [DQNAgent.from_env(env, DQNSettings(), seed=agent_rng(seed)) for seed in seeds]
    train_together(agents, [gym.make("mediarl/InterestFeed-v0") for _ in seeds], ns["CLAIM_STEPS"])
    records = [{"seed": seed, "ratio": np.mean([agent.evaluate(env, 100, seed=s).mean()
                                                for s in ns["CLAIM_EVAL_SEEDS"]]) / oracle}
               for seed, agent in zip(seeds, agents)]
    return records, {}


def test_tabular(seeds: list[int]) -> tuple[list[dict], dict]:
    import gymnasium as gym

    from mediarl_lessons import agent_rng, mdp
    from mediarl_lessons.agents import ExpectedSarsa, QLearning, Sarsa

    def fraction(env_id: str, gamma: float, agent_class: type, episodes: int, seed: int) -> float:
        env = gym.make(env_id)
        P, R = mdp.model_from_env(env)
        start = env.unwrapped.initial_state_distribution
        agent = agent_class.from_env(env, gamma=gamma, seed=agent_rng(seed))
        agent.train(env, episodes)
        return (mdp.start_value(mdp.policy_values(P, R, agent.greedy_policy(), gamma), start)
                / mdp.start_value(mdp.value_iteration(P, R, gamma)[0], start))

    sr, ap = ("mediarl/SessionRetention-v0", mdp.SESSION_RETENTION_GAMMA), ("mediarl/AdPacing-v0", mdp.AD_PACING_GAMMA)
    records = []
    for seed in seeds:
        records.append({"seed": seed,
                        "sr q-learning 2000": fraction(*sr, QLearning, 2000, seed),
                        "ap q-learning 8000": fraction(*ap, QLearning, 8000, seed),
                        "sr sarsa 2000": fraction(*sr, Sarsa, 2000, seed),
                        "sr expected sarsa 2000": fraction(*sr, ExpectedSarsa, 2000, seed),
                        "ap sarsa 2000": fraction(*ap, Sarsa, 2000, seed),
                        "ap expected sarsa 2000": fraction(*ap, ExpectedSarsa, 2000, seed)})
    return records, {}


@dataclass(frozen=True)
class Experiment:
    run: Callable[[list[int]], tuple[list[dict], dict]]
    chunk: int
    """Seeds per task: the DQN experiments train a chunk's agents together."""
    set_size: Callable[[], int]
    """How many seeds the claims are about: the file's own number."""


def seeds_of(path: str, name: str = "SEEDS") -> Callable[[], int]:
    return lambda: len(load_definitions(path, imports=False)[name])


EXPERIMENTS: dict[str, Experiment] = {
    "lesson04": Experiment(lesson04, 6, seeds_of(LESSON_04)),
    "lesson05": Experiment(lesson05, 6, seeds_of(LESSON_05)),
    "lesson06": Experiment(lesson06, 6, seeds_of(LESSON_06)),
    "solution05": Experiment(solution05, 3, seeds_of(SOLUTION_05)),
    "test_dqn": Experiment(test_dqn, 6, seeds_of(TEST_DQN, "CLAIM_TRAINING_SEEDS")),
    "test_tabular": Experiment(test_tabular, 6, lambda: 3),
}


# =============================================================================================
# The claims
# =============================================================================================
@dataclass(frozen=True)
class Claim:
    """One assert about learned agents: ``quantity(seed set) <op> threshold``."""

    experiment: str
    where: str
    assert_text: str
    """A piece of the assert, verbatim in ``where``."""
    what: str
    quantity: Callable[[dict[str, np.ndarray], dict], float]
    op: str
    threshold: float
    set_size: int | None = None
    """Overrides the experiment's (a claim about one seed, say)."""

    def passes(self, value: float) -> bool:
        return {">": value > self.threshold, ">=": value >= self.threshold, "<": value < self.threshold}[self.op]


def _mean(key: str) -> Callable[[dict, dict], float]:
    return lambda r, c: float(np.mean(r[key]))


def _min(key: str) -> Callable[[dict, dict], float]:
    return lambda r, c: float(np.min(r[key]))


def _max(key: str) -> Callable[[dict, dict], float]:
    return lambda r, c: float(np.max(r[key]))


ONLINE, REPLAY, DQN, DOUBLE = ("online (no replay, no target)", "+ replay (no target)", "+ target network (DQN)",
                               "+ double (Double DQN)")

CLAIMS: list[Claim] = [
    # ---- lesson 04: tabular TD control --------------------------------------------------------
    *[Claim("lesson04", LESSON_04, 'assert fraction[name, seed] >= 0.95', f"SessionRetention: {name}, worst seed",
            _min(f"sr {name}"), ">=", 0.95) for name in ("Q-learning", "SARSA", "Expected SARSA")],
    Claim("lesson04", LESSON_04, 'assert fraction_ap["Q-learning", seed] >= 0.95', "AdPacing: Q-learning, worst seed",
          _min("ap Q-learning"), ">=", 0.95),
    Claim("lesson04", LESSON_04, 'assert np.mean([fraction_ap["Q-learning", s] for s in SEEDS]) > max(',
          "AdPacing: mean Q-learning - best mean of SARSA, Expected SARSA",
          lambda r, c: float(np.mean(r["ap Q-learning"])
                             - max(np.mean(r["ap SARSA"]), np.mean(r["ap Expected SARSA"]))),
          ">", 0.0),
    Claim("lesson04", LESSON_04, 'assert min(fraction_ap["Q-learning", s] for s in SEEDS) * best_ap > max(',
          "AdPacing: Q-learning's worst seed - best fixed policy (clicks)",
          lambda r, c: float(np.min(r["ap Q-learning"]) * c["ap best"] - c["ap best baseline"]), ">", 0.0),
    Claim("lesson04", LESSON_04, "assert abs(right / true_start - 1) < 0.15",
          "truncation bootstrapped: |mean estimate / truth - 1|",
          lambda r, c: float(abs(np.mean(r["truncation right"]) / c["sr true start"] - 1)), "<", 0.15),
    Claim("lesson04", LESSON_04, "assert wrong < 0.4 * true_start", "truncation as an end: mean estimate / truth",
          lambda r, c: float(np.mean(r["truncation wrong"]) / c["sr true start"]), "<", 0.4),
    # ---- lesson 05: DQN's ablation and the course's DQN ----------------------------------------
    Claim("lesson05", LESSON_05, "assert np.all(ratio[online] < 1.0)", "online: best seed / oracle", _max(ONLINE),
          "<", 1.0),
    Claim("lesson05", LESSON_05, "assert ratio[replay].mean() > ratio[online].mean()",
          "mean replay - mean online (x oracle)", lambda r, c: float(np.mean(r[REPLAY]) - np.mean(r[ONLINE])),
          ">", 0.0),
    Claim("lesson05", LESSON_05, "assert np.all(ratio[dqn] > 1.0)", "DQN: worst seed / oracle", _min(DQN), ">", 1.0),
    Claim("lesson05", LESSON_05, "ratio[dqn].mean() > ratio[replay].mean() + 0.05", "mean DQN - mean replay",
          lambda r, c: float(np.mean(r[DQN]) - np.mean(r[REPLAY])), ">", 0.05),
    Claim("lesson05", LESSON_05, "assert ratio[dqn].min() > ratio[replay].min()", "worst DQN - worst replay",
          lambda r, c: float(np.min(r[DQN]) - np.min(r[REPLAY])), ">", 0.0),
    Claim("lesson05", LESSON_05, "assert np.all(ratio[double] > 1.0)", "Double DQN: worst seed / oracle",
          _min(DOUBLE), ">", 1.0),
    Claim("lesson05", LESSON_05, "ratio[double].mean() > ratio[replay].mean() + 0.05", "mean Double DQN - mean replay",
          lambda r, c: float(np.mean(r[DOUBLE]) - np.mean(r[REPLAY])), ">", 0.05),
    Claim("lesson05", LESSON_05, "assert overestimate[dqn].mean() > 1.05", "DQN: mean estimated / earned",
          _mean(f"{DQN} estimated/earned"), ">", 1.05),
    Claim("lesson05", LESSON_05, "assert overestimate[double].mean() < overestimate[dqn].mean() - 0.05",
          "mean estimated / earned: DQN - Double DQN",
          lambda r, c: float(np.mean(r[f"{DQN} estimated/earned"]) - np.mean(r[f"{DOUBLE} estimated/earned"])),
          ">", 0.05),
    Claim("lesson05", LESSON_05, "assert abs(overestimate[double].mean() - 1) < 0.15",
          "Double DQN: |mean estimated / earned - 1|",
          lambda r, c: float(abs(np.mean(r[f"{DOUBLE} estimated/earned"]) - 1)), "<", 0.15),
    Claim("lesson05", LESSON_05, "assert returns.mean() >= 1.10 * oracle_clicks", "course's DQN: worst seed / oracle",
          _min("course"), ">=", 1.10),
    Claim("lesson05", LESSON_05, "assert np.all(far_sighted > oracle)",
          "course's DQN: worst seed's share like far-sighted - like oracle",
          _min("same as far-sighted - same as oracle"), ">", 0.0),
    Claim("lesson05", LESSON_05, "far_sighted.mean() > oracle.mean() + 0.2",
          "course's DQN: mean share like far-sighted - like oracle",
          _mean("same as far-sighted - same as oracle"), ">", 0.2),
    # ---- lesson 06: DQN pacing an ad budget ---------------------------------------------------
    Claim("lesson06", LESSON_06, "assert worst >= 0.90", "rewards x 0.1: worst seed / DP optimum",
          _min("fraction scaled"), ">=", 0.90),
    Claim("lesson06", LESSON_06, 'assert seed_mean(outside, "rewards x 0.1") < 0.02',
          "rewards x 0.1: mean share of TD errors beyond 1", _mean("outside scaled"), "<", 0.02),
    Claim("lesson06", LESSON_06, 'seed_mean(outside, "raw rewards") > 0.40', "raw: mean share of TD errors beyond 1",
          _mean("outside raw"), ">", 0.40),
    Claim("lesson06", LESSON_06, 'assert abs(seed_mean(estimate, "rewards x 0.1") - 1) < 0.10',
          "rewards x 0.1: |mean value of a day / truth - 1|",
          lambda r, c: float(abs(np.mean(r["estimate scaled"]) - 1)),
          "<", 0.10),
    Claim("lesson06", LESSON_06, 'seed_mean(estimate, "raw rewards") < 0.85', "raw: mean value of a day / truth",
          _mean("estimate raw"), "<", 0.85),
    Claim("lesson06", LESSON_06, 'assert seed_mean(fraction, "rewards x 0.1") > seed_mean(fraction, "raw rewards")',
          "mean policy value: scaled - raw",
          lambda r, c: float(np.mean(r["fraction scaled"]) - np.mean(r["fraction raw"])), ">", 0.0),
    Claim("lesson06", LESSON_06, "assert abs(played.mean() - exact0) < 4 * standard_error",
          "seed 0: |1000 days played - exact| / standard error", _max("|played - exact| / standard error"), "<", 4.0,
          set_size=1),
    Claim("lesson06", LESSON_06, "assert 0.025 < 2 * half_width / best < 0.04",
          "seed 0: 95% interval width / optimum (> 0.025)", _min("interval width / optimum"), ">", 0.025, set_size=1),
    Claim("lesson06", LESSON_06, "assert 0.025 < 2 * half_width / best < 0.04",
          "seed 0: 95% interval width / optimum (< 0.04)", _max("interval width / optimum"), "<", 0.04, set_size=1),
    Claim("lesson06", LESSON_06, "assert min(np.diff(seed_values)) < 2 * half_width",
          "closest two seeds' gap - seed 0's interval width (clicks)",
          lambda r, c: float(np.min(np.diff(np.sort(r["fraction scaled"] * c["best"]))) - r["interval width"][0]),
          "<", 0.0),
    Claim("lesson06", LESSON_06, "assert min(table_full) >= 0.95", "table, 10,000 days: worst seed",
          _min("table 10,000 days"), ">=", 0.95),
    Claim("lesson06", LESSON_06, "assert max(days_seen.values()) < 10_000 / 10", "DQN: most days seen in 10,000 steps",
          _max("days seen"), "<", 1000),
    Claim("lesson06", LESSON_06, "assert abs(np.mean(dqn) - np.mean(table_full)) < 0.04",
          "|mean DQN - mean table (10,000 days)|",
          lambda r, c: float(abs(np.mean(r["fraction scaled"]) - np.mean(r["table 10,000 days"]))), "<", 0.04),
    Claim("lesson06", LESSON_06, "assert np.mean(table_same) < min(dqn)", "mean table (same days) - worst DQN",
          lambda r, c: float(np.mean(r["table same days"]) - np.min(r["fraction scaled"])), "<", 0.0),
    Claim("lesson06", LESSON_06, "assert abs(losses[seed][\"lost\"]", "performance difference lemma: worst error",
          _max("lemma error"), "<", 1e-9),
    Claim("lesson06", LESSON_06, 'assert np.mean([losses[s]["share differing"] for s in SEEDS]) > 0.2',
          "mean share of decisions unlike DP", _mean("share differing"), ">", 0.2),
    Claim("lesson06", LESSON_06, 'assert np.mean([losses[s]["cost per differing decision"] for s in SEEDS]) < 0.6',
          "mean cost per decision unlike DP (clicks)", _mean("cost per differing decision"), "<", 0.6),
    # ---- exercise 05: the learner's DQN ---------------------------------------------------------
    Claim("solution05", SOLUTION_05, 'assert value > baselines["myopic oracle"] and value > baselines["random feed"]',
          "worst seed / oracle", _min("ratio"), ">", 1.0),
    Claim("solution05", SOLUTION_05, 'assert value > baselines["myopic oracle"] and value > baselines["random feed"]',
          "worst seed - random feed (clicks)", _min("clicks - random feed"), ">", 0.0),
    Claim("solution05", SOLUTION_05, 'assert np.mean(list(dqn_returns.values())) > 1.05 * baselines["myopic oracle"]',
          "mean / oracle", _mean("ratio"), ">", 1.05),
    # ---- the tests ---------------------------------------------------------------------------------
    Claim("test_dqn", TEST_DQN, "assert ratio >= 1.10", "default DQN, 8,000 steps: worst seed / oracle",
          _min("ratio"), ">=", 1.10),
    Claim("test_tabular", TEST_TABULAR, "assert fraction >= 0.95, f\"Q-learning's",
          "SessionRetention, 2,000: worst seed",
          _min("sr q-learning 2000"), ">=", 0.95),
    Claim("test_tabular", TEST_TABULAR, "assert fraction >= 0.95, f\"Q-learning's", "AdPacing, 8,000: worst seed",
          _min("ap q-learning 8000"), ">=", 0.95),
    *[Claim("test_tabular", TEST_TABULAR, "assert fraction_of_optimum(env_id, gamma, agent.greedy_policy()) >= 0.95",
            f"SessionRetention, 2,000: {name}", _min(f"sr {name} 2000"), ">=", 0.95, set_size=1)
      for name in ("sarsa", "expected sarsa")],
    *[Claim("test_tabular", TEST_TABULAR, "assert fraction_of_optimum(env_id, gamma, agent.greedy_policy()) >= 0.8",
            f"AdPacing, 2,000: {name}", _min(f"ap {name} 2000"), ">=", 0.8, set_size=1)
      for name in ("sarsa", "expected sarsa")],
]


def check_claims_are_in_their_files() -> list[str]:
    """The claims whose assert no longer appears verbatim in their file (empty when all do)."""
    return [f"{claim.where}: {claim.assert_text!r}" for claim in CLAIMS
            if claim.assert_text not in "\n".join(code_cells(claim.where))]


# =============================================================================================
# Running
# =============================================================================================
def _run_chunk(name: str, seeds: list[int]) -> tuple[list[dict], dict]:
    import torch

    torch.set_num_threads(1)  # each worker one core, as the lessons train
    return EXPERIMENTS[name].run(seeds)


def seed_sets(n: int, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    if math.comb(n, k) <= MAX_SETS:
        return [np.array(c) for c in itertools.combinations(range(n), k)]
    return [rng.choice(n, size=k, replace=False) for _ in range(MAX_SETS)]


def evaluate(claim: Claim, records: list[dict], constants: dict, k: int) -> dict[str, Any]:
    columns = {key: np.array([record[key] for record in records]) for key in records[0]}
    k = claim.set_size or k
    values = np.array([claim.quantity({key: column[s] for key, column in columns.items()}, constants)
                       for s in seed_sets(len(records), k, np.random.default_rng(0))])
    # For "<" the worst case is the largest value: report the distribution from the bad end.
    low_is_bad = claim.op in (">", ">=")
    ordered = values if low_is_bad else -values
    sign = 1 if low_is_bad else -1
    return {"k": k, "sets": len(values),
            "worst": sign * ordered.min(), "p5": sign * np.percentile(ordered, 5), "median": float(np.median(values)),
            "pass": float(np.mean([claim.passes(v) for v in values]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=48, help="training seeds per experiment (default 48)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: every core)")
    parser.add_argument("--only", nargs="+", choices=list(EXPERIMENTS), help="only these experiments")
    parser.add_argument("--markdown", type=Path, help="also write the table, in Markdown, to this file")
    parser.add_argument("--save", type=Path, help="also write every seed's quantities, as JSON, to this file")
    parser.add_argument("--load", type=Path, help="evaluate the claims on a run saved with --save (no training)")
    args = parser.parse_args()
    stale = check_claims_are_in_their_files()
    if stale:
        sys.exit("bench/claims.py measures asserts that are no longer in their files:\n  " + "\n  ".join(stale))
    if args.load:  # evaluate the claims on a run saved with --save, without training again
        saved = json.loads(args.load.read_text())
        results, header = saved["results"], saved["header"]
        names = [name for name in (args.only or list(EXPERIMENTS)) if name in results]
    else:
        names = args.only or list(EXPERIMENTS)
        results, header = _train(names, args)
    _report(names, results, header, args.markdown)


def _train(names: list[str], args: argparse.Namespace) -> tuple[dict[str, tuple[list[dict], dict]], str]:
    started = time.perf_counter()
    results: dict[str, tuple[list[dict], dict]] = {name: ([], {}) for name in names}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {}
        for name in names:
            chunk = EXPERIMENTS[name].chunk
            for first in range(0, args.seeds, chunk):
                seeds = list(range(first, min(first + chunk, args.seeds)))
                futures[pool.submit(_run_chunk, name, seeds)] = name
        for future, name in futures.items():
            try:
                records, constants = future.result()
            except Exception as error:  # one broken experiment must not lose the others' hours
                print(f"{name}: a chunk failed: {type(error).__name__}: {error}", file=sys.stderr)
                continue
            results[name][0].extend(records)
            results[name][1].update(constants)
    minutes = (time.perf_counter() - started) / 60
    header = f"{args.seeds} training seeds per experiment, {minutes:.1f} min on {args.jobs} worker(s); {_backend()}"
    if args.save:
        args.save.write_text(json.dumps({"header": header, "results": results}, indent=1, default=float))
    return results, header


def _report(names: list[str], results: dict[str, tuple[list[dict], dict]], header: str,
            markdown: Path | None) -> None:
    set_sizes = {name: EXPERIMENTS[name].set_size() for name in names}  # each reads its notebook once
    rows = []
    for claim in CLAIMS:
        if claim.experiment not in names:
            continue
        records, constants = results[claim.experiment]
        records.sort(key=lambda record: record["seed"])
        if len(records) < (claim.set_size or set_sizes[claim.experiment]):
            print(f"{claim.experiment}: {claim.what}: only {len(records)} seeds, too few for one set", file=sys.stderr)
            continue
        rows.append((claim, evaluate(claim, records, constants, set_sizes[claim.experiment])))
    print(header)
    print(f"{'claim':<66} {'asserted':>12} {'worst':>8} {'p5':>8} {'median':>8} {'sets':>6} {'passes':>7}")
    for claim, row in rows:
        label = f"{claim.experiment} ({row['k']} seeds): {claim.what}"
        print(f"{label[:66]:<66} {claim.op + ' ' + format(claim.threshold, '.4g'):>12} {row['worst']:8.3f} "
              f"{row['p5']:8.3f} {row['median']:8.3f} {row['sets']:6d} {row['pass']:7.1%}")
    worst_claim, worst_row = min(rows, key=lambda item: item[1]["pass"])
    if markdown:
        markdown.write_text(_markdown(header, rows))
    print(f"worst claim: {worst_claim.experiment}: {worst_claim.what}")
    print(f"worst pass share: {worst_row['pass']:.4f}")


def _backend() -> str:
    import torch

    knobs = [f"{key}={os.environ[key]}" for key in ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR")
             if key in os.environ]
    return (f"torch {torch.__version__}, ATen kernels {torch.backends.cpu.get_cpu_capability()}"
            + (f" ({', '.join(knobs)})" if knobs else ""))


def _markdown(header: str, rows: list[tuple[Claim, dict]]) -> str:
    lines = [f"_{header}_", "",
             "| where | claim (quantity over a set of seeds) | seeds per set | asserted | worst | 5th pct | median "
             "| passes |",
             "|---|---|---|---|---|---|---|---|"]
    for claim, row in rows:
        what = claim.what.replace("|", "\\|")  # a bar inside a cell would end it
        lines.append(f"| `{claim.where}` | {what} | {row['k']} | {claim.op} {claim.threshold:.4g} | "
                     f"{row['worst']:.3f} | {row['p5']:.3f} | {row['median']:.3f} | {row['pass']:.1%} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
