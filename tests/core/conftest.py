from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import lamina.plugins
from lamina.plugins import reset_plugin_manager

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fake_entry_points(monkeypatch):
    """Replace installed entry points with fixture plugins; restore the real plugin manager afterwards."""
    monkeypatch.syspath_prepend(str(FIXTURES))

    def install(**plugins: str) -> None:
        points = [EntryPoint(name=name, value=value, group="lamina") for name, value in plugins.items()]
        monkeypatch.setattr(lamina.plugins, "entry_points", lambda group: points)
        reset_plugin_manager()

    yield install
    reset_plugin_manager()
