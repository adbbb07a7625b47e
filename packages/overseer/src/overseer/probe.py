"""Probes: stream the values that local variables take inside functions.

``ov.probe(selector)`` takes a ptera selector and returns a giving stream of dicts, one per
assignment of the selected variable::

    ov.probe("//train_epoch > loss").give()  # re-give every loss into ov.given
    ov.probe("/mypkg.model/forward(x) > out")["out"].print()

The selector syntax is ptera's, all of it: ``f > x``, ``//f`` (a function of the script run
as ``__main__``), ``/pkg.mod/Class/method``, captures ``f(a, !b)``, renames ``x as y``,
nesting ``f > g > x``, ``#value``, ``#enter``/``#exit``/``#error``, ``#yield``/``#receive``,
``#loop_i``/``#endloop_i``, and wrapper probes ``f(!#enter, !!#exit)`` that give
``{"$wrap": {"step": "begin"|"end", ...}}``.

A :class:`ProbeSet` holds the probes of one run. The syntax is checked when the probe is
made, everything else when it is installed (at once if the set is active, else at
:meth:`ProbeSet.activate`). Each failure is one :class:`~overseer.errors.ProbeError` line
naming the selector, what is wrong and the fix, where ptera would stay silent or crash
inside the probed function: a selector that does not parse
(:class:`~overseer.errors.SelectorSyntaxError`, at its column), a module or function that
does not exist, a variable the function does not have, and what ptera cannot rewrite
(``async def``, ``match`` captures, variables assigned only in ``except``/``except*``
blocks, comprehension variables, generic ``def f[T]``, functions with no source, C
functions).

The common shape ``F > x`` (one plain variable, nothing else captured) takes a lighter path
than ptera's interpreter: the same code rewrite, but each assignment calls the stream
directly, roughly eight times cheaper. Everything else goes through ptera. Probes fire in
the context (thread) that activated the set, as ptera's do.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import difflib
import importlib
import inspect
import os
import sys
import textwrap
import types
import warnings
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from giving import SourceProxy
from ptera.interpret import Immediate, Total
from ptera.overlay import BaseOverlay, HandlerCollection, autotool
from ptera.overlay import proceed as ptera_proceed
from ptera.selector import Element, SelectorError, parse, select
from ptera.transform import (
    ExternalVariableCollector,
    PteraNameError,
    PteraTransformer,
    SyncedStackedTransforms,
)
from ptera.utils import ABSENT

from .errors import ProbeError, SelectorSyntaxError

__all__ = ["ProbeSet", "ProbeStream", "check_syntax"]

ErrorHandler = Callable[[str, BaseException], None]

_HASH_VARIABLES = "#enter, #exit, #error, #value, #yield, #receive, #loop_NAME, #endloop_NAME"


# ---------------------------------------------------------------------------- syntax


def check_syntax(selector: str) -> None:
    """Raise :class:`SelectorSyntaxError` at the column where ``selector`` stops parsing.

    Example:
        >>> check_syntax("train > loss")
        >>> check_syntax("train > ")
        Traceback (most recent call last):
        ...
        overseer.errors.SelectorSyntaxError: cannot parse probe selector 'train > ' at column 6: ...
    """
    try:
        parse(selector)
    except SyntaxError as error:
        start = len(selector) - len(selector.lstrip()) + max((error.offset or 1) - 1, 0)
        while start < len(selector) and selector[start].isspace():
            start += 1
        raise SelectorSyntaxError(selector, start, _syntax_reason(error.msg)) from None
    except Exception as error:  # ptera's parser asserts on an empty selector
        reason = str(error) or "the selector is empty: write FUNCTION > VARIABLE"
        raise SelectorSyntaxError(selector, 0, reason) from None


def _syntax_reason(message: str) -> str:
    """Say in words what ptera's parser message (``Unrecognized operator: X > _``) means."""
    if message.startswith("Invalid token:"):
        return f"unexpected character {message.split()[2]!r}"
    key = message.partition(": ")[2]
    for opener, closer in (("(", ")"), ("[", "]"), ("{", "}")):
        if opener in key and closer not in key:
            return f"{opener!r} is never closed"
        if closer in key and opener not in key:
            return f"{closer!r} closes nothing"
    if "[" in key or "{" in key:
        return "only ( ) brackets belong in a selector: write f(a, b) > x"
    if ">>" in key:
        return "'>>' is not selector syntax: write f > g > x"
    operator = key.replace("X", "").replace("_", "").strip()
    if key.endswith("_"):
        return f"{operator!r} must be followed by a name"
    if key.startswith("_"):
        return f"{operator!r} must follow a name"
    if "X  X" in key:
        return "two names in a row: join them with '>' or ','"
    return message


