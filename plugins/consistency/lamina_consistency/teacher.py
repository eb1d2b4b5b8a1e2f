"""The diffusion teacher: an epsilon-prediction model on the 1000-step DDPM schedule, with CFG in Imagen form.

Guidance follows Imagen (and the paper): ``eps = eps_uncond + w (eps_cond - eps_uncond)``, so ``w = 1`` means no
guidance and the paper's setting is ``w = 9``. During training the class label is dropped with probability
``label_drop_prob`` so the same network also learns the unconditional prediction. An exponential moving average
of the weights (``ema_decay``) is what samples and distillation use, as is usual for diffusion models.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

from lamina_consistency.networks import build_denoiser
from lamina_consistency.schedule import ODEGrid, ddpm_alphas_cumprod
from lamina_consistency.solvers import EpsFn, solve_ode


class DiffusionTeacher(pl.LightningModule):
    """Train with ``lamina train experiment=consistency_teacher_mixture`` (or ``_digits``, ``_shapes``)."""

    def __init__(
        self,
        data_shape: Sequence[int] = (2,),
        network: str = "mlp",
        width: int = 128,
        depth: int = 3,
        embed_dim: int = 64,
        num_classes: int = 0,
        label_drop_prob: float = 0.1,
        guidance_scale: float = 1.0,
        beta_schedule: str = "linear",
        num_train_timesteps: int = 1000,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        ema_decay: float = 0.999,
        sample_ode_steps: int = 100,
        sample_solver: str = "ddim",
        log_samples: bool = True,
    ) -> None:
        super().__init__()
        data_shape = [int(size) for size in data_shape]  # plain list: checkpoints stay weights_only-loadable
        self.save_hyperparameters()
        self.net = build_denoiser(network, tuple(data_shape), width, depth, num_classes, embed_dim)
        self.ema_net = copy.deepcopy(self.net).requires_grad_(False) if ema_decay > 0 else None
        self.register_buffer(
            "alphas_cumprod",
            ddpm_alphas_cumprod(num_train_timesteps, beta_schedule).float(),
            persistent=False,
        )
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))

    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.hparams.data_shape)

    @property
    def num_classes(self) -> int:
        return int(self.hparams.num_classes)

    def sampling_net(self) -> nn.Module:
        """The weights used for sampling and distillation (the EMA when there is one)."""
        return self.ema_net if self.ema_net is not None else self.net

    def grid(self, num_steps: int | None = None) -> ODEGrid:
        return ODEGrid.from_ddpm(
            num_steps or self.hparams.sample_ode_steps,
            self.hparams.num_train_timesteps,
            self.hparams.beta_schedule,
        )

    # ----------------------------------------------------------------------------------------------- guidance
    def guided_eps(
        self,
        x: torch.Tensor,
        timesteps: torch.Tensor,
        labels: torch.Tensor | None,
        guidance_scale: float | None = None,
    ) -> torch.Tensor:
        """The teacher's noise prediction with classifier-free guidance (Imagen form) when it applies."""
        w = self.hparams.guidance_scale if guidance_scale is None else guidance_scale
        net = self.sampling_net()
        if self.num_classes == 0 or labels is None or w == 1.0:
            return net(x, timesteps, labels)
        null = torch.full_like(labels, self.num_classes)
        both = net(torch.cat([x, x]), torch.cat([timesteps, timesteps]), torch.cat([labels, null]))
        eps_cond, eps_uncond = both.chunk(2)
        return eps_uncond + w * (eps_cond - eps_uncond)

    def evaluations_per_call(self, labels: torch.Tensor | None, guidance_scale: float | None = None) -> int:
        """Network evaluations behind one guided prediction (2 with CFG): the unit of teacher budgets."""
        w = self.hparams.guidance_scale if guidance_scale is None else guidance_scale
        return 2 if self.num_classes > 0 and labels is not None and w != 1.0 else 1

    def eps_fn(self, guidance_scale: float | None = None) -> EpsFn:
        return lambda x, t, labels: self.guided_eps(x, t, labels, guidance_scale)

    @torch.no_grad()
    def sample(
        self,
        noise: torch.Tensor,
        labels: torch.Tensor | None = None,
        num_steps: int | None = None,
        solver: str | None = None,
        guidance_scale: float | None = None,
    ) -> torch.Tensor:
        """Solve the probability-flow ODE from pure noise (grid index N) to the clean end."""
        grid = self.grid(num_steps)
        sample, _ = solve_ode(
            self.eps_fn(guidance_scale),
            noise,
            labels,
            grid,
            grid.num_steps,
            0,
            solver or self.hparams.sample_solver,
        )
        return sample

    # ----------------------------------------------------------------------------------------------- training
    def diffusion_loss(self, x0: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        batch = x0.shape[0]
        timesteps = torch.randint(0, self.hparams.num_train_timesteps, (batch,), device=x0.device)
        a = self.alphas_cumprod[timesteps].view(-1, *([1] * (x0.ndim - 1)))
        noise = torch.randn_like(x0)
        x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
        if self.num_classes > 0 and labels is not None:
            drop = torch.rand(batch, device=x0.device) < self.hparams.label_drop_prob
            labels = torch.where(drop, torch.full_like(labels, self.num_classes), labels)
        else:
            labels = None
        return nn.functional.mse_loss(self.net(x_t, timesteps.float(), labels), noise)

    def training_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> torch.Tensor:
        x0, labels = batch
        loss = self.diffusion_loss(x0, labels)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        x0, labels = batch
        self.log("val/loss", self.diffusion_loss(x0, labels), prog_bar=True)

    def on_validation_epoch_end(self) -> None:
        if self.hparams.log_samples:
            from lamina_consistency.sample_logging import log_sample_panel

            log_sample_panel(self, "samples/teacher")

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.ema_net is None:
            return
        decay = ema_decay_at(self.hparams.ema_decay, int(self.ema_updates))
        self.ema_updates += 1
        with torch.no_grad():
            for ema, live in zip(self.ema_net.parameters(), self.net.parameters(), strict=True):
                ema.lerp_(live, 1.0 - decay)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.net.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )


