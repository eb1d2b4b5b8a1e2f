"""Evaluation of a mesh language model: validity, completion, Chamfer distance, understanding accuracy.

- *validity rate*: share of text-to-mesh replies that parse into a mesh with no issue at all
  (:meth:`ParsedMesh.is_valid`);
- *completion rate*: share of replies that were not truncated (the model closed its turn before the token limit
  and did not stop inside a record);
- *Chamfer distance*: symmetric mean nearest-neighbour distance between points sampled on the generated and the
  ground-truth surfaces, both in the quantiser's unit frame (bounding-box diagonal 1), minimised over the four
  up-axis rotations because a caption does not fix the orientation. Lower is better. Two independent samplings
  of the *same* mesh score about 0.02 at 2048 points (0.01 at 8192): differences below that are noise;
- *understanding accuracy*: share of mesh-to-text replies whose first category word is the true category.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from lamina_llama_mesh.obj_text import ParsedMesh
from lamina_llama_mesh.quantize import QuantizedMesh
from lamina_llama_mesh.shapes import rotate_about_up


def validity_rate(parsed: Sequence[ParsedMesh]) -> float:
    return float(np.mean([p.is_valid for p in parsed])) if parsed else 0.0


def completion_rate(parsed: Sequence[ParsedMesh]) -> float:
    return float(np.mean([not p.truncated for p in parsed])) if parsed else 0.0


def invalid_reasons(parsed: Iterable[ParsedMesh]) -> dict[str, int]:
    """How many replies show each failure reason (a reply can show several)."""
    return dict(Counter(reason for p in parsed for reason in p.reasons))


def sample_surface(
    vertices: np.ndarray, faces: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` points uniformly on the surface (area-weighted triangles, uniform barycentric coordinates)."""
    corners = vertices[faces]
    areas = 0.5 * np.linalg.norm(
        np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1
    )
    if len(faces) == 0 or areas.sum() <= 0:
        raise ValueError("cannot sample a surface with zero area (no faces, or all faces degenerate)")
    chosen = rng.choice(len(faces), size=count, p=areas / areas.sum())
    u, v = rng.random(count), rng.random(count)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    a, b, c = corners[chosen, 0], corners[chosen, 1], corners[chosen, 2]
    return a + u[:, None] * (b - a) + v[:, None] * (c - a)


def sample_geometry(
    vertices: np.ndarray, faces: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Surface samples, or, for a flat-collapsed mesh with zero area (a valid but degenerate model output),
    samples along its edges, or its vertices: the distance stays defined (and large) instead of failing."""
    corners = vertices[faces]
    areas = 0.5 * np.linalg.norm(
        np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1
    )
    if len(faces) and areas.sum() > 0:
        return sample_surface(vertices, faces, count, rng)
    starts = corners.reshape(-1, 3)
    ends = np.roll(corners, -1, axis=1).reshape(-1, 3)
    lengths = np.linalg.norm(ends - starts, axis=1)
    if len(starts) and lengths.sum() > 0:
        chosen = rng.choice(len(starts), size=count, p=lengths / lengths.sum())
        t = rng.random(count)[:, None]
        return starts[chosen] + t * (ends[chosen] - starts[chosen])
    if len(vertices) == 0:
        raise ValueError("cannot sample an empty mesh")
    return vertices[rng.choice(len(vertices), size=count)]


def chamfer_distance(points_a: np.ndarray, points_b: np.ndarray) -> float:
    """mean_a min_b |a - b| + mean_b min_a |b - a| (Euclidean, not squared)."""
    from scipy.spatial import cKDTree

    forward, _ = cKDTree(points_b).query(points_a)
    backward, _ = cKDTree(points_a).query(points_b)
    return float(forward.mean() + backward.mean())


def _unit_frame(vertices: np.ndarray) -> np.ndarray:
    """Centre on the bounding box and scale by its diagonal, as the quantiser does before rounding."""
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    return (vertices - (low + high) / 2) / max(float(np.linalg.norm(high - low)), 1e-12)


def mesh_chamfer_distance(
    generated: QuantizedMesh,
    reference: QuantizedMesh,
    *,
    points: int = 2048,
    seed: int = 0,
    rotations: Sequence[int] = (0, 90, 180, 270),
) -> float:
    """Chamfer distance between two quantised meshes, minimised over ``rotations`` of the generated one."""
    rng = np.random.default_rng(seed)
    reference_points = sample_surface(_unit_frame(reference.dequantized()), reference.faces, points, rng)
    best = np.inf
    for angle in rotations:
        vertices = _unit_frame(rotate_about_up(generated.dequantized(), angle))
        generated_points = sample_geometry(vertices, generated.faces, points, np.random.default_rng(seed + 1))
        best = min(best, chamfer_distance(generated_points, reference_points))
    return float(best)


def predicted_category(reply: str, categories: Sequence[str]) -> str | None:
    """The category word that appears first in ``reply`` (whole words, case-insensitive), or ``None``."""
    words = [word.strip(".,;:!?'\"()").lower() for word in reply.split()]
    names = {name.lower(): name for name in categories}
    for word in words:
        if word in names:
            return names[word]
    return None


def understanding_accuracy(replies: Sequence[str], truths: Sequence[str], categories: Sequence[str]) -> float:
    """Share of replies whose first category word equals the true category."""
    if len(replies) != len(truths):
        raise ValueError(f"{len(replies)} replies but {len(truths)} true categories")
    if not replies:
        return 0.0
    return float(
        np.mean([predicted_category(r, categories) == t for r, t in zip(replies, truths, strict=True)])
    )
