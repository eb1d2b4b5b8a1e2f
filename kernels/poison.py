"""Uninitialised allocations that tests can poison with NaN, so any element a kernel forgets to write shows up.

Set ``LAMINA_KERNELS_POISON=1`` (the test-suite does) and every buffer that a kernel is supposed to overwrite
completely starts as NaN instead of whatever memory held before.
"""

from __future__ import annotations

import os

import torch

POISON_ENV = "LAMINA_KERNELS_POISON"


def poisoning() -> bool:
    return os.environ.get(POISON_ENV, "") not in ("", "0")


def empty_like(tensor: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``torch.empty_like`` that is NaN-filled while poisoning is on."""
    out = torch.empty_like(tensor, dtype=dtype)
    return out.fill_(float("nan")) if poisoning() and out.dtype.is_floating_point else out


def empty(*shape: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``torch.empty`` that is NaN-filled while poisoning is on."""
    out = torch.empty(*shape, dtype=dtype, device=device)
    return out.fill_(float("nan")) if poisoning() and out.dtype.is_floating_point else out