# ---------------------------------------------------------------------------- names


class _Scope:
    """Resolves the names in a selector, as ptera does, with errors that say what to fix.

    ``//f`` is looked up in the module run as ``__main__``, ``/pkg.mod/f`` in that module
    (imported if needed), a plain name in the scope that created the probe, ``@tag`` among
    ptera's tags.
    """

    def __init__(self, selector: str, names: Mapping[str, Any]) -> None:
        self.selector = selector
        self.names = names

    def __call__(self, symbol: str) -> Any:
        if symbol.startswith("@"):
            from ptera.tags import tag

            return getattr(tag, symbol[1:])
        found = self._locate(symbol) if symbol.startswith("/") else self._lookup(symbol)
        return getattr(found, "__ptera__", found)

    def _fail(self, reason: str) -> ProbeError:
        return ProbeError(f"probe {self.selector!r}: {reason}")

    def _locate(self, symbol: str) -> Any:
        _, module_name, *path = symbol.split("/")
        if not path or "" in path:
            raise self._fail(f"{symbol!r} names no function: write /MODULE/FUNCTION or //FUNCTION")
        if any("." in part for part in path):
            hint = "/".join([module_name, *path[0].split("."), *path[1:]])
            raise self._fail(f"only the module part of {symbol!r} has dots: write /{hint}")
        if module_name:
            where: Any = self._import(module_name, symbol)
            label = f"module {module_name!r}"
        else:
            where = sys.modules.get("__main__")
            file = getattr(where, "__file__", None) or "an interactive session"
            label = f"the script run as __main__ ({file})"
        for part in path:
            where, label = self._member(where, part, label, symbol), f"{label}.{part}"
        return where

    def _import(self, module_name: str, symbol: str) -> Any:
        try:
            return importlib.import_module(module_name)
        except ImportError as error:
            reason = f"cannot import module {module_name!r} named by {symbol!r} ({error})"
            fix = "check the module's dotted path (/package.module/function)"
            raise self._fail(f"{reason}: {fix}") from None
        except Exception as error:
            reason = f"importing {module_name!r} raised {type(error).__name__}: {error}"
            raise self._fail(f"{reason}; fix the module, then probe it") from None

    def _member(self, where: Any, name: str, label: str, symbol: str) -> Any:
        try:
            value = inspect.getattr_static(where, name)
        except AttributeError:
            value = getattr(where, name, ABSENT)  # module __getattr__, dynamic classes
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if value is not ABSENT:
            return value
        members = getattr(where, "__dict__", {})
        known = [
            key
            for key, item in members.items()
            if isinstance(key, str) and callable(item) and "_ptera" not in key
        ]
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise self._fail(f"{label} has no {name!r}{hint}: check the spelling in {symbol!r}")

    def _lookup(self, symbol: str) -> Any:
        start, *parts = symbol.split(".")
        if start not in self.names:
            fix = f"import it there, or name it by place: //{start} (script), /MODULE/{start}"
            raise self._fail(f"{start!r} is not defined where the probe was made: {fix}")
        value, label = self.names[start], repr(start)
        for part in parts:
            value, label = self._member(value, part, label, symbol), f"{label}.{part}"
        return value


def _caller_names() -> Mapping[str, Any]:
    """The names visible where the probe was asked for, outside the overseer's own frames."""
    frame = sys._getframe(2)
    package = os.path.dirname(__file__)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back  # ov.probe() and friends: the caller is further out
    local = frame.f_locals
    if local is not frame.f_globals:
        local = dict(local)
    return ChainMap(local, frame.f_globals, vars(builtins))


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


# ---------------------------------------------------------------------------- checks


def _calls(selector: Any) -> Iterator[Any]:
    """Every function call in a resolved selector, outermost first."""
    yield selector
    for child in selector.children:
        yield from _calls(child)


