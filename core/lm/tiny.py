"""Tiny model configs, one per tested family: a forward+backward takes milliseconds.

Tests (the core's and plugins') use them to exercise each family's real code path (tied heads, Gemma-2's soft-cap,
GPT-2's fused attention) without training anything large. ``CausalLM(family=f, config=TINY_CONFIGS[f])``.
"""

VOCAB = 96

COMMON = {
    "vocab_size": VOCAB,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
}

TINY_CONFIGS: dict[str, dict] = {
    "llama": {**COMMON, "intermediate_size": 64, "num_key_value_heads": 2},
    "mistral": {**COMMON, "intermediate_size": 64, "num_key_value_heads": 2, "sliding_window": 8},
    "qwen2": {**COMMON, "intermediate_size": 64, "num_key_value_heads": 2},
    # Gemma-2: tied embeddings and a final logit soft-cap. A small cap (3.0) makes the tanh bite on tiny logits.
    "gemma2": {
        **COMMON,
        "intermediate_size": 64,
        "num_key_value_heads": 2,
        "head_dim": 8,
        "final_logit_softcapping": 3.0,
        "sliding_window": 8,
    },
    "phi3": {**COMMON, "intermediate_size": 64, "num_key_value_heads": 2},
    # GPT-2 defaults to dropout 0.1: off here, so two forward passes of the same model agree exactly.
    "gpt2": {
        "vocab_size": VOCAB,
        "n_embd": 32,
        "n_layer": 2,
        "n_head": 4,
        "n_positions": 64,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
    },
}
