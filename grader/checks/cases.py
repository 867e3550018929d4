"""Random cases: tensors with a random offset and scale, and descriptions that name a case."""

from __future__ import annotations

import torch

from grader.runner import plain


def pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def random_tensor(gen: torch.Generator, shape, dtype=torch.float32) -> torch.Tensor:
    """Normal values shifted and scaled by random amounts, so an answer tuned to N(0, 1) fails."""
    scale = float(torch.empty(()).uniform_(0.5, 3.0, generator=gen))
    offset = float(torch.empty(()).uniform_(-1.0, 1.0, generator=gen))
    return (torch.randn(shape, generator=gen, dtype=torch.float64) * scale + offset).to(dtype)


def randint(gen: torch.Generator, low: int, high: int) -> int:
    """An int in [low, high] inclusive."""
    return int(torch.randint(low, high + 1, (), generator=gen))


def choice(gen: torch.Generator, options):
    return options[randint(gen, 0, len(options) - 1)]


def _dims(shape) -> str:
    return "x".join(str(int(s)) for s in shape)


def describe_conv(index: int, seed: int, x_shape, w_shape, dtype=None, **params) -> str:
    """'case 3 (N=1, C=4, 12x12, k=3x3, stride 1, padding 2, dilation 2, groups 2, ..., seed S)'."""
    parts = []
    if len(x_shape) == 4:
        parts += [f"N={x_shape[0]}", f"C={x_shape[1]}", _dims(x_shape[2:])]
    else:
        parts.append(f"input {_dims(x_shape)}")
    if w_shape is not None:
        parts.append(f"O={w_shape[0]}, k={_dims(w_shape[-2:])}" if len(w_shape) == 4 else f"k={_dims(w_shape)}")
    for key, value in params.items():
        if value is None or value is False:
            continue
        label = key.replace("_", " ")
        parts.append(label if value is True else f"{label} {value}")
    if dtype is not None:
        parts.append(str(dtype).replace("torch.", ""))
    parts.append(f"seed {seed}")
    return f"case {index} ({', '.join(parts)})"


def conv_output_formula(size: int, k: int, s: int, p: int, d: int, dim: str = "H") -> str:
    out = (size + 2 * p - d * (k - 1) - 1) // s + 1
    return (f"{dim}_out = floor(({dim} + 2*padding - dilation*(k-1) - 1) / stride) + 1 = "
            f"floor(({size} + {2 * p} - {d * (k - 1)} - 1) / {s}) + 1 = {out}")


def shown_value(value, limit: int = 200) -> str:
    """A returned value in words for a message: 'a numpy.int64', 'a torch.Tensor of shape (2,)
    [1, 2]', '(a numpy.int64, 3)', or its repr; never the grader's internal markers."""
    if plain.is_foreign(value):
        kind = plain.foreign_description(value)
        return f"a {kind}" if not kind.startswith(("a ", "an ")) else kind
    if type(value) is dict and "__dtype__" in value:
        return f"the dtype {value['__dtype__']}"
    if type(value) is torch.Tensor:
        items = value.tolist() if value.numel() <= 8 else "..."
        return f"a torch.Tensor of shape {tuple(value.shape)} {items}"
    if type(value) in (tuple, list):
        inner = ", ".join(shown_value(v, limit) for v in value[:8]) + (", ..." if len(value) > 8 else "")
        text = f"({inner}{',' if len(value) == 1 else ''})" if type(value) is tuple else f"[{inner}]"
        return text[:limit]
    return repr(value)[:limit]


def int_advice(value) -> str:
    """``value`` in words and why it is not the Python int that was asked for, with advice that
    fits its kind ('float 4.0 (use // ...)', 'a numpy.int64, expected a Python int: ...')."""
    if type(value) is float:
        return f"float {value!r} (use // (floor division) so the count stays an int)"
    if type(value) is bool:
        return f"bool {value!r}, expected a Python int"
    if type(value) is torch.Tensor:
        return f"{shown_value(value)} (return a Python int, e.g. with .item())"
    if plain.is_foreign(value):
        kind = plain.foreign_description(value)
        if kind.startswith("numpy."):
            return f"a {kind}, expected a Python int (convert it with int(...))"
        return f"a {kind}, expected a Python int"
    return f"{shown_value(value)}, expected a Python int"
