"""What the loss needs to know about a Hugging Face ``*ForCausalLM``: its trunk, its head, and how logits are shaped.

Families differ in small ways that change the loss: tied embeddings (GPT-2, Gemma-2), a final logit soft-cap
(Gemma-2 ``final_logit_softcapping``), a logit multiplier (Cohere ``logit_scale``) or divisor (Granite
``logits_scaling``), a bias on the head (Phi-1/2). :func:`output_head` reads them from the model so the fused loss
reproduces the family's own logits exactly, without ever building them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class OutputHead:
    """The pieces of ``logits = softcap(logit_scale * (h @ weight.T + bias))``."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    logit_scale: float | None
    softcap: float | None


def trunk(model: nn.Module) -> nn.Module:
    """The transformer without its head (``model.model`` for Llama-likes, ``model.transformer`` for GPT-2).

    Its output ``last_hidden_state`` already has the final norm applied, i.e. it is what the head multiplies.
    """
    base = getattr(model, "base_model", None)
    if base is None or base is model:
        raise TypeError(
            f"{type(model).__name__} has no separate transformer trunk (base_model); pass a Hugging Face "
            "*ForCausalLM model such as LlamaForCausalLM or GPT2LMHeadModel."
        )
    return base


def logit_scale_of(config: object) -> float | None:
    """The multiplier a family applies to its logits, or ``None`` for plain logits."""
    scale = getattr(config, "logit_scale", None)  # Cohere: logits * logit_scale
    if scale is not None and float(scale) != 1.0:
        return float(scale)
    divisor = getattr(config, "logits_scaling", None)  # Granite: logits / logits_scaling
    if divisor is not None and float(divisor) != 1.0:
        return 1.0 / float(divisor)
    return None


def output_head(model: nn.Module) -> OutputHead:
    """Read the output projection and the family's logit transforms from a ``*ForCausalLM``."""
    head = model.get_output_embeddings()
    if head is None or not hasattr(head, "weight"):
        raise TypeError(
            f"{type(model).__name__} has no output embedding (get_output_embeddings() is None); "
            "it is not a causal language model this module can train."
        )
    softcap = getattr(model.config, "final_logit_softcapping", None)
    return OutputHead(
        weight=head.weight,
        bias=getattr(head, "bias", None),
        logit_scale=logit_scale_of(model.config),
        softcap=float(softcap) if softcap else None,
    )
