"""LightningDataModules yielding ``(x, label)`` batches; unlabelled data use label 0 (ignored by the models)."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from lamina_consistency.data.mixtures import make_mixture
from lamina_consistency.data.shapes import render_shapes


def load_digit_images() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled 1,797 real 8x8 digits, scaled from 0..16 to [-1, 1], shape (N, 1, 8, 8)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 8.0 - 1.0
    return images, torch.tensor(digits.target, dtype=torch.long)


class _TensorDataModule(pl.LightningDataModule):
    """Holds train/val tensors built in :meth:`build`; subclasses only say how the tensors are made."""

    def __init__(self, batch_size: int, num_workers: int = 0) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.train_set: TensorDataset | None = None
        self.val_set: TensorDataset | None = None

    def build(self) -> tuple[TensorDataset, TensorDataset]:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            self.train_set, self.val_set = self.build()

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.train_set,
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=self.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.batch_size, num_workers=self.num_workers)

    def test_dataloader(self) -> DataLoader:
        return self.val_dataloader()


class MixtureDataModule(_TensorDataModule):
    """Samples from a named 2-D Gaussian mixture (``ring8`` or ``grid25``), drawn once with ``seed``."""

    def __init__(
        self,
        mixture: str = "ring8",
        num_train: int = 20000,
        num_val: int = 1000,
        batch_size: int = 256,
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers)
        self.mixture = make_mixture(mixture)
        self.num_train, self.num_val, self.seed = num_train, num_val, seed

    def build(self) -> tuple[TensorDataset, TensorDataset]:
        generator = torch.Generator().manual_seed(self.seed)
        points = self.mixture.sample(self.num_train + self.num_val, generator).float()
        labels = torch.zeros(len(points), dtype=torch.long)
        return (
            TensorDataset(points[: self.num_train], labels[: self.num_train]),
            TensorDataset(points[self.num_train :], labels[self.num_train :]),
        )


class DigitsDataModule(_TensorDataModule):
    """Real 8x8 handwritten digits from scikit-learn (no download), split by a seeded permutation."""

    def __init__(
        self, num_val: int = 297, batch_size: int = 128, seed: int = 0, num_workers: int = 0
    ) -> None:
        super().__init__(batch_size, num_workers)
        self.num_val, self.seed = num_val, seed

    def build(self) -> tuple[TensorDataset, TensorDataset]:
        images, labels = load_digit_images()
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(self.seed))
        val, train = order[: self.num_val], order[self.num_val :]
        return TensorDataset(images[train], labels[train]), TensorDataset(images[val], labels[val])


class ShapesDataModule(_TensorDataModule):
    """Procedural class-labelled shapes (see :mod:`lamina_consistency.data.shapes`)."""

    def __init__(
        self,
        image_size: int = 16,
        num_train: int = 8000,
        num_val: int = 1000,
        batch_size: int = 128,
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers)
        self.image_size, self.num_train, self.num_val, self.seed = image_size, num_train, num_val, seed

    def build(self) -> tuple[TensorDataset, TensorDataset]:
        images, labels = render_shapes(self.num_train + self.num_val, self.image_size, self.seed)
        images_t, labels_t = torch.from_numpy(images), torch.from_numpy(labels)
        n = self.num_train
        return TensorDataset(images_t[:n], labels_t[:n]), TensorDataset(images_t[n:], labels_t[n:])


__all__ = ["DigitsDataModule", "MixtureDataModule", "ShapesDataModule", "load_digit_images"]
