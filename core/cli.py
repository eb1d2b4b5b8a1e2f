"""The ``lamina`` command. Listing commands never import torch; ``train``/``eval`` hand over to the Hydra apps.

``lamina train`` runs ``lamina.train`` with :mod:`runpy` as ``__main__`` instead of calling it, so Lightning's
DDP launcher re-runs exactly ``python -m lamina.train <overrides>`` in each child process.
"""

from __future__ import annotations

import json
import runpy
import sys
from typing import Any

import click

from lamina import __version__

PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _run_hydra_app(module: str, args: tuple[str, ...]) -> None:
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


class LaminaGroup(click.Group):
    """Adds plugin subcommands (``register_commands`` hook) lazily, the first time commands are listed or run."""

    _plugins_added = False

    def _add_plugin_commands(self) -> None:
        if self._plugins_added:
            return
        self._plugins_added = True
        from lamina.plugins import get_plugin_manager

        # a plugin whose hook raises is recorded (shown by `lamina plugins`) and skipped
        get_plugin_manager().call_each("register_commands", cli=self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None:
            self._add_plugin_commands()
            command = super().get_command(ctx, name)
        return command


@click.group(cls=LaminaGroup)
@click.version_option(__version__, prog_name="lamina")
def cli() -> None:
    """Lamina: train models from papers with one Hydra override.

    \b
    lamina train                          the default experiment
    lamina train experiment=NAME          a named experiment (core or plugin)
    lamina train model=X data=Y trainer=ddp_cpu logger=[csv,tensorboard]
    lamina ls [GROUP]                     what you can choose, and who provides it
    """


@cli.command(context_settings=PASS_THROUGH)
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def train(overrides: tuple[str, ...]) -> None:
    """Train: lamina train [-m] [KEY=VALUE ...] (Hydra overrides; `lamina train --help` shows Hydra's help)."""
    _run_hydra_app("lamina.train", overrides)


@cli.command(name="eval", context_settings=PASS_THROUGH)
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def eval_command(overrides: tuple[str, ...]) -> None:
    """Evaluate a checkpoint: lamina eval ckpt_path=PATH [model=... data=...]."""
    _run_hydra_app("lamina.eval", overrides)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """Installed plugins: distribution, version, hooks, what each registers, load errors."""
    from lamina.hydra_search import plugin_config_sources
    from lamina.plugins import get_plugin_manager
    from lamina.registry import KINDS, get_registry

    manager = get_plugin_manager()
    registered: dict[str, dict[str, list[str]]] = {}
    registry_errors: list[str] = []
    for kind in KINDS:
        try:
            for entry in get_registry(kind):
                registered.setdefault(entry.plugin, {}).setdefault(kind, []).append(entry.name)
        except KeyError as exc:  # a duplicate name: show it rather than crash the listing
            registry_errors.append(str(exc))
    configs: dict[str, list[str]] = {}
    for source in plugin_config_sources():
        configs.setdefault(source.plugin, []).append(source.path)
    rows = []
    for info in manager.infos.values():
        rows.append(
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "module": info.module,
                "hooks": info.hooks,
                "registers": registered.get(info.name, {}),
                "config_search_path": configs.get(info.name, []),
                "error": info.error,
            }
        )
    if as_json:
        click.echo(
            json.dumps(
                rows if not registry_errors else {"plugins": rows, "errors": registry_errors}, indent=2
            )
        )
        return
    for row in rows:
        status = click.style("FAILED", fg="red") if row["error"] else click.style("ok", fg="green")
        click.echo(f"{row['name']}  [{status}]  {row['distribution'] or '-'} {row['version'] or ''}")
        if row["error"]:
            click.echo(f"    error: {row['error']}")
            continue
        click.echo(f"    hooks: {', '.join(row['hooks'])}")
        for kind, names in row["registers"].items():
            click.echo(f"    {kind}: {', '.join(names)}")
        for path in row["config_search_path"]:
            click.echo(f"    configs: {path}")
    for error in registry_errors:
        click.echo(click.style(f"error: {error}", fg="red"))


def _list_registry(kind: str, as_json: bool) -> None:
    from lamina.registry import get_registry

    entries = list(get_registry(kind))
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": e.name,
                        "plugin": e.plugin,
                        "paper": e.paper,
                        "description": e.description,
                        "target": e.target_path,
                    }
                    for e in entries
                ],
                indent=2,
            )
        )
        return
    for e in entries:
        paper = f" [{e.paper}]" if e.paper else ""
        click.echo(f"{e.name:<26} {e.plugin:<14} {e.description}{paper}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def models(as_json: bool) -> None:
    """Registered models: name, plugin, description, paper."""
    _list_registry("models", as_json)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def datasets(as_json: bool) -> None:
    """Registered datasets (LightningDataModules): name, plugin, description, paper."""
    _list_registry("datasets", as_json)


@cli.command(name="ls")
@click.argument("group", required=False)
def ls_command(group: str | None) -> None:
    """Config groups and their options, with the plugin providing each: lamina ls [GROUP]."""
    from lamina.config_listing import list_config_options

    options = list_config_options()
    if group is not None and group not in options:
        raise click.UsageError(f"unknown config group {group!r}; groups: {', '.join(sorted(options))}")
    for name in [group] if group else sorted(options):
        click.echo(f"{name}:")
        for option, provider in sorted(options[name].items()):
            click.echo(f"  {option:<30} ({provider})")


@cli.command(name="cat", context_settings=PASS_THROUGH)
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def cat_command(overrides: tuple[str, ...]) -> None:
    """Print the composed training config for OVERRIDES (nothing runs): lamina cat experiment=X."""
    from omegaconf import OmegaConf

    from lamina.testing import compose_config

    cfg = compose_config("train", list(overrides), resolve_runtime=False)
    click.echo(OmegaConf.to_yaml(cfg))


@cli.command(name="new-plugin")
@click.argument("name")
@click.option(
    "--directory",
    "-d",
    default=".",
    type=click.Path(file_okay=False),
    help="Where to create the plugin folder (default: here).",
)
def new_plugin(name: str, directory: str) -> None:
    """Scaffold a plugin distribution lamina-NAME that installs with pip and trains at once."""
    from lamina.scaffold import create_plugin

    path = create_plugin(name, directory)
    click.echo(
        f"Created {path}\n\nNext:\n  pip install {path}\n  lamina train model={name} data={name} "
        f"logger=csv trainer.max_epochs=1"
    )


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="lamina")


if __name__ == "__main__":
    main()
