"""The checks of exercise ``05_dqn``, in PyTorch.

References: :mod:`mediarl_lessons.agents.dqn` (``ReplayBuffer``, ``td_targets``,
``double_dqn_targets``, ``dqn_loss``, ``soft_update``, ``Batch``).

One module per function of the exercise; each says in its docstring what its check accepts,
and holds that check's cases, hints and deliberately wrong variants:

- :mod:`~mediarl_lessons.grading.dqn.replay_buffer`: ``ReplayBuffer``;
- :mod:`~mediarl_lessons.grading.dqn.targets`: ``td_targets`` and ``double_dqn_targets``
  (one kind of case for both);
- :mod:`~mediarl_lessons.grading.dqn.loss`: ``dqn_loss``;
- :mod:`~mediarl_lessons.grading.dqn.soft_update`: ``soft_update``;
- :mod:`~mediarl_lessons.grading.dqn.common`: what they share (torch imported lazily, one
  thread, tensors as plain data, networks with fixed weights, tolerances, the mistake "it
  matches this wrong variant").

**Torch is imported inside the functions of this package, never at a module's top**, so that
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
them agree with the reference. ``observe`` captures only a case's inputs, never the
reference's answer: the batch grader may send it into the learner's process.

Every function whose name starts with ``wrong_`` is DELIBERATELY WRONG: a mistake learners
make, kept here only so that the check can recognise it and name it in a hint. They are run
only when a failure is being explained
(:func:`~mediarl_lessons.grading.dqn.common._variant_mistake`), so a passing function, and
the grader's worker, do not pay for them.
"""

from __future__ import annotations

import importlib

EXERCISE = "05_dqn"

#: The check modules, in the order of the functions in the exercise. Importing one registers its
#: checks, so this order is the order of ``REGISTRY["05_dqn"]`` (``EXERCISES``, the grader's
#: results): keep it. (A loop rather than import statements, which a sorter would reorder.)
CHECK_MODULES = ("replay_buffer", "targets", "loss", "soft_update")
for _module in CHECK_MODULES:
    importlib.import_module(f"{__name__}.{_module}")
