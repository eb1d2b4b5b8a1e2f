"""``lamina cce ...``: the paper's measurements that are not a single training run.

Each command prints its table and writes ``<out>/<name>.md`` + ``.csv`` (and a PNG for curves); heavy imports
happen inside the command functions so ``lamina --help`` stays instant.
"""

from __future__ import annotations

import platform
from pathlib import Path

import click


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


@click.group(help="Cut Cross-Entropy (arXiv:2411.09009): memory, ablation and convergence measurements.")
def cce() -> None:
    pass


@cce.command(
    help="Experiment 2: peak memory of loss+gradient and of a training step vs the full-logit baseline."
)
@click.option(
    "--vocab", default="131072,262144", show_default=True, help="Vocabulary sizes, comma-separated."
)
@click.option("--tokens", default=512, show_default=True, help="Tokens per step (N).")
@click.option("--hidden", default=128, show_default=True, help="Hidden size (D).")
@click.option(
    "--impls",
    default="torch,torch_linear_ce,cce",
    show_default=True,
    help="Loss implementations (torch = full logits, the baseline; torch_compile also works).",
)
@click.option(
    "--modes", default="loss,step", show_default=True, help="loss (loss+grad) and/or step (AdamW step)."
)
@click.option("--device", default="cpu", show_default=True, type=click.Choice(["cpu", "cuda"]))
@click.option("--out", default="results/cce", show_default=True, type=click.Path(file_okay=False))
def memory(vocab: str, tokens: int, hidden: int, impls: str, modes: str, device: str, out: str) -> None:
    from lamina_cce.memory import MemoryCase, measure, memory_table
    from lamina_cce.report import markdown_table, write_table

    results = []
    for mode in modes.split(","):
        for v in _ints(vocab):
            for impl in impls.split(","):
                case = MemoryCase(mode=mode, impl=impl, vocab=v, tokens=tokens, hidden=hidden, device=device)
                click.echo(f"measuring {case} ...")
                results.append(measure(case))
    rows = memory_table(results)
    header = (
        f"Peak memory above the pre-step baseline ({device}, {platform.processor() or platform.machine()}, "
        f"fp32). Command: lamina cce memory --vocab {vocab} --tokens {tokens} --hidden {hidden} "
        f"--impls {impls} --modes {modes} --device {device}"
    )
    path = write_table(rows, Path(out) / "memory.md", header=header)
    click.echo(markdown_table(rows))
    click.echo(f"written: {path}")


@cce.command(
    help="Experiment 3: filtering on/off (skipped work, backward time) and vocabulary sorting (tiles)."
)
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--tokens", default=2048, show_default=True, help="Held-out tokens to evaluate on.")
@click.option("--repeats", default=3, show_default=True, help="Backward passes per setting (median time).")
@click.option("--out", default="results/cce", show_default=True, type=click.Path(file_okay=False))
def ablation(run_dir: str, tokens: int, repeats: int, out: str) -> None:
    from lamina_cce.ablation import run_ablation
    from lamina_cce.report import markdown_table, write_table

    rows = run_ablation(Path(run_dir), tokens=tokens, repeats=repeats)
    header = (
        f"Filtering and sorting on a trained model's logits ({tokens} held-out tokens, CPU chunked kernel). "
        f"Command: lamina cce ablation RUN_DIR --tokens {tokens} --repeats {repeats}"
    )
    path = write_table(rows, Path(out) / "ablation.md", header=header)
    click.echo(markdown_table(rows))
    click.echo(f"written: {path}")


@cce.command(
    help="Experiment 1: loss curves of CCE vs the full-logit baseline (same seed) and a second seed."
)
@click.option("--steps", default=150, show_default=True)
@click.option(
    "--full-size", is_flag=True, help="Use cce_tiny's model as is (default: a smaller, faster one)."
)
@click.option("--out", default="results/cce/convergence", show_default=True, type=click.Path(file_okay=False))
def convergence(steps: int, full_size: bool, out: str) -> None:
    from lamina_cce.convergence import run_convergence
    from lamina_cce.report import markdown_table, write_table

    rows = run_convergence(Path(out).resolve(), steps, small=not full_size)
    header = (
        f"Train loss, CCE vs full logits. Command: lamina cce convergence --steps {steps}"
        + (" --full-size" if full_size else "")
        + f". Plot: {out}/convergence.png"
    )
    path = write_table(rows, Path(out) / "convergence.md", header=header)
    click.echo(markdown_table(rows))
    click.echo(f"written: {path}")
