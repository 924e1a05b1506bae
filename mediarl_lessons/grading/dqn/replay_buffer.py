"""The check of ``ReplayBuffer`` (exercise ``05_dqn``).

What is checked: behaviour, never "the same draws as the reference". What the contract
allows and the checks therefore accept: any storage (preallocated arrays, a list, a
``deque(maxlen=capacity)``); sampling with or without replacement within a batch (the
checks never ask for a batch larger than ``len(buffer)``) as long as every transition
stored is equally likely to appear at each position of a batch; any random generator, as
long as it is seeded from ``seed`` (two buffers made with the same seed and fed the same
transitions give the same batches; another seed gives other batches). Checked: the batch
is a named tuple with the fields ``obs, actions, rewards, next_obs, terminated`` in that
order, of tensors float32 ``(B, obs_dim)``, int64 ``(B,)``, float32 ``(B,)``, float32
``(B, obs_dim)``, float32 ``(B,)``; ``len`` counts up to ``capacity`` and stays there; only
the latest ``capacity`` transitions are ever drawn, each with probability
``1 / len(buffer)`` (frequencies over 400 to 1,000 draws against the exact
probabilities, the test of :func:`~mediarl_lessons.grading.cases.frequencies_fit`); never
a slot that was not filled; every field of a drawn row from the same transition; copies
stored (the caller overwrites its arrays after each ``add``); ``ValueError`` when sampled
empty. A method left as a stub is a failed case naming it; only an unwritten ``__init__``
means "not attempted".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mediarl_lessons.grading.cases import frequencies_fit
from mediarl_lessons.grading.core import Case, Mistake, describe, register
from mediarl_lessons.grading.dqn import EXERCISE
from mediarl_lessons.grading.dqn.common import _single_threaded, _torch, tensor_summary

#: The fields of a mini-batch, in order (``ReplayBuffer.sample``'s named tuple).
FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated")

#: The value a case writes into the caller's arrays after ``add``: a row showing it was stored by reference.
OVERWRITTEN = -7.0


def _transition(i: int, obs_dim: int, numpy_scalars: bool = False) -> tuple[Any, ...]:
    """Transition number ``i``: every field tells which transition it belongs to (exact in float32)."""
    obs = np.array([(i + 1) * (1 if j % 2 == 0 else -1) + j / 4 for j in range(obs_dim)], dtype=np.float32)
    next_obs = obs + np.float32(0.5)
    action, reward, terminated = (3 * i) % 7, (i + 1) / 8, i % 3 == 2
    if numpy_scalars:
        return obs, np.int64(action), np.float32(reward), next_obs, np.bool_(terminated)
    return obs, action, reward, next_obs, terminated


@dataclass(frozen=True)
class _Scenario:
    """Fill a buffer with transitions 0 .. n_adds-1, then draw n_batches batches."""

    capacity: int
    obs_dim: int
    n_adds: int
    batch_size: int
    n_batches: int
    seed: int
    overwrite_callers_arrays: bool = False
    numpy_scalars: bool = False

    @property
    def kept(self) -> range:
        """The transitions the buffer must hold at the end: the latest ``capacity``."""
        return range(max(0, self.n_adds - self.capacity), self.n_adds)

    def probabilities(self) -> np.ndarray:
        """Exact probabilities of the categories of :func:`_categories`: uniform over ``kept``."""
        p = np.zeros(self.n_adds + 3)
        p[list(self.kept)] = 1.0 / len(self.kept)
        return p


def _method(buffer: Any, name: str, *args: Any) -> Any:
    """Call one method of the learner's buffer; a method left as a stub becomes a failed case
    (only an unwritten ``__init__`` means "not attempted"); an error says where it happened."""
    try:
        return len(buffer) if name == "__len__" else getattr(buffer, name)(*args)
    except NotImplementedError:
        raise RuntimeError(f"{name}() still raises NotImplementedError") from None
    except (IndexError, ValueError, TypeError, KeyError, AttributeError, RuntimeError) as error:
        try:
            relabelled = type(error)(f"in {name}(): {error}")
        except Exception:
            raise error from None
        raise relabelled from None


def _fill(cls: Callable[..., Any], scenario: _Scenario, seed: int | None = None) -> tuple[Any, list[int]]:
    buffer = cls(scenario.capacity, scenario.obs_dim, seed=scenario.seed if seed is None else seed)
    lengths = []
    for i in range(scenario.n_adds):
        obs, action, reward, next_obs, terminated = _transition(i, scenario.obs_dim, scenario.numpy_scalars)
        _method(buffer, "add", obs, action, reward, next_obs, terminated)
        if scenario.overwrite_callers_arrays:
            obs[:] = OVERWRITTEN
            next_obs[:] = OVERWRITTEN
        lengths.append(int(_method(buffer, "__len__")))
    return buffer, lengths


def _field(batch: Any, index: int) -> Any:
    name = FIELDS[index]
    if hasattr(batch, "_fields") and name in batch._fields:
        return getattr(batch, name)
    if isinstance(batch, dict):
        return batch.get(name)
    if isinstance(batch, (tuple, list)) and len(batch) == len(FIELDS):
        return batch[index]
    return None


def _numbers(value: Any) -> np.ndarray | None:
    """A real tensor's or array's numbers as a flat float64 array (None for anything else)."""
    torch = _torch()
    if isinstance(value, torch.Tensor) and not value.is_complex():
        return value.detach().cpu().numpy().astype(np.float64).ravel()
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(np.float64).ravel()
    return None


def _draws(cls: Callable[..., Any], scenario: _Scenario, seed: int | None = None) -> tuple[Any, ...]:
    """Every field of every drawn transition, concatenated over the batches, as float64 arrays."""
    buffer, _ = _fill(cls, scenario, seed)
    columns: list[list[np.ndarray]] = [[] for _ in FIELDS]
    for _ in range(scenario.n_batches):
        batch = _method(buffer, "sample", scenario.batch_size)
        for index in range(len(FIELDS)):
            values = _numbers(_field(batch, index))
            if values is None:
                return ("unreadable", FIELDS[index])
            columns[index].append(values)
    rows = scenario.n_batches * scenario.batch_size
    out = []
    for index, parts in enumerate(columns):
        values = np.concatenate([part.ravel() for part in parts])
        width = scenario.obs_dim if FIELDS[index] in ("obs", "next_obs") else 1
        if values.size != rows * width:
            return ("unreadable", FIELDS[index])
        out.append(values.reshape(rows, width) if FIELDS[index] in ("obs", "next_obs") else values)
    return tuple(out)


def _categories(draws: tuple[Any, ...], scenario: _Scenario) -> np.ndarray:
    """Counts of the drawn rows per category: transition 0 .. n_adds-1, then a never-filled slot
    (all zeros), then a row overwritten through the caller's array, then anything else (fields of
    different transitions mixed, or numbers that are no transition at all)."""
    n = scenario.n_adds
    obs, actions, rewards, next_obs, terminated = (np.asarray(field, dtype=np.float64) for field in draws)
    table = [np.array(column, dtype=np.float64) for column in zip(*(_transition(i, scenario.obs_dim)
                                                                     for i in range(n)))]
    ids = np.rint(obs[:, 0] - 1).astype(np.int64)  # transition i has obs[0] == i + 1
    candidate = (ids >= 0) & (ids < n) & (obs[:, 0] == ids + 1)
    ids = np.where(candidate, ids, 0)
    whole = (candidate & np.all(obs == table[0][ids], axis=1) & (actions == table[1][ids])
             & (rewards == table[2].astype(np.float32)[ids]) & np.all(next_obs == table[3][ids], axis=1)
             & (terminated == table[4][ids]))
    never_filled = ~whole & ~np.any(obs, axis=1) & ~np.any(next_obs, axis=1) & (rewards == 0)
    overwritten = ~whole & ~never_filled & np.all(obs == OVERWRITTEN, axis=1)
    counts = np.zeros(n + 3, dtype=np.int64)
    counts[:n] = np.bincount(ids[whole], minlength=n)
    counts[n:] = never_filled.sum(), overwritten.sum(), (~(whole | never_filled | overwritten)).sum()
    return counts


def _draws_case(name: str, scenario: _Scenario) -> Case:
    """Draw many batches; each stored transition must come up with probability 1 / len(buffer)."""
    n = scenario.n_adds
    probabilities = scenario.probabilities()
    kept = list(scenario.kept)

    @_single_threaded
    def observe(cls: Callable[..., Any]) -> tuple[Any, ...]:
        return _draws(cls, scenario)

    def counts_of(got: Any) -> np.ndarray | None:
        if not isinstance(got, tuple) or len(got) != len(FIELDS) or isinstance(got[0], str):
            return None
        return _categories(got, scenario)

    def agrees(got: Any, expected: np.ndarray) -> bool:
        counts = counts_of(got)
        return counts is not None and frequencies_fit(counts, expected)

    def drawn(got: Any) -> set[int]:
        counts = counts_of(got)
        return set() if counts is None else {i for i in range(n) if counts[i] > 0}

    def fits(distribution: np.ndarray) -> Callable[[Any], bool]:
        return lambda got: counts_of(got) is not None and frequencies_fit(counts_of(got), distribution)

    def uniform_over(ids: Sequence[int]) -> np.ndarray:
        p = np.zeros(n + 3)
        p[list(ids)] = 1.0 / len(ids)
        return p

    mistakes = [
        Mistake("sample's result must hold the five fields obs, actions, rewards, next_obs, terminated as tensors "
                "(batch_size rows each)", lambda got: counts_of(got) is None),
        Mistake("drew slots that were never filled (rows of zeros): draw indices from range(len(self)), "
                "not range(capacity)", lambda got: counts_of(got) is not None and counts_of(got)[n] > 0),
        Mistake("stored a reference to the caller's array: the caller wrote into it after add() and the buffer "
                "changed too; store a copy (np.array(obs), or assign into a preallocated row)",
                lambda got: counts_of(got) is not None and counts_of(got)[n + 1] > 0),
        Mistake("the fields of a drawn row come from different transitions (or are not the numbers added): use the "
                "same indices for obs, actions, rewards, next_obs and terminated",
                lambda got: counts_of(got) is not None and counts_of(got)[n + 2] > 0),
    ]
    if n > scenario.capacity:
        mistakes += [
            Mistake("stopped storing when full? Once len == capacity each new transition overwrites the OLDEST "
                    "(ring buffer: position = (position + 1) % capacity, or deque(maxlen=capacity))",
                    lambda got: bool(drawn(got)) and max(drawn(got)) < scenario.capacity),
            Mistake("kept more than capacity transitions? The buffer holds only the latest capacity ones "
                    "(the oldest are overwritten)",
                    lambda got: bool(drawn(got)) and min(drawn(got)) < kept[0] and max(drawn(got)) == n - 1),
            Mistake("kept the wrong transitions when full: the write position must wrap around to 0 and move on "
                    "(position = (position + 1) % capacity), so the OLDEST is overwritten each time",
                    lambda got: bool(drawn(got)) and not drawn(got) <= set(kept)),
        ]
    if len(kept) > 1:
        mistakes.append(Mistake(
            "one stored transition never came up: off by one in the index range? rng.integers(len(self)) draws "
            "0 .. len(self) - 1, every stored slot",
            lambda got: drawn(got) < set(kept) and len(set(kept) - drawn(got)) == 1
            and fits(uniform_over(sorted(drawn(got))))(got)))

    def show(got: Any) -> str:
        counts = counts_of(got)
        if counts is None:
            return f"cannot read field {got[1]!r}" if isinstance(got, tuple) and len(got) == 2 else describe(got)
        total = max(int(counts.sum()), 1)
        parts = [f"#{i} {counts[i] / total:.2f}" for i in range(n) if counts[i]]
        for label, index in (("never-filled", n), ("overwritten by caller", n + 1), ("mixed", n + 2)):
            if counts[index]:
                parts.append(f"{label} {counts[index] / total:.2f}")
        return _shorten(", ".join(parts), 70)

    if len(kept) == 1:
        expected_text = f"always transition #{kept[0]} ({scenario.n_batches * scenario.batch_size} draws)"
    else:
        expected_text = (f"#{kept[0]}..#{kept[-1]} each {1 / len(kept):.2f}, nothing else "
                         f"({scenario.n_batches * scenario.batch_size} draws)")
    return Case(name, observe, probabilities, agrees, mistakes, expected_text, show,
                "draw batch_size indices uniformly from range(len(self)) with the buffer's own generator "
                "and return those rows of every field")


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


#: What the meta case expects of each field: (kind, dtype, shape as "B" / "B,D").
_FIELD_SPECS = {
    "obs": ("torch.float32", "B,D"),
    "actions": ("torch.int64", "B"),
    "rewards": ("torch.float32", "B"),
    "next_obs": ("torch.float32", "B,D"),
    "terminated": ("torch.float32", "B"),
}

_DTYPE_HINTS = {
    "obs": "obs must be float32 (the network's weights are float32): store float32 (np.zeros(..., dtype=np.float32)) "
           "or convert with torch.as_tensor(..., dtype=torch.float32)",
    "actions": "actions must be int64 (torch.long): q.gather(1, actions.unsqueeze(1)) needs int64 indices",
    "rewards": "rewards must be float32 (np.float64 arrays become float64 tensors): dtype=np.float32",
    "next_obs": "next_obs must be float32: store float32 or convert with dtype=torch.float32",
    "terminated": "terminated must be float32 0.0 / 1.0 (the targets compute 1 - terminated), not bool or int",
}


def _meta_case(name: str, scenario: _Scenario) -> Case:
    """One batch: a named tuple with the five fields, each a tensor of the right dtype and shape."""
    b, d = scenario.batch_size, scenario.obs_dim

    @_single_threaded
    def observe(cls: Callable[..., Any]) -> tuple[Any, ...]:
        buffer, _ = _fill(cls, scenario)
        batch = _method(buffer, "sample", b)
        fields = tuple(str(f) for f in getattr(batch, "_fields", ())) if isinstance(batch, tuple) else ()
        metas = []
        for index in range(len(FIELDS)):
            summary = tensor_summary(_field(batch, index))
            metas.append((summary[0], str(summary[1]), tuple(summary[2]) if summary[0] != "other" else ()))
        return (type(batch).__name__, fields, tuple(metas))

    def wanted(field: str) -> tuple[str, str, tuple[int, ...]]:
        dtype, shape = _FIELD_SPECS[field]
        return ("tensor", dtype, (b, d) if shape == "B,D" else (b,))

    expected = ("Batch", FIELDS, tuple(wanted(field) for field in FIELDS))

    def agrees(got: Any, _expected: Any) -> bool:
        return tuple(got[1]) == FIELDS and tuple(tuple(m) for m in got[2]) == expected[2]

    def meta(got: Any, field: str) -> tuple[Any, ...]:
        return tuple(got[2][FIELDS.index(field)])

    mistakes = [Mistake("return a named tuple with the fields (obs, actions, rewards, next_obs, terminated), in this "
                        "order: the Batch class given above, Batch(obs=..., ...), so that batch.obs and unpacking "
                        "both work", lambda got: tuple(got[1]) != FIELDS)]
    for field in FIELDS:
        shape_text = f"({b}, {d})" if _FIELD_SPECS[field][1] == "B,D" else f"({b},)"
        mistakes += [
            Mistake(f"{field} is not a torch tensor: return tensors (torch.as_tensor / torch.from_numpy)",
                    lambda got, field=field: meta(got, field)[0] != "tensor"),
            Mistake(_DTYPE_HINTS[field], lambda got, field=field: meta(got, field)[1] != wanted(field)[1]),
            Mistake(f"{field} must have shape {shape_text}" + (", not (B, 1): one number per transition"
                                                                if shape_text.endswith(",)") else ""),
                    lambda got, field=field: tuple(meta(got, field)[2]) != wanted(field)[2]),
        ]

    def show(got: Any) -> str:
        if tuple(got[1]) != FIELDS:
            return f"a {got[0]} with the fields {got[1]}" if got[1] else f"a {got[0]} without field names"
        wrong = [f"{field} {m[1].replace('torch.', '')} {tuple(m[2])}" for field, m in zip(FIELDS, got[2])
                 if tuple(m) != wanted(field)]
        return _shorten("; ".join(wrong) if wrong else "as expected", 70)

    return Case(name, observe, expected, agrees, mistakes,
                f"Batch: obs float32 ({b}, {d}), actions int64 ({b},), rewards, next_obs, terminated float32", show)


def _lengths_case(name: str, scenario: _Scenario) -> Case:
    cap, n = scenario.capacity, scenario.n_adds

    @_single_threaded
    def observe(cls: Callable[..., Any]) -> tuple[int, ...]:
        return tuple(_fill(cls, scenario)[1])

    expected = tuple(min(i + 1, cap) for i in range(n))

    def agrees(got: Any, expected: Any) -> bool:
        return tuple(got) == tuple(expected)

    mistakes = [
        Mistake("len(buffer) stayed 0: count the transitions in add() and return that count from __len__",
                lambda got: all(x == 0 for x in got)),
        Mistake("len(buffer) grew past capacity: the buffer holds at most capacity transitions",
                lambda got: max(got) > cap),
        Mistake("len(buffer) fell back after the buffer filled: is __len__ returning the write position? "
                "Once full, the length stays capacity", lambda got: any(b < a for a, b in zip(got, got[1:]))),
    ]
    return Case(name, observe, expected, agrees, mistakes, describe(expected), lambda got: describe(got),
                "len(buffer) = the number of transitions stored: min(number added, capacity)")


def _empty_case(name: str) -> Case:
    @_single_threaded
    def observe(cls: Callable[..., Any]) -> tuple[Any, ...]:
        buffer = cls(8, 3, seed=0)
        try:
            returned = buffer.sample(2)
        except NotImplementedError:
            raise RuntimeError("sample() still raises NotImplementedError") from None
        except Exception as error:
            return ("raised", tuple(kind.__name__ for kind in type(error).__mro__))
        return ("returned", type(returned).__name__)

    expected = ("raised", ("ValueError", "Exception", "BaseException", "object"))

    def agrees(got: Any, _expected: Any) -> bool:
        return got[0] == "raised" and "ValueError" in got[1]

    mistakes = [
        Mistake("sampling an empty buffer returned a batch (of nothing, or of never-filled slots): raise "
                "ValueError when len(self) == 0", lambda got: got[0] == "returned"),
        Mistake("raise ValueError yourself when len(self) == 0 (before drawing): `if len(self) == 0: raise "
                "ValueError(...)`", lambda got: got[0] == "raised"),
    ]
    return Case(name, observe, expected, agrees, mistakes, "raises ValueError",
                lambda got: f"raised {got[1][0]}" if got[0] == "raised" else f"returned a {got[1]}")


def _seed_case(name: str, scenario: _Scenario) -> Case:
    """Two buffers with the same seed draw the same batches; another seed draws others."""

    @_single_threaded
    def observe(cls: Callable[..., Any]) -> tuple[Any, ...]:
        return (_draws(cls, scenario), _draws(cls, scenario), _draws(cls, scenario, seed=scenario.seed + 1))

    def same(a: Any, b: Any) -> bool:
        return len(a) == len(b) and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))

    def agrees(got: Any, _expected: Any) -> bool:
        first, again, other = got
        return (not isinstance(first[0], str)) and same(first, again) and not same(first, other)

    mistakes = [
        Mistake("the same seed gave different batches: draw with a generator made from `seed` in __init__ "
                "(self.rng = np.random.default_rng(seed)), not the global np.random / random / torch generators",
                lambda got: not same(got[0], got[1])),
        Mistake("another seed gave the same batches: is `seed` passed on to the generator?",
                lambda got: same(got[0], got[2])),
    ]
    return Case(name, observe, "reproducible", agrees, mistakes, "same seed: same batches; other seed: others",
                lambda got: "same seed: " + ("same" if same(got[0], got[1]) else "different") + " batches; "
                "other seed: " + ("same" if same(got[0], got[2]) else "other") + " batches")


def _buffer_error_hint(error: BaseException) -> str:
    text = str(error)
    if "still raises NotImplementedError" in text:
        return "write every method of ReplayBuffer: __init__, __len__, add and sample"
    if "unexpected keyword argument 'seed'" in text or ("positional argument" in text and "add()" not in text
                                                        and "sample()" not in text):
        return "the constructor is ReplayBuffer(capacity, obs_dim, seed=None)"
    if isinstance(error, IndexError) and "in add()" in text:
        return ("add() wrote past the end: when the buffer is full the write position wraps around to 0 "
                "(position = (position + 1) % capacity) and overwrites the oldest transition")
    if isinstance(error, IndexError) and "in sample()" in text:
        return "sample() used an index of a slot that holds nothing: draw indices from range(len(self))"
    if "in add()" in text and ("broadcast" in text or "shape" in text):
        return "obs and next_obs have shape (obs_dim,): one row of the (capacity, obs_dim) storage"
    return ""


@register(EXERCISE, "ReplayBuffer", error_hint=_buffer_error_hint)
@_single_threaded
def replay_buffer_cases(rng: np.random.Generator) -> list[Case]:
    capacity = int(rng.integers(4, 10))
    n_adds = int(rng.integers(capacity + 2, 3 * capacity))
    obs_dim = int(rng.integers(2, 6))
    batch_size = int(rng.integers(2, capacity + 1))
    seed = int(rng.integers(2**31))
    return [
        _meta_case("6 transitions, sample(4): the batch's fields, dtypes and shapes",
                   _Scenario(capacity=10, obs_dim=3, n_adds=6, batch_size=4, n_batches=1, seed=1)),
        _lengths_case("capacity 5, 8 transitions added: len after each add",
                      _Scenario(capacity=5, obs_dim=2, n_adds=8, batch_size=1, n_batches=0, seed=2)),
        _draws_case("3 transitions in a buffer of 100: only those, uniformly",
                    _Scenario(capacity=100, obs_dim=3, n_adds=3, batch_size=3, n_batches=200, seed=3)),
        _draws_case("12 transitions in a buffer of 5: the latest 5, uniformly",
                    _Scenario(capacity=5, obs_dim=3, n_adds=12, batch_size=5, n_batches=160, seed=4)),
        _draws_case("copies stored: the caller overwrites its arrays after each add",
                    _Scenario(capacity=6, obs_dim=2, n_adds=4, batch_size=4, n_batches=100, seed=5,
                              overwrite_callers_arrays=True)),
        _draws_case("capacity 1 (no replay): always the latest transition",
                    _Scenario(capacity=1, obs_dim=2, n_adds=3, batch_size=1, n_batches=20, seed=6)),
        _empty_case("sampling an empty buffer raises ValueError"),
        _seed_case("same seed, same batches; another seed, other batches",
                   _Scenario(capacity=50, obs_dim=2, n_adds=20, batch_size=8, n_batches=5, seed=7)),
        _draws_case(f"random: capacity {capacity}, {n_adds} transitions (numpy scalars), sample({batch_size})",
                    _Scenario(capacity=capacity, obs_dim=obs_dim, n_adds=n_adds, batch_size=batch_size,
                              n_batches=1000 // batch_size, seed=seed, numpy_scalars=True)),
    ]
