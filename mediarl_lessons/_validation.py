"""Argument checks shared by the environments and agents.

Every check raises an error that names the argument and the range it must lie in, so a
learner who passes ``epsilon=1.5`` reads "epsilon must be in [0, 1], got 1.5" instead of a
traceback from deep inside numpy. ``TypeError`` means the kind of value was wrong (a float
where an integer was needed); ``ValueError`` means the value was out of range.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def check_int(name: str, value: object, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking that it is an integer in ``[low, high]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {_describe_range(low, high)}, got {value}")
    return value


def check_float(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` after checking it lies in the given interval."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        interval = _describe_interval(low, high, low_open, high_open)
        raise ValueError(f"{name} must be a finite number in {interval}, got {value}")
    return value


def check_probability(name: str, value: object) -> float:
    """A probability: a number in ``[0, 1]``."""
    return check_float(name, value, 0.0, 1.0)


def check_array(
    name: str,
    value: object,
    *,
    shape: tuple[int | None, ...] | None = None,
    low: float | None = None,
    high: float | None = None,
) -> np.ndarray:
    """Return ``value`` as a finite float array, checking its shape and (optionally) its range.

    ``None`` in ``shape`` accepts any length along that axis.
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {value!r}") from None
    if shape is not None and (
        array.ndim != len(shape)
        or any(want is not None and got != want for got, want in zip(array.shape, shape))
    ):
        wanted = "(" + ", ".join("any" if n is None else str(n) for n in shape) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers")
    if (low is not None and array.min(initial=low) < low) or (
        high is not None and array.max(initial=high) > high
    ):
        raise ValueError(f"{name} must lie in {_describe_interval(low, high)}, got values in "
                         f"[{array.min():.4g}, {array.max():.4g}]")
    return array


def check_action(action: object, n_actions: int) -> int:
    """Return a discrete action as an ``int``, or explain what is wrong with it.

    This runs on every ``step``, so the common case (a Python or numpy integer in range) is
    kept to two cheap tests.
    """
    if type(action) is int or isinstance(action, np.integer):
        if 0 <= action < n_actions:
            return int(action)
        raise ValueError(f"action must be an integer in [0, {n_actions - 1}], got {action}")
    if isinstance(action, np.ndarray) and action.shape == () and np.issubdtype(action.dtype, np.integer):
        return check_action(action.item(), n_actions)
    raise TypeError(
        f"action must be an integer in [0, {n_actions - 1}], got {action!r} "
        f"of type {type(action).__name__}"
    )


def as_generator(seed: int | np.random.Generator | None, name: str = "seed") -> np.random.Generator:
    """Accept a seed or a ready ``numpy.random.Generator`` (which is used, not copied)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        check_int(name, seed, low=0)
    return np.random.default_rng(seed)


def _describe_range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"an integer in [{low}, {high}]"
    if low is not None:
        return f"an integer >= {low}"
    return f"an integer <= {high}"


def _describe_interval(low, high, low_open: bool = False, high_open: bool = False) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    return f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
