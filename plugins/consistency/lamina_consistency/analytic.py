"""A teacher with a closed-form answer: data ~ N(mean, std^2 I), whose optimal denoiser is linear.

For this distribution the ideal noise prediction at signal level ``a`` is known exactly, and so is the solution of
the probability-flow ODE between any two noise levels: in the rescaled state ``x~ = x / sqrt(a)`` and
``sigma = sqrt((1-a)/a)``, ``x~(sigma) - mean`` scales by ``sqrt((std^2 + sigma^2) / (std^2 + sigma_0^2))``.
Solver and target tests compare against it; it is also handy for checking a new solver by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lamina_consistency.schedule import ODEGrid


@dataclass(frozen=True)
class GaussianDataTeacher:
    """The exact epsilon predictor and ODE flow for N(mean, std^2 I) data on a given grid."""

    grid: ODEGrid
    mean: float = 0.3
    std: float = 0.5

    def alpha_bar_at(self, timesteps: torch.Tensor) -> torch.Tensor:
        """Look ``alpha_bar`` up from the grid by timestep (only grid timesteps are ever asked for)."""
        index = torch.searchsorted(self.grid.timesteps, timesteps.double().cpu().contiguous())
        if not torch.equal(self.grid.timesteps[index], timesteps.double().cpu()):
            raise ValueError("GaussianDataTeacher was queried off its grid")
        return self.grid.alpha_bars[index]

    def eps(
        self, x: torch.Tensor, timesteps: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        a = self.alpha_bar_at(timesteps).to(x.dtype).view(-1, *([1] * (x.ndim - 1)))
        variance = a * self.std**2 + (1 - a)
        x0_mean = self.mean + a.sqrt() * self.std**2 / variance * (x - a.sqrt() * self.mean)
        return (x - a.sqrt() * x0_mean) / (1 - a).clamp_min(1e-30).sqrt()

    def flow(self, x: torch.Tensor, index_from: int | torch.Tensor, index_to: int) -> torch.Tensor:
        """The exact ODE solution from grid index ``index_from`` (per sample or one int) to ``index_to``."""
        index_from = torch.as_tensor(index_from).long().expand(x.shape[0])
        sigma = self.grid.sigmas
        a_from = self.grid.alpha_bars[index_from].to(x.dtype).view(-1, *([1] * (x.ndim - 1)))
        s_from = sigma[index_from].to(x.dtype).view_as(a_from)
        a_to, s_to = float(self.grid.alpha_bars[index_to]), float(sigma[index_to])
        x_tilde = x / a_from.sqrt()
        scale = ((self.std**2 + s_to**2) / (self.std**2 + s_from**2)).sqrt()
        return (self.mean + (x_tilde - self.mean) * scale) * a_to**0.5
