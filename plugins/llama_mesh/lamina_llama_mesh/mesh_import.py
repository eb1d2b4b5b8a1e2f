"""Import a user's folder of meshes (OBJ, GLB/GLTF, PLY, STL, OFF) into captioned, quantised meshes.

Every file goes through the same steps: read -> triangulate -> optionally decimate to ``max_faces`` ->
quantise/canonicalise -> keep only meshes with 1..max_faces faces. A file that cannot be read or does not survive
the filter is recorded in :class:`ImportReport` with the reason and skipped; one bad file never stops the run.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lamina_llama_mesh.decimate import decimate
from lamina_llama_mesh.obj_reader import MeshFileError, read_obj
from lamina_llama_mesh.quantize import QuantizedMesh, quantize_mesh

log = logging.getLogger(__name__)

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply", ".stl", ".off")
MAX_FACES = 500


def load_mesh_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Float positions (V, 3) and triangle faces (F, 3) of one file; scenes are flattened with their transforms."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".obj":
        return read_obj(path)
    if suffix not in MESH_SUFFIXES:
        raise MeshFileError(
            f"{path}: unsupported extension {suffix!r}; expected one of {', '.join(MESH_SUFFIXES)}"
        )
    import trimesh

    try:
        loaded = trimesh.load(str(path), force="mesh", process=False)
    except Exception as error:  # trimesh raises many exception types for broken files
        raise MeshFileError(f"{path}: could not be read ({type(error).__name__}: {error})") from error
    faces = np.asarray(getattr(loaded, "faces", np.zeros((0, 3))), dtype=np.int64)
    vertices = np.asarray(getattr(loaded, "vertices", np.zeros((0, 3))), dtype=np.float64)
    if len(vertices) == 0 or len(faces) == 0:
        raise MeshFileError(f"{path}: contains no triangle faces (a point cloud, lines or an empty scene)")
    return vertices, faces


def mesh_from_arrays(
    vertices: np.ndarray, faces: np.ndarray, *, max_faces: int = MAX_FACES, allow_decimation: bool = True
) -> QuantizedMesh:
    """Decimate (when allowed and needed), quantise and check the face limit; ``ValueError`` says why not."""
    if allow_decimation and len(faces) > max_faces:
        vertices, faces = decimate(vertices, faces, max_faces)
    mesh = quantize_mesh(vertices, faces)
    if mesh.num_faces == 0:
        raise ValueError("no faces left after quantisation (the mesh collapses on the 64-level grid)")
    if mesh.num_faces > max_faces:
        hint = "" if allow_decimation else "; enable decimation to keep it"
        raise ValueError(f"{mesh.num_faces} faces after quantisation, above the limit of {max_faces}{hint}")
    return mesh


@dataclass(frozen=True)
class ImportedMesh:
    """One imported file: its path, canonical mesh, and caption (``None`` without a captions file entry)."""

    path: Path
    mesh: QuantizedMesh
    caption: str | None = None


@dataclass
class ImportReport:
    """Which files were imported and which were skipped, with the reason for each."""

    imported: list[ImportedMesh] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"imported {len(self.imported)} meshes, skipped {len(self.skipped)}"]
        lines += [f"  skipped {path}: {reason}" for path, reason in self.skipped]
        return "\n".join(lines)


def read_captions(path: str | Path) -> dict[str, str]:
    """Captions keyed by file name (relative to the mesh folder, or the bare name).

    Accepted formats: CSV with a header containing ``file`` and ``caption`` columns, or JSON Lines with
    ``{"file": ..., "caption": ...}`` objects.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    rows: list[dict[str, str]]
    if path.suffix.lower() in (".jsonl", ".json"):
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not a JSON object per line ({error})") from None
    else:
        rows = list(csv.DictReader(text.splitlines()))
    captions: dict[str, str] = {}
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or "file" not in row or "caption" not in row:
            raise ValueError(
                f"{path}: record {number} lacks 'file' and 'caption'; write a CSV header 'file,caption' "
                'or JSON Lines like {"file": "chair.obj", "caption": "a wooden chair"}'
            )
        captions[str(row["file"]).strip()] = str(row["caption"]).strip()
    return captions


def iter_mesh_files(folder: str | Path) -> Iterator[Path]:
    """Mesh files under ``folder`` (recursively), in sorted order so imports are reproducible."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"mesh folder {folder} does not exist or is not a directory")
    yield from sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in MESH_SUFFIXES)


def import_mesh_folder(
    folder: str | Path,
    *,
    captions_file: str | Path | None = None,
    max_faces: int = MAX_FACES,
    allow_decimation: bool = True,
    require_caption: bool = False,
) -> ImportReport:
    """Import every mesh file in ``folder``; broken or oversized files go to ``report.skipped``."""
    folder = Path(folder)
    captions = read_captions(captions_file) if captions_file else {}
    report = ImportReport()
    for path in iter_mesh_files(folder):
        relative = path.relative_to(folder).as_posix()
        caption = captions.get(relative, captions.get(path.name))
        if require_caption and caption is None:
            report.skipped.append((path, f"no caption for {relative!r} in {captions_file}"))
            continue
        try:
            mesh = mesh_from_arrays(
                *load_mesh_file(path), max_faces=max_faces, allow_decimation=allow_decimation
            )
        except Exception as error:  # a malformed file of any kind is reported, never fatal for the folder
            reason = (
                str(error)
                if isinstance(error, (MeshFileError, ValueError))
                else f"{type(error).__name__}: {error}"
            )
            report.skipped.append((path, reason))
            log.warning("skipping %s: %s", path, error)
            continue
        report.imported.append(ImportedMesh(path=path, mesh=mesh, caption=caption))
    return report
