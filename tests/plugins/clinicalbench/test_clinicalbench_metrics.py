"""The metrics against scikit-learn on random and edge-case inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from lamina_clinicalbench.metrics import binary_auroc, macro_f1, macro_ovr_auroc, positive_f1, task_metrics


@pytest.mark.parametrize("seed", range(5))
def test_f1_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(1, 4, 200), rng.integers(1, 4, 200)
    assert macro_f1(y_true, y_pred) == pytest.approx(
        f1_score(y_true, y_pred, average="macro", labels=[1, 2, 3])
    )
    b_true, b_pred = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    assert positive_f1(b_true, b_pred) == pytest.approx(f1_score(b_true, b_pred, pos_label=1))


def test_f1_when_a_class_is_never_predicted():
    y_true, y_pred = np.array([1, 1, 2, 3]), np.array([1, 1, 1, 1])
    assert macro_f1(y_true, y_pred) == pytest.approx(
        f1_score(y_true, y_pred, average="macro", labels=[1, 2, 3], zero_division=0)
    )
    assert positive_f1(np.array([0, 0]), np.array([0, 0])) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_auroc_matches_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, 300)
    score = np.round(rng.random(300) + 0.3 * y_true, 1)  # rounding makes many ties
    assert binary_auroc(y_true, score) == pytest.approx(roc_auc_score(y_true, score))
    y3 = rng.integers(1, 4, 300)
    probabilities = rng.dirichlet(np.ones(3), 300)
    assert macro_ovr_auroc(y3, probabilities) == pytest.approx(
        roc_auc_score(y3, probabilities, multi_class="ovr", average="macro", labels=[1, 2, 3])
    )


def test_auroc_with_one_class_is_nan_and_task_metrics_are_percent():
    assert np.isnan(binary_auroc([1, 1], [0.2, 0.3]))
    result = task_metrics(
        "mortality", [0, 1, 1, 0], [0, 1, 0, 0], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]
    )
    assert result["f1"] == pytest.approx(100 * 2 / 3)
    assert result["auroc"] == pytest.approx(100.0)
