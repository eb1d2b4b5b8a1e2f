"""Mesh <-> OBJ text, the only "vocabulary" LLaMA-Mesh adds: ``v x y z`` and ``f a b c`` lines, no new tokens.

Writing is exact and canonical (see :mod:`lamina_llama_mesh.quantize`). Reading is for model output, so it never
raises on bad text: it returns the mesh it could recover together with the precise reasons the text is invalid
(non-integer number, coordinate out of 0..63, face index that points nowhere, wrong number of fields, truncated
output), so the evaluation can count *why* generations fail, not only how often.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lamina_llama_mesh.quantize import LEVELS, QuantizedMesh

DEFAULT_AXIS_ORDER = "xyz"


def _axis_permutation(axis_order: str) -> list[int]:
    """Column -> internal axis index for ``axis_order`` such as ``"xyz"`` or ``"xzy"``."""
    if sorted(axis_order) != ["x", "y", "z"]:
        raise ValueError(
            f"axis_order must be a permutation of 'xyz' (for example 'xyz' or 'xzy'), got {axis_order!r}"
        )
    return ["xyz".index(axis) for axis in axis_order]


def mesh_to_text(mesh: QuantizedMesh, axis_order: str = DEFAULT_AXIS_ORDER) -> str:
    """Write ``v`` lines (columns in ``axis_order``) then ``f`` lines (1-based), newline-separated.

    ``axis_order`` says which axis each written column holds: the default ``"xyz"`` writes ``v x y z``;
    ``"xzy"`` writes ``v x z y`` (useful when a base model has seen Z-up files). The vertex *sorting* is always
    by the mesh's own (z, y, x), independent of the written order. No trailing newline.
    """
    columns = _axis_permutation(axis_order)
    lines = [f"v {row[0]} {row[1]} {row[2]}" for row in mesh.vertices[:, columns].tolist()]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.faces.tolist()]
    return "\n".join(lines)


# Reasons a line makes the text invalid. Kept as plain strings so metrics can count them in a table.
NON_INTEGER = "non_integer"
OUT_OF_RANGE = "out_of_range"
BAD_INDEX = "bad_index"
WRONG_ARITY = "wrong_arity"
TRUNCATED = "truncated"
NO_FACES = "no_faces"
DEGENERATE_FACE = "degenerate_face"
REASONS = (NON_INTEGER, OUT_OF_RANGE, BAD_INDEX, WRONG_ARITY, TRUNCATED, NO_FACES, DEGENERATE_FACE)


@dataclass(frozen=True)
class ParseIssue:
    """One reason the text is not a valid mesh; ``line`` is 1-based (0 for whole-text issues)."""

    reason: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.reason}: {self.message}"


@dataclass
class ParsedMesh:
    """What :func:`parse_mesh_text` recovered.

    ``mesh`` holds every well-formed vertex and every face whose indices resolved (it may be partial when the text
    has errors, which is still useful for rendering). ``issues`` lists what is wrong; the text is *valid* only with
    no issues and at least one face. ``truncated`` means the text stopped mid-mesh.
    """

    mesh: QuantizedMesh
    issues: list[ParseIssue] = field(default_factory=list)
    truncated: bool = False
    text_lines: int = 0

    @property
    def is_valid(self) -> bool:
        return not self.issues and self.mesh.num_faces > 0

    @property
    def reasons(self) -> list[str]:
        return sorted({issue.reason for issue in self.issues})


def _parse_ints(fields: list[str]) -> list[int] | None:
    """Integers written as plain decimal digits (an optional minus sign); anything else is ``None``."""
    values = []
    for token in fields:
        body = token[1:] if token.startswith("-") else token
        if not body.isdigit():
            return None
        values.append(int(token))
    return values


def parse_mesh_text(text: str, *, axis_order: str = DEFAULT_AXIS_ORDER, finished: bool = True) -> ParsedMesh:
    """Read ``v``/``f`` lines from model output into a mesh and explain what is invalid.

    Lines that are not ``v``/``f`` records (a sentence before the mesh, blank lines) are ignored and counted in
    ``text_lines``. ``finished=False`` says the generator stopped at its token limit rather than at end-of-turn:
    the text is then truncated by definition. Without that knowledge, an incomplete *final* line (for example
    ``f 12 13`` at the very end) is also reported as truncation rather than as a wrong field count.
    """
    columns = _axis_permutation(axis_order)
    inverse = np.argsort(columns)
    issues: list[ParseIssue] = []
    vertices: list[list[int]] = []
    raw_faces: list[tuple[int, list[int]]] = []
    text_lines = 0
    lines = text.splitlines()
    last_record = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    ends_mid_line = bool(text) and not text.endswith("\n")

    for index, line in enumerate(lines):
        number = index + 1
        fields = line.split()
        if not fields or fields[0] not in ("v", "f"):
            text_lines += bool(fields)
            continue
        kind, values_text = fields[0], fields[1:]
        if len(values_text) != 3:
            if index == last_record and ends_mid_line and len(values_text) < 3:
                issues.append(ParseIssue(TRUNCATED, number, f"text ends inside the record {line.strip()!r}"))
            else:
                issues.append(
                    ParseIssue(WRONG_ARITY, number, f"'{kind}' needs 3 integers, got {len(values_text)}")
                )
            continue
        values = _parse_ints(values_text)
        if values is None:
            issues.append(
                ParseIssue(NON_INTEGER, number, f"expected integers, got {' '.join(values_text)!r}")
            )
            continue
        if kind == "v":
            if min(values) < 0 or max(values) >= LEVELS:
                issues.append(
                    ParseIssue(OUT_OF_RANGE, number, f"coordinates must be 0..{LEVELS - 1}, got {values}")
                )
                continue
            vertices.append([values[i] for i in inverse])
        else:
            raw_faces.append((number, values))

    faces: list[list[int]] = []
    for number, values in raw_faces:
        if min(values) < 1 or max(values) > len(vertices):
            issues.append(
                ParseIssue(
                    BAD_INDEX,
                    number,
                    f"face indices must be 1..{len(vertices)} (1-based, {len(vertices)} vertices), got {values}",
                )
            )
            continue
        if len(set(values)) < 3:
            issues.append(ParseIssue(DEGENERATE_FACE, number, f"face repeats a vertex: {values}"))
            continue
        faces.append([value - 1 for value in values])

    truncated = any(issue.reason == TRUNCATED for issue in issues)
    if not finished and not truncated:
        issues.append(
            ParseIssue(TRUNCATED, 0, "generation stopped at the token limit before the end of turn")
        )
        truncated = True
    if not faces and not truncated:
        issues.append(ParseIssue(NO_FACES, 0, "no valid 'f a b c' line found"))
    mesh = QuantizedMesh(
        vertices=np.asarray(vertices, dtype=np.int64).reshape(-1, 3),
        faces=np.asarray(faces, dtype=np.int64).reshape(-1, 3),
    )
    return ParsedMesh(mesh=mesh, issues=issues, truncated=truncated, text_lines=text_lines)