def _check(text: str, selector: Any) -> None:
    """Raise :class:`ProbeError` for anything in ``selector`` that would not work."""
    for call in _calls(selector):
        function = call.element.name
        analysis = _analyse(_check_function(text, function))
        if analysis.failure is not None:
            where = f"{analysis.name} ({function.__code__.co_filename})"
            raise ProbeError(f"probe {text!r}: cannot probe {where}: {analysis.failure}")
        for capture in call.captures:
            reason = None if capture.name is None else analysis.why_not(capture.name)
            if reason is not None:
                raise ProbeError(f"probe {text!r}: {reason}")
    tags = set(selector.all_tags)
    if tags and 1 not in tags:
        fix = "mark where it begins with ! too: f(!#enter, !!#exit)"
        raise ProbeError(f"probe {text!r}: a wrapper probe (!!) needs a ! focus: {fix}")
    if tags - {1, 2}:
        raise ProbeError(f"probe {text!r}: only ! and !! mark a focus, not !!! or more")


def _check_function(text: str, function: Any) -> types.FunctionType:
    if function is None:
        fix = "start with the function to probe: f > x, f(!x), f(!#enter, !!#exit)"
        raise ProbeError(f"probe {text!r} names no function: {fix}")
    if isinstance(function, types.FunctionType):
        stack = function.__dict__.get("__ptera_stack__")
        return function if stack is None else stack.tset.base_function
    name = getattr(function, "__qualname__", repr(function))
    if isinstance(function, type):
        reason = f"{name} is a class: probe one of its methods (/MODULE/{name}/__init__)"
    elif isinstance(function, (types.BuiltinFunctionType, types.MethodDescriptorType)):
        reason = f"{name} is a built-in written in C: only Python functions can be probed"
    else:
        reason = f"{name} is a {type(function).__name__}, not a Python function"
    raise ProbeError(f"probe {text!r}: {reason}")


def _resolve(text: str, names: Mapping[str, Any]) -> Any:
    """Resolve the selector's names to functions, or raise one :class:`ProbeError` line."""
    try:
        return select(text, env=_Scope(text, names))
    except ProbeError:
        raise
    except (SelectorError, TypeError, AttributeError, ValueError) as error:
        raise ProbeError(f"probe {text!r}: {error}") from None


@contextlib.contextmanager
def _quiet_ptera() -> Iterator[None]:
    """ptera's rewrite uses ast names that Python 3.12+ deprecates; keep that out of sight."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ptera(\.|$)")
        yield


# ---------------------------------------------------------------------------- runtime


# The direct listeners of the ProbeSets active in this context: function -> interactor.
_FAST_TABLES: ContextVar[tuple[dict[Any, _Direct], ...]] = ContextVar(
    "overseer_probe_tables", default=()
)


class _Direct:
    """What a rewritten function calls on each assignment when only direct probes watch it.

    Also the context manager that the function's body runs in (``with proceed(f) as FR``).
    """

    __slots__ = ("emitters", "function")

    def __init__(self, function: Any, emitters: dict[str, Callable[[Any], None]] | None = None):
        self.function = function
        self.emitters = emitters if emitters is not None else {}

    def __enter__(self) -> _Direct:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def interact(self, name: str, key: Any, category: Any, value: Any, overridable: bool) -> Any:
        if value is ABSENT:
            raise PteraNameError(name, self.function)
        emit = self.emitters.get(name if key is None else key.affix_to(name))
        if emit is not None:
            emit(value)
        return value

    def add(self, name: str, emit: Callable[[Any], None]) -> None:
        previous = self.emitters.get(name)
        self.emitters[name] = emit if previous is None else _fan_out(previous, emit)

    def merged(self, other: _Direct) -> _Direct:
        merged = _Direct(self.function, dict(self.emitters))
        for name, emit in other.emitters.items():
            merged.add(name, emit)
        return merged


def _fan_out(first: Callable[[Any], None], second: Callable[[Any], None]) -> Callable[[Any], None]:
    def emit(value: Any) -> None:
        first(value)
        second(value)

    emit.parts = (first, second)  # type: ignore[attr-defined]
    return emit


def _without(emit: Callable[[Any], None], gone: Callable[[Any], None]) -> Any:
    """``emit`` with ``gone`` taken out of its fan-out, or None if nothing is left."""
    if emit is gone:
        return None
    parts = getattr(emit, "parts", None)
    if parts is None:
        return emit
    first, second = (_without(part, gone) for part in parts)
    return second if first is None else first if second is None else _fan_out(first, second)


class _Shared:
    """The body context when ptera's interpreter and direct probes both watch a function."""

    __slots__ = ("call", "direct", "function", "inner")

    def __init__(self, function: Any, direct: _Direct) -> None:
        self.function = function
        self.direct = direct

    def __enter__(self) -> _Shared:
        self.call = ptera_proceed(self.function)
        self.inner = self.call.__enter__()
        return self

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> Any:
        return self.call.__exit__(kind, error, traceback)

    def interact(self, name: str, key: Any, category: Any, value: Any, overridable: bool) -> Any:
        full = name if key is None else key.affix_to(name)
        if value is ABSENT or self.inner.accumulators.get(full):
            value = self.inner.interact(name, key, category, value, overridable)
        return self.direct.interact(name, key, category, value, overridable)


