"""The evaluation wiring: a model that answers perfectly scores perfectly, a broken one scores zero."""

import json

import pytest
from click.testing import CliRunner

import lamina_llama_mesh.evaluation as evaluation
from lamina_llama_mesh.chat_generation import ChatReply
from lamina_llama_mesh.general_text import generate_text_tasks
from lamina_llama_mesh.obj_text import mesh_to_text
from lamina_llama_mesh.procedural import generate_captioned_meshes

SEED = 7
CUBE = mesh_to_text(generate_captioned_meshes(1, categories=["cube"], rotations=(0,))[0].mesh)


def perfect_replies(model, tokenizer, conversations, **kwargs):
    answers = {t.question: t.reply for t in generate_text_tasks(50, seed=SEED + evaluation.EVAL_SEED_OFFSET)}
    replies = []
    for conversation in conversations:
        question = conversation[-1]["content"]
        if question.startswith("Create a 3D model"):
            replies.append(ChatReply(CUBE, True, 100))
        elif "3D object" in question:
            replies.append(ChatReply("This is a cube.", True, 5))
        else:
            replies.append(ChatReply(answers[question], True, 8))
    return replies


def broken_replies(model, tokenizer, conversations, **kwargs):
    return [ChatReply("v 1 2 3\nv 4 5", False, 512) for _ in conversations]


def test_perfect_model_scores_perfectly(monkeypatch):
    monkeypatch.setattr(evaluation, "chat_replies", perfect_replies)
    result = evaluation.evaluate_mesh_model(
        None,
        None,
        categories=["cube"],
        shapes_per_category=3,
        understanding_per_category=2,
        text_tasks=12,
        seed=SEED,
    )
    metrics = result.metrics
    assert metrics["mesh/validity"] == 1.0 and metrics["mesh/completion"] == 1.0
    assert metrics["mesh/chamfer"] < 0.04 and metrics["mesh/chamfer_count"] == 3
    assert metrics["mesh/chamfer"] == pytest.approx(metrics["mesh/chamfer_floor"], abs=0.01)
    assert metrics["mesh/understanding"] == 1.0 and metrics["text/accuracy"] == 1.0
    assert len(result.rows) == 3 and result.reasons == {}
    # every cube has the caption "a cube" and the same shape: the same-caption reference is the noise floor
    assert metrics["mesh/chamfer_same_caption"] == pytest.approx(metrics["mesh/chamfer_floor"], abs=0.01)
    kinds = {t.kind for t in generate_text_tasks(12, seed=SEED + evaluation.EVAL_SEED_OFFSET)}
    assert len(kinds) == 6 and all(metrics[f"text/accuracy_{kind}"] == 1.0 for kind in kinds)
    assert result.captions == ["a cube"] * 3
    assert len(result.text_rows) == 12 and all(
        r["correct"] and r["claimed"] == r["expected"] for r in result.text_rows
    )
    assert [r["predicted"] for r in result.understanding_rows] == ["cube", "cube"]


def test_same_caption_reference_shows_caption_ambiguity_without_moving_the_probes(monkeypatch):
    """The caption "a box" leaves the proportions open, so other boxes with that caption sit well above the noise floor;
    the reference draws use their own random stream, so the prompts and shown meshes are those of the seed."""
    import numpy as np

    from lamina_llama_mesh.procedural import rotated_meshes, sample_shape

    seen = []

    def record(model, tokenizer, conversations, **kwargs):
        seen.extend(c[-1]["content"] for c in conversations)
        return perfect_replies(model, tokenizer, conversations)

    monkeypatch.setattr(evaluation, "chat_replies", record)
    result = evaluation.evaluate_mesh_model(
        None,
        None,
        categories=["box"],
        shapes_per_category=4,
        understanding_per_category=2,
        text_tasks=0,
        seed=SEED,
    )
    metrics = result.metrics
    assert metrics["mesh/chamfer_same_caption"] > 2 * metrics["mesh/chamfer_floor"]
    rng = np.random.default_rng(SEED + evaluation.EVAL_SEED_OFFSET)
    expected = [rotated_meshes(sample_shape("box", rng), (0,))[0] for _ in range(6)]
    assert result.captions == [item.caption for item in expected[:4]]
    assert seen[:4] == [f"Create a 3D model of {item.caption}." for item in expected[:4]]
    assert [q.split("\n", 1)[1] for q in seen[4:]] == [mesh_to_text(item.mesh) for item in expected[4:]]


