"""``impl="chunked"``: the fused loss in pure PyTorch, the default on CPU.

Token rows are processed in chunks whose size comes from a memory budget (:mod:`lamina_kernels.chunk_budget`);
only one float32 logit buffer exists at a time, reused across chunks and overwritten in place
(logits -> exp -> softmax-minus-one-hot), so the loss costs about one chunk of memory beyond the gradients
themselves.

The buffer is *vocabulary-major*: a chunk's logits are ``c @ e_chunk.T``, a contiguous ``(V, width)`` matrix with
one column per token. With the large classifier as the plain left operand the CPU GEMM runs faster than
``e_chunk @ c.T``, and the two gradient GEMMs (``G.T @ c`` and ``G @ e_chunk``) are as fast as in the other layout.
``width`` is the chunk's row count rounded up to a multiple of 16: the GEMMs slow down sharply on an unaligned
leading dimension, and a contiguous buffer keeps the element-wise passes fast with two threads (a strided view of
a wider buffer made them 4x slower). The extra columns are *padding tokens*: zero hidden states, weight zero and
a log-sum-exp of +inf in backward, so their gradient columns are exactly zero and their losses are dropped.

When the loss is a scalar (``mean``/``sum``) and the log-sum-exp is not returned, the gradients are computed
*in the forward pass* while the chunk's logits are still in memory (three GEMMs per chunk instead of four:
nothing is recomputed), kept, and scaled by the incoming gradient in backward. Otherwise (``reduction="none"``,
``return_lse=True``) the forward keeps only the per-token log-sum-exp and the backward recomputes each chunk.

Gradient filtering on CPU works per vocabulary entry: within a chunk, entries whose softmax never reaches
``filter_eps`` (and that are no token's target) are left out of the two gradient GEMMs, which then run on the
gathered remaining rows of the buffer. It only pays when at least half the entries drop out, so below that the
dense GEMMs run. Because entries are gathered individually, the vocabulary order does not matter here and
``vocab_sort`` has no effect on this path.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lamina_kernels import poison
from lamina_kernels.chunk_budget import chunk_budget_bytes, padded_rows, rows_per_chunk
from lamina_kernels.filter_stats import FilterStats
from lamina_kernels.options import LossOptions
from lamina_kernels.reference import compute_dtype

SPARSE_PAYS_BELOW = 0.5


@dataclass
class GradientBuffers:
    """Where the chunks accumulate gradients; any of them is None when that input needs no gradient.

    ``c`` starts uninitialised: the first chunk's GEMM writes it (``c_written`` then becomes True), which saves
    zero-filling a V x D buffer per call.
    """

    e_flat: torch.Tensor | None
    c: torch.Tensor | None
    bias: torch.Tensor | None
    c_written: bool = False


@dataclass(frozen=True)
class ChunkedProblem:
    """Operands in the compute dtype, shared by every chunk of one call."""

    e_flat: torch.Tensor
    rows: torch.Tensor | None
    target_ids: torch.Tensor
    c: torch.Tensor
    bias: torch.Tensor | None
    opts: LossOptions
    dtype: torch.dtype

    @property
    def num_valid(self) -> int:
        return int(self.target_ids.numel())

    @property
    def vocab_size(self) -> int:
        return int(self.c.shape[0])

    def chunk_inputs(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The chunk's hidden states in the compute dtype and, when rows are selected, their row indices."""
        if self.rows is None:
            return self.e_flat[start:stop].to(self.dtype), None
        index = self.rows[start:stop]
        return self.e_flat.index_select(0, index).to(self.dtype), index


def make_problem(
    e_flat: torch.Tensor,
    c: torch.Tensor,
    bias: torch.Tensor | None,
    rows: torch.Tensor | None,
    target_ids: torch.Tensor,
    opts: LossOptions,
) -> ChunkedProblem:
    """Cast the classifier (and bias) to the compute dtype once; a no-op for float32 and float64 inputs."""
    dtype = compute_dtype(c.dtype)
    return ChunkedProblem(
        e_flat=e_flat,
        rows=rows,
        target_ids=target_ids,
        c=c.to(dtype),
        bias=None if bias is None else bias.to(dtype),
        opts=opts,
        dtype=dtype,
    )


