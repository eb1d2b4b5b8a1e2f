"""Configs compose and instantiate; bad input gets messages that say what to do."""

import subprocess
import sys

import pytest
from click.testing import CliRunner
from hydra.errors import ConfigCompositionException
from hydra.utils import instantiate

from lamina.cli import cli
from lamina.config_listing import list_config_options
from lamina.testing import compose_config, compose_train_config


def test_every_core_group_is_listed():
    options = list_config_options()
    assert {"cpu", "gpu", "ddp", "ddp_cpu", "fsdp"} <= set(options["trainer"])
    assert {"wandb", "tensorboard", "mlflow", "csv"} <= set(options["logger"])
    assert {"fast_dev_run", "overfit", "limit"} <= set(options["debug"])
    assert {"local", "slurm", "submitit_local"} <= set(options["hydra/launcher"])
    assert "digits_optuna" in options["hparams_search"]
    assert options["model"]["digits_mlp"] == "builtin"


@pytest.mark.parametrize("logger", ["csv", "tensorboard", "mlflow", "wandb"])
def test_each_logger_instantiates(logger, tmp_path):
    cfg = compose_train_config([f"logger={logger}"], tmp_path)
    for node in cfg.logger.values():
        instantiate(node)


@pytest.mark.parametrize("trainer", ["cpu", "ddp_cpu", "gpu", "ddp", "fsdp"])
def test_each_trainer_config_composes(trainer, tmp_path):
    cfg = compose_train_config([f"trainer={trainer}"], tmp_path)
    assert cfg.trainer._target_ == "lightning.pytorch.Trainer"


def test_eval_config_requires_checkpoint(tmp_path):
    cfg = compose_config("eval", ["ckpt_path=/x.ckpt"], tmp_path)
    assert cfg.ckpt_path == "/x.ckpt"


def test_unknown_option_lists_available_ones():
    with pytest.raises(ConfigCompositionException) as error:
        compose_config("train", ["trainer=tpu"], resolve_runtime=False)
    assert "Could not find 'trainer/tpu'" in str(error.value)
    assert "ddp_cpu" in str(error.value)


def test_unknown_model_name_message_through_the_command(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "lamina.train", "model.name=resnet9000", "logger=csv", "extras.print_config=false",
         f"hydra.run.dir={tmp_path}"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode != 0
    assert "unknown model 'resnet9000'" in out.stderr and "digits_mlp" in out.stderr and "(plugin: builtin)" in out.stderr


def test_missing_checkpoint_names_the_path(tmp_path):
    from lamina.tasks import resolve_checkpoint

    cfg = compose_train_config([], tmp_path)
    with pytest.raises(FileNotFoundError, match="nope.ckpt"):
        resolve_checkpoint(str(tmp_path / "nope.ckpt"), cfg)
    with pytest.raises(FileNotFoundError, match="ckpt_path=last"):
        resolve_checkpoint("last", cfg)


def test_missing_data_path_names_path_and_key(tmp_path):
    from lamina.data import require_path

    with pytest.raises(FileNotFoundError) as error:
        require_path(tmp_path / "mimic", "data.mimic_dir", "a MIMIC-III folder")
    assert str(tmp_path / "mimic") in str(error.value) and "data.mimic_dir=" in str(error.value)


def test_cat_and_ls_commands():
    runner = CliRunner()
    result = runner.invoke(cli, ["cat", "experiment=digits", "trainer.max_epochs=7"])
    assert result.exit_code == 0, result.output
    assert "max_epochs: 7" in result.output and "task_name: digits" in result.output
    result = runner.invoke(cli, ["ls", "trainer"])
    assert "ddp_cpu" in result.output and "(builtin)" in result.output
    result = runner.invoke(cli, ["ls", "nonsense"])
    assert result.exit_code != 0 and "unknown config group 'nonsense'" in result.output


def test_secrets_are_redacted_before_logging():
    from lamina.tasks import redact_secrets

    assert redact_secrets({"api_key": "abc", "nested": {"hf_token": "t", "lr": 1}}) == {
        "api_key": "***", "nested": {"hf_token": "***", "lr": 1}
    }
