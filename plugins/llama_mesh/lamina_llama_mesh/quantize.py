"""The LLaMA-Mesh quantiser: float triangle mesh -> canonical integer mesh on a 64-level grid.

The paper never released its pre-processing, so the steps below follow its description (and the common MeshGPT
practice it builds on) literally, in this order:

1. centre on the bounding-box centre;
2. divide by the bounding-box diagonal, so every coordinate lies in [-0.5, 0.5];
3. quantise each coordinate to ``q = floor((v + 0.5) * 63)``, i.e. integers 0..63 (64 levels);
4. merge vertices that became identical;
5. sort vertices by (z, y, x) ascending and re-index the faces;
6. drop degenerate faces (two corners on the same grid vertex) and repeated faces (same corner set);
7. drop unreferenced vertices (re-indexing keeps the (z, y, x) order);
8. rotate each face so it starts at its smallest index (the winding, hence the normal, is kept);
9. sort faces by their sorted index triples.

The result is canonical: two meshes that quantise to the same geometry produce the same arrays, so the same text,
which is what lets a language model learn one spelling per shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = 64
"""Number of quantisation levels per axis (coordinates are written as integers 0..LEVELS-1)."""

_FLOOR_TOLERANCE = 1e-9
"""Added before ``floor`` so a coordinate that is mathematically on a level (e.g. 0.5 * 63 + 31.5 = 63) but
lands at 62.9999999 in floating point is not pushed one level down; far below one level (1/63)."""


@dataclass(frozen=True, eq=False)
class QuantizedMesh:
    """A canonical integer triangle mesh.

    ``vertices`` is (V, 3) int64 in x, y, z order with values in 0..63; ``faces`` is (F, 3) int64, 0-based.
    Equality compares the arrays exactly (the round-trip tests rely on it).
    """

    vertices: np.ndarray
    faces: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantizedMesh):
            return NotImplemented
        return np.array_equal(self.vertices, other.vertices) and np.array_equal(self.faces, other.faces)

    def __hash__(self) -> int:
        return hash((self.vertices.tobytes(), self.faces.tobytes()))

    @property
    def num_faces(self) -> int:
        return int(len(self.faces))

    @property
    def num_vertices(self) -> int:
        return int(len(self.vertices))

    def dequantized(self) -> np.ndarray:
        """Vertex positions back in the [-0.5, 0.5] frame (level centres), for metrics and rendering."""
        return (self.vertices.astype(np.float64) + 0.5) / (LEVELS - 1) - 0.5


def normalize_vertices(vertices: np.ndarray) -> np.ndarray:
    """Centre on the bounding-box centre and divide by the bounding-box diagonal (steps 1-2).

    A mesh whose vertices all coincide has a zero diagonal and cannot be scaled: that is an error, not a silent
    division by zero.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or len(vertices) == 0:
        raise ValueError(
            f"expected an (N, 3) array of vertex positions with N > 0, got shape {vertices.shape}"
        )
    if not np.all(np.isfinite(vertices)):
        raise ValueError("vertex positions contain NaN or infinity; fix or drop the mesh before quantising")
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    diagonal = float(np.linalg.norm(high - low))
    if diagonal == 0.0:
        raise ValueError("all vertices are at the same point (zero bounding-box diagonal); the mesh is empty")
    return (vertices - (low + high) / 2.0) / diagonal


def quantize_coordinates(normalized: np.ndarray) -> np.ndarray:
    """Step 3: map [-0.5, 0.5] to integers 0..63 with ``floor((v + 0.5) * 63)``."""
    levels = np.floor((normalized + 0.5) * (LEVELS - 1) + _FLOOR_TOLERANCE).astype(np.int64)
    return np.clip(levels, 0, LEVELS - 1)


def canonicalize(vertex_levels: np.ndarray, faces: np.ndarray) -> QuantizedMesh:
    """Steps 4-9 on an already-quantised mesh: merge, sort, re-index, clean and order faces."""
    vertex_levels = np.asarray(vertex_levels, dtype=np.int64).reshape(-1, 3)
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    if len(faces) and (faces.min() < 0 or faces.max() >= len(vertex_levels)):
        raise ValueError(
            f"face indices must be in 0..{len(vertex_levels) - 1} (0-based) but range "
            f"{faces.min()}..{faces.max()}"
        )
    # 4. merge identical grid vertices.
    unique_levels, merged_index = np.unique(vertex_levels, axis=0, return_inverse=True)
    merged_index = merged_index.reshape(-1)
    # 5. sort by z, then y, then x (np.lexsort takes the primary key last).
    order = np.lexsort((unique_levels[:, 0], unique_levels[:, 1], unique_levels[:, 2]))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    sorted_levels = unique_levels[order]
    faces = rank[merged_index[faces]] if len(faces) else faces
    # 6. drop degenerate faces, then faces repeating an earlier corner set.
    if len(faces):
        keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
        faces = faces[keep]
    if len(faces):
        _, first = np.unique(np.sort(faces, axis=1), axis=0, return_index=True)
        faces = faces[np.sort(first)]
    # 7. drop unreferenced vertices; a monotonic re-index keeps the (z, y, x) order.
    used = np.zeros(len(sorted_levels), dtype=bool)
    used[faces.reshape(-1)] = True
    new_index = np.cumsum(used) - 1
    sorted_levels = sorted_levels[used]
    faces = new_index[faces] if len(faces) else faces.reshape(0, 3)
    # 8. rotate each face to start at its smallest index (cyclic shift keeps the winding).
    if len(faces):
        shift = np.argmin(faces, axis=1)
        columns = (shift[:, None] + np.arange(3)[None, :]) % 3
        faces = np.take_along_axis(faces, columns, axis=1)
        # 9. sort faces by their sorted index triples (primary key: smallest index).
        key = np.sort(faces, axis=1)
        faces = faces[np.lexsort((key[:, 2], key[:, 1], key[:, 0]))]
    return QuantizedMesh(vertices=sorted_levels.astype(np.int64), faces=faces.astype(np.int64).reshape(-1, 3))


def quantize_mesh(vertices: np.ndarray, faces: np.ndarray) -> QuantizedMesh:
    """The full pipeline (steps 1-9) from float vertices and 0-based triangle faces.

    Raises ``ValueError`` when the mesh has no vertices, non-finite coordinates, zero extent or non-triangle faces.
    The result may have zero faces when everything collapses on the grid; callers decide whether that is an error.
    """
    faces = np.asarray(faces, dtype=np.int64)
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(
            f"expected (F, 3) triangle faces, got shape {faces.shape}; triangulate the mesh first"
        )
    return canonicalize(quantize_coordinates(normalize_vertices(vertices)), faces)
