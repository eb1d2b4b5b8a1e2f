"""Core Lightning callbacks: throughput logging, progress lines for logs, and exact RNG resume."""

from __future__ import annotations

import logging
import random
import sys
import time
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch


def _batch_size(batch: Any) -> int:
    """Rows in a batch: the leading dimension of its first tensor (dicts, tuples and lists are searched)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    if isinstance(batch, dict):
        batch = list(batch.values())
    if isinstance(batch, (list, tuple)):
        for item in batch:
            size = _batch_size(item)
            if size:
                return size
    return 0


class ThroughputLogger(pl.Callback):
    """Logs ``perf/samples_per_sec`` and, for models that count tokens, ``perf/tokens_per_sec``.

    A model reports tokens by defining ``count_tokens(batch) -> int`` (the causal-LM module counts the tokens
    that carry loss). The rate is measured over the last ``window`` training batches, wall clock.
    """

    def __init__(self, window: int = 10) -> None:
        self.window = window
        self._start: float | None = None
        self._samples = 0
        self._tokens = 0
        self._batches = 0

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self._start is None:
            self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._samples += _batch_size(batch)
        count_tokens = getattr(pl_module, "count_tokens", None)
        if callable(count_tokens):
            self._tokens += int(count_tokens(batch))
        self._batches += 1
        if self._batches < self.window or self._start is None:
            return
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        metrics = {"perf/samples_per_sec": self._samples / elapsed}
        if self._tokens:
            metrics["perf/tokens_per_sec"] = self._tokens / elapsed
        pl_module.log_dict(metrics, on_step=True, on_epoch=False, prog_bar=bool(self._tokens))
        self._start, self._samples, self._tokens, self._batches = time.perf_counter(), 0, 0, 0


class ProgressLog(pl.Callback):
    """Writes a log line every ``every_n_steps`` optimizer steps when the console is not a terminal.

    Lightning's progress bar draws nothing when output goes to a file (``nohup``, SLURM, CI), so a long run would
    look frozen there; these lines (step, epoch, the progress-bar metrics, steps/s) go to the console and the run's
    log file instead. On a terminal the bar is shown and this stays quiet (``always=True`` logs anyway).
    """

    def __init__(self, every_n_steps: int = 50, always: bool = False) -> None:
        self.every_n_steps = every_n_steps
        self.always = always
        self._last: tuple[int, float] | None = None

    def _enabled(self, trainer: pl.Trainer) -> bool:
        return trainer.is_global_zero and (self.always or not sys.stdout.isatty())

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._last = (trainer.global_step, time.perf_counter())

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step
        if not self._enabled(trainer) or step == 0 or step % self.every_n_steps or self._last is None:
            return
        if step == self._last[0]:  # gradient accumulation: several batches per optimizer step
            return
        now = time.perf_counter()
        rate = (step - self._last[0]) / max(now - self._last[1], 1e-9)
        self._last = (step, now)
        total = trainer.max_steps if trainer.max_steps and trainer.max_steps > 0 else None
        metrics = ", ".join(
            f"{key} {float(value):.4g}"
            for key, value in trainer.progress_bar_metrics.items()
            if isinstance(value, (int, float)) or getattr(value, "numel", lambda: 0)() == 1
        )
        logging.getLogger("lamina").info(
            "step %d%s, epoch %d, %.2f steps/s%s",
            step,
            f"/{total}" if total else "",
            trainer.current_epoch,
            rate,
            f", {metrics}" if metrics else "",
        )


def _numpy_state_to_plain(state: tuple) -> dict[str, Any]:
    """NumPy's RNG state with its key array as a list, so ``torch.load(weights_only=True)`` accepts it."""
    name, keys, position, has_gauss, cached_gaussian = state
    return {
        "name": name,
        "keys": keys.tolist(),
        "position": position,
        "has_gauss": has_gauss,
        "cached_gaussian": cached_gaussian,
    }


def _numpy_state_from_plain(state: dict[str, Any]) -> tuple:
    return (
        state["name"],
        np.asarray(state["keys"], dtype=np.uint32),
        state["position"],
        state["has_gauss"],
        state["cached_gaussian"],
    )


class RNGStateCheckpoint(pl.Callback):
    """Stores the Python, NumPy and torch RNG states in each checkpoint and restores them when training resumes.

    The states are applied at the first training batch after a resume, not at load time, because Lightning's
    sanity check and loader set-up draw random numbers in between (an uninterrupted run does not do those).
    """

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        return {
            "python": random.getstate(),
            "numpy": _numpy_state_to_plain(np.random.get_state()),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        random.setstate(state["python"])
        np.random.set_state(_numpy_state_from_plain(state["numpy"]))
        torch.set_rng_state(state["torch"])
        if state["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])
