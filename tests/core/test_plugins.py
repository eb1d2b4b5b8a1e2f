"""Plugin discovery: isolation of broken plugins, env switches, loud failures, duplicate names, listings."""

import json

import pluggy
import pytest
from click.testing import CliRunner

from lamina import hookimpl
from lamina.cli import cli
from lamina.plugins import PluginLoadError, PluginManager, get_plugin_manager
from lamina.registry import RegistryError, get_registry


def test_broken_plugin_is_reported_and_others_still_work(fake_entry_points):
    fake_entry_points(broken="broken_plugin", good="good_plugin")
    manager = get_plugin_manager()
    assert [info.name for info in manager.failed()] == ["broken"]
    assert "some_missing_dependency" in manager.infos["broken"].error
    models = get_registry("models")
    assert models.get("fixture_model").plugin == "good"
    assert models.get("digits_mlp").plugin == "builtin"


def test_strict_mode_raises_on_broken_plugin(fake_entry_points, monkeypatch):
    monkeypatch.setenv("LAMINA_STRICT_PLUGINS", "1")
    fake_entry_points(broken="broken_plugin")
    with pytest.raises(PluginLoadError, match="broken"):
        get_plugin_manager()


def test_disable_and_allow_list(fake_entry_points, monkeypatch):
    monkeypatch.setenv("LAMINA_DISABLE_PLUGINS", "broken")
    fake_entry_points(broken="broken_plugin", good="good_plugin")
    assert set(get_plugin_manager().infos) == {"builtin", "good"}

    monkeypatch.delenv("LAMINA_DISABLE_PLUGINS")
    monkeypatch.setenv("LAMINA_LOAD_PLUGINS", "")
    fake_entry_points(broken="broken_plugin", good="good_plugin")
    assert set(get_plugin_manager().infos) == {"builtin"}, "the built-in plugin is part of the core"


def test_misspelled_hook_fails_loudly():
    class Typo:
        @hookimpl
        def register_model(self, register):  # missing "s"
            pass

    manager = PluginManager()
    with pytest.raises(pluggy.PluginValidationError, match="register_model"):
        manager.register_plugin(Typo(), "typo")


def test_name_registered_twice_names_both_plugins(fake_entry_points):
    fake_entry_points(good="good_plugin")

    class Clash:
        @hookimpl
        def register_models(self, register):
            register("fixture_model", "x:Y", description="clash")

    get_plugin_manager().register_plugin(Clash(), "clash")
    with pytest.raises(RegistryError) as error:
        get_registry("models")
    assert "'good'" in str(error.value) and "'clash'" in str(error.value)


def test_unknown_name_lists_known_names_with_their_plugins(fake_entry_points):
    fake_entry_points(good="good_plugin")
    with pytest.raises(RegistryError) as error:
        get_registry("models").get("fixture_modle")
    message = str(error.value)
    assert "Did you mean 'fixture_model'" in message
    assert "digits_mlp" in message and "(plugin: builtin)" in message and "(plugin: good)" in message


def test_plugins_json_lists_registrations_and_errors(fake_entry_points):
    fake_entry_points(broken="broken_plugin", good="good_plugin")
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["builtin"]["registers"] == {
        "models": ["causal_lm", "digits_mlp"],
        "datasets": ["digits", "text"],
        "callbacks": ["lm_samples", "progress_log", "rng_state", "throughput"],
    }
    assert rows["good"]["registers"] == {"models": ["fixture_model"]}
    assert rows["good"]["hooks"] == ["register_models"]
    assert "some_missing_dependency" in rows["broken"]["error"]


def test_models_listing_shows_plugin_and_paper(fake_entry_points):
    fake_entry_points(good="good_plugin")
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if line.startswith("fixture_model"))
    assert "good" in line and "Fixture 2026" in line


def test_plugin_command_hook_failure_does_not_break_the_cli(fake_entry_points):
    fake_entry_points(good="good_plugin")

    class BadCommands:
        @hookimpl
        def register_commands(self, cli):
            raise RuntimeError("boom")

    get_plugin_manager().register_plugin(BadCommands(), "badcommands")
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "train" in result.output
    assert "boom" in get_plugin_manager().infos["badcommands"].error


def test_listing_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom lamina.cli import cli\n"
            "try:\n    cli.main(args=['plugins'], standalone_mode=False)\nfinally:\n"
            "    print('TORCH' if 'torch' in sys.modules else 'NO_TORCH')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("NO_TORCH"), "a plugin imports torch at import time: listing is slow"
