"""Finding and loading plugins: entry points of the ``lamina`` group, one at a time, with failures isolated.

Environment switches (documented in the README's "when a plugin breaks" section):

- ``LAMINA_LOAD_PLUGINS=a,b``: load only these entry points (an allow-list; ``""`` loads none but the built-in).
- ``LAMINA_DISABLE_PLUGINS=a,b``: skip these entry points.
- ``LAMINA_STRICT_PLUGINS=1``: a plugin that fails to import raises instead of being reported and skipped.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from lamina import ENTRY_POINT_GROUP, PROJECT_NAME, hookspecs

BUILTIN_NAME = "builtin"


class PluginLoadError(RuntimeError):
    """A plugin could not be imported or registered (raised only in strict mode)."""


@dataclass
class PluginInfo:
    """What ``lamina plugins`` reports about one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    hooks: list[str] = field(default_factory=list)
    error: str | None = None


def _env_list(variable: str) -> list[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def _strict() -> bool:
    return os.environ.get("LAMINA_STRICT_PLUGINS", "").lower() in {"1", "true", "yes"}


class PluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers each plugin's distribution and load error."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}

    def register_plugin(
        self, plugin: Any, name: str, *, distribution: str | None = None, version: str | None = None
    ) -> None:
        """Register one plugin object and check that every ``@hookimpl`` matches a hookspec."""
        self.register(plugin, name=name)
        try:
            self.check_pending()
        except pluggy.PluginValidationError:
            self.unregister(plugin)
            raise
        hooks = sorted(impl.name for impl in self.get_hookcallers(plugin) or [])
        self.infos[name] = PluginInfo(
            name=name,
            distribution=distribution,
            version=version,
            module=getattr(plugin, "__name__", type(plugin).__name__),
            hooks=hooks,
        )

    def load_entry_point(self, entry_point: EntryPoint) -> None:
        """Import and register one entry point; report (or, in strict mode, raise) what goes wrong."""
        dist = entry_point.dist
        dist_name = dist.metadata["Name"] if dist is not None else None
        version = dist.version if dist is not None else None
        try:
            module: ModuleType = entry_point.load()
            self.register_plugin(module, entry_point.name, distribution=dist_name, version=version)
        except Exception as exc:  # noqa: BLE001 - isolation is the point: one bad plugin must not break others
            if _strict():
                raise PluginLoadError(
                    f"plugin {entry_point.name!r} ({entry_point.value}) failed to load: {exc}"
                ) from exc
            self.infos[entry_point.name] = PluginInfo(
                name=entry_point.name,
                distribution=dist_name,
                version=version,
                module=entry_point.value,
                error="".join(traceback.format_exception_only(type(exc), exc)).strip(),
            )

    def load_installed(self) -> None:
        """Load every ``lamina`` entry point the environment switches allow, built-in first."""
        allow = _env_list("LAMINA_LOAD_PLUGINS")
        deny = set(_env_list("LAMINA_DISABLE_PLUGINS") or [])
        found = sorted(
            entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name != BUILTIN_NAME, ep.name)
        )
        if not any(ep.name == BUILTIN_NAME for ep in found):
            # Running from a source tree that is not installed: the built-in plugin is still part of the core.
            from lamina import builtin

            self.register_plugin(builtin, BUILTIN_NAME, distribution="lamina", version=_own_version())
        seen: set[str] = set()
        for entry_point in found:
            if entry_point.name in seen or self.has_plugin(entry_point.name):
                continue
            seen.add(entry_point.name)
            if entry_point.name != BUILTIN_NAME and (
                entry_point.name in deny or (allow is not None and entry_point.name not in allow)
            ):
                continue
            self.load_entry_point(entry_point)

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call one hook plugin by plugin, as ``[(plugin_name, result), ...]``.

        A plugin whose hook raises is reported in ``lamina plugins`` and skipped (raised in strict mode), so one
        broken plugin cannot take the command line down with it.
        """
        results = []
        for impl in getattr(self.hook, hook_name).get_hookimpls():
            try:
                results.append((impl.plugin_name, impl.function(**{k: kwargs[k] for k in impl.argnames})))
            except Exception as exc:
                if _strict():
                    raise
                info = self.infos.setdefault(impl.plugin_name, PluginInfo(name=impl.plugin_name))
                message = f"{hook_name}: " + "".join(traceback.format_exception_only(type(exc), exc)).strip()
                info.error = message if not info.error else f"{info.error}; {message}"
        return results

    def failed(self) -> list[PluginInfo]:
        return [info for info in self.infos.values() if info.error]


def _own_version() -> str:
    from lamina import __version__

    return __version__


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, loading installed plugins on first use."""
    global _manager
    if _manager is None:
        manager = PluginManager()
        manager.load_installed()
        _manager = manager
    return _manager


def reset_plugin_manager(manager: PluginManager | None = None) -> None:
    """Replace the process-wide manager (tests use this to register fixture plugins in-process)."""
    global _manager
    _manager = manager
    from lamina import registry

    registry.clear_cache()
