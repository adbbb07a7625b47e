"""``--verify``: run the script briefly with every rate on, then print what it gives.

``overseer --verify train.py`` stops the script after 30 steps (``--verify-steps N``), then
prints a checklist of the records the standard instruments read, the essential ones (``loss``,
``step`` + ``batch``, ``use_cuda``) and the additional ones (``options``, ``model``,
``loader``, ``compute_start`` + ``compute_end``): for each, whether the script gave it, what
it is for, and when it did not, the line that gives it, in the script or in a voirfile. The
voirfile lines name the script's own functions and variables where its source shows them.
The exit status is the script's (0 after the stop). From a voirfile::

    from overseer_instruments import verify


    def instrument_main(ov):
        ov.require(verify(steps=50))
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._flag_types import positive_whole
from .errors import ConfigurationError

__all__ = ["command_line", "verify"]

Instrument = Callable[[Any], Any]


@dataclass(frozen=True)
class _Check:
    """A record the instruments read: its keys, its use, the lines that give it."""

    label: str
    keys: tuple[str, ...]
    use: str
    script: str
    voirfile: str  # with {function} / {variable} / {loop} where the source tells them


ESSENTIAL = (
    _Check(
        "loss",
        ("loss",),
        "the training loss: the sign that training learns",
        "give(loss=loss.item())",
        'ov.probe("//{loss_function} > loss").give()',
    ),
    _Check(
        "step + batch",
        ("step", "batch"),
        "the end of each step and its batch: the training rate (--train-rate)",
        "give(step=step, batch=batch)",
        'ov.probe("//{loop_function}({loop} as batch) > #endloop_{loop} as step").give()',
    ),
    _Check(
        "use_cuda",
        ("use_cuda",),
        "whether training runs on CUDA: rates then synchronise it to be exact",
        "give(use_cuda=torch.cuda.is_available())",
        "ov.give(use_cuda=True)",
    ),
)
ADDITIONAL = (
    _Check(
        "options",
        ("options",),
        "the script's parsed command line: which experiment ran",
        "give(options=vars(args))",
        "ov.require(script_options())",
    ),
    _Check(
        "model",
        ("model",),
        "the model object",
        "give(model=model)",
        'ov.probe("//{model_function} > model").give()',
    ),
    _Check(
        "loader",
        ("loader",),
        "the data loader: the loading rate (--loading-rate)",
        "give(loader=loader)",
        'ov.probe("//{loader_function} > {loader} as loader").give()',
    ),
    _Check(
        "compute_start + compute_end",
        ("compute_start", "compute_end"),
        "the compute part of each step: the compute rate (--compute-rate)",
        "give(compute_start=True), then give(compute_end=True, batch=batch)",
        'ov.probe("//{loop_function}({loop} as batch, !#loop_{loop} as compute_start,'
        ' !!#endloop_{loop} as compute_end)").give()',
    ),
)
RATES = (
    ("train", "step + batch"),
    ("loading", "loader"),
    ("compute", "compute_start + compute_end"),
)


def verify(*, steps: int | None = 30) -> Instrument:
    """An instrument that turns every rate on, stops the script after ``steps`` steps
    (``None``: lets it end) and prints the checklist of the records it gave.

    Raises:
        ConfigurationError: ``steps`` is not a whole number above 0 or ``None``.
    """
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ConfigurationError(f"verify(steps={steps!r}): give a whole number above 0, or None")

    def verify_instrument(ov: Any) -> Iterator[Any]:
        yield ov.phases.parse_args
        from .rates import _flag_settings, compute_rate, loading_rate, rate
        from .stopping import early_stop

        seen = _Seen()
        # Subscribed before the early stop's, so that the step it stops at is seen.
        ov.given.subscribe(seen.record)
        settings = _flag_settings(ov.options)
        method: Any = getattr(ov.options, "rate_method", "step")
        ov.require(rate(method=method, **settings), loading_rate(**settings))
        ov.require(compute_rate(**settings))
        if steps is not None:
            ov.require(early_stop(steps, key="step"))
        yield ov.phases.finalize(priority=-100)
        stopped = bool(ov.stopped)
        print(_report(ov, seen, stopped), flush=True)

    return verify_instrument


def command_line(ov: Any) -> Iterator[Any]:
    """Run the script briefly with every rate on and print a checklist of what it gives."""
    add = ov.argparser.add_argument
    add("--verify", action="store_true", help="run briefly, then print what the script gives")
    add("--verify-steps", type=positive_whole, default=30, metavar="N", help="steps run (30)")
    yield ov.phases.parse_args
    if ov.options.verify:
        ov.require(verify(steps=ov.options.verify_steps))


class _Seen:
    """The keys given so far, and the steps."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.steps = 0

    def record(self, values: dict[str, Any]) -> None:
        self.keys.update(values)
        if "step" in values:
            self.steps += 1
            if "batch" in values or "batch_size" in values:
                self.keys.add("step+batch")
        wrap = values.get("$wrap")
        if isinstance(wrap, dict) and wrap.get("name") == "step" and "batch" in values:
            self.keys.add("step+batch")  # give.wrap("step", batch=batch)

    def has(self, check: _Check) -> bool:
        if check.keys == ("step", "batch"):
            return "step+batch" in self.keys
        return all(key in self.keys for key in check.keys)


