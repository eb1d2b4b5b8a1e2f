"""End to end: `lamina train experiment=mesh_tiny` shrunk to seconds, then the CLI on its checkpoint."""

import pytest
from click.testing import CliRunner

TINY = [
    "experiment=mesh_tiny",
    "data.corpus_kwargs.num_dialogues=160",
    "data.corpus_kwargs.num_shapes=16",
    "data.corpus_kwargs.categories=[cube,pyramid]",
    "data.seq_len=96",
    "data.batch_size=2",
    "data.val_fraction=0.1",
    "data.vocab_size=300",
    "model.config.vocab_size=300",
    "model.config.hidden_size=32",
    "model.config.intermediate_size=64",
    "model.config.num_hidden_layers=1",
    "model.config.num_attention_heads=2",
    "model.config.num_key_value_heads=2",
    "model.warmup_steps=0",
    "trainer.max_steps=3",
    "trainer.val_check_interval=3",
    "trainer.limit_val_batches=1",
    "trainer.enable_progress_bar=false",
    "callbacks.mesh_eval.categories=[cube,pyramid]",
    "callbacks.mesh_eval.shapes_per_category=1",
    "callbacks.mesh_eval.understanding_per_category=1",
    "callbacks.mesh_eval.text_tasks=2",
    "callbacks.mesh_eval.max_new_tokens=24",
]


@pytest.mark.slow
def test_tiny_training_run_evaluates_and_serves_the_cli(tmp_path):
    from lamina.tasks import run_train
    from lamina.testing import compose_train_config
    from lamina_llama_mesh.cli import mesh

    cfg = compose_train_config(TINY, tmp_path / "run")
    metrics = run_train(cfg)
    for key in ("mesh/validity", "mesh/completion", "mesh/understanding", "text/accuracy"):
        assert 0.0 <= metrics[key] <= 1.0, key
    run = tmp_path / "run"
    assert (run / "media" / "mesh_preview_final.png").is_file()
    assert (run / "tables" / "mesh_samples_final.md").is_file()
    assert (run / "mesh_eval_final.json").is_file()
    checkpoint = run / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()

    runner = CliRunner()
    (tmp_path / "cube.obj").write_text(
        "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"
    )
    described = runner.invoke(
        mesh, ["describe", str(tmp_path / "cube.obj"), "-c", str(checkpoint), "--max-new-tokens", "4"]
    )
    assert described.exit_code == 0, described.output
    generated = runner.invoke(
        mesh,
        [
            "generate",
            "a cube",
            "-o",
            str(tmp_path / "g.obj"),
            "-c",
            str(checkpoint),
            "--max-new-tokens",
            "16",
            "--temperature",
            "0",
        ],
    )
    # three steps of training cannot draw a cube: either a (possibly invalid) mesh or the documented refusal
    assert generated.exit_code == 0 or "no usable face" in generated.output, generated.output
    exported = runner.invoke(mesh, ["export", "-c", str(checkpoint), "-o", str(tmp_path / "hf")])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "hf" / "config.json").is_file() and (tmp_path / "hf" / "tokenizer.json").is_file()
