"""TextDataModule: local files and provided corpora, packing, assistant-only labels, and the on-disk cache."""

from __future__ import annotations

import json

import pytest
import torch

from lamina.lm.data import TextDataModule
from lamina.lm.loss import IGNORE_INDEX

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda"]


def _documents(count: int = 30) -> list[str]:
    return [" ".join(WORDS[(i + j) % len(WORDS)] for j in range(20 + i % 7)) for i in range(count)]


def tiny_corpus() -> list[dict]:
    """A corpus function as a plugin would provide one (referenced as 'module:function')."""
    return [{"text": d} for d in _documents()]


def _write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_text_files_are_packed_into_full_blocks(tmp_path) -> None:
    for i, doc in enumerate(_documents()):
        (tmp_path / f"doc{i}.txt").write_text(doc)
    dm = TextDataModule(
        files=str(tmp_path / "*.txt"),
        vocab_size=300,
        seq_len=16,
        batch_size=4,
        val_fraction=0.2,
        cache_dir=str(tmp_path / "cache"),
    )
    dm.prepare_data()
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["input_ids"].shape == (4, 16)
    assert torch.equal(batch["labels"], batch["input_ids"])  # plain text: every token is a target
    all_train = dm.datasets["train"][:]["input_ids"]
    assert (all_train == dm.tokenizer.eos_token_id).sum() >= 10  # documents end with EOS inside packed blocks
    text = dm.tokenizer.decode(dm.datasets["train"][0]["input_ids"])
    assert any(word in text for word in WORDS)
    assert len(dm.datasets["val"]) > 0


def test_cache_is_reused_and_keyed_by_settings(tmp_path, monkeypatch) -> None:
    corpus = f"{__name__}:tiny_corpus"
    kwargs = dict(corpus=corpus, vocab_size=300, seq_len=16, val_fraction=0.2, cache_dir=str(tmp_path))
    first = TextDataModule(**kwargs)
    first.prepare_data()
    built = set(tmp_path.iterdir())

    def fail(*args, **kw):
        raise AssertionError("the cache should have been reused")

    second = TextDataModule(**kwargs)
    monkeypatch.setattr(second, "_build_cache", fail)
    second.setup("fit")
    assert set(tmp_path.iterdir()) == built
    monkeypatch.undo()
    TextDataModule(**{**kwargs, "seq_len": 8}).prepare_data()
    assert len(set(tmp_path.iterdir()) - built) == 1  # a new setting gets its own entry
    assert len(list((tmp_path / "tokenizers").iterdir())) == 1  # ... but reuses the trained tokenizer


def test_chat_labels_cover_only_assistant_turns(tmp_path) -> None:
    rows = [
        {"messages": [{"role": "user", "content": f"say {w}"}, {"role": "assistant", "content": f"{w} {w}"}]}
        for w in WORDS * 3
    ]
    _write_jsonl(tmp_path / "chat.jsonl", rows)
    dm = TextDataModule(
        files=str(tmp_path / "chat.jsonl"),
        format="chat",
        pack=False,
        vocab_size=300,
        seq_len=32,
        val_fraction=0.2,
        cache_dir=str(tmp_path / "cache"),
    )
    dm.setup("fit")
    sample = dm.datasets["train"][0]
    labels, ids = sample["labels"], sample["input_ids"]
    targets = dm.tokenizer.decode(ids[labels != IGNORE_INDEX])
    assert targets.endswith("<|eot_id|>") and "say" not in targets and "user" not in targets
    assert sample["attention_mask"].sum() < 32  # padded, and padding is not a target
    assert (labels[sample["attention_mask"] == 0] == IGNORE_INDEX).all()


def test_bad_inputs_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="exactly one of `files`"):
        TextDataModule()
    with pytest.raises(FileNotFoundError, match="no data file matches"):
        TextDataModule(files=str(tmp_path / "missing*.txt")).prepare_data()
    _write_jsonl(tmp_path / "x.jsonl", [{"body": "a b c"}, {"body": "d e f"}])
    with pytest.raises(ValueError, match="no 'text' column"):
        TextDataModule(files=str(tmp_path / "x.jsonl"), cache_dir=str(tmp_path / "c")).prepare_data()
    (tmp_path / "a.csv").write_text("x\n")
    with pytest.raises(ValueError, match="unsupported data file"):
        TextDataModule(files=str(tmp_path / "a.csv")).prepare_data()
    with pytest.raises(ValueError, match="no complete 4096-token block"):
        TextDataModule(
            corpus=f"{__name__}:tiny_corpus", vocab_size=300, seq_len=4096, cache_dir=str(tmp_path / "c2")
        ).prepare_data()
