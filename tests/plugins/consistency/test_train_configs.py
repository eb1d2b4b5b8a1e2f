"""The plugin's Hydra experiments run through the real `lamina train` path: teacher, then both students from
the teacher's Lightning checkpoint, with sample panels written by the core tracking helper."""

from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow  # three tiny Lightning runs, ~15 s on a busy 2-core machine


@pytest.fixture(scope="module")
def teacher_checkpoint(tmp_path_factory) -> Path:
    from lamina.tasks import run_train
    from lamina.testing import compose_train_config

    out = tmp_path_factory.mktemp("teacher")
    cfg = compose_train_config(
        [
            "experiment=consistency_teacher_mixture",
            "trainer.max_steps=6",
            "trainer.val_check_interval=3",
            "trainer.limit_val_batches=1",
            "data.num_train=1024",
            "data.num_val=256",
        ],
        out,
    )
    run_train(cfg)
    checkpoint = out / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    assert (out / "media" / "samples_teacher.png").is_file()
    return checkpoint


def test_teacher_lightning_checkpoint_loads_weights_only(teacher_checkpoint):
    from lamina_consistency.teacher import load_teacher

    teacher = load_teacher(teacher_checkpoint)
    state = torch.load(teacher_checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    torch.testing.assert_close(teacher.state_dict()["net.input.weight"], state["net.input.weight"])


@pytest.mark.parametrize("method", ["cd", "direct"])
def test_student_experiment_trains_from_teacher_checkpoint(method, teacher_checkpoint, tmp_path):
    from lamina.tasks import run_train
    from lamina.testing import compose_train_config

    cfg = compose_train_config(
        [
            f"experiment=consistency_{method}_mixture",
            f"model.teacher_checkpoint={teacher_checkpoint}",
            "model.num_ode_steps=20",
            "trainer.max_steps=4",
            "trainer.val_check_interval=2",
            "data.num_train=512",
            "data.num_val=64",
        ],
        tmp_path,
    )
    metrics = run_train(cfg)
    assert "val/ode_error" in metrics and torch.isfinite(torch.tensor(float(metrics["val/ode_error"])))
    assert (tmp_path / "media" / f"samples_{method}.png").is_file()


def test_student_without_teacher_checkpoint_says_how_to_get_one(tmp_path):
    from lamina_consistency.students import ConsistencyDistillation

    with pytest.raises(FileNotFoundError, match="experiment=consistency_teacher"):
        ConsistencyDistillation(teacher_checkpoint=str(tmp_path / "missing.ckpt"))
    with pytest.raises(ValueError, match="model.teacher_checkpoint"):
        ConsistencyDistillation()


def test_every_plugin_config_composes():
    import lamina_consistency
    from lamina.testing import compose_train_config

    conf = Path(lamina_consistency.__file__).parent / "conf"
    for experiment in sorted((conf / "experiment").glob("*.yaml")):
        overrides = [f"experiment={experiment.stem}"]
        if "teacher" not in experiment.stem:
            overrides.append("model.teacher_checkpoint=/nonexistent.ckpt")
        cfg = compose_train_config(overrides)
        assert cfg.model.name.startswith("consistency_") and cfg.data.name.startswith("consistency_")
