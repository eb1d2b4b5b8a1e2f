"""``lamina new-plugin``: the scaffold installs as a wheel (not editable) and trains at once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lamina.cli import cli
from lamina.scaffold import create_plugin

LAMINA = str(Path(sys.executable).parent / "lamina")


def test_bad_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="lowercase"):
        create_plugin("My-Plugin", tmp_path)
    create_plugin("demo", tmp_path)
    with pytest.raises(FileExistsError):
        create_plugin("demo", tmp_path)


@pytest.mark.slow
def test_new_plugin_wheel_install_trains(tmp_path):
    result = CliRunner().invoke(cli, ["new-plugin", "demo", "--directory", str(tmp_path)])
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                              "--target", str(site), str(tmp_path / "demo")], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    assert list(site.glob("lamina_demo/conf/model/demo.yaml")), "configs must ship as package data"
    env = {**os.environ, "PYTHONPATH": str(site)}

    listed = subprocess.run([LAMINA, "models"], capture_output=True, text=True, env=env)
    assert any(line.startswith("demo ") for line in listed.stdout.splitlines()), listed.stdout + listed.stderr

    run = subprocess.run([LAMINA, "train", "model=demo", "logger=csv", "trainer.max_epochs=1", "test=false",
                          "extras.print_config=false", f"hydra.run.dir={tmp_path / 'run'}"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()

    own_tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                str(tmp_path / "demo" / "tests")], capture_output=True, text=True, env=env,
                               cwd=tmp_path, timeout=300)
    assert own_tests.returncode == 0, own_tests.stdout[-3000:]
