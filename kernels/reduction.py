"""Turning per-token results into the requested reduction, identically for every implementation."""

from __future__ import annotations

import torch

from lamina_kernels.rows import RowSelection, scatter_per_token


def reduce_loss(per_token: torch.Tensor, sel: RowSelection, reduction: str) -> torch.Tensor:
    """``mean`` divides by the number of non-ignored tokens (NaN when there are none, as F.cross_entropy)."""
    if reduction == "none":
        return scatter_per_token(per_token, sel)
    total = per_token.sum()
    if reduction == "sum":
        return total
    return total / sel.num_valid if sel.num_valid > 0 else total * float("nan")
