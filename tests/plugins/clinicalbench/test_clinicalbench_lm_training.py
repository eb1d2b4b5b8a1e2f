"""The language models trained here: base model on visit text, fine-tuning through lamina.lm.CausalLM, scoring."""

from __future__ import annotations

import pytest

from lamina_clinicalbench.cohort_file import build_cohort_file, read_cohort_file
from lamina_clinicalbench.lm_backends import HuggingFaceBackend
from lamina_clinicalbench.lm_eval import evaluate_language_model
from lamina_clinicalbench.lm_training import (
    LanguageModelSettings,
    finetune_model,
    task_chat_corpus,
    train_base_model,
)
from lamina_clinicalbench.splits import split_task
from lamina_clinicalbench.synthetic import write_synthetic_mimic

TINY = LanguageModelSettings(
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    intermediate_size=64,
    vocab_size=300,
    seq_len=128,
    batch_size=2,
    base_steps=3,
    finetune_steps=3,
    loss_impl="torch",
)


@pytest.mark.slow
def test_base_and_finetuned_models_train_save_and_score(tmp_path):
    folder = write_synthetic_mimic(tmp_path / "syn", n_patients=500, seed=2)
    cohort_path = folder / "cohort.json"
    build_cohort_file(folder, cohort_path, "mimic3", str(folder / "ndc_to_atc3_synthetic.csv"))
    chats = task_chat_corpus(str(cohort_path), "mortality", 3)
    assert {c["messages"][1]["content"] for c in chats} == {"0", "1"}  # balanced training answers

    base = train_base_model(str(cohort_path), tmp_path / "models" / "base", TINY)
    assert (base / "config.json").is_file() and (base / "tokenizer.json").is_file()
    assert train_base_model(str(cohort_path), base, TINY) == base  # reused, not retrained
    tuned = finetune_model(base, str(cohort_path), "mortality", 3, tmp_path / "models" / "ft", TINY)

    cohort = read_cohort_file(cohort_path)
    test = split_task(cohort.samples, "mortality", 3).test[:6]
    for directory, chat in ((base, False), (tuned, True)):
        result = evaluate_language_model(
            HuggingFaceBackend.from_directory(directory, chat=chat),
            test,
            "mortality",
            cohort.titles,
            "zero_shot",
        )
        assert 0.0 <= result["parseable"] <= 100.0 and result["n_test"] == 6
