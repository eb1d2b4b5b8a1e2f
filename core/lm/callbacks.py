"""Callbacks for language models: print (and log) what the model writes, so a run shows its progress in words."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl


class SampleGeneration(pl.Callback):
    """Generate from fixed prompts at the end of training (and every ``every_n_steps`` if set).

    Samples are printed (streamed token by token at the end when ``stream`` is set) and saved as a table
    through ``lamina.tracking.log_table`` so they sit beside the run's metrics.
    """

    def __init__(
        self,
        prompts: list[str],
        max_new_tokens: int = 48,
        temperature: float = 0.7,
        top_p: float = 0.95,
        every_n_steps: int | None = None,
        stream: bool = True,
        seed: int = 0,
    ) -> None:
        if not prompts:
            raise ValueError("SampleGeneration needs at least one prompt.")
        self.prompts = list(prompts)
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.every_n_steps = every_n_steps
        self.stream = stream
        self.seed = seed
        self.samples: list[dict[str, Any]] = []

    def _tokenizer(self, trainer: pl.Trainer) -> Any:
        tokenizer = getattr(trainer.datamodule, "tokenizer", None) if trainer.datamodule is not None else None
        if tokenizer is None:
            raise RuntimeError(
                "SampleGeneration needs a datamodule with a `tokenizer` (e.g. lamina.lm.TextDataModule)."
            )
        return tokenizer

    def _generate(self, trainer: pl.Trainer, module: pl.LightningModule, stream: bool) -> None:
        import torch

        if not trainer.is_global_zero:
            return
        tokenizer = self._tokenizer(trainer)
        rows = []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            for prompt in self.prompts:
                if stream:
                    print(f"\n[sample @ step {trainer.global_step}] {prompt}", end="", flush=True)
                text = module.generate(
                    prompt,
                    tokenizer,
                    max_new_tokens=self.max_new_tokens,
                    temperature=self.temperature,
                    top_p=self.top_p,
                    stream=stream,
                )
                if not stream:
                    print(f"\n[sample @ step {trainer.global_step}] {prompt}{text}")
                rows.append({"step": trainer.global_step, "prompt": prompt, "completion": text})
        self.samples.extend(rows)
        try:
            from lamina.tracking import log_table

            log_table(trainer, "samples", self.samples)
        except ImportError:  # the tracking helpers are optional for this callback
            pass

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if self.every_n_steps and trainer.global_step % self.every_n_steps == 0:
            self._generate(trainer, pl_module, stream=False)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._generate(trainer, pl_module, stream=self.stream)
