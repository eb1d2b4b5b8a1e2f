"""Serialise -> parse is exact, and the parser names why invalid model output is invalid."""

import numpy as np
import pytest

from lamina_llama_mesh import obj_text
from lamina_llama_mesh.obj_text import mesh_to_text, parse_mesh_text
from lamina_llama_mesh.quantize import quantize_mesh


def random_mesh(seed: int):
    rng = np.random.default_rng(seed)
    vertices = rng.normal(size=(40, 3))
    faces = np.array([rng.choice(40, size=3, replace=False) for _ in range(60)])
    return quantize_mesh(vertices, faces)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("axis_order", ["xyz", "xzy", "zyx"])
def test_round_trip_is_exact(seed, axis_order):
    mesh = random_mesh(seed)
    parsed = parse_mesh_text(mesh_to_text(mesh, axis_order), axis_order=axis_order)
    assert parsed.is_valid, parsed.issues
    assert parsed.mesh == mesh


def test_text_format_and_axis_order():
    mesh = quantize_mesh(np.array([[0.0, 0, 0], [1, 0, 0], [0, 2, 0]]), np.array([[0, 1, 2]]))
    text = mesh_to_text(mesh)
    assert text.splitlines()[-1].startswith("f 1 ")
    first = mesh.vertices[0]
    assert text.splitlines()[0] == f"v {first[0]} {first[1]} {first[2]}"
    assert mesh_to_text(mesh, "xzy").splitlines()[0] == f"v {first[0]} {first[2]} {first[1]}"
    with pytest.raises(ValueError, match="permutation"):
        mesh_to_text(mesh, "xxy")


def test_prose_around_the_mesh_is_ignored():
    mesh = random_mesh(1)
    parsed = parse_mesh_text("Here is the model:\n" + mesh_to_text(mesh) + "\nEnjoy!")
    assert parsed.is_valid and parsed.mesh == mesh and parsed.text_lines == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("v 1 2 3\nv 4 5 6\nv 7 8 9.5\nf 1 2 3", obj_text.NON_INTEGER),
        ("v 1 2 3\nv 4 5 6\nv 7 8 x\nf 1 2 3", obj_text.NON_INTEGER),
        ("v 1 2 3\nv 4 5 6\nv 7 8 64\nf 1 2 3", obj_text.OUT_OF_RANGE),
        ("v 1 2 3\nv 4 5 6\nv 7 8 -1\nf 1 2 3", obj_text.OUT_OF_RANGE),
        ("v 1 2 3\nv 4 5 6\nv 7 8 9\nf 1 2 4", obj_text.BAD_INDEX),
        ("v 1 2 3\nv 4 5 6\nv 7 8 9\nf 0 1 2", obj_text.BAD_INDEX),
        ("v 1 2 3\nv 4 5 6\nv 7 8 9\nf 1 2 3 1\nf 1 2 3", obj_text.WRONG_ARITY),
        ("v 1 2 3\nv 4 5 6\nv 7 8 9\nf 1 2 3\nf 1 2", obj_text.TRUNCATED),
        ("v 1 2 3\nv 4 5 6\nv 7 8 9\nf 1 1 3", obj_text.DEGENERATE_FACE),
        ("v 1 2 3\nv 4 5 6\nv 7 8 9", obj_text.NO_FACES),
        ("I cannot draw that.", obj_text.NO_FACES),
    ],
)
def test_invalid_text_reports_reason(text, reason):
    parsed = parse_mesh_text(text)
    assert not parsed.is_valid
    assert reason in parsed.reasons, parsed.issues


def test_incomplete_line_followed_by_newline_is_arity_not_truncation():
    parsed = parse_mesh_text("v 1 2 3\nv 4 5 6\nv 7 8 9\nf 1 2 3\nf 1 2\n")
    assert parsed.reasons == [obj_text.WRONG_ARITY]
    assert not parsed.truncated


def test_unfinished_generation_is_truncated_and_keeps_partial_mesh():
    mesh = random_mesh(2)
    text = mesh_to_text(mesh)
    parsed = parse_mesh_text(text, finished=False)
    assert parsed.truncated and not parsed.is_valid
    assert parsed.mesh == mesh  # the recovered part is still usable for previews
    issue = parsed.issues[0]
    assert "token limit" in str(issue)


def test_issue_message_names_line():
    parsed = parse_mesh_text("v 1 2 3\nv 4 5 6\nv 7 8 99\nf 1 2 3")
    assert str(parsed.issues[0]).startswith("line 3: out_of_range")
