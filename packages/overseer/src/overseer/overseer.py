"""The Overseer: runs a program through its phases and lets instruments watch and steer it.

Every instrument receives the overseer. Its attributes are voir's::

    def instrument_time(ov):
        yield ov.phases.init
        ov.argparser.add_argument("--time", action="store_true", help="print times")
        yield ov.phases.parse_args
        if ov.options.time:
            ov.given["?loss"].min().print("best loss: {}")

Run it from the command line (``overseer script.py``) or from Python::

    Overseer(instruments=[instrument_time]).run(["--time", "train.py", "--lr", "0.1"])
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

from . import giver as give_module
from .discovery import InstrumentSpec, check_instrument
from .errors import OverseerError, UsageError
from .phase import Phase, PhaseSequence, Schedule, StopProgram
from .schema import RUN_PID_ENV

if TYPE_CHECKING:
    from .given import Given, LogStream
    from .probe import ProbeSet
    from .script import Program
    from .stream import DataSink

__all__ = ["Overseer", "Terminated"]


USAGE = "overseer [OPTIONS] SCRIPT [ARGS...] | overseer [OPTIONS] -m MODULE[:FUNCTION] [ARGS...]"


class Terminated(BaseException):
    """Raised in the script when the process receives SIGTERM (Slurm's warning of preemption)."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


class Overseer:
    """Runs a program through the phases ``init``, ``parse_args``, ``load_script``,
    ``run_script`` and ``finalize``, resuming instruments after each.

    Args:
        instruments: callables taking the overseer, required at the start of the run.
        sink: where the data stream goes; by default ``$DATA_FD``, else descriptor 3 when
            it is open, else nowhere.

    Attributes:
        phases: the run's phases (``ov.phases.init`` ...).
        options: the parsed command line (after ``parse_args``).
        program: the loaded script (after ``load_script``).
        stopped: true once the script was ended on purpose by :meth:`stop`.
    """

    def __init__(
        self,
        instruments: Iterable[Callable[..., Any] | InstrumentSpec] = (),
        *,
        sink: DataSink | bool | None = True,
    ) -> None:
        self.phases = PhaseSequence()
        self._schedule = Schedule(self.phases, self._on_instrument_error, self._on_step)
        self._parser = argparse.ArgumentParser(
            prog="overseer",
            usage=USAGE,
            description="Run a Python script or module under instruments.",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,
        )
        self._groups: dict[str, argparse._ArgumentGroup] = {}
        self._pending: list[InstrumentSpec] = [_as_spec(item) for item in instruments]
        self._required: dict[int, Any] = {}
        self._running_instrument: str | None = None
        self._started = False
        self._sink_choice = sink
        self._sink: DataSink | None = None
        self._given: Given | None = None
        self._log: LogStream | None = None
        self._probes: ProbeSet | None = None
        self._log_given = False
        self._warned_fork = False
        self._lock = threading.RLock()
        self.program: Program | None = None
        self.stopped = False
        self.instrument_errors: list[tuple[str, BaseException]] = []

    # ------------------------------------------------------------------ voir's surface

    @property
    def argparser(self) -> Any:
        """The command-line parser; flags an instrument adds are shown under its name."""
        name = self._running_instrument
        if name is None or (not self.phases.init.pending and not self.phases.init.running):
            return self._parser
        if name not in self._groups:
            self._groups[name] = self._parser.add_argument_group(f"instrument {name}")
        return _GroupedParser(self._parser, self._groups[name])

    @property
    def options(self) -> argparse.Namespace:
        """The parsed command line, instrument flags included."""
        options = self.__dict__.get("_options")
        if options is None:
            message = "ov.options exists after parse_args: yield ov.phases.parse_args first"
            raise AttributeError(message)
        return options  # type: ignore[no-any-return]

    @property
    def given(self) -> Given:
        """Everything given during the run, as a giving stream (``ov.given["?loss"]``)."""
        if self._given is None:
            from .given import Given

            self._given = Given(owner=self._owner, on_error=self._on_subscriber_error)
            self._connect()
        return self._given

    @property
    def log(self) -> LogStream:
        """The stream written to the data descriptor: ``ov.given.where("loss") >> ov.log``."""
        if self._log is None:
            from .given import LogStream

            self._log = LogStream(self._write, owner=self._owner)
        return self._log

    def give(self, *args: Any, **values: Any) -> Any:
        """Give values to :attr:`given`, from any thread (``ov.give(loss=0.5)``)."""
        return give_module.give(*args, **values)

    def probe(self, selector: str, **options: Any) -> Any:
        """Probe local variables with a ptera selector: ``ov.probe("//train > loss")``.

        The probe is active from the end of ``load_script`` to the end of ``run_script``
        (at once if ``load_script`` has already ended).

        Raises:
            ProbeError: the selector does not parse or names nothing that can be probed.
        """
        if self._probes is None:
            from .probe import ProbeSet

            self._probes = ProbeSet(on_error=self._on_probe_error)
            if self.phases.load_script.done or self.phases.load_script.running:
                self._probes.activate()
        return self._probes.probe(selector, **options)

    def require(self, *instruments: Callable[..., Any]) -> Any:
        """Add instruments to the run; each is added once. Returns their ``__state__``.

        An instrument required after some phases ended is first resumed through those.
        """
        states = [self._require(_as_spec(item)) for item in instruments]
        return states[0] if len(states) == 1 else states

    def stop(self, value: Any = None) -> None:
        """End the script now, on purpose (an early stop): the run exits with status 0."""
        raise StopProgram(value)

    # ------------------------------------------------------------------ running

    def run(self, argv: list[str]) -> int:
        """Run the command line ``argv`` (overseer options, then the script and its
        arguments) through every phase, and return the exit status.
        """
        if self._started:
            raise OverseerError("an Overseer runs once: create a new one for another run")
        self._started = True
        self._open_sink()
        restore = self._install()
        try:
            return self._run_phases(argv)
        finally:
            restore()

    def _run_phases(self, argv: list[str]) -> int:
        status = 0
        try:
            for spec in self._pending:
                self._require(spec)
            self._add_core_flags()
            with self._phase(self.phases.init):
                pass
            with self._phase(self.phases.parse_args):
                self._options = self._parse(argv)
            with self._phase(self.phases.load_script):
                self.program = self._load()
                self.program.prepare()
                if self._probes is not None:
                    self._probes.activate()
            with self._phase(self.phases.run_script) as result:
                result.append(self.program.run())
        except StopProgram as stop:
            self._record_stop(stop)
            self._schedule.throw_everywhere(stop)
        except SystemExit as exit_:
            status = _exit_status(exit_)
        except KeyboardInterrupt:
            self._record("signal", {"signal": "SIGINT"})
            status = 128 + signal.SIGINT
        except Terminated as terminated:
            self._record("signal", {"signal": str(terminated)})
            status = 128 + terminated.signal_number
        except OverseerError:
            raise
        except BaseException as error:
            self._record("error", {"type": type(error).__name__, "message": str(error)})
            _print_user_traceback(error)
            status = 1
        finally:
            status = self._finish(status)
        return status

    def _finish(self, status: int) -> int:
        if self.program is not None:
            self.program.restore()
        if self._probes is not None:
            self._probes.close()
        if self._given is not None:
            with self._lock:
                self._given.complete()
        try:
            with self._phase(self.phases.finalize):
                pass
        except SystemExit as exit_:
            status = _exit_status(exit_)
        except BaseException as error:
            self._on_instrument_error("finalize", error)
        self._record("exit", {"status": status})
        if self._sink is not None:
            self._sink.close()
        return status

    @contextlib.contextmanager
    def _phase(self, phase: Phase) -> Iterator[list[Any]]:
        result: list[Any] = []
        failure: BaseException | None = None
        try:
            yield result
        except SystemExit as exit_:
            # sys.exit(0) is how many scripts end well: run_script ends as if they returned.
            if phase is not self.phases.run_script or _exit_status(exit_) != 0:
                failure = exit_
        except StopProgram as stop:
            # An early stop ends the script on purpose: instruments waiting for the end of
            # run_script and for finalize resume as after any other end.
            if phase is not self.phases.run_script:
                failure = stop
            else:
                self._record_stop(stop)
        except BaseException as error:
            failure = error
        self._record("phase", {"name": phase.name})
        self._schedule.end(phase, result[0] if result else None, failure)
        if self._sink is not None:
            self._sink.flush()
        if failure is not None:
            raise failure

    def _parse(self, argv: list[str]) -> argparse.Namespace:
        options = self._parser.parse_args(argv)
        if options.MODULE is None and options.SCRIPT is None:
            self._parser.error("nothing to run: pass a script (overseer script.py) or -m MODULE")
        self._log_given = bool(options.log_given)
        if self._log_given:
            self._connect()
        return options

    def _load(self) -> Program:
        from .script import load_module, load_script

        options = self.options
        if options.MODULE is not None:
            module, *argv = options.MODULE
            return load_module(module, argv)
        return load_script(options.SCRIPT, list(options.ARGV))

    def _add_core_flags(self) -> None:
        parser = self._parser
        parser.add_argument(
            "--log-given",
            action="store_true",
            help="write every given dict to the data stream (fd 3 or $DATA_FD)",
        )
        parser.add_argument("SCRIPT", nargs="?", help="the script to run")
        parser.add_argument("ARGV", nargs=argparse.REMAINDER, help="the script's arguments")
        parser.add_argument(
            "-m",
            dest="MODULE",
            nargs=argparse.REMAINDER,
            metavar="MODULE[:FUNCTION] ...",
            help="run a module as `python -m` does, or call module:function",
        )

    # ------------------------------------------------------------------ instruments

    def _require(self, spec: InstrumentSpec) -> Any:
        check_instrument(spec.name, spec.instrument)
        state = getattr(spec.instrument, "__state__", spec.instrument)
        if not self._started:
            self._pending.append(spec)
            return state
        if id(spec.instrument) in self._required:
            return state
        self._required[id(spec.instrument)] = spec.instrument
        previous = self._running_instrument
        self._running_instrument = spec.name
        try:
            result = spec.instrument(self)
        except StopProgram:
            raise
        except BaseException as error:
            self._on_instrument_error(spec.name, error)
            return state
        finally:
            self._running_instrument = previous
        if hasattr(result, "send") and hasattr(result, "throw"):
            self._schedule.start(spec.name, result)
        return state

    def _on_step(self, name: str | None) -> None:
        self._running_instrument = name

    def _owner(self) -> str | None:
        return self._running_instrument

    def _on_instrument_error(self, name: str, error: BaseException) -> None:
        if isinstance(error, OverseerError):
            # Bad input (a selector that does not parse, a missing function): stop the run
            # with its one-line message rather than go on half-instrumented.
            raise error
        self.instrument_errors.append((name, error))
        self._record(
            "instrument_error",
            {"instrument": name, "type": type(error).__name__, "message": str(error)},
        )
        print(
            f"overseer: instrument {name!r} failed and was detached; the run goes on."
            f" {type(error).__name__}: {error}",
            file=sys.stderr,
        )

    def _on_probe_error(self, selector: str, error: BaseException) -> None:
        self._on_instrument_error(self._running_instrument or f"probe {selector!r}", error)

    def _on_subscriber_error(self, owner: str | None, error: BaseException) -> None:
        self._on_instrument_error(owner or "a subscriber of ov.given", error)

    # ------------------------------------------------------------------ the stream

    def _open_sink(self) -> None:
        choice = self._sink_choice
        if choice is True:
            from .stream import open_sink

            self._sink = open_sink()
        elif choice is not False and choice is not None:
            self._sink = choice

    def _record(self, event: str, data: dict[str, Any]) -> None:
        """Write a control record to the data stream, if there is one."""
        if self._sink is not None:
            self._sink.control(event, data)

    def _record_stop(self, stop: StopProgram) -> None:
        self.stopped = True
        self._record("stop", {"value": _jsonable(stop.args[0] if stop.args else None)})

    def _write(self, values: dict[str, Any]) -> None:
        """Write what ``ov.log`` receives: a control record if it has ``$event``."""
        sink = self._sink
        if sink is None:
            return
        event = values.get("$event")
        if event is not None:
            sink.control(str(event), values.get("$data") or {})
        else:
            sink.write(values)

    def _connect(self) -> None:
        """Route ``give`` to this overseer once something listens (before: a no-op)."""
        if self._started:
            give_module.set_delivery(self._deliver)

    def _deliver(self, values: dict[str, Any]) -> None:
        # One delivery at a time, whatever thread gives. acquire/release rather than `with`:
        # this is every give's path, and the statement costs twice the lock itself.
        lock = self._lock
        lock.acquire()
        try:
            if self._log_given:
                self._write(values)
            given = self._given
            if given is not None:
                given.push(values)
        finally:
            lock.release()

    def _deliver_in_forked_child(self, values: dict[str, Any]) -> None:
        if self._log_given and self._sink is not None:
            self._write(values)
        elif not self._warned_fork:
            self._warned_fork = True
            print(
                f"overseer: give() in forked worker {os.getpid()} is not seen by instruments,"
                " which run in the main process only; pass --log-given to stream workers' values",
                file=sys.stderr,
            )

    def _install(self) -> Callable[[], None]:
        """Make this the process's overseer; return what undoes it."""
        previous_env = os.environ.get(RUN_PID_ENV)
        os.environ[RUN_PID_ENV] = str(os.getpid())
        previous_delivery = give_module.set_delivery(None)
        if self._given is not None or self._log_given:
            self._connect()
        previous_term = _install_sigterm()
        active = [True]

        def after_fork() -> None:
            if active[0]:
                self._lock = threading.RLock()
                give_module.set_delivery(self._deliver_in_forked_child)

        os.register_at_fork(after_in_child=after_fork)
        unroute_giving = _route_giving(self)

        def restore() -> None:
            active[0] = False
            give_module.set_delivery(previous_delivery)
            unroute_giving()
            if previous_term is not None:
                signal.signal(signal.SIGTERM, previous_term)
            if previous_env is None:
                os.environ.pop(RUN_PID_ENV, None)
            else:
                os.environ[RUN_PID_ENV] = previous_env

        return restore


class _GroupedParser:
    """``ov.argparser`` while an instrument runs: its flags land in its own help group."""

    def __init__(self, parser: argparse.ArgumentParser, group: Any) -> None:
        self._parser = parser
        self._group = group

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action: argparse.Action = self._group.add_argument(*args, **kwargs)
        return action

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


def _as_spec(item: Callable[..., Any] | InstrumentSpec) -> InstrumentSpec:
    if isinstance(item, InstrumentSpec):
        return item
    name = getattr(item, "__name__", None) or type(item).__name__
    return InstrumentSpec(name, item, "require()")


def _exit_status(exit_: SystemExit) -> int:
    code = exit_.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _print_user_traceback(error: BaseException) -> None:
    """Print the traceback as python would, without the overseer's own frames."""
    tb = error.__traceback__
    package = os.path.dirname(__file__)
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(package):
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb)


