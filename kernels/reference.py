"""``impl="reference"``: the loss on materialised logits, differentiated by autograd.

It holds the full N x V logits, so it is the memory-hungry baseline the fused paths are tested against, and the
choice for users who want the most obviously correct code. Logits are computed in float32 (float64 for float64
inputs) from the inputs, so it has the same fp32 accumulation as the fused paths.
"""

from __future__ import annotations

import torch

from lamina_kernels.options import LossOptions
from lamina_kernels.rows import RowSelection


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 stays float64 (for tests); everything else accumulates in float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def transform_logits(logits: torch.Tensor, opts: LossOptions) -> torch.Tensor:
    """Apply ``logit_scale`` then ``softcap`` out of place (autograd-friendly)."""
    if opts.logit_scale is not None:
        logits = logits * opts.logit_scale
    if opts.softcap is not None:
        logits = torch.tanh(logits / opts.softcap) * opts.softcap
    return logits


def reference_per_token(
    sel: RowSelection, c: torch.Tensor, bias: torch.Tensor | None, opts: LossOptions
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-valid-row loss and log-sum-exp, both differentiable, from materialised logits."""
    dtype = compute_dtype(c.dtype)
    e_rows = sel.e_flat if sel.rows is None else sel.e_flat.index_select(0, sel.rows)
    logits = e_rows.to(dtype) @ c.to(dtype).T
    if bias is not None:
        logits = logits + bias.to(dtype)
    logits = transform_logits(logits, opts)
    lse = torch.logsumexp(logits, dim=-1)
    target_logit = logits.gather(1, sel.target_ids[:, None]).squeeze(1)
    loss = lse - (1.0 - opts.label_smoothing) * target_logit
    if opts.label_smoothing > 0.0:
        loss = loss - opts.label_smoothing * logits.mean(dim=-1)
    if opts.z_loss > 0.0:
        loss = loss + opts.z_loss * lse.square()
    return loss, lse
