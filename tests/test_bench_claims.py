"""bench/claims.py measures the asserts the lessons and tests really make (no training here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_claims", ROOT / "bench" / "claims.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_every_measured_claim_is_an_assert_in_its_file():
    bench = load_bench()
    assert bench.check_claims_are_in_their_files() == [], "bench/claims.py measures asserts that moved or changed"
    assert {claim.experiment for claim in bench.CLAIMS} == set(bench.EXPERIMENTS)


def test_claims_are_about_as_many_seeds_as_their_lesson_uses():
    bench = load_bench()
    sizes = {name: experiment.set_size() for name, experiment in bench.EXPERIMENTS.items()}
    assert sizes["lesson05"] == sizes["lesson06"] == 5 and sizes["lesson04"] == 3 and sizes["test_dqn"] == 2


def test_a_claim_passes_only_on_the_seed_sets_where_its_assert_would():
    bench = load_bench()
    claim = bench.Claim("lesson05", "x", "x", "worst seed", bench._min("value"), ">", 1.0)
    records = [{"seed": s, "value": v} for s, v in enumerate([1.5, 1.2, 0.9, 1.3])]
    row = bench.evaluate(claim, records, {}, 2)
    # 6 pairs of 4 seeds; the 3 pairs with seed 2 (0.9) fail.
    assert row["sets"] == 6 and row["pass"] == 0.5 and row["worst"] == 0.9
    upper = bench.Claim("lesson05", "x", "x", "best seed", bench._max("value"), "<", 1.4)
    row = bench.evaluate(upper, records, {}, 3)
    assert row["sets"] == 4 and row["pass"] == 0.25 and row["worst"] == 1.5  # only {1.2, 0.9, 1.3} passes
