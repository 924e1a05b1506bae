"""The package's layout: which way imports go, one list of public names, one docstring template.

``docs/architecture.md`` draws the layout; these tests keep the drawing true.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from gymnasium.envs.registration import load_env_creator
from gymnasium.envs.toy_text.taxi import TaxiEnv

import mediarl_lessons

PACKAGE = Path(mediarl_lessons.__file__).resolve().parent


# ---- which way imports go ----------------------------------------------------------------

def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported_modules(path: Path) -> set[str]:
    """Every package module ``path`` imports, at the top or inside a function (a lazy import is an arrow too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from .x import y, from .. import y
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)  # from package import module
    return {module for module in found if module in MODULES}


def modules_under(prefix: str) -> list[str]:
    return sorted(name for name in MODULES if name == prefix or name.startswith(prefix + "."))


def test_the_import_parser_sees_absolute_relative_and_lazy_imports():
    # demos imports pacing inside a function, experiments imports bandits at the top, agents/__init__
    # imports its submodules by absolute path: all three are arrows.
    assert "mediarl_lessons.pacing" in imported_modules(MODULES["mediarl_lessons.demos"])
    assert "mediarl_lessons.agents.bandits" in imported_modules(MODULES["mediarl_lessons.experiments"])
    assert "mediarl_lessons.agents.tabular" in imported_modules(MODULES["mediarl_lessons.agents"])


#: The modules that run agents on environments: they sit above the agents, never below.
RUNNERS = ("mediarl_lessons.experiments", "mediarl_lessons.demos", "mediarl_lessons.pacing", "mediarl_lessons.cli")


@pytest.mark.parametrize("module", modules_under("mediarl_lessons.agents"))
def test_no_agent_module_imports_the_runs_or_the_demos(module):
    upward = imported_modules(MODULES[module]) & set(RUNNERS)
    assert not upward, (f"{module} imports {sorted(upward)}: an arrow up. What an agent needs from there belongs "
                        "in a module below the agents (evaluation.py, mdp.py; docs/architecture.md)")


@pytest.mark.parametrize("module", ["mediarl_lessons.evaluation", "mediarl_lessons.mdp",
                                    *modules_under("mediarl_lessons.envs")])
def test_evaluation_the_models_and_the_environments_import_no_agent(module):
    # The agents import these, and the environments stand alone (usable from any RL library).
    wrong = imported_modules(MODULES[module]) & {*modules_under("mediarl_lessons.agents"), *RUNNERS}
    assert not wrong, f"{module} imports {sorted(wrong)} (docs/architecture.md: imports go down, never up)"


def test_evaluate_policy_lives_in_evaluation_only():
    # One way to do each thing: no re-export from the bandit runs.
    from mediarl_lessons import evaluation, experiments

    assert "evaluate_policy" in evaluation.__all__
    assert not hasattr(experiments, "evaluate_policy")


# ---- one list of public names per package ------------------------------------------------

def test_the_lazy_agent_names_are_exactly_the_torch_modules_all():
    # agents/__init__.py cannot read dqn.__all__ without importing torch, so it keeps the names
    # in one literal; this is where a new name in dqn.py or dqn_together.py is caught.
    agents = importlib.import_module("mediarl_lessons.agents")
    for module, names in agents._LAZY_NAMES.items():
        assert names == tuple(importlib.import_module(module).__all__), module


def test_agents_all_is_the_submodules_all_in_order_without_repeats():
    agents = importlib.import_module("mediarl_lessons.agents")
    expected = [name for module in ("bandits", "tabular", "dqn", "dqn_together")
                for name in importlib.import_module(f"mediarl_lessons.agents.{module}").__all__]
    assert agents.__all__ == expected


def test_envs_all_is_the_registered_classes_and_their_helpers():
    from mediarl_lessons import envs

    classes = [env_class.__name__ for env_class, _, _ in envs.ENVIRONMENTS.values()]
    assert len(set(envs.__all__)) == len(envs.__all__)
    assert set(classes) < set(envs.__all__)
    for name in envs.__all__:
        getattr(envs, name)
    for env_id, (env_class, _, _) in envs.ENVIRONMENTS.items():
        assert load_env_creator(gym.spec(env_id).entry_point) is env_class, env_id


# ---- the same docstring template in every environment ------------------------------------

#: The ``## `` headings of every course environment's class docstring, in order: Gymnasium's
#: (CartPole's order; ``Information`` and ``References`` where its toy-text environments put
#: them), plus the course's ``Rendering``. ``References`` is the one optional heading.
TEMPLATE = ("Description", "Action Space", "Observation Space", "Rewards", "Starting State", "Episode End",
            "Information", "Arguments", "Rendering", "References", "Version History")
OPTIONAL = {"References"}


def headings(cls: type) -> list[str]:
    return [line[3:].strip() for line in inspect.cleandoc(cls.__doc__ or "").splitlines() if line.startswith("## ")]


def section(cls: type, heading: str) -> str:
    text = inspect.cleandoc(cls.__doc__ or "")
    return text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def registered_classes() -> dict[str, type]:
    return {env_id: load_env_creator(gym.spec(env_id).entry_point) for env_id in mediarl_lessons.ENVIRONMENTS}


def in_order(names: list[str] | tuple[str, ...], reference: list[str]) -> list[str]:
    return [name for name in names if name in reference]


def test_the_template_keeps_gymnasiums_order():
    cartpole, taxi = headings(CartPoleEnv), headings(TaxiEnv)
    assert in_order(TEMPLATE, cartpole) == in_order(cartpole, TEMPLATE)
    tail = ("Episode End", "Information", "Arguments", "References", "Version History")  # taxi swaps two above
    assert in_order(taxi, tail) == list(tail)


@pytest.mark.parametrize("env_id", list(mediarl_lessons.ENVIRONMENTS))
def test_every_environment_docstring_has_the_template_headings_in_order(env_id):
    cls = registered_classes()[env_id]
    found = headings(cls)
    expected = [heading for heading in TEMPLATE if heading not in OPTIONAL or heading in found]
    assert found == expected, (f"{cls.__module__}.{cls.__name__}: headings {found}, the template wants {expected} "
                               "(tests/test_layout.py TEMPLATE)")


@pytest.mark.parametrize("env_id", list(mediarl_lessons.ENVIRONMENTS))
def test_every_environment_description_says_what_it_teaches(env_id):
    # The course's bsuite-like paragraph: one lead-in, in the Description, in every environment.
    cls = registered_classes()[env_id]
    description = section(cls, "Description")
    assert re.search(r"^What it teaches\b", description, re.MULTILINE), (
        f"{cls.__module__}.{cls.__name__}: the Description needs a paragraph starting 'What it teaches'")
