"""The MIMIC loader on .csv.gz files in the real column layouts, and its errors."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from lamina_clinicalbench.cohort_file import cohort_from_tables
from lamina_clinicalbench.loader import MimicColumnError, MimicFileError, load_mimic
from lamina_clinicalbench.schema import MIMIC3_TABLES, MIMIC4_TABLES
from lamina_clinicalbench.synthetic import write_synthetic_mimic
from lamina_clinicalbench.testing import admission, complete_visit, write_mimic3


def _small_mimic3(tmp_path, suffix=".csv.gz"):
    tables = {
        "admissions": [admission(7, 70, "2150-01-01 10:00:00", "2150-01-05 09:00:00")],
        "patients": [{"SUBJECT_ID": 7, "GENDER": "M", "DOB": "2080-01-01 00:00:00"}],
        **complete_visit(7, 70),
    }
    return write_mimic3(tmp_path / "mimic", tables, suffix)


def test_reads_gzipped_mimic3_and_keeps_leading_zeros(tmp_path):
    folder = _small_mimic3(tmp_path)
    with gzip.open(folder / "DIAGNOSES_ICD.csv.gz", "rt") as stream:
        assert stream.readline().strip() == ",".join(MIMIC3_TABLES["diagnoses"].columns)
    tables = load_mimic(folder, "mimic3")
    assert tables.diagnoses["code"].tolist() == ["ICD9:0389"]
    assert tables.prescriptions["ndc"].tolist() == ["00641040025"]
    assert tables.diagnosis_titles["ICD9:0389"] == "Unspecified septicemia"
    assert tables.admissions["admittime"].iloc[0] == pd.Timestamp("2150-01-01 10:00:00")
    assert not tables.synthetic


def test_plain_csv_works_too(tmp_path):
    assert len(load_mimic(_small_mimic3(tmp_path, ".csv"), "mimic3").admissions) == 1


def test_missing_file_names_the_table(tmp_path):
    folder = _small_mimic3(tmp_path)
    (folder / "PRESCRIPTIONS.csv.gz").unlink()
    with pytest.raises(MimicFileError, match="PRESCRIPTIONS"):
        load_mimic(folder, "mimic3")


def test_missing_column_names_file_and_column(tmp_path):
    folder = _small_mimic3(tmp_path)
    path = folder / "ADMISSIONS.csv.gz"
    pd.read_csv(path).drop(columns=["DISCHTIME"]).to_csv(path, index=False)
    with pytest.raises(MimicColumnError, match=r"ADMISSIONS\.csv\.gz: column 'DISCHTIME' is missing"):
        load_mimic(folder, "mimic3")


def test_bad_timestamp_names_file_and_column(tmp_path):
    folder = _small_mimic3(tmp_path)
    path = folder / "ADMISSIONS.csv.gz"
    frame = pd.read_csv(path)
    frame.loc[0, "ADMITTIME"] = "yesterday"
    frame.to_csv(path, index=False)
    with pytest.raises(MimicColumnError, match="'ADMITTIME'.*'yesterday'"):
        load_mimic(folder, "mimic3")


def test_mimic4_layout_from_synthetic_generator(tmp_path):
    folder = write_synthetic_mimic(tmp_path / "m4", n_patients=300, version="mimic4", seed=1)
    for spec in MIMIC4_TABLES.values():
        header = pd.read_csv(folder / "hosp" / f"{spec.stem}.csv.gz", nrows=0).columns.tolist()
        assert header == list(spec.columns)
    tables = load_mimic(folder, "mimic4")
    assert tables.synthetic
    assert {code.split(":")[0] for code in tables.diagnoses["code"]} == {"ICD9", "ICD10"}
    # MIMIC-IV birthday convention: 4 September of anchor_year - anchor_age
    assert set(tables.patients["birth_date"].dt.strftime("%m-%d")) == {"09-04"}
    cohort = cohort_from_tables(tables, drug_map=str(folder / "ndc_to_atc3_synthetic.csv"))
    assert cohort.data_label == "synthetic MIMIC-IV-like"
    assert all(code.startswith("ATC3:") for s in cohort.samples for code in s.drugs)
