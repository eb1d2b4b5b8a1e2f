"""SFT dialogues for LLaMA-Mesh: text-to-mesh, mesh-to-text and general chat, mixed 40% / 20% / 40%.

Dialogues are lists of ``{"role", "content"}`` messages; the Llama-3.1 chat template turns them into text (the
real LLaMA-3.1 tokenizer carries its own template, the small from-scratch tokenizer gets
:data:`LLAMA31_CHAT_TEMPLATE`). Mesh text is plain OBJ (:func:`~lamina_llama_mesh.obj_text.mesh_to_text`): no new
tokens. The loss is taken on assistant turns only (the core chat DataModule masks the rest).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lamina_llama_mesh.obj_text import DEFAULT_AXIS_ORDER, mesh_to_text
from lamina_llama_mesh.procedural import CaptionedMesh

Messages = list[dict[str, str]]

PAPER_MIX = (0.4, 0.2, 0.4)
"""Shares of text-to-mesh, mesh-to-text and general chat in the paper's SFT data."""

TEXT_TO_MESH_PROMPTS = (
    "Create a 3D model of {caption}.",
    "Generate a 3D mesh of {caption}.",
    "Make {caption} as an OBJ mesh.",
    "Write the OBJ file of {caption}.",
)
MESH_TO_TEXT_PROMPTS = (
    "What is this 3D object?\n{mesh}",
    "Describe this mesh.\n{mesh}",
    "{mesh}\nWhat does this OBJ model show?",
)
MESH_TO_TEXT_REPLIES = ("This is {caption}.", "It is {caption}.", "The mesh shows {caption}.")

BEGIN_OF_TEXT, START_HEADER, END_HEADER, END_OF_TURN = (
    "<|begin_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
)
SPECIAL_TOKENS = (BEGIN_OF_TEXT, START_HEADER, END_HEADER, END_OF_TURN)

LLAMA31_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
"""The Llama-3.1 turn format (header tokens, blank line, content, ``<|eot_id|>``) without the tool-use and
date-stamped system preamble of Meta's full template: a from-scratch model has no use for them."""


def format_llama31(messages: Messages, *, add_generation_prompt: bool = False) -> str:
    """The same text :data:`LLAMA31_CHAT_TEMPLATE` renders, without needing a tokenizer (for tests and previews)."""
    text = BEGIN_OF_TEXT + "".join(
        f"{START_HEADER}{m['role']}{END_HEADER}\n\n{m['content']}{END_OF_TURN}" for m in messages
    )
    return text + (f"{START_HEADER}assistant{END_HEADER}\n\n" if add_generation_prompt else "")


def text_to_mesh(
    item: CaptionedMesh, prompt_index: int = 0, axis_order: str = DEFAULT_AXIS_ORDER
) -> Messages:
    """User asks for the captioned object; the assistant answers with the OBJ text only."""
    prompt = TEXT_TO_MESH_PROMPTS[prompt_index % len(TEXT_TO_MESH_PROMPTS)].format(caption=item.caption)
    return [
        {"role": "user", "content": prompt},
        {"role": "assistant", "content": mesh_to_text(item.mesh, axis_order)},
    ]


def mesh_to_text_dialogue(
    item: CaptionedMesh, prompt_index: int = 0, axis_order: str = DEFAULT_AXIS_ORDER
) -> Messages:
    """User shows the OBJ text and asks what it is; the assistant answers with the caption."""
    prompt = MESH_TO_TEXT_PROMPTS[prompt_index % len(MESH_TO_TEXT_PROMPTS)].format(
        mesh=mesh_to_text(item.mesh, axis_order)
    )
    reply = MESH_TO_TEXT_REPLIES[prompt_index % len(MESH_TO_TEXT_REPLIES)].format(caption=item.caption)
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": reply}]


def mix_counts(total: int, mix: Sequence[float]) -> list[int]:
    """Split ``total`` by the ``mix`` shares exactly (largest remainder), e.g. 10 -> [4, 2, 4]."""
    shares = np.asarray(mix, dtype=float)
    if len(shares) != 3 or np.any(shares < 0) or shares.sum() <= 0:
        raise ValueError(
            f"mix must be three non-negative shares (text-to-mesh, mesh-to-text, general), got {mix}"
        )
    shares = shares / shares.sum()
    raw = shares * total
    counts = np.floor(raw).astype(int)
    for index in np.argsort(-(raw - counts), kind="stable")[: total - counts.sum()]:
        counts[index] += 1
    return counts.tolist()


def build_dialogues(
    meshes: Sequence[CaptionedMesh],
    general: Sequence[Messages],
    total: int,
    *,
    mix: Sequence[float] = PAPER_MIX,
    seed: int = 0,
    axis_order: str = DEFAULT_AXIS_ORDER,
) -> list[tuple[str, Messages]]:
    """``total`` dialogues labelled ``text_to_mesh``/``mesh_to_text``/``general`` in the ``mix`` proportions.

    Meshes and general dialogues are drawn in shuffled order, reused cyclically when the mix asks for more than
    there are. The result is shuffled, so any prefix keeps roughly the same mix.
    """
    counts = mix_counts(total, mix)
    if (counts[0] or counts[1]) and not meshes:
        raise ValueError("the mix asks for mesh dialogues but no meshes were given")
    if counts[2] and not general:
        raise ValueError("the mix asks for general dialogues but none were given; set the general share to 0")
    rng = np.random.default_rng(seed)
    mesh_order = rng.permutation(len(meshes)) if meshes else np.array([], dtype=int)
    general_order = rng.permutation(len(general)) if general else np.array([], dtype=int)
    dialogues: list[tuple[str, Messages]] = []
    for i in range(counts[0]):
        item = meshes[mesh_order[i % len(meshes)]]
        dialogues.append(("text_to_mesh", text_to_mesh(item, int(rng.integers(1 << 16)), axis_order)))
    for i in range(counts[1]):
        item = meshes[mesh_order[(counts[0] + i) % len(meshes)]]
        dialogues.append(
            ("mesh_to_text", mesh_to_text_dialogue(item, int(rng.integers(1 << 16)), axis_order))
        )
    for i in range(counts[2]):
        dialogues.append(("general", list(general[general_order[i % len(general)]])))
    return [dialogues[i] for i in rng.permutation(len(dialogues))]
