"""Loss, log-sum-exp and gradients of the reference and chunked paths against an independent float64 oracle."""

from __future__ import annotations

import pytest
import torch
from cce_oracle import oracle_loss

from lamina_kernels import linear_cross_entropy

# Shapes are deliberately not multiples of any block size, and V is not a power of two.
CASES: dict[str, dict] = {
    "plain_mean": dict(),
    "sum": dict(reduction="sum"),
    "none": dict(reduction="none"),
    "shift": dict(shift=1),
    "shift_none_lse": dict(shift=2, reduction="none", return_lse=True),
    "softcap": dict(softcap=3.0),
    "logit_scale_softcap": dict(logit_scale=0.7, softcap=2.5),
    "label_smoothing": dict(label_smoothing=0.1),
    "label_smoothing_softcap_none": dict(label_smoothing=0.2, softcap=4.0, reduction="none"),
    "z_loss": dict(z_loss=1e-2),
    "z_loss_lse_sum": dict(z_loss=1e-3, return_lse=True, reduction="sum"),
    "bias_wide": dict(bias=True, hidden=300),
    "everything": dict(bias=True, shift=1, softcap=5.0, logit_scale=1.3, label_smoothing=0.05, z_loss=1e-3),
}


def make_inputs(
    *,
    batch: int = 3,
    seq: int = 37,
    hidden: int = 70,
    vocab: int = 301,
    dtype: torch.dtype = torch.float32,
    bias: bool = False,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Inputs whose logits have a spread of about 2, with one fully ignored sequence row and scattered ignores."""
    gen = torch.Generator().manual_seed(seed)
    e = torch.randn(batch, seq, hidden, generator=gen)
    c = torch.randn(vocab, hidden, generator=gen) * (2.0 / hidden**0.5)
    targets = torch.randint(0, vocab, (batch, seq), generator=gen)
    targets[0] = -100
    targets[1, ::5] = -100
    b = torch.randn(vocab, generator=gen) * 0.5 if bias else None
    tensors = [t.to(dtype).requires_grad_(True) for t in (e, c)]
    if b is not None:
        b = b.to(dtype).requires_grad_(True)
    return tensors[0], tensors[1], targets, b


def run_and_grads(fn, e, c, b, targets, kwargs, seed=1):
    """Call ``fn``, back-propagate random weights through every output, return outputs and input gradients."""
    for t in (e, c, b):
        if t is not None:
            t.grad = None
    out = fn(e, c, targets, bias=b, **kwargs)
    outs = out if isinstance(out, tuple) else (out,)
    gen = torch.Generator().manual_seed(seed)
    total = sum((o.double() * torch.rand(o.shape, generator=gen, dtype=torch.float64)).sum() for o in outs)
    total.backward()
    grads = [None if t is None else t.grad.clone() for t in (e, c, b)]
    return [o.detach() for o in outs], grads


def assert_close_scaled(actual: torch.Tensor, expected: torch.Tensor, rel: float, what: str) -> None:
    """Max error within ``rel`` times the largest magnitude of the expected tensor (NaN anywhere fails)."""
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    assert torch.isfinite(actual).all(), f"{what}: non-finite values (an unwritten element?)"
    scale = expected.abs().max().item() + 1e-12
    err = (actual.double() - expected.double()).abs().max().item()
    assert err <= rel * scale, f"{what}: max error {err:.3e} > {rel:.1e} * {scale:.3e}"


@pytest.mark.parametrize("impl", ["reference", "chunked"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_float64_oracle(impl: str, case: str) -> None:
    kwargs = dict(CASES[case])
    bias, hidden = kwargs.pop("bias", False), kwargs.pop("hidden", 70)
    e, c, targets, b = make_inputs(hidden=hidden, bias=bias)
    outs, grads = run_and_grads(
        linear_cross_entropy, e, c, b, targets, dict(kwargs, impl=impl, filter_eps=None)
    )
    want_outs, want_grads = run_and_grads(oracle_loss, e, c, b, targets, kwargs)
    for got, want, name in zip(outs, want_outs, ["loss", "lse"][: len(outs)], strict=True):
        assert_close_scaled(got, want, 1e-5, name)
    for got, want, name in zip(grads, want_grads, ["dE", "dC", "dbias"], strict=True):
        if want is not None:
            assert_close_scaled(got, want, 1e-5, name)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_inputs_accumulate_in_fp32(dtype: torch.dtype) -> None:
    """Loss is float32 and equals the float64 oracle on the same rounded inputs; gradients are in the input dtype."""
    e, c, targets, b = make_inputs(dtype=dtype, bias=True, hidden=90)
    kwargs = dict(shift=1, softcap=6.0, z_loss=1e-3)
    outs, grads = run_and_grads(
        linear_cross_entropy, e, c, b, targets, dict(kwargs, impl="chunked", filter_eps=None)
    )
    want_outs, want_grads = run_and_grads(oracle_loss, e, c, b, targets, kwargs)
    assert outs[0].dtype == torch.float32
    assert_close_scaled(outs[0], want_outs[0], 1e-6, "loss")
    for got, want, name in zip(grads, want_grads, ["dE", "dC", "dbias"], strict=True):
        assert got.dtype == dtype
        assert_close_scaled(got, want, 1e-2, name)


def test_all_tokens_ignored_gives_nan_mean_and_zero_gradients() -> None:
    """Same convention as F.cross_entropy: mean over zero tokens is NaN, gradients are zero."""
    e, c, targets, _ = make_inputs()
    targets = torch.full_like(targets, -100)
    loss = linear_cross_entropy(e, c, targets, impl="chunked")
    assert torch.isnan(loss)
    loss.backward()
    assert e.grad.abs().sum() == 0 and c.grad.abs().sum() == 0


def test_no_grad_forward_matches_and_frozen_classifier_gets_no_gradient() -> None:
    e, c, targets, _ = make_inputs()
    with torch.no_grad():
        no_grad_loss = linear_cross_entropy(e, c, targets, impl="chunked")
    c_frozen = c.detach()
    loss = linear_cross_entropy(e, c_frozen, targets, impl="chunked")
    loss.backward()
    torch.testing.assert_close(no_grad_loss, loss.detach())
    assert c_frozen.grad is None and e.grad is not None


def test_chunking_does_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny budget forces many chunks (with a ragged last one); the result must not depend on it."""
    import lamina_kernels.chunk_budget as budget

    e, c, targets, _ = make_inputs(seq=53)
    kwargs = dict(impl="chunked", filter_eps=None, shift=1)
    whole = run_and_grads(linear_cross_entropy, e, c, None, targets, kwargs)
    monkeypatch.setattr(budget, "MIN_ROWS", 1)
    monkeypatch.setenv(budget.BUDGET_ENV, str(7 * 301 * 4))
    assert budget.rows_per_chunk(100, 301, 1, budget.chunk_budget_bytes(10**9)) == 7
    chunked = run_and_grads(linear_cross_entropy, e, c, None, targets, kwargs)
    for got, want in zip(chunked[0] + chunked[1][:2], whole[0] + whole[1][:2], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_chunks_are_even_within_the_budget_and_the_buffer_stride_is_aligned() -> None:
    import lamina_kernels.chunk_budget as budget

    row = 256_000 * 4
    # a 205-row cap over 512 rows: three even chunks, aligned (176 + 176 + 160, not 205 + 205 + 102)
    assert budget.rows_per_chunk(512, 256_000, 1, 205 * row) == 176
    # a 172-row cap: 3 chunks would need a 176-wide buffer, past the cap, so 4 chunks of 128
    assert budget.rows_per_chunk(512, 256_000, 1, 172 * row) == 128
    assert budget.rows_per_chunk(512, 256_000, 1, 512 * row) == 512  # fits: one chunk
    assert budget.rows_per_chunk(4096, 32_768, 1, 110 * 32_768 * 4) == budget.MIN_ROWS  # never below the floor
    assert [budget.padded_rows(n) for n in (1, 16, 171, 176)] == [16, 16, 176, 176]
