"""The plugin's hooks and its `lamina train` experiment compose with the core configs."""

from __future__ import annotations

import pytest
from hydra.utils import instantiate

from lamina.plugins import PluginManager
from lamina.testing import compose_train_config
from lamina_clinicalbench import plugin
from lamina_clinicalbench.cohort_file import build_cohort_file
from lamina_clinicalbench.synthetic import write_synthetic_mimic


def test_hooks_register_metrics_and_configs():
    manager = PluginManager()
    manager.register_plugin(plugin, "clinicalbench")
    assert manager.hook.config_search_path() == ["pkg://lamina_clinicalbench.conf"]
    names = []
    manager.hook.register_metrics(register=lambda name, target, **kw: names.append((name, target)))
    assert ("clinicalbench_macro_f1", "lamina_clinicalbench.metrics:macro_f1") in names


@pytest.mark.slow  # imports the core LM data stack (datasets, transformers)
def test_finetune_experiment_composes_and_builds_its_datamodule(tmp_path):
    folder = write_synthetic_mimic(tmp_path / "syn", n_patients=300, seed=1)
    build_cohort_file(folder, tmp_path / "cohort.json", "mimic3")
    cfg = compose_train_config(
        [
            "experiment=clinicalbench_finetune_tiny",
            f"data.corpus_kwargs.cohort_file={tmp_path / 'cohort.json'}",
        ],
        tmp_path / "out",
    )
    assert cfg.data.format == "chat" and cfg.model._target_ == "lamina.lm.module.CausalLM"
    assert cfg.trainer.max_steps == 200
    data = instantiate(cfg.data)
    assert data.hparams.corpus_kwargs["task"] == "mortality"
