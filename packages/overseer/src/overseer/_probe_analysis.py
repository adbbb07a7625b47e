"""What ptera's rewrite of a function reports, and why it misses the rest.

ptera cannot rewrite ``async def`` functions, generic ``def f[T]``, functions with no source
or lambdas; within a function it skips ``match`` captures, variables assigned only in
``except``/``except*`` blocks, comprehension variables, ``with ... as`` targets, nested
functions and classes. :func:`_analyse` runs the rewrite on paper (no exec) and says, for a
variable, why it can never be probed.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass, field

from ptera.selector import Element
from ptera.transform import ExternalVariableCollector, PteraTransformer

_HASH_VARIABLES = "#enter, #exit, #error, #value, #yield, #receive, #loop_NAME, #endloop_NAME"


# ---------------------------------------------------------------------------- analysis


@dataclass
class _Analysis:
    """What ptera's rewrite of one function reports, and why it misses the rest.

    Attributes:
        name: the function's qualified name.
        failure: why no variable of the function can be probed, if so.
        reported: names the rewritten code reports (``#`` variables included).
        known: names ptera's checker accepts (used or assigned in the function).
        external: names ptera reads from globals when the function starts.
        sites: for each name bound in the function, ``(line, why ptera misses it or None)``.
        yields: whether the function's source has a yield.
    """

    name: str
    failure: str | None = None
    reported: set[str] = field(default_factory=set)
    known: set[str] = field(default_factory=set)
    external: set[str] = field(default_factory=set)
    sites: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)
    yields: bool = False

    def why_not(self, variable: str) -> str | None:
        """Why ``variable`` cannot be probed, or None when it can."""
        if variable.startswith("#"):
            return None if variable in self.reported else self._missing_hash(variable)
        if "." in variable:
            base = variable.partition(".")[0]
            return f"{variable!r} is an attribute or item: ptera never reports it; probe {base!r}"
        sites = self.sites.get(variable, [])
        broken = variable in self.external and sites
        if variable in self.reported and variable in self.known and not broken:
            return None
        for line, reason in sites:
            if reason is not None:
                return f"{variable!r} in {self.name} (line {line}) {reason}"
        if sites:
            return f"ptera's rewrite of {self.name} never reports {variable!r}"
        names = ", ".join(sorted(name for name in self.sites if self.why_not(name) is None))
        return f"{self.name} has no variable {variable!r}; its variables are: {names or 'none'}"

    def _missing_hash(self, variable: str) -> str:
        loops = sorted(name[6:] for name in self.reported if name.startswith("#loop_"))
        if variable.startswith(("#loop_", "#endloop_")):
            over = ", ".join(loops) or "nothing"
            loop = variable.partition("_")[2]
            return f"{self.name} has no for loop over {loop!r} (its loops are over: {over})"
        if variable == "#value":
            return f"{self.name} has no return statement, so #value never fires"
        if variable in ("#yield", "#receive") and self.yields:
            return f"the yields of {self.name} are inside assignments, which ptera skips"
        if variable in ("#yield", "#receive"):
            return f"{self.name} has no yield, so {variable} never fires"
        return f"{variable!r} is not a ptera variable: use one of {_HASH_VARIABLES}"


_ANALYSES: dict[types.CodeType, _Analysis] = {}


def _analyse(function: types.FunctionType) -> _Analysis:
    """Run ptera's rewrite of ``function`` on paper (no exec) and see what it reports."""
    code = function.__code__
    if code not in _ANALYSES:
        _ANALYSES[code] = _analyse_source(function)
    return _ANALYSES[code]


def _analyse_source(function: types.FunctionType) -> _Analysis:
    analysis = _Analysis(function.__qualname__)
    try:
        lines, first = inspect.getsourcelines(function)
        tree = ast.parse(textwrap.dedent("".join(lines))).body[0]
        ast.increment_lineno(tree, first - 1)
    except (OSError, TypeError, SyntaxError, IndexError):
        file = function.__code__.co_filename
        analysis.failure = f"its source is not available (file {file!r}): exec(), compile()?"
        return analysis
    analysis.failure = _unsupported(tree)
    if analysis.failure is not None:
        return analysis
    assert isinstance(tree, ast.FunctionDef)
    tree.decorator_list = []
    scanner = _Scanner(tree)
    analysis.sites = scanner.sites
    analysis.yields = any(isinstance(node, (ast.Yield, ast.YieldFrom)) for node in ast.walk(tree))
    if scanner.broken is not None:
        analysis.failure = scanner.broken
        return analysis
    free = function.__code__.co_freevars
    collector = ExternalVariableCollector(tree, {}, free)
    analysis.known = collector.used | collector.assigned
    analysis.external = collector.used - collector.assigned - collector.free
    lib = {key: (f"__ptera_{key}", None) for key in _LIB_KEYS}
    lib["frame"] = ("__ptera_frame", None)
    try:
        rewrite = PteraTransformer(
            tree=tree,
            evc=collector,
            lib=lib,
            filename=function.__code__.co_filename,
            glb=function.__globals__,
            to_instrument=[Element(name=None)],
        ).result
        _compile(rewrite, free)
    except (NotImplementedError, SyntaxError) as error:
        analysis.failure = f"ptera cannot rewrite it ({type(error).__name__}: {error})"
        return analysis
    analysis.reported = _reported(rewrite)
    return analysis


_LIB_KEYS = ("proceed", "globals", "ABSENT", "Key", "get_tags", "self", "enter_tag", "exit_tag")


def _unsupported(tree: ast.stmt) -> str | None:
    """Why a whole function cannot be rewritten by ptera, or None."""
    if isinstance(tree, ast.AsyncFunctionDef):
        return "it is an async function: ptera cannot probe `async def` functions"
    if not isinstance(tree, ast.FunctionDef):
        return "it is not a def statement (a lambda?): only def functions can be probed"
    if getattr(tree, "type_params", None):
        return "it is generic (def f[T](...)): ptera cannot probe functions with type parameters"
    return None


def _compile(rewrite: ast.FunctionDef, free: tuple[str, ...]) -> None:
    """Compile the rewrite (without running it), inside a closure when it has free names."""
    node: ast.stmt = rewrite
    if free:
        arguments = ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=name) for name in free],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        )
        node = ast.FunctionDef(name="closure", args=arguments, body=[rewrite], decorator_list=[])
    module = ast.Module(body=[node], type_ignores=[])
    compile(ast.fix_missing_locations(module), "<probe>", "exec")


