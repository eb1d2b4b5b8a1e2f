"""``lamina ls``: every config group option on the search path, with the plugin that provides it."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable


def _walk(folder: Traversable, prefix: str, found: dict[str, dict[str, str]], provider: str) -> None:
    for item in folder.iterdir():
        if item.is_dir():
            if not item.name.startswith(("_", ".")):
                _walk(item, f"{prefix}{item.name}/", found, provider)
        elif item.name.endswith(".yaml") and prefix:
            found.setdefault(prefix.rstrip("/"), {}).setdefault(item.name[: -len(".yaml")], provider)


def list_config_options() -> dict[str, dict[str, str]]:
    """``{group: {option: provider}}`` for the core, the loaded plugins and Hydra's own structured configs."""
    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins

    from lamina.hydra_search import all_config_sources, register_search_path

    register_search_path()
    found: dict[str, dict[str, str]] = {}
    for source in all_config_sources():
        if not source.path.startswith("pkg://"):
            continue
        module = source.path[len("pkg://") :].replace("/", ".")
        try:
            root = resources.files(module)
        except ModuleNotFoundError:
            continue
        _walk(root, "", found, source.plugin)
    Plugins.instance()  # imports Hydra's plugins, which store their launcher/sweeper configs
    repo = ConfigStore.instance().repo
    for group in ("hydra/launcher", "hydra/sweeper"):
        node = repo
        for part in group.split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        for name in node if isinstance(node, dict) else {}:
            found.setdefault(group, {}).setdefault(name.removesuffix(".yaml"), "hydra")
    return found
