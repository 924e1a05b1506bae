"""The checks of exercise ``05_dqn`` (COURSE_SPEC §6.4), in PyTorch.

References: :mod:`mediarl_lessons.agents.dqn` (``ReplayBuffer``, ``td_targets``,
``double_dqn_targets``, ``dqn_loss``, ``soft_update``, ``Batch``).

**Torch is imported inside the functions of this module, never at its top**, so that
``from mediarl_lessons.grading import check`` in exercises 01-04 does not pay for importing
torch (seconds); only checking a function of this exercise does.

**How a case observes a torch function.** ``observe`` builds fresh inputs (networks whose
weights are fixed numbers drawn from the case's generator, so every process builds the same
ones, whatever torch's own random state), calls the learner's code, and turns what came back
into plain data: type and dtype names, shapes, numbers as float64 arrays, the gradients that
``loss.backward()`` left on every parameter, whether the Parameter objects are still the
same ones. Nothing is compared there. ``judge``, in the grader's process, compares those
numbers with the reference's; so patching ``torch.allclose``, ``F.smooth_l1_loss`` or
``torch.Tensor.backward`` inside a submission can spoil its own observations but cannot make
them agree with the reference.

**What each check accepts.**

- ``td_targets`` / ``double_dqn_targets``: a floating-point tensor of shape ``(B,)`` with the
  reference's values (float32 rounding), inputs left unchanged. Loops, ``torch.where``,
  ``gather`` or indexing: any way of computing it.
- ``dqn_loss``: a one-element tensor with the reference's value, a gradient, the reference's
  gradient on every ``q_net`` parameter after ``backward()`` (so no gradient flowed through
  the targets: two cases pass the SAME network as ``q_net`` and ``target_net``, as "DQN
  without a target network" does), no gradient on ``target_net``, and the batch unchanged.
  The batch is the reference's :class:`~mediarl_lessons.agents.dqn.Batch` named tuple, so
  ``batch.obs`` and ``obs, actions, rewards, next_obs, terminated = batch`` both work;
  ``double=True`` is passed by keyword, ``double`` is left out for the default.
- ``soft_update``: afterwards the SAME Parameter objects of ``target_net`` hold the new
  values (``copy_``, ``mul_().add_()``, ``lerp_``, ``load_state_dict`` and assigning
  ``.data`` all do; binding a new network or new Parameters to a name does not), and
  ``online_net`` is unchanged. The target's parameters require gradients, as a freshly built
  network's do, so the update must run under ``torch.no_grad()`` (or on ``.data``).
- ``ReplayBuffer``: behaviour, never "the same draws as the reference". What the contract
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

Every function whose name starts with ``wrong_`` is DELIBERATELY WRONG: a mistake learners
make, kept here only so that the check can recognise it and name it in a hint. They are run
only when a failure is being explained (:func:`_variant_mistake`), so a passing function, and
the grader's worker, do not pay for them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mediarl_lessons.grading.cases import frequencies_fit
from mediarl_lessons.grading.core import Case, Mistake, describe, register

if TYPE_CHECKING:  # only for the annotations: torch is imported where it is used
    import torch
    from torch import nn

EXERCISE = "05_dqn"

#: The fields of a mini-batch, in order (``ReplayBuffer.sample``'s named tuple).
FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated")

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


# =============================================================================================
# ReplayBuffer
# =============================================================================================
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


# =============================================================================================
# td_targets and double_dqn_targets
# =============================================================================================
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


def _inputs_unchanged(inputs: Any, originals: Any) -> bool:
    return len(inputs) == len(originals) and all(
        np.array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), equal_nan=True)
        for a, b in zip(inputs, originals))


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


# =============================================================================================
# dqn_loss
# =============================================================================================
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


# =============================================================================================
# soft_update
# =============================================================================================
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
