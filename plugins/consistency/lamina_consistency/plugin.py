"""Lamina hooks for the consistency-models plugin. Registers dotted paths only: importing this is instant."""

from __future__ import annotations

from typing import Any

from lamina import hookimpl

PAPER = "Inconsistencies in Consistency Models (arXiv:2411.08954)"


@hookimpl
def register_models(register: Any) -> None:
    register(
        "consistency_teacher",
        "lamina_consistency.teacher:DiffusionTeacher",
        description="Epsilon-prediction diffusion teacher (DDPM 1000 steps, CFG in Imagen form).",
        paper=PAPER,
    )
    register(
        "consistency_cd",
        "lamina_consistency.students:ConsistencyDistillation",
        description="Consistency distillation student (one teacher step + stop-gradient target).",
        paper=PAPER,
    )
    register(
        "consistency_direct",
        "lamina_consistency.students:DirectConsistencyModel",
        description="Direct consistency model student (regresses onto the teacher's full ODE solution).",
        paper=PAPER,
    )


@hookimpl
def register_datasets(register: Any) -> None:
    register(
        "consistency_mixture",
        "lamina_consistency.data.datamodules:MixtureDataModule",
        description="2-D Gaussian mixtures with exact densities (ring8, grid25).",
        paper=PAPER,
    )
    register(
        "consistency_digits",
        "lamina_consistency.data.datamodules:DigitsDataModule",
        description="scikit-learn's bundled real 8x8 digits in [-1, 1], with labels.",
        paper=PAPER,
    )
    register(
        "consistency_shapes",
        "lamina_consistency.data.datamodules:ShapesDataModule",
        description="Procedural 16x16 shapes in five classes, for class-conditional teachers with CFG.",
        paper=PAPER,
    )


@hookimpl
def config_search_path() -> str:
    return "pkg://lamina_consistency.conf"


@hookimpl
def register_commands(cli: Any) -> None:
    from lamina_consistency.cli import consistency_group

    cli.add_command(consistency_group)
