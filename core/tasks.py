"""What ``lamina train`` and ``lamina eval`` do with a composed config: build, fit/test, report.

Kept apart from the thin Hydra apps (``lamina.train``, ``lamina.eval``) so multirun launchers pickle these
functions by reference, and so tests call them directly on configs they compose.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("lamina")

SECRET_KEY_PATTERN = re.compile(r"(api_?key|token|secret|password)", re.IGNORECASE)


def redact_secrets(container: Any) -> Any:
    """A copy of a plain config container with values of secret-looking keys replaced, for logging."""
    if isinstance(container, dict):
        return {
            key: "***" if SECRET_KEY_PATTERN.search(str(key)) and value else redact_secrets(value)
            for key, value in container.items()
        }
    if isinstance(container, list):
        return [redact_secrets(item) for item in container]
    return container


def _instantiate_group(group: DictConfig | None) -> list[Any]:
    """Instantiate each ``_target_`` entry of a dict-of-configs group (callbacks, loggers)."""
    from hydra.utils import instantiate

    if not group:
        return []
    return [
        instantiate(node, _convert_="all")
        for node in group.values()
        if isinstance(node, DictConfig) and "_target_" in node
    ]


def resolve_checkpoint(ckpt_path: str | None, cfg: DictConfig) -> str | None:
    """``last`` -> the newest ``checkpoints/last.ckpt`` of this task's runs; a path must exist."""
    if ckpt_path in (None, "", "null"):
        return None
    if ckpt_path == "last":
        own = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
        if own.exists():
            return str(own)
        task_dir = Path(cfg.paths.log_dir) / cfg.task_name
        candidates = sorted(task_dir.glob("**/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
        if not candidates:
            raise FileNotFoundError(
                f"ckpt_path=last: no checkpoints/last.ckpt under {own.parent.parent} or {task_dir}. "
                f"Train first, or pass ckpt_path=/path/to/file.ckpt."
            )
        log.info("Resuming from the newest last.ckpt of task %r: %s", cfg.task_name, candidates[-1])
        return str(candidates[-1])
    if not Path(ckpt_path).exists():
        raise FileNotFoundError(
            f"ckpt_path={ckpt_path}: no such file. Pass an existing .ckpt file or ckpt_path=last."
        )
    return ckpt_path


def _route_lightning_logs_through_hydra() -> None:
    """Lightning installs its own console handler; under Hydra that prints every message twice. Send Lightning's
    records to the root logger instead, which Hydra writes to the console and to the run's log file."""
    import lightning  # noqa: F401  (installs the handlers on first import: import first, then remove them)

    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if type(handler) is logging.StreamHandler:
                logger.removeHandler(handler)
        logger.propagate = True


def _apply_extras(cfg: DictConfig) -> None:
    if logging.getLogger().handlers:  # Hydra configured logging
        _route_lightning_logs_through_hydra()
    extras = cfg.get("extras") or {}
    if extras.get("ignore_warnings"):
        warnings.filterwarnings("ignore")
    if extras.get("print_config"):
        from lamina.config_tree import print_config_tree

        print_config_tree(cfg)


def _build(cfg: DictConfig):
    """Seed, then instantiate data, model, callbacks, loggers and trainer from ``cfg``."""
    import lightning.pytorch as pl
    from hydra.utils import instantiate

    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data, _convert_="all")
    model = instantiate(cfg.model, _convert_="all")
    callbacks = _instantiate_group(cfg.get("callbacks"))
    loggers = _instantiate_group(cfg.get("logger"))
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False, _convert_="all")
    for logger in loggers:
        logger.log_hyperparams(redact_secrets(OmegaConf.to_container(cfg, resolve=True)))
    return datamodule, model, trainer


def _collect_metrics(trainer) -> dict[str, float]:
    return {
        key: float(value)
        for key, value in trainer.callback_metrics.items()
        if getattr(value, "numel", lambda: 1)() == 1
    }


def _report(trainer, cfg: DictConfig) -> None:
    from lamina.tracking import describe_run_locations

    if trainer.global_rank != 0:
        return
    print("\n".join(["", "=" * 72, *describe_run_locations(trainer, cfg.paths.output_dir), "=" * 72]))


def _finish_trackers(trainer) -> None:
    """Close tracker runs so the next job of a multirun starts clean, even after a failure."""
    for logger in getattr(trainer, "loggers", []) or []:
        if type(logger).__name__ == "WandbLogger":
            import wandb

            wandb.finish()
        elif hasattr(logger, "finalize"):
            with contextlib.suppress(Exception):  # closing must not mask the run's own error
                logger.finalize("success")


def run_train(cfg: DictConfig) -> dict[str, float]:
    """Train (and optionally test) the configured model; return the final metrics."""
    _apply_extras(cfg)
    datamodule, model, trainer = _build(cfg)
    ckpt_path = resolve_checkpoint(cfg.get("ckpt_path"), cfg)
    try:
        if cfg.get("train", True):
            trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
        metrics = _collect_metrics(trainer)
        if cfg.get("test"):
            best = getattr(trainer.checkpoint_callback, "best_model_path", "") or None
            if not cfg.get("train", True):
                best = ckpt_path
            if trainer.fast_dev_run:
                best = None
            trainer.test(model, datamodule=datamodule, ckpt_path=best, weights_only=True)
            metrics.update(_collect_metrics(trainer))
        _report(trainer, cfg)
    finally:
        _finish_trackers(trainer)
    return metrics


def run_eval(cfg: DictConfig) -> dict[str, float]:
    """Test a checkpoint on the configured data; return the test metrics."""
    _apply_extras(cfg)
    datamodule, model, trainer = _build(cfg)
    ckpt_path = resolve_checkpoint(cfg.ckpt_path, cfg)
    try:
        trainer.test(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
        metrics = _collect_metrics(trainer)
        _report(trainer, cfg)
    finally:
        _finish_trackers(trainer)
    return metrics


def optimized_metric_value(cfg: DictConfig, metrics: dict[str, float]) -> float | None:
    """The value a sweeper optimises (``optimized_metric``), with a clear error when it was not logged."""
    name = cfg.get("optimized_metric")
    if not name:
        return None
    if name not in metrics:
        raise KeyError(f"optimized_metric={name!r} was not logged; logged metrics: {sorted(metrics)}")
    return metrics[name]


def configure_environment() -> None:
    """Process-wide settings every entry point wants before building anything."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("WANDB_SILENT", "true")
    os.environ.setdefault("WANDB_DISABLE_GIT", "true")
