"""The IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/), gzipped or not.

Header: two zero bytes, a type code, the number of dimensions, then one big-endian uint32 per
dimension; the data follows, big-endian, row-major.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09}


class IdxError(ValueError):
    pass


def parse_idx(raw: bytes, name: str = "data") -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IdxError(f"{name} is not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise IdxError(f"{name}: unknown IDX type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"{name}: truncated header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _TYPES[code]
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if len(raw) - header != count * dtype.itemsize:
        raise IdxError(f"{name}: header says {shape} ({count * dtype.itemsize} bytes of data), "
                       f"the file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file; ``.gz`` files are decompressed."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise IdxError(f"{path}: corrupt gzip data ({exc})") from None
    return parse_idx(raw, str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """IDX bytes for a uint8/int8 array (used by tests to make small MNIST-shaped files)."""
    array = np.ascontiguousarray(array)
    code = _CODES[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.tobytes()
