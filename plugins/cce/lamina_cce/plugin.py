"""Lamina hooks for the Cut Cross-Entropy plugin. Imports nothing heavy: components are dotted paths."""

from __future__ import annotations

from typing import Any

from lamina import hookimpl

PAPER = "Cut Cross-Entropy (arXiv:2411.09009)"


@hookimpl
def register_datasets(register: Any) -> None:
    register(
        "cce_python_docs",
        "lamina_cce.data:python_docs_datamodule",
        paper=PAPER,
        description="Python stdlib docstrings + language reference (offline, ~2 MB), BPE-tokenised and packed.",
    )


@hookimpl
def config_search_path() -> str:
    return "pkg://lamina_cce.conf"


@hookimpl
def register_commands(cli: Any) -> None:
    from lamina_cce.commands import cce

    cli.add_command(cce)
