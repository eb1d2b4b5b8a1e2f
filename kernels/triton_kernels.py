"""Triton kernels of the fused linear cross-entropy. Imported only when ``impl="triton"`` runs.

Three kernels, all on the compact list of valid rows (``ROWS[i]`` is the row of ``e`` of valid token ``i``; rows at
or beyond ``N_VALID[0]`` -- a device scalar, so nothing waits for the host -- are skipped):

* :func:`lse_forward_kernel`: logit tiles ``e_rows @ c.T`` on chip, an online log-sum-exp over the program's share of
  the vocabulary (the vocabulary is split across programs for parallelism; the partial results are merged
  afterwards), optionally the row sums of the logits (label smoothing) and the per-vocabulary sums of the logits
  over tokens (for vocabulary sorting).
* :func:`target_logit_kernel`: the indexed dot ``e_i . c[t_i]`` (+ bias, scale, softcap).
* :func:`backward_kernel`: one program per (row tile, vocabulary tile): recompute the tile, form
  ``a * softmax - b * onehot - d``, skip the tile when every probability is below ``EPS`` and it holds no target
  (gradient filtering), otherwise add ``dz @ c`` into dE and ``dz.T @ e`` into dC with fp32 atomics. With vocabulary
  sorting, vocabulary tile ``j`` holds the entries ``PERM[j * BLOCK_V : (j + 1) * BLOCK_V]``.

Row and column offsets are computed in int64, so V*D or N*D beyond 2**31 is safe. The interpreter
(``TRITON_INTERPRET=1``) has no libdevice and computes low-precision ``tl.dot`` wrongly, so ``tanh`` is written with
``tl.exp`` and ``UPCAST`` converts tiles to fp32 before every dot when interpreting.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _tanh(x):
    # tanh without libdevice; exact limits at +-inf (exp overflows to inf -> 1, underflows to 0 -> -1).
    return 1.0 - 2.0 / (tl.exp(2.0 * x) + 1.0)


@triton.jit
def _transform(z, scale, softcap, HAS_SCALE: tl.constexpr, HAS_SOFTCAP: tl.constexpr):
    if HAS_SCALE:
        z = z * scale
    if HAS_SOFTCAP:
        z = softcap * _tanh(z / softcap)
    return z


@triton.jit
def _logit_tile(
    E,
    C,
    BIAS,
    e_rows,
    v_idx,
    row_mask,
    v_mask,
    D,
    stride_e,
    stride_c,
    BLOCK_N: tl.constexpr,
    BLOCK_V: tl.constexpr,
    BLOCK_D: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    UPCAST: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):
    """Raw logits (before scale/softcap) of rows ``e_rows`` against vocabulary entries ``v_idx``, fp32."""
    acc = tl.zeros((BLOCK_N, BLOCK_V), dtype=tl.float32)
    for d0 in range(0, D, BLOCK_D):
        d_offs = d0 + tl.arange(0, BLOCK_D)
        d_mask = d_offs < D
        e = tl.load(
            E + e_rows[:, None] * stride_e + d_offs[None, :],
            mask=row_mask[:, None] & d_mask[None, :],
            other=0.0,
        )
        c = tl.load(
            C + v_idx[:, None] * stride_c + d_offs[None, :], mask=v_mask[:, None] & d_mask[None, :], other=0.0
        )
        if UPCAST:
            e = e.to(tl.float32)
            c = c.to(tl.float32)
        acc = tl.dot(e, tl.trans(c), acc, input_precision=DOT_PRECISION)
    if HAS_BIAS:
        acc += tl.load(BIAS + v_idx, mask=v_mask, other=0.0).to(tl.float32)[None, :]
    return acc


@triton.jit
def lse_forward_kernel(
    E,
    C,
    BIAS,
    ROWS,
    N_VALID,
    PART_MAX,
    PART_SUM,
    PART_LOGIT_SUM,
    VOCAB_LOGIT_SUM,
    n_rows,
    V,
    D,
    stride_e,
    stride_c,
    vocab_per_split,
    n_splits,
    scale,
    softcap,
    BLOCK_N: tl.constexpr,
    BLOCK_V: tl.constexpr,
    BLOCK_D: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    HAS_SCALE: tl.constexpr,
    HAS_SOFTCAP: tl.constexpr,
    ROW_LOGIT_SUM: tl.constexpr,
    VOCAB_SUM: tl.constexpr,
    UPCAST: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):
    pid_n = tl.program_id(0)
    pid_s = tl.program_id(1)
    n_valid = tl.load(N_VALID)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    row_mask = offs_n < n_valid
    e_rows = tl.load(ROWS + offs_n, mask=row_mask, other=0).to(tl.int64)
    run_max = tl.full((BLOCK_N,), float("-inf"), dtype=tl.float32)
    run_sum = tl.zeros((BLOCK_N,), dtype=tl.float32)
    run_logit_sum = tl.zeros((BLOCK_N,), dtype=tl.float32)
    v_start = pid_s * vocab_per_split
    v_stop = tl.minimum(v_start + vocab_per_split, V)
    if pid_n * BLOCK_N < n_valid:
        for v0 in range(v_start, v_stop, BLOCK_V):
            v_idx = (v0 + tl.arange(0, BLOCK_V)).to(tl.int64)
            v_mask = v_idx < v_stop
            z = _logit_tile(
                E,
                C,
                BIAS,
                e_rows,
                v_idx,
                row_mask,
                v_mask,
                D,
                stride_e,
                stride_c,
                BLOCK_N,
                BLOCK_V,
                BLOCK_D,
                HAS_BIAS,
                UPCAST,
                DOT_PRECISION,
            )
            y = _transform(z, scale, softcap, HAS_SCALE, HAS_SOFTCAP)
            y_masked = tl.where(v_mask[None, :], y, float("-inf"))
            new_max = tl.maximum(run_max, tl.max(y_masked, 1))
            run_sum = run_sum * tl.exp(run_max - new_max) + tl.sum(tl.exp(y_masked - new_max[:, None]), 1)
            run_max = new_max
            valid_tile = row_mask[:, None] & v_mask[None, :]
            if ROW_LOGIT_SUM:
                run_logit_sum += tl.sum(tl.where(valid_tile, y, 0.0), 1)
            if VOCAB_SUM:
                tl.atomic_add(VOCAB_LOGIT_SUM + v_idx, tl.sum(tl.where(valid_tile, y, 0.0), 0), mask=v_mask)
    out = offs_n.to(tl.int64) * n_splits + pid_s
    out_mask = offs_n < n_rows
    tl.store(PART_MAX + out, run_max, mask=out_mask)
    tl.store(PART_SUM + out, run_sum, mask=out_mask)
    if ROW_LOGIT_SUM:
        tl.store(PART_LOGIT_SUM + out, run_logit_sum, mask=out_mask)


@triton.jit
def target_logit_kernel(
    E,
    C,
    BIAS,
    ROWS,
    TARGETS,
    N_VALID,
    OUT,
    n_rows,
    D,
    stride_e,
    stride_c,
    scale,
    softcap,
    BLOCK_N: tl.constexpr,
    BLOCK_D: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    HAS_SCALE: tl.constexpr,
    HAS_SOFTCAP: tl.constexpr,
):
    pid = tl.program_id(0)
    n_valid = tl.load(N_VALID)
    offs_n = pid * BLOCK_N + tl.arange(0, BLOCK_N)
    row_mask = offs_n < n_valid
    e_rows = tl.load(ROWS + offs_n, mask=row_mask, other=0).to(tl.int64)
    t = tl.load(TARGETS + offs_n, mask=row_mask, other=0).to(tl.int64)
    acc = tl.zeros((BLOCK_N,), dtype=tl.float32)
    for d0 in range(0, D, BLOCK_D):
        d_offs = d0 + tl.arange(0, BLOCK_D)
        mask = row_mask[:, None] & (d_offs < D)[None, :]
        e = tl.load(E + e_rows[:, None] * stride_e + d_offs[None, :], mask=mask, other=0.0).to(tl.float32)
        c = tl.load(C + t[:, None] * stride_c + d_offs[None, :], mask=mask, other=0.0).to(tl.float32)
        acc += tl.sum(e * c, 1)
    if HAS_BIAS:
        acc += tl.load(BIAS + t, mask=row_mask, other=0.0).to(tl.float32)
    y = _transform(acc, scale, softcap, HAS_SCALE, HAS_SOFTCAP)
    tl.store(OUT + offs_n, tl.where(row_mask, y, 0.0), mask=offs_n < n_rows)


@triton.jit
def backward_kernel(
    E,
    C,
    BIAS,
    ROWS,
    TARGETS,
    N_VALID,
    LSE,
    COEF_P,
    COEF_T,
    COEF_D,
    PERM,
    DE,
    DC,
    DB,
    SKIPPED,
    V,
    D,
    stride_e,
    stride_c,
    stride_de,
    stride_dc,
    scale,
    softcap,
    eps,
    BLOCK_N: tl.constexpr,
    BLOCK_V: tl.constexpr,
    BLOCK_D: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    HAS_SCALE: tl.constexpr,
    HAS_SOFTCAP: tl.constexpr,
    HAS_SMOOTHING: tl.constexpr,
    FILTER: tl.constexpr,
    SORTED: tl.constexpr,
    COUNT_SKIPS: tl.constexpr,
    NEED_DE: tl.constexpr,
    NEED_DC: tl.constexpr,
    NEED_DB: tl.constexpr,
    UPCAST: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):
    pid_n = tl.program_id(0)
    pid_v = tl.program_id(1)
    n_valid = tl.load(N_VALID)
    if pid_n * BLOCK_N < n_valid:
        offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        row_mask = offs_n < n_valid
        e_rows = tl.load(ROWS + offs_n, mask=row_mask, other=0).to(tl.int64)
        offs_v = (pid_v * BLOCK_V + tl.arange(0, BLOCK_V)).to(tl.int64)
        v_mask = offs_v < V
        v_idx = offs_v
        if SORTED:  # a constexpr branch: compiled away when unsorted
            v_idx = tl.load(PERM + offs_v, mask=v_mask, other=0).to(tl.int64)
        z = _logit_tile(
            E,
            C,
            BIAS,
            e_rows,
            v_idx,
            row_mask,
            v_mask,
            D,
            stride_e,
            stride_c,
            BLOCK_N,
            BLOCK_V,
            BLOCK_D,
            HAS_BIAS,
            UPCAST,
            DOT_PRECISION,
        )
        y = _transform(z, scale, softcap, HAS_SCALE, HAS_SOFTCAP)
        lse = tl.load(LSE + offs_n, mask=row_mask, other=0.0)
        tile_mask = row_mask[:, None] & v_mask[None, :]
        p = tl.where(tile_mask, tl.exp(y - lse[:, None]), 0.0)
        t = tl.load(TARGETS + offs_n, mask=row_mask, other=-1).to(tl.int64)
        is_target = (v_idx[None, :] == t[:, None]) & tile_mask
        work = True
        if FILTER:
            has_target = tl.max(tl.max(is_target.to(tl.int32), 1), 0) > 0
            work = (tl.max(tl.max(p, 1), 0) >= eps) | has_target
        if work:
            coef_p = tl.load(COEF_P + offs_n, mask=row_mask, other=0.0)
            coef_t = tl.load(COEF_T + offs_n, mask=row_mask, other=0.0)
            dz = p * coef_p[:, None] - tl.where(is_target, coef_t[:, None], 0.0)
            if HAS_SMOOTHING:
                coef_d = tl.load(COEF_D + offs_n, mask=row_mask, other=0.0)
                dz = tl.where(tile_mask, dz - coef_d[:, None], 0.0)
            if HAS_SOFTCAP:
                dz = dz * (1.0 - (y / softcap) * (y / softcap))
            if HAS_SCALE:
                dz = dz * scale
            if NEED_DB:
                tl.atomic_add(DB + v_idx, tl.sum(dz, 0), mask=v_mask)
            for d0 in range(0, D, BLOCK_D):
                d_offs = d0 + tl.arange(0, BLOCK_D)
                d_mask = d_offs < D
                if NEED_DE:
                    c = tl.load(
                        C + v_idx[:, None] * stride_c + d_offs[None, :],
                        mask=v_mask[:, None] & d_mask[None, :],
                        other=0.0,
                    )
                    if UPCAST:
                        c = c.to(tl.float32)
                    de = tl.dot(dz.to(c.dtype), c, input_precision=DOT_PRECISION)
                    tl.atomic_add(
                        DE + e_rows[:, None] * stride_de + d_offs[None, :],
                        de,
                        mask=row_mask[:, None] & d_mask[None, :],
                    )
                if NEED_DC:
                    e = tl.load(
                        E + e_rows[:, None] * stride_e + d_offs[None, :],
                        mask=row_mask[:, None] & d_mask[None, :],
                        other=0.0,
                    )
                    if UPCAST:
                        e = e.to(tl.float32)
                    dc = tl.dot(tl.trans(dz.to(e.dtype)), e, input_precision=DOT_PRECISION)
                    tl.atomic_add(
                        DC + v_idx[:, None] * stride_dc + d_offs[None, :],
                        dc,
                        mask=v_mask[:, None] & d_mask[None, :],
                    )
        elif COUNT_SKIPS:
            tl.atomic_add(SKIPPED, 1)
