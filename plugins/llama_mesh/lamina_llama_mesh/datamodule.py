"""The mesh chat data as a core :class:`~lamina.lm.data.TextDataModule` (tokenised once, cached, loss on
assistant turns); this module only fills in the corpus so configs can say ``name: mesh_sft``."""

from __future__ import annotations

from typing import Any

CORPUS = "lamina_llama_mesh.corpus:mesh_sft_corpus"


def mesh_chat_datamodule(corpus_kwargs: dict[str, Any] | None = None, **datamodule_kwargs: Any) -> Any:
    """A ``TextDataModule`` over :func:`~lamina_llama_mesh.corpus.mesh_sft_corpus` in chat format."""
    from lamina.lm.data import TextDataModule

    for key in ("corpus", "files", "format"):
        if key in datamodule_kwargs:
            raise ValueError(f"mesh_sft sets `{key}` itself; remove it from the data config")
    return TextDataModule(
        corpus=CORPUS, corpus_kwargs=dict(corpus_kwargs or {}), format="chat", **datamodule_kwargs
    )
