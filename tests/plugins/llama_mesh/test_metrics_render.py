"""Metrics give the expected values on known cases; previews render to PNG and GLB."""

import numpy as np
import pytest
import trimesh
from PIL import Image

from lamina_llama_mesh.metrics import (
    chamfer_distance,
    completion_rate,
    invalid_reasons,
    mesh_chamfer_distance,
    predicted_category,
    sample_surface,
    understanding_accuracy,
    validity_rate,
)
from lamina_llama_mesh.obj_text import mesh_to_text, parse_mesh_text
from lamina_llama_mesh.procedural import generate_captioned_meshes
from lamina_llama_mesh.render import save_glb, save_preview


@pytest.fixture(scope="module")
def items():
    return generate_captioned_meshes(3, seed=0, categories=["table", "cube", "cone"])


def test_validity_and_completion(items):
    good = mesh_to_text(items[0].mesh)
    parsed = [
        parse_mesh_text(good),
        parse_mesh_text(good, finished=False),
        parse_mesh_text(good + "\nf 1 2"),
        parse_mesh_text("v 1 2 3\nf 1 2 9"),
    ]
    assert validity_rate(parsed) == 0.25
    assert completion_rate(parsed) == 0.5
    assert invalid_reasons(parsed) == {"truncated": 2, "bad_index": 1, "no_faces": 1}


def test_chamfer_zero_for_identical_and_rotation_invariant(items):
    table = items[0].mesh
    # independent surface samples of one mesh differ: about 0.02 at 2048 points is the metric's noise floor
    assert mesh_chamfer_distance(table, table) < 0.03
    assert mesh_chamfer_distance(table, table, points=8192) < 0.015
    rotated = items[1].mesh  # same table turned by 90 degrees
    assert mesh_chamfer_distance(rotated, table) < 0.03
    assert mesh_chamfer_distance(rotated, table, rotations=(0,)) > 0.1
    cube = items[4].mesh
    assert mesh_chamfer_distance(cube, table) > 0.1


def test_chamfer_known_value():
    a = np.zeros((1, 3))
    b = np.array([[3.0, 4.0, 0.0]])
    assert chamfer_distance(a, b) == 10.0


def test_surface_sampling_stays_on_the_surface():
    box = trimesh.creation.box(extents=(1, 1, 1))
    points = sample_surface(np.asarray(box.vertices), np.asarray(box.faces), 500, np.random.default_rng(0))
    assert np.allclose(np.abs(points).max(axis=1), 0.5)
    with pytest.raises(ValueError, match="zero area"):
        sample_surface(np.zeros((3, 3)), np.array([[0, 1, 2]]), 5, np.random.default_rng(0))


def test_understanding_accuracy():
    categories = ["table", "chair", "cube"]
    assert predicted_category("This is a tall Table.", categories) == "table"
    assert predicted_category("A chair next to a table", categories) == "chair"
    assert predicted_category("no idea", categories) is None
    replies = ["It is a cube.", "This is a table.", "The mesh shows a chair."]
    assert understanding_accuracy(replies, ["cube", "chair", "chair"], categories) == pytest.approx(2 / 3)


def test_preview_png_and_glb(tmp_path, items):
    path = save_preview([items[0].mesh, items[4].mesh], tmp_path / "grid.png", ["table", "cube"])
    image = Image.open(path)
    assert image.size[0] > 200 and len(np.unique(np.asarray(image).reshape(-1, 4), axis=0)) > 10
    glb = save_glb(items[4].mesh, tmp_path / "cube.glb")
    loaded = trimesh.load(glb, force="mesh", process=False)
    assert len(loaded.faces) == 12
    assert not list(tmp_path.glob("*.partial*"))


def test_chamfer_defined_for_zero_area_output(items):
    from lamina_llama_mesh.quantize import QuantizedMesh

    # a "valid" reply whose two triangles lie on one line: no area, still a finite (large) distance
    flat = QuantizedMesh(
        np.array([[0, 0, 0], [10, 10, 10], [20, 20, 20], [30, 30, 30]]), np.array([[0, 1, 2], [1, 2, 3]])
    )
    distance = mesh_chamfer_distance(flat, items[4].mesh)
    assert np.isfinite(distance) and distance > 0.1
