"""Train / validation / test splits as ClinicalBench makes them.

Patients are shuffled with the seed (3, 5, 7, 11 or 13 in the paper) and cut 80 / 10 / 10. The training part is then
balanced per label by down-sampling every class to the size of the smallest one; validation and test keep the
natural prevalence, so test F1 reflects the real class balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lamina_clinicalbench.cohort import Sample, task_samples

PAPER_SEEDS = (3, 5, 7, 11, 13)
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


@dataclass
class TaskSplit:
    """The samples of one task and seed, split three ways."""

    task: str
    seed: int
    train: list[Sample]
    val: list[Sample]
    test: list[Sample]


def balance_by_label(samples: list[Sample], task: str, rng: np.random.Generator) -> list[Sample]:
    """Down-sample every label to the count of the rarest one (order shuffled)."""
    by_label: dict[int, list[Sample]] = {}
    for sample in samples:
        by_label.setdefault(sample.label(task), []).append(sample)
    if len(by_label) < 2:
        raise ValueError(
            f"the {task} training split has only label(s) {sorted(by_label)}; balancing needs every class. "
            "Use more patients (a larger cohort) or another seed."
        )
    smallest = min(len(group) for group in by_label.values())
    kept = [group[i] for group in by_label.values() for i in rng.choice(len(group), smallest, replace=False)]
    return [kept[i] for i in rng.permutation(len(kept))]


def split_task(
    samples: list[Sample], task: str, seed: int, fractions: tuple[float, float, float] = SPLIT_FRACTIONS
) -> TaskSplit:
    """Split the task's samples for ``seed``: balanced training set, natural validation and test sets."""
    eligible = task_samples(samples, task)
    if len(eligible) < 10:
        raise ValueError(f"only {len(eligible)} samples take part in {task}; need at least 10 to split.")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(eligible))
    n_train = int(round(fractions[0] * len(eligible)))
    n_val = int(round(fractions[1] * len(eligible)))
    train = [eligible[i] for i in order[:n_train]]
    val = [eligible[i] for i in order[n_train : n_train + n_val]]
    test = [eligible[i] for i in order[n_train + n_val :]]
    return TaskSplit(task, seed, balance_by_label(train, task, rng), val, test)
