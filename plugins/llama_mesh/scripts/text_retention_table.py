"""Text-task accuracy of `lamina mesh evaluate` results, overall, per kind, and split by whether the question also
occurs in the training corpus's procedural text tasks (`generate_text_tasks(num_general, seed=seed)`).

Usage:
    python plugins/llama_mesh/scripts/text_retention_table.py NAME=RESULT.json [NAME=RESULT.json ...] \
        --seed 42 --num-general 4000
Prints a markdown table. No model is loaded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lamina_llama_mesh.general_text import TASKS, generate_text_tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="NAME=path/to/mesh_eval.json (with text_samples)")
    parser.add_argument("--seed", type=int, default=42, help="the training seed")
    parser.add_argument("--num-general", type=int, default=4000, help="data.corpus_kwargs.num_general")
    args = parser.parse_args()
    trained = {task.question for task in generate_text_tasks(args.num_general, seed=args.seed)}

    def accuracy(rows: list[dict]) -> str:
        return f"{np.mean([r['correct'] for r in rows]):.3f} ({len(rows)})" if rows else "n/a"

    header = ["model", "all", "in training", "not in training", *TASKS]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for spec in args.results:
        name, _, path = spec.partition("=")
        rows = json.loads(Path(path).read_text(encoding="utf-8"))["text_samples"]
        seen = [r for r in rows if r["question"] in trained]
        unseen = [r for r in rows if r["question"] not in trained]
        kinds = [accuracy([r for r in rows if r["kind"] == kind]) for kind in TASKS]
        print(
            f"| {name} | {accuracy(rows)} | {accuracy(seen)} | {accuracy(unseen)} | "
            + " | ".join(kinds)
            + " |"
        )


if __name__ == "__main__":
    main()
