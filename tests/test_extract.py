"""``grading.extract``: a submission keeps exactly what its exercise functions need.

Each test builds a small notebook (or ``.py`` file) the way students write them, scratch and
experiments included, and checks which statements are kept and that the kept ones run.
"""

from __future__ import annotations
import __future__

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from mediarl_lessons.grading import EXERCISES
from mediarl_lessons.grading.extract import Chunk, Extraction, extract, extract_source

ROOT = Path(__file__).resolve().parent.parent


def notebook(tmp_path: Path, *cells: str, name: str = "submission.ipynb") -> Path:
    """A notebook of these code cells (with a markdown cell first: only code cells are counted)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# My submission")]
    nb.cells += [nbformat.v4.new_code_cell(cell) for cell in cells]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def run(extraction: Extraction) -> dict[str, Any]:
    """Execute the kept chunks, in order, in a fresh namespace, the way the grader does."""
    namespace: dict[str, Any] = {}
    for chunk in extraction.chunks:
        code = compile(chunk.source, "submission", "exec", flags=extraction.future_flags, dont_inherit=True)
        exec(code, namespace)
    return namespace


def sources(extraction: Extraction) -> list[str]:
    return [chunk.source for chunk in extraction.chunks]


def defined(extraction: Extraction) -> list[str]:
    return [name for chunk in extraction.chunks for name in chunk.defines]


# --- 1. exercise 03 ------------------------------------------------------------------------
DP_CELLS = (
    "import gymnasium as gym\nimport numpy as np\n\nfrom mediarl_lessons import mdp",
    "def q_from_v(P, R, V, gamma):\n    return R + gamma * P @ V",
    "def greedy_policy(Q):\n    return np.argmax(Q, axis=1)",
    "def value_iteration(P, R, gamma, tol=1e-8):\n"
    "    V = np.zeros(R.shape[0])\n"
    "    while True:\n"
    "        Q = q_from_v(P, R, V, gamma)\n"
    "        V_new = Q.max(axis=1)\n"
    "        if np.max(np.abs(V_new - V)) < tol:\n"
    "            return V_new, greedy_policy(Q)\n"
    "        V = V_new",
    "def policy_evaluation(P, R, policy, gamma, tol=1e-8):\n"
    "    P_pi = np.einsum('sa,sat->st', policy, P)\n"
    "    R_pi = (policy * R).sum(axis=1)\n"
    "    return np.linalg.solve(np.eye(len(R_pi)) - gamma * P_pi, R_pi)",
    'env = gym.make("mediarl/SessionRetention-v0")\nP, R = mdp.dense_model(env)\nprint(value_iteration(P, R, 0.9))',
)


def test_dynamic_programming_keeps_numpy_and_the_four_functions(tmp_path: Path) -> None:
    wanted = EXERCISES["03_dynamic_programming"]
    extraction = extract(notebook(tmp_path, *DP_CELLS), wanted)
    assert defined(extraction) == ["np", "q_from_v", "greedy_policy", "value_iteration", "policy_evaluation"]
    assert sources(extraction)[0] == "import numpy as np"
    assert extraction.chunks[0].origin == "code cell 1, line 2"
    assert extraction.chunks[3].origin == "code cell 4, line 1"
    assert not any("gym" in source or "mdp" in source or "print" in source for source in sources(extraction))
    assert extraction.found == frozenset(wanted)
    assert extraction.notes == ()
    namespace = run(extraction)
    assert all(callable(namespace[name]) for name in wanted)
    assert "env" not in namespace and "P" not in namespace
    P = namespace["np"].full((2, 2, 2), 0.5)
    R = namespace["np"].array([[1.0, 0.0], [0.0, 2.0]])
    _, policy = namespace["value_iteration"](P, R, 0.5)
    assert policy.tolist() == [0, 1]


def test_needs_lists_what_each_function_reaches(tmp_path: Path) -> None:
    extraction = extract(notebook(tmp_path, *DP_CELLS), EXERCISES["03_dynamic_programming"])
    assert extraction.needs["q_from_v"] == {1}  # no global at all: only itself
    assert extraction.needs["greedy_policy"] == {0, 2}
    assert extraction.needs["value_iteration"] == {0, 1, 2, 3}
    assert extraction.needs["policy_evaluation"] == {0, 4}


# --- 2. scratch ------------------------------------------------------------------------------
def test_capitalised_scratch_is_dropped(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        "import numpy as np\nrng = np.random.default_rng(0)",
        "def net(x):\n    return 2 * x",
        "def epsilon_greedy(q, epsilon, rng):\n    return int(np.argmax(q))",
        "X = rng.normal(size=3)\nQ = net(X)\nQ",
    )
    extraction = extract(path, ["epsilon_greedy"])
    assert defined(extraction) == ["np", "epsilon_greedy"]
    assert "X" not in run(extraction)


# --- 3. helpers that are not literals -------------------------------------------------------
def test_non_literal_helpers_are_kept_because_they_are_used(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        "from collections import namedtuple\nimport numpy as np\nimport json",
        'Batch = namedtuple("Batch", "a b")\nsolve = np.linalg.solve\ncriterion = abs\nclip = lambda x: max(0, x)\n'
        'unused = json.dumps({})',
        "def contract(a, b):\n"
        "    batch = Batch(a, b)\n"
        "    x = solve(np.eye(2), np.ones(2))\n"
        "    return clip(criterion(batch.a - batch.b)) + helper(x.sum())",
        "print(contract(1, 3))",
        "def helper(total):\n    return total / 2",
    )
    extraction = extract(path, ["contract"])
    assert defined(extraction) == ["namedtuple", "np", "Batch", "solve", "criterion", "clip", "contract", "helper"]
    assert extraction.chunks[-1].origin == "code cell 5, line 1"  # defined after the function that calls it
    assert run(extraction)["contract"](1, 3) == 3.0


def test_a_later_use_takes_the_last_binding(tmp_path: Path) -> None:
    path = notebook(tmp_path, "SCALE = 1", "def f():\n    return SCALE", "SCALE = 10", "SCALE_COPY = SCALE")
    extraction = extract(path, ["f"])
    assert sources(extraction) == ["def f():\n    return SCALE", "SCALE = 10"]
    assert run(extraction)["f"]() == 10


def test_an_immediate_use_takes_the_binding_before_it(tmp_path: Path) -> None:
    path = notebook(tmp_path, "N = 2", "def f(n=N):\n    return n", "N = 3")
    extraction = extract(path, ["f"])
    assert sources(extraction) == ["N = 2", "def f(n=N):\n    return n"]
    assert run(extraction)["f"]() == 2


def test_decorators_are_part_of_the_chunk_and_followed(tmp_path: Path) -> None:
    path = notebook(tmp_path, "import functools", "x = 1\n\n@functools.lru_cache\n# cached\ndef f(n):\n    return n")
    extraction = extract(path, ["f"])
    assert sources(extraction) == ["import functools", "@functools.lru_cache\n# cached\ndef f(n):\n    return n"]
    assert extraction.chunks[1].origin == "code cell 2, line 3"
    assert run(extraction)["f"](4) == 4


def test_locals_and_comprehension_variables_are_not_followed() -> None:
    source = (
        "x = broken()\n"
        "total = broken()\n"
        "def f(x, *args, **kwargs):\n"
        "    total = sum(y for y in args)\n"
        "    inner = [k for k in kwargs]\n"
        "    return x + total + len(inner)\n"
    )
    extraction = extract_source(source, ["f"], notebook=False)
    assert defined(extraction) == ["f"]


def test_global_declared_names_are_followed() -> None:
    source = "count = 0\ndef f():\n    global count\n    count = count + 1\n    return count\n"
    extraction = extract_source(source, ["f"], notebook=False)
    assert defined(extraction) == ["count", "f"]


# --- 4. failing imports of unrelated modules ------------------------------------------------
def test_colab_mount_is_dropped_and_torch_kept_only_if_used(tmp_path: Path) -> None:
    cells = ("from google.colab import drive\ndrive.mount('/content/drive')\nimport torch\nimport numpy as np",
             "def f(x):\n    return np.asarray(x) * 2")
    extraction = extract(notebook(tmp_path, *cells), ["f"])
    assert defined(extraction) == ["np", "f"]
    assert run(extraction)["f"]([1]).tolist() == [2]

    uses_torch = (*cells, "def g(x):\n    return torch.as_tensor(x)")
    extraction = extract(notebook(tmp_path, *uses_torch), ["f", "g"])
    assert defined(extraction) == ["torch", "np", "f", "g"]
    assert not any("colab" in source or "drive" in source for source in sources(extraction))


# --- 5. IPython syntax ---------------------------------------------------------------------
def test_magics_and_shell_commands(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        "!pip install some-package\n%matplotlib inline\nimport numpy as np\nx = !ls\nfiles = x",
        "%%time\n\ndef timed(a):\n    return np.sum(a)",
        "%%bash\necho hello",
        "%%timeit\ndef slow():\n    return 1",
        "%%capture out --no-stderr\ndef captured():\n    return files_or_none()",
        "def files_or_none():\n    r = %timeit -o timed([1])\n    return None",
        "def files_or_none():\n    return 'none'",
    )
    extraction = extract(path, ["timed", "captured", "slow"])
    assert sources(extraction) == [
        "import numpy as np",
        "def timed(a):\n    return np.sum(a)",
        "def captured():\n    return files_or_none()",
        "def files_or_none():\n    return 'none'",
    ]
    assert [chunk.origin for chunk in extraction.chunks] == [
        "code cell 1, line 3", "code cell 2, line 3", "code cell 5, line 2", "code cell 7, line 1"]
    assert extraction.found == {"timed", "captured"}
    assert extraction.notes == ("code cell 4 is a %%timeit cell, which grading does not run: its slow was not used",)
    namespace = run(extraction)
    assert namespace["timed"]([1, 2]) == 3 and namespace["captured"]() == "none"


def test_a_function_using_a_magic_is_dropped_with_a_note(tmp_path: Path) -> None:
    extraction = extract(notebook(tmp_path, "def f():\n    %time g()\n    return 1"), ["f"])
    assert extraction.chunks == () and extraction.found == frozenset()
    assert extraction.notes == ("code cell 1, line 1 uses IPython syntax (a magic or a shell command) "
                                "and was skipped: its f was not used",)


def test_leading_blank_lines_and_string_or_list_sources_keep_line_numbers() -> None:
    expected = (Chunk("import math", "code cell 1, line 3", ("math",)),)
    for source in ("\n  \nimport math\nx = 1", ["\n", "  \n", "import math\n", "x = 1"]):
        text = json.dumps({"cells": [{"cell_type": "markdown", "source": "# hi"},
                                     {"cell_type": "code", "source": source}]})
        assert extract_source(text, ["math"], notebook=True).chunks == expected


def test_py_files_are_plain_python(tmp_path: Path) -> None:
    path = tmp_path / "submission.py"
    path.write_text("import math\n\n\ndef f():\n    return math.pi\n\nf()\n", encoding="utf-8")
    extraction = extract(path, ["f"])
    assert [chunk.origin for chunk in extraction.chunks] == ["line 1", "line 4"]
    path.write_text("%time f()\n", encoding="utf-8")
    with pytest.raises(SyntaxError):
        extract(path, ["f"])


def test_upper_case_suffix_is_a_notebook(tmp_path: Path) -> None:
    path = notebook(tmp_path, "%matplotlib inline\ndef f():\n    return 1", name="SUBMISSION.IPYNB")
    assert defined(extract(path, ["f"])) == ["f"]


# --- 6. redefinitions -------------------------------------------------------------------------
def test_the_last_definition_wins(tmp_path: Path) -> None:
    path = notebook(tmp_path, "def f():\n    return 'draft'", "def f():\n    return 'final'")
    extraction = extract(path, ["f"])
    assert sources(extraction) == ["def f():\n    return 'final'"]
    assert run(extraction)["f"]() == "final"


def test_an_earlier_definition_used_in_between_is_kept_too(tmp_path: Path) -> None:
    path = notebook(tmp_path, "def f():\n    return 1", "g = f", "def f():\n    return g() + 1")
    extraction = extract(path, ["f"])
    assert sources(extraction) == ["def f():\n    return 1", "g = f", "def f():\n    return g() + 1"]
    assert run(extraction)["f"]() == 2


# --- 7. mutations -------------------------------------------------------------------------------
def test_a_mutated_constant_keeps_its_mutations_in_order(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        "import numpy as np\nWEIGHTS = np.zeros(3)",
        "WEIGHTS[0] = 1\nprint(WEIGHTS)",
        "def score(x):\n    return WEIGHTS @ x",
        "WEIGHTS *= 2\nOTHER = np.ones(2)\nOTHER[1] = 5",
    )
    extraction = extract(path, ["score"])
    assert sources(extraction) == ["import numpy as np", "WEIGHTS = np.zeros(3)", "WEIGHTS[0] = 1",
                                   "def score(x):\n    return WEIGHTS @ x", "WEIGHTS *= 2"]
    assert run(extraction)["score"]([1, 1, 1]) == 2.0


def test_mutations_before_a_rebinding_are_not_kept() -> None:
    source = ("class C: pass\nCONFIG = C()\nCONFIG.x = broken()\nCONFIG = C()\nCONFIG.x = 2\n"
              "def f():\n    return CONFIG.x\n")
    extraction = extract_source(source, ["f"], notebook=False)
    assert [chunk.origin for chunk in extraction.chunks] == ["line 1", "line 4", "line 5", "line 6"]
    assert run(extraction)["f"]() == 2


# --- 8. syntax errors ---------------------------------------------------------------------------
def test_a_cell_with_a_syntax_error_is_skipped_with_a_note(tmp_path: Path) -> None:
    path = notebook(tmp_path, "def f():\n    return 1", "\ndef g(:\n    pass", "def g():\n    return f()")
    extraction = extract(path, ["f", "g"])
    assert extraction.found == {"f", "g"}
    assert len(extraction.notes) == 1
    assert extraction.notes[0].startswith("code cell 2 has a syntax error (line 2")
    assert extraction.notes[0].endswith("and was skipped")


def test_a_py_file_with_a_syntax_error_raises(tmp_path: Path) -> None:
    path = tmp_path / "submission.py"
    path.write_text("def f(:\n    pass\n", encoding="utf-8")
    with pytest.raises(SyntaxError) as error:
        extract(path, ["f"])
    assert error.value.filename == str(path)


@pytest.mark.parametrize("text", ["{not json", '{"nbformat": 4}', '{"cells": 3}', "[1, 2]"])
def test_an_unreadable_notebook_raises_value_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable notebook"):
        extract(path, ["f"])


def test_undecodable_bytes_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "submission.py"
    path.write_bytes(b"# caf\xe9\ndef f():\n    return 1\n")
    assert defined(extract(path, ["f"])) == ["f"]


# --- 9. needs ---------------------------------------------------------------------------------
def test_needs_separates_a_failing_import_from_the_functions_that_do_not_use_it(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        "import numpy as np\nimport not_a_real_module_xyz as nr",
        "def f(x):\n    return nr.go(np.asarray(x))",
        "def g(x):\n    return np.asarray(x) + 1",
    )
    extraction = extract(path, ["f", "g"])
    broken = next(index for index, chunk in enumerate(extraction.chunks) if chunk.defines == ("nr",))
    assert broken in extraction.needs["f"]
    assert broken not in extraction.needs["g"]
    assert extraction.needs["g"] == {0, 3}


def test_star_imports_are_always_kept_and_needed_by_unresolved_names() -> None:
    source = "from math import *\nfrom os.path import *\nimport json\ndef f():\n    return floor(pi)\n"
    extraction = extract_source(source, ["f"], notebook=False)
    assert sources(extraction) == ["from math import *", "from os.path import *", "def f():\n    return floor(pi)"]
    assert extraction.needs["f"] == {0, 1, 2}
    assert run(extraction)["f"]() == 3


# --- 10. from __future__ import annotations --------------------------------------------------
def test_future_annotations_sets_the_flag_and_annotations_are_not_followed(tmp_path: Path) -> None:
    cells = ("from __future__ import annotations\nimport numpy as np\nimport typing as t",
             "def f(x: np.ndarray) -> t.Any:\n    return x")
    extraction = extract(notebook(tmp_path, *cells), ["f"])
    assert extraction.future_flags == __future__.annotations.compiler_flag
    assert sources(extraction) == ["def f(x: np.ndarray) -> t.Any:\n    return x"]
    assert run(extraction)["f"].__annotations__ == {"x": "np.ndarray", "return": "t.Any"}


def test_without_the_future_import_annotations_are_followed(tmp_path: Path) -> None:
    cells = ("import numpy as np\nimport typing as t", "def f(x: np.ndarray) -> t.Any:\n    return x")
    extraction = extract(notebook(tmp_path, *cells), ["f"])
    assert extraction.future_flags == 0
    assert defined(extraction) == ["np", "t", "f"]


# --- 11. classes ------------------------------------------------------------------------------
def test_a_class_keeps_its_base_its_class_body_reads_and_its_methods_globals(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        "import collections\nimport numpy as np\nimport random",
        "N = 4\nSCALE = 3\nUNUSED = 5",
        "class ReplayBuffer(collections.UserList):\n"
        "    SIZE = N\n"
        "    DOUBLE = SIZE * 2\n"
        "    def scaled(self, x, random=None):\n"
        "        return np.asarray(x) * SCALE\n",
    )
    extraction = extract(path, ["ReplayBuffer"])
    assert defined(extraction) == ["collections", "np", "N", "SCALE", "ReplayBuffer"]
    buffer_class = run(extraction)["ReplayBuffer"]
    assert buffer_class.DOUBLE == 8 and buffer_class().scaled(2) == 6


# --- 12. compound statements ------------------------------------------------------------------
def test_try_and_if_statements_are_kept_whole(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        "try:\n    from not_a_real_module_xyz import softmax\nexcept ImportError:\n"
        "    import numpy as np\n    def softmax(x):\n        return np.exp(x) / np.exp(x).sum()",
        "FAST = False\nif FAST:\n    def norm(x):\n        return x\n"
        "else:\n    def norm(x):\n        return softmax(x)",
    )
    extraction = extract(path, ["norm"])
    assert len(extraction.chunks) == 3
    assert extraction.chunks[0].source.startswith("try:") and extraction.chunks[0].source.endswith(".sum()")
    assert extraction.chunks[0].defines == ("softmax", "np")
    assert extraction.chunks[2].source.startswith("if FAST:") and extraction.chunks[2].defines == ("norm",)
    assert run(extraction)["norm"]([0.0, 0.0]).tolist() == [0.5, 0.5]


def test_a_binding_inside_an_if_alone_keeps_the_earlier_one_too(tmp_path: Path) -> None:
    path = notebook(tmp_path, "LR = 0.1", "import os\nif os.environ.get('NO_SUCH_VARIABLE_XYZ'):\n    LR = 0.5",
                    "def f():\n    return LR")
    extraction = extract(path, ["f"])
    assert defined(extraction) == ["LR", "os", "LR", "f"]
    assert run(extraction)["f"]() == 0.1


# --- the course's own notebooks -------------------------------------------------------------
@pytest.mark.parametrize("folder", ["solutions", "exercises"])
@pytest.mark.parametrize("exercise", sorted(EXERCISES))
def test_the_course_notebooks(folder: str, exercise: str) -> None:
    wanted = EXERCISES[exercise]
    extraction = extract(ROOT / folder / f"{exercise}.ipynb", wanted)
    assert extraction.found == frozenset(wanted)
    assert extraction.notes == ()
    namespace = run(extraction)
    assert all(callable(namespace[name]) for name in wanted)
    assert "check" not in namespace  # the checks the lesson calls are not part of a submission
