"""How many token rows one chunk of the pure-PyTorch path processes, derived from a memory budget.

The chunked path holds one ``(rows, V)`` float32 logit buffer (two with a softcap, whose derivative needs the
logits after the softmax has overwritten them). The budget is a fraction of the memory the gradients need anyway
(dE and dC), so the loss never costs much more than its own output; but GEMMs with fewer than
:data:`MIN_ROWS` rows run several times slower on CPU (measured: 64 rows ~45 GFLOP/s, 128 rows ~150 GFLOP/s on
two cores), so the chunk never goes below that.
"""

from __future__ import annotations

import os

MIN_ROWS = 128
GRADIENT_FRACTION = 0.2
FORWARD_ONLY_BUDGET = 64 * 2**20
BUDGET_ENV = "LAMINA_CCE_CHUNK_BYTES"


def chunk_budget_bytes(gradient_bytes: int) -> int:
    """The logit-buffer budget: ``$LAMINA_CCE_CHUNK_BYTES`` if set, else a fraction of the gradient memory."""
    override = os.environ.get(BUDGET_ENV)
    if override:
        try:
            return max(1, int(override))
        except ValueError as err:
            raise ValueError(f"{BUDGET_ENV} must be an integer number of bytes, got {override!r}.") from err
    if gradient_bytes <= 0:
        return FORWARD_ONLY_BUDGET
    return int(GRADIENT_FRACTION * gradient_bytes)


def rows_per_chunk(
    num_rows: int, vocab_size: int, buffers: int, budget_bytes: int, elem_bytes: int = 4
) -> int:
    """Rows per chunk: as many as the budget allows, at least MIN_ROWS, at most ``num_rows`` (and at least 1)."""
    per_row = max(1, vocab_size * buffers * elem_bytes)
    rows = max(MIN_ROWS, budget_bytes // per_row)
    return max(1, min(rows, num_rows))
