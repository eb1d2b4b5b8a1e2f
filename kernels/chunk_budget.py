"""How many token rows one chunk of the pure-PyTorch path processes, derived from a memory budget.

The chunked path holds one vocabulary-major ``(V, width)`` float32 logit buffer, ``width`` being the chunk's
rows rounded up to :data:`ROW_ALIGN` (two buffers with a softcap, whose derivative needs the
logits after the softmax has overwritten them). The budget is a fraction of the memory the gradients need anyway
(dE and dC), so the loss never costs much more than its own output; but GEMMs with fewer than
:data:`MIN_ROWS` rows run several times slower on CPU (measured: 64 rows ~45 GFLOP/s, 128 rows ~150 GFLOP/s on
two cores), so the chunk never goes below that.
"""

from __future__ import annotations

import math
import os

MIN_ROWS = 128
ROW_ALIGN = 16
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
    """Rows per chunk: as many as the budget allows (at least MIN_ROWS), split evenly over the chunks, and a
    multiple of ROW_ALIGN, so that full chunks need no padding tokens and the padded buffer stays within the cap.

    Even chunks matter: 512 rows at a 205-row cap would give 205 + 205 + 102, and the short last chunk runs its
    three GEMMs at low efficiency; 176 + 176 + 160 is faster (measured at N=512, D=1024, V=256000, one thread).
    """
    per_row = max(1, vocab_size * buffers * elem_bytes)
    cap = max(MIN_ROWS, budget_bytes // per_row)
    if num_rows <= cap:
        return max(1, num_rows)
    if cap >= ROW_ALIGN:  # the buffer is padded_rows(rows) wide: keep that within the cap
        cap -= cap % ROW_ALIGN
    even = math.ceil(num_rows / math.ceil(num_rows / cap))
    aligned = padded_rows(even)
    return aligned if aligned <= cap else even


def padded_rows(rows: int) -> int:
    """The row stride of the vocabulary-major logit buffer: ``rows`` rounded up to ROW_ALIGN.

    The GEMM that writes the ``(V, rows)`` buffer runs much slower when its leading dimension is not a multiple
    of 16 floats (measured: 171 rows 2.2 s, the same 171 rows in a 176-wide buffer 1.6 s, at V=256000, D=1024).
    """
    return math.ceil(rows / ROW_ALIGN) * ROW_ALIGN
