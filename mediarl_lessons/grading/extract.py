"""The code a submission's exercise functions need, and nothing else, found by following names.

A student's notebook is more than its exercise functions: experiments, scratch cells, prints,
plots, ``from google.colab import drive``. Re-running all of it when grading is slow and
fragile (one failing import would cost every function), while keeping only ``def`` and
``import`` statements loses what the functions really use (``Batch = namedtuple(...)``,
``solve = np.linalg.solve``, a helper defined three cells later). So :func:`extract` starts
from the wanted names and keeps exactly the statements they reach:

* a name read inside a function body (a *deferred* use) is looked up when the function is
  called, after everything kept has run: it refers to the **last** binding in the notebook;
* a name read while a statement runs (an *immediate* use: a right-hand side, a decorator, a
  default value, a base class, a class body) refers to the last binding **before** it;
* a statement that mutates a name (``W[0] = 1``, ``W.x = 2``, ``W += 1``) is kept with the
  binding it mutates when that name is needed after it.

Nothing is executed here: everything is read with :mod:`ast`. Notebook cells are first turned
into plain Python by IPython's own transformer; a statement that needs IPython (a magic, a
``!shell`` command) is dropped, and so is every cell magic but ``%%time`` and ``%%capture``,
whose body is kept as an ordinary cell.
"""

from __future__ import annotations
import __future__

import ast
import builtins
import json
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Chunk", "Extraction", "extract", "extract_source"]

#: Cell magics whose body is ordinary code run once: the body is kept, the magic dropped.
#: Every other cell magic (``%%bash``, ``%%writefile``, ``%%timeit``, ...) drops its cell.
BODY_CELL_MAGICS = frozenset({"time", "capture"})

_CELL_MAGIC = re.compile(r"%%(\w+)")
_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class Chunk:
    """One kept top-level statement (a whole ``def``, ``class``, ``if``, ... included)."""

    source: str  #: the statement as Python source
    origin: str  #: where it came from, for messages: "code cell 4, line 2" or "line 12"
    defines: tuple[str, ...]  #: the top-level names it binds, in order


@dataclass(frozen=True)
class Extraction:
    """What :func:`extract` kept of a submission, and why."""

    chunks: tuple[Chunk, ...]  #: the kept statements, in notebook or file order
    found: frozenset[str]  #: the wanted names that a kept chunk defines
    #: for each found name, the indices into ``chunks`` it depends on (transitively, its own
    #: definition included): when a chunk fails, these say which functions it costs
    needs: dict[str, frozenset[int]]
    notes: tuple[str, ...]  #: what was skipped and a learner should know about
    #: the compiler flags of the ``from __future__ import ...`` statements seen: pass them to
    #: ``compile(chunk.source, ..., flags=future_flags, dont_inherit=True)`` for every chunk
    future_flags: int


def extract(path: Path, wanted: Sequence[str]) -> Extraction:
    """The statements of the submission at ``path`` (``.ipynb`` or ``.py``) that ``wanted`` need.

    Raises ``SyntaxError`` for a ``.py`` file that does not parse and ``ValueError`` for a
    notebook that cannot be read; a notebook cell that does not parse is skipped with a note.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return extract_source(text, wanted, notebook=path.suffix.lower() == ".ipynb")
    except SyntaxError as error:
        error.filename = str(path)
        raise


def extract_source(text: str, wanted: Sequence[str], *, notebook: bool) -> Extraction:
    """:func:`extract` of a notebook's JSON text (``notebook=True``) or of Python source."""
    wanted = tuple(dict.fromkeys(wanted))
    notes: list[str] = []
    if notebook:
        statements = _notebook_statements(text, frozenset(wanted), notes)
    else:
        statements = [_Statement(node, _segment(text, node), f"line {_first_line(node)}")
                      for node in _parse(text).body]
    future_flags, statements = _split_futures(statements, notes)
    lazy_annotations = bool(future_flags & __future__.annotations.compiler_flag)
    names = [_module_names(statement.node, lazy_annotations) for statement in statements]
    return _Resolver(names).extraction(statements, wanted, notes, future_flags)


# ---------------------------------------------------------------------------------------------
# Reading: top-level statements, with their source and origin
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Statement:
    node: ast.stmt
    source: str
    origin: str


def _parse(code: str) -> ast.Module:
    """``ast.parse`` quietly (a student's ``"\\d"`` is not the grader's warning); raises SyntaxError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(code)
        except ValueError as error:  # source code with null bytes (a SyntaxError from 3.12 on)
            raise SyntaxError(str(error)) from None


def _first_line(node: ast.stmt) -> int:
    """The statement's first line: its first decorator's for a decorated ``def`` or ``class``."""
    decorators = getattr(node, "decorator_list", None)
    return decorators[0].lineno if decorators else node.lineno


def _segment(code: str, node: ast.stmt) -> str:
    """The statement's own text, decorators included."""
    own = ast.get_source_segment(code, node) or ast.unparse(node)
    decorator_lines = code.splitlines(keepends=True)[_first_line(node) - 1:node.lineno - 1]
    return "".join(decorator_lines) + own