def test_callback_preview_titles_are_the_captions(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import lamina.tracking as tracking
    import lamina_llama_mesh.render as render
    from lamina_llama_mesh.callbacks import MeshEvaluationCallback

    titles = []

    def fake_grid(meshes, names, columns):
        import matplotlib.pyplot as plt

        titles.extend(names)
        return plt.figure()

    monkeypatch.setattr(evaluation, "chat_replies", perfect_replies)
    monkeypatch.setattr(render, "render_grid", fake_grid)
    monkeypatch.setattr(tracking, "log_image", lambda *args, **kwargs: None)
    monkeypatch.setattr(tracking, "log_table", lambda *args, **kwargs: None)
    trainer = SimpleNamespace(
        datamodule=SimpleNamespace(tokenizer=object()),
        is_global_zero=True,
        loggers=[],
        callback_metrics={},
        default_root_dir=str(tmp_path),
        global_step=5,
    )
    callback = MeshEvaluationCallback(categories=["cube"], shapes_per_category=2, text_tasks=6, seed=SEED)
    metrics = callback.evaluate(trainer, SimpleNamespace(hf_model=None), tag="final")
    assert titles == ["ok: a cube", "ok: a cube"]
    assert metrics["mesh/validity"] == 1.0 and "mesh/chamfer_same_caption" in trainer.callback_metrics
    record = json.loads((tmp_path / "mesh_eval_final.json").read_text())
    assert record["metrics"]["text/accuracy"] == 1.0
    assert len(record["text_samples"]) == 6 and len(record["understanding_samples"]) == 2


def test_broken_model_scores_zero_and_says_why(monkeypatch):
    monkeypatch.setattr(evaluation, "chat_replies", broken_replies)
    result = evaluation.evaluate_mesh_model(
        None,
        None,
        categories=["cube", "cone"],
        shapes_per_category=1,
        understanding_per_category=1,
        text_tasks=4,
        seed=SEED,
    )
    assert result.metrics["mesh/validity"] == 0.0 and result.metrics["mesh/completion"] == 0.0
    assert result.metrics["mesh/chamfer_count"] == 0
    assert result.metrics["mesh/understanding"] == 0.0 and result.metrics["text/accuracy"] == 0.0
    assert result.reasons == {"truncated": 2}
    assert [r["correct"] for r in result.text_rows] == [False] * 4
    assert all(r["predicted"] is None for r in result.understanding_rows)


def test_evaluate_command_writes_results(tmp_path, monkeypatch):
    import lamina_llama_mesh.cli as cli

    monkeypatch.setattr(evaluation, "chat_replies", perfect_replies)
    monkeypatch.setattr(cli, "_load_model", lambda *args: (None, None))
    result = CliRunner().invoke(
        cli.mesh,
        [
            "evaluate",
            "--model-dir",
            str(tmp_path),
            "-o",
            str(tmp_path / "eval"),
            "--categories",
            "cube",
            "--shapes-per-category",
            "2",
            "--text-tasks",
            "6",
            "--seed",
            str(SEED),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "mesh/validity: 1.0000" in result.output
    record = json.loads((tmp_path / "eval" / "mesh_eval.json").read_text())
    assert record["metrics"]["mesh/understanding"] == pytest.approx(1.0)
    assert len(record["text_samples"]) == 6 and record["text_samples"][0]["correct"]
    assert (tmp_path / "eval" / "mesh_preview.png").is_file() and (
        tmp_path / "eval" / "mesh_samples.md"
    ).is_file()