def _install_sigterm() -> Any:
    """Turn SIGTERM into :class:`Terminated` in the main thread, so finalize runs."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_sigterm(signal_number: int, frame: FrameType | None) -> None:
        # A second SIGTERM while finalizing falls back to the default: end now.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated(signal_number)

    return signal.signal(signal.SIGTERM, on_sigterm)


def _route_giving(overseer: Overseer) -> Callable[[], None]:
    """Send values given with the giving library's own ``give`` to this overseer too.

    giving is slow to import, so it is not imported for this: when the script imports it,
    the route is added as its ``gvr`` module finishes loading. Returns what undoes it.
    """
    tokens: list[Any] = []

    def route(gvr: Any) -> None:
        context = gvr.global_context
        tokens.append((context, context.set((*context.get(), overseer._deliver))))
        overseer._connect()

    watcher = None
    if "giving.gvr" in sys.modules:
        route(sys.modules["giving.gvr"])
    else:
        watcher = _ImportWatcher("giving.gvr", route)
        sys.meta_path.insert(0, watcher)

    def undo() -> None:
        if watcher is not None and watcher in sys.meta_path:
            sys.meta_path.remove(watcher)
        for context, token in tokens:
            with contextlib.suppress(ValueError):
                context.reset(token)

    return undo


class _ImportWatcher:
    """A meta path finder that calls ``then(module)`` once ``name`` has been imported."""

    def __init__(self, name: str, then: Callable[[Any], None]) -> None:
        self.name = name
        self.then = then

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != self.name:
            return None
        import importlib.util

        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader, then = spec.loader, self.then
        execute = loader.exec_module

        def exec_module(module: Any) -> None:
            execute(module)
            then(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def main_error(error: UsageError) -> None:
    """Print a usage error as one line."""
    print(f"overseer: error: {error}", file=sys.stderr)
