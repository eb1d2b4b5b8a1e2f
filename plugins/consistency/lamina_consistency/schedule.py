"""The DDPM noise schedule and its N-step discretisation for ODE solving.

The teacher is trained on a 1000-step DDPM schedule (as SDXL); distillation and sampling use a coarser grid of
``num_steps`` points on it (the paper: N=100, i.e. every 10th timestep), plus a clean end point where
``alpha_bar = 1``. Keeping the clean point explicit (instead of stopping at DDPM step 0, which still carries a
little noise) makes "the teacher's ODE solution" an actual clean sample and gives the consistency boundary
condition ``f(x, 0) = x`` a grid point to hold at.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

BETA_SCHEDULES = ("linear", "scaled_linear")


def ddpm_alphas_cumprod(
    num_train_timesteps: int = 1000,
    beta_schedule: str = "linear",
    beta_start: float | None = None,
    beta_end: float | None = None,
) -> torch.Tensor:
    """``alpha_bar_t`` for t = 0..T-1 in float64.

    ``linear`` is DDPM's (1e-4 to 0.02), which reaches almost pure noise at the last step and suits toy data;
    ``scaled_linear`` is Stable Diffusion / SDXL's (0.00085 to 0.012, linear in sqrt(beta)).
    """
    if beta_schedule == "linear":
        start, end = beta_start or 1e-4, beta_end or 0.02
        betas = torch.linspace(start, end, num_train_timesteps, dtype=torch.float64)
    elif beta_schedule == "scaled_linear":
        start, end = beta_start or 0.00085, beta_end or 0.012
        betas = torch.linspace(start**0.5, end**0.5, num_train_timesteps, dtype=torch.float64) ** 2
    else:
        raise ValueError(f"unknown beta_schedule {beta_schedule!r}; choose one of {BETA_SCHEDULES}")
    return torch.cumprod(1.0 - betas, dim=0)


@dataclass(frozen=True)
class ODEGrid:
    """An ODE-solving grid: index 0 is the clean end (timestep 0, alpha_bar 1), index N the noisiest point.

    ``timesteps[i]`` is what the networks are conditioned on; ``alpha_bars[i]`` is the signal level there.
    Index ``i >= 1`` is DDPM timestep ``i * k - 1`` with ``k = T / N`` (LCM's skipping step), so index N is T-1.
    """

    timesteps: torch.Tensor  # (N+1,) float64
    alpha_bars: torch.Tensor  # (N+1,) float64

    @property
    def num_steps(self) -> int:
        return len(self.timesteps) - 1

    @property
    def sigmas(self) -> torch.Tensor:
        """Noise-to-signal ratio ``sqrt((1 - a) / a)``: the time variable of the rescaled (EDM-form) ODE."""
        return ((1.0 - self.alpha_bars) / self.alpha_bars).sqrt()

    @classmethod
    def from_ddpm(
        cls,
        num_steps: int = 100,
        num_train_timesteps: int = 1000,
        beta_schedule: str = "linear",
    ) -> ODEGrid:
        if num_steps < 1 or num_train_timesteps % num_steps != 0:
            raise ValueError(
                f"num_steps={num_steps} must divide num_train_timesteps={num_train_timesteps} "
                f"(the paper uses 100 of 1000); pick a divisor such as 10, 20, 50 or 100."
            )
        alphas_cumprod = ddpm_alphas_cumprod(num_train_timesteps, beta_schedule)
        skip = num_train_timesteps // num_steps
        ddpm_steps = torch.arange(1, num_steps + 1) * skip - 1
        timesteps = torch.cat([torch.zeros(1, dtype=torch.float64), ddpm_steps.double()])
        alpha_bars = torch.cat([torch.ones(1, dtype=torch.float64), alphas_cumprod[ddpm_steps]])
        return cls(timesteps=timesteps, alpha_bars=alpha_bars)

    @classmethod
    def from_sigmas(cls, sigmas: torch.Tensor, timesteps: torch.Tensor | None = None) -> ODEGrid:
        """A grid given directly by ascending noise levels (``sigmas[0]`` may be 0); used by solver tests."""
        sigmas = sigmas.double()
        alpha_bars = 1.0 / (1.0 + sigmas**2)
        if timesteps is None:
            timesteps = torch.arange(len(sigmas), dtype=torch.float64)
        return cls(timesteps=timesteps.double(), alpha_bars=alpha_bars)

    def subgrid_indices(self, num_sampling_steps: int) -> list[int]:
        """Grid indices at which a K-step consistency sampler evaluates the student, noisiest first.

        Evenly spaced over the grid (LCM's choice): K=1 -> [N], K=2 -> [N, N/2], K=4 -> [N, 3N/4, N/2, N/4].
        """
        n = self.num_steps
        if not 1 <= num_sampling_steps <= n:
            raise ValueError(f"num_sampling_steps must be in 1..{n}, got {num_sampling_steps}")
        return [round(n - k * n / num_sampling_steps) for k in range(num_sampling_steps)]
