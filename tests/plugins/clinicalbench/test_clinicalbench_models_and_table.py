"""The 11 traditional models, the results table, and the benchmark Hydra app end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lamina_clinicalbench.results_table import markdown_table, summarise, write_results_table
from lamina_clinicalbench.sequence_models import counts_to_tokens
from lamina_clinicalbench.traditional_models import TRADITIONAL_MODELS, LabelledClassifier


def _separable(seed: int, n: int = 60, labels=(1, 2, 3)):
    rng = np.random.default_rng(seed)
    y = np.array([labels[i % len(labels)] for i in range(n)])
    x = rng.poisson(0.3, (n, 8)).astype(np.float32)
    for column, label in enumerate(labels):
        x[y == label, column] += 3  # code `column` marks class `label`
    return np.hstack([x, rng.random((n, 1)), rng.integers(0, 2, (n, 1))]).astype(np.float32), y


@pytest.mark.slow
@pytest.mark.parametrize("name", TRADITIONAL_MODELS)
def test_every_traditional_model_learns_a_separable_task(name):
    x, y = _separable(0)
    model = LabelledClassifier(name, (1, 2, 3), seed=3, n_code_columns=8).fit(x, y)
    probabilities = model.predict_proba(x)
    assert probabilities.shape == (60, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    # Transformer and LSTM use the paper's lr 1e-4 for 20 epochs: slow learners on 60 rows, so a looser bar.
    assert (model.predict(x) == y).mean() >= (0.5 if name in ("transformer", "lstm") else 0.9)


def test_unknown_model_and_labels_are_refused():
    with pytest.raises(ValueError, match="unknown traditional model"):
        LabelledClassifier("gpt5", (0, 1), 3, 8)
    x, _ = _separable(0)
    with pytest.raises(ValueError, match=r"labels \[7\]"):
        LabelledClassifier("naive_bayes", (0, 1), 3, 8).fit(x, np.full(60, 7))


def test_counts_become_repeated_code_tokens():
    features = np.array([[2, 0, 1, 0.5, 1], [0, 0, 0, 0.3, 0]], dtype=np.float32)
    assert counts_to_tokens(features, 3).tolist() == [[1, 1, 3], [0, 0, 0]]


def _result(model, task, seed, f1):
    return {
        "model": model,
        "display": model.upper(),
        "task": task,
        "seed": seed,
        "data": "synthetic MIMIC-III-like",
        "metrics": {"f1": f1, "auroc": 50.0 + f1 / 2},
    }


def test_table_reports_mean_and_sample_std_over_seeds(tmp_path):
    results = [
        _result("svm", task, seed, f1)
        for task in ("los", "mortality", "readmission")
        for seed, f1 in zip((3, 5, 7, 11, 13), (10.0, 20.0, 30.0, 40.0, 50.0), strict=True)
    ]
    rows = summarise(results)
    assert rows[0]["los_f1_mean"] == pytest.approx(30.0)
    assert rows[0]["los_f1_std"] == pytest.approx(np.std([10, 20, 30, 40, 50], ddof=1))
    assert "| SVM | 30.00 ± 15.81 |" in markdown_table(rows, "synthetic MIMIC-III-like")
    for i, result in enumerate(results):
        (tmp_path / str(i)).mkdir()
        (tmp_path / str(i) / "result.json").write_text(json.dumps(result))
    paths = write_results_table(tmp_path)
    assert paths["image"].read_bytes()[:4] == b"\x89PNG"
    assert "synthetic MIMIC-III-like" in paths["markdown"].read_text()
    with pytest.raises(FileNotFoundError, match="no result.json"):
        write_results_table(tmp_path / "0" / "nothing_here")


def test_table_rows_follow_the_papers_model_order_not_folder_order():
    # a sweep folder is read in path order: lm_* folders first, traditional models alphabetically
    results = [
        _result(model, "los", 3, 10.0)
        for model in ("lm_zero_shot", "my_model", "lm_finetuned", "svm", "adaboost", "xgboost")
    ]
    assert [row["model"] for row in summarise(results)] == [
        "xgboost",
        "adaboost",
        "svm",
        "lm_zero_shot",
        "lm_finetuned",
        "my_model",
    ]


def test_table_shows_the_language_models_parseable_share():
    results = [_result("svm", "los", 3, 10.0)] + [
        {**_result("lm_zero_shot", task, 3, 0.0), "metrics": {"f1": 0.0, "auroc": 50.0, "parseable": p}}
        for task, p in (("los", 10.0), ("mortality", 20.0), ("readmission", 60.0))
    ]
    table = markdown_table(summarise(results), "synthetic MIMIC-III-like")
    assert "| Parseable |" in table
    assert "| 50.00 ± 0.00 | 30.0 |" in table  # lm_zero_shot: readmission AUROC, then mean parseable
    assert [line for line in table.splitlines() if line.startswith("| SVM")][0].endswith("| – |")
    # a table of traditional models only has no parseable column
    assert "Parseable" not in markdown_table(summarise(results[:1]), "synthetic MIMIC-III-like")


@pytest.mark.slow
def test_benchmark_multirun_writes_results_and_table(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LAMINA_CLINICALBENCH_CACHE": str(tmp_path / "cache")}
    sweep = tmp_path / "sweep"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "lamina_clinicalbench.benchmark",
            "--multirun",
            f"hydra.sweep.dir={sweep}",
            "model=naive_bayes,logistic_regression",
            "task=mortality",
            "seed=3,5",
            "data.synthetic_patients=600",
        ],
        check=True,
        cwd=tmp_path,
        env=env,
        capture_output=True,
    )
    results = sorted(sweep.rglob("result.json"))
    assert len(results) == 4
    assert json.loads(results[0].read_text())["data"] == "synthetic MIMIC-III-like"
    table = (sweep / "results.md").read_text()
    assert "NaiveBayes (seeds: 0/2/0)" in table and "LogisticRegression" in table
    assert (sweep / "results.png").is_file()
