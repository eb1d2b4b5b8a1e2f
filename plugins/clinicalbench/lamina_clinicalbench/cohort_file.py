"""The cohort on disk: one JSON file, written atomically and checked before it replaces an older one.

Building the cohort from MIMIC takes minutes on the real data, so every benchmark job reads this file instead. A
crash mid-write must never leave a truncated cohort that a later job would silently use: the file is written
to a temporary name, read back and validated, then moved into place with ``os.replace``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamina_clinicalbench.cohort import (
    LABEL_VALUES,
    NO_NEXT_ADMISSION,
    TASKS,
    Sample,
    build_cohort,
    sample_to_dict,
)
from lamina_clinicalbench.loader import EHRTables, load_mimic

FORMAT_VERSION = 1


class CohortFileError(ValueError):
    """A cohort file is unreadable or fails its checks."""


@dataclass
class Cohort:
    """The samples plus what prompts and reports need: code titles and where the data came from."""

    samples: list[Sample]
    titles: dict[str, str]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic"))

    @property
    def data_label(self) -> str:
        """How reports name the data, e.g. ``"synthetic MIMIC-III-like"``."""
        name = {"mimic3": "MIMIC-III", "mimic4": "MIMIC-IV"}.get(self.meta.get("version", ""), "MIMIC")
        return f"synthetic {name}-like" if self.synthetic else name


def validate_cohort(payload: dict[str, Any], where: str) -> None:
    """Check the invariants every consumer relies on; raise naming the first problem."""
    if payload.get("format_version") != FORMAT_VERSION:
        raise CohortFileError(
            f"{where}: format_version {payload.get('format_version')!r} != {FORMAT_VERSION}; "
            "rebuild it with `lamina clinicalbench cohort`."
        )
    samples = payload.get("samples")
    if not isinstance(samples, list) or not samples:
        raise CohortFileError(f"{where}: no samples. Check the MIMIC folder (is PRESCRIPTIONS empty?).")
    subjects = set()
    for index, sample in enumerate(samples):
        problem = None
        if sample["subject_id"] in subjects:
            problem = f"subject {sample['subject_id']} appears twice (one sample per patient)"
        elif sample["age"] < 18:
            problem = f"age {sample['age']} < 18"
        elif not (sample["conditions"] and sample["procedures"] and sample["drugs"]):
            problem = "a visit without diagnoses, procedures or drugs"
        else:
            for task in TASKS:
                allowed = LABEL_VALUES[task] + ((NO_NEXT_ADMISSION,) if task == "readmission" else ())
                if sample[task] not in allowed:
                    problem = f"{task} label {sample[task]!r} not in {allowed}"
        if problem:
            raise CohortFileError(f"{where}: sample {index}: {problem}.")
        subjects.add(sample["subject_id"])


def write_cohort_file(path: str | Path, cohort: Cohort) -> Path:
    """Write ``cohort`` atomically: temp file in the same folder, read back, validate, ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "meta": cohort.meta,
        "titles": cohort.titles,
        "samples": [sample_to_dict(s) for s in cohort.samples],
    }
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        with open(temp_name) as stream:
            validate_cohort(json.load(stream), temp_name)
        os.chmod(temp_name, 0o644)  # mkstemp creates 0600
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def read_cohort_file(path: str | Path) -> Cohort:
    """Read and validate a cohort file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"cohort file {path} does not exist; build it with `lamina clinicalbench cohort`."
        )
    try:
        payload = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise CohortFileError(f"{path}: not valid JSON ({error}); rebuild it.") from error
    validate_cohort(payload, str(path))
    return Cohort([Sample(**s) for s in payload["samples"]], payload["titles"], payload["meta"])


def cohort_from_tables(tables: EHRTables, drug_map: str | None = None) -> Cohort:
    """Build the cohort and the metadata reports need (source, synthetic or not, who was left out)."""
    samples, drug_coding, dropped = build_cohort(tables, drug_map)
    titles = {**tables.diagnosis_titles, **tables.procedure_titles, **drug_coding.titles}
    used = {code for s in samples for code in s.conditions + s.procedures + s.drugs}
    readmission = [s.readmission for s in samples if s.readmission != NO_NEXT_ADMISSION]
    meta = {
        "version": tables.version,
        "source": tables.source,
        "synthetic": tables.synthetic,
        "drug_scheme": drug_coding.scheme,
        "unmapped_prescription_rows": drug_coding.unmapped_rows,
        "patients_left_out": dropped,
        "samples": len(samples),
        "prevalence": {
            "mortality": sum(s.mortality for s in samples) / max(len(samples), 1),
            "readmission": sum(readmission) / max(len(readmission), 1),
            "los": {str(c): sum(s.los == c for s in samples) / max(len(samples), 1) for c in (1, 2, 3)},
        },
    }
    return Cohort(samples, {code: titles.get(code, code) for code in sorted(used)}, meta)


def build_cohort_file(
    mimic_dir: str | Path, out: str | Path, version: str = "mimic3", drug_map: str | None = None
) -> Cohort:
    """Load MIMIC (or a synthetic folder), build the cohort and write it atomically to ``out``."""
    cohort = cohort_from_tables(load_mimic(mimic_dir, version), drug_map)
    write_cohort_file(out, cohort)
    return cohort
