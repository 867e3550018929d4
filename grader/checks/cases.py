"""Random cases: tensors with a random offset and scale, and descriptions that name a case."""

from __future__ import annotations

import torch


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
