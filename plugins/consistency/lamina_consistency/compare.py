"""The full CD vs Direct CM comparison: teachers, students, paired evaluation over seeds, table and figures.

Run ``lamina consistency compare`` (or ``lamina-consistency-compare``; ``--help`` lists the knobs). For each data
set it trains (or reuses) a teacher, then per seed distils it into a CD student and a Direct CM student with the
*same* optimiser budget, the same data rows, noise levels and noise draws, and evaluates both from identical noise
at 1, 2 and 4 sampling steps. With ``--equal-teacher-budget`` it adds a Direct CM student stopped once it has
used as many teacher evaluations as the CD student did. Training is driven directly (not through
``lightning.Trainer``) to keep the per-step overhead at zero on small CPUs; the modules' own loss methods are used,
so the objectives are exactly those of ``lamina train experiment=consistency_*``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from lamina_consistency.data.datamodules import load_digit_images
from lamina_consistency.data.mixtures import make_mixture
from lamina_consistency.data.shapes import SHAPE_CLASSES, render_shapes
from lamina_consistency.evaluation import ImageQuality, MixtureQuality, draw_paired_noise, evaluate_paired
from lamina_consistency.metrics.images import classifier_accuracy, train_feature_classifier
from lamina_consistency.students import ConsistencyDistillation, ConsistencyStudent, DirectConsistencyModel
from lamina_consistency.teacher import DiffusionTeacher, load_teacher, save_teacher


@dataclass(frozen=True)
class DatasetRecipe:
    """How one data set is compared: teacher architecture and budgets, student budget, evaluation size."""

    name: str
    kind: str  # "mixture" or "image"
    teacher: dict[str, Any]
    teacher_steps: int
    teacher_batch: int
    student_steps: int
    student_batch: int
    student_lr: float
    eval_count: int
    primary_quality: str  # the metric used to decide whether the inversion appears
    classifier_steps: int = 0


STUDENT_LR = 3e-5
"""Both students' learning rate (full fine-tune, AdamW). At 3e-4, the first default, CD's self-referential target
made training diverge within the budget (its loss rose instead of falling and the student lost its low-noise
outputs: 2- and 4-step digits samples had precision 0); at 3e-5 it does not. See the plugin README."""

RECIPES: dict[str, DatasetRecipe] = {
    "mixture": DatasetRecipe(
        name="mixture",
        kind="mixture",
        teacher={
            "data_shape": [2],
            "network": "mlp",
            "width": 128,
            "depth": 3,
            "lr": 1e-3,
            "beta_schedule": "scaled_linear",
        },
        teacher_steps=4000,
        teacher_batch=256,
        student_steps=400,
        student_batch=64,
        student_lr=STUDENT_LR,
        eval_count=2000,
        primary_quality="mmd",
    ),
    "digits": DatasetRecipe(
        name="digits",
        kind="image",
        teacher={
            "data_shape": [1, 8, 8],
            "network": "mlp",
            "width": 256,
            "depth": 3,
            "lr": 1e-3,
            "beta_schedule": "scaled_linear",
        },
        teacher_steps=3000,
        teacher_batch=128,
        student_steps=300,
        student_batch=64,
        student_lr=STUDENT_LR,
        eval_count=1000,
        primary_quality="fd_teacher",
        classifier_steps=500,
    ),
    "shapes": DatasetRecipe(
        name="shapes",
        kind="image",
        teacher={
            "data_shape": [1, 16, 16],
            "network": "mlp",
            "width": 384,
            "depth": 3,
            "lr": 1e-3,
            "num_classes": len(SHAPE_CLASSES),
            "beta_schedule": "scaled_linear",
            "guidance_scale": 3.0,
        },
        teacher_steps=3000,
        teacher_batch=128,
        student_steps=300,
        student_batch=64,
        student_lr=STUDENT_LR,
        eval_count=1000,
        primary_quality="fd_teacher",
        classifier_steps=500,
    ),
}


@dataclass
class ComparisonSettings:
    """The knobs of one comparison (all plain values, written next to the results)."""

    datasets: Sequence[str] = ("mixture", "digits")
    seeds: Sequence[int] = (0, 1, 2)
    out_dir: str = "runs/consistency_compare"
    solver: str = "ddim"
    ode_steps: int = 100
    sampling_steps: Sequence[int] = (1, 2, 4)
    loss: str = "l2"
    finetune: str = "full"
    lora_rank: int = 8
    guidance_scale: float | None = None
    equal_teacher_budget: bool = True
    teacher_per_seed: bool = False
    cd_target_ema: float = 0.0  # CD's target network: 0 = the student itself under stop-gradient; >0 = an EMA
    budget_scale: float = 1.0  # multiplies every step count and evaluation size (tests use ~0.01)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # per data set DatasetRecipe fields


def _scaled(value: int, scale: float, minimum: int) -> int:
    return max(minimum, int(round(value * scale)))


def load_training_data(recipe: DatasetRecipe, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The full training set of a recipe as tensors (x, labels)."""
    if recipe.name == "mixture":
        points = make_mixture("ring8").sample(20000, torch.Generator().manual_seed(seed)).float()
        return points, torch.zeros(len(points), dtype=torch.long)
    if recipe.name == "digits":
        return load_digit_images()
    if recipe.name == "shapes":
        images, labels = render_shapes(8000, 16, seed)
        return torch.from_numpy(images), torch.from_numpy(labels)
    raise ValueError(f"unknown data set {recipe.name!r}; choose from {sorted(RECIPES)}")


