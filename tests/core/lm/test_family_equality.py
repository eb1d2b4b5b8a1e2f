"""CausalLM's loss equals each family's own Hugging Face loss (fp32, 1e-5 relative) and its gradients match.

This is the contract that lets every plugin train through the fused kernel: whatever the family does to its
logits (tied embeddings, Gemma-2's soft-cap), the loss we optimise is the loss Hugging Face defines.
"""

from __future__ import annotations

import pytest
import torch

from lamina.lm import CausalLM
from lamina.lm.tiny import TINY_CONFIGS, VOCAB


def _batch(seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(3, VOCAB, (2, 12), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 9:] = 0  # right padding in the second row: those positions must not count
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    labels[0, :4] = -100  # a masked prompt, as in chat data
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def _model(family: str, loss_impl: str) -> CausalLM:
    torch.manual_seed(0)
    model = CausalLM(family=family, config=TINY_CONFIGS[family], loss_impl=loss_impl)
    return model.eval()  # no dropout: both losses must see the same network


def _grads(model: CausalLM) -> dict[str, torch.Tensor]:
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return grads


def _assert_matches_hf(family: str, loss_impl: str) -> None:
    model = _model(family, loss_impl)
    batch = _batch()
    hf_loss = model.hf_model(**batch).loss
    hf_loss.backward()
    hf_grads = _grads(model)

    our_loss = model.loss(batch)
    our_loss.backward()
    our_grads = _grads(model)

    torch.testing.assert_close(our_loss, hf_loss, rtol=1e-5, atol=0)
    assert hf_grads.keys() == our_grads.keys()
    for name, expected in hf_grads.items():
        torch.testing.assert_close(
            our_grads[name], expected, rtol=1e-4, atol=1e-6, msg=lambda m, n=name: f"{n}: {m}"
        )


@pytest.mark.parametrize("family", sorted(TINY_CONFIGS))
def test_full_logit_baseline_matches_hf(family: str) -> None:
    _assert_matches_hf(family, "torch")


@pytest.mark.parametrize("family", sorted(TINY_CONFIGS))
@pytest.mark.parametrize("loss_impl", ["cce", "cce_exact"])
def test_cce_matches_hf(family: str, loss_impl: str) -> None:
    _assert_matches_hf(family, loss_impl)


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_torch_linear_ce_matches_hf(family: str) -> None:
    _assert_matches_hf(family, "torch_linear_ce")


def test_torch_linear_ce_refuses_softcap() -> None:
    model = _model("gemma2", "torch_linear_ce")
    with pytest.raises(ValueError, match="soft-cap"):
        model.loss(_batch())


@pytest.mark.slow
def test_torch_compile_matches_hf() -> None:
    _assert_matches_hf("llama", "torch_compile")


def test_softcap_and_tied_head_are_read_from_the_family() -> None:
    from lamina.lm.family import output_head

    gemma = _model("gemma2", "torch")
    head = output_head(gemma.hf_model)
    assert head.softcap == 3.0
    assert head.weight.data_ptr() == gemma.hf_model.get_input_embeddings().weight.data_ptr()
    assert output_head(_model("llama", "torch").hf_model).softcap is None


def test_logit_scale_families() -> None:
    from types import SimpleNamespace

    from lamina.lm.family import logit_scale_of

    assert logit_scale_of(SimpleNamespace(logit_scale=0.0625)) == 0.0625  # Cohere multiplies
    assert logit_scale_of(SimpleNamespace(logits_scaling=4.0)) == 0.25  # Granite divides
    assert logit_scale_of(SimpleNamespace()) is None


def test_cce_under_bf16_autocast_matches_the_baseline() -> None:
    # bf16-mixed training: the trunk runs in bf16 while the head's master weight stays fp32.
    model = _model("llama", "cce")
    batch = _batch()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fused = model.loss(batch)
        baseline = model.loss(batch, impl="torch")
    torch.testing.assert_close(fused, baseline.float(), rtol=2e-2, atol=0)
