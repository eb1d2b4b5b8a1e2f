"""``TextDataModule``: plain text or chat data on Hugging Face ``datasets``, tokenised once and cached on disk.

Pipeline (run once per distinct source + settings, then reused from ``cache_dir``):

1. read documents from local files (``.txt``/``.md`` one document per file, ``.jsonl``/``.json``, ``.parquet``)
   or from a corpus a plugin provides (``corpus="lamina_cce.corpus:python_reference_corpus"``);
2. split documents into train/validation (by document, so validation text is unseen);
3. train a byte-level BPE tokenizer on the training split, or load one from ``tokenizer_path``;
4. tokenise: text documents end with EOS and every token is a target; chat samples go through the tokenizer's
   chat template and only assistant tokens are targets (``labels = -100`` elsewhere);
5. pack into fixed ``seq_len`` blocks (no padding wasted), or truncate and pad each sample;
6. write the result atomically under ``cache_dir/<key>/`` where ``key`` hashes the source and every setting above.
"""

from __future__ import annotations

import glob
import hashlib
import importlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from torch.utils.data import DataLoader

from lamina.lm.loss import IGNORE_INDEX
from lamina.lm.tokenizer import encode_chat, load_tokenizer, save_tokenizer, train_bpe_tokenizer

FORMATS = ("text", "chat")
_BUILDERS = {".txt": "text", ".md": "text", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}
CACHE_FORMAT_VERSION = 1  # bump when the on-disk layout or tokenisation rules change
_SPLIT_FIELDS = ("val_fraction", "max_documents", "seed")
_TOKENIZER_FIELDS = ("format", "tokenizer_path", "vocab_size", "chat_template")


def _expand_files(files: str | list[str]) -> list[str]:
    patterns = [files] if isinstance(files, str) else list(files)
    found: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
        if not matches:
            raise FileNotFoundError(
                f"no data file matches {pattern!r}; check `data.files` (globs are allowed)."
            )
        found.extend(m for m in matches if os.path.isfile(m))
    return found


def _builder_for(paths: list[str]) -> str:
    builders = set()
    for path in paths:
        builder = _BUILDERS.get(Path(path).suffix.lower())
        if builder is None:
            raise ValueError(
                f"unsupported data file {path!r}: use .txt/.md (one document per file), .jsonl/.json or .parquet."
            )
        builders.add(builder)
    if len(builders) > 1:
        raise ValueError(
            f"data files mix formats ({', '.join(sorted(builders))}); use one kind of file per run."
        )
    return builders.pop()


def _load_callable(dotted: str) -> Callable[..., Any]:
    module_name, _, attribute = dotted.partition(":")
    if not attribute:
        raise ValueError(f"corpus must look like 'package.module:function', got {dotted!r}.")
    return getattr(importlib.import_module(module_name), attribute)


def _pack(batch: dict[str, list], seq_len: int) -> dict[str, list]:
    """Concatenate samples and cut into ``seq_len`` blocks; the incomplete tail of the batch is dropped."""
    ids = [token for row in batch["input_ids"] for token in row]
    labels = [token for row in batch["labels"] for token in row]
    blocks = len(ids) // seq_len
    return {
        "input_ids": [ids[i * seq_len : (i + 1) * seq_len] for i in range(blocks)],
        "labels": [labels[i * seq_len : (i + 1) * seq_len] for i in range(blocks)],
    }


def _pad(batch: dict[str, list], seq_len: int, pad_id: int) -> dict[str, list]:
    """Truncate each sample to ``seq_len`` and right-pad it, with an attention mask and ignored labels."""
    out: dict[str, list] = {"input_ids": [], "labels": [], "attention_mask": []}
    for ids, labels in zip(batch["input_ids"], batch["labels"], strict=True):
        ids, labels = ids[:seq_len], labels[:seq_len]
        missing = seq_len - len(ids)
        out["input_ids"].append(ids + [pad_id] * missing)
        out["labels"].append(labels + [IGNORE_INDEX] * missing)
        out["attention_mask"].append([1] * len(ids) + [0] * missing)
    return out


