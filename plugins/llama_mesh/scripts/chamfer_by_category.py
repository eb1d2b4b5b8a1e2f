"""Per-category Chamfer distances of a `lamina mesh evaluate` (or `mesh_eval_<tag>.json`) result, next to three
references drawn exactly as the evaluation draws its shapes:

- floor: two samplings of the same reference mesh (measurement noise);
- same caption: other shapes with the reference's caption (`mesh/chamfer_same_caption`, per category);
- random simple shape: a shape of a random category from the list (what an unrelated object scores).

Usage (the settings must be those of the evaluation):
    python plugins/llama_mesh/scripts/chamfer_by_category.py RUN/mesh_eval_final.json --seed 42 \
        --categories cube,box,pyramid,cone,cylinder,prism --shapes-per-category 6
Prints a markdown table. Pure numpy/scipy: no model is loaded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lamina_llama_mesh.evaluation import EVAL_SEED_OFFSET, same_caption_chamfer
from lamina_llama_mesh.metrics import mesh_chamfer_distance
from lamina_llama_mesh.procedural import rotated_meshes, sample_shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", help="mesh_eval*.json with a 'samples' list in evaluation order")
    parser.add_argument("--seed", type=int, default=42, help="the training seed (the evaluation offsets it)")
    parser.add_argument("--categories", default="cube,box,pyramid,cone,cylinder,prism")
    parser.add_argument("--shapes-per-category", type=int, default=6)
    parser.add_argument(
        "--draws", type=int, default=4, help="shapes per reference for the random-shape column"
    )
    args = parser.parse_args()
    categories = [c.strip() for c in args.categories.split(",") if c.strip()]
    per = args.shapes_per_category

    rng = np.random.default_rng(args.seed + EVAL_SEED_OFFSET)
    references = [rotated_meshes(sample_shape(c, rng), (0,))[0] for c in categories for _ in range(per)]
    # the same stream, consumed in the same order, as evaluate_mesh_model's mesh/chamfer_same_caption
    same_stream = np.random.default_rng(args.seed + EVAL_SEED_OFFSET + 1)
    same = [same_caption_chamfer([r], same_stream) for r in references]
    floor = [mesh_chamfer_distance(r.mesh, r.mesh) for r in references]
    other_stream = np.random.default_rng(args.seed + EVAL_SEED_OFFSET + 2)

    def random_shape(reference) -> float:
        draws = []
        for _ in range(args.draws):
            shape = sample_shape(str(other_stream.choice(categories)), other_stream)
            draws.append(mesh_chamfer_distance(rotated_meshes(shape, (0,))[0].mesh, reference.mesh))
        return float(np.mean(draws))

    other = [random_shape(r) for r in references]
    rows = json.loads(Path(args.result).read_text(encoding="utf-8"))["samples"]
    if len(rows) != len(references):
        raise SystemExit(f"{args.result} has {len(rows)} samples, the settings give {len(references)}")

    def line(name: str, part: slice) -> str:
        chosen = rows[part]
        distances = [r["chamfer"] for r in chosen if r["chamfer"] is not None]
        model = f"{np.mean(distances):.3f}" if distances else "n/a"
        return (
            f"| {name} | {sum(bool(r['valid']) for r in chosen)}/{len(chosen)} | {model} | "
            f"{np.mean(floor[part]):.3f} | {np.mean(same[part]):.3f} | {np.mean(other[part]):.3f} |"
        )

    print("| category | valid | Chamfer (model) | floor | same caption | random simple shape |")
    print("|---|---|---|---|---|---|")
    for index, category in enumerate(categories):
        print(line(category, slice(index * per, (index + 1) * per)))
    print(line("all", slice(0, len(rows))))


if __name__ == "__main__":
    main()
