"""Real-world OBJ quirks import correctly; other formats load; broken files are reported and skipped."""

import numpy as np
import pytest
import trimesh

from lamina_llama_mesh.decimate import decimate
from lamina_llama_mesh.mesh_import import import_mesh_folder, load_mesh_file, read_captions
from lamina_llama_mesh.obj_reader import MeshFileError, parse_obj
from lamina_llama_mesh.quantize import quantize_mesh

QUIRKY_OBJ = """\
# exported by a modelling tool
mtllib scene.mtl
o quad_object
v 0 0 0
v 1 0 0 0.5 0.5 0.5
v 1 1 0
v 0 1 0
vt 0 0
vt 1 0
vt 1 1
vn 0 0 1
g top
usemtl red
s off
f 1/1/1 2/2/1 3/3/1 4/1/1
o pentagon_object
v 0 0 1
v 1 0 1
v 1.5 0.5 1
v 1 1 1
v 0 1 1
f -5//1 -4//1 -3//1 \\
  -2//1 -1//1
f 5/1 6/2 9/3
l 1 2
"""


def test_obj_quirks():
    vertices, faces = parse_obj(QUIRKY_OBJ)
    assert vertices.shape == (9, 3)
    np.testing.assert_allclose(vertices[1], [1, 0, 0])  # vertex colour ignored
    # quad -> 2 triangles (fan), pentagon with negative indices and a line continuation -> 3, one triangle
    expected = [[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7], [4, 7, 8], [4, 5, 8]]
    np.testing.assert_array_equal(faces, expected)


def test_negative_index_is_relative_to_vertices_so_far():
    text = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\nv 5 5 5\nf -4 -3 -1\n"
    _, faces = parse_obj(text)
    np.testing.assert_array_equal(faces, [[0, 1, 2], [0, 1, 3]])


def test_crlf_and_inline_comments():
    _, faces = parse_obj("v 0 0 0\r\nv 1 0 0 # corner\r\nv 0 1 0\r\nf 1 2 3 # the face\r\n")
    np.testing.assert_array_equal(faces, [[0, 1, 2]])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("v 0 0 0\nv 1 0 0\nf 1 2 3\n", "outside the 2 vertices"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n", "index 0"),
        ("v 0 0\n", "at least x y z"),
        ("v a b c\n", "not numbers"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2\n", "at least 3 corners"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf x/1 2 3\n", "integer vertex index"),
        ("# nothing\n", "no vertices"),
        ("v 0 0 0\nv 1 0 0\nl 1 2\n", "no faces"),
    ],
)
def test_malformed_obj_errors_name_the_problem(text, match):
    with pytest.raises(MeshFileError, match=match):
        parse_obj(text, source="bad.obj")


def test_other_formats_load_like_obj(tmp_path):
    box = trimesh.creation.box(extents=(1.0, 2.0, 3.0))
    reference = quantize_mesh(box.vertices, box.faces)
    for suffix in ("glb", "ply", "stl", "off"):
        path = tmp_path / f"box.{suffix}"
        box.export(path)
        vertices, faces = load_mesh_file(path)
        assert quantize_mesh(vertices, faces) == reference, suffix


def test_decimation_reaches_the_face_limit():
    sphere = trimesh.creation.icosphere(subdivisions=3)  # 1280 faces
    vertices, faces = decimate(sphere.vertices, sphere.faces, 500)
    assert 100 < len(faces) <= 500
    radius = np.linalg.norm(vertices, axis=1)
    assert np.all(np.abs(radius - 1.0) < 0.1)  # still a sphere


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folder_import_reports_and_skips_bad_files(tmp_path):
    folder = tmp_path / "meshes"
    write(folder / "quad.obj", QUIRKY_OBJ)
    write(folder / "broken.obj", "v 0 0 0\nf 1 2 3\n")
    write(folder / "empty.obj", "")
    (folder / "garbage.glb").write_bytes(b"not a glb at all")
    (folder / "sub").mkdir()
    trimesh.creation.icosphere(subdivisions=3).export(folder / "sub" / "sphere.stl")  # 1280 faces: decimated
    write(folder / "notes.txt", "ignored, not a mesh suffix")
    captions = write(
        tmp_path / "captions.csv", "file,caption\nquad.obj,two stacked panels\nsub/sphere.stl,a ball\n"
    )

    report = import_mesh_folder(folder, captions_file=captions)
    imported = {item.path.name: item for item in report.imported}
    assert set(imported) == {"quad.obj", "sphere.stl"}
    assert imported["quad.obj"].caption == "two stacked panels"
    assert imported["sphere.stl"].caption == "a ball"
    assert imported["sphere.stl"].mesh.num_faces <= 500
    skipped = {path.name: reason for path, reason in report.skipped}
    assert set(skipped) == {"broken.obj", "empty.obj", "garbage.glb"}
    assert "outside" in skipped["broken.obj"]
    assert "skipped 3" in report.summary()


