"""Imports torch inside two nested traces, then iterates a DataLoader with 2 workers.

The inner trace (6 items) and the outer one (4 items) each limit the loader and run it in
this process, though torch was imported after both started. Prints one JSON object: what
each trace recorded, the warnings, and what is left once both exited.
"""

import json
import sys
import warnings

from overseer_tracing import TraceContext, trace_dataset_func
from overseer_tracing._import_hook import PostImportHook


def hooks():
    return sum(isinstance(finder, PostImportHook) for finder in sys.meta_path)


report = {"torch_before": "torch" in sys.modules}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with TraceContext(4) as outer:
        report["hooks_open"] = hooks()
        with TraceContext(6) as inner:
            import torch
            from torch.utils.data import DataLoader, Dataset

            report["hooks_after_import"] = hooks()

            class Ramp(Dataset):
                def __len__(self):
                    return 16

                @trace_dataset_func
                def __getitem__(self, index):
                    return torch.tensor([float(index)])

            loader = DataLoader(Ramp(), batch_size=2, num_workers=2)
            report["inner_batches"] = sum(1 for _ in loader)
        report["outer_batches"] = sum(1 for _ in loader)  # the inner trace exited
report["after_batches"] = sum(1 for _ in loader)  # both exited: 2 workers again
report["inner_items"] = len(inner.result.dataset_getter)
report["outer_items"] = len(outer.result.dataset_getter)
report["warnings"] = [f"{w.category.__name__}: {str(w.message)[:36]}" for w in caught]
report["hooks_after"] = hooks()
report["iter_restored"] = not hasattr(vars(DataLoader)["__iter__"], "__overseer_original__")
report["workers_after"] = loader.num_workers
report["loader"] = type(torch.utils.data.__loader__).__name__
print(json.dumps(report))
