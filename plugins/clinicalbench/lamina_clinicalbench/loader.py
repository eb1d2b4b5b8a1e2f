"""Read a MIMIC-III v1.4 or MIMIC-IV v2.2 ``hosp`` folder (``.csv`` or ``.csv.gz``) into one canonical form.

Both versions become the same :class:`EHRTables` (lower-case column names, ICD codes keyed with their version,
times parsed, codes kept as strings so ``"0389"`` keeps its leading zero), so cohort building does not care where
the data came from. Every problem names the file and the column and says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lamina_clinicalbench.schema import TableSpec, code_key, tables_for

SYNTHETIC_MARKER = "SYNTHETIC_EHR.txt"
"""File the synthetic generator writes next to its tables; its presence labels every downstream result synthetic."""


class MimicFileError(FileNotFoundError):
    """A MIMIC table is missing from the folder."""


class MimicColumnError(ValueError):
    """A MIMIC table lacks a column ClinicalBench needs, or a column holds unreadable values."""


@dataclass
class EHRTables:
    """MIMIC tables in canonical form.

    ``admissions``: subject_id, hadm_id, admittime, dischtime, hospital_expire_flag.
    ``patients``: subject_id, gender, birth_date (MIMIC-IV: 4 September of anchor_year - anchor_age).
    ``diagnoses`` / ``procedures``: subject_id, hadm_id, code (``"ICD9:4019"``).
    ``prescriptions``: subject_id, hadm_id, drug, ndc.
    ``diagnosis_titles`` / ``procedure_titles``: code -> long title.
    """

    version: str
    source: str
    synthetic: bool
    admissions: pd.DataFrame
    patients: pd.DataFrame
    diagnoses: pd.DataFrame
    procedures: pd.DataFrame
    prescriptions: pd.DataFrame
    diagnosis_titles: dict[str, str] = field(default_factory=dict)
    procedure_titles: dict[str, str] = field(default_factory=dict)


def find_table(root: Path, spec: TableSpec, version: str) -> Path:
    """The path of one table: ``STEM.csv.gz`` or ``STEM.csv`` in ``root`` (MIMIC-IV also ``root/hosp``)."""
    folders = [root, root / "hosp"] if version == "mimic4" else [root]
    candidates = [folder / f"{spec.stem}{suffix}" for folder in folders for suffix in (".csv.gz", ".csv")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise MimicFileError(
        f"{version} table {spec.stem} not found (tried {tried}). Point the loader at the folder holding the "
        f"PhysioNet files ({'the mimic-iv folder or its hosp/ folder' if version == 'mimic4' else 'mimic-iii-clinical-database-1.4'}), "
        "or generate a synthetic stand-in with `lamina clinicalbench synth <folder>`."
    )


def read_table(path: Path, spec: TableSpec, string_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read the required columns of one table, checking the header first so a missing column is named."""
    header = list(pd.read_csv(path, nrows=0).columns)
    missing = [column for column in spec.required if column not in header]
    if missing:
        raise MimicColumnError(
            f"{path}: column {missing[0]!r} is missing"
            + (f" (also missing: {missing[1:]})" if len(missing) > 1 else "")
            + f". ClinicalBench needs {list(spec.required)}; the file has {header}. "
            "Use the unmodified PhysioNet file (MIMIC-III v1.4 uses upper-case names, MIMIC-IV v2.2 lower-case)."
        )
    dtypes = {column: "string" for column in string_columns if column in spec.required}
    return pd.read_csv(path, usecols=list(spec.required), dtype=dtypes, keep_default_na=True)


def parse_times(frame: pd.DataFrame, column: str, path: Path, *, allow_missing: bool = False) -> pd.Series:
    """Parse one timestamp column, naming the file, column and first bad value if any."""
    parsed = pd.to_datetime(frame[column], format="ISO8601", errors="coerce")
    bad = parsed.isna() & (frame[column].notna() if allow_missing else True)
    if bad.any():
        first = frame.loc[bad, column].iloc[0]
        raise MimicColumnError(
            f"{path}: column {column!r} has {int(bad.sum())} unreadable or empty timestamp(s), first {first!r}. "
            "Expected 'YYYY-MM-DD HH:MM:SS' as in the PhysioNet files."
        )
    return parsed


