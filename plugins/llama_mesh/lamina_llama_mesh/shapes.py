"""Low-poly shape builders (Y up) for the procedural dataset: every face costs about eight tokens, so shapes use
as few triangles as their silhouette allows.

Each builder returns ``(vertices, faces)``: float (V, 3) positions and int (F, 3) 0-based triangles wound
counter-clockwise seen from outside. :func:`combine` joins parts into one object (a table is a top plus legs).
"""

from __future__ import annotations

import numpy as np

Part = tuple[np.ndarray, np.ndarray]


def box(
    width: float, height: float, depth: float, center: tuple[float, float, float] = (0.0, 0.0, 0.0)
) -> Part:
    """An axis-aligned box: 8 vertices, 12 triangles."""
    half = np.array([width, height, depth]) / 2.0
    corners = np.array([[x, y, z] for z in (-1, 1) for y in (-1, 1) for x in (-1, 1)], dtype=float)
    vertices = corners * half + np.asarray(center, dtype=float)
    # corner index = x_bit + 2 * y_bit + 4 * z_bit
    faces = np.array(
        [
            [0, 2, 3],
            [0, 3, 1],  # z = -1
            [4, 5, 7],
            [4, 7, 6],  # z = +1
            [0, 1, 5],
            [0, 5, 4],  # y = -1
            [2, 6, 7],
            [2, 7, 3],  # y = +1
            [0, 4, 6],
            [0, 6, 2],  # x = -1
            [1, 3, 7],
            [1, 7, 5],  # x = +1
        ]
    )
    return vertices, faces


def frustum(
    bottom_radius: float,
    top_radius: float,
    height: float,
    segments: int,
    center: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> Part:
    """A capped frustum around the Y axis (a prism for equal radii, a cone/pyramid for ``top_radius=0``)."""
    if segments < 3:
        raise ValueError(f"a frustum needs at least 3 segments, got {segments}")
    angles = 2 * np.pi * np.arange(segments) / segments
    ring = np.stack([np.cos(angles), np.zeros(segments), -np.sin(angles)], axis=1)
    bottom = ring * bottom_radius + [0, -height / 2, 0]
    index = np.arange(segments)
    following = (index + 1) % segments
    if top_radius == 0:  # apex
        vertices = np.vstack([bottom, [[0, height / 2, 0]]])
        apex = segments
        sides = np.stack([index, following, np.full(segments, apex)], axis=1)
        base = np.array([[0, i + 1, i] for i in range(1, segments - 1)]).reshape(-1, 3)
        faces = np.vstack([sides, base])
    else:
        top = ring * top_radius + [0, height / 2, 0]
        vertices = np.vstack([bottom, top])
        sides = np.concatenate(
            [
                np.stack([index, following, following + segments], axis=1),
                np.stack([index, following + segments, index + segments], axis=1),
            ]
        )
        base = np.array([[0, i + 1, i] for i in range(1, segments - 1)]).reshape(-1, 3)
        cap = np.array([[segments, segments + i, segments + i + 1] for i in range(1, segments - 1)]).reshape(
            -1, 3
        )
        faces = np.vstack([sides, base, cap])
    return vertices + np.asarray(center, dtype=float), faces.astype(np.int64)


def sphere(
    radius: float, segments: int = 8, rings: int = 4, center: tuple[float, float, float] = (0.0, 0.0, 0.0)
) -> Part:
    """A UV sphere with poles: ``segments * (rings - 1) + 2`` vertices."""
    vertices = [[0.0, radius, 0.0]]
    for ring in range(1, rings):
        polar = np.pi * ring / rings
        for segment in range(segments):
            azimuth = 2 * np.pi * segment / segments
            vertices.append(
                [
                    radius * np.sin(polar) * np.cos(azimuth),
                    radius * np.cos(polar),
                    -radius * np.sin(polar) * np.sin(azimuth),
                ]
            )
    vertices.append([0.0, -radius, 0.0])
    faces = []
    south = len(vertices) - 1
    for segment in range(segments):
        following = (segment + 1) % segments
        faces.append([0, 1 + segment, 1 + following])
        for ring in range(rings - 2):
            a, b = 1 + ring * segments + segment, 1 + ring * segments + following
            c, d = a + segments, b + segments
            faces += [[a, c, d], [a, d, b]]
        last = 1 + (rings - 2) * segments
        faces.append([last + segment, south, last + following])
    return np.asarray(vertices) + np.asarray(center, dtype=float), np.asarray(faces, dtype=np.int64)


def combine(parts: list[Part]) -> Part:
    """Concatenate parts into one mesh (parts may touch or overlap; the quantiser merges shared grid points)."""
    vertices, faces, offset = [], [], 0
    for part_vertices, part_faces in parts:
        vertices.append(part_vertices)
        faces.append(part_faces + offset)
        offset += len(part_vertices)
    return np.vstack(vertices), np.vstack(faces)


def rotate_about_up(vertices: np.ndarray, degrees: int) -> np.ndarray:
    """Rotate about the Y (up) axis by a multiple of 90 degrees with an exact integer matrix (no float noise, so
    the four rotations of a shape quantise consistently)."""
    if degrees % 90:
        raise ValueError(
            f"rotations must be multiples of 90 degrees (the paper's augmentation), got {degrees}"
        )
    cos, sin = [(1, 0), (0, 1), (-1, 0), (0, -1)][(degrees // 90) % 4]
    matrix = np.array([[cos, 0, sin], [0, 1, 0], [-sin, 0, cos]], dtype=float)
    return np.asarray(vertices, dtype=float) @ matrix.T
