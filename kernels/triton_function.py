"""``impl="triton"``: row compaction without host synchronisation, kernel launches, and the autograd wrapper.

Valid rows (not ignored, not shifted out) are moved to the front by a stable sort of the validity mask, and their
count stays on the device; kernels skip every row tile past it, so ignored tokens cost (almost) nothing and the hot
path never waits for the host. Gradients accumulate in fp32 buffers (fp32 atomics) and are cast to the input
dtype at the end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import torch
import triton

from lamina_kernels import poison
from lamina_kernels.filter_stats import FilterStats
from lamina_kernels.options import LossOptions
from lamina_kernels.triton_kernels import backward_kernel, lse_forward_kernel, target_logit_kernel


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


@dataclass(frozen=True)
class TileConfig:
    block_n: int
    block_v: int
    block_d: int
    num_warps: int
    num_stages: int


def tile_config(dtype: torch.dtype) -> TileConfig:
    """Tiles of 128 x 128 for 16-bit inputs (the CCE paper's choice), smaller for fp32; tiny when interpreting."""
    if interpreting():
        return TileConfig(16, 32, 16, 1, 1)
    if dtype in (torch.bfloat16, torch.float16):
        return TileConfig(128, 128, 32, 8, 3)
    return TileConfig(64, 64, 32, 4, 2)


def dot_precision(dtype: torch.dtype) -> str:
    """fp32 inputs use IEEE fp32 dots unless the user allowed TF32 for matmuls in torch."""
    if dtype == torch.float32 and not interpreting() and torch.backends.cuda.matmul.allow_tf32:
        return "tf32"
    return "ieee"


@lru_cache(maxsize=8)
def multiprocessor_count(device_index: int) -> int:
    return torch.cuda.get_device_properties(device_index).multi_processor_count


def vocab_splits(n_rows: int, vocab: int, cfg: TileConfig, device: torch.device) -> int:
    """Split the vocabulary across programs until there are about four programs per multiprocessor."""
    row_tiles = triton.cdiv(max(n_rows, 1), cfg.block_n)
    vocab_tiles = triton.cdiv(vocab, cfg.block_v)
    if device.type != "cuda":
        return min(2, vocab_tiles)
    target = 4 * multiprocessor_count(device.index or 0)
    return max(1, min(vocab_tiles, triton.cdiv(target, row_tiles)))


@dataclass(frozen=True)
class CompactRows:
    """Valid rows first: ``order[i]`` is a row of ``e_flat``; ``i < n_valid`` (a device tensor) are the valid ones."""

    order: torch.Tensor
    targets: torch.Tensor
    n_valid: torch.Tensor
    valid_sorted: torch.Tensor
    out_positions: torch.Tensor


def compact_rows(e: torch.Tensor, targets: torch.Tensor, opts: LossOptions, vocab: int) -> CompactRows:
    """Sort valid rows to the front without synchronising; check target range asynchronously."""
    k = opts.shift
    t_flat = targets.reshape(-1).long()
    n = t_flat.numel()
    if k > 0:
        if e.ndim < 2 or e.shape[-2] <= k:
            raise ValueError(f"shift={k} needs e of shape (..., T, D) with T > {k}; got e {tuple(e.shape)}.")
        seq_len = e.shape[-2]
        position = torch.arange(n, device=e.device) % seq_len
        shifted = torch.full_like(t_flat, opts.ignore_index)
        shifted[:-k] = t_flat[k:]
        valid = (position < seq_len - k) & (shifted != opts.ignore_index)
    else:
        shifted = t_flat
        valid = t_flat != opts.ignore_index
    in_range = (shifted >= 0) & (shifted < vocab)
    message = f"a target is outside the vocabulary [0, {vocab}) and is not ignore_index ({opts.ignore_index})"
    if e.device.type == "cuda":
        torch._assert_async((in_range | ~valid).all(), message)
    elif not bool((in_range | ~valid).all()):
        raise ValueError(
            message[0].upper() + message[1:] + ". Fix the labels or pass the right ignore_index."
        )
    order = torch.argsort((~valid).to(torch.int8), stable=True)
    valid_sorted = valid[order]
    rows_sorted = order
    positions = torch.where(valid_sorted, rows_sorted + k, rows_sorted)
    return CompactRows(
        order=order,
        targets=torch.where(valid_sorted, shifted[order], 0),
        n_valid=valid.sum().reshape(1),
        valid_sorted=valid_sorted,
        out_positions=positions,
    )


def _flags(opts: LossOptions) -> dict:
    return dict(HAS_SCALE=opts.logit_scale is not None, HAS_SOFTCAP=opts.softcap is not None)


def _scalars(opts: LossOptions) -> tuple[float, float]:
    return opts.scale, 1.0 if opts.softcap is None else opts.softcap


def triton_forward(
    e_flat: torch.Tensor,
    c: torch.Tensor,
    bias: torch.Tensor | None,
    rows: CompactRows,
    opts: LossOptions,
    want_vocab_sum: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Per compact row: lse, target logit, row sum of logits (label smoothing); per vocabulary: logit sums."""
    n_rows, d = e_flat.shape
    vocab = c.shape[0]
    cfg = tile_config(e_flat.dtype)
    splits = vocab_splits(n_rows, vocab, cfg, e_flat.device)
    per_split = triton.cdiv(triton.cdiv(vocab, splits), cfg.block_v) * cfg.block_v
    splits = triton.cdiv(vocab, per_split)
    f32 = dict(dtype=torch.float32, device=e_flat.device)
    part_max = poison.empty(n_rows, splits, **f32)
    part_sum = poison.empty(n_rows, splits, **f32)
    smoothing = opts.label_smoothing > 0.0
    part_logit_sum = poison.empty(n_rows, splits, **f32) if smoothing else part_sum
    vocab_sum = torch.zeros(vocab, **f32) if want_vocab_sum else part_sum
    scale, softcap = _scalars(opts)
    upcast = interpreting()
    grid = (triton.cdiv(n_rows, cfg.block_n), splits)
    lse_forward_kernel[grid](
        e_flat,
        c,
        bias if bias is not None else c,
        rows.order,
        rows.n_valid,
        part_max,
        part_sum,
        part_logit_sum,
        vocab_sum,
        n_rows,
        vocab,
        d,
        e_flat.stride(0),
        c.stride(0),
        per_split,
        splits,
        scale,
        softcap,
        BLOCK_N=cfg.block_n,
        BLOCK_V=cfg.block_v,
        BLOCK_D=cfg.block_d,
        HAS_BIAS=bias is not None,
        ROW_LOGIT_SUM=smoothing,
        VOCAB_SUM=want_vocab_sum,
        UPCAST=upcast,
        DOT_PRECISION=dot_precision(e_flat.dtype),
        num_warps=cfg.num_warps,
        num_stages=cfg.num_stages,
        **_flags(opts),
    )
    row_max = part_max.amax(dim=1)
    safe_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    lse = safe_max + (part_sum * torch.exp(part_max - safe_max[:, None])).sum(dim=1).log()
    lse = torch.where(rows.valid_sorted, lse, torch.zeros_like(lse))
    target_logit = poison.empty(n_rows, **f32)
    target_logit_kernel[(triton.cdiv(n_rows, cfg.block_n),)](
        e_flat,
        c,
        bias if bias is not None else c,
        rows.order,
        rows.targets,
        rows.n_valid,
        target_logit,
        n_rows,
        d,
        e_flat.stride(0),
        c.stride(0),
        scale,
        softcap,
        BLOCK_N=cfg.block_n,
        BLOCK_D=cfg.block_d,
        HAS_BIAS=bias is not None,
        num_warps=cfg.num_warps,
        **_flags(opts),
    )
    mean_logit = part_logit_sum.sum(dim=1) / vocab if smoothing else None
    return lse, target_logit, mean_logit, vocab_sum if want_vocab_sum else None


def triton_backward(
    e_flat: torch.Tensor,
    c: torch.Tensor,
    bias: torch.Tensor | None,
    rows: CompactRows,
    lse: torch.Tensor,
    coef_p: torch.Tensor,
    coef_t: torch.Tensor,
    coef_d: torch.Tensor | None,
    perm: torch.Tensor | None,
    opts: LossOptions,
    needs: tuple[bool, bool, bool],
    stats: FilterStats | None,
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    n_rows, d = e_flat.shape
    vocab = c.shape[0]
    cfg = tile_config(e_flat.dtype)
    f32 = dict(dtype=torch.float32, device=e_flat.device)
    de = torch.zeros(n_rows, d, **f32) if needs[0] else None
    dc = torch.zeros(vocab, d, **f32) if needs[1] else None
    db = torch.zeros(vocab, **f32) if needs[2] else None
    skipped = torch.zeros(1, dtype=torch.int32, device=e_flat.device)
    use_filter = opts.filter_eps is not None and opts.label_smoothing == 0.0
    scale, softcap = _scalars(opts)
    dummy = lse
    grid = (triton.cdiv(n_rows, cfg.block_n), triton.cdiv(vocab, cfg.block_v))
    backward_kernel[grid](
        e_flat,
        c,
        bias if bias is not None else c,
        rows.order,
        rows.targets,
        rows.n_valid,
        lse,
        coef_p,
        coef_t,
        coef_d if coef_d is not None else dummy,
        perm if perm is not None else rows.order,
        de if de is not None else dummy,
        dc if dc is not None else dummy,
        db if db is not None else dummy,
        skipped,
        vocab,
        d,
        e_flat.stride(0),
        c.stride(0),
        d,
        d,
        scale,
        softcap,
        float(opts.filter_eps or 0.0),
        BLOCK_N=cfg.block_n,
        BLOCK_V=cfg.block_v,
        BLOCK_D=cfg.block_d,
        HAS_BIAS=bias is not None,
        HAS_SMOOTHING=coef_d is not None,
        FILTER=use_filter,
        SORTED=perm is not None,
        COUNT_SKIPS=stats is not None,
        NEED_DE=needs[0],
        NEED_DC=needs[1],
        NEED_DB=needs[2],
        UPCAST=interpreting(),
        DOT_PRECISION=dot_precision(e_flat.dtype),
        num_warps=cfg.num_warps,
        num_stages=cfg.num_stages,
        **_flags(opts),
    )
    if stats is not None:
        row_tiles = int(triton.cdiv(int(rows.n_valid.item()), cfg.block_n))
        tile = cfg.block_n * cfg.block_v
        stats.add(row_tiles * grid[1] * tile, int(skipped.item()) * tile)
    return de, dc, db


class TritonLinearCrossEntropy(torch.autograd.Function):
    """Returns per-compact-row ``(loss, lse)`` (zero past ``n_valid``); reductions happen outside, in torch."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx, e_flat, c, bias, rows: CompactRows, opts: LossOptions, stats: FilterStats | None
    ):
        use_filter = opts.filter_eps is not None and opts.label_smoothing == 0.0
        want_sort = use_filter and opts.vocab_sort and any(ctx.needs_input_grad[:3])
        lse, target_logit, mean_logit, vocab_sum = triton_forward(e_flat, c, bias, rows, opts, want_sort)
        loss = lse - (1.0 - opts.label_smoothing) * target_logit
        if mean_logit is not None:
            loss = loss - opts.label_smoothing * mean_logit
        if opts.z_loss > 0.0:
            loss = loss + opts.z_loss * lse.square()
        loss = torch.where(rows.valid_sorted, loss, torch.zeros_like(loss))
        perm = torch.argsort(vocab_sum, descending=True) if vocab_sum is not None else None
        ctx.rows, ctx.opts, ctx.stats = rows, opts, stats
        ctx.save_for_backward(e_flat, c, bias, lse, perm)
        return loss, lse

    @staticmethod
    def backward(ctx, grad_loss, grad_lse):  # type: ignore[override]
        e_flat, c, bias, lse, perm = ctx.saved_tensors
        rows: CompactRows = ctx.rows
        opts: LossOptions = ctx.opts
        mask = rows.valid_sorted.to(torch.float32)
        w = (grad_loss.float() if grad_loss is not None else torch.zeros_like(lse)) * mask
        coef_p = w * (1.0 + 2.0 * opts.z_loss * lse) if opts.z_loss > 0.0 else w
        if grad_lse is not None:
            coef_p = coef_p + grad_lse.float() * mask
        coef_t = w * (1.0 - opts.label_smoothing)
        coef_d = w * (opts.label_smoothing / c.shape[0]) if opts.label_smoothing > 0.0 else None
        needs = tuple(bool(x) for x in ctx.needs_input_grad[:3])
        de, dc, db = triton_backward(
            e_flat,
            c,
            bias,
            rows,
            lse,
            coef_p.contiguous(),
            coef_t.contiguous(),
            coef_d,
            perm,
            opts,
            needs,
            ctx.stats,
        )
        de = None if de is None else de.to(e_flat.dtype)
        dc = None if dc is None else dc.to(c.dtype)
        db = None if db is None else db.to(bias.dtype)
        return de, dc, db, None, None, None
