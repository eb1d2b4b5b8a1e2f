"""End-to-end evaluation of a mesh chat model on held-out procedural prompts.

Three probes, all built from seeds the training corpus does not use:

- text-to-mesh: "Create a 3D model of <caption>." for fresh shapes -> validity, completion, Chamfer distance to
  that shape (valid replies only), failure reasons, and a preview grid;
- mesh-to-text: "What is this 3D object?" on fresh shapes -> understanding accuracy (category word);
- general text: procedural text tasks from the evaluation seed -> accuracy (overall and per task kind), the
  language-retention number to compare before and after mesh training. A different seed does not make every item
  new: the alphabet (25 questions) and the word list (58 words) are small, so the ``next_letter``, ``reverse`` and
  ``count`` questions are almost always ones the training corpus also holds (recall of trained facts), while most
  ``addition``, ``subtraction`` and ``compare`` questions are unseen (generalisation). Read the per-kind
  accuracies with that in mind.

Two references put the Chamfer distance in scale: ``mesh/chamfer_floor`` (two samplings of the *same* reference
mesh: the measurement noise) and ``mesh/chamfer_same_caption`` (the reference against other shapes drawn with the
*same caption*: a caption such as "a box" does not fix the proportions, so a model that outputs a plausible but
different member of the caption's distribution scores about this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lamina_llama_mesh.chat_generation import chat_replies
from lamina_llama_mesh.dialogues import MESH_TO_TEXT_PROMPTS, TEXT_TO_MESH_PROMPTS
from lamina_llama_mesh.general_text import answer_is_correct, claimed_answer, generate_text_tasks
from lamina_llama_mesh.metrics import (
    completion_rate,
    invalid_reasons,
    mesh_chamfer_distance,
    predicted_category,
    understanding_accuracy,
    validity_rate,
)
from lamina_llama_mesh.obj_text import DEFAULT_AXIS_ORDER, ParsedMesh, mesh_to_text, parse_mesh_text
from lamina_llama_mesh.procedural import (
    CATEGORIES,
    SIMPLE_CATEGORIES,
    CaptionedMesh,
    rotated_meshes,
    sample_shape,
)

EVAL_SEED_OFFSET = 1_000_003
"""Added to the training seed for evaluation shapes and text tasks, so they are drawn apart from the training
items (shapes with continuous proportions are then new; small discrete task spaces still repeat, see above)."""

SAME_CAPTION_DRAWS = 4
"""Shapes drawn per reference for ``mesh/chamfer_same_caption``."""


def same_caption_chamfer(
    references: Sequence[CaptionedMesh], rng: np.random.Generator, draws: int = SAME_CAPTION_DRAWS
) -> float:
    """Mean Chamfer distance between each reference and ``draws`` other shapes of its category with the same
    caption (rejection sampling, at most 1,000 tries each; a caption never matched is left out)."""
    distances = []
    for reference in references:
        for _ in range(draws):
            for _ in range(1000):
                other = sample_shape(reference.category, rng)
                if other.caption == reference.caption:
                    mesh = rotated_meshes(other, (0,))[0].mesh
                    distances.append(mesh_chamfer_distance(mesh, reference.mesh))
                    break
    return float(np.mean(distances)) if distances else float("nan")


@dataclass
class MeshEvaluation:
    """Metrics plus the generated samples (for previews and tables)."""

    metrics: dict[str, float]
    prompts: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    parsed: list[ParsedMesh] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    understanding_rows: list[dict[str, Any]] = field(default_factory=list)
    text_rows: list[dict[str, Any]] = field(default_factory=list)


def evaluate_mesh_model(
    model: Any,
    tokenizer: Any,
    *,
    categories: Sequence[str] = SIMPLE_CATEGORIES,
    shapes_per_category: int = 2,
    understanding_per_category: int = 2,
    text_tasks: int = 24,
    max_new_tokens: int = 512,
    temperature: float = 0.0,
    seed: int = 0,
    axis_order: str = DEFAULT_AXIS_ORDER,
    batch_size: int = 8,
) -> MeshEvaluation:
    """Run the three probes with ``model`` (a Hugging Face ``*ForCausalLM``) and return metrics and samples."""
    rng = np.random.default_rng(seed + EVAL_SEED_OFFSET)
    references = [
        rotated_meshes(sample_shape(category, rng), (0,))[0]
        for category in categories
        for _ in range(shapes_per_category)
    ]
    prompts = [TEXT_TO_MESH_PROMPTS[0].format(caption=item.caption) for item in references]
    replies = chat_replies(
        model,
        tokenizer,
        [[{"role": "user", "content": p}] for p in prompts],
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        batch_size=batch_size,
    )
    parsed = [parse_mesh_text(r.text, axis_order=axis_order, finished=r.finished) for r in replies]
    rows, distances = [], []
    for prompt, result, reference in zip(prompts, parsed, references, strict=True):
        distance = mesh_chamfer_distance(result.mesh, reference.mesh) if result.is_valid else None
        if distance is not None and np.isfinite(distance):
            distances.append(distance)
        rows.append(
            {
                "prompt": prompt,
                "valid": result.is_valid,
                "faces": result.mesh.num_faces,
                "chamfer": None if distance is None else round(distance, 4),
                "issues": "; ".join(str(issue) for issue in result.issues[:2]),
            }
        )
    metrics = {
        "mesh/validity": validity_rate(parsed),
        "mesh/completion": completion_rate(parsed),
        "mesh/chamfer": float(np.mean(distances)) if distances else float("nan"),
        "mesh/chamfer_count": float(len(distances)),
        # The same distance between two independent samplings of each reference: below it, differences are noise.
        "mesh/chamfer_floor": float(np.mean([mesh_chamfer_distance(r.mesh, r.mesh) for r in references])),
        # Other shapes with the same caption (own random stream: the probes below see the same shapes as before).
        "mesh/chamfer_same_caption": same_caption_chamfer(
            references, np.random.default_rng(seed + EVAL_SEED_OFFSET + 1)
        ),
    }
    if understanding_per_category:
        shown = [
            rotated_meshes(sample_shape(category, rng), (0,))[0]
            for category in categories
            for _ in range(understanding_per_category)
        ]
        questions = [
            [
                {
                    "role": "user",
                    "content": MESH_TO_TEXT_PROMPTS[0].format(mesh=mesh_to_text(item.mesh, axis_order)),
                }
            ]
            for item in shown
        ]
        answers = chat_replies(model, tokenizer, questions, max_new_tokens=32, batch_size=batch_size)
        metrics["mesh/understanding"] = understanding_accuracy(
            [a.text for a in answers], [item.category for item in shown], list(CATEGORIES)
        )
        understanding_rows = [
            {
                "category": item.category,
                "reply": a.text,
                "predicted": predicted_category(a.text, list(CATEGORIES)),
            }
            for item, a in zip(shown, answers, strict=True)
        ]
    else:
        understanding_rows = []
    if text_tasks:
        tasks = generate_text_tasks(text_tasks, seed=seed + EVAL_SEED_OFFSET)
        answers = chat_replies(
            model,
            tokenizer,
            [[{"role": "user", "content": t.question}] for t in tasks],
            max_new_tokens=32,
            batch_size=batch_size,
        )
        correct = [answer_is_correct(t, a.text) for t, a in zip(tasks, answers, strict=True)]
        text_rows = [
            {
                "kind": t.kind,
                "question": t.question,
                "reply": a.text,
                "expected": t.answer,
                "claimed": claimed_answer(t, a.text),
                "correct": ok,
            }
            for t, a, ok in zip(tasks, answers, correct, strict=True)
        ]
        metrics["text/accuracy"] = float(np.mean(correct))
        for kind in dict.fromkeys(t.kind for t in tasks):
            metrics[f"text/accuracy_{kind}"] = float(
                np.mean([ok for t, ok in zip(tasks, correct, strict=True) if t.kind == kind])
            )
    else:
        text_rows = []
    return MeshEvaluation(
        metrics=metrics,
        prompts=prompts,
        captions=[item.caption for item in references],
        parsed=parsed,
        reasons=invalid_reasons(parsed),
        rows=rows,
        understanding_rows=understanding_rows,
        text_rows=text_rows,
    )
