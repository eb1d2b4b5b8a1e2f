"""ClinicalBench's cohort and label definitions on hand-made admissions, through the real MIMIC-III loader."""

from __future__ import annotations

import pandas as pd
import pytest

from lamina_clinicalbench.cohort import (
    NO_NEXT_ADMISSION,
    age_in_years,
    build_cohort,
    los_class,
    readmission_label,
)
from lamina_clinicalbench.loader import load_mimic
from lamina_clinicalbench.testing import admission, complete_visit, write_mimic3

ADULT_DOB = "2050-06-01 00:00:00"


@pytest.mark.parametrize(("days", "expected"), [(0, 1), (7, 1), (8, 2), (14, 2), (15, 3), (40, 3)])
def test_los_class_boundaries(days, expected):
    assert los_class(days) == expected


def test_readmission_uses_whole_days_between_admission_starts():
    start = pd.Timestamp("2100-01-01 08:00")
    assert readmission_label(start, start + pd.Timedelta(days=14.9)) == 1
    assert readmission_label(start, start + pd.Timedelta(days=15)) == 0
    assert readmission_label(start, None) == NO_NEXT_ADMISSION


def test_age_counts_whole_years_even_across_300_year_dob_shift():
    assert age_in_years(pd.Timestamp("2000-06-02"), pd.Timestamp("2018-06-01")) == 17
    assert age_in_years(pd.Timestamp("2000-06-01"), pd.Timestamp("2018-06-01")) == 18
    assert age_in_years(pd.Timestamp("1800-01-01"), pd.Timestamp("2100-01-01")) == 300


def _patients(*subjects: int, dob: str = ADULT_DOB) -> list[dict]:
    return [{"ROW_ID": s, "SUBJECT_ID": s, "GENDER": "F" if s % 2 else "M", "DOB": dob} for s in subjects]


def _merge(*parts: dict[str, list[dict]]) -> dict[str, list[dict]]:
    merged: dict[str, list[dict]] = {}
    for part in parts:
        for name, rows in part.items():
            merged.setdefault(name, []).extend(rows)
    return merged


@pytest.fixture
def hand_made(tmp_path):
    admissions = [
        # 1: exactly 7 days -> LOS 1; next admission 14 days 22 h after the first starts -> readmission 1
        admission(1, 11, "2100-01-01 08:00:00", "2100-01-08 08:00:00"),
        admission(1, 12, "2100-01-16 06:00:00", "2100-01-18 08:00:00"),
        # 2: 14 days 23 h -> whole days 14 -> LOS 2; next admission exactly 15 days later -> readmission 0;
        #    dies on that later visit, which must not count as mortality of the first
        admission(2, 21, "2100-03-01 00:00:00", "2100-03-15 23:00:00"),
        admission(2, 22, "2100-03-16 00:00:00", "2100-03-20 00:00:00", died=1),
        # 3: 15 days -> LOS 3; dies in hospital on the first visit; no next admission
        admission(3, 31, "2100-05-01 00:00:00", "2100-05-16 00:00:00", died=1),
        # 4: under 18 on the first visit -> left out
        admission(4, 41, "2100-01-01 00:00:00", "2100-01-03 00:00:00"),
        # 5: first visit has no procedure -> left out, even though the later visit is complete
        admission(5, 51, "2100-01-01 00:00:00", "2100-01-03 00:00:00"),
        admission(5, 52, "2100-02-01 00:00:00", "2100-02-03 00:00:00"),
        # 6: exactly 14 days -> LOS 2 (the upper edge of the middle class)
        admission(6, 61, "2100-07-01 12:00:00", "2100-07-15 12:00:00"),
    ]
    visits = [
        complete_visit(s, h)
        for s, h in [(1, 11), (1, 12), (2, 21), (2, 22), (3, 31), (4, 41), (5, 52), (6, 61)]
    ]
    no_procedure = complete_visit(5, 51)
    no_procedure.pop("procedures")
    tables = _merge(
        {
            "admissions": admissions,
            "patients": _patients(1, 2, 3, 5, 6) + _patients(4, dob="2085-01-02 00:00:00"),
        },
        *visits,
        no_procedure,
    )
    return write_mimic3(tmp_path / "mimic", tables)


def test_cohort_and_labels_on_hand_made_admissions(hand_made):
    samples, coding, dropped = build_cohort(load_mimic(hand_made, "mimic3"))
    by_subject = {s.subject_id: s for s in samples}
    assert sorted(by_subject) == [1, 2, 3, 6]
    assert dropped["under_18"] == 1 and dropped["no_procedures"] == 1
    assert coding.scheme == "drug_name"

    first, second, third = by_subject[1], by_subject[2], by_subject[3]
    assert first.hadm_id == 11 and (first.los_days, first.los) == (7, 1)
    assert (second.los_days, second.los) == (14, 2)
    assert (third.los_days, third.los) == (15, 3)
    assert (by_subject[6].los_days, by_subject[6].los) == (14, 2)
    assert first.readmission == 1
    assert second.readmission == 0
    assert third.readmission == NO_NEXT_ADMISSION
    assert (first.mortality, second.mortality, third.mortality) == (0, 0, 1)
    assert first.conditions == ["ICD9:0389"] and first.drugs == ["DRUG:heparin"]
