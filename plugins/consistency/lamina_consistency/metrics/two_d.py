"""Exact sample-quality metrics for 2-D data whose true distribution is known.

- MMD^2 with a sum of RBF kernels at several bandwidths (unbiased estimator) against fresh true samples;
- sliced Wasserstein-2 distance against fresh true samples (sorting along random directions);
- mean log-likelihood of the generated points under the *true* density (higher is better), which punishes
  samples that fall between modes, the typical failure of one-step samplers.
"""

from __future__ import annotations

import torch

from lamina_consistency.data.mixtures import GaussianMixture

DEFAULT_BANDWIDTHS = (0.05, 0.1, 0.2, 0.5, 1.0)


def mmd_squared(
    x: torch.Tensor, y: torch.Tensor, bandwidths: tuple[float, ...] = DEFAULT_BANDWIDTHS
) -> float:
    """Unbiased MMD^2 between samples ``x`` (N, D) and ``y`` (M, D) under a sum of RBF kernels."""
    x, y = x.double().flatten(1), y.double().flatten(1)
    n, m = len(x), len(y)
    if n < 2 or m < 2:
        raise ValueError("MMD needs at least two samples on each side")

    def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        squared = torch.cdist(a, b).pow(2)
        return sum(torch.exp(-squared / (2 * h**2)) for h in bandwidths)

    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    term_xx = (k_xx.sum() - k_xx.diagonal().sum()) / (n * (n - 1))
    term_yy = (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(term_xx + term_yy - 2 * k_xy.mean())


def sliced_wasserstein(x: torch.Tensor, y: torch.Tensor, num_projections: int = 256, seed: int = 0) -> float:
    """Sliced Wasserstein-2 between equally sized samples, averaged over random unit directions."""
    x, y = x.double().flatten(1), y.double().flatten(1)
    if x.shape != y.shape:
        raise ValueError(
            f"sliced_wasserstein needs equal sample counts and dims, got {tuple(x.shape)} and "
            f"{tuple(y.shape)}; draw as many reference samples as generated ones"
        )
    directions = torch.randn(
        x.shape[1], num_projections, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    directions /= directions.norm(dim=0, keepdim=True)
    projected_x, _ = torch.sort(x @ directions, dim=0)
    projected_y, _ = torch.sort(y @ directions, dim=0)
    return float((projected_x - projected_y).pow(2).mean().sqrt())


def mean_log_likelihood(mixture: GaussianMixture, samples: torch.Tensor) -> float:
    """Average exact log density of ``samples`` under the true mixture."""
    return float(mixture.log_prob(samples.flatten(1)).mean())
