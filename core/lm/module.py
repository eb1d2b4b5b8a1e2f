"""``CausalLM``: the one LightningModule every Lamina language model trains with.

It wraps any Hugging Face ``*ForCausalLM`` (built from a config at small size, or loaded from a local directory)
and trains it with :func:`lamina.lm.loss.causal_lm_loss`: the trunk produces hidden states, and the fused
Cut Cross-Entropy kernel turns them into the loss without materialising ``tokens x vocabulary`` logits.
Generation still goes through the model's own ``generate`` (logits for one position at a time are cheap).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

from lamina.lm.build import build_from_config, load_pretrained
from lamina.lm.family import output_head, trunk
from lamina.lm.loss import IGNORE_INDEX, LOSS_IMPLS, causal_lm_loss
from lamina.lm.optim import adamw_warmup_cosine

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}


class CausalLM(pl.LightningModule):
    """A Hugging Face causal LM trained on the fused linear-cross-entropy loss.

    Args:
        family: a transformers ``model_type`` (``llama``, ``mistral``, ``qwen2``, ``gemma2``, ``phi3``, ``gpt2``...)
            to build from scratch with ``config``; ignored when ``pretrained_path`` is set.
        config: config overrides for ``family`` (``hidden_size``, ``num_hidden_layers``, ``vocab_size``...).
        pretrained_path: a local directory written by ``save_pretrained``; nothing is downloaded.
        loss_impl: ``cce`` (default), ``cce_exact``, ``torch``, ``torch_compile`` or ``torch_linear_ce``.
        lr, weight_decay, betas, warmup_steps, total_steps, min_lr_ratio: AdamW + warm-up + cosine.
            ``total_steps=None`` takes the trainer's estimate (``max_steps`` or epochs x batches).
        lora: ``None`` for full training, or ``peft.LoraConfig`` arguments (``{"r": 8, "lora_alpha": 16,
            "target_modules": ["q_proj", "v_proj"]}``) to train low-rank adapters only.
        gradient_checkpointing: recompute activations in backward to save memory.
        weights_dtype: parameter dtype (``float32``; ``bfloat16`` for large models). Mixed precision is the
            trainer's ``precision`` setting (``bf16-mixed`` on GPU).
    """

    def __init__(
        self,
        family: str | None = "llama",
        config: dict[str, Any] | None = None,
        pretrained_path: str | None = None,
        loss_impl: str = "cce",
        lr: float = 3e-4,
        weight_decay: float = 0.1,
        betas: tuple[float, float] = (0.9, 0.95),
        warmup_steps: int = 0,
        total_steps: int | None = None,
        min_lr_ratio: float = 0.1,
        lora: dict[str, Any] | None = None,
        gradient_checkpointing: bool = False,
        weights_dtype: str = "float32",
    ) -> None:
        super().__init__()
        if loss_impl not in LOSS_IMPLS:
            raise ValueError(f"unknown loss_impl {loss_impl!r}; choose one of {', '.join(LOSS_IMPLS)}.")
        if weights_dtype not in _DTYPES:
            raise ValueError(f"unknown weights_dtype {weights_dtype!r}; choose one of {', '.join(_DTYPES)}.")
        if pretrained_path is None and family is None:
            raise ValueError("CausalLM needs either `family` (+ `config`) or `pretrained_path`.")
        self.save_hyperparameters()
        dtype = _DTYPES[weights_dtype]
        config = dict(config or {})
        if pretrained_path is not None:
            model = load_pretrained(pretrained_path, dtype=dtype)
        else:
            model = build_from_config(family, config, dtype=dtype)
        if gradient_checkpointing:
            model.gradient_checkpointing_enable()
        self.model: nn.Module = self._with_lora(model, lora) if lora else model
        self.loss_impl = loss_impl

    @staticmethod
    def _with_lora(model: nn.Module, lora: dict[str, Any]) -> nn.Module:
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as exc:  # pragma: no cover - peft is in the lamina[lora] extra
            raise ImportError("`lora` needs peft: pip install 'lamina[lora]'") from exc
        targets = lora.get("target_modules") or []
        if any("lm_head" in str(name) for name in targets):
            raise ValueError(
                "LoRA on lm_head is not supported: the fused loss reads the head weight directly. "
                "Remove 'lm_head' from lora.target_modules."
            )
        return get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **lora))

    # ------------------------------------------------------------------ the model and its loss
    @property
    def hf_model(self) -> nn.Module:
        """The Hugging Face ``*ForCausalLM`` (under LoRA: the base model with adapters injected in place)."""
        get_base = getattr(self.model, "get_base_model", None)
        return get_base() if callable(get_base) else self.model

    @property
    def vocab_size(self) -> int:
        return int(output_head(self.hf_model).weight.shape[0])

    def hidden_states(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Final hidden states ``(B, T, D)``, after the last norm: what the output head would multiply."""
        return trunk(self.hf_model)(
            input_ids=input_ids, attention_mask=attention_mask, use_cache=False
        ).last_hidden_state

    def loss(self, batch: dict[str, torch.Tensor], impl: str | None = None) -> torch.Tensor:
        """Mean next-token loss of ``batch`` (``input_ids``, optional ``attention_mask`` and ``labels``)."""
        input_ids = batch["input_ids"]
        attention_mask = batch.get("attention_mask")
        labels = batch.get("labels")
        if labels is None:
            labels = (
                input_ids
                if attention_mask is None
                else input_ids.masked_fill(attention_mask == 0, IGNORE_INDEX)
            )
        hidden = self.hidden_states(input_ids, attention_mask)
        head = output_head(self.hf_model)
        return causal_lm_loss(
            hidden,
            head.weight,
            labels,
            impl=impl or self.loss_impl,
            bias=head.bias,
            logit_scale=head.logit_scale,
            softcap=head.softcap,
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> Any:
        """Plain Hugging Face forward (returns full logits): for inference and evaluation, not training."""
        return self.model(input_ids=input_ids, attention_mask=attention_mask)

    # ------------------------------------------------------------------ Lightning hooks
    def setup(self, stage: str) -> None:
        tokenizer = self._datamodule_tokenizer()
        if tokenizer is not None and len(tokenizer) > self.vocab_size:
            raise ValueError(
                f"the tokenizer has {len(tokenizer)} tokens but the model's vocabulary is {self.vocab_size}. "
                f"Set model.config.vocab_size >= {len(tokenizer)} (or train a smaller tokenizer)."
            )

    def _datamodule_tokenizer(self) -> Any:
        trainer = getattr(self, "_trainer", None)
        datamodule = getattr(trainer, "datamodule", None) if trainer is not None else None
        return getattr(datamodule, "tokenizer", None)

    @staticmethod
    def _count_target_tokens(batch: dict[str, torch.Tensor]) -> int:
        labels = batch.get("labels")
        if labels is not None:
            return int((labels[:, 1:] != IGNORE_INDEX).sum())
        mask = batch.get("attention_mask")
        return int(mask[:, 1:].sum()) if mask is not None else batch["input_ids"][:, 1:].numel()

    def count_tokens(self, batch: dict[str, torch.Tensor]) -> int:
        """Tokens that carry loss in ``batch``: the core ``ThroughputLogger`` turns this into tokens/s."""
        return self._count_target_tokens(batch)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["input_ids"].shape[0])
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._evaluate(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._evaluate(batch, "test")

    def _evaluate(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        loss = self.loss(batch)
        # Weight by target tokens so the epoch mean is the corpus-level mean loss (and exp() its perplexity).
        tokens = max(self._count_target_tokens(batch), 1)
        self.log(f"{stage}/loss", loss, prog_bar=True, batch_size=tokens, sync_dist=True)
        return loss

    def on_validation_epoch_end(self) -> None:
        self._log_perplexity("val")

    def on_test_epoch_end(self) -> None:
        self._log_perplexity("test")

    def _log_perplexity(self, stage: str) -> None:
        loss = self.trainer.callback_metrics.get(f"{stage}/loss")
        if loss is not None:
            self.log(f"{stage}/ppl", math.exp(min(float(loss), 50.0)), sync_dist=False)

    def configure_optimizers(self) -> Any:
        total = self.hparams.total_steps or int(self.trainer.estimated_stepping_batches)
        optimizer, scheduler = adamw_warmup_cosine(
            self.model,
            lr=self.hparams.lr,
            weight_decay=self.hparams.weight_decay,
            betas=tuple(self.hparams.betas),
            warmup_steps=self.hparams.warmup_steps,
            total_steps=max(total, 1),
            min_lr_ratio=self.hparams.min_lr_ratio,
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # ------------------------------------------------------------------ generation
    def generate(
        self,
        prompt: str,
        tokenizer: Any = None,
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.8,
        top_p: float = 0.95,
        stream: bool = False,
    ) -> str:
        """Continue ``prompt`` with the model's own ``generate``; ``stream=True`` prints tokens as they come."""
        from lamina.lm.generation import generate_text

        tokenizer = tokenizer or self._datamodule_tokenizer()
        if tokenizer is None:
            raise ValueError(
                "generate() needs a tokenizer: pass one, or attach a datamodule that has `.tokenizer`."
            )
        return generate_text(
            self.model,
            tokenizer,
            prompt,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            stream=stream,
        )

    def stream(self, prompt: str, tokenizer: Any, **kwargs: Any) -> Iterator[str]:
        """Yield the continuation of ``prompt`` chunk by chunk (``TextIteratorStreamer``)."""
        from lamina.lm.generation import stream_text

        return stream_text(self.model, tokenizer, prompt, **kwargs)
