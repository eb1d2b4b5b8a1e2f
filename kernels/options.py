"""Validated options shared by every implementation of the fused linear cross-entropy.

Every implementation (reference, chunked, Triton) receives the same frozen :class:`LossOptions`, so argument
checking happens once, in one place, and the error messages are the same whichever path runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

REDUCTIONS = ("mean", "sum", "none")
IMPLS = ("auto", "triton", "chunked", "reference")


@dataclass(frozen=True)
class LossOptions:
    """Everything about the loss except the tensors. ``filter_eps`` is already resolved to a float or None."""

    ignore_index: int
    reduction: str
    shift: int
    softcap: float | None
    logit_scale: float | None
    label_smoothing: float
    z_loss: float
    filter_eps: float | None
    vocab_sort: bool

    @property
    def scale(self) -> float:
        """The multiplicative logit scale (1.0 when unset); the softcap is applied after it."""
        return 1.0 if self.logit_scale is None else float(self.logit_scale)


def resolve_filter_eps(filter_eps: float | str | None, dtype: torch.dtype) -> float | None:
    """Turn the user's ``filter_eps`` into a threshold.

    ``"auto"`` is ``finfo(dtype).eps / 32``: a softmax entry below it changes a gradient in the input precision by
    less than 1/32 of a unit in the last place, which is why the CCE paper found it harmless for fine-tuning.
    """
    if filter_eps is None:
        return None
    if isinstance(filter_eps, str):
        if filter_eps != "auto":
            raise ValueError(f"filter_eps must be a float, None or 'auto', got {filter_eps!r}.")
        return torch.finfo(dtype).eps / 32 if dtype.is_floating_point else None
    value = float(filter_eps)
    if not value >= 0.0:
        raise ValueError(f"filter_eps must be >= 0 (or None for exact gradients), got {filter_eps!r}.")
    return value


def build_options(
    *,
    dtype: torch.dtype,
    ignore_index: int,
    reduction: str,
    shift: int,
    softcap: float | None,
    logit_scale: float | None,
    label_smoothing: float,
    z_loss: float,
    filter_eps: float | str | None,
    vocab_sort: bool,
) -> LossOptions:
    """Check every scalar option and return them frozen; raise ValueError naming the bad option and the fix."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")
    if not isinstance(shift, int) or isinstance(shift, bool) or shift < 0:
        raise ValueError(f"shift must be a non-negative int (1 for next-token prediction), got {shift!r}.")
    if softcap is not None and not float(softcap) > 0.0:
        raise ValueError(f"softcap must be a positive float or None, got {softcap!r}.")
    if logit_scale is not None and not float(logit_scale) != 0.0:
        raise ValueError(f"logit_scale must be a non-zero float or None, got {logit_scale!r}.")
    if not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}.")
    if not float(z_loss) >= 0.0:
        raise ValueError(f"z_loss must be >= 0, got {z_loss!r}.")
    return LossOptions(
        ignore_index=int(ignore_index),
        reduction=reduction,
        shift=shift,
        softcap=None if softcap is None else float(softcap),
        logit_scale=None if logit_scale is None else float(logit_scale),
        label_smoothing=float(label_smoothing),
        z_loss=float(z_loss),
        filter_eps=resolve_filter_eps(filter_eps, dtype),
        vocab_sort=bool(vocab_sort),
    )
