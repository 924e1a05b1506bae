"""The check of ``dqn_loss`` (exercise ``05_dqn``).

What the check accepts: a one-element tensor with the reference's value, a gradient, the
reference's gradient on every ``q_net`` parameter after ``backward()`` (so no gradient
flowed through the targets: two cases pass the SAME network as ``q_net`` and
``target_net``, as "DQN without a target network" does), no gradient on ``target_net``, and
the batch unchanged.
The batch is the reference's :class:`~mediarl_lessons.agents.dqn.Batch` named tuple, so
``batch.obs`` and ``obs, actions, rewards, next_obs, terminated = batch`` both work;
``double=True`` is passed by keyword, ``double`` is left out for the default.

Every function whose name starts with ``wrong_`` is DELIBERATELY WRONG: a mistake learners
make, kept here only so that the check can recognise it and name it in a hint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mediarl_lessons.grading.core import Case, Mistake, describe, register
from mediarl_lessons.grading.dqn import EXERCISE
from mediarl_lessons.grading.dqn.common import (
    ATOL,
    FLOAT_DTYPES,
    GRAD_ATOL,
    GRAD_RTOL,
    _allclose,
    _flat,
    _flat_grads,
    _inputs_unchanged,
    _is_tensor,
    _network,
    _random_weights,
    _reference,
    _show_summary,
    _single_threaded,
    _torch,
    _variant_mistake,
    tensor_summary,
)

if TYPE_CHECKING:  # only for the annotations: torch is imported where it is used
    import torch


def _variant_loss(q_net, target_net, batch, gamma, double, *, pointwise: str = "huber", reduce: str = "mean",
                  taken: str = "gather", targets_net: str = "target", next_from: str = "next_obs",
                  ignore_terminated: bool = False, ignore_double: bool = False, swap_roles: bool = False,
                  gamma_one: bool = False) -> torch.Tensor:
    """The DQN loss with ONE of the mistakes below switched on (for the deliberately wrong variants)."""
    torch = _torch()
    import torch.nn.functional as F

    reference = _reference()
    obs, actions, rewards, next_obs, terminated = batch
    if ignore_terminated:
        terminated = torch.zeros_like(terminated)
    if gamma_one:
        gamma = 1.0
    source = next_obs if next_from == "next_obs" else obs
    evaluator = target_net if targets_net == "target" else q_net
    with torch.no_grad():
        next_values = evaluator(source)
        if double and not ignore_double:
            online = q_net(source)
            if swap_roles:
                targets = reference.double_dqn_targets(rewards, next_values, online, terminated, gamma)
            else:
                targets = reference.double_dqn_targets(rewards, online, next_values, terminated, gamma)
        else:
            targets = reference.td_targets(rewards, next_values, terminated, gamma)
    q = q_net(obs)
    if taken == "gather":
        q_taken = q.gather(1, actions.unsqueeze(1)).squeeze(1)
    elif taken == "unsqueezed":
        q_taken = q.gather(1, actions.unsqueeze(1))
    elif taken == "columns":
        q_taken = q[:, actions]
    else:  # "max"
        q_taken = q.max(dim=1).values
    # (B, 1) or (B, B) against (B,) broadcasts, as the learner's code would, without torch's warning.
    q_taken, targets = torch.broadcast_tensors(q_taken, targets)
    losses = {
        "huber": lambda: F.smooth_l1_loss(q_taken, targets, reduction="none"),
        "mse": lambda: F.mse_loss(q_taken, targets, reduction="none"),
        "half_mse": lambda: 0.5 * (q_taken - targets) ** 2,
        "l1": lambda: (q_taken - targets).abs(),
    }[pointwise]()
    return losses.sum() if reduce == "sum" else losses.mean()


def wrong_loss_mse(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: the squared error instead of the Huber loss."""
    return _variant_loss(q_net, target_net, batch, gamma, double, pointwise="mse")