def _notebook_statements(text: str, wanted: frozenset[str], notes: list[str]) -> list[_Statement]:
    try:
        notebook = json.loads(text)
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError("'cells' is not a list")
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not a readable notebook ({type(error).__name__}: {error})") from None
    from IPython.core.inputtransformer2 import TransformerManager  # noqa: PLC0415 - heavy: only notebooks need it

    transformer = TransformerManager()
    code_cells = [cell for cell in cells if isinstance(cell, dict) and cell.get("cell_type") == "code"]
    statements: list[_Statement] = []
    for number, cell in enumerate(code_cells, start=1):
        source = cell.get("source", "")
        source = "".join(map(str, source)) if isinstance(source, list) else str(source)
        statements += _cell_statements(source, f"code cell {number}", 0, transformer=transformer, wanted=wanted,
                                       notes=notes)
    return statements


def _cell_statements(source: str, label: str, offset: int, *, transformer: Any, wanted: frozenset[str],
                     notes: list[str]) -> list[_Statement]:
    """One cell's statements that run without IPython; ``offset``: lines above ``source`` in the cell."""
    lines = source.splitlines(keepends=True)
    blank = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    magic = _CELL_MAGIC.match(lines[blank]) if blank < len(lines) else None
    if magic:
        body = "".join(lines[blank + 1:])
        if magic.group(1) in BODY_CELL_MAGICS:  # the body is an ordinary cell
            return _cell_statements(body, label, offset + blank + 1, transformer=transformer, wanted=wanted,
                                    notes=notes)
        lost = _bound_in(body) & wanted
        if lost:
            notes.append(f"{label} is a %%{magic.group(1)} cell, which grading does not run: "
                         f"its {_listing(lost)} was not used")
        return []
    try:
        code = transformer.transform_cell(source)
        offset += blank  # the transformer drops leading blank lines
    except Exception:  # whatever IPython trips on, Python's parser reports below
        code = source
    try:
        tree = _parse(code)
    except SyntaxError as error:
        where = f"line {error.lineno + offset}: " if error.lineno else ""
        notes.append(f"{label} has a syntax error ({where}{error.msg}) and was skipped")
        return []
    statements = []
    for node in tree.body:
        origin = f"{label}, line {_first_line(node) + offset}"
        if _needs_ipython(node):
            lost = set(_binds(node)) & wanted
            if lost:
                notes.append(f"{origin} uses IPython syntax (a magic or a shell command) and was skipped: "
                             f"its {_listing(lost)} was not used")
            continue
        statements.append(_Statement(node, _segment(code, node), origin))
    return statements


def _needs_ipython(node: ast.stmt) -> bool:
    """Whether the statement calls ``get_ipython`` (what magics and ``!`` commands become)."""
    return any(isinstance(sub, ast.Name) and sub.id == "get_ipython" for sub in ast.walk(node))


def _bound_in(code: str) -> set[str]:
    """The top-level names that code binds, or nothing when it is not plain Python."""
    try:
        tree = _parse(code)
    except SyntaxError:
        return set()
    return {name for node in tree.body for name in _binds(node)}


