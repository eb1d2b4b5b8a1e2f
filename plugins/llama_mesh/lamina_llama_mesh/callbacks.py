"""``MeshEvaluationCallback``: run :func:`evaluate_mesh_model` during and after training, log metrics, a preview
grid (PNG) and a per-prompt table to every active logger and to the run folder."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import lightning.pytorch as pl
import torch

from lamina_llama_mesh.procedural import SIMPLE_CATEGORIES


class MeshEvaluationCallback(pl.Callback):
    """Evaluate text-to-mesh, mesh-to-text and general text on held-out prompts.

    Args:
        every_n_validations: also evaluate after every n-th validation loop (0: only at the end of training).
        categories, shapes_per_category, understanding_per_category, text_tasks, max_new_tokens, temperature:
            passed to :func:`~lamina_llama_mesh.evaluation.evaluate_mesh_model`.
        preview_columns: columns of the preview grid.
    """

    def __init__(
        self,
        every_n_validations: int = 0,
        categories: Sequence[str] = SIMPLE_CATEGORIES,
        shapes_per_category: int = 2,
        understanding_per_category: int = 2,
        text_tasks: int = 24,
        max_new_tokens: int = 512,
        temperature: float = 0.0,
        preview_columns: int = 6,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.every_n_validations = every_n_validations
        self.settings = {
            "categories": list(categories),
            "shapes_per_category": shapes_per_category,
            "understanding_per_category": understanding_per_category,
            "text_tasks": text_tasks,
            "max_new_tokens": max_new_tokens,
            "temperature": temperature,
            "seed": seed,
        }
        self.preview_columns = preview_columns
        self._validations = 0
        self.last_metrics: dict[str, float] = {}

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not self.every_n_validations:
            return
        self._validations += 1
        if self._validations % self.every_n_validations == 0:
            self.evaluate(trainer, pl_module, tag=f"step{trainer.global_step}")

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.evaluate(trainer, pl_module, tag="final")

    def evaluate(self, trainer: pl.Trainer, pl_module: pl.LightningModule, tag: str) -> dict[str, float]:
        from lamina_llama_mesh.evaluation import evaluate_mesh_model
        from lamina_llama_mesh.render import render_grid

        tokenizer = getattr(trainer.datamodule, "tokenizer", None) if trainer.datamodule is not None else None
        if tokenizer is None:
            raise RuntimeError(
                "MeshEvaluationCallback needs the datamodule's tokenizer (a lamina.lm TextDataModule)"
            )
        model = getattr(pl_module, "hf_model", pl_module)
        result = evaluate_mesh_model(model, tokenizer, **self.settings)
        self.last_metrics = result.metrics
        if not trainer.is_global_zero:
            return result.metrics
        finite = {key: value for key, value in result.metrics.items() if math.isfinite(value)}
        for logger in trainer.loggers:
            logger.log_metrics(finite, step=trainer.global_step)
        for key, value in finite.items():
            trainer.callback_metrics[key] = torch.tensor(value)
        root = Path(trainer.default_root_dir or os.getcwd())
        root.mkdir(parents=True, exist_ok=True)
        record = {
            "tag": tag,
            "step": trainer.global_step,
            "metrics": result.metrics,
            "reasons": result.reasons,
            "samples": result.rows,
            "understanding_samples": result.understanding_rows,
            "text_samples": result.text_rows,
        }
        partial = root / "mesh_eval.json.partial"
        partial.write_text(json.dumps(record, indent=2, default=str))
        partial.replace(root / f"mesh_eval_{tag}.json")
        try:
            from lamina.tracking import log_image, log_table
        except ImportError:  # older core: the files above are still written
            return result.metrics
        figure = render_grid(
            [p.mesh for p in result.parsed],
            [
                f"{'ok' if p.is_valid else 'invalid'}: {caption}"
                for p, caption in zip(result.parsed, result.captions, strict=True)
            ],
            columns=self.preview_columns,
        )
        import matplotlib.pyplot as plt

        log_image(trainer, f"mesh/preview_{tag}", figure)
        plt.close(figure)
        log_table(trainer, f"mesh/samples_{tag}", result.rows)
        return result.metrics
