"""The SFT corpus the core ``TextDataModule`` reads (``corpus: lamina_llama_mesh.corpus:mesh_sft_corpus``).

It assembles the paper's data recipe from the pieces in this package: captioned meshes (procedural, and/or the
user's own folder plus captions file), the four rotations, the face limit, and dialogues mixed text-to-mesh /
mesh-to-text / general 40 / 20 / 40. Records are ``{"messages": [...], "kind": ...}``; the core tokenises them
with the Llama-3 chat template and masks the loss to assistant turns.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from lamina_llama_mesh.dialogues import PAPER_MIX, build_dialogues
from lamina_llama_mesh.general_text import generate_text_tasks, read_chat_file
from lamina_llama_mesh.mesh_import import import_mesh_folder
from lamina_llama_mesh.obj_text import DEFAULT_AXIS_ORDER
from lamina_llama_mesh.procedural import (
    ROTATIONS,
    CaptionedMesh,
    ShapeSample,
    generate_captioned_meshes,
    rotated_meshes,
)

log = logging.getLogger(__name__)


def user_meshes(
    mesh_folder: str,
    captions_file: str,
    *,
    rotations: Sequence[int] = ROTATIONS,
    max_faces: int = 500,
    allow_decimation: bool = True,
) -> list[CaptionedMesh]:
    """The user's captioned meshes, each under every rotation; files without a caption are skipped (reported).

    Rotations are applied to the imported (already quantised) mesh, which is then quantised again; the second
    rounding can move a vertex by one level, which is small next to the first quantisation.
    """
    report = import_mesh_folder(
        mesh_folder,
        captions_file=captions_file,
        max_faces=max_faces,
        allow_decimation=allow_decimation,
        require_caption=True,
    )
    if report.skipped:
        log.warning(report.summary())
    else:
        log.info(report.summary())
    items: list[CaptionedMesh] = []
    for imported in report.imported:
        vertices = imported.mesh.dequantized()
        sample = ShapeSample("user", imported.caption or "", vertices, imported.mesh.faces)
        items += [item for item in rotated_meshes(sample, rotations) if 0 < item.mesh.num_faces <= max_faces]
    if not items:
        raise ValueError(f"no usable captioned meshes in {mesh_folder}; see the skipped files listed above")
    return items


def mesh_sft_corpus(
    num_dialogues: int = 2000,
    num_shapes: int = 200,
    categories: Sequence[str] | None = None,
    rotations: Sequence[int] = ROTATIONS,
    mix: Sequence[float] = PAPER_MIX,
    num_general: int = 2000,
    general_chat_file: str | None = None,
    mesh_folder: str | None = None,
    captions_file: str | None = None,
    include_procedural: bool = True,
    max_faces: int = 500,
    axis_order: str = DEFAULT_AXIS_ORDER,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """``num_dialogues`` chat records in the ``mix`` proportions.

    Meshes: ``num_shapes`` procedural shapes of ``categories`` (all by default) x ``rotations``, plus the
    user's ``mesh_folder`` with ``captions_file`` when given. General chat: ``general_chat_file`` (JSON Lines
    of messages) when given, else ``num_general`` procedural text tasks. Deterministic for a ``seed``.
    """
    meshes: list[CaptionedMesh] = []
    if include_procedural:
        meshes += generate_captioned_meshes(
            num_shapes, seed=seed, categories=categories, rotations=rotations, max_faces=max_faces
        )
    if mesh_folder is not None:
        if captions_file is None:
            raise ValueError(
                "mesh_folder needs captions_file (CSV 'file,caption' or JSON Lines) to make dialogues"
            )
        meshes += user_meshes(mesh_folder, captions_file, rotations=rotations, max_faces=max_faces)
    general = (
        read_chat_file(general_chat_file)
        if general_chat_file
        else [task.messages() for task in generate_text_tasks(num_general, seed=seed)]
    )
    dialogues = build_dialogues(meshes, general, num_dialogues, mix=mix, seed=seed, axis_order=axis_order)
    return [{"messages": messages, "kind": kind} for kind, messages in dialogues]
