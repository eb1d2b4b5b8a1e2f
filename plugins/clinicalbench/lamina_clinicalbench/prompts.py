"""Prompts in the paper's form: the visit's codes written as their titles, age and gender, and a question whose
answer options are single tokens, so a model's next-token distribution over them is its prediction.

The wording is Lamina's own; what follows the paper is the content (titles not codes, demographics, one question
per task, fixed answer options) and the four strategies: zero-shot, in-context examples, chain-of-thought and
self-reflection.
"""

from __future__ import annotations

from dataclasses import dataclass

from lamina_clinicalbench.cohort import Sample

QUESTIONS = {
    "los": (
        "How long will this hospital stay last? Answer 1 for at most 7 days, 2 for 8 to 14 days, "
        "3 for more than 14 days."
    ),
    "mortality": "Will the patient die during this hospital stay? Answer 1 for yes, 0 for no.",
    "readmission": (
        "Will the patient be admitted again within 15 days of the start of this stay? "
        "Answer 1 for yes, 0 for no."
    ),
}
ANSWER_OPTIONS = {"los": ("1", "2", "3"), "mortality": ("0", "1"), "readmission": ("0", "1")}
STRATEGIES = ("zero_shot", "in_context", "chain_of_thought", "self_reflection")
ANSWER_CUE = "Answer:"


@dataclass(frozen=True)
class PromptSettings:
    """Limits that keep prompts inside small context windows: codes listed per type, in-context examples."""

    max_codes_per_type: int = 12
    in_context_examples: int = 2


def describe_visit(
    sample: Sample, titles: dict[str, str], settings: PromptSettings = PromptSettings()
) -> str:
    """The patient as text: demographics, then conditions, procedures and drugs by title."""
    gender = {"M": "male", "F": "female"}.get(sample.gender.upper()[:1], "unknown gender")

    def listed(codes: list[str]) -> str:
        names = list(dict.fromkeys(titles.get(code, code) for code in codes))[: settings.max_codes_per_type]
        return "; ".join(names) if names else "none"

    return (
        f"Patient: {sample.age}-year-old {gender}.\n"
        f"Conditions: {listed(sample.conditions)}.\n"
        f"Procedures: {listed(sample.procedures)}.\n"
        f"Drugs: {listed(sample.drugs)}."
    )


def build_prompt(
    sample: Sample,
    task: str,
    titles: dict[str, str],
    strategy: str = "zero_shot",
    examples: list[Sample] = (),
    settings: PromptSettings = PromptSettings(),
) -> str:
    """The prompt for one sample, ending right before the answer token (or before the reasoning, for CoT)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown prompting strategy {strategy!r}; expected one of {STRATEGIES}")
    parts = ["You are a clinician predicting an outcome from a hospital admission record."]
    if strategy == "in_context":
        for example in examples[: settings.in_context_examples]:
            parts.append(
                f"{describe_visit(example, titles, settings)}\n{QUESTIONS[task]}\n"
                f"{ANSWER_CUE} {example.label(task)}"
            )
    parts.append(f"{describe_visit(sample, titles, settings)}\n{QUESTIONS[task]}")
    if strategy == "chain_of_thought":
        parts.append("Let's think step by step, then give the answer after 'Answer:'.")
        return "\n\n".join(parts) + "\n"
    return "\n\n".join(parts) + f"\n{ANSWER_CUE}"


def self_reflection_prompt(first_prompt: str, first_answer: str, task: str) -> str:
    """Second turn of self-reflection: the model sees its answer and is asked to check it, then answer again."""
    return (
        f"{first_prompt} {first_answer}\n\nReview the record and your answer. If it is wrong, correct it. "
        f"{QUESTIONS[task]}\nFinal {ANSWER_CUE}"
    )


def training_text(
    sample: Sample, task: str, titles: dict[str, str], settings: PromptSettings = PromptSettings()
) -> list[dict[str, str]]:
    """A zero-shot prompt and its answer as a chat, for fine-tuning with the loss on the answer only."""
    return [
        {"role": "user", "content": build_prompt(sample, task, titles, "zero_shot", settings=settings)},
        {"role": "assistant", "content": str(sample.label(task))},
    ]
