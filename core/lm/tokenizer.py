"""Byte-level BPE tokenizers: train one on a corpus, save it with the run, load it as ``PreTrainedTokenizerFast``.

A trained tokenizer carries Llama-3-style special tokens and a chat template whose assistant turns are wrapped in
``{% generation %}`` blocks, so ``apply_chat_template(..., return_assistant_tokens_mask=True)`` tells the data
pipeline which tokens the loss should see (assistant answers only).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MAX_VOCAB_SIZE = 256_000

# Special tokens in Llama-3's spelling. The first byte-level merges never produce these strings, so they are
# safe to add as whole tokens.
BOS, EOS, PAD = "<|begin_of_text|>", "<|end_of_text|>", "<|pad|>"
START_HEADER, END_HEADER, END_OF_TURN = "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"
IM_START, IM_END = "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = (PAD, BOS, EOS, START_HEADER, END_HEADER, END_OF_TURN, IM_START, IM_END)

CHAT_TEMPLATES = {
    # Llama-3: <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
    "llama3": (
        "{{- bos_token }}"
        "{%- for message in messages %}"
        "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}"
        "{%- if message['role'] == 'assistant' %}"
        "{% generation %}{{- message['content'] | trim + '<|eot_id|>' }}{% endgeneration %}"
        "{%- else %}{{- message['content'] | trim + '<|eot_id|>' }}{%- endif %}"
        "{%- endfor %}"
        "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %}"
    ),
    # ChatML (Qwen and others): <|im_start|>role\ncontent<|im_end|>\n
    "chatml": (
        "{%- for message in messages %}"
        "{{- '<|im_start|>' + message['role'] + '\n' }}"
        "{%- if message['role'] == 'assistant' %}"
        "{% generation %}{{- message['content'] | trim + '<|im_end|>' }}{% endgeneration %}{{- '\n' }}"
        "{%- else %}{{- message['content'] | trim + '<|im_end|>\n' }}{%- endif %}"
        "{%- endfor %}"
        "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"
    ),
}


def _check_vocab_size(vocab_size: int) -> None:
    minimum = 256 + len(SPECIAL_TOKENS)
    if not minimum <= vocab_size <= MAX_VOCAB_SIZE:
        raise ValueError(
            f"vocab_size must be between {minimum} (256 bytes + {len(SPECIAL_TOKENS)} special tokens) and "
            f"{MAX_VOCAB_SIZE}, got {vocab_size}."
        )


def train_bpe_tokenizer(
    texts: Iterable[str],
    vocab_size: int,
    *,
    chat_template: str = "llama3",
    min_frequency: int = 2,
) -> Any:
    """Train a byte-level BPE tokenizer on ``texts`` and wrap it as a ``PreTrainedTokenizerFast``.

    The vocabulary may end up smaller than ``vocab_size`` when the corpus has fewer frequent merges; size the
    model's embedding from ``len(tokenizer)`` or keep it at ``vocab_size`` (unused rows are harmless).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    _check_vocab_size(vocab_size)
    if chat_template not in CHAT_TEMPLATES:
        raise ValueError(
            f"unknown chat_template {chat_template!r}; choose one of {', '.join(CHAT_TEMPLATES)}."
        )
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=[t for t in SPECIAL_TOKENS if t not in (BOS, EOS, PAD)],
    )
    tokenizer.chat_template = CHAT_TEMPLATES[chat_template]
    return tokenizer


def save_tokenizer(tokenizer: Any, directory: str | Path) -> Path:
    """Write ``tokenizer`` to ``directory`` atomically: readers see the old folder or the complete new one."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        tokenizer.save_pretrained(staging)
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return directory


def load_tokenizer(path: str | Path) -> Any:
    """Load a tokenizer saved with ``save_pretrained`` from a local folder (never from a hub)."""
    from transformers import AutoTokenizer

    directory = Path(path).expanduser()
    if not (directory / "tokenizer.json").is_file() and not (directory / "tokenizer_config.json").is_file():
        raise FileNotFoundError(
            f"no tokenizer in {str(directory)!r} (expected tokenizer.json). Point `tokenizer_path` at a folder "
            "written by `save_pretrained`, or leave it unset to train a BPE tokenizer on the corpus."
        )
    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    if tokenizer.pad_token is None:
        # Padding needs an id; reusing EOS is the usual choice for tokenizers shipped without one (Llama).
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def encode_chat(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[list[int], list[int]]:
    """Token ids of a conversation and a 0/1 mask of the assistant tokens (the ones the loss should see).

    Templates with ``{% generation %}`` blocks (the ones in :data:`CHAT_TEMPLATES`) mark assistant tokens
    themselves. Shipped templates usually have none (Llama-3.1's, Qwen's), so for those each assistant turn is found
    by rendering the conversation up to that turn with and without it: the tokens the turn adds (its content and
    end-of-turn token) are the assistant's. That needs the rendering of a shorter conversation to be a prefix of a
    longer one, which holds for templates whose turns end with special tokens; a template where it does not hold
    is an error rather than a silently wrong mask.
    """
    template = tokenizer.chat_template or ""
    if not template:
        raise ValueError("format=chat needs a tokenizer with a chat template; this one has none.")
    if "{% generation %}" in template or "{%- generation %}" in template:
        encoded = tokenizer.apply_chat_template(
            messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        return list(encoded["input_ids"]), list(encoded["assistant_masks"])

    def render(conversation: list[dict[str, str]], *, add_generation_prompt: bool) -> list[int]:
        encoded = tokenizer.apply_chat_template(
            conversation, tokenize=True, return_dict=True, add_generation_prompt=add_generation_prompt
        )
        return list(encoded["input_ids"])

    ids = render(messages, add_generation_prompt=False)
    mask = [0] * len(ids)
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start = len(render(messages[:index], add_generation_prompt=True)) if index else 0
        through = render(messages[: index + 1], add_generation_prompt=False)
        if ids[: len(through)] != through or len(through) <= start:
            raise ValueError(
                "cannot tell the assistant tokens apart with this chat template: rendering the conversation up "
                f"to turn {index} is not a prefix of the whole conversation. Give the template "
                "{% generation %}...{% endgeneration %} around assistant content, or use one from "
                "lamina.lm.tokenizer.CHAT_TEMPLATES."
            )
        mask[start : len(through)] = [1] * (len(through) - start)
    return ids, mask
