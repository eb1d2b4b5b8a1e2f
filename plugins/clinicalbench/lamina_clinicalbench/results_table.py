"""Collect per-job results of a benchmark multirun into the paper-style table (markdown, CSV and an image).

Each job of ``python -m lamina_clinicalbench.benchmark --multirun`` writes ``result.json`` (model, task, seed,
metrics). Rows are models, column pairs are tasks (F1, AUROC), cells are mean ± standard deviation over seeds.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections import defaultdict
from pathlib import Path

from lamina_clinicalbench.cohort import TASKS

TASK_TITLES = {"los": "Length of stay", "mortality": "Mortality", "readmission": "Readmission"}


def collect_results(sweep_dir: str | Path) -> list[dict]:
    """Every ``result.json`` under ``sweep_dir``."""
    return [json.loads(path.read_text()) for path in sorted(Path(sweep_dir).rglob("result.json"))]


def _mean_std(values: list[float]) -> tuple[float, float]:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return float("nan"), float("nan")
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return mean, std


def model_order(models: list[str]) -> list[str]:
    """The paper's row order: the 11 traditional models, then the language models; unknown names last."""
    from lamina_clinicalbench.benchmark import LM_MODELS
    from lamina_clinicalbench.traditional_models import TRADITIONAL_MODELS

    known = (*TRADITIONAL_MODELS, *LM_MODELS)
    rank = {name: i for i, name in enumerate(known)}
    return sorted(dict.fromkeys(models), key=lambda name: rank.get(name, len(known)))


def summarise(results: list[dict]) -> list[dict]:
    """One row per model, in :func:`model_order`: for each task, F1 and AUROC mean/std over seeds and the seeds
    used."""
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        grouped[result["model"]][result["task"]].append(result)
    order = model_order([result["model"] for result in results])
    rows = []
    for model in order:
        row: dict = {
            "model": model,
            "display": grouped[model][next(iter(grouped[model]))][0].get("display", model),
        }
        for task in TASKS:
            runs = grouped[model].get(task, [])
            for metric in ("f1", "auroc"):
                mean, std = _mean_std([r["metrics"][metric] for r in runs])
                row[f"{task}_{metric}_mean"], row[f"{task}_{metric}_std"] = mean, std
            row[f"{task}_seeds"] = len(runs)
        # language models: the share of answers whose top next token was an option (unparseable = wrong)
        parseable = [
            r["metrics"]["parseable"]
            for t in TASKS
            for r in grouped[model].get(t, [])
            if "parseable" in r["metrics"]
        ]
        row["parseable_mean"] = sum(parseable) / len(parseable) if parseable else float("nan")
        rows.append(row)
    return rows


def _cell(row: dict, key: str) -> str:
    mean, std = row[f"{key}_mean"], row[f"{key}_std"]
    return "–" if math.isnan(mean) else f"{mean:.2f} ± {std:.2f}"


def markdown_table(rows: list[dict], data_label: str) -> str:
    with_parseable = any(not math.isnan(row.get("parseable_mean", math.nan)) for row in rows)
    header = "| Model | " + " | ".join(f"{TASK_TITLES[t]} F1 | {TASK_TITLES[t]} AUROC" for t in TASKS) + " |"
    lines = [
        f"Data: {data_label}. Mean ± std over seeds (n per task shown as seeds); F1 = macro-F1 for length of "
        "stay, positive-class F1 for mortality and readmission; values in %."
        + (
            " Parseable: share of language-model answers whose most likely next token was an answer option "
            "(for chain-of-thought, also: the reasoning reached 'Answer:'), over all tasks and seeds; the "
            "rest count as wrong."
            if with_parseable
            else ""
        ),
        "",
        header + (" Parseable |" if with_parseable else ""),
        "|" + "---|" * (1 + 2 * len(TASKS) + int(with_parseable)),
    ]
    for row in rows:
        seeds = {row[f"{t}_seeds"] for t in TASKS}
        name = row["display"] + (
            "" if seeds == {5} else f" (seeds: {'/'.join(str(row[f'{t}_seeds']) for t in TASKS)})"
        )
        lines.append(
            f"| {name} | "
            + " | ".join(f"{_cell(row, f'{t}_f1')} | {_cell(row, f'{t}_auroc')}" for t in TASKS)
            + " |"
            + (f" {_parseable_cell(row)} |" if with_parseable else "")
        )
    return "\n".join(lines) + "\n"


def _parseable_cell(row: dict) -> str:
    value = row.get("parseable_mean", math.nan)
    return "–" if math.isnan(value) else f"{value:.1f}"


def _atomic_write(path: Path, data: bytes) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


def plot_table(rows: list[dict], data_label: str, path: Path) -> None:
    """Grouped bars of F1 per task with std error bars: the table as an image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(TASKS), figsize=(5 * len(TASKS), 0.35 * len(rows) + 1.5), sharey=True)
    names = [row["display"] for row in rows]
    for axis, task in zip(axes, TASKS, strict=True):
        means = [row[f"{task}_f1_mean"] for row in rows]
        stds = [row[f"{task}_f1_std"] for row in rows]
        axis.barh(range(len(rows)), means, xerr=stds, color="tab:blue", alpha=0.8)
        axis.set_title(f"{TASK_TITLES[task]} ({'macro' if task == 'los' else 'positive-class'} F1, %)")
        axis.set_yticks(range(len(rows)), names)
        axis.invert_yaxis()
        axis.grid(axis="x", alpha=0.3)
    fig.suptitle(f"ClinicalBench on {data_label}")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    _atomic_write(path, buffer.getvalue())


def write_results_table(sweep_dir: str | Path, out_dir: str | Path | None = None) -> dict[str, Path]:
    """Write ``results.md``, ``results.csv`` and ``results.png`` for a finished multirun; returns their paths."""
    results = collect_results(sweep_dir)
    if not results:
        raise FileNotFoundError(f"no result.json under {sweep_dir}: is this a ClinicalBench multirun folder?")
    out = Path(out_dir or sweep_dir)
    out.mkdir(parents=True, exist_ok=True)
    labels = sorted({r.get("data", "unknown data") for r in results})
    data_label = " + ".join(labels)
    rows = summarise(results)
    paths = {"markdown": out / "results.md", "csv": out / "results.csv", "image": out / "results.png"}
    _atomic_write(paths["markdown"], markdown_table(rows, data_label).encode())
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    _atomic_write(paths["csv"], text.getvalue().encode())
    plot_table(rows, data_label, paths["image"])
    return paths
