"""The CCE plugin end to end: its corpus is real text, its configs compose, and the tiny experiment trains."""

from __future__ import annotations

import pytest

from lamina_cce.corpus import module_docstrings, python_reference_corpus, stdlib_directory


def test_corpus_is_real_python_documentation() -> None:
    records = python_reference_corpus(include_docstrings=False)
    text = "\n".join(r["text"] for r in records)
    assert len(records) > 50 and len(text) > 100_000
    assert "for_stmt" in text or 'The "for" statement' in text


def test_module_docstrings_are_read_without_importing(tmp_path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(
        '"""Module doc."""\nraise SystemExit("never executed")\n'
        'class A:\n    """Class doc."""\n    def f(self):\n        """Method doc."""\n'
    )
    text = module_docstrings(tmp_path / "pkg" / "mod.py", tmp_path)
    assert text == "pkg.mod\n\nModule doc.\n\npkg.mod.A\n\nClass doc.\n\npkg.mod.A.f\n\nMethod doc."
    assert (stdlib_directory() / "os.py").is_file()


def test_corpus_needs_a_source() -> None:
    with pytest.raises(ValueError, match="at least one"):
        python_reference_corpus(include_docstrings=False, include_reference=False)


@pytest.mark.slow
def test_cce_tiny_experiment_trains_and_generates(tmp_path, capsys) -> None:
    from lamina.tasks import run_train
    from lamina.testing import compose_train_config

    cfg = compose_train_config(
        [
            "experiment=cce_tiny",
            "+data.corpus_kwargs={include_docstrings: false}",
            "data.vocab_size=300",
            "data.seq_len=32",
            "data.batch_size=4",
            "model.config.hidden_size=32",
            "model.config.intermediate_size=64",
            "model.config.num_hidden_layers=1",
            "trainer.max_steps=4",
            "trainer.val_check_interval=2",
            "trainer.limit_val_batches=2",
            "callbacks.lm_samples.max_new_tokens=5",
            "callbacks.lm_samples.prompts=[def ]",
        ],
        tmp_path,
    )
    metrics = run_train(cfg)
    assert metrics["train/loss"] > 0 and "val/loss" in metrics
    assert "[sample @ step 4] def" in capsys.readouterr().out
    assert (tmp_path / "tokenizer" / "tokenizer.json").is_file()  # the tokenizer is saved with the run

    from lamina_cce.ablation import run_ablation

    rows = run_ablation(tmp_path, tokens=256, repeats=1)
    assert [r["filter_eps"] for r in rows] == ["fp32 auto (eps/32)", "bf16 auto (2^-12)", "off (exact)"]
    assert rows[2]["skipped entries (chunked, measured)"] == 0.0
    assert rows[1]["skipped entries (chunked, measured)"] >= rows[0]["skipped entries (chunked, measured)"]
