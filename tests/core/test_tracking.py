"""Images and tables reach the run folder and every active logger that can show them."""

import numpy as np
import pytest
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from lamina.testing import compose_config
from lamina.tracking import log_image, log_table, wandb_should_run_offline


class FakeTrainer:
    def __init__(self, root, loggers):
        self.default_root_dir = str(root)
        self.loggers = loggers
        self.global_step = 3


def test_log_image_and_table_write_files_and_tensorboard_events(tmp_path):
    tensorboard = TensorBoardLogger(save_dir=str(tmp_path / "tb"), name="", version="")
    trainer = FakeTrainer(tmp_path, [tensorboard, CSVLogger(str(tmp_path))])
    png = log_image(trainer, "samples/grid", np.random.default_rng(0).random((16, 16, 3)))
    table = log_table(trainer, "results", [{"model": "a", "acc": 0.91234}, {"model": "b", "acc": 0.5}])
    tensorboard.experiment.flush()
    assert png.name == "samples_grid.png" and png.stat().st_size > 0
    assert "| a | 0.9123 |" in table.read_text()
    assert (tmp_path / "tables" / "results.csv").read_text().startswith("model,acc")
    events = list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 100
    with pytest.raises(ValueError, match="no rows"):
        log_table(trainer, "empty", [])


def test_wandb_goes_offline_without_credentials(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert wandb_should_run_offline()
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert not wandb_should_run_offline()
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert wandb_should_run_offline()


def test_optuna_sweep_config_composes():
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    compose_config("train", [], resolve_runtime=False)  # registers the search path and resolvers
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="lamina.conf", version_base="1.3"):
        cfg = compose("train", ["hparams_search=digits_optuna"], return_hydra_config=True)
    assert cfg.optimized_metric == "val/acc"
    assert cfg.hydra.sweeper._target_.endswith("OptunaSweeper")
    assert set(cfg.hydra.sweeper.params) == {"model.lr", "model.hidden_dim", "model.dropout", "data.batch_size"}
