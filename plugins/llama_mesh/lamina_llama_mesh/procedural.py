"""A procedural dataset of captioned meshes, standing in for Objaverse + Cap3D (which cannot be downloaded here).

Each category samples its proportions, builds a low-poly mesh and writes a caption whose size words follow from
the sampled proportions ("a tall table", "a flat wide box"). Absolute size is not described: the quantiser scales
every mesh by its bounding-box diagonal, so only proportions survive. As in the paper, each shape is augmented by
rotations of 0/90/180/270 degrees about the up axis, and meshes with more than 500 faces are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lamina_llama_mesh.quantize import QuantizedMesh, quantize_mesh
from lamina_llama_mesh.shapes import box, combine, frustum, rotate_about_up, sphere

ROTATIONS = (0, 90, 180, 270)
MAX_FACES = 500


@dataclass(frozen=True)
class ShapeSample:
    """One sampled shape before rotation/quantisation: float geometry plus its caption."""

    category: str
    caption: str
    vertices: np.ndarray
    faces: np.ndarray
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CaptionedMesh:
    """A dataset item: a canonical mesh, its caption and where it came from."""

    category: str
    caption: str
    mesh: QuantizedMesh
    rotation: int = 0
    attributes: dict[str, str] = field(default_factory=dict)


def _article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _size_word(ratio: float, low: float, high: float, small: str, large: str) -> str | None:
    """``small`` below ``low``, ``large`` above ``high``, no word in between (so captions are never wrong)."""
    if ratio < low:
        return small
    if ratio > high:
        return large
    return None


def _caption(noun: str, words: Sequence[str | None], suffix: str = "") -> str:
    adjectives = " ".join(word for word in words if word)
    return _article(f"{adjectives} {noun}".strip()) + suffix


def _cube(rng: np.random.Generator) -> ShapeSample:
    vertices, faces = box(1.0, 1.0, 1.0)
    return ShapeSample("cube", "a cube", vertices, faces)


def _box(rng: np.random.Generator) -> ShapeSample:
    width, height, depth = rng.uniform(0.3, 1.0, size=3)
    height_word = _size_word(height / max(width, depth), 0.55, 1.6, "flat", "tall")
    length_word = "long" if min(width, depth) / max(width, depth) < 0.5 else None
    vertices, faces = box(width, height, depth)
    return ShapeSample(
        "box",
        _caption("box", [height_word, length_word]),
        vertices,
        faces,
        {"height": height_word or "medium"},
    )


def _pointed(noun: str, segments: int) -> Callable[[np.random.Generator], ShapeSample]:
    def sample(rng: np.random.Generator) -> ShapeSample:
        radius, height = rng.uniform(0.3, 0.6), rng.uniform(0.3, 1.6)
        word = _size_word(height / (2 * radius), 0.7, 1.5, "short", "tall")
        vertices, faces = frustum(radius, 0.0, height, segments)
        return ShapeSample(noun, _caption(noun, [word]), vertices, faces, {"height": word or "medium"})

    return sample


def _column(noun: str, segments: int) -> Callable[[np.random.Generator], ShapeSample]:
    def sample(rng: np.random.Generator) -> ShapeSample:
        radius, height = rng.uniform(0.2, 0.6), rng.uniform(0.2, 1.6)
        word = _size_word(height / (2 * radius), 0.6, 1.6, "flat", "tall")
        vertices, faces = frustum(radius, radius, height, segments)
        return ShapeSample(noun, _caption(noun, [word]), vertices, faces, {"height": word or "medium"})

    return sample


def _sphere(rng: np.random.Generator) -> ShapeSample:
    vertices, faces = sphere(0.5, segments=8, rings=4)
    return ShapeSample("sphere", "a sphere", vertices, faces)


def _table(rng: np.random.Generator) -> ShapeSample:
    width, depth = rng.uniform(0.8, 1.6), rng.uniform(0.5, 1.0)
    height, top, leg = rng.uniform(0.3, 1.2), 0.06, 0.07
    parts = [box(width, top, depth, (0, height - top / 2, 0))]
    for sx in (-1, 1):
        for sz in (-1, 1):
            center = (sx * (width / 2 - leg), (height - top) / 2, sz * (depth / 2 - leg))
            parts.append(box(leg, height - top, leg, center))
    height_word = _size_word(height / width, 0.4, 0.85, "low", "tall")
    width_word = "long" if width / depth > 2.0 else None
    vertices, faces = combine(parts)
    return ShapeSample(
        "table",
        _caption("table", [height_word, width_word]),
        vertices,
        faces,
        {"height": height_word or "medium"},
    )


def _chair(rng: np.random.Generator) -> ShapeSample:
    width, seat_height, back_height = rng.uniform(0.4, 0.6), rng.uniform(0.35, 0.5), rng.uniform(0.2, 0.9)
    depth, seat, leg = width, 0.05, 0.05
    parts = [
        box(width, seat, depth, (0, seat_height - seat / 2, 0)),
        box(width, back_height, seat, (0, seat_height + back_height / 2, -depth / 2 + seat / 2)),
    ]
    for sx in (-1, 1):
        for sz in (-1, 1):
            parts.append(
                box(
                    leg,
                    seat_height - seat,
                    leg,
                    (sx * (width / 2 - leg / 2), (seat_height - seat) / 2, sz * (depth / 2 - leg / 2)),
                )
            )
    word = _size_word(back_height / seat_height, 0.8, 1.4, "short", "tall")
    suffix = f" with a {word} back" if word else ""
    vertices, faces = combine(parts)
    return ShapeSample("chair", "a chair" + suffix, vertices, faces, {"back": word or "medium"})


def _lamp(rng: np.random.Generator) -> ShapeSample:
    pole_height, shade = rng.uniform(0.4, 1.6), rng.uniform(0.25, 0.4)
    base_radius = rng.uniform(0.15, 0.25)
    parts = [
        frustum(base_radius, base_radius, 0.05, 6, (0, 0.025, 0)),
        box(0.04, pole_height, 0.04, (0, 0.05 + pole_height / 2, 0)),
        frustum(shade, shade * 0.55, shade * 0.8, 6, (0, 0.05 + pole_height + shade * 0.2, 0)),
    ]
    word = _size_word(pole_height / (2 * shade), 1.2, 2.5, "short", "tall")
    vertices, faces = combine(parts)
    return ShapeSample("lamp", _caption("lamp", [word]), vertices, faces, {"height": word or "medium"})


def _stool(rng: np.random.Generator) -> ShapeSample:
    legs, height, radius = int(rng.choice([3, 4])), rng.uniform(0.3, 0.9), rng.uniform(0.2, 0.3)
    parts = [frustum(radius, radius, 0.05, 6, (0, height - 0.025, 0))]
    for k in range(legs):
        angle = 2 * np.pi * k / legs
        parts.append(
            box(
                0.04,
                height - 0.05,
                0.04,
                (0.7 * radius * np.cos(angle), (height - 0.05) / 2, 0.7 * radius * np.sin(angle)),
            )
        )
    word = _size_word(height / (2 * radius), 0.9, 1.5, "low", "tall")
    vertices, faces = combine(parts)
    count = {3: "three", 4: "four"}[legs]
    return ShapeSample(
        "stool",
        _caption(f"{count}-legged stool", [word]),
        vertices,
        faces,
        {"legs": count, "height": word or "medium"},
    )


def _shelf(rng: np.random.Generator) -> ShapeSample:
    boards, width, height, depth = int(rng.integers(2, 5)), rng.uniform(0.6, 1.2), rng.uniform(0.6, 1.8), 0.3
    thickness = 0.04
    parts = [
        box(thickness, height, depth, (side * (width / 2 - thickness / 2), height / 2, 0)) for side in (-1, 1)
    ]
    for k in range(boards):
        y = thickness / 2 + k * (height - thickness) / (boards - 1)
        parts.append(box(width - 2 * thickness, thickness, depth, (0, y, 0)))
    word = _size_word(height / width, 1.0, 1.6, "wide", "tall")
    count = {2: "two", 3: "three", 4: "four"}[boards]
    vertices, faces = combine(parts)
    return ShapeSample(
        "shelf",
        _caption("shelf", [word], f" with {count} boards"),
        vertices,
        faces,
        {"boards": count, "height": word or "medium"},
    )


CATEGORIES: dict[str, Callable[[np.random.Generator], ShapeSample]] = {
    "cube": _cube,
    "box": _box,
    "pyramid": _pointed("pyramid", 4),
    "cone": _pointed("cone", 8),
    "cylinder": _column("cylinder", 8),
    "prism": _column("prism", 3),
    "sphere": _sphere,
    "table": _table,
    "chair": _chair,
    "lamp": _lamp,
    "stool": _stool,
    "shelf": _shelf,
}
"""Category name -> sampler. The name is the word mesh understanding is scored on."""

SIMPLE_CATEGORIES = ("cube", "box", "pyramid", "cone", "cylinder", "prism")
"""Short meshes (at most 28 faces) for the CPU experiment."""


def sample_shape(category: str, rng: np.random.Generator) -> ShapeSample:
    """One random shape of ``category``."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; choose from {', '.join(CATEGORIES)}")
    return CATEGORIES[category](rng)