class TextDataModule(pl.LightningDataModule):
    """Language-model data: documents or chats -> tokenised, packed, cached blocks.

    Args:
        files: local data files or globs (``.txt``/``.md``, ``.jsonl``/``.json``, ``.parquet``).
        corpus: ``"module:function"`` returning a ``datasets.Dataset`` or an iterable of records (dicts with
            ``text_field``/``messages_field``, or plain strings). Exactly one of ``files``/``corpus``.
        corpus_kwargs: keyword arguments for the corpus function.
        format: ``text`` (every token is a target) or ``chat`` (``messages`` lists; only assistant turns are).
        text_field, messages_field: column names in the records.
        tokenizer_path: a local tokenizer folder; unset trains byte-level BPE with ``vocab_size`` on the corpus.
        vocab_size, chat_template: for the trained tokenizer.
        seq_len: tokens per training block. pack: concatenate samples (True) or truncate+pad each one.
        batch_size, num_workers: loaders. val_fraction: share of documents held out. max_documents: cap (tests).
        cache_dir: where tokenised data and trained tokenizers are cached (``${paths.data_dir}/lm_cache``).
        seed: for the split and shuffling.
    """

    def __init__(
        self,
        files: str | list[str] | None = None,
        corpus: str | None = None,
        corpus_kwargs: dict[str, Any] | None = None,
        format: str = "text",
        text_field: str = "text",
        messages_field: str = "messages",
        tokenizer_path: str | None = None,
        vocab_size: int = 4096,
        chat_template: str = "llama3",
        seq_len: int = 256,
        pack: bool = True,
        batch_size: int = 8,
        num_workers: int = 0,
        val_fraction: float = 0.05,
        max_documents: int | None = None,
        cache_dir: str = "data/lm_cache",
        seed: int = 0,
    ) -> None:
        super().__init__()
        if (files is None) == (corpus is None):
            raise ValueError(
                "TextDataModule needs exactly one of `files` (local paths) or `corpus` ('module:fn')."
            )
        if format not in FORMATS:
            raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}.")
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}.")
        if seq_len < 2:
            raise ValueError(f"seq_len must be at least 2 (one input and one target), got {seq_len}.")
        self.save_hyperparameters()
        self.cache_dir = Path(cache_dir).expanduser()
        self.tokenizer: Any = None
        self.datasets: dict[str, Any] = {}

    # ------------------------------------------------------------------ reading the source
    def _source_fingerprint(self) -> dict[str, Any]:
        hp = self.hparams
        if hp.files is not None:
            paths = _expand_files(hp.files)
            return {"files": [(p, os.path.getsize(p), os.path.getmtime(p)) for p in paths]}
        return {"corpus": hp.corpus, "corpus_kwargs": hp.corpus_kwargs or {}}

    def _read_documents(self) -> Any:
        """The raw documents as a ``datasets.Dataset`` with a ``text`` or ``messages`` column."""
        import datasets

        hp = self.hparams
        if hp.files is not None:
            paths = _expand_files(hp.files)
            builder = _builder_for(paths)
            kwargs = {"sample_by": "document"} if builder == "text" else {}
            raw = datasets.load_dataset(
                builder, data_files=paths, split="train", cache_dir=str(self.cache_dir / "hf"), **kwargs
            )
        else:
            produced = _load_callable(hp.corpus)(**(hp.corpus_kwargs or {}))
            raw = (
                produced
                if isinstance(produced, datasets.Dataset)
                else datasets.Dataset.from_list(
                    [{hp.text_field: r} if isinstance(r, str) else dict(r) for r in produced]
                )
            )
        field = hp.messages_field if hp.format == "chat" else hp.text_field
        if field not in raw.column_names:
            raise ValueError(
                f"the data have no {field!r} column (columns: {raw.column_names}). Set "
                f"`data.{'messages_field' if hp.format == 'chat' else 'text_field'}` to the right column"
                + (", or `data.format=chat` for conversations." if hp.format == "text" else ".")
            )
        canonical = "messages" if hp.format == "chat" else "text"
        raw = raw.select_columns([field])
        if field != canonical:
            raw = raw.rename_column(field, canonical)
        if hp.max_documents is not None:
            raw = raw.select(range(min(hp.max_documents, len(raw))))
        if len(raw) < 2:
            raise ValueError(
                f"the corpus has {len(raw)} document(s); at least 2 are needed for a train/val split."
            )
        return raw

    # ------------------------------------------------------------------ cache
    def _source(self, documents: Any) -> dict[str, Any]:
        """What identifies the raw text: file stats, or the content hash of a provided corpus (which may change
        with its package version)."""
        if self.hparams.corpus is not None:
            return {"corpus": self.hparams.corpus, "content_sha": _content_sha(documents)}
        return self._source_fingerprint()

    def _key(self, documents: Any, fields: tuple[str, ...]) -> str:
        settings = {k: self.hparams[k] for k in fields}
        blob = json.dumps(
            {"v": CACHE_FORMAT_VERSION, "source": self._source(documents), "settings": settings},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def _cache_key(self, documents: Any) -> str:
        return self._key(documents, _SPLIT_FIELDS + _TOKENIZER_FIELDS + ("format", "seq_len", "pack"))

    @property
    def prepared_dir(self) -> Path | None:
        return getattr(self, "_prepared_dir", None)

    def prepare_data(self) -> None:
        """Build the cache if it is missing (rank 0 only under DDP); cheap when it exists."""
        documents = self._read_documents()
        target = self.cache_dir / self._cache_key(documents)
        self._prepared_dir = target
        if (target / "done").is_file():
            return
        self._build_cache(documents, target)

    def _build_cache(self, documents: Any, target: Path) -> None:
        hp = self.hparams
        split = documents.train_test_split(test_size=hp.val_fraction, seed=hp.seed)
        tokenizer = self._make_tokenizer(split["train"], documents)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            save_tokenizer(tokenizer, staging / "tokenizer")
            for name, part in (("train", split["train"]), ("val", split["test"])):
                tokens = self._tokenize(part, tokenizer)
                if len(tokens) == 0:
                    raise ValueError(
                        f"the {name} split has no complete {hp.seq_len}-token block ({len(part)} documents). Lower "
                        "`data.seq_len`, raise `data.val_fraction`, or provide more text."
                    )
                tokens.save_to_disk(str(staging / name))
            (staging / "done").write_text("ok\n")
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def _make_tokenizer(self, train_documents: Any, all_documents: Any) -> Any:
        """Load the given tokenizer, or train one, cached apart from the tokens: changing ``seq_len`` or
        ``pack`` reuses it, so runs that differ only in those compare on the same vocabulary."""
        hp = self.hparams
        if hp.tokenizer_path is not None:
            return load_tokenizer(hp.tokenizer_path)
        cached = self.cache_dir / "tokenizers" / self._key(all_documents, _SPLIT_FIELDS + _TOKENIZER_FIELDS)
        if (cached / "tokenizer.json").is_file():
            return load_tokenizer(cached)
        tokenizer = train_bpe_tokenizer(
            _training_texts(train_documents, hp.format), hp.vocab_size, chat_template=hp.chat_template
        )
        save_tokenizer(tokenizer, cached)
        return tokenizer

    def _tokenize(self, documents: Any, tokenizer: Any) -> Any:
        hp = self.hparams
        if hp.format == "chat":

            def encode(batch: dict[str, list]) -> dict[str, list]:
                ids_out, labels_out = [], []
                for messages in batch["messages"]:
                    ids, mask = encode_chat(tokenizer, messages)
                    if not any(mask):
                        raise ValueError(
                            "a chat sample has no assistant turn to learn from: " + repr(messages)[:200]
                        )
                    ids_out.append(ids)
                    labels_out.append([t if m else IGNORE_INDEX for t, m in zip(ids, mask, strict=True)])
                return {"input_ids": ids_out, "labels": labels_out}
        else:
            eos = tokenizer.eos_token_id

            def encode(batch: dict[str, list]) -> dict[str, list]:
                ids = [row + [eos] for row in tokenizer(batch["text"], add_special_tokens=False)["input_ids"]]
                return {"input_ids": ids, "labels": [list(row) for row in ids]}

        tokens = documents.map(
            encode, batched=True, remove_columns=documents.column_names, keep_in_memory=True
        )
        if hp.pack:
            return tokens.map(
                _pack, batched=True, batch_size=1000, fn_kwargs={"seq_len": hp.seq_len}, keep_in_memory=True
            )
        return tokens.map(
            _pad,
            batched=True,
            fn_kwargs={"seq_len": hp.seq_len, "pad_id": tokenizer.pad_token_id},
            keep_in_memory=True,
        )

    # ------------------------------------------------------------------ Lightning
    def setup(self, stage: str | None = None) -> None:
        import datasets

        if self.prepared_dir is None or not (self.prepared_dir / "done").is_file():
            self.prepare_data()
        directory = self.prepared_dir
        self.tokenizer = load_tokenizer(directory / "tokenizer")
        for name in ("train", "val"):
            self.datasets[name] = datasets.load_from_disk(str(directory / name)).with_format("torch")
        trainer = getattr(self, "trainer", None)
        if trainer is not None and trainer.is_global_zero and trainer.default_root_dir:
            save_tokenizer(self.tokenizer, Path(trainer.default_root_dir) / "tokenizer")  # saved with the run

    @property
    def vocab_size(self) -> int:
        """Tokens in the tokenizer (after :meth:`setup`); the model's vocabulary must be at least this."""
        if self.tokenizer is None:
            raise RuntimeError("call setup() first: the tokenizer is built or loaded there.")
        return len(self.tokenizer)

    def _loader(self, name: str, shuffle: bool) -> DataLoader:
        return DataLoader(
            self.datasets[name],
            batch_size=self.hparams.batch_size,
            shuffle=shuffle,
            num_workers=self.hparams.num_workers,
            drop_last=shuffle,
            persistent_workers=self.hparams.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)


def _training_texts(documents: Any, format: str) -> Iterable[str]:
    """The strings the tokenizer is trained on: documents, or every message's content for chats."""
    for row in documents:
        if format == "chat":
            for message in row["messages"]:
                yield message["content"]
        else:
            yield row["text"]


def _content_sha(documents: Any) -> str:
    digest = hashlib.sha256()
    column = documents.column_names[0]
    for value in documents[column]:
        digest.update(json.dumps(value, sort_keys=True).encode())
    return digest.hexdigest()
