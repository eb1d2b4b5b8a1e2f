"""Consistency students: CD and Direct CM, initialised from the teacher (full fine-tune or LoRA via ``peft``).

Both classes share everything (parameterisation, loss, optimiser, sampler, budget accounting) except the target,
so a comparison between them changes one thing. Train with
``lamina train experiment=consistency_cd_mixture model.teacher_checkpoint=<teacher.ckpt>`` (or ``_direct_``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

from lamina_consistency.boundary import consistency_output
from lamina_consistency.networks import lora_target_modules
from lamina_consistency.solvers import SOLVERS
from lamina_consistency.targets import consistency_distillation_target, direct_target, noisy_training_point
from lamina_consistency.teacher import DiffusionTeacher, load_teacher

LOSSES = ("l2", "pseudo_huber")
FINETUNE_MODES = ("full", "lora")


def regression_loss(
    prediction: torch.Tensor, target: torch.Tensor, kind: str = "l2", huber_c: float | None = None
) -> torch.Tensor:
    """Per-sample L2 (mean squared error) or pseudo-Huber ``sqrt(||d||^2 + c^2) - c``, averaged over the batch.

    ``huber_c`` defaults to ``0.00054 * sqrt(dim)`` (improved consistency training's choice).
    """
    difference = (prediction - target).flatten(1)
    if kind == "l2":
        return difference.pow(2).mean()
    if kind == "pseudo_huber":
        c = huber_c if huber_c is not None else 0.00054 * difference.shape[1] ** 0.5
        return ((difference.pow(2).sum(1) + c**2).sqrt() - c).mean()
    raise ValueError(f"unknown loss {kind!r}; choose one of {LOSSES}")


def apply_lora(network: nn.Module, rank: int, alpha: float | None) -> nn.Module:
    """Wrap ``network`` with LoRA adapters on every Linear/Conv2d (only adapters train), as the paper does."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=rank,
        lora_alpha=alpha if alpha is not None else rank,
        lora_dropout=0.0,
        target_modules=lora_target_modules(network),
    )
    return get_peft_model(network, config)


