"""Synthetic generator calibration, atomic cohort files, splits, drug coding and count features."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lamina_clinicalbench.cohort import TASKS, Sample
from lamina_clinicalbench.cohort_file import (
    CohortFileError,
    build_cohort_file,
    read_cohort_file,
    write_cohort_file,
)
from lamina_clinicalbench.drug_classes import code_drugs, normalise_ndc
from lamina_clinicalbench.features import CountVectorizer
from lamina_clinicalbench.splits import split_task
from lamina_clinicalbench.synthetic import (
    TARGET_PREVALENCE,
    _sigmoid,
    calibrate_intercept,
    write_synthetic_mimic,
)


@pytest.fixture(scope="module")
def synthetic_cohort(tmp_path_factory):
    folder = write_synthetic_mimic(tmp_path_factory.mktemp("syn") / "mimic3", n_patients=2500, seed=4)
    return build_cohort_file(
        folder, folder / "cohort.json", "mimic3", str(folder / "ndc_to_atc3_synthetic.csv")
    )


def test_calibrate_intercept_hits_the_target_rate():
    scores = np.random.default_rng(0).normal(0, 2, 5000)
    bias = calibrate_intercept(scores, 0.073)
    assert _sigmoid(bias + scores).mean() == pytest.approx(0.073, abs=1e-6)


def test_synthetic_cohort_is_labelled_and_near_the_papers_prevalences(synthetic_cohort):
    meta = synthetic_cohort.meta
    assert synthetic_cohort.data_label == "synthetic MIMIC-III-like"
    target = TARGET_PREVALENCE["mimic3"]
    assert abs(meta["prevalence"]["mortality"] - target["mortality"]) < 0.03
    assert abs(meta["prevalence"]["readmission"] - target["readmission"]) < 0.04
    assert meta["patients_left_out"]["under_18"] > 0 and meta["patients_left_out"]["no_procedures"] > 0
    assert (
        set(meta["prevalence"]["los"]) == {"1", "2", "3"} and min(meta["prevalence"]["los"].values()) > 0.02
    )
    assert meta["drug_scheme"] == "atc3"


def test_splits_balance_training_only_and_follow_the_seed(synthetic_cohort):
    samples = synthetic_cohort.samples
    for task in TASKS:
        split = split_task(samples, task, seed=7)
        train_labels = [s.label(task) for s in split.train]
        assert len(set(np.unique(train_labels, return_counts=True)[1])) == 1  # balanced
        ids = [s.subject_id for s in split.train + split.val + split.test]
        assert len(ids) == len(set(ids))
        assert [s.subject_id for s in split_task(samples, task, seed=7).test] == [
            s.subject_id for s in split.test
        ]
    readmission = split_task(samples, "readmission", 3)
    assert all(s.readmission in (0, 1) for s in readmission.test)
    assert split_task(samples, "mortality", 3).test != split_task(samples, "mortality", 5).test


def test_count_features_cap_vocabulary_and_add_demographics():
    samples = [
        Sample(
            i, i, 50 + i, "M" if i % 2 else "F", ["a", "a", "b"] if i else ["c"], ["p"], ["d"], 2, 1, 0, -1
        )
        for i in range(4)
    ]
    vectorizer = CountVectorizer(max_codes=1).fit(samples)
    assert vectorizer.vocabularies["conditions"] == {"a": 0}
    matrix = vectorizer.transform(samples)
    assert matrix.shape == (4, 5)
    assert matrix[1].tolist() == pytest.approx([2, 1, 1, 0.51, 1])
    assert matrix[0, 0] == 0  # "c" is outside the capped vocabulary


def test_cohort_file_is_checked_and_a_failed_write_keeps_the_old_file(synthetic_cohort, tmp_path):
    path = tmp_path / "cohort.json"
    write_cohort_file(path, synthetic_cohort)
    assert len(read_cohort_file(path).samples) == len(synthetic_cohort.samples)
    bad = read_cohort_file(path)
    bad.samples.append(bad.samples[0])  # the same patient twice
    with pytest.raises(CohortFileError, match="appears twice"):
        write_cohort_file(path, bad)
    assert len(read_cohort_file(path).samples) == len(synthetic_cohort.samples)
    assert [p.name for p in tmp_path.iterdir()] == ["cohort.json"]  # no temp file left behind
    payload = json.loads(path.read_text())
    payload["samples"][0]["los"] = 4
    path.write_text(json.dumps(payload))
    with pytest.raises(CohortFileError, match="los label 4"):
        read_cohort_file(path)


def test_drug_coding_with_and_without_an_atc_map(tmp_path):
    rows = pd.DataFrame(
        {
            "subject_id": [1, 1, 2],
            "hadm_id": [10, 10, 20],
            "drug": ["Heparin", "Mystery", ""],
            "ndc": ["641040025", "99999999999", ""],
        }
    )
    mapping = tmp_path / "map.csv"
    mapping.write_text("ndc,atc3,atc3_name\n00641040025,B01A,ANTITHROMBOTIC AGENTS\n")
    coded, coding = code_drugs(rows, str(mapping))
    assert coded["key"].tolist() == ["ATC3:B01A"] and coding.unmapped_rows == 2
    assert coding.titles == {"ATC3:B01A": "ANTITHROMBOTIC AGENTS"}
    by_name, name_coding = code_drugs(rows, None)
    assert by_name["key"].tolist() == ["DRUG:heparin", "DRUG:mystery"] and name_coding.scheme == "drug_name"
    assert normalise_ndc(641040025) == "00641040025" and normalise_ndc("0") == ""
    (tmp_path / "wrong.csv").write_text("code,atc\n1,B01A\n")
    with pytest.raises(ValueError, match="column 'ndc' is missing"):
        code_drugs(rows, str(tmp_path / "wrong.csv"))
