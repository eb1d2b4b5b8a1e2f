"""General (non-mesh) chat for the 40% share of the SFT mix, and the held-out text task for language retention.

The paper mixes in UltraChat; nothing can be downloaded here, so the default is a procedural stand-in: short
question-answer tasks with one checkable answer (arithmetic, comparing numbers, spelling backwards, counting
letters, the next letter of the alphabet). A local chat file (JSON Lines of ``{"messages": [...]}``, e.g. an
UltraChat export) replaces it via :func:`read_chat_file`. Held-out items come from a different seed, and
:func:`answer_is_correct` scores a model's reply by the answer it claims (not by whether the answer merely occurs in
it, since replies repeat the question's numbers), which is how "language retention" is measured before and after
mesh training.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Messages = list[dict[str, str]]

WORDS = [
    "table",
    "chair",
    "window",
    "garden",
    "river",
    "mountain",
    "pencil",
    "orange",
    "planet",
    "silver",
    "candle",
    "market",
    "forest",
    "bridge",
    "winter",
    "summer",
    "rocket",
    "castle",
    "button",
    "kitten",
    "yellow",
    "purple",
    "monkey",
    "ladder",
    "basket",
    "island",
    "doctor",
    "farmer",
    "pocket",
    "thunder",
    "blanket",
    "carpet",
    "engine",
    "finger",
    "helmet",
    "jacket",
    "lemon",
    "mirror",
    "needle",
    "pepper",
    "rabbit",
    "saddle",
    "tunnel",
    "violin",
    "wallet",
    "zipper",
    "anchor",
    "bottle",
    "cabin",
    "dragon",
    "feather",
    "guitar",
    "harbor",
    "jungle",
    "kettle",
    "lantern",
    "meadow",
    "noodle",
]


@dataclass(frozen=True)
class TextTask:
    """A question, the reference reply, and the short answer a reply must contain to be correct."""

    kind: str
    question: str
    reply: str
    answer: str

    def messages(self) -> Messages:
        return [{"role": "user", "content": self.question}, {"role": "assistant", "content": self.reply}]


def _addition(rng: np.random.Generator) -> TextTask:
    a, b = (int(x) for x in rng.integers(10, 100, size=2))
    return TextTask("addition", f"What is {a} plus {b}?", f"{a} plus {b} is {a + b}.", str(a + b))


def _subtraction(rng: np.random.Generator) -> TextTask:
    a, b = sorted((int(x) for x in rng.integers(10, 100, size=2)), reverse=True)
    return TextTask("subtraction", f"What is {a} minus {b}?", f"{a} minus {b} is {a - b}.", str(a - b))


def _larger(rng: np.random.Generator) -> TextTask:
    a, b = (int(x) for x in rng.choice(np.arange(1, 100), size=2, replace=False))
    big, small = max(a, b), min(a, b)
    return TextTask(
        "compare", f"Which number is larger, {a} or {b}?", f"{big} is larger than {small}.", str(big)
    )


def _backwards(rng: np.random.Generator) -> TextTask:
    word = str(rng.choice(WORDS))
    reverse = word[::-1]
    return TextTask(
        "reverse", f"Spell the word '{word}' backwards.", f"'{word}' backwards is '{reverse}'.", reverse
    )


def _count_letters(rng: np.random.Generator) -> TextTask:
    word = str(rng.choice(WORDS))
    return TextTask(
        "count",
        f"How many letters are in the word '{word}'?",
        f"The word '{word}' has {len(word)} letters.",
        str(len(word)),
    )


def _next_letter(rng: np.random.Generator) -> TextTask:
    index = int(rng.integers(0, 25))
    letter, following = string.ascii_lowercase[index], string.ascii_lowercase[index + 1]
    return TextTask(
        "next_letter",
        f"Which letter comes after '{letter}' in the alphabet?",
        f"The letter after '{letter}' is '{following}'.",
        following,
    )


TASKS: dict[str, Callable[[np.random.Generator], TextTask]] = {
    "addition": _addition,
    "subtraction": _subtraction,
    "compare": _larger,
    "reverse": _backwards,
    "count": _count_letters,
    "next_letter": _next_letter,
}


def generate_text_tasks(count: int, *, seed: int = 0, kinds: tuple[str, ...] | None = None) -> list[TextTask]:
    """``count`` tasks cycling over ``kinds`` (all by default); deterministic for a seed."""
    kinds = kinds or tuple(TASKS)
    unknown = [kind for kind in kinds if kind not in TASKS]
    if unknown:
        raise ValueError(f"unknown text task kinds {unknown}; choose from {', '.join(TASKS)}")
    rng = np.random.default_rng(seed)
    return [TASKS[kinds[index % len(kinds)]](rng) for index in range(count)]


NUMERIC_KINDS = ("addition", "subtraction", "count")
WORD_KINDS = ("reverse", "next_letter")


def _tokens(text: str) -> list[str]:
    first = text.strip().split("\n", 1)[0]
    for mark in "'\".,;:!?":
        first = first.replace(mark, " ")
    return first.split()


def claimed_answer(task: TextTask, reply: str) -> str | None:
    """The answer a reply commits to, read from its first line (``None`` when it names none).

    Replies repeat the question ("37 minus 12 is 25.", "82 is larger than 37."), so the mere presence of the right
    number or letter proves nothing: "37 is larger than 82." contains 82. The claim is therefore taken by position:

    - ``compare``: the first number ("X is larger ...");
    - ``addition``, ``subtraction``, ``count``: the last number once the question's own numbers are set aside
      ("49 plus 27 is 102." claims 102; "101 is 47 plus 54." claims 101; a bare "25" to "What is 50 minus 25?"
      stays the claim);
    - ``reverse``, ``next_letter``: the last word ("... is 'd'.").
    """
    tokens = _tokens(reply)
    numbers = [token for token in tokens if token.isdigit()]
    if task.kind == "compare":
        return numbers[0] if numbers else None
    if task.kind in NUMERIC_KINDS:
        for echoed in (token for token in _tokens(task.question) if token.isdigit()):
            if len(numbers) > 1 and echoed in numbers:
                numbers.remove(echoed)
        return numbers[-1] if numbers else None
    if task.kind in WORD_KINDS:
        return tokens[-1].lower() if tokens else None
    raise ValueError(f"no answer rule for text task kind {task.kind!r}")


def answer_is_correct(task: TextTask, reply: str) -> bool:
    """A reply is correct when the answer it claims (:func:`claimed_answer`) is the expected one."""
    return claimed_answer(task, reply) == task.answer


def read_chat_file(path: str | Path) -> list[Messages]:
    """Dialogues from a JSON Lines file with one ``{"messages": [{"role": ..., "content": ...}, ...]}`` per line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"general chat file {path} does not exist")
    dialogues = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            messages = record["messages"]
            if not all(
                m["role"] in ("system", "user", "assistant") and isinstance(m["content"], str)
                for m in messages
            ):
                raise KeyError("role/content")
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(
                f'{path}:{number}: expected {{"messages": [{{"role": "user"|"assistant"|"system", '
                f'"content": "..."}}]}} ({error})'
            ) from None
        dialogues.append([{"role": m["role"], "content": m["content"]} for m in messages])
    if not dialogues:
        raise ValueError(f"general chat file {path} holds no dialogues")
    return dialogues
