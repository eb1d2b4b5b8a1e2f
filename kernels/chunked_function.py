"""The autograd wrapper of the chunked path: decides when gradients are computed, and hands them over."""

from __future__ import annotations

import torch

from lamina_kernels.chunked import make_problem, new_gradient_buffers, run_chunks
from lamina_kernels.filter_stats import FilterStats
from lamina_kernels.options import LossOptions


class ChunkedLinearCrossEntropy(torch.autograd.Function):
    """Returns ``(loss, lse)``: the reduced loss (or per-valid-token losses for ``none``) and per-token lse.

    ``precompute=True`` (scalar loss, lse not returned): gradients are computed in forward and stored on ``ctx``
    (not through ``save_for_backward``, so that backward can drop the last reference and autograd adopts the
    buffers as ``.grad`` without a copy).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx,
        e_flat: torch.Tensor,
        c: torch.Tensor,
        bias: torch.Tensor | None,
        rows: torch.Tensor | None,
        target_ids: torch.Tensor,
        opts: LossOptions,
        precompute: bool,
        stats: FilterStats | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        prob = make_problem(e_flat, c, bias, rows, target_ids, opts)
        need_e, need_c, need_b = ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        n_valid = prob.num_valid
        token_weight = 1.0 / n_valid if opts.reduction == "mean" else 1.0
        grads = new_gradient_buffers(prob, need_e, need_c, need_b) if precompute else None
        per_token, lse = run_chunks(
            prob, grads=grads, loss_weight=token_weight, lse_weight=None, saved_lse=None, stats=stats
        )
        loss = per_token if opts.reduction == "none" else per_token.sum() * token_weight
        ctx.opts, ctx.stats, ctx.precompute = opts, stats, precompute
        ctx.input_dtypes = (e_flat.dtype, c.dtype, None if bias is None else bias.dtype)
        if precompute:
            ctx.grads = grads
            ctx.mark_non_differentiable(lse)
        else:
            ctx.save_for_backward(e_flat, c, bias, rows, target_ids, lse)
        return loss, lse

    @staticmethod
    def backward(ctx, grad_loss: torch.Tensor, grad_lse: torch.Tensor | None):  # type: ignore[override]
        opts: LossOptions = ctx.opts
        if ctx.precompute:
            grads = ctx.grads
            if grads is None:
                raise RuntimeError(
                    "The chunked linear cross-entropy computed its gradients in forward and they were already "
                    "used: backward through it twice (retain_graph=True) is not supported. Use impl='reference'."
                )
            ctx.grads = None
            scale = None if bool(grad_loss == 1) else grad_loss
            outputs = [grads.e_flat, grads.c, grads.bias]
            del grads
        else:
            e_flat, c, bias, rows, target_ids, lse = ctx.saved_tensors
            prob = make_problem(e_flat, c, bias, rows, target_ids, opts)
            if opts.reduction == "none":
                loss_weight = grad_loss.to(prob.dtype)
            else:
                per_token = grad_loss / prob.num_valid if opts.reduction == "mean" else grad_loss
                loss_weight = per_token.to(prob.dtype).expand(prob.num_valid)
            lse_weight = None if grad_lse is None else grad_lse.to(prob.dtype)
            grads = new_gradient_buffers(prob, *ctx.needs_input_grad[:3])
            run_chunks(
                prob,
                grads=grads,
                loss_weight=loss_weight,
                lse_weight=lse_weight,
                saved_lse=lse,
                stats=ctx.stats,
            )
            scale = None
            outputs = [grads.e_flat, grads.c, grads.bias]
            del grads
        result = []
        for grad, dtype in zip(outputs, ctx.input_dtypes, strict=True):
            if grad is not None:
                if scale is not None:
                    grad.mul_(scale.to(grad.dtype))
                if dtype is not None and grad.dtype != dtype:
                    grad = grad.to(dtype)
            result.append(grad)
        outputs.clear()
        return result[0], result[1], result[2], None, None, None, None, None
