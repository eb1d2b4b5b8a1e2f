"""Score a language model on one task with one prompting strategy, the paper's way.

The prediction is read from the next-token distribution over the answer options. Probabilities for AUROC are the
softmax over the options' log-probabilities. When the model's most likely next token is not an option (or, for
chain-of-thought, its reasoning never reaches "Answer:"), the answer is unparseable and is counted as wrong: its
prediction is set to a label that differs from the truth.
"""

from __future__ import annotations

import time

import numpy as np

from lamina_clinicalbench.cohort import LABEL_VALUES, Sample
from lamina_clinicalbench.lm_backends import AnswerBackend
from lamina_clinicalbench.metrics import task_metrics
from lamina_clinicalbench.prompts import (
    ANSWER_CUE,
    ANSWER_OPTIONS,
    PromptSettings,
    build_prompt,
    self_reflection_prompt,
)

COT_MAX_NEW_TOKENS = 48


def wrong_label(truth: int, task: str) -> int:
    """A label that is certainly wrong (how an unparseable answer is scored)."""
    values = LABEL_VALUES[task]
    return values[(values.index(truth) + 1) % len(values)]


def _softmax(log_probs: np.ndarray) -> np.ndarray:
    finite = np.where(np.isfinite(log_probs), log_probs, -1e9)
    shifted = np.exp(finite - finite.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _chain_of_thought_prompts(backend: AnswerBackend, prompts: list[str]) -> tuple[list[str], np.ndarray]:
    """Let the model reason, cut its text at the answer cue, and return the prompts to score from there."""
    continued, reached_cue = [], []
    for prompt in prompts:
        reasoning = backend.generate(prompt, COT_MAX_NEW_TOKENS)
        cue = reasoning.find(ANSWER_CUE)
        reached_cue.append(cue >= 0)
        continued.append(prompt + (reasoning[:cue] if cue >= 0 else reasoning) + ANSWER_CUE)
    return continued, np.array(reached_cue)


def predict_with_language_model(
    backend: AnswerBackend,
    samples: list[Sample],
    task: str,
    titles: dict[str, str],
    strategy: str,
    examples: list[Sample] = (),
    settings: PromptSettings = PromptSettings(),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted labels, option probabilities (columns in label order) and parseable flags."""
    options = ANSWER_OPTIONS[task]
    prompts = [build_prompt(s, task, titles, strategy, list(examples), settings) for s in samples]
    parseable_extra = np.ones(len(samples), dtype=bool)
    if strategy == "chain_of_thought":
        prompts, parseable_extra = _chain_of_thought_prompts(backend, prompts)
    scores = backend.option_scores(prompts, options)
    if strategy == "self_reflection":
        first = [options[i] for i in scores.log_probs.argmax(axis=1)]
        scores = backend.option_scores(
            [self_reflection_prompt(p, a, task) for p, a in zip(prompts, first, strict=True)], options
        )
    # options are written in label order: "1","2","3" for LOS, "0","1" for the binary tasks
    label_values = np.array(LABEL_VALUES[task])
    probabilities = _softmax(scores.log_probs)
    predictions = label_values[probabilities.argmax(axis=1)]
    parseable = scores.parseable & parseable_extra
    truths = [s.label(task) for s in samples]
    predictions = np.array(
        [p if ok else wrong_label(t, task) for p, ok, t in zip(predictions, parseable, truths, strict=True)]
    )
    return predictions, probabilities, parseable


def evaluate_language_model(
    backend: AnswerBackend,
    test: list[Sample],
    task: str,
    titles: dict[str, str],
    strategy: str,
    examples: list[Sample] = (),
    settings: PromptSettings = PromptSettings(),
) -> dict:
    """Test metrics (percent) plus the share of parseable answers."""
    started = time.perf_counter()
    predictions, probabilities, parseable = predict_with_language_model(
        backend, test, task, titles, strategy, examples, settings
    )
    truths = np.array([s.label(task) for s in test])
    return {
        **task_metrics(task, truths, predictions, probabilities),
        "parseable": 100.0 * float(parseable.mean()),
        "n_test": len(test),
        "seconds": time.perf_counter() - started,
    }
