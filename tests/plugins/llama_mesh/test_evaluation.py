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
    assert (tmp_path / "eval" / "mesh_preview.png").is_file() and (
        tmp_path / "eval" / "mesh_samples.md"
    ).is_file()
