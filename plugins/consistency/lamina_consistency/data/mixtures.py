"""2-D Gaussian mixtures with exact densities, so sample quality can be measured without a learned feature space."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class GaussianMixture:
    """Isotropic Gaussian mixture: ``means`` (K, D), ``stds`` (K,), ``weights`` (K,) summing to 1."""

    means: torch.Tensor
    stds: torch.Tensor
    weights: torch.Tensor

    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        components = torch.multinomial(self.weights, count, replacement=True, generator=generator)
        noise = torch.randn(count, self.means.shape[1], generator=generator, dtype=self.means.dtype)
        return self.means[components] + self.stds[components, None] * noise

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log density at each row of ``x`` (N, D)."""
        x = x.to(self.means.dtype)
        dim = self.means.shape[1]
        squared = ((x[:, None, :] - self.means[None]) ** 2).sum(-1)  # (N, K)
        log_normal = (
            -0.5 * squared / self.stds**2 - dim * torch.log(self.stds) - 0.5 * dim * math.log(2 * math.pi)
        )
        return torch.logsumexp(log_normal + torch.log(self.weights), dim=1)


def ring_mixture(num_modes: int = 8, radius: float = 1.0, std: float = 0.1) -> GaussianMixture:
    """Equal-weight modes evenly spaced on a circle (the classic "8 Gaussians")."""
    angles = torch.arange(num_modes, dtype=torch.float64) * (2 * math.pi / num_modes)
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return GaussianMixture(
        means,
        torch.full((num_modes,), std, dtype=torch.float64),
        torch.full((num_modes,), 1.0 / num_modes, dtype=torch.float64),
    )


def grid_mixture(side: int = 5, extent: float = 1.0, std: float = 0.05) -> GaussianMixture:
    """Equal-weight modes on a ``side`` x ``side`` grid spanning [-extent, extent]^2."""
    axis = torch.linspace(-extent, extent, side, dtype=torch.float64)
    means = torch.cartesian_prod(axis, axis)
    count = side * side
    return GaussianMixture(
        means,
        torch.full((count,), std, dtype=torch.float64),
        torch.full((count,), 1.0 / count, dtype=torch.float64),
    )


MIXTURES = {"ring8": ring_mixture, "grid25": grid_mixture}


def make_mixture(name: str) -> GaussianMixture:
    if name not in MIXTURES:
        raise ValueError(f"unknown mixture {name!r}; choose one of {sorted(MIXTURES)}")
    return MIXTURES[name]()