def _report(ov: Any, seen: _Seen, stopped: bool) -> str:
    from .rates import measured_rates

    program = getattr(ov, "program", None)
    path = Path(program.name) if program is not None else None
    places = _places(path)
    ended = "was stopped" if stopped else "ended on its own"
    name = path.name if path else "the script"
    lines = [f"overseer --verify: {name} {ended} after {seen.steps} steps.", ""]
    missing: list[str] = []
    for title, checks in (("Essential", ESSENTIAL), ("Additional", ADDITIONAL)):
        lines.append(f"{title}:")
        for check in checks:
            lines.extend(_check_lines(check, seen.has(check), places, missing))
        given = sum(seen.has(check) for check in checks)
        lines += [f"  {given} of {len(checks)} given.", ""]
    import statistics  # here: every overseer run loads this module, few print a checklist

    lines.append("Rates (--train-rate, --loading-rate, --compute-rate):")
    found = measured_rates(ov)
    for task, needs in RATES:
        values = found.get(task)
        shown = f"{statistics.median(values):.1f} items/s" if values else f"none: give {needs}"
        lines.append(f"  {task:<8} {shown}")
    if missing:
        lines += ["", "A voirfile.py beside the script that gives what is missing:", ""]
        lines += [f"    {line}" if line else "" for line in _voirfile(missing)]
    return "\n".join(lines)


def _check_lines(
    check: _Check, given: bool, places: dict[str, str], missing: list[str]
) -> list[str]:
    mark = "[x]" if given else "[ ]"
    lines = [f"  {mark} {check.label:<28} {check.use}"]
    if not given:
        voirfile = check.voirfile.format(**places)
        missing.append(voirfile)
        lines += [f"        script:   {check.script}", f"        voirfile: {voirfile}"]
    return lines


def _voirfile(lines: list[str]) -> list[str]:
    head = ["from overseer_instruments import script_options", ""]
    wanted = any("script_options" in line for line in lines)
    body = ["def instrument_probes(ov):", "    yield ov.phases.load_script"]
    return [*(head if wanted else []), *body, *("    " + line for line in lines)]


# ---------------------------------------------------------------- where things are in the source

_GUESSES = {
    "loss_function": "train",
    "loop_function": "train",
    "loop": "batch",
    "model_function": "main",
    "loader_function": "main",
    "loader": "train_loader",
}


def _places(path: Path | None) -> dict[str, str]:
    """The functions and variables the voirfile lines name, read from the script's source.

    What the source does not show is a guess (``train``, ``batch``): the line then needs the
    names of the script's own function and loop variable.
    """
    places = dict(_GUESSES)
    try:
        tree = ast.parse(path.read_text()) if path is not None else None
    except (OSError, SyntaxError, ValueError):
        tree = None
    if tree is None:
        return places
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    for key, wanted in (("loss", "loss".__eq__), ("model", "model".__eq__)):
        found = _assigning(functions, wanted)
        if found:
            places[f"{key}_function"] = found[0]
    loader = _assigning(functions, lambda name: "loader" in name)
    if loader:
        places["loader_function"], places["loader"] = loader
    loop = _first_loop(functions, prefer=places["loss_function"])
    if loop:
        places["loop_function"], places["loop"] = loop
    return places


def _own_nodes(function: ast.FunctionDef) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of functions or classes inside it."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop(0)
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))


def _assigning(
    functions: list[ast.FunctionDef], wanted: Callable[[str], bool]
) -> tuple[str, str] | None:
    for function in functions:
        for node in _own_nodes(function):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and wanted(node.id):
                return function.name, node.id
    return None


def _first_loop(functions: list[ast.FunctionDef], prefer: str) -> tuple[str, str] | None:
    """The training loop: in the function computing the loss if any, not over a range()."""
    loops = [
        (function.name != prefer, _over_range(node), index, function.name, variable)
        for function in functions
        for index, node in enumerate(_own_nodes(function))
        if isinstance(node, ast.For) and (variable := _batch_variable(node))
    ]
    return min(loops)[3:] if loops else None


def _over_range(loop: ast.For) -> bool:
    call = loop.iter
    return (
        isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "range"
    )


def _batch_variable(loop: ast.For) -> str | None:
    """The loop variable holding the batch: ``x`` in ``for x, y in loader`` and in
    ``for i, (x, y) in enumerate(loader)``."""
    target, call = loop.target, loop.iter
    counted = isinstance(call, ast.Call) and getattr(call.func, "id", None) == "enumerate"
    if counted and isinstance(target, ast.Tuple) and len(target.elts) == 2:
        target = target.elts[1]
    while isinstance(target, ast.Tuple) and target.elts:
        target = target.elts[0]
    return target.id if isinstance(target, ast.Name) else None
