"""The core's language-model configs compose with the real train.yaml and build on small local files."""

from __future__ import annotations

from hydra.utils import instantiate

from lamina.lm import CausalLM, TextDataModule
from lamina.testing import compose_train_config


def test_text_files_and_lm_llama_tiny_compose_and_build(tmp_path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(12):
        (docs / f"{i}.txt").write_text(
            f"document {i}: " + "the quick brown fox jumps over the lazy dog. " * 8
        )
    cfg = compose_train_config(
        [
            "model=lm_llama_tiny",
            "data=text_files",
            f"data.files={docs}/*.txt",
            "data.vocab_size=300",
            "data.seq_len=32",
            "model.config.hidden_size=32",
            "model.config.intermediate_size=64",
        ],
        tmp_path / "run",
    )
    data = instantiate(cfg.data, _convert_="all")
    model = instantiate(cfg.model, _convert_="all")
    assert isinstance(data, TextDataModule) and isinstance(model, CausalLM)
    assert model.vocab_size == 300 and model.loss_impl == "cce"
    data.setup("fit")
    assert data.vocab_size <= model.vocab_size
    batch = next(iter(data.train_dataloader()))
    assert model.loss(batch).item() > 0