def wrong_loss_half_mse(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: half the squared error (Huber's quadratic part everywhere)."""
    return _variant_loss(q_net, target_net, batch, gamma, double, pointwise="half_mse")


def wrong_loss_l1(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: the absolute error."""
    return _variant_loss(q_net, target_net, batch, gamma, double, pointwise="l1")


def wrong_loss_sum(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: summed over the batch instead of averaged."""
    return _variant_loss(q_net, target_net, batch, gamma, double, reduce="sum")


def wrong_loss_max_not_taken(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: max_a Q(s, a) instead of Q(s, a) of the action taken."""
    return _variant_loss(q_net, target_net, batch, gamma, double, taken="max")


def wrong_loss_columns(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: q[:, actions], a (B, B) matrix."""
    return _variant_loss(q_net, target_net, batch, gamma, double, taken="columns")


def wrong_loss_unsqueezed(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: gather's (B, 1) against (B,) targets broadcasts to (B, B)."""
    return _variant_loss(q_net, target_net, batch, gamma, double, taken="unsqueezed")


def wrong_loss_online_targets(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: the targets come from q_net, not target_net."""
    return _variant_loss(q_net, target_net, batch, gamma, double, targets_net="online")


def wrong_loss_targets_from_obs(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: the targets use Q(s, .) instead of Q(s', .)."""
    return _variant_loss(q_net, target_net, batch, gamma, double, next_from="obs")


def wrong_loss_bootstraps_from_terminal(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: ignores ``terminated``."""
    return _variant_loss(q_net, target_net, batch, gamma, double, ignore_terminated=True)


def wrong_loss_ignores_double(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: ``double=True`` changes nothing."""
    return _variant_loss(q_net, target_net, batch, gamma, double, ignore_double=True)


def wrong_loss_double_roles_swapped(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: with double=True, the target net chooses and the online net evaluates."""
    return _variant_loss(q_net, target_net, batch, gamma, double, swap_roles=True)


def wrong_loss_no_gamma(q_net, target_net, batch, gamma, double=False):
    """DELIBERATELY WRONG: forgets the discount."""
    return _variant_loss(q_net, target_net, batch, gamma, double, gamma_one=True)


LOSS_MISTAKES: list[tuple[str, Callable[..., Any]]] = [
    ("squared error (mse_loss)? The loss is the Huber loss: F.smooth_l1_loss(q, targets) "
     "(beta 1, the default), quadratic below 1 and linear above", wrong_loss_mse),
    ("0.5 * error ** 2 everywhere? That is the Huber loss only where |error| < 1; above 1 it is "
     "|error| - 0.5: use F.smooth_l1_loss", wrong_loss_half_mse),
    ("absolute error (l1_loss)? Use the Huber loss, F.smooth_l1_loss", wrong_loss_l1),
    ("summed over the batch? The loss is the MEAN over the batch (reduction='mean', the default)", wrong_loss_sum),
    ("used max_a Q(s, a)? The loss needs Q(s, a) of the action actually taken: "
     "q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)", wrong_loss_max_not_taken),
    ("q[:, actions] is a (B, B) matrix (every row, every taken action); pick one entry per row: "
     "q.gather(1, actions.unsqueeze(1)).squeeze(1) or q[torch.arange(B), actions]", wrong_loss_columns),
    ("Q(s, a) has shape (B, 1) and the targets (B,): broadcasting made a (B, B) loss; squeeze(1) after gather",
     wrong_loss_unsqueezed),
    ("targets computed with q_net? The TARGET network values the next state (double=False): "
     "max_a' target_net(next_obs)", wrong_loss_online_targets),
    ("targets from obs? The targets value the NEXT observations: target_net(batch.next_obs)",
     wrong_loss_targets_from_obs),
    ("bootstrapped from terminal states? Use batch.terminated: the target is r alone where it is 1",
     wrong_loss_bootstraps_from_terminal),
    ("double=True changed nothing? With double=True the online network chooses the next action and the "
     "target network values it (double_dqn_targets)", wrong_loss_ignores_double),
    ("Double DQN roles swapped? q_net (online) chooses the next action, target_net values it",
     wrong_loss_double_roles_swapped),
    ("forgot gamma in the targets?", wrong_loss_no_gamma),
]


@dataclass(frozen=True)
class _LossInputs:
    """Everything a dqn_loss case is built from: plain numbers, the same in every process."""

    q_weights: tuple[tuple[np.ndarray, np.ndarray], ...]
    target_weights: tuple[tuple[np.ndarray, np.ndarray], ...]
    arrays: tuple[np.ndarray, ...]  # obs, actions, rewards, next_obs, terminated
    gamma: float


def _loss_inputs(rng: np.random.Generator, batch: int, obs_dim: int, n_actions: int, hidden: int,
                 gamma: float) -> _LossInputs:
    sizes = (obs_dim, hidden, n_actions)
    obs = rng.normal(size=(batch, obs_dim)).astype(np.float32)
    next_obs = rng.normal(size=(batch, obs_dim)).astype(np.float32)
    actions = rng.integers(n_actions, size=batch).astype(np.int64)
    # Rewards from small to large: TD errors on both sides of 1, where the Huber loss changes form.
    rewards = (rng.choice([-1.0, 1.0], size=batch) * rng.uniform(0.0, 3.0, size=batch)).astype(np.float32)
    terminated = (rng.random(batch) < 0.3).astype(np.float32)
    terminated[:2] = (1.0, 0.0)
    return _LossInputs(_random_weights(rng, sizes), _random_weights(rng, sizes),
                       (obs, actions, rewards, next_obs, terminated), gamma)


def _loss_case(name: str, inputs: _LossInputs, *, double: bool, shared: bool) -> Case:
    """Call dqn_loss, then ``backward()``; observe the loss, the gradients and the batch afterwards.

    ``shared=True`` passes the same network as ``q_net`` and ``target_net`` (DQN without a
    target network): a gradient that flows through the targets then lands on ``q_net`` and
    changes its gradient.
    """

    @_single_threaded
    def observe(func: Callable[..., Any]) -> tuple[Any, ...]:
        torch = _torch()
        q_net = _network(inputs.q_weights)
        target_net = q_net if shared else _network(inputs.target_weights)
        batch = _reference().Batch(*(torch.tensor(array) for array in inputs.arrays))
        with torch.enable_grad():  # as in a training loop, even if check() is called under no_grad
            if double:
                loss = func(q_net, target_net, batch, inputs.gamma, double=True)
            else:
                loss = func(q_net, target_net, batch, inputs.gamma)
            summary = tensor_summary(loss)
            has_gradient = bool(isinstance(loss, torch.Tensor) and loss.requires_grad)
            q_grad = target_grad = None
            if has_gradient and loss.numel() == 1:
                loss.sum().backward()
                q_grad = _flat_grads(q_net)
                target_grad = None if shared else _flat_grads(target_net)
        return (summary, has_gradient, q_grad, target_grad, tuple(_flat([t]) for t in batch))

    expected = observe(_reference().dqn_loss)

    def value_right(got: Any) -> bool:
        summary = got[0]
        return (_is_tensor(summary) and int(np.prod(summary[2])) == 1
                and _allclose(np.ravel(summary[3]), np.ravel(expected[0][3]), GRAD_RTOL, ATOL))

    def gradient_right(got: Any) -> bool:
        return got[1] is True and got[2] is not None and _allclose(got[2], expected[2], GRAD_RTOL, GRAD_ATOL)

    def target_untouched(got: Any) -> bool:
        return shared or (got[3] is not None and not np.any(np.asarray(got[3]) != 0))

    def agrees(got: Any, _expected: Any) -> bool:
        return (value_right(got) and got[0][1] in FLOAT_DTYPES and gradient_right(got) and target_untouched(got)
                and _inputs_unchanged(got[4], expected[4]))

    mistakes = [
        Mistake("return the loss as a torch tensor: the training loop calls loss.backward() "
                "(not loss.item(), a float or a numpy array)", lambda got: not _is_tensor(got[0])),
        Mistake("the loss must be ONE number, the mean over the batch (reduction='mean'), not one loss per "
                "transition", lambda got: int(np.prod(got[0][2])) > 1),
        Mistake("the loss carries no gradient: compute Q(s, a) = q_net(obs)... with gradients on; only the "
                "targets go under torch.no_grad()", lambda got: got[1] is False),
    ]
    def same_value(got: Any, answer: Any) -> bool:
        return _is_tensor(got[0]) and _allclose(np.ravel(got[0][3]), np.ravel(answer[0][3]), GRAD_RTOL, ATOL)

    for hint, wrong in LOSS_MISTAKES:
        mistakes.append(_variant_mistake(hint, observe, wrong, lambda answer: not same_value(answer, expected),
                                         same_value))
    mistakes += [
        Mistake("gradient reached target_net: compute the targets under torch.no_grad() (or .detach() them); "
                "the target network is never trained", lambda got: not target_untouched(got)),
        Mistake("the loss value is right, but a gradient flowed through the targets into q_net (here q_net IS "
                "target_net, as without a target network): compute the targets under torch.no_grad() "
                "(or .detach() them)", lambda got: shared and value_right(got) and not gradient_right(got)),
        Mistake("the gradient is twice the expected one: did dqn_loss call loss.backward() itself? Return the "
                "loss; the training loop calls backward()",
                lambda got: got[2] is not None and _allclose(got[2], 2 * np.asarray(expected[2]),
                                                             GRAD_RTOL, GRAD_ATOL)),
        Mistake("changed the batch in place? The batch belongs to the caller: compute new tensors",
                lambda got: not _inputs_unchanged(got[4], expected[4])),
    ]

    def show(got: Any) -> str:
        summary = got[0]
        if not _is_tensor(summary):
            return _show_summary(summary)
        text = f"loss {describe(np.ravel(summary[3]), 40)}" if int(np.prod(summary[2])) != 1 else \
            f"loss {describe(float(np.ravel(summary[3])[0]))}"
        if got[1] is False:
            return text + ", no gradient"
        if not target_untouched(got):
            return text + ", target_net got a gradient"
        if value_right(got) and got[2] is not None and not gradient_right(got):
            return text + ", q_net's gradient differs"
        return text

    return Case(name, observe, expected, agrees, mistakes,
                f"loss {describe(float(np.ravel(expected[0][3])[0]))}, gradient on q_net only", show,
                "loss = F.smooth_l1_loss(Q(s, a), targets), the targets from td_targets (or double_dqn_targets "
                "with double=True) computed under torch.no_grad()")


def _loss_error_hint(error: BaseException) -> str:
    text = str(error)
    if "backward through the graph a second time" in text:
        return "dqn_loss must only return the loss: the training loop calls loss.backward()"
    if "shapes cannot be multiplied" in text:
        return "pass whole batches through the networks: q_net(batch.obs) is (B, n_actions)"
    if "gather" in text or "index" in text.lower():
        return "pick Q(s, a) with q.gather(1, actions.unsqueeze(1)).squeeze(1) (actions is int64, shape (B,))"
    if "unexpected keyword argument 'double'" in text or "positional argument" in text:
        return "the signature is dqn_loss(q_net, target_net, batch, gamma, double=False)"
    return ""


@register(EXERCISE, "dqn_loss", error_hint=_loss_error_hint)
@_single_threaded
def dqn_loss_cases(rng: np.random.Generator) -> list[Case]:
    fixed = np.random.default_rng(5)  # the micro-cases are the same for every seed
    small = _loss_inputs(fixed, batch=6, obs_dim=3, n_actions=2, hidden=8, gamma=0.9)
    b, d, k = int(rng.integers(8, 17)), int(rng.integers(3, 7)), int(rng.integers(3, 6))
    gamma = float(np.round(rng.uniform(0.9, 0.99), 3))
    random_inputs = _loss_inputs(rng, batch=b, obs_dim=d, n_actions=k, hidden=16, gamma=gamma)
    return [
        _loss_case("6 transitions, 2 actions, gamma=0.9", small, double=False, shared=False),
        _loss_case("the same with double=True", small, double=True, shared=False),
        _loss_case("no target network: target_net is q_net", small, double=False, shared=True),
        _loss_case(f"random: {b} transitions, {k} actions, gamma={gamma}", random_inputs, double=False, shared=False),
        _loss_case("random, double=True", random_inputs, double=True, shared=False),
        _loss_case("random, double=True, target_net is q_net", random_inputs, double=True, shared=True),
    ]