def check_integer(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """An integer id/flag column, with a clear error when it holds blanks or text."""
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().any():
        first = frame.loc[values.isna(), column].iloc[0]
        raise MimicColumnError(f"{path}: column {column!r} must hold integers; found {first!r}.")
    return values.astype("int64")


def _codes(frame: pd.DataFrame, code_column: str, version_column: str | None, path: Path) -> pd.DataFrame:
    frame = frame.dropna(subset=[code_column])
    versions = (
        check_integer(frame, version_column, path) if version_column else pd.Series(9, index=frame.index)
    )
    keys = [code_key(code, version) for code, version in zip(frame[code_column], versions, strict=True)]
    return pd.DataFrame(
        {
            "subject_id": check_integer(frame, frame.columns[0], path).to_numpy(),
            "hadm_id": check_integer(frame, frame.columns[1], path).to_numpy(),
            "code": keys,
        }
    )


def _titles(
    frame: pd.DataFrame, code_column: str, version_column: str | None, title_column: str, path: Path
) -> dict[str, str]:
    frame = frame.dropna(subset=[code_column])
    versions = (
        check_integer(frame, version_column, path) if version_column else pd.Series(9, index=frame.index)
    )
    return {
        code_key(code, version): str(title)
        for code, version, title in zip(frame[code_column], versions, frame[title_column], strict=True)
    }


def load_mimic(root: str | Path, version: str = "mimic3") -> EHRTables:
    """Load the seven ClinicalBench tables of a MIMIC-III (``version="mimic3"``) or MIMIC-IV folder."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise MimicFileError(
            f"MIMIC folder {root} does not exist. Pass the folder holding the PhysioNet files."
        )
    specs = tables_for(version)
    paths = {name: find_table(root, spec, version) for name, spec in specs.items()}
    upper = version == "mimic3"
    col = (lambda name: name.upper()) if upper else (lambda name: name)
    icd = "ICD9_CODE" if upper else "icd_code"
    icd_version = None if upper else "icd_version"

    raw_adm = read_table(paths["admissions"], specs["admissions"])
    admissions = pd.DataFrame(
        {
            "subject_id": check_integer(raw_adm, col("subject_id"), paths["admissions"]),
            "hadm_id": check_integer(raw_adm, col("hadm_id"), paths["admissions"]),
            "admittime": parse_times(raw_adm, col("admittime"), paths["admissions"]),
            "dischtime": parse_times(raw_adm, col("dischtime"), paths["admissions"]),
            "hospital_expire_flag": check_integer(raw_adm, col("hospital_expire_flag"), paths["admissions"]),
        }
    )

    raw_pat = read_table(paths["patients"], specs["patients"], string_columns=(col("gender"),))
    if upper:
        birth = parse_times(raw_pat, "DOB", paths["patients"])
    else:
        birth_year = check_integer(raw_pat, "anchor_year", paths["patients"]) - check_integer(
            raw_pat, "anchor_age", paths["patients"]
        )
        # ClinicalBench's convention: the MIMIC-IV birthday is 4 September of the anchor birth year.
        birth = pd.to_datetime({"year": birth_year, "month": 9, "day": 4})
    patients = pd.DataFrame(
        {
            "subject_id": check_integer(raw_pat, col("subject_id"), paths["patients"]),
            "gender": raw_pat[col("gender")].fillna("U").astype(str).str.upper(),
            "birth_date": birth,
        }
    )

    code_tables = {}
    for name in ("diagnoses", "procedures"):
        raw = read_table(paths[name], specs[name], string_columns=(icd,))
        code_tables[name] = _codes(
            raw[[col("subject_id"), col("hadm_id"), icd] + ([icd_version] if icd_version else [])],
            icd,
            icd_version,
            paths[name],
        )

    raw_rx = read_table(
        paths["prescriptions"], specs["prescriptions"], string_columns=(col("drug"), col("ndc"))
    )
    raw_rx = raw_rx.dropna(subset=[col("hadm_id")])
    prescriptions = pd.DataFrame(
        {
            "subject_id": check_integer(raw_rx, col("subject_id"), paths["prescriptions"]).to_numpy(),
            "hadm_id": check_integer(raw_rx, col("hadm_id"), paths["prescriptions"]).to_numpy(),
            "drug": raw_rx[col("drug")].fillna("").astype(str).str.strip().to_numpy(),
            "ndc": raw_rx[col("ndc")].fillna("").astype(str).str.strip().to_numpy(),
        }
    )

    titles = {}
    for name in ("diagnosis_titles", "procedure_titles"):
        raw = read_table(paths[name], specs[name], string_columns=(icd, col("long_title")))
        titles[name] = _titles(raw, icd, icd_version, col("long_title"), paths[name])

    return EHRTables(
        version=version,
        source=str(root),
        synthetic=(root / SYNTHETIC_MARKER).is_file(),
        admissions=admissions,
        patients=patients,
        diagnoses=code_tables["diagnoses"],
        procedures=code_tables["procedures"],
        prescriptions=prescriptions,
        diagnosis_titles=titles["diagnosis_titles"],
        procedure_titles=titles["procedure_titles"],
    )
