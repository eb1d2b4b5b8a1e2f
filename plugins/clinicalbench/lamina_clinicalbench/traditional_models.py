"""The paper's 11 traditional models with its settings, behind one fit / predict_proba interface.

Every model receives the count-vector matrix of :mod:`lamina_clinicalbench.features` and labels in the task's own
values (LOS 1-3, binary 0-1); :class:`LabelledClassifier` maps them to 0..K-1 for libraries that need it and back.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

TRADITIONAL_MODELS = (
    "xgboost",
    "logistic_regression",
    "decision_tree",
    "random_forest",
    "adaboost",
    "svm",
    "naive_bayes",
    "knn",
    "mlp",
    "transformer",
    "lstm",
)
DISPLAY_NAMES = {
    "xgboost": "XGBoost",
    "logistic_regression": "LogisticRegression",
    "decision_tree": "DecisionTree",
    "random_forest": "RandomForest",
    "adaboost": "AdaBoost",
    "svm": "SVM",
    "naive_bayes": "NaiveBayes",
    "knn": "KNN",
    "mlp": "MLP",
    "transformer": "Transformer",
    "lstm": "LSTM",
}


class Estimator(Protocol):
    def fit(self, features: np.ndarray, labels: np.ndarray) -> Any: ...

    def predict_proba(self, features: np.ndarray) -> np.ndarray: ...


def build_estimator(name: str, seed: int, n_code_columns: int) -> Estimator:
    """One of :data:`TRADITIONAL_MODELS` with the paper's settings (0..K-1 labels)."""
    from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    if name == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(random_state=seed, n_jobs=1, verbosity=0)
    if name == "logistic_regression":
        return LogisticRegression(max_iter=1000, random_state=seed)
    if name == "decision_tree":
        return DecisionTreeClassifier(max_depth=6, random_state=seed)
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=100, max_depth=6, random_state=seed, n_jobs=1)
    if name == "adaboost":
        return AdaBoostClassifier(n_estimators=100, random_state=seed)
    if name == "svm":
        return SVC(kernel="rbf", probability=True, random_state=seed)
    if name == "naive_bayes":
        return GaussianNB()
    if name == "knn":
        return KNeighborsClassifier(n_neighbors=5)
    if name == "mlp":
        return MLPClassifier(hidden_layer_sizes=(100,), random_state=seed, max_iter=200)
    if name in ("transformer", "lstm"):
        from lamina_clinicalbench.sequence_models import SequenceClassifierEstimator

        return SequenceClassifierEstimator(name, n_code_columns=n_code_columns, seed=seed)
    raise ValueError(f"unknown traditional model {name!r}; expected one of {TRADITIONAL_MODELS}")


class LabelledClassifier:
    """Wraps an estimator so it takes and returns the task's label values (e.g. LOS 1, 2, 3)."""

    def __init__(self, name: str, label_values: tuple[int, ...], seed: int, n_code_columns: int) -> None:
        self.name = name
        self.label_values = np.array(label_values)
        self.estimator = build_estimator(name, seed, n_code_columns)

    def fit(self, features: np.ndarray, labels: np.ndarray) -> LabelledClassifier:
        index = {value: i for i, value in enumerate(self.label_values.tolist())}
        unknown = set(np.unique(labels).tolist()) - set(index)
        if unknown:
            raise ValueError(f"labels {sorted(unknown)} are not among {self.label_values.tolist()}")
        self.estimator.fit(features, np.array([index[int(v)] for v in labels]))
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """One column per label value, in the order of ``label_values`` (zeros for a class never seen in fit)."""
        raw = np.asarray(self.estimator.predict_proba(features), dtype=np.float64)
        classes = getattr(self.estimator, "classes_", np.arange(raw.shape[1]))
        full = np.zeros((len(features), len(self.label_values)))
        full[:, np.asarray(classes, dtype=int)] = raw
        return full

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.label_values[self.predict_proba(features).argmax(axis=1)]
