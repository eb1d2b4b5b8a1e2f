"""PNG previews of meshes (matplotlib, no GPU or display needed) and GLB export for 3D viewers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lamina_llama_mesh.quantize import QuantizedMesh

_LIGHT = np.array([0.4, 0.8, 0.45]) / np.linalg.norm([0.4, 0.8, 0.45])


def _draw(axis, mesh: QuantizedMesh, title: str) -> None:
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    axis.set_axis_off()
    axis.set_title(title, fontsize=8)
    if mesh.num_faces == 0:
        axis.text2D(0.5, 0.5, "no faces", ha="center", transform=axis.transAxes)
        return
    vertices = mesh.dequantized()
    # Y is up in the data; matplotlib's 3D axes are Z-up, so draw (x, -z, y).
    shown = np.stack([vertices[:, 0], -vertices[:, 2], vertices[:, 1]], axis=1)
    triangles = shown[mesh.faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    light = np.array([_LIGHT[0], -_LIGHT[2], _LIGHT[1]])
    shade = 0.35 + 0.65 * np.abs(normals @ light)
    colors = np.clip(shade[:, None] * np.array([0.45, 0.62, 0.85]), 0, 1)
    axis.add_collection3d(
        Poly3DCollection(triangles, facecolors=colors, edgecolors=(0.1, 0.1, 0.1, 0.4), linewidths=0.3)
    )
    axis.set_xlim(-0.5, 0.5)
    axis.set_ylim(-0.5, 0.5)
    axis.set_zlim(-0.5, 0.5)
    axis.set_box_aspect((1, 1, 1))
    axis.view_init(elev=22, azim=-55)


def render_grid(
    meshes: Sequence[QuantizedMesh],
    titles: Sequence[str] | None = None,
    *,
    columns: int = 4,
    cell_inches: float = 2.2,
):
    """A matplotlib figure with one shaded 3D view per mesh (titles under each, e.g. the prompt)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if not meshes:
        raise ValueError("render_grid needs at least one mesh")
    titles = list(titles) if titles is not None else [""] * len(meshes)
    columns = max(1, min(columns, len(meshes)))
    rows = (len(meshes) + columns - 1) // columns
    figure = plt.figure(figsize=(columns * cell_inches, rows * cell_inches))
    for index, (mesh, title) in enumerate(zip(meshes, titles, strict=True)):
        _draw(figure.add_subplot(rows, columns, index + 1, projection="3d"), mesh, title)
    figure.tight_layout()
    return figure


def save_preview(
    meshes: Sequence[QuantizedMesh], path: str | Path, titles: Sequence[str] | None = None, **kwargs
) -> Path:
    """Render :func:`render_grid` to a PNG at ``path`` (written to a temporary name, then renamed)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = render_grid(meshes, titles, **kwargs)
    partial = path.with_name(path.name + ".partial.png")
    figure.savefig(partial, dpi=100)
    plt.close(figure)
    partial.replace(path)
    return path


def save_glb(mesh: QuantizedMesh, path: str | Path) -> Path:
    """Write a binary glTF of the mesh (unit frame, Y up) for 3D viewers."""
    import trimesh

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.glb")
    trimesh.Trimesh(mesh.dequantized(), mesh.faces, process=False).export(partial)
    partial.replace(path)
    return path
