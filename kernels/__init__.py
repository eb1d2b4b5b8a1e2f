"""Fused linear cross-entropy (Cut Cross-Entropy) for PyTorch: the loss of ``e @ c.T`` without the logits.

Stand-alone: this package imports neither ``lamina`` nor any plugin, and Triton only when ``impl="triton"`` runs.

    from lamina_kernels import linear_cross_entropy
    loss = linear_cross_entropy(hidden_states, lm_head.weight, labels, shift=1)
"""

from lamina_kernels.api import LinearCrossEntropy, linear_cross_entropy, triton_available
from lamina_kernels.filter_stats import FilterStats, filter_statistics

__all__ = [
    "FilterStats",
    "LinearCrossEntropy",
    "filter_statistics",
    "linear_cross_entropy",
    "triton_available",
]
