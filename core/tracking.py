"""Experiment tracking helpers: W&B offline fallback, and saving/logging images and tables to every logger.

Plugins call :func:`log_image` and :func:`log_table` with the trainer; the file is always written under the run's
output folder (so results survive without any tracker) and is also sent to each active logger that can show it.
"""

from __future__ import annotations

import csv
import io
import netrc
import os
import re
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf


def wandb_has_credentials() -> bool:
    """True when W&B could log in without a prompt: ``WANDB_API_KEY`` or a ``wandb login`` entry in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        hosts = netrc.netrc().hosts
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False
    return any("wandb" in host for host in hosts)


def wandb_should_run_offline() -> bool:
    """Offline unless credentials exist and ``WANDB_MODE`` does not say otherwise (never prompt, never fail)."""
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode in {"offline", "dryrun", "disabled"}:
        return True
    if mode == "online":
        return False
    return not wandb_has_credentials()


def register_resolvers() -> None:
    """OmegaConf resolvers used by the configs (idempotent)."""
    if not OmegaConf.has_resolver("lamina_wandb_offline"):
        OmegaConf.register_new_resolver("lamina_wandb_offline", wandb_should_run_offline)


def _output_dir(trainer: Any) -> Path:
    root = getattr(trainer, "default_root_dir", None) or os.getcwd()
    return Path(root)


def _safe_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key).strip("_") or "item"


def _to_pil(image: Any):
    """PIL image from a PIL image, a HxW[xC] array (uint8 or float in [0, 1]), a matplotlib figure or a path."""
    import numpy as np
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    if isinstance(image, (str, Path)):
        return Image.open(image).convert("RGB")
    if hasattr(image, "savefig"):  # matplotlib figure
        buffer = io.BytesIO()
        image.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        buffer.seek(0)
        return Image.open(buffer).convert("RGB")
    array = np.asarray(image.detach().cpu() if hasattr(image, "detach") else image)
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)
    return Image.fromarray(array)


def log_image(
    trainer: Any, key: str, image: Any, *, step: int | None = None, caption: str | None = None
) -> Path:
    """Save ``image`` as ``<output_dir>/media/<key>.png`` and log it to W&B, TensorBoard and MLflow if active.

    Returns the PNG path. ``step`` defaults to the trainer's global step.
    """
    import numpy as np

    picture = _to_pil(image)
    path = _output_dir(trainer) / "media" / f"{_safe_name(key)}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".png.tmp")
    picture.save(tmp, format="PNG")
    os.replace(tmp, path)
    step = int(getattr(trainer, "global_step", 0)) if step is None else step
    for logger in getattr(trainer, "loggers", []) or []:
        kind = type(logger).__name__
        if kind == "WandbLogger":
            logger.log_image(key=key, images=[picture], step=step, caption=[caption] if caption else None)
        elif kind == "TensorBoardLogger":
            logger.experiment.add_image(key, np.asarray(picture), global_step=step, dataformats="HWC")
        elif kind == "MLFlowLogger":
            logger.experiment.log_artifact(logger.run_id, str(path), artifact_path="media")
    return path


def log_table(trainer: Any, key: str, rows: list[dict[str, Any]]) -> Path:
    """Save ``rows`` as ``<output_dir>/tables/<key>.md`` and ``.csv`` and log them as a table where supported.

    Returns the markdown path.
    """
    if not rows:
        raise ValueError(f"log_table({key!r}) got no rows")
    columns = list(dict.fromkeys(column for row in rows for column in row))
    folder = _output_dir(trainer) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    name = _safe_name(key)
    markdown = markdown_table(rows, columns)
    _atomic_write_text(folder / f"{name}.md", markdown)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    _atomic_write_text(folder / f"{name}.csv", buffer.getvalue())
    for logger in getattr(trainer, "loggers", []) or []:
        kind = type(logger).__name__
        if kind == "WandbLogger":
            logger.log_table(key=key, columns=columns, data=[[row.get(c) for c in columns] for row in rows])
        elif kind == "TensorBoardLogger":
            logger.experiment.add_text(key, markdown, global_step=int(getattr(trainer, "global_step", 0)))
        elif kind == "MLFlowLogger":
            logger.experiment.log_artifact(logger.run_id, str(folder / f"{name}.csv"), artifact_path="tables")
    return folder / f"{name}.md"


def markdown_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """A GitHub-flavoured markdown table; floats get 4 significant digits."""
    columns = columns or list(dict.fromkeys(column for row in rows for column in row))

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def describe_run_locations(trainer: Any, output_dir: str | Path) -> list[str]:
    """Human-readable lines saying where the run's logs, checkpoints and dashboards are."""
    lines = [f"Run folder:   {output_dir}"]
    checkpoint = getattr(trainer, "checkpoint_callback", None)
    if checkpoint is not None and getattr(checkpoint, "dirpath", None):
        lines.append(f"Checkpoints:  {checkpoint.dirpath}  (resume: lamina train ... ckpt_path=last)")
    for logger in getattr(trainer, "loggers", []) or []:
        kind = type(logger).__name__
        if kind == "WandbLogger":
            run = logger.experiment
            run_dir = Path(getattr(run, "dir", "") or logger.save_dir or ".")
            if (
                getattr(getattr(run, "settings", None), "mode", "") in {"offline", "dryrun"}
                or wandb_should_run_offline()
            ):
                lines.append(
                    f"W&B (offline): {run_dir.parent}  -> upload later with: wandb sync {run_dir.parent}"
                )
            else:
                lines.append(f"W&B:          {getattr(run, 'url', '')}")
        elif kind == "TensorBoardLogger":
            lines.append(f"TensorBoard:  tensorboard --logdir {logger.log_dir}")
        elif kind == "CSVLogger":
            lines.append(f"CSV metrics:  {Path(logger.log_dir) / 'metrics.csv'}")
        elif kind == "MLFlowLogger":
            lines.append(f"MLflow:       mlflow ui --backend-store-uri {logger._tracking_uri}")
    return lines
