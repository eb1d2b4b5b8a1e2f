"""Text generation from a Hugging Face causal LM, optionally streamed token by token.

Streaming uses transformers' own streamers: :class:`~transformers.TextStreamer` prints as it goes,
:class:`~transformers.TextIteratorStreamer` hands chunks to a caller (a UI, a CLI) while ``generate`` runs in a
thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn


def _generation_kwargs(
    tokenizer: Any, max_new_tokens: int, temperature: float, top_p: float
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "pad_token_id": tokenizer.pad_token_id}
    if tokenizer.eos_token_id is not None:
        kwargs["eos_token_id"] = tokenizer.eos_token_id
    if temperature > 0:
        kwargs.update(do_sample=True, temperature=temperature, top_p=top_p)
    else:
        kwargs.update(do_sample=False)
    return kwargs


def _encode(model: nn.Module, tokenizer: Any, prompt: str) -> dict[str, torch.Tensor]:
    device = next(model.parameters()).device
    encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    return {
        "input_ids": encoded["input_ids"].to(device),
        "attention_mask": encoded["attention_mask"].to(device),
    }


@torch.no_grad()
def generate_text(
    model: nn.Module,
    tokenizer: Any,
    prompt: str,
    *,
    max_new_tokens: int = 64,
    temperature: float = 0.8,
    top_p: float = 0.95,
    stream: bool = False,
) -> str:
    """The continuation of ``prompt`` (without the prompt). ``stream=True`` also prints it as it is produced."""
    from transformers import TextStreamer

    inputs = _encode(model, tokenizer, prompt)
    streamer = TextStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True) if stream else None
    was_training = model.training
    model.eval()
    try:
        output = model.generate(
            **inputs, streamer=streamer, **_generation_kwargs(tokenizer, max_new_tokens, temperature, top_p)
        )
    finally:
        model.train(was_training)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def stream_text(
    model: nn.Module,
    tokenizer: Any,
    prompt: str,
    *,
    max_new_tokens: int = 64,
    temperature: float = 0.8,
    top_p: float = 0.95,
) -> Iterator[str]:
    """Yield the continuation of ``prompt`` chunk by chunk while generation runs in a background thread."""
    from transformers import TextIteratorStreamer

    inputs = _encode(model, tokenizer, prompt)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    kwargs = dict(
        inputs, streamer=streamer, **_generation_kwargs(tokenizer, max_new_tokens, temperature, top_p)
    )

    def run() -> None:
        with torch.no_grad():
            model.generate(**kwargs)

    was_training = model.training
    model.eval()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        yield from streamer
    finally:
        worker.join()
        model.train(was_training)
