"""Experiment 1: training with CCE follows the full-logit baseline within seed noise.

Three runs of the same experiment: CCE and the full-logit baseline from the same seed (same initial weights, same
batches), and the baseline from a second seed. If CCE's curve differs from the baseline's by much less than the two
seeds differ from each other, the loss implementation is invisible to training, which is the paper's claim.
"""

from __future__ import annotations

import csv
from pathlib import Path

# Small enough that three runs fit in minutes on 2 CPU cores; the comparison does not need a good model.
SMALL_OVERRIDES = [
    "data.seq_len=64",
    "data.batch_size=8",
    "model.config.hidden_size=64",
    "model.config.intermediate_size=128",
    "model.config.num_hidden_layers=2",
    "trainer.limit_val_batches=5",
    "~callbacks.lm_samples",
]


def train_curve(impl: str, seed: int, steps: int, out: Path, overrides: list[str]) -> list[tuple[int, float]]:
    """Train ``experiment=cce_tiny`` with ``loss_impl=impl`` and return its (step, train/loss) points."""
    from lamina.tasks import run_train
    from lamina.testing import compose_train_config

    run_dir = out / f"{impl}_seed{seed}"
    cfg = compose_train_config(
        [
            "experiment=cce_tiny",
            f"model.loss_impl={impl}",
            f"seed={seed}",
            f"trainer.max_steps={steps}",
            f"trainer.val_check_interval={steps}",
            "trainer.log_every_n_steps=5",
            "trainer.enable_progress_bar=false",
            f"data.cache_dir={out / 'lm_cache'}",  # one tokenised cache shared by the three runs
            *overrides,
        ],
        run_dir,
    )
    run_train(cfg)
    return read_curve(next(run_dir.rglob("metrics.csv")))


def read_curve(metrics_csv: Path, key: str = "train/loss") -> list[tuple[int, float]]:
    with metrics_csv.open() as handle:
        return [(int(row["step"]), float(row[key])) for row in csv.DictReader(handle) if row.get(key)]


def max_gap(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> float:
    """Largest |difference| between two curves at the steps both logged."""
    other = dict(b)
    gaps = [abs(loss - other[step]) for step, loss in a if step in other]
    if not gaps:
        raise ValueError("the two curves share no logged step")
    return max(gaps)


def plot_curves(curves: dict[str, list[tuple[int, float]]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for label, points in curves.items():
        axis.plot([s for s, _ in points], [v for _, v in points], label=label, linewidth=1.2)
    axis.set_xlabel("step")
    axis.set_ylabel("train/loss")
    axis.set_title("CCE vs full-logit baseline (Python docs, tiny Llama)")
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def run_convergence(out: Path, steps: int, seeds: tuple[int, int] = (0, 1), small: bool = True) -> list[dict]:
    overrides = SMALL_OVERRIDES if small else ["~callbacks.lm_samples"]
    curves = {
        f"cce seed {seeds[0]}": train_curve("cce", seeds[0], steps, out, overrides),
        f"torch seed {seeds[0]}": train_curve("torch", seeds[0], steps, out, overrides),
        f"torch seed {seeds[1]}": train_curve("torch", seeds[1], steps, out, overrides),
    }
    plot_curves(curves, out / "convergence.png")
    cce, base, other = curves.values()
    return [
        {
            "steps": steps,
            "final loss cce": round(cce[-1][1], 4),
            f"final loss torch (seed {seeds[0]})": round(base[-1][1], 4),
            f"final loss torch (seed {seeds[1]})": round(other[-1][1], 4),
            "max |cce - torch|, same seed": round(max_gap(cce, base), 4),
            "max |torch - torch|, two seeds": round(max_gap(base, other), 4),
        }
    ]
