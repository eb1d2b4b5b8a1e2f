"""Experiment 3: gradient filtering and vocabulary sorting, measured on a trained model's real logits.

Filtering (the kernel's ``filter_eps``) skips backward work where every softmax entry is below eps. On this
machine's chunked PyTorch path it is measured directly: skipped fraction (``lamina_kernels.filter_statistics``) and
loss+gradient time with filtering on and off. Sorting only changes *which* entries share a tile, so it matters to the
tiled GPU kernel; here its effect is measured as the fraction of 128x128 (token x vocabulary) tiles whose entries
are all below eps, with the vocabulary in its original order and sorted by average logit (as CCE does).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

BF16_EPS = 2.0**-12  # the paper's threshold for bf16 ("auto" = finfo(bf16).eps / 32)


def load_run(run_dir: Path):
    """The trained ``CausalLM`` and tokenizer of a ``lamina train experiment=cce_tiny`` run folder."""
    from lamina.lm.module import CausalLM
    from lamina.lm.tokenizer import load_tokenizer

    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    if not checkpoint.is_file():
        raise FileNotFoundError(
            f"no checkpoints/last.ckpt in {run_dir}; pass the folder of a finished "
            "`lamina train experiment=cce_tiny` run (its 'Run folder' line)."
        )
    model = CausalLM.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True).eval()
    return model, load_tokenizer(run_dir / "tokenizer")


def held_out_tokens(tokenizer, count: int) -> torch.Tensor:
    """``count`` tokens of the language reference (the corpus's last topics, as text the model has seen least)."""
    from lamina_cce.corpus import reference_topics

    ids: list[int] = []
    for text in reversed(list(reference_topics())):
        ids.extend(tokenizer(text, add_special_tokens=False)["input_ids"])
        if len(ids) >= count:
            break
    return torch.tensor(ids[:count])


def tile_skip_fraction(
    probabilities: torch.Tensor, eps: float, tile: int = 128, sort_vocab: bool = False
) -> float:
    """Fraction of ``tile x tile`` blocks of the ``N x V`` softmax whose every entry is below ``eps``."""
    p = probabilities
    if sort_vocab:
        order = torch.argsort(torch.log(p.clamp_min(1e-30)).mean(dim=0))  # average logit, ascending
        p = p[:, order]
    n, v = p.shape
    n_pad, v_pad = -n % tile, -v % tile
    p = torch.nn.functional.pad(p, (0, v_pad, 0, n_pad))  # padding is 0 < eps: it never blocks a skip
    blocks = p.reshape((n + n_pad) // tile, tile, (v + v_pad) // tile, tile).amax(dim=(1, 3))
    return float((blocks < eps).float().mean())


def filtered_backward(
    hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, filter_eps, repeats: int
):
    """(median forward+backward seconds, skipped fraction) of the chunked kernel with ``filter_eps``.

    Forward and backward are timed together: the kernel computes the gradients during the forward pass when it
    knows a mean/sum loss will be differentiated, so the filtered work can sit in either half."""
    from lamina_kernels import filter_statistics, linear_cross_entropy

    times, skipped = [], 0.0
    for _ in range(repeats):
        e = hidden.detach().clone().requires_grad_()
        c = weight.detach().clone().requires_grad_()
        with filter_statistics() as stats:
            start = time.perf_counter()
            loss = linear_cross_entropy(e, c, targets, shift=1, filter_eps=filter_eps, impl="chunked")
            loss.backward()
            times.append(time.perf_counter() - start)
        skipped = stats.skipped_fraction
    return sorted(times)[len(times) // 2], skipped


def run_ablation(run_dir: Path, tokens: int = 2048, repeats: int = 3) -> list[dict]:
    model, tokenizer = load_run(run_dir)
    ids = held_out_tokens(tokenizer, tokens)[None]
    with torch.no_grad():
        hidden = model.hidden_states(ids)[0]
        head = model.hf_model.get_output_embeddings().weight
        probabilities = torch.softmax(hidden @ head.T, dim=-1)
    rows = []
    for label, eps in (
        ("fp32 auto (eps/32)", torch.finfo(torch.float32).eps / 32),
        ("bf16 auto (2^-12)", BF16_EPS),
        ("off (exact)", None),
    ):
        seconds, skipped = filtered_backward(hidden, head, ids[0], eps, repeats)
        rows.append(
            {
                "filter_eps": label,
                "skipped entries (chunked, measured)": round(skipped, 4),
                "loss+backward s (median)": round(seconds, 3),
                "skippable 128x128 tiles, vocab unsorted": ""
                if eps is None
                else round(tile_skip_fraction(probabilities, eps), 4),
                "skippable 128x128 tiles, vocab sorted": ""
                if eps is None
                else round(tile_skip_fraction(probabilities, eps, sort_vocab=True), 4),
            }
        )
    return rows
