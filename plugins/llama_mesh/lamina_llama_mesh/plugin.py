"""Lamina hooks for LLaMA-Mesh. Imports nothing heavy: components are registered as dotted paths."""

from __future__ import annotations

from typing import Any

from lamina import hookimpl

PAPER = "LLaMA-Mesh (arXiv:2411.09595)"


@hookimpl
def register_models(register: Any) -> None:
    register(
        "mesh_llama",
        "lamina.lm.module:CausalLM",
        paper=PAPER,
        description="A Llama-architecture causal LM (core CausalLM, CCE loss) trained on OBJ-text dialogues.",
    )


@hookimpl
def register_datasets(register: Any) -> None:
    register(
        "mesh_sft",
        "lamina_llama_mesh.datamodule:mesh_chat_datamodule",
        paper=PAPER,
        description="Captioned meshes (procedural and/or your folder) as Llama-3 chats, 40/20/40 mix.",
    )


@hookimpl
def register_metrics(register: Any) -> None:
    register(
        "mesh_validity",
        "lamina_llama_mesh.metrics:validity_rate",
        paper=PAPER,
        description="Share of generated OBJ texts that parse into a mesh with no issue.",
    )
    register(
        "mesh_completion",
        "lamina_llama_mesh.metrics:completion_rate",
        paper=PAPER,
        description="Share of generated OBJ texts that were not truncated.",
    )
    register(
        "mesh_chamfer",
        "lamina_llama_mesh.metrics:mesh_chamfer_distance",
        paper=PAPER,
        description="Chamfer distance between two quantised meshes (unit frame, best of 4 rotations).",
    )
    register(
        "mesh_understanding",
        "lamina_llama_mesh.metrics:understanding_accuracy",
        paper=PAPER,
        description="Share of mesh descriptions naming the right object category.",
    )


@hookimpl
def register_callbacks(register: Any) -> None:
    register(
        "mesh_eval",
        "lamina_llama_mesh.callbacks:MeshEvaluationCallback",
        paper=PAPER,
        description="Held-out text-to-mesh / mesh-to-text / text evaluation with a preview grid.",
    )


@hookimpl
def config_search_path() -> str:
    return "pkg://lamina_llama_mesh.conf"


@hookimpl
def register_commands(cli: Any) -> None:
    from lamina_llama_mesh.cli import mesh

    cli.add_command(mesh)
