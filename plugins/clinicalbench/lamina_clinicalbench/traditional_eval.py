"""Train one traditional model on one task and seed, and score it on the test split."""

from __future__ import annotations

import time

from lamina_clinicalbench.cohort import LABEL_VALUES
from lamina_clinicalbench.cohort_file import Cohort
from lamina_clinicalbench.features import CountVectorizer, labels
from lamina_clinicalbench.metrics import task_metrics
from lamina_clinicalbench.splits import split_task
from lamina_clinicalbench.traditional_models import LabelledClassifier


def evaluate_traditional(cohort: Cohort, model: str, task: str, seed: int) -> dict:
    """Fit ``model`` on the balanced training split, return test metrics (percent) and split sizes."""
    split = split_task(cohort.samples, task, seed)
    vectorizer = CountVectorizer().fit(split.train)
    train_x, test_x = vectorizer.transform(split.train), vectorizer.transform(split.test)
    started = time.perf_counter()
    classifier = LabelledClassifier(model, LABEL_VALUES[task], seed, vectorizer.n_code_columns)
    classifier.fit(train_x, labels(split.train, task))
    probabilities = classifier.predict_proba(test_x)
    predictions = classifier.label_values[probabilities.argmax(axis=1)]
    return {
        **task_metrics(task, labels(split.test, task), predictions, probabilities),
        "n_train": len(split.train),
        "n_test": len(split.test),
        "seconds": time.perf_counter() - started,
    }
