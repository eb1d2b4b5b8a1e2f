"""Drugs as ClinicalBench names them: NDC -> ATC level 3 from a user-supplied mapping, else the drug name.

The paper maps NDC codes to ATC level-3 classes. That mapping is not redistributable with MIMIC, so the user
points to a CSV with columns ``ndc``, ``atc3`` and optionally ``atc3_name``. Without one, drugs are keyed by their
MIMIC ``DRUG`` name and the run says so (results are then not comparable with the paper's drug features).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class DrugCoding:
    """How drug keys were made, and the human-readable name of each key (used in prompts)."""

    scheme: str  # "atc3" or "drug_name"
    titles: dict[str, str] = field(default_factory=dict)
    unmapped_rows: int = 0


def normalise_ndc(value: object) -> str:
    """MIMIC stores NDCs as 11-digit strings, sometimes read as numbers; keep digits and left-pad to 11."""
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    return digits.zfill(11) if digits and int(digits) != 0 else ""


def read_ndc_to_atc3(path: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """Read the user's mapping file: returns (ndc -> ATC-3 code, ATC-3 code -> class name)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"NDC -> ATC-3 mapping {path} does not exist. Pass a CSV with columns ndc, atc3[, atc3_name], "
            "or leave drug_map unset to key drugs by name."
        )
    frame = pd.read_csv(path, dtype="string")
    for column in ("ndc", "atc3"):
        if column not in frame.columns:
            raise ValueError(
                f"{path}: column {column!r} is missing (found {list(frame.columns)}). "
                "The mapping needs columns ndc, atc3 and optionally atc3_name."
            )
    frame = frame.dropna(subset=["ndc", "atc3"])
    ndc_to_atc = {
        normalise_ndc(ndc): str(atc).strip().upper()[:4]
        for ndc, atc in zip(frame["ndc"], frame["atc3"], strict=True)
    }
    names = {}
    if "atc3_name" in frame.columns:
        names = {
            str(atc).strip().upper()[:4]: str(name)
            for atc, name in zip(frame["atc3"], frame["atc3_name"].fillna(""), strict=True)
            if str(name)
        }
    return ndc_to_atc, names


def code_drugs(
    prescriptions: pd.DataFrame, mapping_path: str | Path | None
) -> tuple[pd.DataFrame, DrugCoding]:
    """Give every prescription row a drug key: ``ATC3:C07A`` with a mapping, ``DRUG:<name>`` without.

    With a mapping, rows whose NDC is not in it are dropped (as in the paper's NDC -> ATC pipeline), and counted.
    """
    if mapping_path is None:
        log.warning(
            "No NDC -> ATC-3 mapping given: drugs are keyed by their MIMIC DRUG name, not the paper's "
            "ATC-3 classes. Pass drug_map=<csv with ndc,atc3[,atc3_name]> to match the paper."
        )
        names = prescriptions["drug"].str.strip()
        keep = names != ""
        keys = "DRUG:" + names[keep].str.lower()
        coded = pd.DataFrame(
            {"hadm_id": prescriptions.loc[keep, "hadm_id"].to_numpy(), "key": keys.to_numpy()}
        )
        titles = dict(zip(keys, names[keep], strict=True))
        return coded, DrugCoding("drug_name", titles, int((~keep).sum()))
    ndc_to_atc, atc_names = read_ndc_to_atc3(mapping_path)
    atc = prescriptions["ndc"].map(normalise_ndc).map(ndc_to_atc)
    keep = atc.notna()
    keys = "ATC3:" + atc[keep]
    coded = pd.DataFrame({"hadm_id": prescriptions.loc[keep, "hadm_id"].to_numpy(), "key": keys.to_numpy()})
    titles = {f"ATC3:{code}": atc_names.get(code, code) for code in atc[keep].unique()}
    unmapped = int((~keep).sum())
    if unmapped:
        log.info(
            "%d prescription rows have an NDC missing from the ATC-3 mapping and are left out.", unmapped
        )
    return coded, DrugCoding("atc3", titles, unmapped)
