"""A schema-true synthetic EHR: writes MIMIC-III or MIMIC-IV ``hosp`` files that the real loader reads.

SYNTHETIC DATA, NOT PATIENT DATA. The folder gets a ``SYNTHETIC_EHR.txt`` marker, so every cohort, table and
README built from it says "synthetic".

Structure: each patient has one to three comorbidity clusters (likelier with age where the cluster says so); every
admission codes diagnoses, procedures and drugs drawn from those clusters plus background codes. Outcomes depend
on the clusters, the number of codes and age, so models have a signal to learn. Intercepts are calibrated (by
bisection on the expected rate over the patients who will enter the cohort) so the cohort's prevalences match
the paper's test sets: mortality 11.7% (MIMIC-III) / 3.5% (MIMIC-IV), readmission 7.3% / 14.2%. Some patients are
under 18 and some visits lack procedures or drugs, so cohort filtering has work to do, as on the real data.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lamina_clinicalbench.loader import SYNTHETIC_MARKER
from lamina_clinicalbench.schema import tables_for
from lamina_clinicalbench.synthetic_vocabulary import (
    BACKGROUND_DIAGNOSES,
    BACKGROUND_DRUGS,
    BACKGROUND_PROCEDURES,
    CLUSTERS,
    all_diagnoses,
    all_drugs,
    all_procedures,
    synthetic_ndc,
)

TARGET_PREVALENCE = {
    "mimic3": {"mortality": 0.117, "readmission": 0.073},
    "mimic4": {"mortality": 0.035, "readmission": 0.142},
}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class Admission:
    hadm_id: int
    admit: pd.Timestamp
    discharge: pd.Timestamp
    died: int
    icd_version: int
    diagnoses: list[tuple[str, str, str]]
    procedures: list[tuple[str, str, str]]
    drugs: list[tuple[str, str, str]]


@dataclass
class Patient:
    subject_id: int
    gender: str
    birth: pd.Timestamp
    age: int
    clusters: list[int]
    admissions: list[Admission] = field(default_factory=list)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def calibrate_intercept(scores: np.ndarray, target: float) -> float:
    """The intercept ``b`` with mean(sigmoid(b + scores)) == target, by bisection (the mean is monotone in b)."""
    low, high = -30.0, 30.0
    for _ in range(100):
        middle = (low + high) / 2
        if _sigmoid(middle + scores).mean() < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _pick(rng: np.random.Generator, items: tuple | list, low: int, high: int) -> list:
    count = min(int(rng.integers(low, high + 1)), len(items))
    return [items[i] for i in rng.choice(len(items), size=count, replace=False)] if count else []


def _visit_codes(rng: np.random.Generator, clusters: list[int]) -> tuple[list, list, list]:
    diagnoses, procedures, drugs = [], [], []
    for index in clusters:
        cluster = CLUSTERS[index]
        diagnoses += _pick(rng, cluster.diagnoses, 1, 3)
        procedures += _pick(rng, cluster.procedures, 0, 2)
        drugs += _pick(rng, cluster.drugs, 1, 3)
    diagnoses += _pick(rng, BACKGROUND_DIAGNOSES, 0, 3)
    procedures += _pick(rng, BACKGROUND_PROCEDURES, 0, 1)
    drugs += _pick(rng, BACKGROUND_DRUGS, 1, 4)
    if rng.random() < 0.10:  # real admissions without any ICD procedure are common
        procedures = []
    if rng.random() < 0.03:
        drugs = []
    return diagnoses, procedures, drugs


def _draw_patients(rng: np.random.Generator, n: int, version: str) -> list[Patient]:
    patients = []
    for i in range(n):
        age = 0 if rng.random() < 0.06 else int(np.clip(rng.normal(63, 17), 18, 91))
        if 0 < age < 18:
            age = 18
        if age == 0 and rng.random() < 0.3:
            age = int(rng.integers(1, 18))
        weights = np.array([np.exp(c.age_affinity * (age - 60) / 25) for c in CLUSTERS])
        count = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
        clusters = sorted(
            rng.choice(len(CLUSTERS), size=count, replace=False, p=weights / weights.sum()).tolist()
        )
        year = int(rng.integers(2110, 2190)) if version == "mimic4" else int(rng.integers(2100, 2200))
        admit = pd.Timestamp(
            year=year,
            month=int(rng.integers(1, 13)),
            day=int(rng.integers(1, 29)),
            hour=int(rng.integers(0, 24)),
            minute=int(rng.integers(0, 60)),
        )
        if version == "mimic4":
            birth = pd.Timestamp(
                year=admit.year - age - int((admit.month, admit.day) < (9, 4)), month=9, day=4
            )
        else:
            birth = pd.Timestamp(year=admit.year - age, month=1, day=1) - pd.Timedelta(
                days=int(rng.integers(0, 365))
            )
            if (admit.year - birth.year - int((admit.month, admit.day) < (birth.month, birth.day))) != age:
                birth = pd.Timestamp(year=admit.year - age, month=1, day=1)
        patient = Patient(100 + i, "M" if rng.random() < 0.56 else "F", birth, age, clusters)
        patient.admissions.append(
            Admission(0, admit, admit, 0, _icd_version(rng, version), *_visit_codes(rng, clusters))
        )
        patients.append(patient)
    return patients


def _icd_version(rng: np.random.Generator, version: str) -> int:
    return 9 if version == "mimic3" or rng.random() < 0.5 else 10


def _severity(patient: Patient, attribute: str) -> float:
    first = patient.admissions[0]
    return (
        sum(getattr(CLUSTERS[c], attribute) for c in patient.clusters)
        + 0.03 * (patient.age - 60)
        + 0.08 * (len(first.diagnoses) - 5)
    )


def _eligible(patient: Patient) -> bool:
    first = patient.admissions[0]
    return patient.age >= 18 and bool(first.diagnoses and first.procedures and first.drugs)


def generate_patients(n_patients: int, version: str = "mimic3", seed: int = 0) -> list[Patient]:
    """Draw patients, their admissions and outcomes, with calibrated prevalences among cohort patients."""
    rng = np.random.default_rng(seed)
    patients = _draw_patients(rng, n_patients, version)
    target = TARGET_PREVALENCE[version]
    eligible = np.array([_eligible(p) for p in patients])

    mortality_scores = np.array([1.6 * _severity(p, "mortality_risk") for p in patients])
    mortality_bias = calibrate_intercept(mortality_scores[eligible], target["mortality"])
    died = rng.random(n_patients) < _sigmoid(mortality_bias + mortality_scores)

    los_scores = np.array([_severity(p, "los_risk") for p in patients])
    los_days = np.exp(1.2 + 0.55 * los_scores + rng.normal(0, 0.35, n_patients))
    los_days = np.clip(los_days, 0.1, 120.0)

    extra_visits = rng.geometric(0.55, n_patients) - 1  # most patients have a single admission
    has_next = (~died) & (extra_visits > 0) & (los_days < 14.0)
    long_stay_next = (~died) & (extra_visits > 0) & (los_days >= 14.0)
    readmission_scores = np.array([1.2 * _severity(p, "readmission_risk") for p in patients])
    pool = eligible & (has_next | long_stay_next)
    # Stays of 14+ days cannot be followed within 15 days of admission; calibrate so the whole pool hits target.
    feasible_share = (eligible & has_next).sum() / max(pool.sum(), 1)
    readmission_bias = calibrate_intercept(
        readmission_scores[eligible & has_next], min(target["readmission"] / max(feasible_share, 1e-6), 0.99)
    )
    readmitted = has_next & (rng.random(n_patients) < _sigmoid(readmission_bias + readmission_scores))

    hadm_id = 100000
    for index, patient in enumerate(patients):
        first = patient.admissions[0]
        first.hadm_id = hadm_id
        hadm_id += 1
        first.discharge = first.admit + pd.Timedelta(days=float(los_days[index]))
        first.died = int(died[index])
        previous_admit, previous_discharge = first.admit, first.discharge
        for visit in range(int(extra_visits[index]) if not died[index] else 0):
            if visit == 0 and readmitted[index]:
                earliest = (previous_discharge - previous_admit).total_seconds() / 86400 + 0.2
                gap = rng.uniform(earliest, 14.99)
            elif visit == 0:
                gap = rng.uniform(max(15.0, (previous_discharge - previous_admit).days + 1.0), 900.0)
            else:
                gap = (previous_discharge - previous_admit).total_seconds() / 86400 + rng.uniform(1.0, 600.0)
            admit = previous_admit + pd.Timedelta(days=float(gap))
            stay = pd.Timedelta(days=float(np.clip(rng.lognormal(1.3, 0.6), 0.2, 60)))
            later_death = int(visit == int(extra_visits[index]) - 1 and rng.random() < 0.08)
            patient.admissions.append(
                Admission(
                    hadm_id,
                    admit,
                    admit + stay,
                    later_death,
                    _icd_version(rng, version),
                    *_visit_codes(rng, patient.clusters),
                )
            )
            hadm_id += 1
            previous_admit, previous_discharge = admit, admit + stay
    return patients


def _fmt(stamp: pd.Timestamp | None) -> str:
    return "" if stamp is None else stamp.strftime(TIME_FORMAT)


def _tables_mimic3(patients: list[Patient]) -> dict[str, pd.DataFrame]:
    admissions, people, diagnoses, procedures, prescriptions = [], [], [], [], []
    for p in patients:
        last_death = next((a.discharge for a in p.admissions if a.died), None)
        people.append(
            {
                "SUBJECT_ID": p.subject_id,
                "GENDER": p.gender,
                "DOB": _fmt(p.birth),
                "DOD": _fmt(last_death),
                "DOD_HOSP": _fmt(last_death),
                "DOD_SSN": "",
                "EXPIRE_FLAG": int(last_death is not None),
            }
        )
        for a in p.admissions:
            admissions.append(
                {
                    "SUBJECT_ID": p.subject_id,
                    "HADM_ID": a.hadm_id,
                    "ADMITTIME": _fmt(a.admit),
                    "DISCHTIME": _fmt(a.discharge),
                    "DEATHTIME": _fmt(a.discharge) if a.died else "",
                    "ADMISSION_TYPE": "EMERGENCY",
                    "ADMISSION_LOCATION": "EMERGENCY ROOM ADMIT",
                    "DISCHARGE_LOCATION": "DEAD/EXPIRED" if a.died else "HOME",
                    "INSURANCE": "Medicare",
                    "LANGUAGE": "ENGL",
                    "RELIGION": "NOT SPECIFIED",
                    "MARITAL_STATUS": "MARRIED",
                    "ETHNICITY": "WHITE",
                    "EDREGTIME": "",
                    "EDOUTTIME": "",
                    "DIAGNOSIS": a.diagnoses[0][2].upper() if a.diagnoses else "",
                    "HOSPITAL_EXPIRE_FLAG": a.died,
                    "HAS_CHARTEVENTS_DATA": 1,
                }
            )
            for seq, code in enumerate(a.diagnoses, 1):
                diagnoses.append(
                    {"SUBJECT_ID": p.subject_id, "HADM_ID": a.hadm_id, "SEQ_NUM": seq, "ICD9_CODE": code[0]}
                )
            for seq, code in enumerate(a.procedures, 1):
                procedures.append(
                    {"SUBJECT_ID": p.subject_id, "HADM_ID": a.hadm_id, "SEQ_NUM": seq, "ICD9_CODE": code[0]}
                )
            for drug in a.drugs:
                prescriptions.append(
                    {
                        "SUBJECT_ID": p.subject_id,
                        "HADM_ID": a.hadm_id,
                        "STARTDATE": _fmt(a.admit.normalize()),
                        "ENDDATE": _fmt(a.discharge.normalize()),
                        "DRUG_TYPE": "MAIN",
                        "DRUG": drug[0],
                        "DRUG_NAME_POE": drug[0],
                        "DRUG_NAME_GENERIC": drug[0],
                        "NDC": synthetic_ndc(drug[0]),
                        "ROUTE": "PO",
                    }
                )
    dx_titles = {code[0]: code[2] for code in all_diagnoses()}
    px_titles = {code[0]: code[2] for code in all_procedures()}
    return {
        "admissions": pd.DataFrame(admissions),
        "patients": pd.DataFrame(people),
        "diagnoses": pd.DataFrame(diagnoses),
        "procedures": pd.DataFrame(procedures),
        "prescriptions": pd.DataFrame(prescriptions),
        "diagnosis_titles": pd.DataFrame(
            [{"ICD9_CODE": c, "SHORT_TITLE": t[:24], "LONG_TITLE": t} for c, t in dx_titles.items()]
        ),
        "procedure_titles": pd.DataFrame(
            [{"ICD9_CODE": c, "SHORT_TITLE": t[:24], "LONG_TITLE": t} for c, t in px_titles.items()]
        ),
    }


def _tables_mimic4(patients: list[Patient]) -> dict[str, pd.DataFrame]:
    admissions, people, diagnoses, procedures, prescriptions = [], [], [], [], []
    for p in patients:
        first = p.admissions[0]
        anchor_year = first.admit.year
        anchor_age = anchor_year - p.birth.year
        last_death = next((a.discharge for a in p.admissions if a.died), None)
        group_start = 2008 + 3 * ((anchor_year - 2110) // 30 % 5)
        people.append(
            {
                "subject_id": p.subject_id,
                "gender": p.gender,
                "anchor_age": anchor_age,
                "anchor_year": anchor_year,
                "anchor_year_group": f"{group_start} - {group_start + 2}",
                "dod": last_death.strftime("%Y-%m-%d") if last_death is not None else "",
            }
        )
        for a in p.admissions:
            admissions.append(
                {
                    "subject_id": p.subject_id,
                    "hadm_id": a.hadm_id,
                    "admittime": _fmt(a.admit),
                    "dischtime": _fmt(a.discharge),
                    "deathtime": _fmt(a.discharge) if a.died else "",
                    "admission_type": "EW EMER.",
                    "admit_provider_id": "P00000",
                    "admission_location": "EMERGENCY ROOM",
                    "discharge_location": "DIED" if a.died else "HOME",
                    "insurance": "Medicare",
                    "language": "ENGLISH",
                    "marital_status": "MARRIED",
                    "race": "WHITE",
                    "edregtime": "",
                    "edouttime": "",
                    "hospital_expire_flag": a.died,
                }
            )
            column = 0 if a.icd_version == 9 else 1
            for seq, code in enumerate(a.diagnoses, 1):
                diagnoses.append(
                    {
                        "subject_id": p.subject_id,
                        "hadm_id": a.hadm_id,
                        "seq_num": seq,
                        "icd_code": code[column],
                        "icd_version": a.icd_version,
                    }
                )
            for seq, code in enumerate(a.procedures, 1):
                procedures.append(
                    {
                        "subject_id": p.subject_id,
                        "hadm_id": a.hadm_id,
                        "seq_num": seq,
                        "chartdate": a.admit.strftime("%Y-%m-%d"),
                        "icd_code": code[column],
                        "icd_version": a.icd_version,
                    }
                )
            for drug in a.drugs:
                prescriptions.append(
                    {
                        "subject_id": p.subject_id,
                        "hadm_id": a.hadm_id,
                        "starttime": _fmt(a.admit),
                        "stoptime": _fmt(a.discharge),
                        "drug_type": "MAIN",
                        "drug": drug[0],
                        "ndc": synthetic_ndc(drug[0]),
                        "route": "PO",
                    }
                )

    def titles(codes: list) -> pd.DataFrame:
        rows = {(c[0], 9): c[2] for c in codes} | {(c[1], 10): c[2] for c in codes}
        return pd.DataFrame(
            [{"icd_code": c, "icd_version": v, "long_title": t} for (c, v), t in rows.items()]
        )

    return {
        "admissions": pd.DataFrame(admissions),
        "patients": pd.DataFrame(people),
        "diagnoses": pd.DataFrame(diagnoses),
        "procedures": pd.DataFrame(procedures),
        "prescriptions": pd.DataFrame(prescriptions),
        "diagnosis_titles": titles(all_diagnoses()),
        "procedure_titles": titles(all_procedures()),
    }


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV (gzip when the name ends in .gz) to a temp file, then move it into place."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        frame.to_csv(temp, index=False, compression="gzip" if path.name.endswith(".gz") else None)
        os.chmod(temp, 0o644)  # mkstemp creates 0600; a data folder should be readable like any written file
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_synthetic_mimic(
    out_dir: str | Path, n_patients: int = 5000, version: str = "mimic3", seed: int = 0, compress: bool = True
) -> Path:
    """Write a synthetic MIMIC folder (``version`` layout) plus a synthetic NDC -> ATC-3 mapping file.

    Returns the folder to hand to :func:`lamina_clinicalbench.loader.load_mimic` (MIMIC-IV: the files go in
    ``out_dir/hosp`` like the real download, and the loader accepts ``out_dir``).
    """
    if n_patients < 1:
        raise ValueError(f"n_patients must be >= 1, got {n_patients}")
    out_dir = Path(out_dir)
    table_dir = out_dir / "hosp" if version == "mimic4" else out_dir
    table_dir.mkdir(parents=True, exist_ok=True)
    specs = tables_for(version)
    patients = generate_patients(n_patients, version, seed)
    frames = _tables_mimic3(patients) if version == "mimic3" else _tables_mimic4(patients)
    suffix = ".csv.gz" if compress else ".csv"
    for name, frame in frames.items():
        spec = specs[name]
        write_csv_atomic(frame.reindex(columns=list(spec.columns)), table_dir / f"{spec.stem}{suffix}")
    mapping = pd.DataFrame(
        sorted({(synthetic_ndc(d[0]), d[1], d[2]) for d in all_drugs()}), columns=["ndc", "atc3", "atc3_name"]
    )
    write_csv_atomic(mapping, out_dir / "ndc_to_atc3_synthetic.csv")
    (out_dir / SYNTHETIC_MARKER).write_text(
        "SYNTHETIC DATA generated by lamina-clinicalbench; not patient data and not MIMIC.\n"
        f"layout={version} patients={n_patients} seed={seed}\n"
        f"calibrated cohort prevalence targets: {TARGET_PREVALENCE[version]}\n"
    )
    return out_dir
