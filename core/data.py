"""Data plumbing shared by every DataModule: a seeded sampler and a base class that resume mid-epoch exactly.

Lightning restores model, optimizer and loop counters from a checkpoint, but a plain shuffled ``DataLoader``
restarts its epoch from a fresh permutation, so a run killed mid-epoch and resumed sees different batches than an
uninterrupted one. :class:`ResumableDataModule` records, in the checkpoint, which epoch permutation was running and
how many batches of it were trained, and its :class:`ResumableSampler` replays the same permutation from there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import lightning.pytorch as pl
import torch
from torch.utils.data import Sampler


class ResumableSampler(Sampler[int]):
    """A per-epoch permutation seeded by ``(seed, epoch)`` that can start ``skip`` samples into its first epoch.

    Lightning calls :meth:`set_epoch` at each epoch start (as for ``DistributedSampler``). ``__len__`` is always
    the full epoch so Lightning's batch counters, restored from the checkpoint, line up with the shortened first
    epoch.
    """

    def __init__(
        self, num_samples: int, *, seed: int = 0, shuffle: bool = True, epoch: int = 0, skip: int = 0
    ) -> None:
        self.num_samples = num_samples
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = epoch
        self._skip = skip

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        # A generator: the order is drawn at the first ``next()``, after Lightning has restored its loops.
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.num_samples, generator=generator).tolist()
        else:
            order = list(range(self.num_samples))
        skip, self._skip = self._skip, 0
        yield from order[skip:]


def global_seed(default: int = 0) -> int:
    """The seed ``lightning.seed_everything`` set for this run (``PL_GLOBAL_SEED``), or ``default``."""
    return int(os.environ.get("PL_GLOBAL_SEED", default))


class ResumableDataModule(pl.LightningDataModule):
    """Base class for DataModules whose training order survives a kill and resume.

    Subclasses build their training loader with ``sampler=self.train_sampler(len(dataset), batch_size)``.
    """

    _resume_position: dict[str, int] | None = None

    def train_sampler(self, num_samples: int, batch_size: int, *, shuffle: bool = True) -> ResumableSampler:
        position, self._resume_position = self._resume_position or {"epoch": 0, "batches": 0}, None
        return ResumableSampler(
            num_samples,
            seed=global_seed(),
            shuffle=shuffle,
            epoch=position["epoch"],
            skip=position["batches"] * batch_size,
        )

    def state_dict(self) -> dict[str, Any]:
        trainer = self.trainer
        if trainer is None or not trainer.training:
            return {}
        batches = trainer.fit_loop.epoch_loop.batch_progress.current.processed
        epoch = trainer.current_epoch
        # saved at the end of an epoch: the next one starts afresh
        if batches >= trainer.num_training_batches:
            epoch, batches = epoch + 1, 0
        return {"train_position": {"epoch": int(epoch), "batches": int(batches)}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._resume_position = state_dict.get("train_position")


def require_path(path: str | os.PathLike[str], config_key: str, what: str) -> str:
    """Return ``path`` if it exists; otherwise fail with a message naming the path, the config key and the fix."""
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{config_key}={path}: this path does not exist. It should be {what}. "
            f"Set it on the command line, e.g. `lamina train {config_key}=/path/to/it`."
        )
    return str(path)
