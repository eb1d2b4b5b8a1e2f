"""The LCM-style consistency parameterisation ``f(x, t) = c_skip(t) x + c_out(t) x0_hat(x, t)``.

``x0_hat`` is the clean sample implied by the network's epsilon prediction. With ``sigma_data = 0.5`` and the
timestep scaled by 10 (LCM, and the paper), ``c_skip(0) = 1`` and ``c_out(0) = 0``, so ``f(x, 0) = x`` holds
exactly at the clean end of the grid, while a few timesteps later ``c_out`` is already ~1 and ``f`` is the
network's x0 prediction.
"""

from __future__ import annotations

import torch

from lamina_consistency.solvers import _per_sample, predict_x0


def boundary_scalings(
    timesteps: torch.Tensor, sigma_data: float = 0.5, timestep_scaling: float = 10.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(c_skip, c_out)`` at integer DDPM timesteps, as in LCM."""
    scaled = timesteps.double() * timestep_scaling
    c_skip = sigma_data**2 / (scaled**2 + sigma_data**2)
    c_out = scaled / (scaled**2 + sigma_data**2).sqrt()
    return c_skip, c_out


def consistency_output(
    x: torch.Tensor,
    eps: torch.Tensor,
    timesteps: torch.Tensor,
    alpha_bars: torch.Tensor,
    sigma_data: float = 0.5,
    timestep_scaling: float = 10.0,
) -> torch.Tensor:
    """Apply the boundary condition to a student's noise prediction ``eps`` at ``(x, t)``."""
    c_skip, c_out = boundary_scalings(timesteps, sigma_data, timestep_scaling)
    x0_hat = predict_x0(x, eps, alpha_bars)
    return _per_sample(c_skip, x) * x + _per_sample(c_out, x) * x0_hat
