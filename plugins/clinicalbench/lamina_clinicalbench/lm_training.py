"""Language models trained here, all through the core ``lamina.lm.CausalLM`` (fused CCE loss) and
``lamina.lm.TextDataModule``; this module only supplies corpora and settings.

- The *base* model is a small Llama trained from scratch on the cohort's visit descriptions as plain text, with
  no outcomes in it: the stand-in for a general model that has read clinical records but was never told outcomes.
  It is what zero-shot, in-context, chain-of-thought and self-reflection prompting run on.
- The *fine-tuned* model continues the base model on one task's balanced training split as chats (zero-shot
  prompt -> answer), with the loss on the answer only, like the paper's instruction tuning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamina_clinicalbench.cohort_file import read_cohort_file
from lamina_clinicalbench.prompts import PromptSettings, describe_visit, training_text
from lamina_clinicalbench.splits import split_task


@dataclass
class LanguageModelSettings:
    """Size and schedule of the language models trained here (CPU-sized by default)."""

    hidden_size: int = 128
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 256
    vocab_size: int = 1024
    seq_len: int = 512
    batch_size: int = 8
    base_steps: int = 300
    finetune_steps: int = 100
    lr: float = 1e-3
    finetune_lr: float = 3e-4
    loss_impl: str = "cce"
    extra_config: dict[str, Any] = field(default_factory=dict)


def visit_text_corpus(cohort_file: str) -> list[dict[str, str]]:
    """Unlabelled visit descriptions (no outcome in them) for the base model."""
    cohort = read_cohort_file(cohort_file)
    return [{"text": describe_visit(s, cohort.titles)} for s in cohort.samples]


def task_chat_corpus(cohort_file: str, task: str, seed: int) -> list[dict[str, Any]]:
    """Prompt -> answer chats of the task's balanced training split for ``seed``."""
    cohort = read_cohort_file(cohort_file)
    split = split_task(cohort.samples, task, seed)
    return [{"messages": training_text(s, task, cohort.titles, PromptSettings())} for s in split.train]


def _trainer(max_steps: int, root: Path):
    from lightning import pytorch as pl

    return pl.Trainer(
        max_steps=max_steps,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        default_root_dir=str(root),
    )


def _save(model: Any, tokenizer: Any, directory: Path) -> Path:
    """Save model + tokenizer atomically (a half-written folder must never look like a finished model)."""
    import os
    import shutil
    import tempfile

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return directory


def train_base_model(
    cohort_file: str, out_dir: str | Path, settings: LanguageModelSettings, seed: int = 0
) -> Path:
    """Train (or reuse) the base model for ``cohort_file``; returns its ``save_pretrained`` folder."""
    from lightning import pytorch as pl

    from lamina.lm import CausalLM, TextDataModule

    out_dir = Path(out_dir)
    if (out_dir / "config.json").is_file():
        return out_dir
    pl.seed_everything(seed, verbose=False)
    data = TextDataModule(
        corpus="lamina_clinicalbench.lm_training:visit_text_corpus",
        corpus_kwargs={"cohort_file": str(cohort_file)},
        format="text",
        vocab_size=settings.vocab_size,
        seq_len=settings.seq_len,
        batch_size=settings.batch_size,
        cache_dir=str(out_dir.parent / "lm_cache"),
        seed=seed,
    )
    data.prepare_data()
    data.setup("fit")
    config = {
        "vocab_size": len(data.tokenizer),
        "hidden_size": settings.hidden_size,
        "num_hidden_layers": settings.num_hidden_layers,
        "num_attention_heads": settings.num_attention_heads,
        "num_key_value_heads": settings.num_attention_heads,
        "intermediate_size": settings.intermediate_size,
        "max_position_embeddings": 2 * settings.seq_len,
        "pad_token_id": data.tokenizer.pad_token_id,
        "bos_token_id": data.tokenizer.bos_token_id,
        "eos_token_id": data.tokenizer.eos_token_id,
        **settings.extra_config,
    }
    model = CausalLM(
        family="llama",
        config=config,
        lr=settings.lr,
        loss_impl=settings.loss_impl,
        warmup_steps=settings.base_steps // 10,
    )
    _trainer(settings.base_steps, out_dir.parent).fit(model, datamodule=data)
    return _save(model.hf_model, data.tokenizer, out_dir)


def finetune_model(
    base_dir: str | Path,
    cohort_file: str,
    task: str,
    seed: int,
    out_dir: str | Path,
    settings: LanguageModelSettings,
) -> Path:
    """Continue the base model on one task's training chats (answer-only loss); returns the saved folder."""
    from lightning import pytorch as pl

    from lamina.lm import CausalLM, TextDataModule

    out_dir = Path(out_dir)
    if (out_dir / "config.json").is_file():
        return out_dir
    pl.seed_everything(seed, verbose=False)
    data = TextDataModule(
        corpus="lamina_clinicalbench.lm_training:task_chat_corpus",
        corpus_kwargs={"cohort_file": str(cohort_file), "task": task, "seed": seed},
        format="chat",
        tokenizer_path=str(base_dir),
        seq_len=settings.seq_len,
        batch_size=settings.batch_size,
        cache_dir=str(out_dir.parent / "lm_cache"),
        seed=seed,
    )
    model = CausalLM(
        pretrained_path=str(base_dir),
        lr=settings.finetune_lr,
        loss_impl=settings.loss_impl,
        warmup_steps=settings.finetune_steps // 10,
    )
    _trainer(settings.finetune_steps, out_dir.parent).fit(model, datamodule=data)
    return _save(model.hf_model, data.tokenizer, out_dir)
