"""Name -> component registries filled by the plugins' ``register_*`` hooks.

Each entry remembers which plugin registered it, so errors and listings can say where a name comes from. Targets
are imported only when built, so listing stays cheap.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

KINDS = ("models", "datasets", "metrics", "callbacks")


class RegistryError(KeyError):
    """An unknown or duplicate registry name. ``str()`` is the full, user-facing message."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:  # Hydra shows repr() of errors raised while instantiating: keep it readable
        return f"{type(self).__name__}: {self}"


@dataclass(frozen=True)
class Entry:
    """One registered component."""

    name: str
    target: Any
    plugin: str
    description: str
    paper: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def target_path(self) -> str:
        if isinstance(self.target, str):
            return self.target
        return f"{self.target.__module__}:{self.target.__qualname__}"

    def load(self) -> Any:
        """Import and return the registered object."""
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attribute = self.target.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split(".") if attribute else []:
            obj = getattr(obj, part)
        return obj


class Registry:
    """The entries of one kind (models, datasets, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.entries: dict[str, Entry] = {}

    def add(self, entry: Entry) -> None:
        existing = self.entries.get(entry.name)
        if existing is not None:
            raise RegistryError(
                f"{self.kind[:-1]} {entry.name!r} is registered by two plugins: {existing.plugin!r} "
                f"({existing.target_path}) and {entry.plugin!r} ({entry.target_path}). "
                f"Rename one, or disable a plugin with LAMINA_DISABLE_PLUGINS={entry.plugin}."
            )
        self.entries[entry.name] = entry

    def get(self, name: str) -> Entry:
        try:
            return self.entries[name]
        except KeyError:
            raise RegistryError(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        known = "\n".join(
            f"  {e.name:<28} (plugin: {e.plugin})"
            for e in sorted(self.entries.values(), key=lambda e: e.name)
        )
        close = difflib.get_close_matches(name, list(self.entries), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return (
            f"unknown {self.kind[:-1]} {name!r}.{hint} Known {self.kind}:\n{known or '  (none)'}\n"
            f"Install the plugin that provides it, or run `lamina {self.kind}` to list them."
        )

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def __iter__(self):
        return iter(sorted(self.entries.values(), key=lambda e: e.name))


def _collect(kind: str) -> Registry:
    from lamina.plugins import get_plugin_manager

    manager = get_plugin_manager()
    registry = Registry(kind)
    for impl in getattr(manager.hook, f"register_{kind}").get_hookimpls():
        entries: list[Entry] = []

        def register(
            name: str,
            target: Any,
            *,
            description: str,
            paper: str | None = None,
            _plugin: str = impl.plugin_name,
            _entries: list[Entry] = entries,
            **extra: Any,
        ) -> None:
            _entries.append(Entry(name, target, _plugin, description, paper, extra))

        # call_each isolates a plugin whose hook raises; duplicates across plugins are still an error
        _call_one(manager, impl, register)
        for entry in entries:
            registry.add(entry)
    return registry


def _call_one(manager: Any, impl: Any, register: Any) -> None:
    import traceback

    from lamina.plugins import PluginInfo, _strict

    try:
        impl.function(register=register)
    except RegistryError:
        raise
    except Exception as exc:
        if _strict():
            raise
        info = manager.infos.setdefault(impl.plugin_name, PluginInfo(name=impl.plugin_name))
        info.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()


@cache
def get_registry(kind: str) -> Registry:
    """The registry of ``kind`` (one of :data:`KINDS`), collected from all loaded plugins once."""
    if kind not in KINDS:
        raise ValueError(f"unknown registry kind {kind!r}; expected one of {KINDS}")
    return _collect(kind)


def clear_cache() -> None:
    get_registry.cache_clear()


def _build(kind: str, name: str, kwargs: dict[str, Any]) -> Any:
    return get_registry(kind).get(name).load()(**kwargs)


def build_model(name: str, **kwargs: Any) -> Any:
    """Hydra target: ``_target_: lamina.registry.build_model`` + ``name:`` builds a registered model."""
    return _build("models", name, kwargs)


def build_datamodule(name: str, **kwargs: Any) -> Any:
    """Hydra target for a registered ``LightningDataModule``."""
    return _build("datasets", name, kwargs)


def build_callback(name: str, **kwargs: Any) -> Any:
    """Hydra target for a registered Lightning callback."""
    return _build("callbacks", name, kwargs)


def build_metric(name: str, **kwargs: Any) -> Any:
    """Hydra target for a registered metric."""
    return _build("metrics", name, kwargs)
