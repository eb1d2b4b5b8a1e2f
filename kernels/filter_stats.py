"""Opt-in statistics on gradient filtering, so a training loop can log how much backward work was skipped.

Usage::

    from lamina_kernels import filter_statistics
    with filter_statistics() as stats:
        loss = linear_cross_entropy(e, c, targets)
        loss.backward()
    print(stats.skipped_fraction)

Counting costs a host synchronisation per chunk (CPU) or an atomic add per tile (Triton), so nothing is counted
unless a ``filter_statistics()`` block is active.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class FilterStats:
    """Counts of softmax-gradient entries (one per token and vocabulary entry) seen and skipped by filtering."""

    entries_total: int = 0
    entries_skipped: int = 0

    @property
    def skipped_fraction(self) -> float:
        """Fraction of the N x V gradient entries whose backward GEMM work was skipped (0.0 when nothing ran)."""
        return self.entries_skipped / self.entries_total if self.entries_total else 0.0

    def add(self, total: int, skipped: int) -> None:
        self.entries_total += int(total)
        self.entries_skipped += int(skipped)


_active = threading.local()


def active_stats() -> FilterStats | None:
    """The innermost active statistics object of this thread, or None when nobody asked for statistics."""
    stack = getattr(_active, "stack", None)
    return stack[-1] if stack else None


@contextmanager
def filter_statistics() -> Iterator[FilterStats]:
    """Collect filtering statistics for every fused loss (forward and backward) run inside the block."""
    stats = FilterStats()
    stack = getattr(_active, "stack", None)
    if stack is None:
        stack = _active.stack = []
    stack.append(stats)
    try:
        yield stats
    finally:
        stack.pop()
