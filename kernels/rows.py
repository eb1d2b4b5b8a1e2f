"""Which rows of the hidden states take part in the loss, and where their results go.

``shift=k`` means position ``t`` of ``e`` predicts ``targets[..., t + k]``. Rather than slicing (and copying) ``e``,
the loss works on the flat ``(rows, D)`` view of ``e`` and a list of row indices: the last ``k`` positions of each
sequence and every row whose target equals ``ignore_index`` are simply not in the list, so they cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lamina_kernels.options import LossOptions


@dataclass(frozen=True)
class RowSelection:
    """The flattened problem: ``e_flat[rows[i]]`` predicts class ``target_ids[i]``.

    ``rows is None`` means every row of ``e_flat`` takes part, in order (the fast, copy-free case).
    ``out_positions[i]`` is where row ``i``'s per-token result lands in a tensor shaped like ``targets``.
    """

    e_flat: torch.Tensor
    rows: torch.Tensor | None
    target_ids: torch.Tensor
    out_positions: torch.Tensor | None
    out_shape: torch.Size

    @property
    def num_valid(self) -> int:
        return int(self.target_ids.numel())


def check_shapes(e: torch.Tensor, c: torch.Tensor, targets: torch.Tensor, bias: torch.Tensor | None) -> None:
    """Raise a ValueError that names the mismatching tensors and says what shapes were expected."""
    if e.ndim < 1 or c.ndim != 2:
        raise ValueError(
            f"Expected e of shape (..., D) and c of shape (V, D); got e {tuple(e.shape)}, c {tuple(c.shape)}."
        )
    if e.shape[-1] != c.shape[1]:
        raise ValueError(
            f"Hidden size mismatch: e has D={e.shape[-1]} but the classifier c is {tuple(c.shape)} (expected (V, D)). "
            "Pass the classifier weight as (vocab_size, hidden_size), e.g. lm_head.weight."
        )
    if tuple(targets.shape) != tuple(e.shape[:-1]):
        raise ValueError(
            f"targets must have e's leading shape {tuple(e.shape[:-1])}, got {tuple(targets.shape)}."
        )
    if targets.dtype.is_floating_point or targets.dtype == torch.bool:
        raise ValueError(f"targets must be integer class indices (int64), got dtype {targets.dtype}.")
    if not e.dtype.is_floating_point or e.dtype != c.dtype:
        raise ValueError(
            f"e and c must share one floating dtype, got e {e.dtype} and c {c.dtype}; cast one of them."
        )
    if e.device != c.device or targets.device != e.device:
        raise ValueError(
            f"e, c and targets must be on one device, got {e.device}, {c.device}, {targets.device}."
        )
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != c.shape[0]):
        raise ValueError(f"bias must have shape (V,) = ({c.shape[0]},), got {tuple(bias.shape)}.")


def select_rows(e: torch.Tensor, targets: torch.Tensor, opts: LossOptions, vocab_size: int) -> RowSelection:
    """Build the :class:`RowSelection` for ``e``/``targets``; validates target values (one host sync)."""
    k = opts.shift
    d = e.shape[-1]
    e_flat = e.reshape(-1, d)
    t_flat = targets.reshape(-1).long()
    n = t_flat.numel()
    if k > 0:
        if e.ndim < 2 or e.shape[-2] <= k:
            raise ValueError(
                f"shift={k} needs e of shape (..., T, D) with T > {k}; got e {tuple(e.shape)}. "
                "Use shift=0 if e and targets are already aligned."
            )
        seq_len = e.shape[-2]
        position = torch.arange(n, device=e.device) % seq_len
        shifted_targets = torch.full_like(t_flat, opts.ignore_index)
        shifted_targets[:-k] = t_flat[k:]
        valid = (position < seq_len - k) & (shifted_targets != opts.ignore_index)
    else:
        shifted_targets = t_flat
        valid = t_flat != opts.ignore_index
    rows = valid.nonzero().squeeze(1)
    target_ids = shifted_targets[rows]
    if target_ids.numel() > 0:
        bad = (target_ids < 0) | (target_ids >= vocab_size)
        if bool(bad.any()):
            value = int(target_ids[bad][0])
            raise ValueError(
                f"Target {value} is outside the vocabulary [0, {vocab_size}) and is not ignore_index "
                f"({opts.ignore_index}). Fix the labels, or pass the ignore_index your data uses."
            )
    all_rows = rows.numel() == n and k == 0
    return RowSelection(
        e_flat=e_flat,
        rows=None if all_rows else rows,
        target_ids=target_ids,
        out_positions=None if all_rows else rows + k,
        out_shape=targets.shape,
    )


def scatter_per_token(values: torch.Tensor, sel: RowSelection) -> torch.Tensor:
    """Place per-valid-row values into a zero tensor shaped like ``targets`` (0 where ignored or shifted out)."""
    if sel.out_positions is None:
        return values.reshape(sel.out_shape)
    full = values.new_zeros(sel.out_shape.numel())
    full = full.index_put((sel.out_positions,), values)
    return full.reshape(sel.out_shape)