def _listing(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


def _split_futures(statements: list[_Statement], notes: list[str]) -> tuple[int, list[_Statement]]:
    """The compiler flags of the ``from __future__`` imports, and the other statements."""
    flags, rest = 0, []
    for statement in statements:
        node = statement.node
        if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            rest.append(statement)
            continue
        for alias in node.names:
            feature = getattr(__future__, alias.name, None)
            if isinstance(feature, __future__._Feature):
                flags |= feature.compiler_flag
            else:
                notes.append(f"{statement.origin}: __future__ has no feature {alias.name!r}; it was ignored")
    return flags, rest


# ---------------------------------------------------------------------------------------------
# Names: what one statement binds, mutates and reads
# ---------------------------------------------------------------------------------------------
@dataclass
class _Names:
    """The names one top-level statement binds (strongly or weakly) and reads."""

    binds: dict[str, None] = field(default_factory=dict)  # rebinds: an ordered set
    surely: set[str] = field(default_factory=set)  # bound whichever way the statement runs
    weak: set[str] = field(default_factory=set)  # mutated: W[0] = 1, W.x = 2, W += 1
    now: set[str] = field(default_factory=set)  # read while the statement runs
    later: set[str] = field(default_factory=set)  # read when a function it defines is called
    star: bool = False  # from m import *: may bind anything


def _module_names(node: ast.stmt, lazy_annotations: bool) -> _Names:
    scope = _Scope("module", lazy_annotations)
    scope.visit(node)
    return _Names(binds=scope.binds, surely=_surely_bound(node), weak=scope.weak,
                  now=scope.now, later=scope.later, star=scope.star)


def _binds(node: ast.stmt) -> dict[str, None]:
    """The top-level names a statement binds, in order."""
    scope = _Scope("module", lazy_annotations=True)
    scope.visit(node)
    return scope.binds


def _surely_bound(node: ast.stmt) -> set[str]:
    """The names a statement binds on every path through it (a binding inside ``if`` or ``for``
    alone may not happen: then an earlier binding of the name is needed too)."""

    def block(body: list[ast.stmt]) -> set[str]:
        return set().union(*(_surely_bound(statement) for statement in body))

    match node:
        case ast.If():
            return block(node.body) & block(node.orelse)
        case ast.For() | ast.AsyncFor() | ast.While() | ast.Match():
            return set()  # the body may run zero times, or no case may match
        case ast.Try() | ast.TryStar():
            paths = [block(node.body + node.orelse)] + [block(handler.body) for handler in node.handlers]
            return set.intersection(*paths) | block(node.finalbody)
        case ast.With() | ast.AsyncWith():
            targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
            return block(node.body) | {sub.id for target in targets for sub in ast.walk(target)
                                       if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store)}
        case _:
            return set(_binds(node))


def _root_name(target: ast.expr) -> str | None:
    """``W`` of ``W[0].x``: the name an attribute or item assignment mutates."""
    while isinstance(target, (ast.Attribute, ast.Subscript)):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


