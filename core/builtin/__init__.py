"""The core's own components, registered through the same hooks as any third-party plugin."""

from lamina import hookimpl


@hookimpl
def register_models(register):
    register(
        "digits_mlp",
        "lamina.builtin.digits:DigitsClassifier",
        description="Small MLP image classifier for 8x8 digits (the platform's smoke-test model).",
    )
    register(
        "causal_lm",
        "lamina.lm.module:CausalLM",
        description="Any Hugging Face *ForCausalLM (from a config or a local folder) trained on the fused CCE loss.",
    )


@hookimpl
def register_datasets(register):
    register(
        "digits",
        "lamina.builtin.digits:DigitsDataModule",
        description="scikit-learn's bundled handwritten digits (1,797 real 8x8 images), as a HF datasets DataModule.",
    )
    register(
        "text",
        "lamina.lm.data:TextDataModule",
        description="Local text/JSONL/Parquet files or a plugin's corpus: BPE-tokenised, packed, cached (text or chat).",
    )


@hookimpl
def register_callbacks(register):
    register(
        "throughput",
        "lamina.callbacks:ThroughputLogger",
        description="Logs samples/s, and tokens/s for models with count_tokens().",
    )
    register(
        "progress_log",
        "lamina.callbacks:ProgressLog",
        description="A log line every N steps when the console is not a terminal (nohup, SLURM, CI).",
    )
    register(
        "rng_state",
        "lamina.callbacks:RNGStateCheckpoint",
        description="Saves and restores the random streams with each checkpoint (exact resume).",
    )
    register(
        "lm_samples",
        "lamina.lm.callbacks:SampleGeneration",
        description="Prints and logs generations from fixed prompts at the end of training.",
    )
