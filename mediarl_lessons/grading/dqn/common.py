"""What the checks of exercise ``05_dqn`` share: torch imported lazily, one thread, tensors
turned into plain data and compared, small networks with fixed weights, tolerances, and the
mistake "the learner's observation matches this deliberately wrong variant's".

Torch is imported inside the functions, never at the top (see the package's docstring).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mediarl_lessons.grading.core import Mistake, describe

if TYPE_CHECKING:  # only for the annotations: torch is imported where it is used
    from torch import nn

#: Tolerances for float32 arithmetic done in another order (loops, ``torch.where``, ``lerp_``).
RTOL, ATOL = 1e-5, 1e-6
#: Gradients go through a small network in float32: a little more room.
GRAD_RTOL, GRAD_ATOL = 1e-4, 1e-6

FLOAT_DTYPES = ("torch.float32", "torch.float64")


def _reference() -> Any:
    from mediarl_lessons.agents import dqn

    return dqn


def _torch() -> Any:
    import torch

    return torch


def _single_threaded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``func`` with torch on one thread (the setting is restored afterwards).

    The tensors of a check are tiny: on a busy 2-core machine, torch's thread pool made one
    ``max`` over 12 numbers take 2 ms instead of 8 µs.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        torch = _torch()
        previous = torch.get_num_threads()
        if previous == 1:
            return func(*args, **kwargs)
        torch.set_num_threads(1)
        try:
            return func(*args, **kwargs)
        finally:
            torch.set_num_threads(previous)

    return wrapper


def _variant_mistake(hint: str, observe: Callable[[Callable[..., Any]], Any], wrong: Callable[..., Any],
                     distinguishable: Callable[[Any], bool], matches: Callable[[Any, Any], bool]) -> Mistake:
    """The mistake "the learner's observation matches what the deliberately wrong ``wrong`` gives".

    The wrong variant is observed only when a failure is being explained, once: a passing
    function (and the grader's worker, which never judges) does not pay for it.
    ``distinguishable(wrong_answer)`` says whether the variant differs from the reference on
    this case at all (if not, it is no evidence either way).
    """
    answers: list[Any] = []

    def wrong_answer() -> Any:
        if not answers:
            try:
                answers.append(observe(wrong))
            except Exception:  # this variant crashes on these inputs: it cannot be what the learner did
                answers.append(None)
        return answers[0]

    def test(got: Any) -> bool:
        answer = wrong_answer()
        return answer is not None and distinguishable(answer) and matches(got, answer)

    return Mistake(hint, test)


# =============================================================================================
# Plain data from torch objects (runs where the learner's code runs) and comparing it
# =============================================================================================
def tensor_summary(value: Any) -> tuple[Any, ...]:
    """``("tensor", dtype, shape, float64 values)``, ``("ndarray", ...)`` or ``("other", type name, text)``."""
    torch = _torch()
    if isinstance(value, torch.Tensor):
        values = value.detach().cpu()
        if values.is_complex():
            return ("other", f"complex tensor {values.dtype}", describe(values.tolist()))
        return ("tensor", str(value.dtype), tuple(int(n) for n in value.shape),
                np.array(values.to(torch.float64).numpy(), dtype=np.float64))
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return ("ndarray", str(value.dtype), tuple(int(n) for n in value.shape), value.astype(np.float64))
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
        return ("other", type(value).__name__, describe(value))
    return ("other", type(value).__name__, describe(value) if value is None else type(value).__name__)


def _flat(tensors: Any) -> np.ndarray:
    """Tensors' values, concatenated, as one float64 array."""
    parts = [np.asarray(t.detach().cpu().double().numpy(), dtype=np.float64).ravel() for t in tensors]
    return np.concatenate(parts) if parts else np.zeros(0)


def _flat_grads(network: nn.Module) -> np.ndarray:
    """Every parameter's ``.grad`` (zeros where it is ``None``), concatenated."""
    torch = _torch()
    return _flat([p.grad if p.grad is not None else torch.zeros_like(p) for p in network.parameters()])


def _allclose(got: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL) -> bool:
    got_array, expected_array = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return got_array.shape == expected_array.shape and bool(
        np.allclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=True))


def _is_tensor(summary: Any) -> bool:
    return isinstance(summary, tuple) and len(summary) == 4 and summary[0] == "tensor"


def _same_numbers(summary: Any, expected: Any) -> bool:
    """A returned tensor or array with the shape and values of ``expected`` (a summary)."""
    return (isinstance(summary, tuple) and len(summary) == 4 and summary[0] in ("tensor", "ndarray")
            and tuple(summary[2]) == tuple(expected[2]) and _allclose(summary[3], expected[3]))


def _show_summary(summary: Any, width: int = 52) -> str:
    if not isinstance(summary, tuple) or not summary:
        return describe(summary)
    if summary[0] in ("tensor", "ndarray"):
        kind = "tensor" if summary[0] == "tensor" else "numpy array"
        dtype = str(summary[1]).replace("torch.", "")
        shape = "(" + ", ".join(str(n) for n in summary[2]) + ("," if len(summary[2]) == 1 else "") + ")"
        return f"{kind} {dtype} {shape} {describe(np.asarray(summary[3]), width)}"
    return f"{summary[1]} {summary[2]}" if len(summary) > 2 and summary[2] != summary[1] else str(summary[1])


def _inputs_unchanged(inputs: Any, originals: Any) -> bool:
    return len(inputs) == len(originals) and all(
        np.array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), equal_nan=True)
        for a, b in zip(inputs, originals))


# =============================================================================================
# Small networks with fixed weights
# =============================================================================================
def _random_weights(rng: np.random.Generator, sizes: Sequence[int]) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(weight, bias) per layer of an MLP with these widths, as float32 arrays."""
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
        bias = rng.uniform(-bound, bound, size=fan_out).astype(np.float32)
        layers.append((weight, bias))
    return tuple(layers)


def _network(weights: Sequence[tuple[np.ndarray, np.ndarray]]) -> nn.Sequential:
    """A fresh ``Linear -> ReLU -> ... -> Linear`` network holding exactly these weights.

    torch's random state is saved and restored around it (``nn.Linear`` draws its initial
    weights from it): a check run in a notebook leaves the learner's next numbers alone.
    """
    torch = _torch()
    from torch import nn

    layers: list[nn.Module] = []
    state = torch.random.get_rng_state()
    try:
        for index, (weight, bias) in enumerate(weights):
            linear = nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float32)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(weight))
                linear.bias.copy_(torch.from_numpy(bias))
            layers.append(linear)
            if index < len(weights) - 1:
                layers.append(nn.ReLU())
    finally:
        torch.random.set_rng_state(state)
    return nn.Sequential(*layers)
