"""Language models on the fused loss: :class:`CausalLM`, tokenizer training/loading, text and chat data.

Imports are lazy so that ``import lamina.lm`` (e.g. from a plugin's registration code) costs nothing until a
component is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CausalLM": "lamina.lm.module",
    "causal_lm_loss": "lamina.lm.loss",
    "LOSS_IMPLS": "lamina.lm.loss",
    "train_bpe_tokenizer": "lamina.lm.tokenizer",
    "load_tokenizer": "lamina.lm.tokenizer",
    "TextDataModule": "lamina.lm.data",
    "SampleGeneration": "lamina.lm.callbacks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lamina.lm' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
