"""Where answers come from: a Hugging Face causal LM (trained here or a local pretrained folder) or an
OpenAI-compatible endpoint. Both expose the same two operations, which is all the prompting strategies need:

- ``option_scores(prompts, options)``: for each prompt, the log-probabilities of the options' first tokens at the
  next position, and whether the single most likely next token (over the whole vocabulary) is one of them;
- ``generate(prompt, max_new_tokens)``: greedy continuation (chain-of-thought reasoning).
"""

from __future__ import annotations

import json
import math
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np


@dataclass
class OptionScores:
    """``log_probs[i, j]``: log-probability of option j after prompt i; ``parseable[i]``: top token is an option."""

    log_probs: np.ndarray
    parseable: np.ndarray


class AnswerBackend(Protocol):
    def option_scores(self, prompts: list[str], options: tuple[str, ...]) -> OptionScores: ...

    def generate(self, prompt: str, max_new_tokens: int) -> str: ...


class HuggingFaceBackend:
    """A local ``*ForCausalLM`` and its tokenizer. ``chat=True`` wraps prompts in the tokenizer's chat template
    (how the fine-tuned models here were trained); otherwise the prompt is plain text and options follow a space."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        chat: bool = False,
        max_length: int | None = None,
        batch_size: int = 16,
    ) -> None:
        self.model, self.tokenizer, self.chat, self.batch_size = model.eval(), tokenizer, chat, batch_size
        self.max_length = max_length or int(getattr(model.config, "max_position_embeddings", 2048))

    @classmethod
    def from_directory(cls, path: str | Path, *, chat: bool = False) -> HuggingFaceBackend:
        """Load model and tokenizer from a local ``save_pretrained`` folder (never from a hub)."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        directory = Path(path).expanduser()
        if not (directory / "config.json").is_file():
            raise FileNotFoundError(
                f"{directory} has no config.json: pass a local folder written by "
                "save_pretrained (model and tokenizer). Nothing is downloaded."
            )
        tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(directory, local_files_only=True)
        return cls(model, tokenizer, chat=chat)

    def _context(self, prompt: str) -> str:
        if self.chat:
            return self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        return prompt

    def option_tokens(self, options: tuple[str, ...]) -> tuple[list[int], list[int]]:
        """(tokens every option starts with, first distinct token of each option), as the options follow the
        context (after a space for plain text). A tokenizer that never merged " 1" yields a shared space token,
        which then joins the context so the distribution is read one position later.

        Each option's scored token must carry the start of the option's text. A tokenizer that merged the space
        into some options but not others (" 1" one token, " 0" as " " + "0") would otherwise score "0" by the
        bare space token; then the space joins the context and every option is scored by its bare token."""
        prefix = "" if self.chat else " "
        encoded = [self.tokenizer.encode(prefix + option, add_special_tokens=False) for option in options]
        shared = 0
        while all(len(ids) > shared + 1 for ids in encoded) and len({ids[shared] for ids in encoded}) == 1:
            shared += 1
        context, ids = encoded[0][:shared], [tokens[shared] for tokens in encoded]
        if prefix and not self._tokens_start_options(ids, options):
            context = self.tokenizer.encode(prefix, add_special_tokens=False)
            ids = [self.tokenizer.encode(option, add_special_tokens=False)[0] for option in options]
        if not self._tokens_start_options(ids, options) or len(set(ids)) != len(ids):
            raise ValueError(
                f"answer options {options} cannot be told apart from the next-token distribution of this "
                f"tokenizer (their first tokens: {[self.tokenizer.decode([token]) for token in ids]})."
            )
        return context, ids

    def _tokens_start_options(self, ids: list[int], options: tuple[str, ...]) -> bool:
        texts = [self.tokenizer.decode([token]).strip() for token in ids]
        return all(text and option.startswith(text) for text, option in zip(texts, options, strict=True))

    def _encode_left_truncated(self, text: str, reserve: int = 0) -> list[int]:
        ids = self.tokenizer.encode(text, add_special_tokens=not self.chat)
        return ids[
            -(self.max_length - reserve) :
        ]  # keep the end: the question and the answer cue matter most

    def option_scores(self, prompts: list[str], options: tuple[str, ...]) -> OptionScores:
        import torch

        shared, ids = self.option_tokens(options)
        option_ids = torch.tensor(ids)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        log_probs, parseable = [], []
        for start in range(0, len(prompts), self.batch_size):
            encoded = [
                self._encode_left_truncated(self._context(p), reserve=len(shared)) + shared
                for p in prompts[start : start + self.batch_size]
            ]
            width = max(len(ids) for ids in encoded)
            # left padding, so the last position of every row is the one that predicts the answer
            input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in encoded])
            mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in encoded])
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.no_grad():
                logits = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions).logits[
                    :, -1
                ]
            full = torch.log_softmax(logits.float(), dim=-1)
            log_probs.append(full[:, option_ids].numpy())
            parseable.append(torch.isin(full.argmax(-1), option_ids).numpy())
        return OptionScores(np.concatenate(log_probs), np.concatenate(parseable))

    def generate(self, prompt: str, max_new_tokens: int) -> str:
        import torch

        ids = torch.tensor(
            [self._encode_left_truncated(self._context(prompt))[-(self.max_length - max_new_tokens) :]]
        )
        with torch.no_grad():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                do_sample=False,
                max_new_tokens=max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            )
        return self.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


class OpenAICompatibleBackend:
    """A ``/v1/completions`` endpoint (vLLM, llama.cpp server, OpenAI...) given by URL and key. Optional: no test
    or default run needs it. Option scores come from ``top_logprobs`` of one generated token (absent options get
    log-probability -inf, i.e. the endpoint did not rank them in its top list)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        top_logprobs: int = 20,
        timeout_s: float = 60.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/completions"
        self.model, self.api_key, self.top_logprobs, self.timeout_s = model, api_key, top_logprobs, timeout_s

    def _post(self, payload: dict) -> dict:
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"model": self.model, **payload}).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}),
            },
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            return json.load(response)

    def option_scores(self, prompts: list[str], options: tuple[str, ...]) -> OptionScores:
        rows, parseable = [], []
        for prompt in prompts:
            reply = self._post(
                {"prompt": prompt, "max_tokens": 1, "temperature": 0.0, "logprobs": self.top_logprobs}
            )
            choice = reply["choices"][0]
            top = (choice.get("logprobs") or {}).get("top_logprobs") or [{}]
            ranked = {token.strip(): value for token, value in top[0].items()}
            rows.append([ranked.get(option, -math.inf) for option in options])
            parseable.append(choice.get("text", "").strip() in options)
        return OptionScores(np.array(rows, dtype=np.float64), np.array(parseable))

    def generate(self, prompt: str, max_new_tokens: int) -> str:
        reply = self._post({"prompt": prompt, "max_tokens": max_new_tokens, "temperature": 0.0})
        return reply["choices"][0]["text"]
