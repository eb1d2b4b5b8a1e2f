"""An independent float64 oracle for the loss: plain slicing, materialised logits, ``F.cross_entropy``.

Deliberately shares no code with ``lamina_kernels`` so that a bug there cannot hide in the oracle too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def oracle_loss(
    e: torch.Tensor,
    c: torch.Tensor,
    targets: torch.Tensor,
    *,
    bias: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    shift: int = 0,
    softcap: float | None = None,
    logit_scale: float | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    return_lse: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The loss in float64 on (float64 copies of) the inputs; differentiable with respect to them."""
    e64, c64 = e.double(), c.double()
    out_shape = targets.shape
    if shift:
        e64 = e64[..., :-shift, :]
        targets = targets[..., shift:]
    logits = e64 @ c64.T
    if bias is not None:
        logits = logits + bias.double()
    if logit_scale is not None:
        logits = logits * logit_scale
    if softcap is not None:
        logits = softcap * torch.tanh(logits / softcap)
    flat_logits = logits.reshape(-1, c.shape[0])
    flat_targets = targets.reshape(-1)
    per_token = F.cross_entropy(
        flat_logits,
        flat_targets,
        ignore_index=ignore_index,
        reduction="none",
        label_smoothing=label_smoothing,
    )
    lse = torch.logsumexp(flat_logits, dim=-1)
    valid = flat_targets != ignore_index
    per_token = per_token + z_loss * lse.square() * valid
    lse = lse * valid
    if reduction == "mean":
        loss = per_token.sum() / valid.sum()
    elif reduction == "sum":
        loss = per_token.sum()
    else:
        loss = _unshift(per_token, out_shape, shift)
    return (loss, _unshift(lse, out_shape, shift)) if return_lse else loss


def _unshift(values: torch.Tensor, out_shape: torch.Size, shift: int) -> torch.Tensor:
    """Put per-token values at their target positions; the first ``shift`` positions per sequence are 0."""
    if not shift:
        return values.reshape(out_shape)
    lead = (*out_shape[:-1], out_shape[-1] - shift)
    return F.pad(values.reshape(lead), (shift, 0))