def train_directly(
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    batch_size: int,
    seed: int,
    after_step: Callable[[], bool | None] | None = None,
    losses: list[float] | None = None,
) -> int:
    """Plain minibatch loop; ``after_step`` returning True stops early. Returns the steps taken.

    ``losses``, when given, receives every step's training loss (for :func:`loss_trajectory`).
    """
    generator = torch.Generator().manual_seed(seed)
    for step in range(steps):
        rows = torch.randint(0, len(x), (batch_size,), generator=generator)
        loss = loss_fn(x[rows], labels[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if losses is not None:
            losses.append(float(loss.detach()))
        if after_step is not None and after_step():
            return step + 1
    return steps


def loss_trajectory(losses: Sequence[float], windows: int = 10) -> dict[str, float]:
    """Mean training loss over the first and last tenth of training and the highest tenth in between.

    A consistency-distillation student regresses onto its own output, so its loss starts near zero (the teacher
    is nearly self-consistent over one grid step) and a loss that *rises* during training is the sign of the
    self-referential collapse described in the plugin README (``loss_peak`` far above ``loss_first``).
    """
    if not losses:
        return {}
    size = max(1, len(losses) // windows)
    means = [sum(losses[i : i + size]) / len(losses[i : i + size]) for i in range(0, len(losses), size)]
    return {"loss_first": means[0], "loss_last": means[-1], "loss_peak": max(means)}


def train_teacher(
    recipe: DatasetRecipe, x: torch.Tensor, labels: torch.Tensor, seed: int, steps: int, cache_dir: Path
) -> DiffusionTeacher:
    """Train a teacher, or load it from the cache when the same recipe, seed and budget were trained before."""
    key = hashlib.sha1(
        json.dumps([recipe.teacher, steps, recipe.teacher_batch, seed], sort_keys=True).encode()
    )
    path = cache_dir / f"teacher_{recipe.name}_seed{seed}_{key.hexdigest()[:10]}.pt"
    if path.is_file():
        return load_teacher(path)
    torch.manual_seed(seed)
    teacher = DiffusionTeacher(**recipe.teacher)
    teacher.train()
    optimizer = teacher.configure_optimizers()

    def after_step() -> None:
        teacher.on_train_batch_end(None, None, 0)  # EMA update, as under Lightning

    train_directly(
        teacher.diffusion_loss, optimizer, x, labels, steps, recipe.teacher_batch, seed, after_step
    )
    save_teacher(teacher, path)
    return teacher.eval()


def train_student(
    student_class: type[ConsistencyStudent],
    teacher: DiffusionTeacher,
    x: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    batch_size: int,
    seed: int,
    settings: ComparisonSettings,
    lr: float,
    max_teacher_evaluations: float | None = None,
) -> tuple[ConsistencyStudent, dict]:
    """Distil ``teacher``; the same ``seed`` gives every student the same data rows, noise levels and noise."""
    is_cd = issubclass(student_class, ConsistencyDistillation)
    extra = {"target_ema_decay": settings.cd_target_ema} if is_cd else {}
    student = student_class(
        teacher=teacher,
        num_ode_steps=settings.ode_steps,
        solver=settings.solver,
        loss=settings.loss,
        lr=lr,
        finetune=settings.finetune,
        lora_rank=settings.lora_rank,
        guidance_scale=settings.guidance_scale,
        **extra,
    )
    student.train()
    student.teacher.eval()
    optimizer = student.configure_optimizers()
    torch.manual_seed(seed + 1000)
    evaluations = [0]

    def loss_fn(x0: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss, used = student.distillation_loss(x0, y)
        evaluations[0] += used
        return loss

    def after_step() -> bool:
        student.on_train_batch_end(None, None, 0)  # CD's optional EMA target; no-op otherwise
        return max_teacher_evaluations is not None and evaluations[0] >= max_teacher_evaluations

    start = time.perf_counter()
    losses: list[float] = []
    taken = train_directly(loss_fn, optimizer, x, labels, steps, batch_size, seed, after_step, losses)
    student.teacher_evaluations.fill_(evaluations[0])
    info = {
        "optimizer_steps": taken,
        "teacher_evaluations": evaluations[0],
        "train_seconds": round(time.perf_counter() - start, 1),
        **{key: float(f"{value:.4g}") for key, value in loss_trajectory(losses).items()},
    }
    return student.eval(), info


def build_quality(
    recipe: DatasetRecipe,
    x: torch.Tensor,
    labels: torch.Tensor,
    eval_count: int,
    classifier_steps: int,
    seed: int,
) -> tuple[Any, torch.Tensor, dict[str, float]]:
    """The quality metrics of a recipe and a set of real samples *not* used as their reference (the data row)."""
    if recipe.kind == "mixture":
        mixture = make_mixture("ring8")
        data = mixture.sample(eval_count, torch.Generator().manual_seed(40_000 + seed)).float()
        return MixtureQuality(mixture, eval_count, seed=10_000 + seed), data, {}
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    held_out, train = order[: len(x) // 6], order[len(x) // 6 :]
    classes = int(labels.max()) + 1
    classifier = train_feature_classifier(x[train], labels[train], classes, steps=classifier_steps, seed=seed)
    accuracy = classifier_accuracy(classifier, x[held_out], labels[held_out])
    info = {"feature_classifier_heldout_accuracy": round(accuracy, 4)}
    if recipe.name == "shapes":  # procedural: fresh images for the data row, the training set as reference
        images, _ = render_shapes(eval_count, 16, 50_000 + seed)
        return ImageQuality(classifier, x), torch.from_numpy(images), info
    # Real digits are finite (1,797): half is the real reference, the other half the data row.
    half = len(x) // 2
    info["real_reference_images"] = half
    return ImageQuality(classifier, x[order[:half]]), x[order[half:]], info


def run_dataset(
    recipe: DatasetRecipe, settings: ComparisonSettings, out_dir: Path, log: Callable[[str], None] = print
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """All seeds of one data set; returns the raw rows (one per seed, model, steps) and run information."""
    scale = settings.budget_scale
    teacher_steps = _scaled(recipe.teacher_steps, scale, 2)
    student_steps = _scaled(recipe.student_steps, scale, 2)
    eval_count = _scaled(recipe.eval_count, scale, 16)
    classifier_steps = _scaled(recipe.classifier_steps, scale, 2)
    rows: list[dict[str, Any]] = []
    info: dict[str, Any] = {
        "teacher_steps": teacher_steps,
        "student_steps": student_steps,
        "eval_count": eval_count,
        "seeds": {},
    }
    teacher = None
    for seed in settings.seeds:
        x, labels = load_training_data(recipe, seed if settings.teacher_per_seed else settings.seeds[0])
        if teacher is None or settings.teacher_per_seed:
            teacher_seed = seed if settings.teacher_per_seed else settings.seeds[0]
            log(f"[{recipe.name}] teacher (seed {teacher_seed}, {teacher_steps} steps)")
            teacher = train_teacher(recipe, x, labels, teacher_seed, teacher_steps, out_dir / "teachers")
        quality, data_samples, quality_info = build_quality(
            recipe, x, labels, eval_count, classifier_steps, seed
        )
        students: dict[str, ConsistencyStudent] = {}
        seed_info: dict[str, Any] = dict(quality_info)
        for name, student_class in (("cd", ConsistencyDistillation), ("direct", DirectConsistencyModel)):
            log(f"[{recipe.name}] seed {seed}: {name} student ({student_steps} steps)")
            students[name], seed_info[name] = train_student(
                student_class,
                teacher,
                x,
                labels,
                student_steps,
                recipe.student_batch,
                seed,
                settings,
                recipe.student_lr,
            )
        if settings.equal_teacher_budget:
            budget = seed_info["cd"]["teacher_evaluations"]
            log(f"[{recipe.name}] seed {seed}: direct student at CD's teacher budget ({budget} evaluations)")
            students["direct_equal_evals"], seed_info["direct_equal_evals"] = train_student(
                DirectConsistencyModel,
                teacher,
                x,
                labels,
                student_steps,
                recipe.student_batch,
                seed,
                settings,
                recipe.student_lr,
                max_teacher_evaluations=budget,
            )
        paired = draw_paired_noise(
            eval_count,
            teacher.data_shape,
            teacher.num_classes,
            max(settings.sampling_steps),
            seed=20_000 + seed,
        )
        seed_rows, samples = evaluate_paired(
            teacher,
            students,
            paired,
            quality,
            settings.sampling_steps,
            settings.ode_steps,
            settings.solver,
            settings.guidance_scale,
            reference=draw_paired_noise(
                eval_count, teacher.data_shape, teacher.num_classes, 1, seed=30_000 + seed
            ),
            data_samples=data_samples,
        )
        rows.extend({"dataset": recipe.name, "seed": seed, **row} for row in seed_rows)
        info["seeds"][seed] = seed_info
        _save_sample_figure(samples, recipe, seed, out_dir)
    return rows, info


def _save_figure(figure: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.png")
    figure.savefig(temporary, dpi=110)
    plt.close(figure)
    temporary.replace(path)


def _save_sample_figure(
    samples: dict[str, torch.Tensor], recipe: DatasetRecipe, seed: int, out_dir: Path
) -> None:
    from lamina_consistency.plots import samples_figure

    title = f"{recipe.name}, seed {seed}: same initial noise for every panel"
    _save_figure(
        samples_figure(samples, title), out_dir / "figures" / f"samples_{recipe.name}_seed{seed}.png"
    )


def inversion_counts(
    rows: Sequence[dict[str, Any]],
    primary: dict[str, str],
    lower_is_better: dict[str, bool],
) -> dict[tuple[str, int], tuple[int, int, int]]:
    """Per (data set, steps): seeds where Direct has lower ODE error, seeds where it has worse primary quality,
    and seeds where both hold (the paper's inversion), comparing ``direct`` with ``cd`` on the same seed."""
    by_key = {(r["dataset"], r["seed"], r["model"], r["steps"]): r for r in rows}
    counts: dict[tuple[str, int], list[int]] = {}
    for (dataset, seed, model, steps), direct in by_key.items():
        if model != "direct" or (dataset, seed, "cd", steps) not in by_key:
            continue
        cd = by_key[(dataset, seed, "cd", steps)]
        metric = primary[dataset]
        lower_error = direct["ode_error"] < cd["ode_error"]
        worse = direct[metric] > cd[metric] if lower_is_better[metric] else direct[metric] < cd[metric]
        tally = counts.setdefault((dataset, steps), [0, 0, 0])
        tally[0] += lower_error
        tally[1] += worse
        tally[2] += lower_error and worse
    return {key: tuple(value) for key, value in counts.items()}


def _mean_std(values: Sequence[float]) -> str:
    if any(math.isnan(v) for v in values):
        return "n/a"
    mean = sum(values) / len(values)
    if len(values) < 2:
        return f"{mean:.4g}"
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return f"{mean:.4g} ± {std:.2g}"


def summary_table(rows: Sequence[dict[str, Any]], dataset: str, metrics: Sequence[str]) -> str:
    """Markdown: one line per (model, steps), mean ± sample std over seeds for ODE error and each metric."""
    selected = [r for r in rows if r["dataset"] == dataset]
    keys = list(dict.fromkeys((r["model"], r["steps"]) for r in selected))
    header = ["model", "steps", "seeds", "ode_error", *metrics]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for model, steps in keys:
        group = [r for r in selected if r["model"] == model and r["steps"] == steps]
        cells = [model, str(steps), str(len(group)), _mean_std([r["ode_error"] for r in group])]
        cells += [_mean_std([r[m] for r in group]) for m in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_comparison(settings: ComparisonSettings, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every data set, write ``results.json``, ``results.csv``, ``table.md`` and figures; return the summary."""
    from lamina_consistency.plots import ode_error_vs_quality_figure

    out_dir = Path(settings.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    all_rows: list[dict[str, Any]] = []
    infos: dict[str, Any] = {}
    primary: dict[str, str] = {}
    lower_is_better: dict[str, bool] = {"ode_error": True}
    sections = []
    started = time.perf_counter()
    for name in settings.datasets:
        if name not in RECIPES:
            raise ValueError(f"unknown data set {name!r}; choose from {sorted(RECIPES)}")
        recipe = replace(RECIPES[name], **settings.overrides.get(name, {}))
        rows, infos[name] = run_dataset(recipe, settings, out_dir, log)
        all_rows.extend(rows)
        primary[name] = recipe.primary_quality
        metrics = [k for k in rows[0] if k not in {"dataset", "seed", "model", "steps", "ode_error"}]
        direction = (
            MixtureQuality.lower_is_better if recipe.kind == "mixture" else ImageQuality.lower_is_better
        )
        lower_is_better.update(direction)
        figure = ode_error_vs_quality_figure(
            rows, recipe.primary_quality, f"{name}: ODE error vs {recipe.primary_quality}"
        )
        _save_figure(figure, out_dir / "figures" / f"ode_error_vs_quality_{name}.png")
        arrows = ", ".join(f"{m} {'↓' if direction[m] else '↑'}" for m in metrics)
        sections.append(
            f"### {name}\n\nMetrics: ode_error ↓, {arrows}.\n\n{summary_table(rows, name, metrics)}"
        )
    counts = inversion_counts(all_rows, primary, lower_is_better)
    inversion_lines = [
        "| dataset | steps | Direct lower ODE error | Direct worse quality | both (inversion) |",
        "|---|---|---|---|---|",
    ]
    for (dataset, steps), (lower, worse, both) in sorted(counts.items()):
        n = len(settings.seeds)
        inversion_lines.append(
            f"| {dataset} ({primary[dataset]}) | {steps} | {lower}/{n} | {worse}/{n} | {both}/{n} |"
        )
    elapsed = time.perf_counter() - started
    table = (
        "\n\n".join(sections)
        + "\n\n### Does the inversion appear? (seeds, direct vs cd)\n\n"
        + "\n".join(inversion_lines)
        + f"\n\nWall time: {elapsed:.0f} s.\n"
    )
    _atomic_write(out_dir / "table.md", table)
    _atomic_write(
        out_dir / "results.json",
        json.dumps({"settings": asdict(settings), "runs": infos, "rows": all_rows}, indent=1, default=str),
    )
    columns = list(dict.fromkeys(k for row in all_rows for k in row))
    with (out_dir / "results.csv.tmp").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(all_rows)
    (out_dir / "results.csv.tmp").replace(out_dir / "results.csv")
    log(table)
    return {"rows": all_rows, "table": table, "inversion": counts, "runs": infos, "seconds": elapsed}


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def main(argv: Sequence[str] | None = None) -> None:
    """``lamina-consistency-compare``: the same command as ``lamina consistency compare``."""
    from lamina_consistency.cli import compare_command

    compare_command.main(
        args=list(argv) if argv is not None else None, prog_name="lamina-consistency-compare"
    )


if __name__ == "__main__":
    main()
