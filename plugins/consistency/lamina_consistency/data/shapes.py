"""Procedurally rendered grey-scale shapes (16x16 by default) with class labels, for class-conditional teachers.

Five classes (disc, square, triangle, plus, ring) at random position, size and brightness on a dark background.
Each image is rendered at 4x resolution and box-filtered down, so edges are anti-aliased like real images.
"""

from __future__ import annotations

import numpy as np

SHAPE_CLASSES = ("disc", "square", "triangle", "plus", "ring")
SUPERSAMPLE = 4


def _mask(kind: str, u: np.ndarray, v: np.ndarray, size: float) -> np.ndarray:
    """Inside-test on centred coordinates ``u`` (right) and ``v`` (down), ``size`` the half-extent."""
    if kind == "disc":
        return u**2 + v**2 <= size**2
    if kind == "square":
        return (np.abs(u) <= size * 0.85) & (np.abs(v) <= size * 0.85)
    if kind == "triangle":  # apex up, base at v = +size
        return (v <= size) & (v >= -size) & (np.abs(u) <= (v + size) * 0.5)
    if kind == "plus":
        arm = size * 0.33
        return ((np.abs(u) <= arm) & (np.abs(v) <= size)) | ((np.abs(v) <= arm) & (np.abs(u) <= size))
    if kind == "ring":
        radius = np.sqrt(u**2 + v**2)
        return (radius <= size) & (radius >= size * 0.55)
    raise ValueError(f"unknown shape {kind!r}; choose one of {SHAPE_CLASSES}")


def render_shapes(count: int, image_size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` images in [-1, 1], shape (count, 1, S, S) float32, and their labels (count,) int64."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(SHAPE_CLASSES), size=count)
    fine = image_size * SUPERSAMPLE
    coords = (np.arange(fine) + 0.5) / SUPERSAMPLE
    grid_u, grid_v = np.meshgrid(coords, coords)
    images = np.empty((count, 1, image_size, image_size), dtype=np.float32)
    for i, label in enumerate(labels):
        size = rng.uniform(0.22, 0.38) * image_size
        centre_u, centre_v = rng.uniform(size, image_size - size, size=2)
        brightness = rng.uniform(0.6, 1.0)
        mask = _mask(SHAPE_CLASSES[label], grid_u - centre_u, grid_v - centre_v, size).astype(np.float32)
        coverage = mask.reshape(image_size, SUPERSAMPLE, image_size, SUPERSAMPLE).mean(axis=(1, 3))
        images[i, 0] = coverage * brightness * 2.0 - 1.0
    return images, labels.astype(np.int64)
