"""The quantiser follows the paper's pipeline step by step and yields one canonical form per shape."""

import numpy as np
import pytest

from lamina_llama_mesh.quantize import (
    LEVELS,
    canonicalize,
    normalize_vertices,
    quantize_coordinates,
    quantize_mesh,
)

CUBE_VERTICES = np.array(
    [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=float
)
CUBE_FACES = np.array(
    [
        [0, 2, 1],
        [0, 3, 2],
        [4, 5, 6],
        [4, 6, 7],
        [0, 1, 5],
        [0, 5, 4],
        [1, 2, 6],
        [1, 6, 5],
        [2, 3, 7],
        [2, 7, 6],
        [3, 0, 4],
        [3, 4, 7],
    ]
)


def test_normalize_centres_on_bbox_and_divides_by_diagonal():
    vertices = np.array([[2.0, 0.0, 0.0], [4.0, 3.0, 0.0], [3.0, 1.0, 0.0]])
    normalized = normalize_vertices(vertices)
    # bbox centre (3, 1.5, 0), diagonal sqrt(2^2 + 3^2) = sqrt(13)
    np.testing.assert_allclose(normalized[0], [-1 / np.sqrt(13), -1.5 / np.sqrt(13), 0.0])
    assert np.all(np.abs(normalized) <= 0.5)


def test_quantize_formula_floor_v_plus_half_times_63():
    values = np.array([-0.5, 0.0, 0.5, 0.2, -0.2])
    expected = np.floor((values + 0.5) * 63).astype(int)  # 0, 31, 63, 44, 18
    np.testing.assert_array_equal(quantize_coordinates(values), expected)
    assert quantize_coordinates(np.array([0.5])).item() == LEVELS - 1


def test_quantize_mesh_cube_is_sorted_by_z_then_y_then_x():
    mesh = quantize_mesh(CUBE_VERTICES, CUBE_FACES)
    assert mesh.num_vertices == 8 and mesh.num_faces == 12
    v = mesh.vertices
    keys = [(z, y, x) for x, y, z in v.tolist()]
    assert keys == sorted(keys)
    # a unit cube: half-extent / diagonal = 0.5 / sqrt(3) -> levels floor((0.5 -+ 0.2887) * 63)
    low, high = int(np.floor((0.5 - 0.5 / np.sqrt(3)) * 63)), int(np.floor((0.5 + 0.5 / np.sqrt(3)) * 63))
    assert set(v.reshape(-1).tolist()) == {low, high}


def test_faces_start_at_smallest_index_and_are_sorted():
    mesh = quantize_mesh(CUBE_VERTICES, CUBE_FACES)
    faces = mesh.faces
    assert np.all(faces[:, 0] == faces.min(axis=1))
    keys = [tuple(sorted(face)) for face in faces.tolist()]
    assert keys == sorted(keys)


def test_face_rotation_keeps_winding():
    # one triangle with a known normal; after canonicalisation the normal must point the same way
    vertices = np.array([[0.0, 0, 1], [1.0, 0, 0], [0.0, 1, 0]])
    faces = np.array([[0, 1, 2]])
    mesh = quantize_mesh(vertices, faces)
    p = mesh.vertices[mesh.faces[0]].astype(float)
    q = vertices[faces[0]]
    n_mesh = np.cross(p[1] - p[0], p[2] - p[0])
    n_orig = np.cross(q[1] - q[0], q[2] - q[0])
    assert np.dot(n_mesh, n_orig) > 0


def test_duplicates_merged_degenerates_and_unreferenced_dropped():
    vertices = np.array(
        [
            [0, 0, 0],
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1e-6],  # merges with vertex 0 on the grid
            [0.5, 0.5, 0.5],  # unreferenced
            [1, 1, 1],
        ]
    )
    faces = np.array([[0, 1, 2], [3, 1, 2], [0, 3, 1], [1, 2, 5]])
    mesh = quantize_mesh(vertices, faces)
    # [3,1,2] repeats [0,1,2] after the merge, [0,3,1] is degenerate; vertex 4 is unused
    assert mesh.num_faces == 2
    assert mesh.num_vertices == 4


def test_invariance_to_input_order():
    rng = np.random.default_rng(0)
    perm = rng.permutation(8)
    inverse = np.argsort(perm)
    shuffled_faces = inverse[CUBE_FACES][rng.permutation(12)]
    rolled = np.roll(shuffled_faces, 1, axis=1)
    assert quantize_mesh(CUBE_VERTICES[perm], rolled) == quantize_mesh(CUBE_VERTICES, CUBE_FACES)


def test_canonicalize_is_idempotent():
    mesh = quantize_mesh(CUBE_VERTICES, CUBE_FACES)
    assert canonicalize(mesh.vertices, mesh.faces) == mesh


@pytest.mark.parametrize(
    ("vertices", "faces", "match"),
    [
        (np.zeros((0, 3)), np.zeros((0, 3), int), "N > 0"),
        (np.ones((3, 3)), np.array([[0, 1, 2]]), "same point"),
        (np.array([[0, 0, np.nan], [1, 0, 0], [0, 1, 0]]), np.array([[0, 1, 2]]), "NaN"),
        (CUBE_VERTICES, np.array([[0, 1, 2, 3]]), "triangulate"),
        (CUBE_VERTICES, np.array([[0, 1, 9]]), "face indices"),
    ],
)
def test_bad_input_is_a_clear_error(vertices, faces, match):
    with pytest.raises(ValueError, match=match):
        quantize_mesh(vertices, faces)
