"""NumPy arrays and Python strings as Arrow arrays, and Arrow validity as NumPy, without pandas.

`pa.array(...)` and `np.asarray(arrow_array)` ask pandas whether their argument is one of its
arrays, importing pandas (a third of a second of CPU) the first time: a filter that never meets
pandas need not pay for it. These build the same arrays from the same memory directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

__all__ = ["arrow_of", "strings_of", "valid_rows"]


def arrow_of(values: npt.NDArray[Any]) -> pa.Array:
    """`pa.array(values)` of a 1-D NumPy array of booleans or integers, as a view of its memory.

    `pa.array` asks pandas whether its argument is one of pandas' arrays, importing pandas (a
    third of a second of CPU) on its first call; a filter that never meets pandas need not pay it.
    """
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)])


def valid_rows(values: pa.Array) -> npt.NDArray[np.bool_]:
    """Which rows are not null, from the validity bitmap (`np.asarray` would ask pandas too)."""
    bitmap = values.buffers()[0]
    if bitmap is None:
        return np.ones(len(values), dtype=bool)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    result: npt.NDArray[np.bool_] = bits[values.offset : values.offset + len(values)].astype(bool)
    return result


def strings_of(texts: Sequence[str]) -> pa.Array:
    """`pa.array(texts, pa.string())` without the pandas check (see `arrow_of`)."""
    encoded = [text.encode() for text in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.StringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))
