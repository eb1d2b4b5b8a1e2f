"""``lamina mesh ...``: generate a mesh from text, describe a mesh, import a folder, preview, export.

Heavy imports (torch, transformers) happen inside the commands so ``lamina --help`` stays instant.
A model is either a Lightning checkpoint written by ``lamina train`` (its tokenizer is found in the run folder)
or a local Hugging Face directory (``--model-dir``, e.g. a LLaMA-3.1-8B-Instruct or LLaMA-Mesh folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def _find_tokenizer(checkpoint: Path) -> Path:
    """The run's ``tokenizer/`` folder: the checkpoint sits in ``<run>/checkpoints/``."""
    for folder in (checkpoint.parent, *checkpoint.parents):
        if (folder / "tokenizer" / "tokenizer.json").is_file():
            return folder / "tokenizer"
    raise click.UsageError(
        f"no tokenizer/ folder found above {checkpoint}; pass --tokenizer (the run folder's tokenizer/)"
    )


def _load_model(checkpoint: str | None, model_dir: str | None, tokenizer_dir: str | None) -> tuple[Any, Any]:
    """(Hugging Face causal LM, tokenizer) from a Lightning checkpoint or a local HF directory."""
    from lamina.lm.tokenizer import load_tokenizer

    if (checkpoint is None) == (model_dir is None):
        raise click.UsageError(
            "pass exactly one of --checkpoint (a .ckpt from `lamina train`) or --model-dir"
        )
    if model_dir is not None:
        from lamina.lm.build import load_pretrained

        return load_pretrained(model_dir), load_tokenizer(tokenizer_dir or model_dir)
    from lamina.lm.module import CausalLM

    path = Path(checkpoint)
    if not path.is_file():
        raise click.UsageError(f"checkpoint {path} does not exist")
    module = CausalLM.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    return module.hf_model, load_tokenizer(tokenizer_dir or _find_tokenizer(path))


model_options = [
    click.option(
        "--checkpoint", "-c", type=click.Path(dir_okay=False), help="Lightning .ckpt from lamina train."
    ),
    click.option("--model-dir", type=click.Path(file_okay=False), help="Local Hugging Face model folder."),
    click.option(
        "--tokenizer",
        "tokenizer_dir",
        type=click.Path(file_okay=False),
        help="Tokenizer folder (default: the run's tokenizer/ or --model-dir).",
    ),
]


def with_model_options(function):
    for option in reversed(model_options):
        function = option(function)
    return function


@click.group()
def mesh() -> None:
    """LLaMA-Mesh: 3D meshes as OBJ text (arXiv:2411.09595)."""


@mesh.command()
@click.argument("prompt")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="OBJ file to write.")
@with_model_options
@click.option("--preview", type=click.Path(dir_okay=False), help="Also write a PNG preview.")
@click.option("--glb", type=click.Path(dir_okay=False), help="Also write a binary glTF.")
@click.option("--max-new-tokens", default=1024, show_default=True)
@click.option(
    "--temperature", default=0.95, show_default=True, help="The paper samples at 0.95; 0 is greedy."
)
@click.option("--seed", default=0, show_default=True)
def generate(
    prompt: str,
    output: str,
    checkpoint: str | None,
    model_dir: str | None,
    tokenizer_dir: str | None,
    preview: str | None,
    glb: str | None,
    max_new_tokens: int,
    temperature: float,
    seed: int,
) -> None:
    """Generate a mesh for PROMPT (e.g. "a tall table") and write it as OBJ."""
    import torch

    from lamina_llama_mesh.chat_generation import chat_replies
    from lamina_llama_mesh.dialogues import TEXT_TO_MESH_PROMPTS
    from lamina_llama_mesh.obj_text import mesh_to_text, parse_mesh_text
    from lamina_llama_mesh.render import save_glb, save_preview

    torch.manual_seed(seed)
    model, tokenizer = _load_model(checkpoint, model_dir, tokenizer_dir)
    request = (
        prompt
        if prompt.rstrip().endswith((".", "?", "!"))
        else TEXT_TO_MESH_PROMPTS[0].format(caption=prompt)
    )
    reply = chat_replies(
        model,
        tokenizer,
        [[{"role": "user", "content": request}]],
        max_new_tokens=max_new_tokens,
        temperature=temperature,
    )[0]
    parsed = parse_mesh_text(reply.text, finished=reply.finished)
    for issue in parsed.issues:
        click.echo(f"warning: {issue}", err=True)
    if parsed.mesh.num_faces == 0:
        raise click.ClickException(
            "the model produced no usable face; try another --seed or a higher --max-new-tokens"
        )
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(f"# {prompt}\n" + mesh_to_text(parsed.mesh) + "\n")
    partial.replace(target)
    click.echo(
        f"wrote {target} ({parsed.mesh.num_vertices} vertices, {parsed.mesh.num_faces} faces, "
        f"{'valid' if parsed.is_valid else 'INVALID: ' + ', '.join(parsed.reasons)})"
    )
    if preview:
        click.echo(f"wrote {save_preview([parsed.mesh], preview, [prompt])}")
    if glb:
        click.echo(f"wrote {save_glb(parsed.mesh, glb)}")