def _reported(rewrite: ast.FunctionDef) -> set[str]:
    """The names that the rewritten function passes to ``interact``, in its own scope."""
    names: set[str] = set()
    pending: list[ast.AST] = list(rewrite.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "interact"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
        pending.extend(ast.iter_child_nodes(node))
    return names


class _Scanner(ast.NodeVisitor):
    """Where a function binds each name, and why ptera's rewrite misses a binding.

    Attributes:
        sites: name -> ``[(line, reason or None)]``; None means ptera reports it.
        broken: why ptera's rewrite of the whole function fails, if it does.
    """

    def __init__(self, function: ast.FunctionDef) -> None:
        self.sites: dict[str, list[tuple[int, str | None]]] = {}
        self.broken: str | None = None
        self._context: str | None = None
        self._in_value = False
        for arg in ast.walk(function.args):
            if isinstance(arg, ast.arg):
                self._bind(arg.arg, arg.lineno)
        for statement in function.body:
            self.visit(statement)

    def _bind(self, name: str, line: int, reason: str | None = None) -> None:
        self.sites.setdefault(name, []).append((line, reason or self._context))

    @contextlib.contextmanager
    def _within(self, reason: str) -> Iterator[None]:
        saved, self._context = self._context, self._context or reason
        try:
            yield
        finally:
            self._context = saved

    def _targets(self, node: ast.AST, reason: str | None = None) -> None:
        for name in ast.walk(node):
            if isinstance(name, ast.Name):
                self._bind(name.id, name.lineno, reason)
            elif isinstance(name, (ast.Attribute, ast.Subscript)):
                self.visit(name.value)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self._bind(node.id, node.lineno)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._bind(node.name, node.lineno, "is a function defined inside: ptera skips defs")
        with self._within(f"belongs to the nested function {node.name!r}: probe that one"):
            self.generic_visit(node)
            for arg in ast.walk(node.args):
                if isinstance(arg, ast.arg):
                    self._bind(arg.arg, arg.lineno)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        with self._within("belongs to a lambda, which ptera does not rewrite"):
            for arg in ast.walk(node.args):
                if isinstance(arg, ast.arg):
                    self._bind(arg.arg, node.lineno)
            self.visit(node.body)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._bind(node.name, node.lineno, "is a class defined inside: ptera skips it")
        with self._within(f"is assigned in the body of class {node.name!r}"):
            self.generic_visit(node)

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
    ) -> None:
        reason = "is a comprehension variable: it lives inside the comprehension, ptera skips it"
        for generator in node.generators:
            self._targets(generator.target, reason)
            self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        for part in (getattr(node, "elt", None), getattr(node, "key", None)):
            if part is not None:
                self.visit(part)
        if isinstance(node, ast.DictComp):
            self.visit(node.value)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        reason = "is set by := inside the value of an assignment, which ptera does not rewrite"
        self._bind(node.target.id, node.lineno, reason if self._in_value else None)
        self.visit(node.value)

    def _value(self, node: ast.expr | None) -> None:
        saved, self._in_value = self._in_value, True
        if node is not None:
            self.visit(node)
        self._in_value = saved

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if any(isinstance(part, ast.Starred) for part in ast.walk(target)):
                self.broken = f"its line {node.lineno} unpacks with *, which ptera cannot rewrite"
            reason = "is set through a list target [...] = ..., which ptera skips"
            self._targets(target, reason if isinstance(target, ast.List) else None)
        self._value(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._targets(node.target)
        self._value(node.value)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        if any(isinstance(part, (ast.Starred, ast.List)) for part in ast.walk(node.target)):
            self.broken = f"its for loop at line {node.lineno} has a * or [...] target"
        self._targets(node.target)
        for part in (node.iter, *node.body, *node.orelse):
            self.visit(part)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._targets(item.optional_vars, "is bound by `with ... as`, which ptera skips")
        for statement in node.body:
            self.visit(statement)

    def visit_Try(self, node: ast.Try) -> None:
        self._try(node, "except")

    def visit_TryStar(self, node: ast.Try) -> None:
        self._try(node, "except*")

    def _try(self, node: ast.Try, keyword: str) -> None:
        for statement in (*node.body, *node.orelse, *node.finalbody):
            self.visit(statement)
        reason = f"is assigned only inside an `{keyword}` block, which ptera cannot probe"
        for handler in node.handlers:
            if handler.type is not None:
                self.visit(handler.type)
            if handler.name is not None:
                self._bind(handler.name, handler.lineno, reason if keyword == "except*" else None)
            with self._within(reason):
                for statement in handler.body:
                    self.visit(statement)

    def visit_Match(self, node: ast.Match) -> None:
        reason = "is bound by a `case` pattern, which ptera does not rewrite"
        self.visit(node.subject)
        for case in node.cases:
            for pattern in ast.walk(case.pattern):
                for attribute in ("name", "rest"):
                    name = getattr(pattern, attribute, None)
                    if isinstance(name, str):
                        self._bind(name, case.pattern.lineno, reason)
            for part in (case.guard, *case.body):
                if part is not None:
                    self.visit(part)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            self._bind((alias.asname or alias.name).partition(".")[0], node.lineno)

    visit_ImportFrom = visit_Import
