"""Log a panel of samples from fixed noise at the end of validation (teacher ODE vs student 1/2/4 steps).

Uses the core's ``lamina.tracking.log_image`` so the PNG lands in the run folder and in every active tracker.
Fixed noise (seed 0) makes panels from successive epochs directly comparable.
"""

from __future__ import annotations

from typing import Any

import torch

PANEL_SAMPLES = 64


def log_sample_panel(module: Any, key: str) -> None:
    """Draw fixed-noise samples from ``module`` (a teacher or a student) and log one figure."""
    trainer = getattr(module, "_trainer", None)
    if trainer is None or getattr(trainer, "sanity_checking", False) or not trainer.is_global_zero:
        return
    from lamina.tracking import log_image
    from lamina_consistency.evaluation import draw_paired_noise
    from lamina_consistency.plots import samples_figure

    teacher = getattr(module, "teacher", module)
    paired = draw_paired_noise(
        PANEL_SAMPLES if len(teacher.data_shape) > 1 else 1000,
        teacher.data_shape,
        teacher.num_classes,
        4,
        seed=0,
    )
    device = module.device
    noise = paired.noise.to(device)
    labels = paired.labels.to(device) if paired.labels is not None else None
    with torch.no_grad():
        panels = {"teacher ODE": teacher.sample(noise, labels).cpu()}
        if hasattr(module, "sample") and module is not teacher:
            renoise = [r.to(device) for r in paired.renoise]
            for steps in (1, 2, 4):
                panels[f"student {steps} step"] = module.sample(noise, labels, steps, renoise=renoise).cpu()
    figure = samples_figure(panels, f"{key} at step {trainer.global_step}")
    log_image(trainer, key, figure)
    import matplotlib.pyplot as plt

    plt.close(figure)