def _proceed(function: Any) -> Any:
    """Entered by every function this module rewrites, each time it is called."""
    direct = None
    for table in _FAST_TABLES.get():
        found = table.get(function)
        if found is not None:
            direct = found if direct is None else direct.merged(found)
    if HandlerCollection.current.get() is None:
        return direct if direct is not None else _Direct(function)
    if direct is None:
        return ptera_proceed(function)
    return _Shared(function, direct)


def _stack(function: types.FunctionType) -> Any:
    """The function's ptera rewrite stack, created with this module's entry point if absent."""
    stack = function.__dict__.get("__ptera_stack__")
    if stack is None:
        stack = SyncedStackedTransforms(function, proceed=_proceed)
        function.__ptera_stack__ = stack  # type: ignore[attr-defined]
    return stack


def _release(function: types.FunctionType) -> None:
    """Once nothing probes ``function``, drop what ptera hung on it (its code is back)."""
    stack = function.__dict__.get("__ptera_stack__")
    if stack is None or stack.tset.proceed is not _proceed or stack.instrument_count:
        return
    for attribute in ("__ptera_stack__", "__ptera_info__", "__ptera_token__", "__ptera_discard__"):
        function.__dict__.pop(attribute, None)
    namespace: dict[Any, Any] = function.__globals__
    if namespace.get(None) is function:  # ptera parks the function under the key None
        del namespace[None]


# ---------------------------------------------------------------------------- streams


class ProbeStream(SourceProxy):  # type: ignore[misc]
    """The stream of one probe: a giving ``ObservableProxy`` of dicts.

    Every giving operator works on it (``["x"]``, ``.accum()``, ``.min()``, ``.give()``,
    ``.subscribe(fn)``). Reductions emit when the probe set closes.

    Attributes:
        selector: the selector, as written.
        direct: True when the light path serves it, False when ptera's interpreter does,
            None until it is installed.
    """

    def __init__(self, selector: str, on_error: ErrorHandler | None = None) -> None:
        super().__init__()
        self.selector = selector
        self.direct: bool | None = None
        self._on_error = on_error

    def _copy(self, new_obs: Any) -> Any:
        return SourceProxy(_obs=new_obs, _root=self)

    def _push(self, data: Any) -> None:
        failed: list[tuple[Any, Exception]] = []
        for observer in self._observers:
            try:
                observer.on_next(data)
            except Exception as error:
                if self._on_error is None:
                    raise
                failed.append((observer, error))
        for observer, failure in failed:
            self._observers.remove(observer)
            self._report(failure)

    def _report(self, error: Exception) -> None:
        if self._on_error is not None:
            self._on_error(self.selector, error)

    def fail(self, error: Exception) -> None:
        """Report ``error`` to the set's ``on_error``, or raise it where none was given."""
        if self._on_error is None:
            raise error
        self._on_error(self.selector, error)

    def emitter(self, key: str) -> Callable[[Any], None]:
        """A function that pushes ``{key: value}``."""
        push = self._push

        def emit(value: Any) -> None:
            push({key: value})

        return emit

    def complete(self) -> None:
        """End the stream: reductions (``min()``, ``count()`` ...) emit their result now."""
        observers, self._observers[:] = list(self._observers), []
        for observer in observers:
            try:
                observer.on_completed()
            except Exception as error:
                if self._on_error is None:
                    raise
                self._on_error(self.selector, error)


