"""Image-quality metrics in the feature space of a small classifier trained here on the real data.

This is *not* FID: FID uses Inception-v3 features from ImageNet, which would be meaningless on 8x8 digits and
cannot be downloaded here. We call the Frechet distance in our classifier's penultimate features "FD-classifier"
(``fd_*`` in tables) and report the classifier's held-out accuracy next to it, so a reader can judge the features.
Precision and recall follow Kynkaanniemi et al. (2019): k-nearest-neighbour balls in the same feature space.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import linalg
from torch import nn


class FeatureClassifier(nn.Module):
    """A small CNN whose penultimate activations (``feature_dim``) serve as the feature space."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, feature_dim: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Linear(256, feature_dim),
            nn.ReLU(),
        )
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def train_feature_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    steps: int = 600,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
) -> FeatureClassifier:
    """Train the feature classifier on real images (light Gaussian-noise augmentation keeps features smooth)."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = FeatureClassifier(images.shape[1], num_classes)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        rows = torch.randint(0, len(images), (batch_size,), generator=generator)
        batch = images[rows] + 0.05 * torch.randn(images[rows].shape, generator=generator)
        loss = nn.functional.cross_entropy(model(batch), labels[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


@torch.no_grad()
def classifier_accuracy(model: FeatureClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    return float((model(images).argmax(1) == labels).float().mean())


@torch.no_grad()
def extract_features(model: FeatureClassifier, images: torch.Tensor, batch_size: int = 512) -> np.ndarray:
    return (
        torch.cat([model.features(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])
        .double()
        .numpy()
    )


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (the FID formula, any features)."""
    mean_a, mean_b = features_a.mean(0), features_b.mean(0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    covmean, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    if not np.isfinite(covmean).all():  # near-singular product: regularise as FID implementations do
        offset = np.eye(len(cov_a)) * 1e-6
        covmean = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    covmean = covmean.real
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean))


def _kth_neighbour_radius(features: torch.Tensor, k: int) -> torch.Tensor:
    distances = torch.cdist(features, features)
    return distances.kthvalue(k + 1, dim=1).values  # +1 skips the point itself


def precision_recall(real: np.ndarray, generated: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision (generated points inside the real manifold) and recall (real inside generated)."""
    real_t, generated_t = torch.from_numpy(real), torch.from_numpy(generated)
    real_radius = _kth_neighbour_radius(real_t, k)
    generated_radius = _kth_neighbour_radius(generated_t, k)
    cross = torch.cdist(generated_t, real_t)  # (G, R)
    precision = (cross <= real_radius[None, :]).any(dim=1).double().mean()
    recall = (generated_radius[None, :] >= cross.T).any(dim=1).double().mean()
    return float(precision), float(recall)
