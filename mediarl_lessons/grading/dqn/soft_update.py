"""The check of ``soft_update`` (exercise ``05_dqn``).

What the check accepts: afterwards the SAME Parameter objects of ``target_net`` hold the
new values (``copy_``, ``mul_().add_()``, ``lerp_``, ``load_state_dict`` and assigning
``.data`` all do; binding a new network or new Parameters to a name does not), and
``online_net`` is unchanged. The target's parameters require gradients, as a freshly built
network's do, so the update must run under ``torch.no_grad()`` (or on ``.data``).

Every function whose name starts with ``wrong_`` is DELIBERATELY WRONG: a mistake learners
make, kept here only so that the check can recognise it and name it in a hint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mediarl_lessons.grading.core import Case, Mistake, describe, register
from mediarl_lessons.grading.dqn import EXERCISE
from mediarl_lessons.grading.dqn.common import (
    _allclose,
    _flat,
    _network,
    _random_weights,
    _reference,
    _single_threaded,
    _torch,
    _variant_mistake,
)


def wrong_soft_tau_reversed(target_net, online_net, tau):
    """DELIBERATELY WRONG: ``theta_t <- (1 - tau) theta + tau theta_t``."""
    torch = _torch()
    with torch.no_grad():
        for target, online in zip(target_net.parameters(), online_net.parameters()):
            target.copy_((1 - tau) * online + tau * target)


def wrong_soft_ignores_tau(target_net, online_net, tau):
    """DELIBERATELY WRONG: always a hard copy."""
    _reference().soft_update(target_net, online_net, 1.0)


def wrong_soft_weights_only(target_net, online_net, tau):
    """DELIBERATELY WRONG: updates the weights but not the biases."""
    torch = _torch()
    with torch.no_grad():
        for (name, target), online in zip(target_net.named_parameters(), online_net.parameters()):
            if name.endswith("weight"):
                target.mul_(1 - tau).add_(tau * online)


def _soft_case(name: str, target_weights, online_weights, tau: float) -> Case:
    """Call soft_update on fresh networks; observe what it returned, whether the target's
    Parameter objects are still the same ones, and both networks' values afterwards."""

    @_single_threaded
    def observe(func: Callable[..., Any]) -> tuple[Any, ...]:
        target_net, online_net = _network(target_weights), _network(online_weights)
        before = list(target_net.parameters())
        returned = func(target_net, online_net, tau)
        after = list(target_net.parameters())
        same_objects = len(before) == len(after) and all(a is b for a, b in zip(before, after))
        returned_kind = "None" if returned is None else type(returned).__name__
        returned_values = _flat(returned.parameters()) if hasattr(returned, "parameters") and callable(
            returned.parameters) else None
        return (returned_kind, bool(same_objects), _flat(after), _flat(online_net.parameters()), returned_values)

    expected = observe(_reference().soft_update)
    original_target = _flat(_network(target_weights).parameters())
    original_online = _flat(_network(online_weights).parameters())

    def target_right(got: Any) -> bool:
        return _allclose(got[2], expected[2])

    def agrees(got: Any, _expected: Any) -> bool:
        return got[1] is True and target_right(got) and np.array_equal(got[3], original_online)

    def unchanged(got: Any) -> bool:
        return _allclose(got[2], original_target, 0.0, 0.0)

    mistakes = [
        Mistake("returned a new network? soft_update must change target_net itself, in place: the caller keeps "
                "using its target_net (and returns None)",
                lambda got: unchanged(got) and got[4] is not None and _allclose(got[4], expected[2])),
        Mistake("changed online_net? Only target_net moves (towards online_net)",
                lambda got: not np.array_equal(got[3], original_online)),
        Mistake("target_net did not change: rebinding a name (target_param = ..., target_net = ...) changes "
                "nothing outside the function; write into the tensors under torch.no_grad(): "
                "target_param.copy_(...), .mul_(1 - tau).add_(tau * online_param), .lerp_(online_param, tau), "
                "or target_net.load_state_dict(...)", unchanged),
        Mistake("replaced target_net's Parameter objects with new ones (setattr / nn.Parameter): an optimizer or "
                "anything else holding the old ones would not see the update; change their values in place",
                lambda got: got[1] is False),
    ]
    for hint, wrong in [
        ("tau reversed? theta_target <- tau * theta_online + (1 - tau) * theta_target: a small tau moves the target "
         "only a little", wrong_soft_tau_reversed),
        ("ignored tau? Only tau = 1 is a hard copy; with tau < 1 the target moves part of the way",
         wrong_soft_ignores_tau),
        ("only the weights moved? Update every parameter, biases too: zip(target_net.parameters(), "
         "online_net.parameters())", wrong_soft_weights_only),
    ]:
        mistakes.append(_variant_mistake(hint, observe, wrong, lambda answer: not target_right(answer),
                                         lambda got, answer: _allclose(got[2], answer[2])))

    def show(got: Any) -> str:
        notes = ["unchanged"] if unchanged(got) else []
        if got[1] is False:
            notes.append("new Parameter objects")
        if not np.array_equal(got[3], original_online):
            notes.append("online_net changed")
        text = "target " + describe(np.asarray(got[2]), 44)
        return text + (f" ({', '.join(notes)})" if notes else "")

    return Case(name, observe, expected, agrees, mistakes, "target " + describe(np.asarray(expected[2]), 44), show,
                "for each pair of parameters, under torch.no_grad(): "
                "target_param.mul_(1 - tau).add_(tau * online_param)")


def _soft_error_hint(error: BaseException) -> str:
    text = str(error)
    if "leaf Variable that requires grad" in text or "requires grad is being used in an in-place" in text:
        return ("in-place changes to parameters must run under torch.no_grad() (with torch.no_grad(): ...), "
                "or on param.data")
    return ""


@register(EXERCISE, "soft_update", error_hint=_soft_error_hint)
@_single_threaded
def soft_update_cases(rng: np.random.Generator) -> list[Case]:
    fixed = np.random.default_rng(7)
    small_target, small_online = _random_weights(fixed, (3, 4, 2)), _random_weights(fixed, (3, 4, 2))
    sizes = (int(rng.integers(2, 6)), int(rng.integers(4, 9)), int(rng.integers(4, 9)), int(rng.integers(2, 5)))
    tau = float(np.round(rng.uniform(0.01, 0.3), 3))
    big_target, big_online = _random_weights(rng, sizes), _random_weights(rng, sizes)
    return [
        _soft_case("tau = 1: a hard copy", small_target, small_online, 1.0),
        _soft_case("tau = 0.1", small_target, small_online, 0.1),
        _soft_case(f"random: 3 layers {sizes}, tau = {tau}", big_target, big_online, tau),
        _soft_case("random: tau = 0.9", big_target, big_online, 0.9),
    ]
