"""The checks of ``td_targets`` and ``double_dqn_targets`` (exercise ``05_dqn``): one kind of case.

What the checks accept: a floating-point tensor of shape ``(B,)`` with the reference's values
(float32 rounding), inputs left unchanged. Loops, ``torch.where``, ``gather`` or indexing:
any way of computing it.

Every function whose name starts with ``wrong_`` is DELIBERATELY WRONG: a mistake learners
make, kept here only so that the check can recognise it and name it in a hint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mediarl_lessons.grading.core import Case, Mistake, register
from mediarl_lessons.grading.dqn import EXERCISE
from mediarl_lessons.grading.dqn.common import (
    FLOAT_DTYPES,
    _flat,
    _inputs_unchanged,
    _is_tensor,
    _reference,
    _same_numbers,
    _show_summary,
    _single_threaded,
    _torch,
    _variant_mistake,
    tensor_summary,
)


def wrong_td_bootstraps_from_terminal(rewards, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: ignores ``terminated``."""
    return _reference().td_targets(rewards, next_q_target, terminated * 0, gamma)


def wrong_td_terminated_inverted(rewards, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: multiplies by ``terminated`` instead of ``1 - terminated``."""
    return _reference().td_targets(rewards, next_q_target, 1 - terminated, gamma)


def wrong_td_no_gamma(rewards, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: forgets the discount."""
    return _reference().td_targets(rewards, next_q_target, terminated, 1.0)


def wrong_td_gamma_on_reward(rewards, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: discounts the reward too."""
    return gamma * _reference().td_targets(rewards, next_q_target, terminated, 1.0)


def wrong_td_mean_not_max(rewards, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: the mean of the next values instead of the max."""
    return rewards + gamma * (1 - terminated) * next_q_target.mean(dim=1)


def wrong_td_argmax_not_max(rewards, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: the index of the best action instead of its value."""
    return rewards + gamma * (1 - terminated) * next_q_target.argmax(dim=1)


def wrong_td_keepdim(rewards, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: max with keepdim=True: (B, 1) broadcast against (B,) gives (B, B)."""
    return rewards + gamma * (1 - terminated) * next_q_target.max(dim=1, keepdim=True).values


def wrong_td_keepdim_everywhere(rewards, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: returns shape (B, 1)."""
    return _reference().td_targets(rewards, next_q_target, terminated, gamma).unsqueeze(1)


def wrong_td_min_not_max(rewards, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: the smallest next value."""
    return rewards + gamma * (1 - terminated) * next_q_target.min(dim=1).values


TD_MISTAKES: list[tuple[str, Callable[..., Any]]] = [
    ("bootstrapped from a terminal state? Where terminated is 1 the target is the reward alone: "
     "r + gamma * (1 - terminated) * max", wrong_td_bootstraps_from_terminal),
    ("multiplied by terminated instead of (1 - terminated)? Only episodes that did NOT end bootstrap",
     wrong_td_terminated_inverted),
    ("forgot gamma? y = r + gamma * (1 - terminated) * max_a' Q(s', a')", wrong_td_no_gamma),
    ("discounted the reward too? Only the next state's value is multiplied by gamma", wrong_td_gamma_on_reward),
    ("averaged the next values? Q-learning's target takes the max over actions: "
     "next_q_target.max(dim=1).values", wrong_td_mean_not_max),
    ("used argmax (an action index) instead of max (its value)? next_q_target.max(dim=1).values",
     wrong_td_argmax_not_max),
    ("took the min over actions? The target uses the max", wrong_td_min_not_max),
    ("shape (B, B): max(dim=1, keepdim=True) gives (B, 1), which broadcasts against the (B,) rewards; "
     "use .max(dim=1).values (no keepdim) or squeeze(1)", wrong_td_keepdim),
    ("shape (B, 1)? Return one target per transition, shape (B,): squeeze(1)", wrong_td_keepdim_everywhere),
]


def wrong_double_target_chooses(rewards, next_q_online, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: plain DQN (the target network chooses and values)."""
    return _reference().td_targets(rewards, next_q_target, terminated, gamma)


def wrong_double_roles_swapped(rewards, next_q_online, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: the target network chooses, the online network values."""
    return _reference().double_dqn_targets(rewards, next_q_target, next_q_online, terminated, gamma)


def wrong_double_online_only(rewards, next_q_online, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: the online network chooses and values."""
    return _reference().td_targets(rewards, next_q_online, terminated, gamma)


def wrong_double_bootstraps_from_terminal(rewards, next_q_online, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: ignores ``terminated``."""
    return _reference().double_dqn_targets(rewards, next_q_online, next_q_target, terminated * 0, gamma)


def wrong_double_terminated_inverted(rewards, next_q_online, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: multiplies by ``terminated``."""
    return _reference().double_dqn_targets(rewards, next_q_online, next_q_target, 1 - terminated, gamma)


def wrong_double_no_gamma(rewards, next_q_online, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: forgets the discount."""
    return _reference().double_dqn_targets(rewards, next_q_online, next_q_target, terminated, 1.0)


def wrong_double_no_squeeze(rewards, next_q_online, next_q_target, terminated, gamma):
    """DELIBERATELY WRONG: gather's (B, 1) result broadcast against (B,): shape (B, B)."""
    chosen = next_q_online.argmax(dim=1, keepdim=True)
    return rewards + gamma * (1 - terminated) * next_q_target.gather(1, chosen)


DOUBLE_MISTAKES: list[tuple[str, Callable[..., Any]]] = [
    ("the target network chose the action (plain DQN's max)? In Double DQN the ONLINE values choose "
     "(argmax of next_q_online) and the TARGET values evaluate that choice", wrong_double_target_chooses),
    ("roles swapped? The ONLINE values choose the action (argmax), the TARGET values give its value",
     wrong_double_roles_swapped),
    ("used only the online values? They choose the action; its value comes from next_q_target",
     wrong_double_online_only),
    ("bootstrapped from a terminal state? Where terminated is 1 the target is the reward alone",
     wrong_double_bootstraps_from_terminal),
    ("multiplied by terminated instead of (1 - terminated)?", wrong_double_terminated_inverted),
    ("forgot gamma?", wrong_double_no_gamma),
    ("shape (B, B): gather returns (B, 1), which broadcasts against the (B,) rewards; squeeze(1) it",
     wrong_double_no_squeeze),
]


def _targets_case(name: str, reference: Callable[..., Any], arrays: Sequence[np.ndarray], gamma: float,
                  wrong_variants: Sequence[tuple[str, Callable[..., Any]]], fallback_hint: str) -> Case:
    """Call a targets function on fresh float32 tensors; observe ``(returned summary, inputs after)``."""
    frozen = tuple(np.array(array, dtype=np.float32) for array in arrays)

    @_single_threaded
    def observe(func: Callable[..., Any]) -> tuple[Any, ...]:
        torch = _torch()
        tensors = [torch.tensor(array) for array in frozen]
        returned = func(*tensors, gamma)
        return (tensor_summary(returned), tuple(_flat([t]) for t in tensors))

    expected = observe(reference)
    batch = len(frozen[0])

    def agrees(got: Any, expected: Any) -> bool:
        summary, inputs = got
        return (_is_tensor(summary) and summary[1] in FLOAT_DTYPES and _same_numbers(summary, expected[0])
                and _inputs_unchanged(inputs, expected[1]))

    mistakes = [
        Mistake("return a torch tensor (computed from the input tensors), not a numpy array, a list or a number",
                lambda got: not _is_tensor(got[0])),
        Mistake("changed an input tensor in place (e.g. rewards += ...)? The inputs belong to the caller "
                "(they are the batch): compute a new tensor", lambda got: not _inputs_unchanged(got[1], expected[1])),
        Mistake("integer targets? Compute with the float tensors (a max VALUE, not an index)",
                lambda got: _is_tensor(got[0]) and got[0][1] not in FLOAT_DTYPES and "float" not in got[0][1]),
    ]
    for hint, wrong in wrong_variants:
        mistakes.append(_variant_mistake(hint, observe, wrong, lambda answer: not agrees(answer, expected),
                                         lambda got, answer: _same_numbers(got[0], answer[0])))
    mistakes.append(Mistake(f"return one target per transition: shape ({batch},)",
                            lambda got: tuple(got[0][2]) != (batch,)))
    def show(got: Any) -> str:
        changed = "" if _inputs_unchanged(got[1], expected[1]) else " (and an input changed in place)"
        return _show_summary(got[0], 52 - len(changed)) + changed

    return Case(name, observe, expected, agrees, mistakes, _show_summary(expected[0]), show, fallback_hint)


def _targets_error_hint(error: BaseException) -> str:
    text = str(error)
    if "must match the size" in text or "size of tensor" in text:
        return ("shapes: rewards and terminated are (B,), next Q-values are (B, n_actions); reduce over the "
                "actions with dim=1 to get one value per transition")
    if "Subtraction" in text and "bool" in text:
        return "terminated is a float tensor of 0.0 and 1.0: 1 - terminated works as it is"
    return ""


@register(EXERCISE, "td_targets", error_hint=_targets_error_hint)
@_single_threaded
def td_targets_cases(rng: np.random.Generator) -> list[Case]:
    reference = _reference().td_targets
    fallback = "y = rewards + gamma * (1 - terminated) * next_q_target.max(dim=1).values"

    def case(name: str, rewards, next_q, terminated, gamma: float) -> Case:
        return _targets_case(name, reference, (rewards, next_q, terminated), gamma, TD_MISTAKES, fallback)

    b, k = int(rng.integers(5, 10)), int(rng.integers(3, 6))
    next_q = np.round(rng.normal(0.5, 1.5, size=(b, k)), 2)
    rewards = np.round(rng.uniform(-1, 2, size=b), 2)
    terminated = (rng.random(b) < 0.3).astype(np.float32)
    terminated[:2] = (1.0, 0.0)  # at least one of each
    gamma = float(np.round(rng.uniform(0.9, 0.99), 3))
    return [
        case("3 transitions, gamma=0.9, the last terminated", [1.0, 0.0, -0.5], [[1.0, 2.0], [0.5, -1.0], [3.0, 1.0]],
             [0.0, 0.0, 1.0], 0.9),
        case("every transition terminated: the rewards alone", [0.5, 1.0], [[4.0, 2.0, 1.0], [-1.0, 3.0, 0.0]],
             [1.0, 1.0], 0.99),
        case(f"random: {b} transitions, {k} actions, gamma={gamma}", rewards, next_q, terminated, gamma),
        case(f"random: all next values negative, gamma={gamma}", rewards, -np.abs(next_q) - 0.1, terminated, gamma),
    ]


@register(EXERCISE, "double_dqn_targets", error_hint=_targets_error_hint)
@_single_threaded
def double_dqn_targets_cases(rng: np.random.Generator) -> list[Case]:
    reference = _reference().double_dqn_targets
    fallback = ("a' = next_q_online.argmax(dim=1); y = rewards + gamma * (1 - terminated) * next_q_target[i, a'_i] "
                "(next_q_target.gather(1, a'.unsqueeze(1)).squeeze(1))")

    def case(name: str, rewards, online, target, terminated, gamma: float) -> Case:
        return _targets_case(name, reference, (rewards, online, target, terminated), gamma, DOUBLE_MISTAKES, fallback)

    b, k = int(rng.integers(6, 10)), int(rng.integers(3, 6))
    online = np.round(rng.normal(0.0, 1.0, size=(b, k)), 2)
    target = np.round(rng.normal(0.0, 1.0, size=(b, k)), 2)
    rewards = np.round(rng.uniform(-1, 2, size=b), 2)
    terminated = (rng.random(b) < 0.3).astype(np.float32)
    terminated[:2] = (1.0, 0.0)
    gamma = float(np.round(rng.uniform(0.9, 0.99), 3))
    return [
        case("3 transitions: online and target disagree on the best action", [1.0, 0.0, 2.0],
             [[1.0, 2.0], [3.0, 0.0], [0.5, 0.4]], [[5.0, 1.0], [2.0, 4.0], [1.0, 7.0]], [0.0, 0.0, 1.0], 0.5),
        case("every transition terminated: the rewards alone", [0.5, -1.0], [[0.0, 1.0], [2.0, 1.0]],
             [[3.0, 2.0], [1.0, 5.0]], [1.0, 1.0], 0.9),
        case(f"random: {b} transitions, {k} actions, gamma={gamma}", rewards, online, target, terminated, gamma),
    ]