class ConsistencyStudent(pl.LightningModule):
    """Shared machinery; subclasses define :meth:`target`. Not registered on its own."""

    method = "abstract"

    def __init__(
        self,
        teacher_checkpoint: str | None = None,
        num_ode_steps: int = 100,
        solver: str = "ddim",
        guidance_scale: float | None = None,
        loss: str = "l2",
        huber_c: float | None = None,
        lr: float = 1e-4,
        weight_decay: float = 0.0,
        finetune: str = "full",
        lora_rank: int = 8,
        lora_alpha: float | None = None,
        sigma_data: float = 0.5,
        timestep_scaling: float = 10.0,
        max_teacher_evaluations: int | None = None,
        val_sampling_steps: int = 1,
        log_samples: bool = True,
        teacher: DiffusionTeacher | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["teacher"])
        if solver not in SOLVERS:
            raise ValueError(f"unknown solver {solver!r}; choose one of {SOLVERS}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
        if finetune not in FINETUNE_MODES:
            raise ValueError(f"unknown finetune mode {finetune!r}; choose one of {FINETUNE_MODES}")
        if teacher is None:
            if teacher_checkpoint is None:
                raise ValueError(
                    "a consistency student needs a teacher: set model.teacher_checkpoint=<path> to a checkpoint "
                    "from `lamina train experiment=consistency_teacher_<data>` (or pass teacher= in Python)."
                )
            teacher = load_teacher(teacher_checkpoint)
        self.teacher = teacher.eval().requires_grad_(False)
        student_net = copy.deepcopy(teacher.sampling_net()).requires_grad_(True)
        self.student = apply_lora(student_net, lora_rank, lora_alpha) if finetune == "lora" else student_net
        self.grid = teacher.grid(num_ode_steps)
        self.register_buffer("teacher_evaluations", torch.zeros((), dtype=torch.float64))

    # ------------------------------------------------------------------------------------------- the function
    def consistency_fn(
        self,
        x: torch.Tensor,
        timesteps: torch.Tensor,
        alpha_bars: torch.Tensor,
        labels: torch.Tensor | None,
        network: nn.Module | None = None,
    ) -> torch.Tensor:
        """``f(x, t) = c_skip x + c_out x0_hat``: the student (or ``network``) under the LCM boundary condition."""
        network = network if network is not None else self.student
        eps = network(x, timesteps.to(x.device, x.dtype), labels)
        return consistency_output(
            x, eps, timesteps, alpha_bars, self.hparams.sigma_data, self.hparams.timestep_scaling
        )

    def teacher_eps(self):
        return self.teacher.eps_fn(self.hparams.guidance_scale)

    def target(
        self, x_noisy: torch.Tensor, labels: torch.Tensor | None, index: torch.Tensor
    ) -> tuple[torch.Tensor, int]:
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(
        self,
        noise: torch.Tensor,
        labels: torch.Tensor | None = None,
        num_sampling_steps: int = 1,
        renoise: Sequence[torch.Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Multistep consistency sampling: f at the noisiest point, then re-noise to the next level and repeat.

        ``renoise[k]`` is the fresh noise for the (k+1)-th step; pass the same tensors to every student so two
        students are compared on identical randomness.
        """
        indices = self.grid.subgrid_indices(num_sampling_steps)
        timesteps, alpha_bars = self.grid.timesteps, self.grid.alpha_bars
        batch = noise.shape[0]
        x = noise
        sample = noise
        for step, index in enumerate(indices):
            if step > 0:
                fresh = (
                    renoise[step - 1]
                    if renoise is not None
                    else torch.randn(noise.shape, generator=generator, dtype=noise.dtype).to(noise.device)
                )
                x = noisy_training_point(sample, fresh, self.grid, torch.full((batch,), index))
            sample = self.consistency_fn(
                x, timesteps[index].expand(batch), alpha_bars[index].expand(batch), labels
            )
        return sample

    # ------------------------------------------------------------------------------------------------ training
    def distillation_loss(self, x0: torch.Tensor, labels: torch.Tensor | None) -> tuple[torch.Tensor, int]:
        if self.teacher.num_classes == 0:
            labels = None
        batch = x0.shape[0]
        index = torch.randint(1, self.grid.num_steps + 1, (batch,), device=x0.device)
        x_noisy = noisy_training_point(x0, torch.randn_like(x0), self.grid, index)
        target, evaluations = self.target(x_noisy, labels, index)
        timesteps, alpha_bars = self.grid.timesteps.to(x0.device), self.grid.alpha_bars.to(x0.device)
        prediction = self.consistency_fn(x_noisy, timesteps[index], alpha_bars[index], labels)
        loss = regression_loss(prediction, target, self.hparams.loss, self.hparams.huber_c)
        return loss, evaluations * self.teacher.evaluations_per_call(labels, self.hparams.guidance_scale)

    def training_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> torch.Tensor:
        x0, labels = batch
        loss, evaluations = self.distillation_loss(x0, labels)
        self.teacher_evaluations += evaluations
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/teacher_evaluations", self.teacher_evaluations.float())
        return loss

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        budget = self.hparams.max_teacher_evaluations
        if budget is not None and float(self.teacher_evaluations) >= budget:
            self.trainer.should_stop = True

    def validation_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        """``val/ode_error``: MSE between the student's sample and the teacher's ODE solution from the same noise."""
        x0, labels = batch
        labels = labels if self.teacher.num_classes > 0 else None
        generator = torch.Generator().manual_seed(batch_idx)
        noise = torch.randn(x0.shape, generator=generator).to(x0)
        reference = self.teacher.sample(
            noise, labels, self.hparams.num_ode_steps, self.hparams.solver, self.hparams.guidance_scale
        )
        student = self.sample(noise, labels, self.hparams.val_sampling_steps, generator=generator)
        self.log("val/ode_error", nn.functional.mse_loss(student, reference), prog_bar=True)

    def on_validation_epoch_end(self) -> None:
        if self.hparams.log_samples:
            from lamina_consistency.sample_logging import log_sample_panel

            log_sample_panel(self, f"samples/{self.method}")

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.student.parameters() if p.requires_grad]

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.trainable_parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )


class ConsistencyDistillation(ConsistencyStudent):
    """CD: regress onto the target network's output one teacher step closer to the data (stop-gradient).

    ``target_ema_decay = 0`` (the paper's reading) uses the student's current weights as the target network;
    a positive value keeps an EMA copy instead, as LCM does.
    """

    method = "cd"

    def __init__(self, *args: Any, target_ema_decay: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.save_hyperparameters(ignore=["teacher"])
        self.target_net = copy.deepcopy(self.student).requires_grad_(False) if target_ema_decay > 0 else None

    def target(
        self, x_noisy: torch.Tensor, labels: torch.Tensor | None, index: torch.Tensor
    ) -> tuple[torch.Tensor, int]:
        network = self.target_net if self.target_net is not None else self.student

        def target_fn(x, timesteps, alpha_bars, labels_):
            return self.consistency_fn(x, timesteps, alpha_bars, labels_, network=network)

        return consistency_distillation_target(
            self.teacher_eps(), target_fn, x_noisy, labels, self.grid, index, self.hparams.solver
        )

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.target_net is None:
            return
        with torch.no_grad():
            for ema, live in zip(self.target_net.parameters(), self.student.parameters(), strict=True):
                ema.lerp_(live, 1.0 - self.hparams.target_ema_decay)


class DirectConsistencyModel(ConsistencyStudent):
    """Direct CM: regress onto the teacher's full ODE solution from the noisy point (stop-gradient)."""

    method = "direct"

    def target(
        self, x_noisy: torch.Tensor, labels: torch.Tensor | None, index: torch.Tensor
    ) -> tuple[torch.Tensor, int]:
        return direct_target(self.teacher_eps(), x_noisy, labels, self.grid, index, self.hparams.solver)
