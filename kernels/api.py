"""The public entry points: :func:`linear_cross_entropy` and the :class:`LinearCrossEntropy` module."""

from __future__ import annotations

import torch
from torch import nn

from lamina_kernels.chunked_function import ChunkedLinearCrossEntropy
from lamina_kernels.filter_stats import active_stats
from lamina_kernels.options import IMPLS, LossOptions, build_options
from lamina_kernels.reduction import reduce_loss
from lamina_kernels.reference import reference_per_token
from lamina_kernels.rows import check_shapes, scatter_per_token, select_rows


def triton_available() -> bool:
    """True when Triton imports (it is the optional ``lamina[triton]`` extra)."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_impl(impl: str, device: torch.device) -> str:
    """``auto`` is Triton on CUDA when Triton is installed, the chunked PyTorch path everywhere else."""
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}.")
    if impl == "auto":
        return "triton" if device.type == "cuda" and triton_available() else "chunked"
    if impl == "triton" and not triton_available():
        raise ImportError("impl='triton' needs Triton: pip install 'lamina[triton]' (or use impl='chunked').")
    return impl


def linear_cross_entropy(
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
    filter_eps: float | str | None = "auto",
    vocab_sort: bool = True,
    impl: str = "auto",
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of ``e @ c.T + bias`` against ``targets`` without materialising the logits.

    Equals ``F.cross_entropy(transform(e @ c.T + bias), targets, ...) + z_loss * lse**2`` (per non-ignored token)
    in value and gradients, where ``transform`` applies ``logit_scale`` and then ``softcap``; logits are
    accumulated in float32. The loss is float32 (float64 for float64 inputs); gradients have the inputs' dtypes.

    Args:
        e: hidden states ``(..., D)``. c: classifier ``(V, D)``. targets: class indices shaped ``e.shape[:-1]``.
        shift: ``k > 0`` makes position ``t`` predict ``targets[..., t + k]`` (next-token loss with ``k=1``)
            without slicing copies; the first ``k`` target positions of each sequence are then unused.
        reduction: ``mean`` over non-ignored tokens, ``sum``, or ``none`` (shaped like ``targets``, 0 at ignored
            and shifted-out positions).
        return_lse: also return the per-token log-sum-exp (shaped like ``targets``, 0 where ignored),
            differentiable.
        filter_eps: skip backward work on vocabulary entries whose softmax stays below this; ``None`` is exact,
            ``"auto"`` is ``finfo(e.dtype).eps / 32``. Disabled when ``label_smoothing > 0`` (every entry then
            has a gradient of at least ``label_smoothing / V``).
        vocab_sort: Triton only: order vocabulary tiles by average logit so filtering skips more tiles.
        impl: ``"triton"``, ``"chunked"``, ``"reference"`` or ``"auto"`` (Triton on CUDA, chunked elsewhere).
    """
    check_shapes(e, c, targets, bias)
    opts = build_options(
        dtype=e.dtype,
        ignore_index=ignore_index,
        reduction=reduction,
        shift=shift,
        softcap=softcap,
        logit_scale=logit_scale,
        label_smoothing=label_smoothing,
        z_loss=z_loss,
        filter_eps=filter_eps,
        vocab_sort=vocab_sort,
    )
    chosen = resolve_impl(impl, e.device)
    if chosen == "reference":
        return _reference(e, c, targets, bias, opts, return_lse)
    return _fused(e, c, targets, bias, opts, return_lse, chosen)


def _reference(
    e: torch.Tensor,
    c: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None,
    opts: LossOptions,
    return_lse: bool,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    sel = select_rows(e, targets, opts, c.shape[0])
    per_token, lse = reference_per_token(sel, c, bias, opts)
    loss = reduce_loss(per_token, sel, opts.reduction)
    return (loss, scatter_per_token(lse, sel)) if return_lse else loss


@torch.compiler.disable
def _fused(
    e: torch.Tensor,
    c: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None,
    opts: LossOptions,
    return_lse: bool,
    impl: str,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The fused paths run eagerly even inside ``torch.compile`` (a graph break), never traced into a wrong graph."""
    if impl == "triton":
        return _triton(e, c, targets, bias, opts, return_lse)
    sel = select_rows(e, targets, opts, c.shape[0])
    if sel.num_valid == 0:
        return _reference(e, c, targets, bias, opts, return_lse)
    needs_grad = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (e, c, bias))
    precompute = needs_grad and opts.reduction != "none" and not return_lse
    loss, lse = ChunkedLinearCrossEntropy.apply(
        sel.e_flat, c, bias, sel.rows, sel.target_ids, opts, precompute, active_stats()
    )
    if opts.reduction == "none":
        loss = scatter_per_token(loss, sel)
    return (loss, scatter_per_token(lse, sel)) if return_lse else loss


def _triton(
    e: torch.Tensor,
    c: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None,
    opts: LossOptions,
    return_lse: bool,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Triton path: reductions in torch on device tensors, so nothing synchronises with the host."""
    from lamina_kernels.triton_function import TritonLinearCrossEntropy, compact_rows

    e_flat = e.reshape(-1, e.shape[-1])
    if e_flat.stride(1) != 1:
        e_flat = e_flat.contiguous()
    c_rows = c if c.stride(1) == 1 else c.contiguous()
    rows = compact_rows(e, targets, opts, c.shape[0])
    loss, lse = TritonLinearCrossEntropy.apply(e_flat, c_rows, bias, rows, opts, active_stats())

    def per_token(values: torch.Tensor) -> torch.Tensor:
        full = values.new_zeros(targets.numel()).index_put((rows.out_positions,), values, accumulate=True)
        return full.reshape(targets.shape)

    if opts.reduction == "none":
        out = per_token(loss)
    elif opts.reduction == "sum":
        out = loss.sum()
    else:
        out = loss.sum() / rows.n_valid[0]
    return (out, per_token(lse)) if return_lse else out


class LinearCrossEntropy(nn.Module):
    """Module form of :func:`linear_cross_entropy`: the options are fixed at construction.

    ``forward(e, c, targets, bias=None)`` takes the classifier as an argument, so the module owns no weights and
    works with tied embeddings (pass ``model.lm_head.weight``).
    """

    def __init__(
        self,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        shift: int = 0,
        softcap: float | None = None,
        logit_scale: float | None = None,
        label_smoothing: float = 0.0,
        z_loss: float = 0.0,
        return_lse: bool = False,
        filter_eps: float | str | None = "auto",
        vocab_sort: bool = True,
        impl: str = "auto",
    ) -> None:
        super().__init__()
        build_options(
            dtype=torch.float32,
            ignore_index=ignore_index,
            reduction=reduction,
            shift=shift,
            softcap=softcap,
            logit_scale=logit_scale,
            label_smoothing=label_smoothing,
            z_loss=z_loss,
            filter_eps=filter_eps,
            vocab_sort=vocab_sort,
        )
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}.")
        self.options = dict(
            ignore_index=ignore_index,
            reduction=reduction,
            shift=shift,
            softcap=softcap,
            logit_scale=logit_scale,
            label_smoothing=label_smoothing,
            z_loss=z_loss,
            return_lse=return_lse,
            filter_eps=filter_eps,
            vocab_sort=vocab_sort,
            impl=impl,
        )

    def forward(
        self, e: torch.Tensor, c: torch.Tensor, targets: torch.Tensor, bias: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        return linear_cross_entropy(e, c, targets, bias=bias, **self.options)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items() if k != "return_lse" or v)
