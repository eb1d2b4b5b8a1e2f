"""The plugin's hooks, configs and CLI: registrations resolve, configs compose, commands work on files."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from lamina_llama_mesh import plugin
from lamina_llama_mesh.chat_generation import ChatReply
from lamina_llama_mesh.cli import mesh
from lamina_llama_mesh.obj_text import mesh_to_text, parse_mesh_text
from lamina_llama_mesh.procedural import generate_captioned_meshes


def collect(hook):
    entries = []
    hook(register=lambda name, target, **meta: entries.append((name, target, meta)))
    return entries


def test_registrations_resolve_to_importable_objects():
    import importlib

    for hook in (
        plugin.register_models,
        plugin.register_datasets,
        plugin.register_metrics,
        plugin.register_callbacks,
    ):
        for name, target, meta in collect(hook):
            module, _, attribute = target.partition(":")
            assert callable(getattr(importlib.import_module(module), attribute)), name
            assert meta["paper"].startswith("LLaMA-Mesh") and meta["description"]
    assert plugin.config_search_path() == "pkg://lamina_llama_mesh.conf"


def test_plugin_module_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, lamina_llama_mesh.plugin; print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )


def test_experiment_configs_compose(tmp_path):
    from lamina.testing import compose_train_config

    cfg = compose_train_config(["experiment=mesh_tiny"], tmp_path / "tiny")
    assert cfg.model.name == "mesh_llama" and cfg.data.name == "mesh_sft"
    assert list(cfg.data.corpus_kwargs.mix) == [0.4, 0.2, 0.4]
    assert cfg.model.config.vocab_size >= cfg.data.vocab_size
    assert "mesh_eval" in cfg.callbacks
    assert cfg.model.pretrained_path is None and cfg.data.tokenizer_path is None  # settable without `+`
    tuned = compose_train_config(
        ["experiment=mesh_tiny", "model.pretrained_path=/runs/m", "data.tokenizer_path=/runs/m"],
        tmp_path / "tuned",
    )
    assert tuned.model.pretrained_path == tuned.data.tokenizer_path == "/runs/m"

    paper = compose_train_config(
        ["experiment=mesh_llama31_8b", "model.pretrained_path=/models/llama"], tmp_path / "paper"
    )
    assert paper.model.lr == 1e-5 and paper.model.warmup_steps == 30
    assert paper.data.seq_len == 8192 and paper.data.tokenizer_path == "/models/llama"
    assert paper.trainer.devices * paper.data.batch_size * paper.trainer.accumulate_grad_batches == 128

    base = compose_train_config(["experiment=mesh_text_base"], tmp_path / "base")
    assert list(base.data.corpus_kwargs.mix) == [0, 0, 1] and base.data.tokenizer_path is None
    assert base.model.get("pretrained_path") is None and "mesh_eval" in base.callbacks

    for mix in ([0.4, 0.2, 0.4], [0.4, 0.2, 0]):
        stage2 = compose_train_config(
            [
                "experiment=mesh_tiny_from_text",
                "model.pretrained_path=/runs/text_model",
                f"data.corpus_kwargs.mix=[{','.join(map(str, mix))}]",
            ],
            tmp_path / f"stage2_{mix[2]}",
        )
        assert stage2.model.pretrained_path == "/runs/text_model"
        assert stage2.data.tokenizer_path == "/runs/text_model"  # no new vocabulary
        assert list(stage2.data.corpus_kwargs.mix) == mix
        assert stage2.callbacks.mesh_eval.text_tasks == base.callbacks.mesh_eval.text_tasks
        assert stage2.seed == base.seed  # the same held-out text tasks before and after


def test_datamodule_factory_refuses_conflicting_keys():
    from lamina_llama_mesh.datamodule import mesh_chat_datamodule

    with pytest.raises(ValueError, match="sets `format` itself"):
        mesh_chat_datamodule(format="text")


@pytest.fixture()
def cube_text():
    return mesh_to_text(generate_captioned_meshes(1, categories=["cube"], rotations=(0,))[0].mesh)


def test_generate_writes_obj_preview_and_glb(tmp_path, monkeypatch, cube_text):
    import lamina_llama_mesh.chat_generation as chat_generation
    import lamina_llama_mesh.cli as cli

    seen = {}

    def fake_replies(model, tokenizer, conversations, **kwargs):
        seen["prompt"] = conversations[0][0]["content"]
        return [ChatReply(cube_text, True, 100)]

    monkeypatch.setattr(cli, "_load_model", lambda *args: (None, None))
    monkeypatch.setattr(chat_generation, "chat_replies", fake_replies)
    out = tmp_path / "cube.obj"
    result = CliRunner().invoke(
        mesh,
        [
            "generate",
            "a cube",
            "-o",
            str(out),
            "--model-dir",
            str(tmp_path),
            "--preview",
            str(tmp_path / "cube.png"),
            "--glb",
            str(tmp_path / "c.glb"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert seen["prompt"] == "Create a 3D model of a cube."
    assert parse_mesh_text(out.read_text()).mesh.num_faces == 12
    assert (tmp_path / "cube.png").stat().st_size > 1000 and (tmp_path / "c.glb").is_file()


def test_generate_reports_unusable_output(tmp_path, monkeypatch):
    import lamina_llama_mesh.chat_generation as chat_generation
    import lamina_llama_mesh.cli as cli

    monkeypatch.setattr(cli, "_load_model", lambda *args: (None, None))
    monkeypatch.setattr(chat_generation, "chat_replies", lambda *a, **k: [ChatReply("v 1 2", False, 5)])
    result = CliRunner().invoke(
        mesh, ["generate", "a cube", "-o", str(tmp_path / "x.obj"), "--model-dir", str(tmp_path)]
    )
    assert result.exit_code != 0 and "no usable face" in result.output
    assert not (tmp_path / "x.obj").exists()


def test_model_source_is_required(tmp_path, cube_text):
    (tmp_path / "cube.obj").write_text(cube_text)
    result = CliRunner().invoke(mesh, ["describe", str(tmp_path / "cube.obj")])
    assert result.exit_code != 0 and "exactly one of --checkpoint" in result.output


def test_import_and_preview_commands(tmp_path, cube_text):
    folder = tmp_path / "meshes"
    folder.mkdir()
    (folder / "cube.obj").write_text(cube_text.replace("f ", "f  "))
    (folder / "bad.obj").write_text("v 0 0 0\nf 1 2 3\n")
    (tmp_path / "captions.csv").write_text("file,caption\ncube.obj,a cube\n")
    out = tmp_path / "meshes.jsonl"
    result = CliRunner().invoke(
        mesh, ["import", str(folder), "--captions", str(tmp_path / "captions.csv"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "bad.obj" in result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 1 and records[0]["caption"] == "a cube" and records[0]["faces"] == 12
    assert records[0]["obj"] == cube_text  # already canonical: importing it again changes nothing

    result = CliRunner().invoke(mesh, ["preview", str(folder / "cube.obj"), "-o", str(tmp_path / "p.png")])
    assert result.exit_code == 0 and (tmp_path / "p.png").is_file()


def test_eval_shapes_differ_from_training_shapes():
    from lamina_llama_mesh.evaluation import EVAL_SEED_OFFSET
    from lamina_llama_mesh.procedural import sample_shape

    train = sample_shape("box", np.random.default_rng(0))
    held_out = sample_shape("box", np.random.default_rng(EVAL_SEED_OFFSET))
    assert not np.allclose(train.vertices, held_out.vertices)
