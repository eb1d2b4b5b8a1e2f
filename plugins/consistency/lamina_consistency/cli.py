"""``lamina consistency ...`` commands (added to the ``lamina`` CLI through the ``register_commands`` hook)."""

from __future__ import annotations

import click


def _int_list(value: str) -> list[int]:
    try:
        return [int(item) for item in value.split(",") if item.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers such as 0,1,2, got {value!r}") from None


@click.group(name="consistency")
def consistency_group() -> None:
    """Consistency models (arXiv:2411.08954): CD vs Direct CM, ODE error vs sample quality."""


@click.command(name="compare")
@click.option(
    "--datasets",
    default="mixture,digits",
    show_default=True,
    help="Comma-separated: mixture, digits, shapes.",
)
@click.option("--seeds", default="0,1,2", show_default=True, help="Comma-separated student/evaluation seeds.")
@click.option("--out-dir", default="runs/consistency_compare", show_default=True, type=click.Path())
@click.option("--solver", type=click.Choice(["ddim", "euler", "heun"]), default="ddim", show_default=True)
@click.option("--ode-steps", default=100, show_default=True, help="N: grid points on the 1000-step schedule.")
@click.option("--sampling-steps", default="1,2,4", show_default=True)
@click.option("--loss", type=click.Choice(["l2", "pseudo_huber"]), default="l2", show_default=True)
@click.option("--finetune", type=click.Choice(["full", "lora"]), default="full", show_default=True)
@click.option("--lora-rank", default=8, show_default=True)
@click.option(
    "--guidance-scale",
    type=float,
    default=None,
    help="CFG weight w (Imagen form) for class-conditional teachers; default: the teacher's own.",
)
@click.option(
    "--equal-teacher-budget/--no-equal-teacher-budget",
    default=True,
    show_default=True,
    help="Also train a Direct CM limited to the CD student's number of teacher evaluations.",
)
@click.option(
    "--teacher-per-seed/--shared-teacher",
    default=False,
    show_default=True,
    help="Train a separate teacher for each seed (slower) instead of one per data set.",
)
@click.option(
    "--budget-scale",
    default=1.0,
    show_default=True,
    help="Multiply all step counts and evaluation sizes (0.05 for a quick smoke run).",
)
@click.option(
    "--student-steps", type=int, default=None, help="Override every data set's student step budget."
)
@click.option(
    "--student-lr", type=float, default=None, help="Override every data set's student learning rate."
)
@click.option(
    "--cd-target-ema",
    default=0.0,
    show_default=True,
    help="CD target network: 0 = the student itself under stop-gradient (the paper); e.g. 0.95 = an EMA (LCM).",
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    help="torch threads; the networks are tiny, so more threads mostly add contention on a busy CPU.",
)
def compare_command(
    datasets: str,
    seeds: str,
    out_dir: str,
    solver: str,
    ode_steps: int,
    sampling_steps: str,
    loss: str,
    finetune: str,
    lora_rank: int,
    guidance_scale: float | None,
    equal_teacher_budget: bool,
    teacher_per_seed: bool,
    budget_scale: float,
    student_steps: int | None,
    student_lr: float | None,
    cd_target_ema: float,
    threads: int,
) -> None:
    """Train teachers, distil CD and Direct CM students, evaluate them on identical noise, write the table."""
    import torch

    from lamina_consistency.compare import ComparisonSettings, run_comparison

    torch.set_num_threads(threads)
    names = [name.strip() for name in datasets.split(",") if name.strip()]
    overrides: dict[str, dict] = {}
    for name in names:
        if student_steps is not None:
            overrides.setdefault(name, {})["student_steps"] = student_steps
        if student_lr is not None:
            overrides.setdefault(name, {})["student_lr"] = student_lr
    settings = ComparisonSettings(
        datasets=names,
        seeds=_int_list(seeds),
        out_dir=out_dir,
        solver=solver,
        ode_steps=ode_steps,
        sampling_steps=_int_list(sampling_steps),
        loss=loss,
        finetune=finetune,
        lora_rank=lora_rank,
        guidance_scale=guidance_scale,
        equal_teacher_budget=equal_teacher_budget,
        teacher_per_seed=teacher_per_seed,
        budget_scale=budget_scale,
        cd_target_ema=cd_target_ema,
        overrides=overrides,
    )
    try:
        run_comparison(settings, log=lambda message: click.echo(message, err=True))
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"Wrote {out_dir}/table.md, results.json, results.csv and figures/.")


consistency_group.add_command(compare_command)
