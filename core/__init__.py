"""Lamina: a plugin-based ML training platform (PyTorch Lightning + Hydra + pluggy).

Plugin authors need only :data:`hookimpl`::

    from lamina import hookimpl

    @hookimpl
    def register_models(register):
        register("my_model", "my_pkg.model:MyModel", description="...", paper="arXiv:...")

This module stays import-light (no torch) so that ``lamina plugins`` and ``--help`` are instant.
"""

import pluggy

__version__ = "0.1.0"

PROJECT_NAME = "lamina"
ENTRY_POINT_GROUP = "lamina"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["ENTRY_POINT_GROUP", "PROJECT_NAME", "__version__", "hookimpl"]
