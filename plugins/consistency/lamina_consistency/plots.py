"""Figures: sample panels (teacher vs students from the same noise) and the ODE-error vs quality scatter."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def image_grid(images: torch.Tensor, columns: int = 8) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> one (H', W') or (H', W', C) array in [0, 1] with 1-pixel gaps."""
    count, channels, height, width = images.shape
    rows = math.ceil(count / columns)
    canvas = torch.ones(channels, rows * (height + 1) + 1, columns * (width + 1) + 1)
    for i, image in enumerate(images.clamp(-1, 1) * 0.5 + 0.5):
        r, c = divmod(i, columns)
        canvas[
            :,
            1 + r * (height + 1) : 1 + r * (height + 1) + height,
            1 + c * (width + 1) : 1 + c * (width + 1) + width,
        ] = image
    return canvas[0] if channels == 1 else canvas.permute(1, 2, 0)


def samples_figure(samples: Mapping[str, torch.Tensor], title: str, max_images: int = 64):
    """One panel per ``"<model>@<steps>"``: point clouds for 2-D data, image grids otherwise."""
    plt = _pyplot()
    names = list(samples)
    columns = min(4, len(names))
    rows = math.ceil(len(names) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.2 * rows), squeeze=False)
    for axis, name in zip(axes.flat, names, strict=False):
        data = samples[name].detach().cpu().float()
        if data.ndim == 2:
            axis.scatter(data[:, 0], data[:, 1], s=2, alpha=0.5)
            axis.set_xlim(-1.6, 1.6)
            axis.set_ylim(-1.6, 1.6)
            axis.set_aspect("equal")
        else:
            axis.imshow(image_grid(data[:max_images]).numpy(), cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
        axis.set_title(name, fontsize=9)
    for axis in list(axes.flat)[len(names) :]:
        axis.axis("off")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def ode_error_vs_quality_figure(rows: Sequence[Mapping[str, Any]], quality_key: str, title: str):
    """Scatter of ODE error (x) against one quality metric (y): one point per student, step count and seed."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5, 4))
    markers = {1: "o", 2: "s", 4: "^"}
    colours = {"cd": "tab:blue", "direct": "tab:orange"}
    for row in rows:
        if row["model"] in ("teacher", "data"):
            continue
        axis.scatter(
            row["ode_error"],
            row[quality_key],
            c=colours.get(row["model"], "tab:gray"),
            marker=markers.get(row["steps"], "x"),
            alpha=0.8,
        )
    for model, colour in colours.items():
        axis.scatter([], [], c=colour, label=model)
    for steps, marker in markers.items():
        axis.scatter([], [], c="k", marker=marker, label=f"{steps} step{'s' if steps > 1 else ''}")
    axis.set_xlabel("ODE-solving error (MSE to teacher ODE solution)")
    axis.set_ylabel(quality_key)
    axis.set_title(title)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure
