"""A tolerant reader for real-world Wavefront OBJ files (the import side, not model output).

Files exported by Blender, Maya or scanners routinely contain things a naive ``v``/``f`` splitter gets wrong:
quads and n-gons, ``v/vt/vn``, ``v//vn`` and ``v/vt`` corners, negative (relative) indices, comments, ``o``/``g``
groups with several objects, ``usemtl``/``mtllib``, ``vt``/``vn``/``vp`` records, vertex colours after ``v x y z``,
line continuations with a trailing backslash, and CRLF line ends. This reader keeps only positions and faces,
triangulates polygons as fans (exact for the convex polygons exporters write), merges all objects into one mesh
and raises :class:`MeshFileError` with the line number when the file is genuinely broken.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class MeshFileError(ValueError):
    """A mesh file that cannot be read; the message names the file, the line and what is wrong."""


def _logical_lines(text: str):
    """Yield (line_number, line) joining backslash continuations, numbering by the first physical line."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


def _resolve_index(token: str, vertex_count: int, where: str) -> int:
    """A face corner (``7``, ``7/2``, ``7//3``, ``-1/..``) -> 0-based vertex index."""
    head = token.split("/", 1)[0]
    try:
        value = int(head)
    except ValueError:
        raise MeshFileError(
            f"{where}: face corner {token!r} does not start with an integer vertex index"
        ) from None
    if value == 0:
        raise MeshFileError(f"{where}: face index 0 is invalid (OBJ indices start at 1)")
    resolved = value - 1 if value > 0 else vertex_count + value
    if not 0 <= resolved < vertex_count:
        raise MeshFileError(
            f"{where}: face index {value} points outside the {vertex_count} vertices defined so far"
        )
    return resolved


def parse_obj(text: str, source: str = "<text>") -> tuple[np.ndarray, np.ndarray]:
    """Positions (V, 3) float64 and fan-triangulated faces (F, 3) int64 (0-based) of all objects in ``text``."""
    vertices: list[tuple[float, float, float]] = []
    faces: list[tuple[int, int, int]] = []
    for number, line in _logical_lines(text):
        fields = line.split()
        if not fields:
            continue
        where = f"{source}:{number}"
        if fields[0] == "v":
            if len(fields) < 4:
                raise MeshFileError(f"{where}: vertex line needs at least x y z, got {line.strip()!r}")
            try:
                vertices.append((float(fields[1]), float(fields[2]), float(fields[3])))
            except ValueError:
                raise MeshFileError(
                    f"{where}: vertex coordinates are not numbers: {line.strip()!r}"
                ) from None
        elif fields[0] == "f":
            corners = [_resolve_index(token, len(vertices), where) for token in fields[1:]]
            if len(corners) < 3:
                raise MeshFileError(f"{where}: a face needs at least 3 corners, got {len(corners)}")
            faces.extend((corners[0], corners[i], corners[i + 1]) for i in range(1, len(corners) - 1))
        # vt, vn, vp, l, p, o, g, s, usemtl, mtllib and unknown records carry nothing we keep.
    if not vertices:
        raise MeshFileError(f"{source}: no vertices ('v' lines) found")
    if not faces:
        raise MeshFileError(
            f"{source}: no faces ('f' lines) found; point clouds and line sets are not meshes"
        )
    return np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64)


def read_obj(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an OBJ file from disk (UTF-8, undecodable bytes replaced) with :func:`parse_obj`."""
    path = Path(path)
    return parse_obj(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
