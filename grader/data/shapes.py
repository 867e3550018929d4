"""A procedural image set for p09: ten classes of coloured shapes and textures, from a seed.

Every image draws its own position, scale, rotation, foreground and background colours, a
background gradient and pixel noise, so the class lives only in the *form*: a disc, a square,
a triangle, a ring, a plus, a hollow square, or a disc filled with stripes, a checkerboard, dots
or concentric rings. Colour and position say nothing about the class, so a linear model on the
pixels stays far below a small CNN, which finds local edges and textures wherever they are.

Generation is vectorised per class (torch only): thousands of images take well under a second.
A secret seed gives images no one has seen.
"""

from __future__ import annotations

import math

import torch

CLASSES = ("disc", "square", "triangle", "ring", "plus", "hollow square",
           "striped disc", "checkered disc", "dotted disc", "target")


def _signed_inside(kind: int, u: torch.Tensor, v: torch.Tensor, freq: torch.Tensor,
                   phase: torch.Tensor) -> torch.Tensor:
    """How far inside the shape a point is, in the shape's own units (> 0 inside)."""
    r = torch.sqrt(u * u + v * v)
    box = torch.maximum(u.abs(), v.abs())
    if kind == 0:
        return 1.0 - r
    if kind == 1:
        return 0.8 - box
    if kind == 2:  # equilateral triangle, inradius 0.5, outward normals 120° apart
        sides = [u * math.cos(a) + v * math.sin(a) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
        return 0.5 - torch.maximum(torch.maximum(sides[0], sides[1]), sides[2])
    if kind == 3:
        return 0.22 - (r - 0.75).abs()
    if kind == 4:
        return torch.maximum(torch.minimum(0.28 - u.abs(), 0.95 - v.abs()),
                             torch.minimum(0.28 - v.abs(), 0.95 - u.abs()))
    if kind == 5:
        return torch.minimum(0.9 - box, box - 0.55)
    # Textures inside a unit disc; the texture's own "inside" is scaled to shape units.
    disc = 1.0 - r
    wave = 2 * math.pi * freq
    if kind == 6:
        texture = torch.sin(wave * u + phase)
    elif kind == 7:
        texture = torch.sin(wave * u + phase) * torch.sin(wave * v + phase)
    elif kind == 8:
        texture = torch.minimum(torch.cos(wave * u + phase), torch.cos(wave * v + phase)) - 0.55
    else:
        texture = torch.sin(wave * r + phase)
    return torch.minimum(disc, 0.15 * texture)


def make_shapes(n: int, seed: int, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (float32 n×3×size×size in [0, 1]) and labels (int64 n), balanced over classes."""
    gen = torch.Generator().manual_seed(seed)

    def uniform(low, high, *shape):
        return torch.rand(n, *shape, generator=gen) * (high - low) + low

    labels = (torch.arange(n) % len(CLASSES))[torch.randperm(n, generator=gen)]
    cx, cy = uniform(-0.35, 0.35), uniform(-0.35, 0.35)
    scale = uniform(0.5, 0.75)  # shape radius as a fraction of the half-image
    angle = uniform(0.0, 2 * math.pi)
    freq = uniform(1.0, 1.3)  # texture cycles per unit radius
    phase = uniform(0.0, 2 * math.pi)
    background = uniform(0.0, 1.0, 3)
    foreground = uniform(0.0, 1.0, 3)
    # Keep the shape visible: push the foreground at least 0.6 away from the background colour.
    delta = foreground - background
    norm = delta.norm(dim=1, keepdim=True).clamp_min(1e-6)
    foreground = torch.where(norm < 0.6, background + delta / norm * 0.6, foreground).clamp(0, 1)
    gradient = uniform(-0.15, 0.15, 2)
    noise = uniform(0.02, 0.08)

    axis = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    dx = (x - cx[:, None, None]) / scale[:, None, None]
    dy = (y - cy[:, None, None]) / scale[:, None, None]
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy

    inside = torch.empty(n, size, size)
    for kind in range(len(CLASSES)):
        rows = (labels == kind).nonzero().flatten()
        if len(rows):
            inside[rows] = _signed_inside(kind, u[rows], v[rows], freq[rows, None, None],
                                          phase[rows, None, None])
    # A soft edge about one pixel wide (pixel size in shape units is (2/size)/scale).
    pixel = (2.0 / size) / scale[:, None, None]
    mask = torch.sigmoid(inside / pixel * 2.0)[:, None]
    images = background[:, :, None, None] * (1 - mask) + foreground[:, :, None, None] * mask
    images = images + (gradient[:, 0, None, None] * x + gradient[:, 1, None, None] * y)[:, None]
    images = images + torch.randn(n, 3, size, size, generator=gen) * noise[:, None, None, None]
    return images.clamp(0, 1).to(torch.float32).contiguous(), labels.to(torch.int64)