class _Scope(ast.NodeVisitor):
    """The names one scope binds and reads; a nested scope adds the names it reads from outside.

    ``now`` holds what is read while the scope's code runs, ``later`` what functions and
    lambdas defined in it read when called. Locals are approximated the way Python decides
    them: a name bound anywhere in a function (parameters included) is local to all of it,
    unless declared ``global`` or ``nonlocal``.
    """

    def __init__(self, kind: str, lazy_annotations: bool) -> None:
        self.kind = kind  # "module", "class", "function" or "comprehension"
        self.lazy_annotations = lazy_annotations
        self.binds: dict[str, None] = {}
        self.weak: set[str] = set()
        self.now: set[str] = set()
        self.later: set[str] = set()
        self.declared: set[str] = set()  # global / nonlocal: not local, though assigned
        self.escaping: set[str] = set()  # walrus targets in a comprehension bind outside it
        self.star = False

    def _child(self, kind: str) -> _Scope:
        return _Scope(kind, self.lazy_annotations)

    def _bind(self, name: str) -> None:
        self.binds[name] = None

    def _free(self) -> set[str]:
        """What a function scope reads from outside itself."""
        return (self.now | self.later) - (set(self.binds) - self.declared)

    # names and mutations ----------------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self._bind(node.id)
        elif isinstance(node.ctx, ast.Del):  # del X unbinds X, and needs it bound
            self._bind(node.id)
            self.now.add(node.id)
        else:
            self.now.add(node.id)

    def _mutations(self, target: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._mutations(element)
        elif isinstance(target, ast.Starred):
            self._mutations(target.value)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            root = _root_name(target)
            if root is not None:
                self.weak.add(root)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._mutations(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):  # X += 1 reads X and changes it (in place for a list)
            self.weak.add(node.target.id)
            self.now.add(node.target.id)
            if self.kind == "function":
                self._bind(node.target.id)  # and makes X local to a function
        else:
            self._mutations(node.target)
            self.visit(node.target)
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name):
            if node.value is not None or self.kind == "function":  # a bare `x: int` binds nothing
                self._bind(node.target.id)
        else:
            self._mutations(node.target)
            self.visit(node.target)
        if self.kind in ("module", "class") and not self.lazy_annotations:
            self.visit(node.annotation)
        if node.value is not None:
            self.visit(node.value)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self._mutations(node.target)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._mutations(item.optional_vars)
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._mutations(target)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._bind_walrus(node.target.id)
        self.visit(node.value)

    def _bind_walrus(self, name: str) -> None:
        if self.kind == "comprehension":
            self.escaping.add(name)
        else:
            self._bind(name)

    # other bindings ----------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:  # import a.b binds a; import a.b as c binds c
            self._bind(alias.asname or alias.name.partition(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.star = True
            else:
                self._bind(alias.asname or alias.name)

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        self.declared.update(node.names)

    visit_Nonlocal = visit_Global

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._bind(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self._bind(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self._bind(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self._bind(node.rest)
        self.generic_visit(node)

    # nested scopes -----------------------------------------------------------------------
    def _signature(self, args: ast.arguments, returns: ast.expr | None) -> None:
        """What a ``def`` or ``lambda`` evaluates where it stands: defaults and annotations."""
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                self.visit(default)
        if not self.lazy_annotations:
            for arg in self._parameters(args):
                if arg.annotation is not None:
                    self.visit(arg.annotation)
            if returns is not None:
                self.visit(returns)

    @staticmethod
    def _parameters(args: ast.arguments) -> list[ast.arg]:
        extra = [arg for arg in (args.vararg, args.kwarg) if arg is not None]
        return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]

    def _function(self, args: ast.arguments, body: list[ast.stmt] | list[ast.expr]) -> None:
        """A function body runs when called: every name it reads from outside is a later use."""
        inner = self._child("function")
        for arg in self._parameters(args):
            inner._bind(arg.arg)
        for part in body:
            inner.visit(part)
        self.later |= inner._free()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._signature(node.args, node.returns)
        self._bind(node.name)
        self._function(node.args, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._signature(node.args, None)
        self._function(node.args, [node.body])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        """A class body runs at once (its reads are this scope's); its methods' bodies run later."""
        for expression in [*node.decorator_list, *node.bases, *node.keywords]:
            self.visit(expression)
        self._bind(node.name)
        inner = self._child("class")
        for statement in node.body:
            inner.visit(statement)
        self.now |= inner.now - (set(inner.binds) - inner.declared)
        self.later |= inner.later  # methods do not see the class's names

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
                       results: list[ast.expr]) -> None:
        inner = self._child("comprehension")
        for generator in node.generators:
            inner.visit(generator.target)
            inner.visit(generator.iter)
            for condition in generator.ifs:
                inner.visit(condition)
        for result in results:
            inner.visit(result)
        local = set(inner.binds)
        self.now |= inner.now - local
        self.later |= inner.later - local
        for name in inner.escaping:
            self._bind_walrus(name)

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])


# ---------------------------------------------------------------------------------------------
# Following names
# ---------------------------------------------------------------------------------------------
class _Resolver:
    """Which statements a name needs at a point of the notebook: a worklist over (name, position)."""

    def __init__(self, names: list[_Names]) -> None:
        self.names = names
        self.end = len(names)  # the position "after every statement": where deferred uses look
        self.strong: dict[str, list[int]] = {}
        self.weak: dict[str, list[int]] = {}
        for index, statement in enumerate(names):
            for name in statement.binds:
                self.strong.setdefault(name, []).append(index)
            for name in statement.weak:
                self.weak.setdefault(name, []).append(index)
        self.stars = [index for index, statement in enumerate(names) if statement.star]
        self._deps: dict[int, set[int]] = {}

    def resolve(self, name: str, position: int) -> set[int]:
        """The statements before ``position`` that give ``name`` its value there: the last binding
        (and earlier ones, back to one that binds it on every path) and the mutations after it."""
        kept: set[int] = set()
        sure = -1
        for index in reversed(self.strong.get(name, [])):
            if index < position:
                kept.add(index)
                if name in self.names[index].surely:
                    sure = index
                    break
        kept.update(index for index in self.weak.get(name, []) if sure < index < position)
        if sure < 0 and name not in _BUILTINS:  # it may come from a star import
            kept.update(index for index in self.stars if index < position)
        return kept

    def dependencies(self, index: int) -> set[int]:
        """The statements that statement ``index`` reads from, directly."""
        if index not in self._deps:
            names = self.names[index]
            found: set[int] = set()
            for name in names.now:
                found |= self.resolve(name, index)
            for name in names.later:
                found |= self.resolve(name, self.end)
            self._deps[index] = found
        return self._deps[index]

    def reach(self, name: str) -> set[int]:
        """Every statement the final value of ``name`` depends on, its own definition included."""
        seen: set[int] = set()
        todo = list(self.resolve(name, self.end))
        while todo:
            index = todo.pop()
            if index not in seen:
                seen.add(index)
                todo.extend(self.dependencies(index) - seen)
        return seen

    def extraction(self, statements: list[_Statement], wanted: tuple[str, ...], notes: list[str],
                   future_flags: int) -> Extraction:
        reaches = {name: self.reach(name) for name in wanted}
        kept = sorted(set(self.stars).union(*reaches.values()))
        position = {index: chunk for chunk, index in enumerate(kept)}
        chunks = tuple(Chunk(statements[index].source, statements[index].origin, tuple(self.names[index].binds))
                       for index in kept)
        found = frozenset(name for name in wanted if any(name in self.names[index].binds for index in kept))
        needs = {name: frozenset(position[index] for index in reaches[name]) for name in wanted if name in found}
        return Extraction(chunks=chunks, found=found, needs=needs, notes=tuple(notes), future_flags=future_flags)
