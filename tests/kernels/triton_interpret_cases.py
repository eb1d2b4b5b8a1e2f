"""The Triton kernels, run on CPU by Triton's interpreter (``TRITON_INTERPRET=1``) at small shapes.

Not collected directly (the name has no ``test_`` prefix): ``test_cce_triton_interpret.py`` runs this file in a
fresh process, because ``TRITON_INTERPRET`` only takes effect if it is set before Triton is first imported, and
in a full test session torch or Lightning import Triton long before this file.

Float32 only: the interpreter computes low-precision ``tl.dot`` wrongly, so half precision is tested on the
chunked path (the kernels' half-precision logic is the same code with ``UPCAST`` off on a GPU).
"""

from __future__ import annotations

import os

import pytest
import torch

pytest.importorskip("triton")
if os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip(
        "run through test_cce_triton_interpret.py (needs TRITON_INTERPRET=1 at start)",
        allow_module_level=True,
    )

from cce_oracle import oracle_loss  # noqa: E402
from test_cce_correctness import assert_close_scaled, make_inputs, run_and_grads  # noqa: E402

from lamina_kernels import filter_statistics, linear_cross_entropy  # noqa: E402

TRITON_CASES: dict[str, dict] = {
    "mean": dict(),
    "shift_none_lse": dict(shift=1, reduction="none", return_lse=True),
    "scale_softcap_zloss_sum": dict(logit_scale=0.8, softcap=3.0, z_loss=1e-2, reduction="sum"),
    "smoothing_bias_wide": dict(label_smoothing=0.1, bias=True, hidden=260),
}


@pytest.mark.parametrize("case", list(TRITON_CASES))
def test_triton_matches_float64_oracle(case: str) -> None:
    kwargs = dict(TRITON_CASES[case])
    bias, hidden = kwargs.pop("bias", False), kwargs.pop("hidden", 40)
    e, c, targets, b = make_inputs(batch=2, seq=29, hidden=hidden, vocab=101, bias=bias)
    outs, grads = run_and_grads(
        linear_cross_entropy, e, c, b, targets, dict(kwargs, impl="triton", filter_eps=None)
    )
    want_outs, want_grads = run_and_grads(oracle_loss, e, c, b, targets, kwargs)
    for got, want, name in zip(outs, want_outs, ["loss", "lse"][: len(outs)], strict=True):
        assert_close_scaled(got, want, 1e-5, name)
    for got, want, name in zip(grads, want_grads, ["dE", "dC", "dbias"], strict=True):
        if want is not None:
            assert_close_scaled(got, want, 1e-5, name)


def peaked_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Targets and probability mass on every 7th token only, so most of the softmax is below eps.

    The favoured tokens are scattered over the vocabulary: without sorting every vocabulary tile holds some,
    with sorting they gather into the first tiles and the rest can be skipped.
    """
    e, c, _, _ = make_inputs(batch=2, seq=29, hidden=40, vocab=101)
    with torch.no_grad():
        c.mul_(0.5)
    favoured = torch.arange(0, 101, 7)
    gen = torch.Generator().manual_seed(3)
    targets = favoured[torch.randint(0, favoured.numel(), (2, 29), generator=gen)]
    targets[0, :4] = -100
    bias = torch.full((101,), -6.0)
    bias[favoured] = 0.0
    return e, c, targets, bias.requires_grad_(True)


def test_triton_filtering_stays_within_its_bound_and_sorting_skips_more() -> None:
    eps = 1e-2
    e, c, targets, bias = peaked_inputs()
    _, exact = run_and_grads(oracle_loss, e, c, bias, targets, {})
    skipped = {}
    for vocab_sort in (False, True):
        kwargs = dict(impl="triton", filter_eps=eps, vocab_sort=vocab_sort)
        with filter_statistics() as stats:
            _, grads = run_and_grads(linear_cross_entropy, e, c, bias, targets, kwargs)
        skipped[vocab_sort] = stats.skipped_fraction
        check_filtering_bound(e, c, bias, targets, grads, exact, eps, require_change=vocab_sort)
    assert skipped[True] > 0.5 and skipped[True] > skipped[False], skipped


def test_chunked_filtering_stays_within_its_bound() -> None:
    eps = 1e-2
    e, c, targets, bias = peaked_inputs()
    _, exact = run_and_grads(oracle_loss, e, c, bias, targets, {})
    with filter_statistics() as stats:
        _, grads = run_and_grads(
            linear_cross_entropy, e, c, bias, targets, dict(impl="chunked", filter_eps=eps)
        )
    assert stats.skipped_fraction > 0.5
    check_filtering_bound(e, c, bias, targets, grads, exact, eps)


def check_filtering_bound(e, c, bias, targets, grads, exact, eps, require_change: bool = True) -> None:
    """Only softmax entries below eps may be dropped, so the error is at most what dropping all of them costs.

    With w = 1/num_valid (mean), dropping entry (i, v) changes dE_i by w p_iv c_v and dC_v by w p_iv e_i; the
    bound sums |w p_iv c_vd| (resp. |w p_iv e_id|) over the entries with p_iv < eps, from float64 probabilities.
    """
    e2 = e.detach().double().reshape(-1, e.shape[-1])
    valid = targets.reshape(-1) != -100
    probs = torch.softmax(e2 @ c.detach().double().T + bias.detach().double(), dim=-1)
    droppable = probs * (probs < eps) * valid[:, None] / valid.sum()
    de_bound = droppable @ c.detach().double().abs()
    dc_bound = droppable.T @ e2.abs()
    de_err = (grads[0].double() - exact[0]).abs().reshape(-1, e.shape[-1])
    dc_err = (grads[1].double() - exact[1]).abs()
    assert (de_err <= de_bound * 1.0001 + 1e-7).all(), (
        "dE error beyond what dropping sub-eps entries explains"
    )
    assert (dc_err <= dc_bound * 1.0001 + 1e-7).all(), (
        "dC error beyond what dropping sub-eps entries explains"
    )
    if require_change:
        changed = max(de_err.max().item(), dc_err.max().item())
        assert changed > 1e-6, "filtering changed nothing: the test would not catch a bug"
