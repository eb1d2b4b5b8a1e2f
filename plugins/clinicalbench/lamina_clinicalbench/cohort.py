"""The ClinicalBench cohort and its three labels, with the paper's exact arithmetic.

- One sample per patient: the patient's first admission (earliest ADMITTIME). The patient is left out when that
  visit's age is under 18 or it lacks diagnoses, procedures or drugs (the sample is the first visit, never a later
  one standing in for it).
- Length of stay: whole days of DISCHTIME - ADMITTIME (floored, like ``timedelta.days``); class 1 if <= 7, 2 if
  7 < d <= 14, 3 if > 14.
- Mortality: HOSPITAL_EXPIRE_FLAG of that first visit (a death on a later visit does not count).
- Readmission: only patients with a next admission get a label; 1 if whole days of (next ADMITTIME - first
  ADMITTIME) < 15, i.e. 14.9 days is a readmission and 15.0 is not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from lamina_clinicalbench.drug_classes import DrugCoding, code_drugs
from lamina_clinicalbench.loader import EHRTables

TASKS = ("los", "mortality", "readmission")
LABEL_VALUES = {"los": (1, 2, 3), "mortality": (0, 1), "readmission": (0, 1)}
NO_NEXT_ADMISSION = -1
"""Readmission label of a patient without a next admission: not part of the readmission task."""


@dataclass
class Sample:
    """One patient's first visit with its features and labels."""

    subject_id: int
    hadm_id: int
    age: int
    gender: str
    conditions: list[str]
    procedures: list[str]
    drugs: list[str]
    los_days: int
    los: int
    mortality: int
    readmission: int

    def label(self, task: str) -> int:
        return int(getattr(self, task))


def whole_days(delta: pd.Timedelta) -> int:
    """Floored whole days of a time difference (``timedelta.days``): 7 days 23 h -> 7."""
    return int(delta.days)


def los_class(days: int) -> int:
    """Length-of-stay class: 1 (<= 7 days), 2 (8-14), 3 (> 14)."""
    if days <= 7:
        return 1
    if days <= 14:
        return 2
    return 3


def readmission_label(index_admit: pd.Timestamp, next_admit: pd.Timestamp | None) -> int:
    """1 if the next admission starts fewer than 15 whole days after the first one started; -1 if there is none."""
    if next_admit is None or pd.isna(next_admit):
        return NO_NEXT_ADMISSION
    return int(whole_days(next_admit - index_admit) < 15)


def age_in_years(birth: pd.Timestamp, when: pd.Timestamp) -> int:
    """Whole years from ``birth`` to ``when``, from calendar fields (MIMIC-III shifts DOB of >89s by 300 years,
    which overflows nanosecond differences)."""
    return when.year - birth.year - int((when.month, when.day) < (birth.month, birth.day))


def _codes_by_admission(frame: pd.DataFrame, column: str) -> dict[int, list[str]]:
    return {int(hadm): list(group) for hadm, group in frame.groupby("hadm_id", sort=False)[column]}


def build_cohort(
    tables: EHRTables, drug_map: str | None = None
) -> tuple[list[Sample], DrugCoding, dict[str, int]]:
    """Build the cohort. Returns the samples, how drugs were coded, and counts of who was left out and why."""
    admissions = tables.admissions.sort_values(["subject_id", "admittime", "hadm_id"], kind="stable")
    admissions = admissions.assign(next_admittime=admissions.groupby("subject_id")["admittime"].shift(-1))
    first = admissions.groupby("subject_id", sort=True).head(1)
    birth = dict(zip(tables.patients["subject_id"], tables.patients["birth_date"], strict=True))
    gender = dict(zip(tables.patients["subject_id"], tables.patients["gender"], strict=True))

    diagnoses = _codes_by_admission(tables.diagnoses, "code")
    procedures = _codes_by_admission(tables.procedures, "code")
    drug_rows, drug_coding = code_drugs(tables.prescriptions, drug_map)
    drugs = _codes_by_admission(drug_rows, "key")

    dropped = {"no_patient_row": 0, "under_18": 0, "no_diagnoses": 0, "no_procedures": 0, "no_drugs": 0}
    samples: list[Sample] = []
    for row in first.itertuples(index=False):
        subject, hadm = int(row.subject_id), int(row.hadm_id)
        if subject not in birth:
            dropped["no_patient_row"] += 1
            continue
        age = age_in_years(birth[subject], row.admittime)
        if age < 18:
            dropped["under_18"] += 1
            continue
        visit_codes = {
            "diagnoses": diagnoses.get(hadm, []),
            "procedures": procedures.get(hadm, []),
            "drugs": drugs.get(hadm, []),
        }
        empty = [name for name, codes in visit_codes.items() if not codes]
        if empty:
            dropped[f"no_{empty[0]}"] += 1
            continue
        days = whole_days(row.dischtime - row.admittime)
        samples.append(
            Sample(
                subject_id=subject,
                hadm_id=hadm,
                age=age,
                gender=str(gender[subject]),
                conditions=visit_codes["diagnoses"],
                procedures=visit_codes["procedures"],
                drugs=visit_codes["drugs"],
                los_days=days,
                los=los_class(days),
                mortality=int(row.hospital_expire_flag),
                readmission=readmission_label(row.admittime, row.next_admittime),
            )
        )
    return samples, drug_coding, dropped


def task_samples(samples: list[Sample], task: str) -> list[Sample]:
    """The samples that take part in ``task`` (readmission: only patients with a next admission)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    if task == "readmission":
        return [s for s in samples if s.readmission != NO_NEXT_ADMISSION]
    return list(samples)


def sample_to_dict(sample: Sample) -> dict:
    return asdict(sample)
