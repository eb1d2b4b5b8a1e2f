"""The paper's two deep baselines, Transformer (d 64, 4 heads, 2 layers) and LSTM (512, 2 layers).

They read a visit as a sequence of its codes: the non-zero columns of the count vector, each repeated by its count
(capped at :data:`MAX_TOKENS`), plus age and gender joined to the pooled sequence before the classifier head.
Training follows the paper: 20 epochs, Adam, learning rate 1e-4, batch 32, through a Lightning ``Trainer``.
"""

from __future__ import annotations

import numpy as np
import torch
from lightning import pytorch as pl
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

MAX_TOKENS = 256
EPOCHS = 20
LEARNING_RATE = 1e-4
BATCH_SIZE = 32


def counts_to_tokens(features: np.ndarray, n_code_columns: int, max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """Code-column ids (1-based, 0 = padding) of each row, repeated by count, left-aligned.

    The width is the longest row (at most ``max_tokens``), not ``max_tokens``: visits hold tens of codes, and
    padding every one to 256 would make the Transformer and LSTM an order of magnitude slower for nothing.
    """
    counts = features[:, :n_code_columns].astype(np.int64)
    width = int(min(max(counts.sum(axis=1).max(initial=0), 1), max_tokens))
    tokens = np.zeros((len(features), width), dtype=np.int64)
    for row in range(len(features)):
        ids = np.repeat(np.nonzero(counts[row])[0] + 1, counts[row][counts[row] > 0])[:width]
        tokens[row, : len(ids)] = ids
    return tokens


class CodeSequenceClassifier(pl.LightningModule):
    """Embeds code ids, encodes them with a Transformer or an LSTM, pools, adds age/gender, classifies."""

    def __init__(self, encoder: str, vocab_size: int, n_classes: int, lr: float = LEARNING_RATE) -> None:
        super().__init__()
        self.save_hyperparameters()
        if encoder == "transformer":
            width = 64
            layer = nn.TransformerEncoderLayer(
                width, nhead=4, dim_feedforward=4 * width, batch_first=True, dropout=0.1
            )
            self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        elif encoder == "lstm":
            width = 512
            self.encoder = nn.LSTM(128, width, num_layers=2, batch_first=True)
        else:
            raise ValueError(f"encoder must be 'transformer' or 'lstm', got {encoder!r}")
        self.embedding = nn.Embedding(vocab_size + 1, 64 if encoder == "transformer" else 128, padding_idx=0)
        self.head = nn.Linear(width + 2, n_classes)

    def forward(self, tokens: torch.Tensor, demographics: torch.Tensor) -> torch.Tensor:
        mask = tokens != 0
        embedded = self.embedding(tokens)
        if self.hparams.encoder == "transformer":
            encoded = self.encoder(embedded, src_key_padding_mask=~mask)
        else:
            encoded, _ = self.encoder(embedded)
        weights = mask.unsqueeze(-1).float()
        pooled = (encoded * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return self.head(torch.cat([pooled, demographics], dim=-1))

    def training_step(self, batch, batch_idx):
        tokens, demographics, labels = batch
        loss = nn.functional.cross_entropy(self(tokens, demographics), labels)
        self.log("train/loss", loss, prog_bar=False)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


class SequenceClassifierEstimator:
    """fit / predict_proba around :class:`CodeSequenceClassifier` (labels 0..K-1)."""

    def __init__(self, encoder: str, n_code_columns: int, seed: int, epochs: int = EPOCHS) -> None:
        self.encoder, self.n_code_columns, self.seed, self.epochs = encoder, n_code_columns, seed, epochs
        self.model: CodeSequenceClassifier | None = None

    def _tensors(self, features: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = torch.from_numpy(counts_to_tokens(features, self.n_code_columns))
        return tokens, torch.from_numpy(features[:, self.n_code_columns :].astype(np.float32))

    def fit(self, features: np.ndarray, labels: np.ndarray) -> SequenceClassifierEstimator:
        pl.seed_everything(self.seed, verbose=False)
        n_classes = int(labels.max()) + 1
        self.classes_ = np.arange(n_classes)
        self.model = CodeSequenceClassifier(self.encoder, self.n_code_columns, n_classes)
        tokens, demographics = self._tensors(features)
        loader = DataLoader(
            TensorDataset(tokens, demographics, torch.from_numpy(labels.astype(np.int64))),
            batch_size=BATCH_SIZE,
            shuffle=True,
            generator=torch.Generator().manual_seed(self.seed),
        )
        trainer = pl.Trainer(
            max_epochs=self.epochs,
            accelerator="cpu",
            devices=1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(self.model, loader)
        return self

    @torch.no_grad()
    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("predict_proba before fit")
        self.model.eval()
        tokens, demographics = self._tensors(features)
        return torch.softmax(self.model(tokens, demographics), dim=-1).numpy()
