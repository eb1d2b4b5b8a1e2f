"""The MIMIC tables ClinicalBench reads, with the file names and columns PhysioNet distributes.

One description serves both the loader (which columns must exist) and the synthetic generator (which columns it
writes, in which order), so a synthetic folder is, by construction, laid out like a real download.
"""

from __future__ import annotations

from dataclasses import dataclass

MIMIC_VERSIONS = ("mimic3", "mimic4")


@dataclass(frozen=True)
class TableSpec:
    """One MIMIC table: its file stem (``ADMISSIONS`` -> ``ADMISSIONS.csv.gz``) and its full column list.

    ``required`` are the columns ClinicalBench uses; the loader checks only these, so an extract that dropped an
    unused column still loads. ``columns`` is the complete PhysioNet header, written by the synthetic generator.
    """

    stem: str
    columns: tuple[str, ...]
    required: tuple[str, ...]


MIMIC3_TABLES: dict[str, TableSpec] = {
    "admissions": TableSpec(
        "ADMISSIONS",
        (
            "ROW_ID",
            "SUBJECT_ID",
            "HADM_ID",
            "ADMITTIME",
            "DISCHTIME",
            "DEATHTIME",
            "ADMISSION_TYPE",
            "ADMISSION_LOCATION",
            "DISCHARGE_LOCATION",
            "INSURANCE",
            "LANGUAGE",
            "RELIGION",
            "MARITAL_STATUS",
            "ETHNICITY",
            "EDREGTIME",
            "EDOUTTIME",
            "DIAGNOSIS",
            "HOSPITAL_EXPIRE_FLAG",
            "HAS_CHARTEVENTS_DATA",
        ),
        ("SUBJECT_ID", "HADM_ID", "ADMITTIME", "DISCHTIME", "HOSPITAL_EXPIRE_FLAG"),
    ),
    "patients": TableSpec(
        "PATIENTS",
        ("ROW_ID", "SUBJECT_ID", "GENDER", "DOB", "DOD", "DOD_HOSP", "DOD_SSN", "EXPIRE_FLAG"),
        ("SUBJECT_ID", "GENDER", "DOB"),
    ),
    "diagnoses": TableSpec(
        "DIAGNOSES_ICD",
        ("ROW_ID", "SUBJECT_ID", "HADM_ID", "SEQ_NUM", "ICD9_CODE"),
        ("SUBJECT_ID", "HADM_ID", "ICD9_CODE"),
    ),
    "procedures": TableSpec(
        "PROCEDURES_ICD",
        ("ROW_ID", "SUBJECT_ID", "HADM_ID", "SEQ_NUM", "ICD9_CODE"),
        ("SUBJECT_ID", "HADM_ID", "ICD9_CODE"),
    ),
    "prescriptions": TableSpec(
        "PRESCRIPTIONS",
        (
            "ROW_ID",
            "SUBJECT_ID",
            "HADM_ID",
            "ICUSTAY_ID",
            "STARTDATE",
            "ENDDATE",
            "DRUG_TYPE",
            "DRUG",
            "DRUG_NAME_POE",
            "DRUG_NAME_GENERIC",
            "FORMULARY_DRUG_CD",
            "GSN",
            "NDC",
            "PROD_STRENGTH",
            "DOSE_VAL_RX",
            "DOSE_UNIT_RX",
            "FORM_VAL_DISP",
            "FORM_UNIT_DISP",
            "ROUTE",
        ),
        ("SUBJECT_ID", "HADM_ID", "DRUG", "NDC"),
    ),
    "diagnosis_titles": TableSpec(
        "D_ICD_DIAGNOSES",
        ("ROW_ID", "ICD9_CODE", "SHORT_TITLE", "LONG_TITLE"),
        ("ICD9_CODE", "LONG_TITLE"),
    ),
    "procedure_titles": TableSpec(
        "D_ICD_PROCEDURES",
        ("ROW_ID", "ICD9_CODE", "SHORT_TITLE", "LONG_TITLE"),
        ("ICD9_CODE", "LONG_TITLE"),
    ),
}

MIMIC4_TABLES: dict[str, TableSpec] = {
    "admissions": TableSpec(
        "admissions",
        (
            "subject_id",
            "hadm_id",
            "admittime",
            "dischtime",
            "deathtime",
            "admission_type",
            "admit_provider_id",
            "admission_location",
            "discharge_location",
            "insurance",
            "language",
            "marital_status",
            "race",
            "edregtime",
            "edouttime",
            "hospital_expire_flag",
        ),
        ("subject_id", "hadm_id", "admittime", "dischtime", "hospital_expire_flag"),
    ),
    "patients": TableSpec(
        "patients",
        ("subject_id", "gender", "anchor_age", "anchor_year", "anchor_year_group", "dod"),
        ("subject_id", "gender", "anchor_age", "anchor_year"),
    ),
    "diagnoses": TableSpec(
        "diagnoses_icd",
        ("subject_id", "hadm_id", "seq_num", "icd_code", "icd_version"),
        ("subject_id", "hadm_id", "icd_code", "icd_version"),
    ),
    "procedures": TableSpec(
        "procedures_icd",
        ("subject_id", "hadm_id", "seq_num", "chartdate", "icd_code", "icd_version"),
        ("subject_id", "hadm_id", "icd_code", "icd_version"),
    ),
    "prescriptions": TableSpec(
        "prescriptions",
        (
            "subject_id",
            "hadm_id",
            "pharmacy_id",
            "poe_id",
            "poe_seq",
            "order_provider_id",
            "starttime",
            "stoptime",
            "drug_type",
            "drug",
            "formulary_drug_cd",
            "gsn",
            "ndc",
            "prod_strength",
            "form_rx",
            "dose_val_rx",
            "dose_unit_rx",
            "form_val_disp",
            "form_unit_disp",
            "doses_per_24_hrs",
            "route",
        ),
        ("subject_id", "hadm_id", "drug", "ndc"),
    ),
    "diagnosis_titles": TableSpec(
        "d_icd_diagnoses",
        ("icd_code", "icd_version", "long_title"),
        ("icd_code", "icd_version", "long_title"),
    ),
    "procedure_titles": TableSpec(
        "d_icd_procedures",
        ("icd_code", "icd_version", "long_title"),
        ("icd_code", "icd_version", "long_title"),
    ),
}


def tables_for(version: str) -> dict[str, TableSpec]:
    """The table specs of ``version`` (``"mimic3"`` or ``"mimic4"``)."""
    if version == "mimic3":
        return MIMIC3_TABLES
    if version == "mimic4":
        return MIMIC4_TABLES
    raise ValueError(f"unknown MIMIC version {version!r}; expected one of {MIMIC_VERSIONS}")


def code_key(code: str, icd_version: int | str) -> str:
    """A vocabulary key that keeps ICD-9 and ICD-10 apart (MIMIC-IV mixes both; some strings exist in both)."""
    return f"ICD{int(icd_version)}:{str(code).strip()}"
