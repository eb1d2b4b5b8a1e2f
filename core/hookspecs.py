"""The hooks a Lamina plugin can implement. These docstrings are the plugin author's reference.

A plugin is any module (or object) with functions decorated ``@lamina.hookimpl`` whose names match the specs
below, exposed through an entry point in the ``lamina`` group of its distribution's ``pyproject.toml``::

    [project.entry-points.lamina]
    mesh = "lamina_llama_mesh.plugin"

Keep plugin modules cheap to import: register *dotted paths* (``"pkg.module:Class"``), not imported objects,
so listing commands never import torch. Registration hooks receive a ``register`` callback (as in simonw/llm);
call it once per component. The core attributes each entry to the calling plugin and refuses a name that two
plugins register.
"""

from __future__ import annotations

from typing import Any, Protocol

import pluggy

from lamina import PROJECT_NAME

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


class Register(Protocol):
    """The callback passed to every ``register_*`` hook."""

    def __call__(
        self,
        name: str,
        target: str | Any,
        *,
        description: str,
        paper: str | None = None,
        **extra: Any,
    ) -> None:
        """Register ``target`` (a ``"module:attr"`` path, or the object itself) under ``name``.

        ``description`` is one line for ``lamina models``/``lamina datasets``; ``paper`` names the paper
        (``"Cut Cross-Entropy (arXiv:2411.09009)"``). Extra keyword arguments are kept as metadata.
        """


@hookspec
def register_models(register: Register) -> None:
    """Register model classes/factories (usually ``LightningModule`` subclasses).

    Hydra configs build them by name: ``_target_: lamina.registry.build_model`` with ``name: <registered>``,
    or point ``_target_`` at the class directly. ``lamina models`` lists them.
    """


@hookspec
def register_datasets(register: Register) -> None:
    """Register ``LightningDataModule`` classes/factories (on Hugging Face ``datasets`` where the data are tabular
    or text). Built with ``_target_: lamina.registry.build_datamodule`` and ``name: <registered>``."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register metrics (``torchmetrics.Metric`` subclasses or plain functions) by name."""


@hookspec
def register_callbacks(register: Register) -> None:
    """Register Lightning ``Callback`` classes by name (usable from ``callbacks/*.yaml``)."""


@hookspec
def config_search_path() -> str | list[str] | None:
    """Return Hydra search-path entries holding this plugin's config groups, e.g. ``"pkg://lamina_cce.conf"``.

    The folder behaves like ``conf/``: ``model/``, ``data/``, ``experiment/``... Its options appear beside the
    core's, so ``lamina train experiment=cce_tiny`` works once the plugin is installed (editable or wheel: ship
    the YAML files as package data). Prefix option names with the plugin's name to avoid clashes.
    """


@hookspec(historic=True)
def register_configs(config_store: Any) -> None:
    """Store structured configs in Hydra's ``ConfigStore`` (called once, before any config is composed)."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add subcommands to the ``lamina`` command: ``cli`` is a ``click.Group``.

    Import heavy modules inside the command function, not at module level, so ``lamina --help`` stays fast.
    """
