"""Paired evaluation: teacher and every student start from the *same* noise (and re-noise, for multistep).

With identical randomness, "ODE-solving error" is well defined (MSE between a student's sample and the teacher's
ODE solution from the same initial noise) and differences in sample quality between students cannot come from
luck of the draw. The teacher's samples are the paper's reference for its quality metrics; on 2-D data we also
have the true distribution, on images the real data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from lamina_consistency.data.mixtures import GaussianMixture
from lamina_consistency.metrics.images import (
    FeatureClassifier,
    extract_features,
    frechet_distance,
    precision_recall,
)
from lamina_consistency.metrics.two_d import mean_log_likelihood, mmd_squared, sliced_wasserstein
from lamina_consistency.teacher import DiffusionTeacher


@dataclass(frozen=True)
class PairedNoise:
    """Everything random in sampling, drawn once: the initial noise, fresh noise per extra step, class labels."""

    noise: torch.Tensor
    renoise: tuple[torch.Tensor, ...]
    labels: torch.Tensor | None


def draw_paired_noise(
    count: int, data_shape: Sequence[int], num_classes: int, max_sampling_steps: int, seed: int
) -> PairedNoise:
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(count, *data_shape, generator=generator)
    renoise = tuple(
        torch.randn(count, *data_shape, generator=generator) for _ in range(max_sampling_steps - 1)
    )
    labels = torch.randint(0, num_classes, (count,), generator=generator) if num_classes > 0 else None
    return PairedNoise(noise, renoise, labels)


class QualityMetrics(Protocol):
    """Scores a batch of samples; ``lower_is_better`` names the direction of every key it returns."""

    lower_is_better: Mapping[str, bool]

    def __call__(self, samples: torch.Tensor) -> dict[str, float]: ...


class MixtureQuality:
    """MMD^2, sliced Wasserstein-2 (vs fresh true samples) and true log-likelihood, for 2-D mixtures."""

    lower_is_better = {"mmd": True, "sliced_w2": True, "log_likelihood": False}

    def __init__(self, mixture: GaussianMixture, count: int, seed: int = 12345) -> None:
        self.mixture = mixture
        self.reference = mixture.sample(count, torch.Generator().manual_seed(seed))

    def __call__(self, samples: torch.Tensor) -> dict[str, float]:
        return {
            "mmd": mmd_squared(samples, self.reference),
            "sliced_w2": sliced_wasserstein(samples, self.reference),
            "log_likelihood": mean_log_likelihood(self.mixture, samples),
        }


class ImageQuality:
    """FD-classifier against the teacher's samples (the paper's reference) and against real images, plus
    precision/recall against real images, all in the features of a classifier trained on the real data.

    Every image set (generated, teacher reference, real) is clamped to the data range [-1, 1] the same way before
    it is featurised, so a model scored against its own samples gets exactly 0.
    """

    lower_is_better = {"fd_teacher": True, "fd_real": True, "precision": False, "recall": False}

    def __init__(self, classifier: FeatureClassifier, real_images: torch.Tensor) -> None:
        self.classifier = classifier
        self.real_features = self.features(real_images)
        self.teacher_features = None

    def features(self, images: torch.Tensor):
        return extract_features(self.classifier, images.clamp(-1, 1))

    def set_teacher_samples(self, teacher_samples: torch.Tensor) -> None:
        self.teacher_features = self.features(teacher_samples)

    def __call__(self, samples: torch.Tensor) -> dict[str, float]:
        features = self.features(samples)
        precision, recall = precision_recall(self.real_features, features)
        metrics = {
            "fd_real": frechet_distance(features, self.real_features),
            "precision": precision,
            "recall": recall,
        }
        if self.teacher_features is not None:
            metrics["fd_teacher"] = frechet_distance(features, self.teacher_features)
        return metrics


def ode_error(samples: torch.Tensor, teacher_samples: torch.Tensor) -> float:
    """The paper's ODE-solving error: mean squared difference to the teacher's ODE solution, same noise."""
    return float((samples.double() - teacher_samples.double()).pow(2).mean())


@torch.no_grad()
def evaluate_paired(
    teacher: DiffusionTeacher,
    students: Mapping[str, Any],
    paired: PairedNoise,
    quality: QualityMetrics,
    sampling_steps: Sequence[int] = (1, 2, 4),
    ode_steps: int = 100,
    solver: str = "ddim",
    guidance_scale: float | None = None,
    reference: PairedNoise | None = None,
    data_samples: torch.Tensor | None = None,
) -> tuple[list[dict[str, Any]], dict[str, torch.Tensor]]:
    """Score the teacher (N-step ODE) and each student at each step count, all from ``paired``.

    Metrics "against the teacher" (``fd_teacher``) use teacher samples from the *independent* noise ``reference``
    when given, so the teacher's own row shows the sampling-noise floor of the metric rather than a trivial 0.
    ``data_samples`` (fresh real data, as many as ``paired`` draws) adds a ``data`` row: the floor of every
    quality metric at this sample size. Its ``ode_error`` is NaN (there is no paired noise).

    Returns one row per (model, steps) and the samples keyed ``"<model>@<steps>"`` (for grids and plots).
    """
    teacher_samples = teacher.sample(paired.noise, paired.labels, ode_steps, solver, guidance_scale)
    if hasattr(quality, "set_teacher_samples"):
        reference_samples = (
            teacher.sample(reference.noise, reference.labels, ode_steps, solver, guidance_scale)
            if reference is not None
            else teacher_samples
        )
        quality.set_teacher_samples(reference_samples)
    rows = []
    if data_samples is not None:
        rows.append({"model": "data", "steps": 0, "ode_error": float("nan"), **quality(data_samples)})
    rows.append({"model": "teacher", "steps": ode_steps, "ode_error": 0.0, **quality(teacher_samples)})
    samples = {f"teacher@{ode_steps}": teacher_samples}
    for name, student in students.items():
        for steps in sampling_steps:
            if steps - 1 > len(paired.renoise):
                raise ValueError(
                    f"{steps}-step sampling needs {steps - 1} re-noise draws; draw_paired_noise "
                    f"was given max_sampling_steps={len(paired.renoise) + 1}"
                )
            generated = student.sample(paired.noise, paired.labels, steps, renoise=paired.renoise)
            rows.append(
                {
                    "model": name,
                    "steps": steps,
                    "ode_error": ode_error(generated, teacher_samples),
                    **quality(generated),
                }
            )
            samples[f"{name}@{steps}"] = generated
    return rows, samples
