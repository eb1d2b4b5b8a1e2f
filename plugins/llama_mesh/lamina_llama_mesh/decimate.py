"""Reduce a triangle mesh to at most ``max_faces`` faces (the paper keeps only meshes with <= 500 faces).

Quadric edge collapse (``fast-simplification``) preserves shape far better than vertex clustering; it sometimes
lands a few faces above the requested count, so the target is tightened until the limit holds.
"""

from __future__ import annotations

import numpy as np


def decimate(vertices: np.ndarray, faces: np.ndarray, max_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """Return a mesh with at most ``max_faces`` faces (the input unchanged when it already fits)."""
    if max_faces < 4:
        raise ValueError(f"max_faces must be at least 4 (a tetrahedron), got {max_faces}")
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if len(faces) <= max_faces:
        return vertices, faces
    import fast_simplification

    target = max_faces
    for _ in range(8):
        reduction = 1.0 - target / len(faces)
        new_vertices, new_faces = fast_simplification.simplify(
            vertices.astype(np.float32), faces.astype(np.int32), target_reduction=reduction
        )
        if len(new_faces) <= max_faces:
            return np.asarray(new_vertices, dtype=np.float64), np.asarray(new_faces, dtype=np.int64)
        target = max(4, int(target * max_faces / len(new_faces)) - 1)
    raise ValueError(
        f"could not decimate a {len(faces)}-face mesh below {max_faces} faces (last try: {len(new_faces)}); "
        "the mesh may be non-manifold; simplify it in a modelling tool first"
    )