def _rule(selector: Any, stream: ProbeStream, raw: bool) -> Any:
    """The ptera accumulator that pushes the selector's captures to ``stream``."""

    def values(data: dict[str, Any]) -> dict[str, Any]:
        if raw:
            return data
        try:
            return {name: capture.value for name, capture in data.items()}
        except ValueError:  # a variable set several times in a selector with no focus
            name, capture = next((n, c) for n, c in data.items() if len(c.values) > 1)
        count, variable = len(capture.values), capture.names[0]
        fix = f"put ! before {variable} for one dict per value, or pass raw=True"
        message = f"probe {stream.selector!r}: {name!r} took {count} values in one call"
        raise ProbeError(f"{message}; {fix}")

    def plain(data: Any, acc: Any = None, element: Any = None) -> Any:
        try:
            stream._push(values(data))
        except ProbeError as error:
            stream.fail(error)
        return ABSENT

    def wrapped(data: Any, acc: Any, element: Any) -> Any:
        step = "begin" if element.focus else "end"
        try:
            given = values(data)
        except ProbeError as error:
            stream.fail(error)
            return ABSENT
        given["$wrap"] = {"id": id(acc), "name": acc.selector.main.capture, "step": step}
        stream._push(given)
        return ABSENT

    trigger = wrapped if set(selector.all_tags) == {1, 2} else plain
    if selector.focus:
        return Immediate(selector, trigger=trigger, pass_info=True)
    return Total(selector, close=trigger)


@dataclass
class _Probe:
    """One probe of a set and, once installed, how to remove it."""

    text: str
    raw: bool
    names: Mapping[str, Any]
    stream: ProbeStream
    functions: list[types.FunctionType] = field(default_factory=list)
    undo: Callable[[], None] | None = None


def _is_direct(selector: Any, raw: bool) -> bool:
    """Whether the light path can serve ``selector``: ``F > x`` and nothing more."""
    if raw or selector.children or len(selector.captures) != 1:
        return False
    capture, element = selector.captures[0], selector.element
    return (
        isinstance(capture.name, str)
        and capture.name.isidentifier()
        and capture.tags == frozenset({1})
        and capture.category is None
        and capture.value is ABSENT
        and element.category is None
        and isinstance(element.name, types.FunctionType)
        and _stack(element.name).tset.proceed is _proceed
    )


# ---------------------------------------------------------------------------- the set


