"""Chat replies from a causal LM for mesh generation and description (inference only; training is the core's).

A reply ends at the end-of-turn token (``<|eot_id|>`` in the Llama-3 format) or at end-of-text; the core's
plain-text generator stops only at end-of-text, so this module passes both ids and reports whether the reply
*finished* (stopped at one of them) or ran into ``max_new_tokens``, which the parser needs to detect truncation.
Prompts are generated in batches with left padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

Messages = list[dict[str, str]]
END_OF_TURN_TOKENS = ("<|eot_id|>", "<|im_end|>", "<|end_of_text|>", "</s>")


@dataclass(frozen=True)
class ChatReply:
    text: str
    finished: bool
    new_tokens: int


def stop_token_ids(tokenizer: Any) -> list[int]:
    """Ids that end an assistant turn: the tokenizer's EOS plus any known end-of-turn token it has."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    vocabulary = tokenizer.get_vocab()
    ids |= {vocabulary[token] for token in END_OF_TURN_TOKENS if token in vocabulary}
    if not ids:
        raise ValueError(
            "the tokenizer has neither an EOS token nor an end-of-turn token; replies could never end"
        )
    return sorted(ids)


@torch.no_grad()
def chat_replies(
    model: torch.nn.Module,
    tokenizer: Any,
    conversations: Sequence[Messages],
    *,
    max_new_tokens: int = 512,
    temperature: float = 0.0,
    top_p: float = 0.95,
    batch_size: int = 8,
) -> list[ChatReply]:
    """The assistant's next reply to each conversation (``temperature=0``: greedy; the paper samples at 0.95)."""
    stops = stop_token_ids(tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    replies: list[ChatReply] = []
    try:
        for start in range(0, len(conversations), batch_size):
            prompts = [
                tokenizer.apply_chat_template(list(c), tokenize=False, add_generation_prompt=True)
                for c in conversations[start : start + batch_size]
            ]
            encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
            width = max(len(ids) for ids in encoded)
            input_ids = torch.tensor([[pad_id] * (width - len(ids)) + ids for ids in encoded], device=device)
            attention = torch.tensor(
                [[0] * (width - len(ids)) + [1] * len(ids) for ids in encoded], device=device
            )
            sampling = (
                {"do_sample": True, "temperature": temperature, "top_p": top_p}
                if temperature > 0
                else {"do_sample": False}
            )
            output = model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                max_new_tokens=max_new_tokens,
                eos_token_id=stops,
                pad_token_id=pad_id,
                **sampling,
            )
            for row in output[:, width:].tolist():
                end = next((i for i, token in enumerate(row) if token in stops), None)
                tokens = row if end is None else row[:end]
                replies.append(
                    ChatReply(
                        tokenizer.decode(tokens, skip_special_tokens=True), end is not None, len(tokens)
                    )
                )
    finally:
        model.train(was_training)
    return replies