def padded_chunk(
    prob: ChunkedProblem, start: int, stop: int, pad_buffer: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """The chunk's hidden states padded with zero rows to its width, their row indices, and padded targets.

    Returns ``(e_pad, row_index, targets_pad)``: ``e_pad`` is ``(width, D)`` in the compute dtype; padding rows are
    zero and their target is class 0 (with weight zero it contributes nothing).
    """
    n = stop - start
    width = padded_rows(n)
    e_chunk, row_index = prob.chunk_inputs(start, stop)
    targets = prob.target_ids[start:stop]
    if width == n:
        return e_chunk, row_index, targets
    e_pad = pad_buffer[:width]
    e_pad[:n].copy_(e_chunk)
    e_pad[n:].zero_()
    return e_pad, row_index, torch.nn.functional.pad(targets, (0, width - n))


def pad_tokens(values: torch.Tensor, width: int, fill: float) -> torch.Tensor:
    """A per-token vector extended to the chunk width with ``fill`` for the padding tokens."""
    if values.numel() == width:
        return values
    return torch.nn.functional.pad(values, (0, width - values.numel()), value=fill)


def token_weights(
    loss_weight: torch.Tensor | float | None, start: int, stop: int, width: int, prob: ChunkedProblem
) -> torch.Tensor:
    """The chunk's per-token loss weights (one scalar for all tokens, or a per-token tensor), zero for padding."""
    if isinstance(loss_weight, torch.Tensor):
        weight = loss_weight[start:stop]
    else:
        weight = torch.full(
            (stop - start,), float(loss_weight or 0.0), dtype=prob.dtype, device=prob.c.device
        )
    return pad_tokens(weight, width, 0.0)


def logits_into(buffer: torch.Tensor, e_pad: torch.Tensor, prob: ChunkedProblem) -> torch.Tensor:
    """Write the chunk's transformed logits (scale, then softcap), ``(V, width)``, into ``buffer`` in place."""
    torch.mm(prob.c, e_pad.T, out=buffer)
    if prob.bias is not None:
        buffer.add_(prob.bias[:, None])
    if prob.opts.logit_scale is not None:
        buffer.mul_(prob.opts.logit_scale)
    if prob.opts.softcap is not None:
        buffer.div_(prob.opts.softcap).tanh_().mul_(prob.opts.softcap)
    return buffer


def softcap_derivative_into(buffer: torch.Tensor, logits: torch.Tensor, opts: LossOptions) -> torch.Tensor:
    """d(output logit)/d(raw logit) = scale * (1 - (y / softcap)^2), computed from the capped logits y."""
    torch.mul(logits, logits, out=buffer)
    return buffer.mul_(-opts.scale / opts.softcap**2).add_(opts.scale)


def exp_and_lse_(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Overwrite ``logits`` (``(V, width)``) with exp(logits - column max); return each token's log-sum-exp and
    the sum of its exps.

    Done in place so that no second buffer exists (``torch.logsumexp`` would allocate one).
    """
    token_max = logits.amax(dim=0)
    logits.sub_(token_max[None, :]).exp_()
    token_sum = logits.sum(dim=0)
    return token_max + token_sum.log(), token_sum


def per_token_loss(
    lse: torch.Tensor, target_logit: torch.Tensor, mean_logit: torch.Tensor | None, opts: LossOptions
) -> torch.Tensor:
    """(1 - ls) * (lse - y_t) + ls * (lse - mean(y)) + z_loss * lse^2, for each token of the chunk."""
    loss = lse - (1.0 - opts.label_smoothing) * target_logit
    if mean_logit is not None:
        loss = loss - opts.label_smoothing * mean_logit
    if opts.z_loss > 0.0:
        loss = loss + opts.z_loss * lse.square()
    return loss


def probs_to_logit_grad_(
    probs: torch.Tensor,
    targets: torch.Tensor,
    lse: torch.Tensor,
    loss_weight: torch.Tensor,
    lse_weight: torch.Tensor | None,
    derivative: torch.Tensor | None,
    opts: LossOptions,
    normaliser: torch.Tensor | None = None,
) -> torch.Tensor:
    """Turn the chunk's softmax, ``(V, width)``, into d(total)/d(raw logits) in place.

    With ``w`` the weight of each token's loss and ``g`` that of its returned log-sum-exp:
    dL/dy_v = p_v * (w * (1 + 2 z lse) + g) - w * (1 - ls) * [v == t] - w * ls / V, then times dy/dz (the
    logit scale, and the softcap derivative when there is one). ``normaliser`` (the sum of the exps, in forward)
    is divided out in the same pass that applies the weights.
    """
    scale = 1.0 if derivative is not None else opts.scale
    coef = loss_weight * (1.0 + 2.0 * opts.z_loss * lse) if opts.z_loss > 0.0 else loss_weight
    if lse_weight is not None:
        coef = coef + lse_weight
    coef = coef * scale
    if normaliser is not None:
        coef = coef / normaliser
    probs.mul_(coef[None, :])
    target_coef = loss_weight * ((1.0 - opts.label_smoothing) * scale)
    probs.scatter_add_(0, targets[None, :], -target_coef[None, :].to(probs.dtype))
    if opts.label_smoothing > 0.0:
        probs.sub_((loss_weight * (opts.label_smoothing * scale / probs.shape[0]))[None, :])
    if derivative is not None:
        probs.mul_(derivative)
    return probs


def kept_entries(probs: torch.Tensor, n: int, targets: torch.Tensor, eps: float) -> torch.Tensor | None:
    """Vocabulary entries that survive filtering in this chunk (its first ``n`` tokens are real), or None when
    filtering would not pay."""
    keep = probs[:, :n].amax(dim=1) >= eps
    keep[targets[:n]] = True
    entries = keep.nonzero().squeeze(1)
    if entries.numel() >= SPARSE_PAYS_BELOW * probs.shape[0]:
        return None
    return entries


def accumulate_(
    grad_logits: torch.Tensor,
    e_pad: torch.Tensor,
    n: int,
    row_index: torch.Tensor | None,
    start: int,
    entries: torch.Tensor | None,
    prob: ChunkedProblem,
    grads: GradientBuffers,
) -> None:
    """Add the chunk's contribution to dE (its ``n`` real rows, written once), dC and dbias, on all or only the
    kept vocabulary entries."""
    c = prob.c
    if entries is not None:
        grad_logits = grad_logits.index_select(0, entries)
        c = c.index_select(0, entries)
    if grads.e_flat is not None:
        width = grad_logits.shape[1]
        if row_index is None and width == n and grads.e_flat.dtype == prob.dtype:
            torch.mm(grad_logits.T, c, out=grads.e_flat[start : start + n])
        elif row_index is None:
            grads.e_flat[start : start + n].copy_((grad_logits.T @ c)[:n])
        else:
            grads.e_flat.index_copy_(0, row_index, (grad_logits.T @ c)[:n].to(grads.e_flat.dtype))
    if grads.c is not None:
        if entries is None and not grads.c_written:
            torch.mm(grad_logits, e_pad, out=grads.c)
        elif entries is None:
            grads.c.addmm_(grad_logits, e_pad)
        else:
            if not grads.c_written:
                grads.c.zero_()
            grads.c.index_add_(0, entries, grad_logits @ e_pad)
        grads.c_written = True
    if grads.bias is not None:
        if entries is None:
            grads.bias.add_(grad_logits.sum(dim=1))
        else:
            grads.bias.index_add_(0, entries, grad_logits.sum(dim=1))


def new_gradient_buffers(
    prob: ChunkedProblem, need_e: bool, need_c: bool, need_bias: bool
) -> GradientBuffers:
    """dE in e's dtype (each row is written once, complete); dC and dbias accumulate in the compute dtype."""
    de = None
    if need_e:
        alloc = poison.empty_like if prob.rows is None else torch.zeros_like
        de = alloc(prob.e_flat)
    dc = poison.empty_like(prob.c) if need_c else None
    db = torch.zeros(prob.vocab_size, dtype=prob.dtype, device=prob.c.device) if need_bias else None
    return GradientBuffers(e_flat=de, c=dc, bias=db)


def gradient_bytes(prob: ChunkedProblem, grads: GradientBuffers) -> int:
    """Bytes of the gradient outputs: the floor the chunk budget is measured against."""
    return sum(t.numel() * t.element_size() for t in (grads.e_flat, grads.c) if t is not None)


def run_chunks(
    prob: ChunkedProblem,
    *,
    grads: GradientBuffers | None,
    loss_weight: torch.Tensor | float | None,
    lse_weight: torch.Tensor | None,
    saved_lse: torch.Tensor | None,
    stats: FilterStats | None,
) -> tuple[torch.Tensor | None, torch.Tensor]:
    """One pass over all chunks.

    Forward (``saved_lse is None``): returns per-token loss and lse, and also accumulates gradients into ``grads``
    when given (``loss_weight`` then is the scalar weight of every token). Backward (``saved_lse`` given):
    recomputes the chunks and accumulates gradients only; returns (None, saved_lse).
    """
    opts = prob.opts
    n_valid, vocab = prob.num_valid, prob.vocab_size
    device = prob.c.device
    needs_grad = grads is not None
    buffers = 2 if (needs_grad and opts.softcap is not None) else 1
    budget = chunk_budget_bytes(gradient_bytes(prob, grads) if grads is not None else 0)
    rows = rows_per_chunk(n_valid, vocab, buffers, budget, torch.finfo(prob.dtype).bits // 8)
    max_width = padded_rows(rows)
    logit_buffer = poison.empty(vocab * max_width, dtype=prob.dtype, device=device)
    deriv_buffer = poison.empty_like(logit_buffer) if buffers == 2 else None
    pad_buffer = torch.empty(max_width, prob.c.shape[1], dtype=prob.dtype, device=device)
    use_filter = needs_grad and opts.filter_eps is not None and opts.label_smoothing == 0.0
    forward = saved_lse is None
    losses, lses = [], []

    for start in range(0, n_valid, rows):
        stop = min(start + rows, n_valid)
        n = stop - start
        width = padded_rows(n)
        e_pad, row_index, targets = padded_chunk(prob, start, stop, pad_buffer)
        logits = logits_into(logit_buffer[: vocab * width].view(vocab, width), e_pad, prob)
        derivative = None
        if needs_grad and deriv_buffer is not None:
            derivative = softcap_derivative_into(
                deriv_buffer[: vocab * width].view(vocab, width), logits, opts
            )
        normaliser = None
        if forward:
            target_logit = logits.gather(0, targets[None, :]).squeeze(0)
            mean_logit = logits.mean(dim=0) if opts.label_smoothing > 0.0 else None
            lse, normaliser = exp_and_lse_(logits)
            losses.append(per_token_loss(lse, target_logit, mean_logit, opts)[:n])
            lses.append(lse[:n])
            if not needs_grad:
                continue
            probs = logits
        else:
            lse_real = saved_lse[start:stop]
            # padding tokens: lse = +inf makes their softmax exactly 0 (and 0 in the coefficients below)
            probs = logits.sub_(pad_tokens(lse_real, width, float("inf"))[None, :]).exp_()
            lse = pad_tokens(lse_real, width, 0.0)
        weight = token_weights(loss_weight, start, stop, width, prob)
        chunk_lse_weight = None if lse_weight is None else pad_tokens(lse_weight[start:stop], width, 0.0)
        entries = kept_entries(probs, n, targets, opts.filter_eps) if use_filter else None
        if stats is not None:
            skipped = 0 if entries is None else n * (vocab - entries.numel())
            stats.add(n * vocab, skipped)
        grad_logits = probs_to_logit_grad_(
            probs, targets, lse, weight, chunk_lse_weight, derivative, opts, normaliser
        )
        accumulate_(grad_logits, e_pad, n, row_index, start, entries, prob, grads)

    if grads is not None and grads.c is not None and not grads.c_written:  # no valid rows: no chunk ran
        grads.c.zero_()
        grads.c_written = True
    if not forward:
        return None, saved_lse
    return torch.cat(losses), torch.cat(lses)