def rotated_meshes(sample: ShapeSample, rotations: Sequence[int] = ROTATIONS) -> list[CaptionedMesh]:
    """The paper's augmentation: the same shape and caption under each rotation about the up axis."""
    return [
        CaptionedMesh(
            sample.category,
            sample.caption,
            quantize_mesh(rotate_about_up(sample.vertices, angle), sample.faces),
            angle,
            sample.attributes,
        )
        for angle in rotations
    ]


def generate_captioned_meshes(
    num_shapes: int,
    *,
    seed: int = 0,
    categories: Sequence[str] | None = None,
    rotations: Sequence[int] = ROTATIONS,
    max_faces: int = MAX_FACES,
) -> list[CaptionedMesh]:
    """``num_shapes`` shapes (categories in round-robin), each under every rotation, face-limit filtered.

    The same ``seed`` always gives the same list, so train/validation/test splits use different seeds.
    """
    categories = list(categories or CATEGORIES)
    for category in categories:
        if category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r}; choose from {', '.join(CATEGORIES)}")
    rng = np.random.default_rng(seed)
    items: list[CaptionedMesh] = []
    for index in range(num_shapes):
        sample = sample_shape(categories[index % len(categories)], rng)
        items += [item for item in rotated_meshes(sample, rotations) if 0 < item.mesh.num_faces <= max_faces]
    return items
