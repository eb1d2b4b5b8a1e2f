"""ClinicalBench's metrics, written out (and tested against scikit-learn) so their definitions are visible.

- length of stay: macro-F1 over classes 1, 2, 3 and macro one-vs-rest AUROC;
- mortality, readmission: F1 of the positive class and AUROC.
F1 of a class that is never predicted nor present is 0 (scikit-learn's ``zero_division=0``).
"""

from __future__ import annotations

import numpy as np


def f1_for_class(y_true: np.ndarray, y_pred: np.ndarray, label: int) -> float:
    true_positive = float(np.sum((y_pred == label) & (y_true == label)))
    predicted = float(np.sum(y_pred == label))
    actual = float(np.sum(y_true == label))
    if predicted + actual == 0:
        return 0.0
    return 2.0 * true_positive / (predicted + actual)


def macro_f1(y_true, y_pred, labels=(1, 2, 3)) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean([f1_for_class(y_true, y_pred, label) for label in labels]))


def positive_f1(y_true, y_pred, positive: int = 1) -> float:
    return f1_for_class(np.asarray(y_true), np.asarray(y_pred), positive)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank (what the Mann-Whitney form of AUROC needs)."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(len(values), dtype=np.float64)
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return ranks


def binary_auroc(y_true, score) -> float:
    """Probability that a random positive scores above a random negative (ties count half); NaN if one class."""
    y_true, score = np.asarray(y_true).astype(bool), np.asarray(score, dtype=np.float64)
    positives, negatives = int(y_true.sum()), int((~y_true).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = _average_ranks(score)
    return float((ranks[y_true].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def macro_ovr_auroc(y_true, probabilities, labels=(1, 2, 3)) -> float:
    """Mean over classes of the AUROC of "this class vs the rest" (column i of ``probabilities`` = labels[i])."""
    y_true, probabilities = np.asarray(y_true), np.asarray(probabilities, dtype=np.float64)
    return float(
        np.mean([binary_auroc(y_true == label, probabilities[:, i]) for i, label in enumerate(labels)])
    )


def task_metrics(task: str, y_true, y_pred, probabilities) -> dict[str, float]:
    """The paper's metrics for ``task``: ``{"f1": ..., "auroc": ...}``, in percent like the paper's tables.

    ``probabilities`` has one column per label (LOS: 1, 2, 3; binary: 0, 1).
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if task == "los":
        f1, auroc = macro_f1(y_true, y_pred), macro_ovr_auroc(y_true, probabilities)
    else:
        f1, auroc = positive_f1(y_true, y_pred), binary_auroc(y_true, probabilities[:, 1])
    return {"f1": 100.0 * f1, "auroc": 100.0 * auroc}
