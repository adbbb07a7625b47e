"""Follow a few data items through a pipeline, without breaking it.

Decorate the functions of a data pipeline (or shim methods of classes you do not own), run a
few items through it inside a :class:`TraceContext`, and look at what each stage received and
returned, how long it took, and where it failed::

    from overseer_tracing import TraceContext, trace_dataset_func, trace_model_func


    @trace_dataset_func
    def load(index):
        return dataset[index]


    @trace_model_func(params_to_capture=["batch"])
    def evaluate(batch):
        return model(batch)


    with TraceContext() as context:
        evaluate(collate([load(i) for i in range(4)]))
    print(context.result)  # stages in pipeline order, one line a call
    context.result.evaluation[0].params["batch"].stats()

With no trace running, a decorated function costs nothing more than the plain one on Python
3.12+ (it is recorded through ``sys.monitoring``), and one context-variable lookup on 3.10 and
3.11. Tracing never raises into the traced code: a failed capture is recorded as such.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import TraceContext, TraceWarning, trace_verb_data
    from .decorators import trace_dataset_func, trace_func, trace_model_func
    from .errors import TraceUsageError, TracingError
    from .export import TraceDiff
    from .model import TraceCall, TraceResult, TraceStage
    from .record import Recorder, current_recorder, get_trace, recording, reset_trace
    from .shims import Shim, shim_class, shim_instance
    from .values import Summary, fingerprint, summarise

__version__ = "0.1.0"

__all__ = [
    "Recorder",
    "Shim",
    "Summary",
    "TraceCall",
    "TraceContext",
    "TraceDiff",
    "TraceResult",
    "TraceStage",
    "TraceUsageError",
    "TraceWarning",
    "TracingError",
    "__version__",
    "current_recorder",
    "fingerprint",
    "get_trace",
    "recording",
    "reset_trace",
    "shim_class",
    "shim_instance",
    "summarise",
    "trace_dataset_func",
    "trace_func",
    "trace_model_func",
    "trace_verb_data",
]

# Each name loads its module on first use: `overseer --help` and every overseer run load
# this package's instrument, which must not pay for the tracer until --trace is given.
_LAZY = {
    "Recorder": ".record",
    "Shim": ".shims",
    "Summary": ".values",
    "TraceCall": ".model",
    "TraceContext": ".context",
    "TraceDiff": ".export",
    "TraceResult": ".model",
    "TraceStage": ".model",
    "TraceUsageError": ".errors",
    "TraceWarning": ".context",
    "TracingError": ".errors",
    "current_recorder": ".record",
    "fingerprint": ".values",
    "get_trace": ".record",
    "recording": ".record",
    "reset_trace": ".record",
    "shim_class": ".shims",
    "shim_instance": ".shims",
    "summarise": ".values",
    "trace_dataset_func": ".decorators",
    "trace_func": ".decorators",
    "trace_model_func": ".decorators",
    "trace_verb_data": ".context",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    message = f"module 'overseer_tracing' has no attribute {name!r}"
    raise AttributeError(message)
