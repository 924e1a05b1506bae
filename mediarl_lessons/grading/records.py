"""Observations as plain data: what crosses from the learner's code to the judge.

Whatever a learner's function returned is turned into JSON-able data by :func:`encode`
(numbers, strings, tuples, numeric arrays; anything else becomes a short text) and read back
by :func:`decode`. In the batch grader the data come from a sandbox that runs a hostile
student's code, so :func:`decode` trusts nothing: it accepts only the shapes :func:`encode`
writes, within fixed limits on nesting, length and size, and raises :class:`MalformedRecord`
otherwise (that student's function then scores 0 with "malformed result"; the batch goes on).
``check()`` in a notebook sends its observations through the same two functions, so a learner
sees exactly what the batch grader would judge.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["MAX_ARRAY_SIZE", "MAX_DEPTH", "MalformedRecord", "decode", "encode", "loads"]

#: The deepest nesting of tuples an observation may have (the deepest check needs 4).
MAX_DEPTH = 12
#: The most numbers one array of an observation may hold.
MAX_ARRAY_SIZE = 1_000_000
#: The most items of one tuple or list.
MAX_ITEMS = 10_000
#: The longest text (a repr, an error message) kept from an observation.
MAX_TEXT = 300


class MalformedRecord(ValueError):
    """Data that :func:`encode` could not have written (or that exceeds the limits)."""


def encode(value: Any) -> Any:
    """An observation as JSON-able data (arrays, tuples and odd floats tagged, anything else as text)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item) for item in value[:MAX_ITEMS]]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size <= MAX_ARRAY_SIZE:
        flat = [encode(item) for item in value.ravel().tolist()]
        return {"__array__": flat, "shape": list(value.shape), "dtype": value.dtype.str}
    try:
        text = repr(value)
    except Exception:  # a learner's object whose __repr__ raises
        text = f"<{type(value).__name__}>"
    return {"__repr__": text[:MAX_TEXT]}


def loads(text: str | bytes) -> Any:
    """``json.loads`` that turns every failure (bad JSON, absurd nesting) into :class:`MalformedRecord`."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError, MemoryError) as error:
        raise MalformedRecord(f"not JSON ({type(error).__name__})") from None


def decode(data: Any, depth: int = 0) -> Any:
    """The inverse of :func:`encode`, for untrusted input: plain data only, within the limits."""
    if depth > MAX_DEPTH:
        raise MalformedRecord("nested too deeply")
    if data is None or isinstance(data, (bool, int)):
        return data
    if isinstance(data, float):
        return data
    if isinstance(data, str):
        return data[:MAX_TEXT]
    if isinstance(data, list):  # encode never writes bare lists; json arrays only appear inside tags
        raise MalformedRecord("a bare list")
    if not isinstance(data, dict) or len(data) > 3:
        raise MalformedRecord(f"unexpected {type(data).__name__}")
    if set(data) == {"__tuple__"}:
        items = data["__tuple__"]
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise MalformedRecord("a malformed tuple")
        return tuple(decode(item, depth + 1) for item in items)
    if set(data) == {"__float__"}:
        if data["__float__"] not in ("inf", "-inf", "nan"):
            raise MalformedRecord("a malformed float")
        return float(data["__float__"])
    if set(data) == {"__repr__"}:
        return f"<{str(data['__repr__'])[:MAX_TEXT]}>"
    if set(data) == {"__array__", "shape", "dtype"}:
        return _decode_array(data)
    raise MalformedRecord("unknown tag")


def _decode_array(data: dict[str, Any]) -> np.ndarray:
    values, shape, dtype = data["__array__"], data["shape"], data["dtype"]
    if not (isinstance(values, list) and isinstance(shape, list) and isinstance(dtype, str)):
        raise MalformedRecord("a malformed array")
    if len(values) > MAX_ARRAY_SIZE or len(shape) > 32:
        raise MalformedRecord("an array too large")
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_ARRAY_SIZE for n in shape):
        raise MalformedRecord("a malformed array shape")
    if math.prod(shape) != len(values):
        raise MalformedRecord("an array whose shape does not match its values")
    if not all(isinstance(v, (int, float)) or (isinstance(v, dict) and set(v) == {"__float__"}) for v in values):
        raise MalformedRecord("an array of non-numbers")
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise MalformedRecord("an unknown dtype") from None
    if kind.kind not in "biuf":
        raise MalformedRecord("a non-numeric dtype")
    numbers = [decode(v, MAX_DEPTH) if isinstance(v, dict) else v for v in values]
    try:
        return np.array(numbers, dtype=kind).reshape(shape)
    except (ValueError, OverflowError, TypeError):
        raise MalformedRecord("numbers that do not fit the dtype") from None
