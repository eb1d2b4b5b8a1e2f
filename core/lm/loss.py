"""The language-model training loss: one entry point, several interchangeable implementations.

Every implementation computes the same quantity, the mean next-token cross-entropy of
``softcap(logit_scale * (hidden @ weight.T + bias))`` against ``labels`` shifted by one, so that runs can compare
memory and speed while the numbers stay comparable:

- ``cce`` (default): ``lamina_kernels.linear_cross_entropy`` with gradient filtering and vocabulary sorting; the
  ``N x V`` logits never exist in memory.
- ``cce_exact``: the same kernel with filtering off, so gradients are exact (the paper's advice for pretraining,
  where rare tokens' classifier rows must keep their small gradients).
- ``torch``: full logits then ``F.cross_entropy``, the baseline the paper measures against.
- ``torch_compile``: the baseline under ``torch.compile`` (which fuses part of the work).
- ``torch_linear_ce``: torch's native ``F.linear_cross_entropy`` with batch chunking.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import torch
import torch.nn.functional as F

LOSS_IMPLS = ("cce", "cce_exact", "torch", "torch_compile", "torch_linear_ce")
IGNORE_INDEX = -100


def shift_labels(labels: torch.Tensor, ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Targets for next-token prediction: position ``t`` predicts ``labels[t + 1]``; the last position has none."""
    shifted = labels.new_full(labels.shape, ignore_index)
    shifted[..., :-1] = labels[..., 1:]
    return shifted


def full_logits(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    logit_scale: float | None = None,
    softcap: float | None = None,
) -> torch.Tensor:
    """Materialised logits exactly as the Hugging Face heads compute them (scale, then soft-cap)."""
    logits = F.linear(hidden, weight, bias)
    if logit_scale is not None:
        logits = logits * logit_scale
    if softcap is not None:
        logits = torch.tanh(logits / softcap) * softcap
    return logits


def _torch_loss(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    labels: torch.Tensor,
    bias: torch.Tensor | None,
    logit_scale: float | None,
    softcap: float | None,
    ignore_index: int,
) -> torch.Tensor:
    """Baseline: the whole ``N x V`` logit matrix (upcast to fp32 as HF does) then cross-entropy."""
    logits = full_logits(hidden, weight, bias, logit_scale=logit_scale, softcap=softcap).float()
    targets = shift_labels(labels, ignore_index)
    return F.cross_entropy(logits.flatten(0, -2), targets.flatten(), ignore_index=ignore_index)


@cache
def _compiled_torch_loss() -> Callable[..., torch.Tensor]:
    return torch.compile(_torch_loss, dynamic=True)


def _torch_linear_ce_loss(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    labels: torch.Tensor,
    bias: torch.Tensor | None,
    logit_scale: float | None,
    softcap: float | None,
    ignore_index: int,
    batch_chunk_size: int,
) -> torch.Tensor:
    if softcap is not None:
        raise ValueError(
            "loss_impl='torch_linear_ce' cannot apply a logit soft-cap (this model family has "
            "final_logit_softcapping); use loss_impl='cce' or 'torch'."
        )
    if logit_scale is not None:
        # (s * W) h + s * b == s * (W h + b): fold the scale into the head so the native op sees plain logits.
        weight = weight * logit_scale
        bias = None if bias is None else bias * logit_scale
    targets = shift_labels(labels, ignore_index)
    options = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=batch_chunk_size)
    return F.linear_cross_entropy(
        hidden.flatten(0, -2),
        weight,
        targets.flatten(),
        linear_bias=bias,
        ignore_index=ignore_index,
        options=options,
    )


def _autocast_like_linear(
    hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Give the kernel the dtypes ``F.linear`` would use: under autocast (``precision=bf16-mixed``) the
    head's matmul runs in the autocast dtype; otherwise the fp32 master weight meets the hidden states' dtype."""
    device_type = hidden.device.type
    autocast = torch.is_autocast_enabled(device_type)
    dtype = torch.get_autocast_dtype(device_type) if autocast else hidden.dtype

    def cast(tensor: torch.Tensor | None) -> torch.Tensor | None:
        return tensor if tensor is None or tensor.dtype == dtype else tensor.to(dtype)

    return cast(hidden), cast(weight), cast(bias)


def causal_lm_loss(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    labels: torch.Tensor,
    *,
    impl: str = "cce",
    bias: torch.Tensor | None = None,
    logit_scale: float | None = None,
    softcap: float | None = None,
    ignore_index: int = IGNORE_INDEX,
    batch_chunk_size: int = 1024,
) -> torch.Tensor:
    """Mean next-token cross-entropy of a causal LM from its final hidden states and output embedding.

    Args:
        hidden: ``(B, T, D)`` final hidden states (after the last norm), in the model's compute dtype.
        weight: ``(V, D)`` output embedding (the tied input embedding for tied models).
        labels: ``(B, T)`` token ids, ``ignore_index`` where no loss is wanted; NOT pre-shifted.
        impl: one of :data:`LOSS_IMPLS`.
        bias, logit_scale, softcap: the family's head details (see :mod:`lamina.lm.family`).
        batch_chunk_size: token chunk for ``torch_linear_ce``.
    """
    if impl in ("cce", "cce_exact"):
        from lamina_kernels import linear_cross_entropy

        hidden, weight, bias = _autocast_like_linear(hidden, weight, bias)
        return linear_cross_entropy(
            hidden,
            weight,
            labels,
            bias=bias,
            ignore_index=ignore_index,
            reduction="mean",
            shift=1,
            softcap=softcap,
            logit_scale=logit_scale,
            filter_eps="auto" if impl == "cce" else None,
        )
    if impl == "torch":
        return _torch_loss(hidden, weight, labels, bias, logit_scale, softcap, ignore_index)
    if impl == "torch_compile":
        return _compiled_torch_loss()(hidden, weight, labels, bias, logit_scale, softcap, ignore_index)
    if impl == "torch_linear_ce":
        return _torch_linear_ce_loss(
            hidden, weight, labels, bias, logit_scale, softcap, ignore_index, batch_chunk_size
        )
    raise ValueError(f"unknown loss_impl {impl!r}; choose one of {', '.join(LOSS_IMPLS)}.")