def ema_decay_at(decay: float, updates: int) -> float:
    """EMA decay with the usual warm-up, ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates.

    A constant 0.999 from the first step would keep ``0.999**n`` of the *random initial* weights in the average
    (13% after 2,000 steps), and averaging weights that far apart does not give a usable network: measured on the
    2-D ring, a 2,000-step teacher's EMA put samples at |x| ~ 9 while its live weights were fine.
    """
    return min(decay, (1.0 + updates) / (10.0 + updates))


# --------------------------------------------------------------------------------------------------- checkpoints
def save_teacher(teacher: DiffusionTeacher, path: str | Path) -> Path:
    """Write ``{hyper_parameters, state_dict}`` atomically (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"hyper_parameters": dict(teacher.hparams), "state_dict": teacher.state_dict()}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        torch.save(payload, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def load_teacher(path: str | Path) -> DiffusionTeacher:
    """Load a teacher from :func:`save_teacher`'s file or from a Lightning checkpoint of ``DiffusionTeacher``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"teacher checkpoint {str(path)!r} does not exist. Train one first, e.g. "
            "`lamina train experiment=consistency_teacher_mixture`, and pass its checkpoint "
            "(<run dir>/checkpoints/last.ckpt) as model.teacher_checkpoint=..."
        )
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if "hyper_parameters" not in payload or "state_dict" not in payload:
        raise ValueError(
            f"{str(path)!r} is not a DiffusionTeacher checkpoint (no hyper_parameters/state_dict)."
        )
    hparams = {key: value for key, value in payload["hyper_parameters"].items() if not key.startswith("_")}
    teacher = DiffusionTeacher(**hparams)
    teacher.load_state_dict(payload["state_dict"])
    return teacher.eval()
