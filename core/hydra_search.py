"""Hydra search path: the core's ``conf/`` plus every loaded plugin's config groups.

Registered as a Hydra ``SearchPathPlugin`` before any config is composed (``@hydra.main`` or ``compose``), so an
installed plugin's ``model/``, ``data/`` and ``experiment/`` options appear beside the core's with nothing copied.
"""

from __future__ import annotations

from dataclasses import dataclass

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.plugins import Plugins
from hydra.plugins.search_path_plugin import SearchPathPlugin

CORE_CONFIG_PATH = "pkg://lamina.conf"


@dataclass(frozen=True)
class ConfigSource:
    """One search-path entry and the plugin that contributes it."""

    plugin: str
    path: str


def plugin_config_sources() -> list[ConfigSource]:
    """Search-path entries returned by the loaded plugins' ``config_search_path`` hooks."""
    from lamina.plugins import get_plugin_manager

    sources: list[ConfigSource] = []
    for plugin, result in get_plugin_manager().call_each("config_search_path"):
        for path in [result] if isinstance(result, str) else (result or []):
            sources.append(ConfigSource(plugin, path))
    return sources


def all_config_sources() -> list[ConfigSource]:
    """The core's configs first, then the plugins' (the order Hydra searches them)."""
    return [ConfigSource("builtin", CORE_CONFIG_PATH), *plugin_config_sources()]


class LaminaSearchPathPlugin(SearchPathPlugin):
    """Appends the plugins' config folders to Hydra's search path."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        for source in plugin_config_sources():
            search_path.append(provider=f"lamina-plugin:{source.plugin}", path=source.path)


def register_search_path() -> None:
    """Make Hydra call :class:`LaminaSearchPathPlugin` (idempotent), and let plugins fill the ConfigStore."""
    plugins = Plugins.instance()
    if LaminaSearchPathPlugin not in plugins.plugin_type_to_subclass_list.get(SearchPathPlugin, []):
        plugins.register(LaminaSearchPathPlugin)
    _register_structured_configs()


_configs_registered = False


def _register_structured_configs() -> None:
    global _configs_registered
    if _configs_registered:
        return
    from hydra.core.config_store import ConfigStore

    from lamina.plugins import get_plugin_manager

    get_plugin_manager().hook.register_configs.call_historic(kwargs={"config_store": ConfigStore.instance()})
    _configs_registered = True
