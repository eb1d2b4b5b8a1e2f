"""The plugin's DataModule: ``lamina.lm.TextDataModule`` on the Python documentation corpus."""

from __future__ import annotations

from typing import Any

from lamina.lm.data import TextDataModule

CORPUS = "lamina_cce.corpus:python_reference_corpus"


def python_docs_datamodule(**kwargs: Any) -> TextDataModule:
    """A ``TextDataModule`` over :func:`lamina_cce.corpus.python_reference_corpus` (any TextDataModule option)."""
    if "files" in kwargs or "corpus" in kwargs:
        raise ValueError("cce_python_docs provides its own corpus; use data=text_files for your own files.")
    return TextDataModule(corpus=CORPUS, **kwargs)
