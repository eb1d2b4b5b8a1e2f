"""The platform's smoke-test task: an MLP on scikit-learn's bundled handwritten digits.

Real images that exist offline on every machine (scikit-learn ships them), small enough to train in a minute on
two CPU cores, so the README's first command, the DDP test and the resume test all run on real data.
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
import torchmetrics
from datasets import Dataset, DatasetDict
from torch import nn
from torch.utils.data import DataLoader

from lamina.data import ResumableDataModule


def load_digits_dataset(
    val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0
) -> DatasetDict:
    """scikit-learn's digits as a Hugging Face ``DatasetDict`` with stratified train/validation/test splits."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    pixels = (digits.data / 16.0).astype("float32")  # 0..16 grey levels -> [0, 1]
    labels = digits.target.astype("int64")
    x_train, x_rest, y_train, y_rest = train_test_split(
        pixels, labels, test_size=val_fraction + test_fraction, stratify=labels, random_state=seed
    )
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest,
        y_rest,
        test_size=test_fraction / (val_fraction + test_fraction),
        stratify=y_rest,
        random_state=seed,
    )
    splits = {"train": (x_train, y_train), "validation": (x_val, y_val), "test": (x_test, y_test)}
    return DatasetDict(
        {name: Dataset.from_dict({"pixels": x, "label": y}) for name, (x, y) in splits.items()}
    ).with_format("torch")


class DigitsDataModule(ResumableDataModule):
    """Digits splits as a ``LightningDataModule``; the train loader resumes mid-epoch exactly."""

    def __init__(
        self,
        batch_size: int = 64,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        split_seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.splits: DatasetDict | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.splits is None:
            self.splits = load_digits_dataset(
                self.hparams.val_fraction, self.hparams.test_fraction, self.hparams.split_seed
            )

    def _loader(self, split: str, sampler=None) -> DataLoader:
        assert self.splits is not None, "call setup() first"
        return DataLoader(
            self.splits[split],
            batch_size=self.hparams.batch_size,
            sampler=sampler,
            num_workers=self.hparams.num_workers,
        )

    def train_dataloader(self) -> DataLoader:
        assert self.splits is not None, "call setup() first"
        return self._loader("train", self.train_sampler(len(self.splits["train"]), self.hparams.batch_size))

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")


class DigitsClassifier(pl.LightningModule):
    """A two-layer MLP with dropout; logs loss and accuracy per split."""

    def __init__(
        self,
        input_dim: int = 64,
        hidden_dim: int = 128,
        num_classes: int = 10,
        dropout: float = 0.1,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Linear(input_dim, hidden_dim),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_dim, num_classes),
        )
        self.accuracy = nn.ModuleDict(
            {
                split: torchmetrics.Accuracy(task="multiclass", num_classes=num_classes)
                # ModuleDict keys may not shadow attributes like "train"
                for split in ("train_", "val_", "test_")
            }
        )

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net(pixels)

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        logits = self(batch["pixels"])
        loss = nn.functional.cross_entropy(logits, batch["label"])
        accuracy = self.accuracy[f"{split}_"]
        accuracy(logits, batch["label"])
        self.log(f"{split}/loss", loss, prog_bar=True, on_step=split == "train", on_epoch=True)
        self.log(f"{split}/acc", accuracy, prog_bar=split != "train", on_step=False, on_epoch=True)
        return loss

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(1, self.trainer.max_epochs or 1)
        )
        return {"optimizer": optimizer, "lr_scheduler": scheduler}