@mesh.command()
@click.argument("mesh_file", type=click.Path(exists=True, dir_okay=False))
@with_model_options
@click.option("--max-faces", default=500, show_default=True)
@click.option("--max-new-tokens", default=64, show_default=True)
def describe(
    mesh_file: str,
    checkpoint: str | None,
    model_dir: str | None,
    tokenizer_dir: str | None,
    max_faces: int,
    max_new_tokens: int,
) -> None:
    """Ask the model what MESH_FILE (OBJ/GLB/PLY/STL) shows."""
    from lamina_llama_mesh.chat_generation import chat_replies
    from lamina_llama_mesh.dialogues import MESH_TO_TEXT_PROMPTS
    from lamina_llama_mesh.mesh_import import load_mesh_file, mesh_from_arrays
    from lamina_llama_mesh.obj_reader import MeshFileError
    from lamina_llama_mesh.obj_text import mesh_to_text

    try:
        quantized = mesh_from_arrays(*load_mesh_file(mesh_file), max_faces=max_faces)
    except (MeshFileError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    model, tokenizer = _load_model(checkpoint, model_dir, tokenizer_dir)
    question = MESH_TO_TEXT_PROMPTS[0].format(mesh=mesh_to_text(quantized))
    reply = chat_replies(
        model, tokenizer, [[{"role": "user", "content": question}]], max_new_tokens=max_new_tokens
    )[0]
    click.echo(reply.text.strip())


@mesh.command(name="import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--captions", type=click.Path(exists=True, dir_okay=False), help="CSV file,caption or JSONL.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="JSON Lines to write.")
@click.option("--max-faces", default=500, show_default=True)
@click.option(
    "--no-decimate", is_flag=True, help="Skip meshes above --max-faces instead of simplifying them."
)
def import_command(folder: str, captions: str | None, output: str, max_faces: int, no_decimate: bool) -> None:
    """Convert a FOLDER of meshes to quantised OBJ text (one JSON record per file); bad files are reported."""
    import json

    from lamina_llama_mesh.mesh_import import import_mesh_folder
    from lamina_llama_mesh.obj_text import mesh_to_text

    report = import_mesh_folder(
        folder, captions_file=captions, max_faces=max_faces, allow_decimation=not no_decimate
    )
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for item in report.imported:
            handle.write(
                json.dumps(
                    {
                        "file": str(item.path),
                        "caption": item.caption,
                        "faces": item.mesh.num_faces,
                        "obj": mesh_to_text(item.mesh),
                    }
                )
                + "\n"
            )
    partial.replace(target)
    click.echo(report.summary())
    click.echo(f"wrote {target}")


@mesh.command()
@click.argument("mesh_files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="PNG to write.")
def preview(mesh_files: tuple[str, ...], output: str) -> None:
    """Render MESH_FILES (quantised on the way, as the model sees them) into one PNG grid."""
    from lamina_llama_mesh.mesh_import import load_mesh_file, mesh_from_arrays
    from lamina_llama_mesh.render import save_preview

    meshes = [
        mesh_from_arrays(*load_mesh_file(path), max_faces=10**9, allow_decimation=False)
        for path in mesh_files
    ]
    click.echo(f"wrote {save_preview(meshes, output, [Path(p).name for p in mesh_files])}")


@mesh.command()
@click.option("--checkpoint", "-c", type=click.Path(exists=True, dir_okay=False), required=True)
@click.option("--tokenizer", "tokenizer_dir", type=click.Path(file_okay=False))
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True, help="Folder to write.")
def export(checkpoint: str, tokenizer_dir: str | None, output: str) -> None:
    """Write a checkpoint's model and tokenizer as a Hugging Face folder (for model.pretrained_path=...)."""
    from lamina.lm.tokenizer import save_tokenizer

    model, tokenizer = _load_model(checkpoint, None, tokenizer_dir)
    target = Path(output)
    model.save_pretrained(target)
    save_tokenizer(tokenizer, target / "tokenizer")
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json"):
        source = target / "tokenizer" / name
        if source.is_file():
            (target / name).write_bytes(source.read_bytes())
    click.echo(f"wrote {target}")


@mesh.command()
@with_model_options
@click.option(
    "--output", "-o", type=click.Path(file_okay=False), required=True, help="Folder for the results."
)
@click.option("--categories", default="cube,box,pyramid,cone,cylinder,prism", show_default=True)
@click.option("--shapes-per-category", default=4, show_default=True)
@click.option("--understanding-per-category", default=4, show_default=True)
@click.option("--text-tasks", default=48, show_default=True)
@click.option("--max-new-tokens", default=320, show_default=True)
@click.option("--temperature", default=0.0, show_default=True)
@click.option(
    "--seed", default=42, show_default=True, help="The training seed (evaluation shapes are offset)."
)
def evaluate(
    checkpoint: str | None,
    model_dir: str | None,
    tokenizer_dir: str | None,
    output: str,
    categories: str,
    shapes_per_category: int,
    understanding_per_category: int,
    text_tasks: int,
    max_new_tokens: int,
    temperature: float,
    seed: int,
) -> None:
    """Evaluate a model on held-out prompts: metrics JSON, per-prompt table and preview PNG in OUTPUT."""
    import json

    from lamina.tracking import markdown_table
    from lamina_llama_mesh.evaluation import evaluate_mesh_model
    from lamina_llama_mesh.render import save_preview

    model, tokenizer = _load_model(checkpoint, model_dir, tokenizer_dir)
    result = evaluate_mesh_model(
        model,
        tokenizer,
        categories=[c.strip() for c in categories.split(",") if c.strip()],
        shapes_per_category=shapes_per_category,
        understanding_per_category=understanding_per_category,
        text_tasks=text_tasks,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        seed=seed,
    )
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "metrics": result.metrics,
        "reasons": result.reasons,
        "samples": result.rows,
        "understanding_samples": result.understanding_rows,
        "text_samples": result.text_rows,
    }
    (folder / "mesh_eval.json").write_text(json.dumps(record, indent=2, default=str))
    (folder / "mesh_samples.md").write_text(markdown_table(result.rows))
    titles = [
        f"{'ok' if p.is_valid else 'invalid'}: {prompt.removeprefix('Create a 3D model of ').rstrip('.')}"
        for p, prompt in zip(result.parsed, result.prompts, strict=True)
    ]
    save_preview([p.mesh for p in result.parsed], folder / "mesh_preview.png", titles, columns=6)
    for key, value in result.metrics.items():
        click.echo(f"{key}: {value:.4f}")
    click.echo(f"failure reasons: {result.reasons or 'none'}")
    click.echo(f"wrote {folder}")
