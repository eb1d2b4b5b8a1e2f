"""Helpers to write small MIMIC-III folders in the real column layout (used by the tests; handy for users too)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lamina_clinicalbench.schema import MIMIC3_TABLES


def write_mimic3(folder: Path, tables: dict[str, list[dict]], suffix: str = ".csv.gz") -> Path:
    """Write each table with its full PhysioNet header (missing cells empty); tables not given get defaults."""
    folder.mkdir(parents=True, exist_ok=True)
    defaults = {
        "diagnosis_titles": [
            {"ICD9_CODE": "4019", "LONG_TITLE": "Unspecified essential hypertension"},
            {"ICD9_CODE": "0389", "LONG_TITLE": "Unspecified septicemia"},
        ],
        "procedure_titles": [
            {"ICD9_CODE": "3893", "LONG_TITLE": "Venous catheterization, not elsewhere classified"}
        ],
    }
    for name, spec in MIMIC3_TABLES.items():
        rows = tables.get(name, defaults.get(name, []))
        frame = pd.DataFrame(rows).reindex(columns=list(spec.columns))
        frame.to_csv(folder / f"{spec.stem}{suffix}", index=False)
    return folder


def admission(subject: int, hadm: int, admit: str, discharge: str, died: int = 0) -> dict:
    return {
        "ROW_ID": hadm,
        "SUBJECT_ID": subject,
        "HADM_ID": hadm,
        "ADMITTIME": admit,
        "DISCHTIME": discharge,
        "HOSPITAL_EXPIRE_FLAG": died,
    }


def complete_visit(subject: int, hadm: int) -> dict[str, list[dict]]:
    """One diagnosis, procedure and drug for an admission."""
    return {
        "diagnoses": [{"SUBJECT_ID": subject, "HADM_ID": hadm, "SEQ_NUM": 1, "ICD9_CODE": "0389"}],
        "procedures": [{"SUBJECT_ID": subject, "HADM_ID": hadm, "SEQ_NUM": 1, "ICD9_CODE": "3893"}],
        "prescriptions": [{"SUBJECT_ID": subject, "HADM_ID": hadm, "DRUG": "Heparin", "NDC": "00641040025"}],
    }