class ProbeSet:
    """The probes of one run: made with :meth:`probe`, live between :meth:`activate`
    and :meth:`close`.

    Args:
        on_error: called with the selector and the error when a subscriber of a probe
            raises (the subscriber is detached), or when a probe made before
            :meth:`activate` fails its checks there. Without it, these errors propagate:
            a subscriber's into the probed function, as with ptera.

    Example:
        >>> def f(n):
        ...     for i in range(n):
        ...         x = i * 2
        ...     return n
        >>> with ProbeSet() as probes:
        ...     xs = probes.probe("f > x")["x"].accum()
        ...     f(3)
        3
        >>> xs
        [0, 2, 4]
    """

    def __init__(self, *, on_error: ErrorHandler | None = None) -> None:
        self._on_error = on_error
        self._probes: list[_Probe] = []
        self._table: dict[Any, _Direct] = {}
        self._token: Token[tuple[dict[Any, _Direct], ...]] | None = None
        self._active = False
        self._closed = False

    @property
    def active(self) -> bool:
        """Whether probes fire now (between :meth:`activate` and :meth:`close`)."""
        return self._active

    def probe(
        self, selector: str, *, raw: bool = False, env: Mapping[str, Any] | None = None
    ) -> ProbeStream:
        """Probe the variables that ``selector`` names; return their stream.

        The syntax is checked at once. Names are resolved, and the functions and variables
        checked, when the probe is installed: at once if the set is active, else at
        :meth:`activate` (so ``//f`` finds ``f`` in the script that ``__main__`` is then).

        Args:
            selector: a ptera selector, e.g. ``"//train > loss"``.
            raw: give ptera ``Capture`` objects instead of values.
            env: where plain names (``f`` in ``f > x``) are looked up; by default the
                caller's locals, globals and builtins.

        Raises:
            SelectorSyntaxError: the selector does not parse.
            ProbeError: it names something that cannot be probed (set active), or the set
                is closed.

        Example:
            >>> probes = ProbeSet()
            >>> probes.probe("json.loads > s")["s"].print()  # doctest: +SKIP
        """
        if self._closed:
            message = f"probe {selector!r}: the probes of this run are closed; probe before"
            raise ProbeError(f"{message} the run ends")
        check_syntax(selector)
        names = env if env is not None else _caller_names()
        probe = _Probe(selector, raw, names, ProbeStream(selector, self._on_error))
        if self._active:
            self._install(probe)
        self._probes.append(probe)
        return probe.stream

    def activate(self) -> None:
        """Install every probe made so far; later ones install as they are made.

        Raises:
            ProbeError: a probe fails its checks and no ``on_error`` was given (the others
                are installed anyway).
        """
        if self._closed:
            raise ProbeError("this ProbeSet is closed: make a new one for a new run")
        if self._active:
            return
        self._active = True
        self._token = _FAST_TABLES.set((*_FAST_TABLES.get(), self._table))
        failures = []
        for probe in list(self._probes):
            try:
                self._install(probe)
            except ProbeError as error:
                self._probes.remove(probe)
                probe.stream.complete()
                if self._on_error is None:
                    failures.append(error)
                else:
                    self._on_error(probe.text, error)
        if failures:
            raise failures[0]

    def close(self) -> None:
        """Uninstall every probe (functions get their own code back) and end the streams."""
        if self._closed:
            return
        self._closed = True
        for probe in reversed(self._probes):
            if probe.undo is not None:
                probe.undo()
        if self._token is not None:
            with contextlib.suppress(ValueError):  # closed from another context
                _FAST_TABLES.reset(self._token)
        self._active = False
        for probe in self._probes:
            probe.stream.complete()

    def __enter__(self) -> ProbeSet:
        self.activate()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _install(self, probe: _Probe) -> None:
        with _quiet_ptera():
            selector = _resolve(probe.text, probe.names)
            _check(probe.text, selector)
            probe.functions = [call.element.name for call in _calls(selector)]
            try:
                for function in probe.functions:
                    _stack(function)
                if _is_direct(selector, probe.raw):
                    probe.undo = self._install_direct(selector, probe.stream)
                else:
                    probe.undo = self._install_ptera(probe, selector)
            finally:
                if probe.undo is None:
                    for function in probe.functions:
                        _release(function)

    def _install_direct(self, selector: Any, stream: ProbeStream) -> Callable[[], None]:
        function, capture = selector.element.name, selector.captures[0]
        emit = stream.emitter(capture.capture)
        self._table.setdefault(function, _Direct(function)).add(capture.name, emit)
        stack = _stack(function)
        stack.push((capture,))
        stream.direct = True

        def undo() -> None:
            direct = self._table[function]
            remaining = _without(direct.emitters[capture.name], emit)
            if remaining is None:
                del direct.emitters[capture.name]
            else:
                direct.emitters[capture.name] = remaining
            if not direct.emitters:
                del self._table[function]
            with _quiet_ptera():
                stack.pop((capture,))
            _release(function)

        return undo

    def _install_ptera(self, probe: _Probe, selector: Any) -> Callable[[], None]:
        overlay = BaseOverlay(_rule(selector, probe.stream, probe.raw))
        try:
            autotool(selector)
        except SelectorError as error:
            self._untool(probe, selector)
            raise ProbeError(f"probe {probe.text!r}: {error}") from None
        overlay.__enter__()
        probe.stream.direct = False

        def undo() -> None:
            with contextlib.suppress(ValueError):  # closed from another context
                overlay.__exit__(None, None, None)
            self._untool(probe, selector)

        return undo

    @staticmethod
    def _untool(probe: _Probe, selector: Any) -> None:
        with _quiet_ptera():
            autotool(selector, undo=True)
        for function in probe.functions:
            _release(function)


if __name__ == "__main__":

    def _demo(n: int) -> int:
        total = 0
        for i in range(n):
            total += i
        return total

    with ProbeSet() as _probes:
        _probes.probe("_demo > total").print("total = {total}")
        _demo(4)
