"""Byte-level BPE training, atomic save/load, and the chat templates' assistant masks."""

from __future__ import annotations

import pytest

from lamina.lm.tokenizer import (
    CHAT_TEMPLATES,
    encode_chat,
    load_tokenizer,
    save_tokenizer,
    train_bpe_tokenizer,
)

TEXTS = ["def add(a, b):\n    return a + b\n", "The quick brown fox jumps over the lazy dog."] * 40


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe_tokenizer(TEXTS, 320)


def test_round_trip_is_lossless_and_compresses(tokenizer) -> None:
    text = "The quick brown fox: return a + b  ünïcødé 🙂"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text  # byte-level: any string survives
    assert len(tokenizer("The quick brown fox")["input_ids"]) < len("The quick brown fox")  # merges learned
    assert len(tokenizer) <= 320


def test_save_and_load_keep_vocab_and_template(tokenizer, tmp_path) -> None:
    save_tokenizer(tokenizer, tmp_path / "tok")
    save_tokenizer(tokenizer, tmp_path / "tok")  # overwriting an existing folder is fine
    loaded = load_tokenizer(tmp_path / "tok")
    assert loaded("lazy dog")["input_ids"] == tokenizer("lazy dog")["input_ids"]
    assert loaded.chat_template == tokenizer.chat_template
    assert loaded.pad_token_id is not None and loaded.pad_token_id != loaded.eos_token_id
    assert [p.name for p in tmp_path.iterdir()] == ["tok"]  # no staging folder left behind


@pytest.mark.parametrize("template", ["llama3", "chatml"])
def test_assistant_mask_covers_exactly_the_answers(template) -> None:
    tokenizer = train_bpe_tokenizer(TEXTS, 320, chat_template=template)
    messages = [
        {"role": "user", "content": "add two numbers"},
        {"role": "assistant", "content": "return a + b"},
        {"role": "user", "content": "and the fox?"},
        {"role": "assistant", "content": "lazy dog"},
    ]
    encoded = tokenizer.apply_chat_template(
        messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    kept = [t for t, m in zip(encoded["input_ids"], encoded["assistant_masks"], strict=True) if m]
    end = "<|eot_id|>" if template == "llama3" else "<|im_end|>"
    assert tokenizer.decode(kept) == f"return a + b{end}lazy dog{end}"


MULTI_TURN = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "add two numbers"},
    {"role": "assistant", "content": "return a + b"},
    {"role": "user", "content": "and the fox?"},
    {"role": "assistant", "content": "lazy dog"},
]


@pytest.mark.parametrize(
    ("template", "answers"),
    [
        ("llama3", "return a + b<|eot_id|>lazy dog<|eot_id|>"),
        # ChatML's turn ends with "<|im_end|>\n": the newline comes with the turn, as the next turn starts after it
        ("chatml", "return a + b<|im_end|>\nlazy dog<|im_end|>\n"),
    ],
)
def test_templates_without_generation_markers_mask_the_assistant_turns(template, answers) -> None:
    # Shipped templates (Llama-3.1's, Qwen's) have no {% generation %} blocks: the mask comes from rendering
    # prefixes of the conversation.
    tokenizer = train_bpe_tokenizer(TEXTS, 320, chat_template=template)
    marked_ids, _ = encode_chat(tokenizer, MULTI_TURN)
    tokenizer.chat_template = CHAT_TEMPLATES[template].replace("{% generation %}", "").replace(
        "{% endgeneration %}", ""
    )
    ids, mask = encode_chat(tokenizer, MULTI_TURN)
    assert ids == marked_ids
    assert tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m]) == answers


def test_a_template_whose_prefixes_do_not_line_up_is_an_error() -> None:
    tokenizer = train_bpe_tokenizer(TEXTS, 320)
    # the turn count up front changes every earlier token when a turn is added
    tokenizer.chat_template = "{{ messages | length }}{% for m in messages %}{{ m['content'] }}{% endfor %}"
    with pytest.raises(ValueError, match="cannot tell the assistant tokens apart"):
        encode_chat(tokenizer, MULTI_TURN)


def test_bad_sizes_and_paths_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="vocab_size must be between"):
        train_bpe_tokenizer(TEXTS, 300_000)
    with pytest.raises(FileNotFoundError, match="tokenizer_path"):
        load_tokenizer(tmp_path)