def test_folder_import_without_decimation_skips_large_meshes(tmp_path):
    trimesh.creation.icosphere(subdivisions=3).export(tmp_path / "sphere.ply")
    report = import_mesh_folder(tmp_path, allow_decimation=False)
    assert not report.imported
    assert "above the limit of 500" in report.skipped[0][1]


def test_captions_jsonl_and_bad_captions(tmp_path):
    good = write(tmp_path / "c.jsonl", '{"file": "a.obj", "caption": "a cube"}\n\n')
    assert read_captions(good) == {"a.obj": "a cube"}
    bad = write(tmp_path / "c.csv", "name,text\na.obj,a cube\n")
    with pytest.raises(ValueError, match="file,caption"):
        read_captions(bad)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        import_mesh_folder(tmp_path / "nope")


def test_user_folder_feeds_the_sft_corpus(tmp_path):
    from lamina_llama_mesh.corpus import mesh_sft_corpus

    trimesh.creation.box(extents=(1, 2, 3)).export(tmp_path / "block.stl")
    write(tmp_path / "uncaptioned.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    captions = write(tmp_path / "captions.csv", "file,caption\nblock.stl,a tall block\n")
    records = mesh_sft_corpus(
        num_dialogues=10,
        mesh_folder=str(tmp_path),
        captions_file=str(captions),
        include_procedural=False,
        num_general=5,
    )
    kinds = [record["kind"] for record in records]
    assert (kinds.count("text_to_mesh"), kinds.count("mesh_to_text"), kinds.count("general")) == (4, 2, 4)
    assert all("a tall block" in r["messages"][0]["content"] for r in records if r["kind"] == "text_to_mesh")
    with pytest.raises(ValueError, match="needs captions_file"):
        mesh_sft_corpus(num_dialogues=4, mesh_folder=str(tmp_path))


# A unit cube as an exporter might write it: two objects, quads, v/vt/vn and v//vn corners, negative indices,
# comments, groups, materials, a line continuation, CRLF line ends. The same cube written plainly as
# fan-triangulated quads is the reference.
CUBE_CORNERS = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]
CUBE_QUADS = [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]
QUIRKY_CUBE = (
    "# Blender 4.1\r\nmtllib cube.mtl\r\no bottom\r\n"
    "v 0 0 0\r\nv 1 0 0\r\nv 1 1 0\r\nv 0 1 0  # last bottom corner\r\n"
    "vt 0 0\r\nvt 1 0\r\nvt 1 1\r\nvn 0 0 -1\r\nvn 0 0 1\r\nusemtl wood\r\ns 1\r\n"
    "f 1/1/1 4/2/1 3/3/1 2/1/1\r\n"
    "o top\r\ng lid sides\r\n"
    "v 0 0 1\r\nv 1 0 1\r\nv 1 1 1\r\nv 0 1 1\r\n"
    "f -4//2 -3//2 -2//2 -1//2\r\n"
    "f 1/1 2/2 -3/3 -4/1\r\n"
    "f 2//1 3//1 \\\r\n  7//1 6//1\r\n"
    "f 3 4 8 7\r\nf -5/2/1 -8/1/1 5/3/1 8/1/1\r\n"
)


def test_quirky_obj_file_imports_to_the_clean_shape_and_round_trips(tmp_path):
    from lamina_llama_mesh.obj_text import mesh_to_text, parse_mesh_text

    vertices = np.array(CUBE_CORNERS, dtype=float)
    fan = np.array([[a, b, c] for a, b, c, d in CUBE_QUADS] + [[a, c, d] for a, b, c, d in CUBE_QUADS])
    reference = quantize_mesh(vertices, fan)
    assert reference.num_vertices == 8 and reference.num_faces == 12

    (tmp_path / "cube.obj").write_bytes(QUIRKY_CUBE.encode())
    report = import_mesh_folder(tmp_path)
    assert not report.skipped, report.summary()
    imported = report.imported[0].mesh
    assert imported == reference
    floats = trimesh.Trimesh(*read_float_mesh(tmp_path / "cube.obj"), process=False)
    assert floats.is_watertight and floats.volume == pytest.approx(1.0)  # outward winding kept
    parsed = parse_mesh_text(mesh_to_text(imported))
    assert parsed.is_valid and parsed.mesh == reference


def read_float_mesh(path):
    return load_mesh_file(path)
