"""The procedural captioned-mesh dataset: categories, captions with size words, 4 rotations, face filter."""

import numpy as np
import pytest

from lamina_llama_mesh.procedural import (
    CATEGORIES,
    ROTATIONS,
    SIMPLE_CATEGORIES,
    generate_captioned_meshes,
    sample_shape,
)
from lamina_llama_mesh.shapes import rotate_about_up


def signed_volume(vertices, faces):
    a, b, c = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    return np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_every_category_builds_an_outward_mesh_with_its_noun_in_the_caption(category):
    sample = sample_shape(category, np.random.default_rng(3))
    assert category in sample.caption
    assert signed_volume(sample.vertices, sample.faces) > 0  # faces wound outwards


def test_each_shape_appears_under_four_rotations_with_one_caption():
    items = generate_captioned_meshes(6, seed=0, categories=["table", "box"])
    assert len(items) == 24
    assert [item.rotation for item in items[:4]] == list(ROTATIONS)
    assert len({item.caption for item in items[:4]}) == 1
    assert len({item.mesh for item in items[:4]}) > 1  # a table is not symmetric under 90 degrees


def test_size_words_follow_proportions():
    rng = np.random.default_rng(0)
    for _ in range(40):
        sample = sample_shape("table", rng)
        extent = sample.vertices.max(axis=0) - sample.vertices.min(axis=0)
        ratio = extent[1] / extent[0]
        if sample.caption.startswith("a tall"):
            assert ratio > 0.8
        if sample.caption.startswith("a low"):
            assert ratio < 0.45


def test_face_limit_filter():
    assert generate_captioned_meshes(4, categories=["sphere"], max_faces=40) == []
    assert all(
        item.mesh.num_faces <= 28 for item in generate_captioned_meshes(12, categories=SIMPLE_CATEGORIES)
    )


def test_seed_determinism_and_bad_category():
    assert generate_captioned_meshes(5, seed=4)[0].mesh == generate_captioned_meshes(5, seed=4)[0].mesh
    with pytest.raises(ValueError, match="unknown category 'sofa'"):
        generate_captioned_meshes(1, categories=["sofa"])


def test_rotation_is_exact_and_rejects_odd_angles():
    vertices = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(rotate_about_up(vertices, 90), [[3.0, 2.0, -1.0]])
    np.testing.assert_array_equal(rotate_about_up(vertices, 360), vertices)
    with pytest.raises(ValueError, match="multiples of 90"):
        rotate_about_up(vertices, 45)
