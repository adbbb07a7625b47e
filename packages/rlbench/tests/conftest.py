"""One torch thread per test: on a small shared machine, torch's default of one thread per
core makes small-tensor work tens of times slower whenever another process is busy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
