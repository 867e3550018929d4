"""Plain data across the process boundary.

The worker (untrusted) turns whatever learner code returned into plain values: exact
torch.Tensors, numbers, strings, lists, tuples and dicts. Anything else becomes a marker that
names its type, so the parent can say "expected a Tensor, got MyTensor". The parent reads replies
with ``torch.load(weights_only=True)``, which cannot run code, and then checks exact types again.
"""

from __future__ import annotations

import io

import torch

_SCALARS = (int, float, bool, str, type(None))
FOREIGN = "__foreign__"


def describe_type(value) -> str:
    cls = type(value)
    if isinstance(value, torch.Tensor) and cls is not torch.Tensor:
        return f"{cls.__module__}.{cls.__qualname__} (a torch.Tensor subclass)"
    if cls is torch.Tensor:
        return "torch.Tensor"
    return f"{cls.__module__}.{cls.__qualname__}" if cls.__module__ != "builtins" else cls.__qualname__


def to_plain(value, depth: int = 0):
    """Worker side: a copy of ``value`` made only of plain types (foreign objects become markers)."""
    if depth > 20:
        return {FOREIGN: "structure nested too deeply"}
    cls = type(value)
    if cls is torch.Tensor:
        if value.layout != torch.strided:
            return {FOREIGN: f"torch.Tensor with layout {value.layout}"}
        return value.detach().cpu().clone().contiguous()
    if cls in _SCALARS:
        return value
    if cls is torch.dtype:
        return {"__dtype__": str(value)}
    if cls is torch.Size:
        return tuple(int(v) for v in value)
    if cls in (list, tuple):
        items = [to_plain(v, depth + 1) for v in value]
        return items if cls is list else tuple(items)
    if cls is dict:
        return {str(k): to_plain(v, depth + 1) for k, v in value.items()}
    return {FOREIGN: describe_type(value)}


def encode(value) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def decode(payload: bytes):
    """Parent side: read a worker's reply without executing anything from it."""
    return torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")


def is_foreign(value) -> bool:
    return type(value) is dict and FOREIGN in value


def foreign_description(value) -> str:
    if is_foreign(value):
        return str(value[FOREIGN])
    return describe_type(value)


MAX_DEPTH = 40
MAX_NODES = 1_000_000


def check_shape(value) -> str:
    """Parent side: '' when ``value`` is a reasonable plain structure, else why not.

    ``weights_only`` loading is iterative, so a forged reply can hold a list nested 200,000 deep
    that would make any recursive walk (even ``str()``) crash the parent. Walk it iteratively
    first and refuse what no honest answer returns."""
    stack, nodes = [(value, 0)], 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep"
        if nodes > MAX_NODES:
            return f"more than {MAX_NODES} values"
        if type(item) in (list, tuple):
            stack.extend((v, depth + 1) for v in item)
        elif type(item) is dict:
            stack.extend((v, depth + 1) for v in item.values())
            stack.extend((k, depth + 1) for k in item.keys())
    return ""


def text(value, cap: int = 4000) -> str:
    """A string field of a reply: exactly a str, capped; anything else reads as empty."""
    return value[:cap] if type(value) is str else ""
