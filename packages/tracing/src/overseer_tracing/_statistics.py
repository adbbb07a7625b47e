"""Statistics of a numeric array or tensor: min, max, mean, std of its finite items, and
its NaN and Inf counts. torch and numpy are looked up in ``sys.modules``, never imported."""

from __future__ import annotations

import sys
from typing import Any

#: One statistic: a number, a count, None where undefined (min of nothing), or a flag.
StatValue = float | int | bool | str | None

STAT_NAMES = ("min", "max", "mean", "std")


def array_stats(value: Any) -> dict[str, StatValue]:
    """Statistics of a numeric array or tensor over its finite items; ``{}`` otherwise."""
    try:
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor):
            return _tensor_stats(torch, value.detach())
        return _ndarray_stats(sys.modules["numpy"], sys.modules["numpy"].asarray(value))
    except Exception as error:  # statistics are a nicety: say why they are missing
        return {"error": f"{type(error).__name__}: {error}"[:200]}


def tensor_version(tensor: Any) -> int | None:
    """A tensor's count of in-place changes."""
    try:
        return int(tensor._version)
    except Exception:  # inference-mode tensors keep no counter
        return None


def _tensor_stats(torch: Any, tensor: Any) -> dict[str, StatValue]:
    if tensor.is_complex() or tensor.is_quantized or tensor.is_sparse:
        return {}
    finite_mask = torch.isfinite(tensor)
    nan, non_finite = int(torch.isnan(tensor).sum()), int((~finite_mask).sum())
    finite = tensor[finite_mask].double() if non_finite else tensor.double()
    numbers: list[float | None] = [None] * 4
    if finite.numel():
        together = torch.stack(
            [finite.min(), finite.max(), finite.mean(), finite.std(correction=0)]
        )
        numbers = together.tolist()  # one transfer from the device, not four
    return _stats_dict(numbers, nan, non_finite - nan)


def _ndarray_stats(numpy: Any, array: Any) -> dict[str, StatValue]:
    if array.dtype.kind not in "biuf":
        return {}
    with numpy.errstate(all="ignore"):
        finite_mask = numpy.isfinite(array)
        nan, non_finite = int(numpy.isnan(array).sum()), int(array.size - finite_mask.sum())
        finite = (array[finite_mask] if non_finite else array).astype(numpy.float64)
        numbers: list[float | None] = [None] * 4
        if finite.size:
            numbers = [float(f(finite)) for f in (numpy.min, numpy.max, numpy.mean, numpy.std)]
    return _stats_dict(numbers, nan, non_finite - nan)


def _stats_dict(numbers: list[float | None], nan: int, inf: int) -> dict[str, StatValue]:
    named: dict[str, StatValue] = dict(zip(STAT_NAMES, numbers, strict=True))
    return {**named, "nan": nan, "inf": inf}
